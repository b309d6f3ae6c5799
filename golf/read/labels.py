"""The grammar of score labels: the text before `val_loss` on a scored line, read as its parts.

A label is a core word and optional qualifiers, separated by single spaces:

    final_int6+zstd22_roundtrip_slide512_exact  mode:mixed  backend:polar  sliding
    [final_] [quantisation] [compressor] <evaluation mode> [_exact]   [key:value ...] [word ...]

The core is split on `_` and `+`. `final` first and `exact` anywhere are flags; quantisation
(`int6`, `INT7`, `ternary`, `quantized`, ...) and compressor (`zlib`, `zstd22`, `lzma`, ...) words may
stand anywhere (`roundtrip_int6+zstd22`); a stride word (`s64`, `slide512`) gives the stride; what is
left, joined by `_`, is the evaluation mode (`sliding_window`, `ttt_lora`, `roundtrip`, ...). A bare
qualifier word (`sliding`, written before the keys by one script) joins the mode.

Which mode is which kind of score is the ruleset's business (golf.judge.labels); this module only
reads. Some labels are never a score whatever the ruleset says, and the grammar names them by
their kind: periodic validation (`step`), `diagnostic` lines, pre-quantization evaluations
(`prequant`) and progress lines (`ttt_sliding:done`, `ttt_chunk 3/10`).

Stdlib only; every pattern is linear (no nested quantifiers).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

# A label golf reads: an identifier-like core (letters, digits, `_ . + -`, one inner `:status`) and at
# most a few qualifier words of the same alphabet, one `key:value` or `key=value` each.
MAX_LABEL_CHARS = 160
MAX_LABEL_WORDS = 6
_CORE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.+\-]*+(?::[A-Za-z0-9_.+\-]++)?")
_WORD_RE = re.compile(r"[A-Za-z0-9_.+/\-]++(?:[:=][A-Za-z0-9_.+\-]*+)?|\([A-Za-z0-9_.+\-=:,]*+\)|\[\d++/\d++\]")

_QUANT_RE = re.compile(r"(?:int|fp|bf|nf|q|mxfp)\d{1,2}|ternary|binary|xnor|mixed|quant|quantized|gptq|awq|"
                       r"int\d{1,2}int\d{1,2}|bitnet|lowbit", re.IGNORECASE)
_COMPRESSOR_RE = re.compile(r"zlib\d?|zstd\d{0,2}|lzma\d?|brotli\d{0,2}|xz|gzip|bz2|lz4|lrzip|pergroup",
                            re.IGNORECASE)
_STRIDE_WORD_RE = re.compile(r"(?:s|slide|stride)(\d{1,6})", re.IGNORECASE)
_STEP_RE = re.compile(r"(?:step[:= ]?\s*)?\d+/\d+")
_PROGRESS_WORD_RE = re.compile(r"\[?\d+/\d+\]?")
_PREQUANT_WORDS = ("pre-quantization", "pre_quantization", "prequant", "pre_quant", "pre-quant",
                   "post_ema", "post-ema", "fp_eval", "unquantized")

KINDS = ("score", "step", "diagnostic", "prequant", "progress")


@dataclass(frozen=True)
class LabelParts:
    """A label read by the grammar. `kind` is `score` for a line that may be a run's score (its `mode`
    says which evaluation), else what it is instead (step, diagnostic, prequant, progress)."""

    text: str
    kind: str
    final: bool = False
    quant: str | None = None
    compressor: str | None = None
    mode: str = ""
    exact: bool = False
    stride: int | None = None
    qualifiers: dict[str, str] = field(default_factory=dict)

    @property
    def family(self) -> str:
        """The label less `_exact`: a line and its exact twin belong to one family."""
        core, sep, rest = self.text.partition(" ")
        core = "_".join(t for t in core.split("_") if t.lower() != "exact")
        return core + sep + rest

    def describe(self) -> str:
        """The parts in words, for a finding: `final, quantisation int6, compressor zstd22, mode sliding`."""
        parts = ["final"] if self.final else []
        if self.quant:
            parts.append(f"quantisation {self.quant}")
        if self.compressor:
            parts.append(f"compressor {self.compressor}")
        parts.append(f"mode {self.mode}" if self.mode else "no evaluation mode")
        if self.stride is not None:
            parts.append(f"stride {self.stride}")
        if self.exact:
            parts.append("exact")
        parts += [f"{k}:{v}" if v else k for k, v in self.qualifiers.items()]
        return ", ".join(parts) if self.kind == "score" else f"a {self.kind} line"


def is_label(text: str) -> bool:
    """Whether `text` is a label golf reads: identifier-like words, not a timestamp, logger prefix,
    JSON fragment or sentence. The empty label is not one."""
    if not text or len(text) > MAX_LABEL_CHARS:
        return False
    words = text.split(" ")
    if len(words) > MAX_LABEL_WORDS or not _CORE_RE.fullmatch(words[0]):
        return False
    return all(_WORD_RE.fullmatch(word) for word in words[1:])


@functools.lru_cache(maxsize=4096)
def read_label(text: str) -> LabelParts:
    """The parts of a label (see the module docstring). The text is taken as is: `is_label` first."""
    words = text.split()
    if not words:
        return LabelParts(text, "progress")
    lower = text.lower()
    if _STEP_RE.fullmatch(text):
        return LabelParts(text, "step")
    if any(word.startswith("diagnostic") for word in lower.split()):
        return LabelParts(text, "diagnostic")
    if any(word in lower for word in _PREQUANT_WORDS):
        return LabelParts(text, "prequant")
    core, rest = words[0], words[1:]
    if ":" in core or any(_PROGRESS_WORD_RE.fullmatch(word) for word in rest):
        return LabelParts(text, "progress")
    final = exact = False
    quant: list[str] = []
    compressor: list[str] = []
    mode: list[str] = []
    stride = None
    for index, token in enumerate(re.split(r"[_+]", core)):
        if not token:
            continue
        low = token.lower()
        if index == 0 and low == "final":
            final = True
        elif low == "exact":
            exact = True
        elif _QUANT_RE.fullmatch(token):
            quant.append(token)
        elif _COMPRESSOR_RE.fullmatch(token):
            compressor.append(token)
        elif (match := _STRIDE_WORD_RE.fullmatch(token)) and mode:
            stride = int(match.group(1))
            if low.startswith("slide"):
                mode.append("slide")
        else:
            mode.append(low)
    qualifiers: dict[str, str] = {}
    for word in rest:
        key, sep, value = word.partition(":") if ":" in word else word.partition("=")
        if sep:
            qualifiers[key] = value
            if key == "stride" and value.isdigit():
                stride = int(value)
        else:
            qualifiers[word] = ""
            if word.isalpha():
                mode.append(word.lower())   # `<label> sliding val_loss:...`
    return LabelParts(text, "score", final, "+".join(quant) or None, "+".join(compressor) or None,
                      "_".join(mode), exact, stride, qualifiers)


__all__ = ["KINDS", "LabelParts", "MAX_LABEL_CHARS", "is_label", "read_label"]

"""The facts about one record that every check reads, gathered once.

Building the context reads files (the shipped script's bytes, the submission text) but
never imports or executes anything from the record folder: the script is only hashed,
measured and compiled to check its syntax.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A shipped script larger than this is measured but neither hashed in memory nor compiled.
SCRIPT_READ_LIMIT = 64 * 1024 * 1024
# Helper file written into the corpus copies (not part of a real record): per log, the
# sha256 and size of each embedded source that was cut out of the log.
SOURCE_OMITTED = "SOURCE_OMITTED.json"
# submission.json is re-read (numbers as written) only up to this size.
CLAIM_READ_LIMIT = 10_000_000


@dataclass
class SourceId:
    """The identity of one embedded source: its sha256 and (when known) its byte count."""

    sha256: str
    bytes: int | None
    where: str  # "log" (text in the log) or "omitted" (recorded in SOURCE_OMITTED.json)
    first_line: int | None = None


@dataclass
class RunFacts:
    """One log's run as the checks see it."""

    log: str                      # path relative to the record folder (absolute for a rerun log outside it)
    run: Any = None               # golf.read.logs.Run | None
    score: Any = None             # golf.read.logs.ScoreLine | None
    seed: int | None = None
    seed_sources: dict[str, int] = field(default_factory=dict)
    duplicate_of: str | None = None
    n_runs_in_log: int = 0
    log_problems: list[str] = field(default_factory=list)
    log_sha256: str | None = None
    bytes_model: int | None = None
    bytes_code_logged: int | None = None
    bytes_total_logged: int | None = None
    bytes_code: int | None = None   # counted under the ruleset's code-bytes policy
    bytes_total: int | None = None  # model + counted code
    size_basis: str | None = None   # "shipped" (model logged + shipped script), "logged", "measured" (rerun)
    sources: list[SourceId] = field(default_factory=list)
    rerun: Any = None               # golf.produce.rerun.RerunResult for a rerun log

    @property
    def counted(self) -> bool:
        """Part of the record's statistics: scored and not a copy of another log."""
        return self.score is not None and self.duplicate_of is None

    @property
    def val_bpb(self) -> float | None:
        return self.score.val_bpb if self.score is not None else None

    @property
    def val_loss(self) -> float | None:
        return self.score.val_loss if self.score is not None else None

    @property
    def train_time_ms(self) -> float | None:
        return self.run.train_time_ms if self.run is not None else None

    @property
    def eval_time_ms(self) -> float | None:
        return self.run.total_eval_time_ms if self.run is not None else None


@dataclass
class Sota:
    """The reference a record track's significance test compares against."""

    value: float
    values: list[float] | None
    source: str
    path: str | None = None
    tokenizers: set[str] = field(default_factory=set)  # of the SOTA record's runs, when it is a record
    val_tokens: dict[str, set[int]] = field(default_factory=dict)  # per tokenizer, of the SOTA record's runs


@dataclass
class RecordContext:
    path: str                       # as given on the command line
    root: Path
    record: Any                     # golf.read.records.Record
    ruleset: Any                    # golf.rules.Ruleset
    track: Any = None               # golf.rules.Track | None
    track_source: str = ""          # where the track came from ("folder", "submission.json", "default")
    track_conflict: str | None = None
    script_name: str | None = None
    script_size: int | None = None
    script_sha256: str | None = None
    script_text: str | None = None
    script_problem: str | None = None
    runs: list[RunFacts] = field(default_factory=list)
    static_runs: list[RunFacts] = field(default_factory=list)  # the shipped logs' runs when `runs` are reruns
    claim_text: dict[str, Any] | None = None  # submission.json with numbers kept as their literal text
    sota: Sota | None = None
    sota_problem: str | None = None
    significance: Any = None        # golf.judge.stats.Significance | None, filled by golf.judge.verify
    significance_skip: str | None = None
    reruns: list[Any] | None = None

    @property
    def counted(self) -> list[RunFacts]:
        return [r for r in self.runs if r.counted]

    @property
    def logged(self) -> list[RunFacts]:
        """The runs of the shipped logs (the same as `runs` unless this is a rerun)."""
        return self.static_runs if self.reruns is not None else self.runs

    @property
    def logged_counted(self) -> list[RunFacts]:
        return [r for r in self.logged if r.counted]

    @property
    def submission(self):
        return self.record.submission

    @property
    def is_record_track(self) -> bool:
        return bool(self.track is not None and self.track.record)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def read_script(ctx: RecordContext) -> None:
    """Measure, hash and decode the shipped script (never run it)."""
    record = ctx.record
    name = record.script
    if name is None:
        wanted = ctx.ruleset.code_bytes_policy.script
        name = wanted if wanted in (record.scripts or []) else None
    ctx.script_name = name
    if name is None:
        return
    path = ctx.root / name
    try:
        size = path.stat().st_size
        ctx.script_size = size
        if size > SCRIPT_READ_LIMIT:
            ctx.script_problem = f"{name} is {size:,} bytes; too large to read"
            return
        data = path.read_bytes()
    except OSError as error:
        ctx.script_problem = f"{name}: cannot read: {error.strerror or error}"
        return
    ctx.script_size = len(data)
    ctx.script_sha256 = hashlib.sha256(data).hexdigest()
    try:
        ctx.script_text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        ctx.script_problem = f"{name} is not UTF-8 text (byte {error.start})"


def read_claim_text(ctx: RecordContext) -> None:
    """submission.json again, keeping every number as written, so claims are judged at their own precision."""
    submission = ctx.record.submission
    if submission is None or not getattr(submission, "path", None):
        return
    path = ctx.root / submission.path
    try:
        if path.stat().st_size > CLAIM_READ_LIMIT:
            return
        ctx.claim_text = json.loads(path.read_text(encoding="utf-8"), parse_float=_Literal,
                                    parse_int=_Literal)
    except (OSError, ValueError):
        ctx.claim_text = None


class _Literal(str):
    """A JSON number kept as its text."""


def decimals_of(literal: Any, value: float) -> int:
    """Decimal places a claim was written with: from its JSON text when known, else from repr."""
    text = str(literal) if isinstance(literal, _Literal) else repr(float(value))
    if "e" in text.lower():
        mantissa, _, exponent = text.lower().partition("e")
        places = len(mantissa.partition(".")[2]) - int(exponent)
        return max(places, 0)
    return len(text.partition(".")[2])


def claim_literal(ctx: RecordContext, *keys: str | int) -> Any:
    """The literal of a nested key in submission.json (e.g. "seed_results", "42", "val_bpb"), or None."""
    node: Any = ctx.claim_text
    for key in keys:
        if isinstance(node, list) and isinstance(key, int):
            node = node[key] if 0 <= key < len(node) else None
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


def omitted_sources(root: Path) -> dict[str, list[SourceId]]:
    """Per log, the embedded sources recorded in SOURCE_OMITTED.json (corpus copies only)."""
    path = root / SOURCE_OMITTED
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 10_000_000:
            return {}
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    logs = doc.get("logs") if isinstance(doc, dict) else None
    if not isinstance(logs, dict):
        return {}
    result: dict[str, list[SourceId]] = {}
    for log, blocks in logs.items():
        if not isinstance(blocks, list):
            continue
        ids = []
        for block in blocks:
            if isinstance(block, dict) and isinstance(block.get("sha256"), str):
                size = block.get("bytes")
                ids.append(SourceId(block["sha256"], size if isinstance(size, int) else None, "omitted",
                                    block.get("first_line") if isinstance(block.get("first_line"), int) else None))
        result[str(log)] = ids
    return result


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def rel(path: os.PathLike | str, root: Path) -> str:
    """`path` relative to `root` when inside it, else as given."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


_TOKENIZER_RE = re.compile(r"fineweb_(\d+)_bpe(.*)$")
_DATASET_RE = re.compile(r"fineweb10B_(\w+)$")


def tokenizer_of(run) -> str | None:
    """A short name for the tokenizer a run used (sp1024, sp8192, byte260, ...), from its printed config."""
    if run is None:
        return None
    config = run.config
    path = (config.get("tokenizer_path") or "").strip()
    if path:
        stem = path.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".model").removesuffix(".json")
        match = _TOKENIZER_RE.match(stem)
        return f"sp{match.group(1)}{match.group(2)}" if match else stem
    for key in ("train_loader", "data_path"):
        value = (config.get(key) or "").strip().removeprefix("dataset:").rstrip("/").rsplit("/", 1)[-1]
        match = _DATASET_RE.match(value)
        if match:
            return match.group(1)
    vocab = (config.get("vocab_size") or "").strip()
    return f"vocab{vocab}" if vocab.isdigit() else None


def tokenizers_of(runs: list[RunFacts]) -> set[str]:
    return {t for t in (tokenizer_of(r.run) for r in runs) if t}


def val_tokens_of(run) -> int | None:
    """The validation token count a run printed (`val_tokens: N`, or `tokens:N` on the val_loader line)."""
    if run is None:
        return None
    for key in ("val_tokens", "tokens"):
        value = (run.config.get(key) or "").strip()
        if value.isdigit():
            return int(value)
    return None


def val_tokens_by_tokenizer(runs: list[RunFacts]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for r in runs:
        tokenizer, count = tokenizer_of(r.run), val_tokens_of(r.run)
        if tokenizer and count:
            out.setdefault(tokenizer, set()).add(count)
    return out

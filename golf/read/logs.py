"""The log grammar: a training log of the challenge in, runs out.

Stdlib only. `parse_log` reads the stream it is given line by line and keeps only
what a run needs, so a 1 GB log parses in bounded memory. A bad line is never an
error: it is skipped, or noted in `LogParse.problems` when it looks like a result
that cannot be read.

What a log can hold (spec 1.12, 3.2, 3.3): the script's own source (at file start
before the first 100-'=' line, or after a `Hyperparameters:` dump / `Source code:`
banner), the Python/PyTorch versions and nvidia-smi table, the printed configuration,
training progress, periodic validation, the stop line, size lines, and the final
scored lines. Several runs may be concatenated in one file; a new run starts at a
header line (`Running Python`, `Hyperparameters:`, `world_size:`, a new source
header) once the current run has made progress or already had that header.

Only numerals count: an f-string template (`val_loss:{x:.8f}`) is never a result,
and nothing inside the embedded source is parsed as a result.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import os
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Iterable, TextIO

from golf.io import open_regular
from golf.read.labels import is_label

# A source region larger than this is not kept in memory (its sha256 still is).
SOURCE_KEEP_LIMIT = 5_000_000
# Per run, at most this many scored / periodic lines, config keys, sizes, phases and GPUs are kept.
MAX_ENTRIES = 100_000
# A physical line longer than this is cut (the rest of it is skipped), so one huge line cannot
# take unbounded memory.
MAX_LINE_CHARS = 1_000_000
# Files up to this size are read at once (fast); larger ones are streamed line by line.
SMALL_FILE_BYTES = 4_000_000
# Integers longer than this (steps, seeds, strides) make the line unreadable; sizes above
# MAX_SIZE_BYTES are ignored with a problem.
MAX_INT_DIGITS = 30
MAX_SIZE_BYTES = 10**15
# Problems recorded per log are capped so a log full of bad lines stays small.
MAX_PROBLEMS = 200

BANNER = "=" * 100

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|NaN|NAN|inf|Inf|INF|infinity|Infinity)"
_END = r"(?=[\s,;|)]|$)"

# From `val_loss`: a number, then optional `sliding `, then val_bpb and a number, then the rest.
# The label is the text before `val_loss` (a `sliding` word just before it is moved to the label's end).
_SCORE_TAIL_RE = re.compile(
    r"val_loss\s*[:=]\s*(?P<loss>" + _NUM + r")" + _END
    + r"[\s,;|]*(?:(?P<sl2>sliding)\s+)?val_bpb\s*[:=]\s*(?P<bpb>" + _NUM + r")" + _END + r"(?P<rest>.*)$"
)
# The common periodic validation forms in one pass: `step:S/M val_loss:x val_bpb:y [train_time:Tms ...]`
# and `S/M val_loss: x val_bpb: y`.
_PERIODIC_RE = re.compile(
    r"(?:step:)?(\d+)/(\d+) val_loss:\s?(\d+\.\d+) val_bpb:\s?(\d+\.\d+)(?: train_time:(\d+(?:\.\d+)?)ms\b)?"
    r"(?=\s|$)"
)
_PERIODIC_LABEL_RE = re.compile(r"^(?:step[:= ]?\s*)?(\d+)/(\d+)$")
# (?<!\s) starts the optional spaces only where a run of them begins: a search restarting inside a long
# run of spaces would otherwise rescan it from every position (quadratic time).
_STRIDE_IN_LABEL_RE = re.compile(r"(?<!\s)\s*+\bstride[:=]\s*(\d+)\b")
_STRIDE_RE = re.compile(r"\bstride[:=]\s*(\d+)")
_EVAL_TIME_RE = re.compile(r"\b(?:eval_time|time)[:=]\s*(" + _NUM + r")\s*(ms|s)\b")
# The word comes first and its boundary is checked behind it, so that `search` can skip ahead to
# the word: a leading \b made these searches 2-3x slower.
_TRAIN_TIME_RE = re.compile(r"train_time(?<!\wtrain_time)[:=]\s*(" + _NUM + r")\s*(ms|s|m)\b")
_STEP_AVG_RE = re.compile(r"step_avg(?<!\wstep_avg)[:=]\s*(" + _NUM + r")\s*ms")
_STEP_RE = re.compile(r"^(?:step[:= ]\s*)?(\d+)/(\d+)\b")
# Atomic groups (?>...): once the first train_time / step is found the engine does not go back to try
# later ones, which made a line with many of them quadratic.
_STOP_RE = re.compile(
    r"^stopping_early:\s*(?P<reason>\w+)(?>.*?\btrain_time:\s*(?P<t>" + _NUM + r")\s*ms)?"
    r"(?>.*?\bstep:\s*(?P<s>\d+)/(?P<m>\d+))?"
)
# optional torchrun rank prefix (`[rank0]:`, or `[default0]:` from --tee), then an optional leading Unix timestamp
_PREFIX_RE = re.compile(r"(?:\[(?:rank|default)\d+\]:\s?)?(?:\d{9,11}(?:\.\d+)?\s+)?")
# A summary the script prints of its own result (`Mean val_bpb : 1.1752`, `- val_bpb: 1.35557361`,
# `val_bpb: 1.2` alone, `eval_bits_per_byte=1.21`): a claim printed by the script, never a run's score.
_PRINTED_CLAIM_RE = re.compile(
    r"^(?:[-*]\s*)?(?:(?:mean|avg|average|final)[ _])?(?P<key>val_bpb|eval_bits_per_byte|bits_per_byte)"
    r"\s*[:=]\s*(?P<v>" + _NUM + r")\s*$", re.IGNORECASE)
# Lines starting with one of these keywords go to the named _Parser method.
_KEYWORD_METHODS = {
    "Running Python": "python_line", "Python ": "python_line",
    "Running PyTorch": "torch_line", "PyTorch ": "torch_line",
    "Hyperparameters:": "hparams_line", "--- Hyperparameters": "hparams_line",
    "Source code:": "source_banner_line",
    "stopping_early": "stop_line",
    "peak memory": "peak_line",
    "Serialized model": "size_line", "Total submission size": "size_line", "Code size": "size_line",
    "total_eval_time": "total_eval_line",
}
_KEYWORDS = tuple(_KEYWORD_METHODS)
_KEYWORD_RE = re.compile("|".join(map(re.escape, _KEYWORDS)))
_DIGITS = frozenset("0123456789")
# Lines starting with these still count once a run has made progress; other lines without a
# `time:` or ` model: ` are training / TTT chatter then.
_KEPT_AFTER_PROGRESS = _KEYWORDS + ("artifact:", "budget:", "temp_scaling", "world_size:")
_PERIODIC_FIRST = _STEP_FIRST = _DIGITS | {"s"}
_SOURCE_FIRST_CHARS = frozenset("\"'#if")
# First characters of lines that may be blank, open a source, or carry a rank / timestamp prefix.
_UNUSUAL_FIRST = _DIGITS | _SOURCE_FIRST_CHARS | set(" \t[")
_PEAK_RE = re.compile(r"^peak memory allocated:\s*(" + _NUM + r")\s*MiB")
_TOTAL_EVAL_RE = re.compile(r"^total_eval_time[:=]\s*(" + _NUM + r")\s*(ms|s)\b")
_PY_RE = re.compile(r"^(?:Running )?Python (\d+\.\d+\S*)")
_TORCH_RE = re.compile(r"^(?:Running )?PyTorch (\d\S*)")
_SERIALIZED_RE = re.compile(r"^Serialized model(?: (?P<fmt>[^:]+?))?:\s*(?P<n>\d+) bytes")
_TOTAL_RE = re.compile(r"^Total submission size(?: (?P<fmt>[^:]+?))?:\s*(?P<n>\d+) bytes")
_CODE_RE = re.compile(r"^Code size(?: \((?P<which>uncompressed|compressed)\))?:\s*(?P<n>\d+) bytes")
_INT7_RE = re.compile(r"^(?P<fmt>\S+) model:\s*(?P<m>\d+) bytes\s*\|\s*Total submission:\s*(?P<t>\d+) bytes")
_ARTIFACT_MB_RE = re.compile(r"^artifact:(?P<mb>" + _NUM + r")MB\b.*?\bcode:(?P<code>\d+)\b")
_BUDGET_RE = re.compile(r"^budget:(?P<total>\d+)/\d+\b")
_MB_SUM_RE = re.compile(
    r"^\s*+(?P<fmt>[^:]+):\s*(?P<m>" + _NUM + r")MB model \+ (?P<c>" + _NUM + r")MB code = (?P<t>" + _NUM + r")/"
)
_HPARAM_LINE_RE = re.compile(r"^\s++([A-Za-z_][\w.\-]*+):\s?(.*)$")
_ENV_LINE_RE = re.compile(r"^\s+([A-Z_][A-Z0-9_]*)=(\S*)\s*$")
_KV_COLON_RE = re.compile(r"(?<!\S)([A-Za-z_][\w.\-]*+):\s?(\S+)")
_KV_EQ_RE = re.compile(r"(?<!\S)([A-Za-z_][\w.\-]*+)=(\S*)")
# A Python statement that can open an embedded source (a module docstring, a shebang, an import).
# Possessive quantifiers (++, *+) keep this linear: `from a import` and 40,000 spaces then `!` took 44 s.
_SOURCE_START_RE = re.compile(
    r"^(?:\"\"\"|'''|#!|import [\w.]++(?: as \w+)?(?:\s*,\s*[\w.]++(?: as \w+)?)*+\s*+(?:#.*)?$"
    r"|from [\w.]++ import (?:\(|\*|[\w, ]++\s*+(?:#.*)?$))"
)
_FIRST_LINE_SOURCE_RE = re.compile(r"^(?:\"\"\"|'''|#|import \w|from [\w.]+ import |def |class |@)")
_INT_RE = re.compile(r"^[-+]?\d{1,30}$")
# torchrun / NCCL / shell chatter that is never configuration or a result.
_NOISE_RE = re.compile(r"^(?:[WIEF]\d{4} |\[[WIEF]\d|\[\d{4}-|NCCL|\*{5}|Warning|warnings\.warn|nohup:|Setting OMP"
                       r"|Running:|Uploading|start \d{4}-)")


@dataclass(slots=True)
class ScoreLine:
    """One scored line (`<label> val_loss:<x> val_bpb:<y> ...`), periodic lines excluded."""

    label: str
    val_loss: float
    val_bpb: float
    line: int
    decimals: int
    exact: bool
    eval_time_ms: float | None = None
    stride: int | None = None

    @property
    def finite(self) -> bool:
        return math.isfinite(self.val_loss) and math.isfinite(self.val_bpb)


@dataclass(slots=True)
class PrintedClaim:
    """A result the script printed in free form (`Mean val_bpb : 1.1752`): a claim, never a run's score."""

    key: str
    value: float
    text: str
    line: int
    decimals: int


@dataclass(slots=True)
class PeriodicVal:
    """A periodic validation line (`step:S/M val_loss:...` or `S/M val_loss: ...`)."""

    step: int
    total_steps: int
    val_loss: float
    val_bpb: float
    train_time_ms: float | None = None
    line: int = 0


@dataclass(slots=True)
class SizeLine:
    """A size figure. `kind`: model, code, total, code_uncompressed, code_compressed,
    raw_model / raw_total (the fp checkpoint lines, never the submission size).
    `approximate` marks figures logged in MB rather than bytes."""

    kind: str
    format: str | None
    bytes: int
    line: int
    approximate: bool = False


@dataclass
class Run:
    """One training run found in a log.

    `steps`/`train_time_ms` come from the stop line, else the last step line; `step_avg_ms` is the
    logged step_avg, else train_time/steps. `eval_times_ms` sums the `eval_time`/`time` suffixes per
    label (phase); `total_eval_time_ms` is the logged `total_eval_time` when present
    (`logged_total_eval_time_ms`), else the sum of all phases (diagnostics included: excluding them is
    the caller's choice). `model_bytes`/`total_bytes` are the last submission-format figures (exact
    bytes preferred over MB figures), never the raw `Serialized model:`/`Total submission size:` lines;
    `code_bytes` is the plain `Code size`, else the compressed, else the uncompressed figure.
    `seed`/`world_size` come from the printed configuration. `source` is the embedded script text
    exactly as it was printed (without the newline the logger appends), `None` when absent or larger
    than SOURCE_KEEP_LIMIT (its sha256 is still given); `source_first_line`/`source_last_line` bound it.
    """

    scores: list[ScoreLine] = field(default_factory=list)
    periodic: list[PeriodicVal] = field(default_factory=list)
    steps: int | None = None
    total_steps: int | None = None
    stop_reason: str | None = None
    train_time_ms: float | None = None
    step_avg_ms: float | None = None
    eval_times_ms: dict[str, float] = field(default_factory=dict)
    total_eval_time_ms: float | None = None
    peak_memory_mib: float | None = None
    sizes: list[SizeLine] = field(default_factory=list)
    model_bytes: int | None = None
    code_bytes: int | None = None
    total_bytes: int | None = None
    config: dict[str, str] = field(default_factory=dict)
    seed: int | None = None
    world_size: int | None = None
    source: str | None = None
    source_sha256: str | None = None
    source_first_line: int | None = None
    source_last_line: int | None = None
    python_version: str | None = None
    torch_version: str | None = None
    gpus: list[str] = field(default_factory=list)
    printed_claims: list[PrintedClaim] = field(default_factory=list)
    complete: bool = False
    first_line: int = 0
    last_line: int = 0
    logged_total_eval_time_ms: float | None = None


@dataclass
class LogParse:
    """Everything found in one log: its runs and the problems met on the way."""

    runs: list[Run] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lines: int = 0
    name: str | None = None

    @property
    def run(self) -> Run | None:
        """The last complete run (one that reached a final score line), else the last run."""
        for run in reversed(self.runs):
            if run.complete:
                return run
        return self.runs[-1] if self.runs else None


def choose_score(run: Run | None, precedence: list[str], exclude: list[str],
                 override: str | None = None) -> ScoreLine | None:
    """The score of a run: the first precedence glob that matches an acceptable line wins.

    `override` (a glob, e.g. a per-record label) replaces the precedence and the
    exclusions. Within the matches, `_exact` / 8-decimal lines are preferred, then the
    last occurrence. Non-finite values are never a score.
    """
    if run is None:
        return None
    candidates = [s for s in run.scores if s.finite]
    if override:
        patterns = [override]
    else:
        patterns = list(precedence)
        candidates = [s for s in candidates if not any(fnmatchcase(s.label, p) for p in exclude)]
    for pattern in patterns:
        matches = [s for s in candidates if fnmatchcase(s.label, pattern)]
        if matches:
            return max(matches, key=lambda s: (s.exact or s.decimals >= 8, s.line))
    return None


def parse_log(source: str | os.PathLike | TextIO | Iterable[str]) -> LogParse:
    """Parse a log given as a path, or as an open text stream / iterable of lines."""
    if isinstance(source, (str, os.PathLike)):
        with open_regular(source, None) as handle:   # a FIFO or device is refused, not waited on
            if os.fstat(handle.fileno()).st_size <= SMALL_FILE_BYTES:
                # small enough to hold: one read is much faster than line-by-line reads
                result = parse_text(handle.read().decode("utf-8", "replace"))
            else:
                result = _parse_stream(io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline=""))
        result.name = os.fspath(source)
        return result
    if isinstance(source, (io.BufferedIOBase, io.RawIOBase)):
        return _parse_stream(io.TextIOWrapper(source, encoding="utf-8", errors="replace", newline=""))
    if isinstance(source, io.TextIOBase):
        return _parse_stream(source)
    return _parse_lines(source)


def parse_text(text: str) -> LogParse:
    """Parse a log held in a string."""
    return _parse_lines(io.StringIO(text, newline=""))


def _bounded_lines(handle, cut: list[int]) -> Iterable[str]:
    """The lines of a text stream, each at most MAX_LINE_CHARS long: the rest of a longer line is
    skipped and its number appended to `cut`."""
    readline = handle.readline
    number = 0
    while True:
        line = readline(MAX_LINE_CHARS)
        if not line:
            return
        number += 1
        if len(line) == MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            while True:  # skip the rest of this physical line
                rest = readline(MAX_LINE_CHARS)
                if not rest or rest.endswith(("\n", "\r")):
                    break
            cut.append(number)
            line += "\n"
        yield line


def _parse_stream(handle) -> LogParse:
    cut: list[int] = []
    result = _parse_lines(_bounded_lines(handle, cut))
    for number in cut[:MAX_PROBLEMS]:
        result.problems.append(f"line {number}: longer than {MAX_LINE_CHARS} characters; the rest of it was skipped")
    return result


def _parse_lines(lines: Iterable[str]) -> LogParse:
    parser = _Parser()
    lines = iter(lines)
    first = next(lines, None)
    if first is None:
        return parser.finish(0)
    first = first.removeprefix("\ufeff")  # drop a UTF-8 byte-order mark
    return parser.finish(parser.feed(enumerate(itertools.chain((first,), lines), 1)))


def _int(text: str) -> int:
    """int() of a numeral of digits, refusing one too long to be a real step, seed or stride (Python
    itself refuses more than 4300 digits, and converting them costs quadratic time)."""
    if len(text) > MAX_INT_DIGITS:
        raise ValueError(f"a number of {len(text)} digits")
    return int(text)


def _bytes(text: str) -> int | None:
    """A byte count from digits, or None when it is beyond any real size."""
    if len(text) > MAX_INT_DIGITS:
        return None
    value = int(text)
    return value if value <= MAX_SIZE_BYTES else None


def _mb_bytes(text: str) -> int | None:
    """Bytes from a figure in MB, or None when it is not finite, negative or beyond any real size."""
    value = float(text) * 1e6
    return round(value) if math.isfinite(value) and 0 <= value <= MAX_SIZE_BYTES else None


def _gpu_name(line: str) -> str | None:
    """The GPU name of an nvidia-smi row `|   0  NVIDIA H100 80GB HBM3   On  | ...`, else None."""
    cells = line.split("|", 2)
    if len(cells) < 3:
        return None
    words = cells[1].split()
    if len(words) < 3 or not words[0].isdigit() or words[-1] not in ("On", "Off"):
        return None
    cell = cells[1].strip()
    return cell[len(words[0]):len(cell) - len(words[-1])].strip()


def _decimals(text: str) -> int:
    from golf.read.numerals import decimal_places

    return decimal_places(text)


_MS_PER_UNIT = {"ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _MS_PER_UNIT[unit]


class _Parser:
    """A line-at-a-time state machine; see the module docstring."""

    def __init__(self) -> None:
        self.result = LogParse()
        self.run: Run | None = None
        self.headers: set[str] = set()
        self.progress = False          # the current run has trained / evaluated
        self.last_train_line: tuple[int, str] | None = None
        self.seen_content = False      # a non-blank line has been seen in the file
        # source region
        self.in_source = False
        self.source_parts: list[str] | None = None
        self.source_size = 0
        self.source_hash = None
        self.source_pending: str | None = None
        self.source_start = 0
        self.source_banner = False     # `Source code:` seen, waiting for the opening '=' line
        self.source_open_next = False  # the '=' after the banner was seen: next line starts the source
        # Hyperparameters dump
        self.in_dump = False
        self.in_kv_dump = False
        self.once: set[str] = set()
        self.sources_allowed = True    # off while re-reading an unclosed "source" as log lines
        self.special = True            # one of the flags above (or file start) needs special_line

    # ---- problems and runs -------------------------------------------------

    def problem(self, message: str) -> None:
        problems = self.result.problems
        if len(problems) < MAX_PROBLEMS:
            problems.append(message)
        elif len(problems) == MAX_PROBLEMS:
            problems.append("too many problems; the rest are not listed")

    def problem_once(self, key: str, message: str) -> None:
        if key not in self.once:
            self.once.add(key)
            self.problem(message)

    def add_eval_time(self, run: Run, label: str, ms: float) -> None:
        if label in run.eval_times_ms or len(run.eval_times_ms) < MAX_ENTRIES:
            run.eval_times_ms[label] = run.eval_times_ms.get(label, 0.0) + ms

    def add_size(self, run: Run, size: SizeLine) -> None:
        if size.bytes is None:
            self.problem(f"line {size.line}: a size golf cannot read (not a whole number of bytes up to "
                         f"{MAX_SIZE_BYTES:.0e}); ignored")
            return
        if len(run.sizes) < MAX_ENTRIES:
            run.sizes.append(size)
        else:
            run.sizes[-1] = size
            self.problem_once("sizes", f"more than {MAX_ENTRIES} size lines in a run; only the first ones "
                              "and the last are kept")

    def current(self, number: int) -> Run:
        if self.run is None:
            self.start_run(number)
        return self.run

    def start_run(self, number: int) -> None:
        if self.run is not None:
            self.close_run()
        self.run = Run(first_line=number, last_line=number)
        self.result.runs.append(self.run)
        self.headers = set()
        self.progress = False
        self.last_train_line = None

    def header(self, kind: str, number: int) -> Run:
        """A header line of kind `kind`: it opens a new run when the current one is past its header."""
        if self.run is None or self.progress or kind in self.headers:
            self.start_run(number)
        self.headers.add(kind)
        return self.run

    def close_run(self) -> None:
        run = self.run
        if run is None:
            return
        if self.last_train_line is not None:
            try:
                self.apply_train_line(*self.last_train_line)
            except (ValueError, OverflowError) as error:
                self.problem(f"line {self.last_train_line[0]}: unreadable number ({error}); line skipped")
            self.last_train_line = None
        if run.stop_reason is None and run.steps is not None and run.steps == run.total_steps:
            run.stop_reason = "iterations"
        if run.step_avg_ms is None and run.train_time_ms is not None and run.steps:
            run.step_avg_ms = run.train_time_ms / run.steps
        if run.logged_total_eval_time_ms is not None:
            run.total_eval_time_ms = run.logged_total_eval_time_ms
        elif run.eval_times_ms:
            run.total_eval_time_ms = sum(run.eval_times_ms.values())
        run.model_bytes = _pick_size(run.sizes, ("model",))
        run.code_bytes = _pick_size(run.sizes, ("code",)) or _pick_size(run.sizes, ("code_compressed",)) \
            or _pick_size(run.sizes, ("code_uncompressed",))
        run.total_bytes = _pick_size(run.sizes, ("total",))
        seed = run.config.get("seed")
        if run.seed is None and seed is not None and _INT_RE.match(seed.strip()):
            run.seed = int(seed)
        world = run.config.get("world_size")
        if run.world_size is None and world is not None and _INT_RE.match(world.strip()):
            run.world_size = int(world)

    # ---- the source region -------------------------------------------------

    def open_source(self, number: int) -> None:
        run = self.header("source", number)
        self.in_source = True
        self.source_parts = []
        self.source_size = 0
        self.source_hash = hashlib.sha256()
        self.source_pending = None
        self.source_start = number
        run.source_first_line = number

    def source_line(self, raw: str) -> None:
        if self.source_pending is not None:
            self.source_hash.update(self.source_pending.encode("utf-8", "surrogatepass"))
        self.source_pending = raw
        if self.source_parts is not None:
            self.source_size += len(raw)
            if self.source_size > SOURCE_KEEP_LIMIT:
                self.source_parts = None
                self.problem(f"line {self.source_start}: embedded source larger than {SOURCE_KEEP_LIMIT} "
                             "characters; its text is not kept (sha256 still computed)")
            else:
                self.source_parts.append(raw)

    def unclosed_source(self, lines: int) -> None:
        """A source region that no banner closed was probably not a source: read its lines as log lines."""
        parts, start = self.source_parts, self.source_start
        if parts is None:   # too large to keep: all that can be done is to say so
            self.close_source(lines + 1, closed=False)
            return
        run = self.run
        run.source = run.source_sha256 = run.source_first_line = run.source_last_line = None
        self.in_source = False
        self.source_parts = self.source_pending = None
        self.headers.discard("source")
        self.problem(f"line {start}: text that looked like an embedded source was never closed by a line of "
                     "100 '='; read as log lines")
        self.sources_allowed = False
        self.feed(enumerate(parts, start))

    def close_source(self, number: int, closed: bool = True) -> None:
        # log0 appends one newline to the source text it prints: take it off again.
        last = self.source_pending
        if last is not None and closed:
            if last.endswith("\r\n"):
                last = last[:-2]
            elif last.endswith("\n"):
                last = last[:-1]
        if last is not None:
            self.source_hash.update(last.encode("utf-8", "surrogatepass"))
        run = self.run
        if self.source_pending is not None:
            run.source_sha256 = self.source_hash.hexdigest()
            run.source_last_line = number - 1
            if self.source_parts is not None:
                self.source_parts[-1] = last
                run.source = "".join(self.source_parts)
        if not closed:
            self.problem(f"line {self.source_start}: embedded source never closed by a line of 100 '='")
        self.in_source = False
        self.source_parts = None
        self.source_pending = None

    # ---- lines ---------------------------------------------------------------

    def feed(self, numbered_lines: Iterable[tuple[int, str]]) -> int:
        """Read (line number, line) pairs; returns the last line number (0 if none). One loop over
        all lines rather than a call per line, which cost a tenth of the parse time."""
        number = 0
        for number, raw in numbered_lines:
            try:
                if self.in_source:
                    if raw.startswith("=") and raw.rstrip("\r\n") == BANNER:
                        self.close_source(number)
                        self.current(number).last_line = number
                    else:
                        self.source_line(raw)
                    continue
                line = raw.rstrip("\r\n")
                if self.special and self.special_line(number, raw, line):
                    continue
                if not line:
                    continue
                first = line[0]
                if first in _UNUSUAL_FIRST:  # one set lookup keeps the common lines off the next three tests
                    if first in " \t" and line.isspace():
                        continue
                    if first in _SOURCE_FIRST_CHARS and self.sources_allowed and _SOURCE_START_RE.match(line):
                        self.open_source(number)
                        self.source_line(raw)
                        continue
                    if (first == "[" and line.startswith(("[rank", "[default"))) \
                            or (first in _DIGITS and line[:9].isdigit()):
                        match = _PREFIX_RE.match(line)
                        if match.end():
                            line = line[match.end():]
                            if not line:
                                continue
                            first = line[0]
                if "val_bpb" in line:
                    if "val_loss" in line:
                        if first in _PERIODIC_FIRST:
                            match = _PERIODIC_RE.match(line)
                            if match:
                                self.periodic_line(number, line, match)
                                continue
                        if self.score_line(number, line):
                            continue
                    elif self.printed_claim(number, line):
                        continue
                elif "bits_per_byte" in line and self.printed_claim(number, line):
                    continue
                if first in _STEP_FIRST and "/" in line[:16] and (first != "s" or line.startswith("step:")):
                    # A training step line; parsed lazily (only the last one before a stop matters).
                    if self.run is None:
                        self.start_run(number)
                    self.run.last_line = number
                    self.progress = True
                    self.last_train_line = (number, line)
                    continue
                if first == "+":
                    continue  # table borders
                if first in "wl" and line.startswith(("warmup", "loop_warmup")):
                    if self.run is not None:
                        self.run.last_line = number
                    continue
                if first == "=":
                    if self.source_banner and line == BANNER:
                        self.source_banner = False
                        self.source_open_next = self.special = True
                    continue
                if first == "|":
                    if self.progress:
                        continue
                    # A GPU row says On or Off (persistence mode); the regex is slow on the table's other rows.
                    name = _gpu_name(line) if "On" in line or "Off" in line else None
                    if name and self.run is not None and len(self.run.gpus) < MAX_ENTRIES:
                        self.run.gpus.append(name)
                    continue
                if first == " ":
                    if "MB model" not in line and self.progress:
                        continue
                    match = _ENV_LINE_RE.match(line)
                    if match and not self.progress:
                        self.current(number).config[match.group(1)] = match.group(2)
                        continue
                    match = _MB_SUM_RE.match(line) if "MB model" in line else None
                    if match:
                        self.mb_sizes(number, match)
                    continue
                if self.progress and not line.startswith(_KEPT_AFTER_PROGRESS) and "time:" not in line \
                        and " model: " not in line:
                    continue  # training / TTT progress chatter
                self.keyword_line(number, line)
            except (ValueError, OverflowError) as error:
                # A numeral no real log holds (thousands of digits, inf where a count belongs).
                self.problem(f"line {number}: unreadable number ({error}); line skipped")
        return number

    def special_line(self, number: int, raw: str, line: str) -> bool:
        """Lines whose meaning depends on the line before: file start, source banner, dumps.
        At most one of these states holds at a time; the dump, by far the most common, is tested first."""
        if self.in_dump:
            match = _HPARAM_LINE_RE.match(line) if line.startswith("  ") else None
            if match:
                key, value = match.groups()
                run = self.run
                run.config[key] = value.strip()
                run.last_line = number
                return True
            self.in_dump = False
            self.update_special()
            # The source may follow the dump directly, with no banner.
            if self.sources_allowed and _SOURCE_START_RE.match(line):
                self.open_source(number)
                self.source_line(raw)
                return True
            return False
        if not self.seen_content:
            if line.strip():
                self.seen_content = True
                self.update_special()
                if self.sources_allowed and _FIRST_LINE_SOURCE_RE.match(line):
                    self.open_source(number)
                    self.source_line(raw)
                    return True
            return False
        if self.source_open_next:
            self.source_open_next = False
            self.update_special()
            if line == BANNER:      # an empty source: `Source code:`, '=', '='
                return True
            self.open_source(number)
            self.source_line(raw)
            return True
        if self.in_kv_dump:
            self.in_kv_dump = False
            self.update_special()
            if "=" in line and ":" not in line.split("=", 1)[0]:
                for key, value in _KV_EQ_RE.findall(line):
                    self.run.config[key] = value
                self.run.last_line = number
                return True
        return False

    def update_special(self) -> None:
        self.special = (not self.seen_content) or self.source_open_next or self.in_dump or self.in_kv_dump

    def keyword_line(self, number: int, line: str) -> None:
        if line.startswith(_KEYWORDS):
            getattr(self, _KEYWORD_METHODS[_KEYWORD_RE.match(line).group()])(number, line)
            return
        if line.startswith(("artifact:", "budget:")) or " model: " in line:
            if self.custom_size_line(number, line):
                return
        if line.startswith("world_size:"):
            run = self.header("world_size", number)
            self.config_line(run, line)
            value = run.config.get("world_size", "")
            if _INT_RE.match(value):
                run.world_size = int(value)
            return
        if "eval_time:" in line or line.startswith("temp_scaling"):
            match = _EVAL_TIME_RE.search(line)
            if match:
                run = self.current(number)
                self.add_eval_time(run, line.split()[0].rstrip(":"), _ms(match.group(1), match.group(2)))
                run.last_line = number
                return
        if not self.progress and ":" in line and not _NOISE_RE.match(line):
            run = self.current(number)
            self.config_line(run, line)
            run.last_line = number

    def python_line(self, number: int, line: str) -> None:
        match = _PY_RE.match(line)
        if match:
            self.header("python", number).python_version = match.group(1)
            self.run.last_line = number

    def torch_line(self, number: int, line: str) -> None:
        match = _TORCH_RE.match(line)
        if match:
            self.current(number).torch_version = match.group(1)

    def hparams_line(self, number: int, line: str) -> None:
        """`Hyperparameters:` alone on its line opens an indented dump; `--- Hyperparameters` a KEY=VALUE line."""
        dump = line.startswith("Hyperparameters:")
        if dump and line.strip() != "Hyperparameters:":
            return
        self.header("hparams", number).last_line = number
        if dump:
            self.in_dump = True
        else:
            self.in_kv_dump = True
        self.update_special()

    def source_banner_line(self, number: int, line: str) -> None:
        self.source_banner = True

    def peak_line(self, number: int, line: str) -> None:
        match = _PEAK_RE.match(line)
        if match:
            run = self.current(number)
            run.peak_memory_mib = float(match.group(1))
            run.last_line = number

    def total_eval_line(self, number: int, line: str) -> None:
        match = _TOTAL_EVAL_RE.match(line)
        if match:
            run = self.current(number)
            run.logged_total_eval_time_ms = _ms(match.group(1), match.group(2))
            run.last_line = number

    def config_line(self, run: Run, line: str) -> None:
        if len(run.config) >= MAX_ENTRIES:
            self.problem_once("config", f"more than {MAX_ENTRIES} configuration keys; the rest are ignored")
            return
        for key, value in _KV_COLON_RE.findall(line):
            if "/" in value and value.replace("/", "").isdigit():
                continue  # warmup_step:3/20 is progress, not configuration
            run.config[key] = value
        if "=" in line:  # `val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=...`, `pattern=...`
            for key, value in _KV_EQ_RE.findall(line):
                run.config.setdefault(key, value)

    # ---- results -------------------------------------------------------------

    def periodic_line(self, number: int, line: str, match: re.Match) -> None:
        step, total, loss, bpb, train_ms = match.groups()
        self.current(number).last_line = number
        self.add_periodic(number, line, PeriodicVal(_int(step), _int(total), float(loss), float(bpb),
                                                    float(train_ms) if train_ms else None, number))

    def add_periodic(self, number: int, line: str, entry: PeriodicVal) -> None:
        run = self.run
        if len(run.periodic) < MAX_ENTRIES:
            run.periodic.append(entry)
        else:
            run.periodic[-1] = entry
            self.problem_once("periodic", f"more than {MAX_ENTRIES} periodic validation lines in a run; "
                              "only the first ones and the last are kept")
        self.progress = True
        self.last_train_line = (number, line)

    def score_line(self, number: int, line: str) -> bool:
        start = line.find("val_loss")
        match = None
        while start >= 0:
            match = _SCORE_TAIL_RE.match(line, start)
            if match:
                break
            start = line.find("val_loss", start + 8)
        if match is None:
            return False
        label = line[:start].strip()
        loss_text, bpb_text, rest, sliding = match.group("loss", "bpb", "rest", "sl2")
        if label == "sliding" or label.endswith(" sliding"):
            label, sliding = label[:-7].strip(), "sliding"
        label = label.rstrip(":").strip()
        if not is_label(label):
            # Not a plain label: a logger prefix before a periodic line, else a line golf cannot read.
            last = label.rpartition(" ")[2]
            periodic = _PERIODIC_LABEL_RE.match(last) if label and (last[:1].isdigit() or last.startswith("step")) \
                else None
            if not label:   # `val_loss:x val_bpb:y` with no label: the script's own summary, not a score
                run = self.current(number)
                if len(run.printed_claims) < MAX_ENTRIES:
                    run.printed_claims.append(PrintedClaim("val_bpb", float(bpb_text), line.strip(), number,
                                                           _decimals(bpb_text)))
                run.last_line = number
                return True
            if periodic is None:
                shown = label if len(label) <= 60 else label[:57] + "..."
                self.problem(f"line {number}: metric values after {shown!r}, which is not a score label; "
                             "not read as a score")
                return True
            label = last
        loss, bpb = float(loss_text), float(bpb_text)
        run = self.current(number)
        run.last_line = number
        periodic = _PERIODIC_LABEL_RE.match(label) if label[:1].isdigit() or label.startswith("step") else None
        if not (math.isfinite(loss) and math.isfinite(bpb)):
            self.problem(f"line {number}: non-finite value in {label or 'unlabelled'} line "
                         f"(val_loss {loss_text}, val_bpb {bpb_text})")
        if periodic:
            time_match = _TRAIN_TIME_RE.search(rest) if "train_time" in rest else None
            train_ms = _ms(time_match.group(1), time_match.group(2)) if time_match else None
            self.add_periodic(number, line, PeriodicVal(_int(periodic.group(1)), _int(periodic.group(2)),
                                                        loss, bpb, train_ms, number))
            return True
        stride = None
        stride_match = _STRIDE_IN_LABEL_RE.search(label) if "stride" in label else None
        if stride_match:
            stride = _int(stride_match.group(1))
            label = (label[:stride_match.start()] + label[stride_match.end():]).strip()
        elif "stride" in rest:
            stride_match = _STRIDE_RE.search(rest)
            stride = _int(stride_match.group(1)) if stride_match else None
        if sliding:
            label = f"{label} sliding" if label else "sliding"
        eval_ms = None
        time_match = _EVAL_TIME_RE.search(rest) if "time" in rest else None
        if time_match:
            eval_ms = _ms(time_match.group(1), time_match.group(2))
            self.add_eval_time(run, label, eval_ms)
        decimals = max(_decimals(loss_text), _decimals(bpb_text))
        exact = "_exact" in label and any(word.endswith("_exact") for word in label.split())
        entry = ScoreLine(label, loss, bpb, number, decimals, exact, eval_ms, stride)
        if len(run.scores) < MAX_ENTRIES:
            run.scores.append(entry)
        else:
            run.scores[-1] = entry
            self.problem_once("scores", f"more than {MAX_ENTRIES} scored lines in a run; "
                              "only the first ones and the last are kept")
        run.complete = True
        self.progress = True
        return True

    def printed_claim(self, number: int, line: str) -> bool:
        match = _PRINTED_CLAIM_RE.match(line)
        if match is None:
            return False
        run = self.current(number)
        if len(run.printed_claims) < MAX_ENTRIES:
            text = match.group("v")
            run.printed_claims.append(PrintedClaim(match.group("key"), float(text), line.strip(), number,
                                                   _decimals(text)))
        run.last_line = number
        return True

    def apply_train_line(self, number: int, line: str) -> None:
        run = self.run
        match = _STEP_RE.match(line)
        if match and run.stop_reason is None:
            run.steps, run.total_steps = _int(match.group(1)), _int(match.group(2))
            time_match = _TRAIN_TIME_RE.search(line)
            if time_match:
                run.train_time_ms = _ms(time_match.group(1), time_match.group(2))
            avg_match = _STEP_AVG_RE.search(line)
            if avg_match:
                run.step_avg_ms = float(avg_match.group(1))

    def stop_line(self, number: int, line: str) -> None:
        match = _STOP_RE.match(line)
        if not match:
            return
        run = self.current(number)
        if self.last_train_line is not None:
            self.apply_train_line(*self.last_train_line)
            self.last_train_line = None
        run.stop_reason = match.group("reason")
        if match.group("t"):
            run.train_time_ms = float(match.group("t"))
        if match.group("s"):
            run.steps, run.total_steps = _int(match.group("s")), _int(match.group("m"))
        self.progress = True
        run.last_line = number

    def size_line(self, number: int, line: str) -> None:
        run = self.current(number)
        match = _SERIALIZED_RE.match(line)
        if match:
            fmt = match.group("fmt")
            self.add_size(run, SizeLine("model" if fmt else "raw_model", fmt, _bytes(match.group("n")), number))
            run.last_line = number
            return
        match = _TOTAL_RE.match(line)
        if match:
            fmt = match.group("fmt")
            self.add_size(run, SizeLine("total" if fmt else "raw_total", fmt, _bytes(match.group("n")), number))
            run.last_line = number
            return
        match = _CODE_RE.match(line)
        if match:
            which = match.group("which")
            kind = f"code_{which}" if which else "code"
            self.add_size(run, SizeLine(kind, None, _bytes(match.group("n")), number))
            run.last_line = number

    def custom_size_line(self, number: int, line: str) -> bool:
        match = _INT7_RE.match(line)
        if match:
            run = self.current(number)
            fmt = match.group("fmt")
            self.add_size(run, SizeLine("model", fmt, _bytes(match.group("m")), number))
            self.add_size(run, SizeLine("total", fmt, _bytes(match.group("t")), number))
            return True
        match = _ARTIFACT_MB_RE.match(line)
        if match:
            run = self.current(number)
            self.add_size(run, SizeLine("model", None, _mb_bytes(match.group("mb")), number, True))
            self.add_size(run, SizeLine("code", None, _bytes(match.group("code")), number))
            return True
        match = _BUDGET_RE.match(line)
        if match:
            self.add_size(self.current(number), SizeLine("total", None, _bytes(match.group("total")), number))
            return True
        return False

    def mb_sizes(self, number: int, match: re.Match) -> None:
        run = self.current(number)
        fmt = match.group("fmt").strip()
        for kind, group in (("model", "m"), ("code", "c"), ("total", "t")):
            self.add_size(run, SizeLine(kind, fmt, _mb_bytes(match.group(group)), number, True))

    # ---- end ---------------------------------------------------------------

    def finish(self, lines: int) -> LogParse:
        if self.in_source:
            self.unclosed_source(lines)
        if self.run is not None:
            self.close_run()
        self.result.lines = lines
        if lines == 0:
            self.problem("empty log")
        elif not self.result.runs:
            self.problem("no run found in the log")
        else:
            for index, run in enumerate(self.result.runs, 1):
                if not run.complete:
                    self.problem(f"run {index} (lines {run.first_line}-{run.last_line}) has no final score line "
                                 "(truncated or crashed)")
        return self.result


def _pick_size(sizes: list[SizeLine], kinds: tuple[str, ...]) -> int | None:
    """The last exact figure of these kinds, else the last approximate one."""
    exact = [s for s in sizes if s.kind in kinds and not s.approximate]
    if exact:
        return exact[-1].bytes
    rough = [s for s in sizes if s.kind in kinds]
    return rough[-1].bytes if rough else None


__all__ = ["BANNER", "LogParse", "PeriodicVal", "PrintedClaim", "Run", "ScoreLine", "SizeLine", "choose_score",
           "parse_log", "parse_text"]

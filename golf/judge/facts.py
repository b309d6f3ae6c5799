"""The facts of a record, derived once: every consumer (verify's checks, submit, rerun, logs, size,
leaderboard) asks here instead of working them out again.

- which runs count and their scores (`score_of`: the ruleset's label precedence and the
  record's `score_label`), and their mean and sd (golf.judge.stats.mean_and_sd, via `summarise`);
- code, model and total bytes (`run_sizes`, `measure_sizes`); the track (`resolve_track`);
  the date (`record_date`); seeds (golf.read.records resolves them per log); sources.

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

from golf.errors import GolfError
from golf.io import loads_json, read_bytes, read_text
from golf.read.pysource import decode_source

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


class Scored:
    """val_bpb and val_loss of a run's chosen score line (its `score`), None without one."""

    @property
    def val_bpb(self) -> float | None:
        return self.score.val_bpb if self.score is not None else None

    @property
    def val_loss(self) -> float | None:
        return self.score.val_loss if self.score is not None else None


@dataclass
class RunFacts(Scored):
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
    def train_time_ms(self) -> float | None:
        return self.run.train_time_ms if self.run is not None else None

    @property
    def eval_time_ms(self) -> float | None:
        return self.run.total_eval_time_ms if self.run is not None else None


@dataclass
class PooledRun(Scored):
    """Someone else's run of the record's script, offered to the significance test (never to the claim)."""

    log: str                      # as shown: relative to the record folder, or the --pool-runs path
    by: str                       # who ran it (the `reproductions` entry), or "--pool-runs"
    source: str | None            # where it was reported (the entry's `source`)
    listed: bool = False          # listed in submission.json, so `log` is a file of the record folder
    score: Any = None             # golf.read.logs.ScoreLine | None
    seed: int | None = None
    problem: str | None = None    # why it cannot be pooled; None when it can

    def to_dict(self) -> dict:
        return {"log": self.log, "by": self.by, "source": self.source, "seed": self.seed,
                "val_bpb": self.val_bpb, "problem": self.problem}


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
    ruleset_reason: str = ""        # why this ruleset judges the record (given, or in force on its date)
    code_count: Any = None          # golf.judge.code_bytes.CodeCount | None: shipped and packed script sizes
    track: Any = None               # golf.rules.Track | None
    track_source: str = ""          # where the track came from ("folder", "submission.json", "default")
    track_conflict: str | None = None
    script_name: str | None = None
    script_size: int | None = None
    script_sha256: str | None = None
    script_text: str | None = None
    script_problem: str | None = None
    script_encoding: str | None = None  # as Python decodes the script (PEP 263); not UTF-8 is a finding
    runs: list[RunFacts] = field(default_factory=list)
    static_runs: list[RunFacts] = field(default_factory=list)  # the shipped logs' runs when `runs` are reruns
    claim_text: dict[str, Any] | None = None  # submission.json with numbers kept as their literal text
    sota: Sota | None = None
    sota_problem: str | None = None
    significance: Any = None        # golf.judge.stats.Significance | None, filled by golf.judge.verify
    significance_skip: str | None = None
    copies: list[Any] = field(default_factory=list)  # golf.judge.copies.Copy: logs found in other records
    first_of_track: bool = False    # no record of the track is dated before it: nothing to beat
    other_significance: Any = None  # (ruleset label, Significance): the reading of the ruleset's `also_report`
    reruns: list[Any] | None = None
    pooled: list[PooledRun] = field(default_factory=list)  # reproductions: listed in submission.json or given

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
        data = read_bytes(path, SCRIPT_READ_LIMIT)
    except OSError as error:
        ctx.script_problem = f"{name}: cannot read: {error.strerror or error}"
        return
    ctx.script_size = len(data)
    ctx.script_sha256 = hashlib.sha256(data).hexdigest()
    try:
        ctx.script_text, ctx.script_encoding = decode_source(data)
    except UnicodeDecodeError as error:
        ctx.script_problem = f"{name} is not {error.encoding} text (byte {error.start})"
    except ValueError as error:
        ctx.script_problem = f"{name}: Python would refuse its encoding: {error}"


def read_claim_text(ctx: RecordContext) -> None:
    """submission.json again, keeping every number as written, so claims are judged at their own precision."""
    submission = ctx.record.submission
    if submission is None or not getattr(submission, "path", None):
        return
    path = ctx.root / submission.path
    try:
        if path.stat().st_size > CLAIM_READ_LIMIT:
            return
        ctx.claim_text = loads_json(read_text(path, CLAIM_READ_LIMIT), allow_nan=True, parse_float=_Literal,
                                    parse_int=_Literal)
    except (OSError, ValueError):
        ctx.claim_text = None


class _Literal(str):
    """A JSON number kept as its text."""


def decimals_of(literal: Any, value: float) -> int:
    """Decimal places a claim was written with: from its JSON text when known, else from repr."""
    from golf.read.numerals import decimal_places

    return decimal_places(str(literal) if isinstance(literal, _Literal) else repr(float(value)))


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


def shown(path: os.PathLike | str, root: Path) -> str:
    """A path as a reader can use it: relative to the record folder when inside it, else relative to the
    current directory when below it (a rerun's work directory), else as given."""
    inside = rel(path, root)
    if inside != str(path):
        return inside
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


_TOKENIZER_RE = re.compile(r"fineweb_(\d+)_bpe(.*)$")
_DATASET_RE = re.compile(r"fineweb10B_(\w+)$")


def tokenizer_of(run) -> str | None:
    """A short name for the tokenizer a run used (sp1024, sp8192, byte260, ...), from its log's content:
    the tokenizer file it loaded, else the dataset folder it read (train or validation shards), else
    its vocabulary size."""
    if run is None:
        return None
    config = run.config
    path = (config.get("tokenizer_path") or "").strip()
    if path:
        stem = path.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".model").removesuffix(".json")
        match = _TOKENIZER_RE.match(stem)
        return f"sp{match.group(1)}{match.group(2)}" if match else stem
    for key in ("train_loader", "data_path", "datasets_dir", "pattern"):
        value = (config.get(key) or "").strip().removeprefix("dataset:").replace("\\", "/")
        if key == "pattern":
            value = value.rsplit("/", 1)[0]   # .../<dataset>/fineweb_val_*.bin
        value = value.rstrip("/").rsplit("/", 1)[-1]
        match = _DATASET_RE.match(value)
        if match:
            return match.group(1)
    vocab = (config.get("vocab_size") or "").strip()
    if vocab.isdigit():
        return f"vocab{vocab}"
    for key in ("train_loader", "data_path", "datasets_dir"):
        value = (config.get(key) or "").strip().removeprefix("dataset:").rstrip("/").rsplit("/", 1)[-1]
        if value:
            return f"dataset:{value}"
    return None


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


# ---------------------------------------------------------------------------
# Deriving the facts
# ---------------------------------------------------------------------------

_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def score_of(run, ruleset, submission=None, override: str | None = None):
    """The score line of a run: the record's own `score_label` (or `override`) when given, else the
    ruleset's label precedence; None when the run has no acceptable score line."""
    from golf.read.logs import choose_score

    label = override or (getattr(submission, "score_label", None) if submission is not None else None)
    excluded = [*ruleset.excluded_labels, *ruleset.flagged_labels]  # flagged labels are never chosen silently
    return choose_score(run, ruleset.label_precedence, excluded, override=label)


def build_context(root: Path, ruleset, *, shown: str | None = None, reruns=None, submission=None,
                  choose_ruleset=None, pool_dirs=()) -> RecordContext:
    """Every fact of the record folder at `root` (and of its rerun results, when given).

    `submission` replaces the folder's submission.json (golf submit judges the file it is about to write).
    `choose_ruleset(record, root) -> (ruleset, reason)` picks the ruleset once the record is read
    (golf.judge.verify: the one given, or the one in force on the record's date).
    `pool_dirs` are folders of reproduction logs given on the command line (--pool-runs).
    """
    from golf.judge.code_bytes import count_code
    from golf.read.records import load_record

    record = load_record(root)
    if submission is not None:
        record.submission = submission
        record.submission_problems = list(submission.problems)
    reason = "given"
    if choose_ruleset is not None:
        ruleset, reason = choose_ruleset(record, root)
    ctx = RecordContext(path=str(root) if shown is None else shown, root=root, record=record, ruleset=ruleset,
                        ruleset_reason=reason)
    resolve_track(ctx)
    read_script(ctx)
    ctx.code_count = count_code(ctx)
    read_claim_text(ctx)
    ctx.runs = static_runs(ctx)
    if reruns is not None:
        ctx.reruns = list(reruns)
        ctx.static_runs = ctx.runs
        ctx.runs = [rerun_facts(ctx, result) for result in ctx.reruns]
    ctx.pooled = pooled_runs(ctx, pool_dirs)
    return ctx


def pooled_in_test(ctx: RecordContext) -> list[PooledRun]:
    """The reproductions that join the significance test: usable ones, when the ruleset pools them."""
    if not ctx.ruleset.significance.pool_reproductions:
        return []
    return [p for p in ctx.pooled if p.problem is None]


def script_digests(ctx: RecordContext) -> set[str]:
    """sha256 of the shipped script's exact text, and of that text plus the one newline log0 appends."""
    if ctx.script_sha256 is None or ctx.script_text is None:
        return set()
    with_newline = hashlib.sha256((ctx.script_text + "\n").encode("utf-8", "surrogatepass")).hexdigest()
    return {ctx.script_sha256, with_newline}


def pooled_runs(ctx: RecordContext, pool_dirs=()) -> list[PooledRun]:
    """The reproduction runs offered for pooling, each with its provenance and, if unusable, why.

    They come from submission.json's `reproductions` (logs in the folder, not counted as the
    record's own runs) and from --pool-runs folders. A run is unusable without a score line, as a
    byte copy of a log already counted, or when the source it embeds is not the shipped script.
    """
    from golf.read.records import is_log_name, list_files, read_logs

    offered: list[tuple[PooledRun, Any]] = []
    entries = ctx.submission.reproductions if ctx.submission is not None else []
    logs = {log.path: log for log in ctx.record.reproduction_logs}
    for entry in entries:
        run = PooledRun(log=entry["log"], by=entry["by"], source=entry["source"], listed=True)
        log = logs.get(entry["log"])
        if log is None:
            run.problem = "listed under `reproductions` but not a readable log in the folder"
        offered.append((run, log))
    for folder in pool_dirs:
        # a folder, or (folder, who offered it): the configuration names reproductions that live elsewhere
        folder, by = (Path(folder[0]), folder[1]) if isinstance(folder, tuple) else (Path(folder), "--pool-runs")
        files, skipped = list_files(folder)
        found = read_logs(folder, files, skipped)
        unreadable = [(rel, why) for rel, why in skipped if is_log_name(rel)]  # other files are not offered
        offered += [(PooledRun(str(folder / rel), by, None, problem=why), None) for rel, why in unreadable]
        if not found and not unreadable:
            offered.append((PooledRun(str(folder), by, None, problem="the folder holds no log"), None))
        offered += [(PooledRun(str(folder / log.path), by, None), log) for log in found]
    seen = {r.log_sha256: r.log for r in ctx.static_runs or ctx.runs if r.log_sha256}
    digests = script_digests(ctx)
    for run, log in offered:
        if log is None:
            continue
        run.seed = log.seed
        run.score = score_of(log.run, ctx.ruleset, ctx.submission)
        sources = run_sources(log.run, log.parse, [])
        if run.score is None:
            run.problem = "no score line"
        elif log.sha256 in seen:
            run.problem = f"a byte-identical copy of {seen[log.sha256]}"
        elif digests and any(source.sha256 not in digests for source in sources):
            run.problem = f"the source it embeds is not the shipped {ctx.script_name}"
        seen.setdefault(log.sha256, run.log)
    return [run for run, _ in offered]


def static_runs(ctx: RecordContext) -> list[RunFacts]:
    omitted = omitted_sources(ctx.root)
    facts = []
    for log in ctx.record.logs:
        parse = log.parse
        run = log.run
        f = RunFacts(log=log.path, run=run, score=score_of(run, ctx.ruleset, ctx.submission), seed=log.seed,
                     seed_sources=dict(log.seed_sources or {}), duplicate_of=log.duplicate_of,
                     n_runs_in_log=len(parse.runs) if parse is not None else 0,
                     log_problems=list(parse.problems) if parse is not None else [],
                     log_sha256=log.sha256)
        f.sources = run_sources(run, parse, omitted.get(log.path, []))
        run_sizes(ctx, f, run)
        facts.append(f)
    return facts


def rerun_facts(ctx: RecordContext, result) -> RunFacts:
    """One rerun seed's facts: its new log, and the artifact's real bytes on disk."""
    from golf.read.logs import parse_log

    log_path = Path(result.log_path) if getattr(result, "log_path", None) else None
    f = RunFacts(log=shown(log_path, ctx.root) if log_path else f"(seed {result.seed}: no log)",
                 seed=result.seed, rerun=result)
    if log_path is not None and log_path.is_file():
        parse = parse_log(log_path)
        f.run = parse.run
        f.n_runs_in_log = len(parse.runs)
        f.log_problems = list(parse.problems)
        f.score = score_of(f.run, ctx.ruleset, ctx.submission)
        f.sources = run_sources(f.run, parse, [])
        if f.run is not None and f.run.seed is not None:
            f.seed_sources["log"] = f.run.seed
    f.seed_sources["rerun"] = result.seed
    run_sizes(ctx, f, f.run)
    artifact = getattr(result, "artifact_path", None)
    if artifact is not None and Path(artifact).is_file() and ctx.script_size is not None:
        f.bytes_model = Path(artifact).stat().st_size
        packed = ctx.code_count.counted if ctx.code_count is not None else None
        f.bytes_code = packed if ctx.ruleset.code_bytes_policy.policy == "packed" and packed else ctx.script_size
        f.bytes_total = f.bytes_model + f.bytes_code
        f.size_basis = "measured"
    return f


def resolve_track(ctx: RecordContext) -> None:
    """The track judged: the folder's parent (records/<track>/), else submission.json's, else the default."""
    ruleset = ctx.ruleset
    record = ctx.record
    by_folder = ruleset.find_track(getattr(record, "track_dir", None))
    claimed = getattr(record.submission, "track", None) if record.submission is not None else None
    by_claim = ruleset.find_track(claimed) if claimed else None
    if by_folder is not None:
        ctx.track, ctx.track_source = by_folder, f"folder {record.track_dir}"
        if claimed and by_claim is not None and by_claim.name != by_folder.name:
            ctx.track_conflict = (f"submission.json says track {claimed!r} ({by_claim.name}) but the record sits "
                                  f"in {record.track_dir}/")
    elif by_claim is not None:
        ctx.track, ctx.track_source = by_claim, f"submission.json track {claimed!r}"
    else:
        ctx.track, ctx.track_source = ruleset.track(None), "ruleset default"
        if claimed:
            ctx.track_conflict = f"submission.json names an unknown track {claimed!r}"


def date_from_name(name: str) -> str | None:
    match = _DATE_RE.match(name)
    return match.group(1) if match else None


def record_date(record, root: Path | None = None) -> str | None:
    """The record's date: the folder name's YYYY-MM-DD prefix, else submission.json's `date`.

    The one home of a record's date (SOTA, frontier, copies, the ruleset in force). `record` may be
    None where only the folder is at hand: then the folder name alone dates it."""
    root = root if root is not None else record.root
    found = date_from_name(Path(root).resolve().name)
    if found is None and record is not None and record.submission is not None and record.submission.date:
        found = date_from_name(record.submission.date.strip())
    return found


def run_sizes(ctx: RecordContext, f: RunFacts, run) -> None:
    """Model bytes from the log, code bytes under the ruleset's policy (the shipped script's bytes)."""
    if run is not None:
        f.bytes_model = run.model_bytes
        f.bytes_code_logged = run.code_bytes
        f.bytes_total_logged = run.total_bytes
    policy = ctx.ruleset.code_bytes_policy.policy
    if policy == "packed":
        from golf.judge.code_bytes import packed_sizes

        return packed_sizes(ctx, f, run)
    if policy != "shipped_script":
        raise GolfError(f"ruleset {ctx.ruleset.name}: unknown code-bytes policy {policy!r}")
    if ctx.script_size is not None and f.bytes_model is not None:
        f.bytes_code = ctx.script_size
        f.bytes_total = f.bytes_model + ctx.script_size
        f.size_basis = "shipped"
    elif ctx.script_size is None and f.bytes_model is not None and _embedded_size(f) is not None:
        # No shipped script: the script that ran printed its own source into the log, so that
        # source's size is the best available count of the script's bytes.
        f.bytes_code = _embedded_size(f)
        f.bytes_total = f.bytes_model + f.bytes_code
        f.size_basis = "embedded"
    elif f.bytes_total_logged is not None or f.bytes_model is not None:
        use_logged_sizes(f)


def use_logged_sizes(f: RunFacts) -> None:
    """The log's own code and total bytes, when golf has nothing better to count."""
    f.bytes_code = f.bytes_code_logged
    f.bytes_total = f.bytes_total_logged
    if f.bytes_total is None and f.bytes_model is not None and f.bytes_code is not None:
        f.bytes_total = f.bytes_model + f.bytes_code
    f.size_basis = "logged"


def _embedded_size(f: RunFacts) -> int | None:
    if len(f.sources) != 1 or f.sources[0].bytes is None:
        return None
    source = f.sources[0]
    # log0 appends one newline after the source: SOURCE_OMITTED.json counts it, golf.read.logs strips it.
    return source.bytes - 1 if source.where == "omitted" else source.bytes


def run_sources(run, parse, omitted: list[SourceId]) -> list[SourceId]:
    """The embedded source(s) of the chosen run: from the log text, else from SOURCE_OMITTED.json."""
    if run is not None and run.source_sha256:
        size = len(run.source.encode("utf-8", "surrogatepass")) if run.source is not None else None
        return [SourceId(run.source_sha256, size, "log", run.source_first_line)]
    if not omitted:
        return []
    runs = parse.runs if parse is not None else []
    index = next((i for i, r in enumerate(runs) if r is run), None)
    if index is not None and len(omitted) == len(runs):
        return [omitted[index]]
    return list(omitted)


@dataclass(frozen=True)
class Aggregate:
    """The record's statistics over its counted runs (scored, not copies of another log)."""

    n_runs: int
    val_bpb_mean: float | None
    val_bpb_std: float | None
    val_loss_mean: float | None
    val_loss_std: float | None
    bytes_total_max: int | None
    bytes_model_max: int | None


def summarise(runs: list[RunFacts]) -> Aggregate:
    from golf.judge.stats import mean_and_sd

    counted = [r for r in runs if r.counted]
    bpb_mean, bpb_sd = mean_and_sd([r.val_bpb for r in counted if finite(r.val_bpb)])
    loss_mean, loss_sd = mean_and_sd([r.val_loss for r in counted if finite(r.val_loss)])
    distinct = [r for r in runs if r.duplicate_of is None]
    totals = [r.bytes_total for r in distinct if r.bytes_total is not None]
    models = [r.bytes_model for r in distinct if r.bytes_model is not None]
    return Aggregate(len(counted), bpb_mean, bpb_sd, loss_mean, loss_sd,
                     max(totals) if totals else None, max(models) if models else None)


@dataclass(frozen=True)
class SizeReport:
    """`golf size`: the shipped script's bytes, the artifact's bytes on disk, against the track's cap."""

    record_dir: str
    script: str
    artifact: str
    code_bytes: int
    model_bytes: int | None   # None when the artifact is not on disk
    total: int | None
    cap: int
    track: str | None
    fits: bool | None         # None when the model bytes are unknown and the code alone fits

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def measure_sizes(record_dir, ruleset, artifact=None, artifact_name: str = "final_model.int8.ptz",
                  cap: int | None = None) -> SizeReport:
    """Code bytes (the shipped script, as verify counts it), model bytes (the artifact on disk) and the
    total against the cap of the record's track (as verify resolves it), unless `cap` is given."""
    root = Path(record_dir)
    if not root.is_dir():
        raise GolfError(f"{root}: no such record folder")
    ctx = build_context(root, ruleset)
    if ctx.script_size is None:
        problem = ctx.script_problem or f"no {ctx.ruleset.code_bytes_policy.script} inside the folder"
        raise GolfError(f"{root}: {problem} (the shipped script whose bytes count as code)")
    cap = int(ctx.track.byte_cap) if cap is None else cap
    artifact_path = Path(artifact) if artifact is not None else root / artifact_name
    if artifact is not None and not artifact_path.is_file():
        raise GolfError(f"{artifact_path}: no such artifact file")
    model_bytes = artifact_path.stat().st_size if artifact_path.is_file() else None
    code_bytes = ctx.script_size
    total = code_bytes + model_bytes if model_bytes is not None else None
    fits = total <= cap if total is not None else (False if code_bytes > cap else None)
    return SizeReport(str(root), str(root / ctx.script_name), str(artifact_path), code_bytes, model_bytes,
                      total, cap, ctx.track.name, fits)

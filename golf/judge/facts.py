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
    eval_only_lines: list = field(default_factory=list)  # (line, text): the log says it skipped training
    set_aside: str | None = None    # why this log is not one of the record's runs (golf.judge.facts.select_runs)

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
class RunGroup:
    """Runs submission.json declares together (e.g. the original seeds, a compliance rerun of them)."""

    name: str
    logs: list[str]
    claimed: bool = False         # the group the record's claim is the mean of
    mean: float | None = None


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
    witness: Any = None             # golf.judge.labels.Witness: the claim chose the score family
    legality: list | None = None    # golf.judge.legality findings, read once for the rules G404-G406
    set_aside: list[RunFacts] = field(default_factory=list)  # logs that are not runs of the record, with why
    groups: list[RunGroup] = field(default_factory=list)     # the groups submission.json declares, if any

    @property
    def score_family(self) -> str | None:
        return self.witness.family if self.witness is not None else None

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
        name = wanted if wanted in (record.scripts or []) else script_that_ran(ctx)
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


def script_that_ran(ctx: RecordContext) -> str | None:
    """A folder without the ruleset's script name (spec 5.11): the top-level .py file whose text the logs
    embed (the most logs win), else the folder's only top-level .py file; None when that cannot tell."""
    candidates = [name for name in ctx.record.scripts or [] if "/" not in name]
    embedded = [run.source_sha256 for log in ctx.record.logs for run in ([log.run] if log.run else [])
                if run.source_sha256]
    best, votes = None, 0
    for name in candidates:
        try:
            data = read_bytes(ctx.root / name, SCRIPT_READ_LIMIT)
        except OSError:
            continue
        digests = {hashlib.sha256(data).hexdigest(), hashlib.sha256(data + b"\n").hexdigest()}
        count = sum(digest in digests for digest in embedded)
        if count > votes:
            best, votes = name, count
    if best is not None:
        return best
    return candidates[0] if len(candidates) == 1 else None


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


def score_of(run, ruleset, submission=None, override: str | None = None, family: str | None = None):
    """The score line of a run: the record's own `score_label` (or `override`, a glob) when given, else
    the best line of the ruleset's label classes (golf.judge.labels), of `family` first when the claim
    chose one; None when the run has no acceptable score line."""
    from golf.judge.labels import choose
    from golf.read.logs import choose_score

    label = override or (getattr(submission, "score_label", None) if submission is not None else None)
    if label:
        return choose_score(run, [label], [], override=label)
    return (choose(run, ruleset, family) if family else None) or choose(run, ruleset)


def witness_claim(ctx: "RecordContext") -> None:
    """When submission.json's val_bpb is the mean of one family of score lines and the classes chose
    others, score the runs by that family (`ctx.witness` says so; G216)."""
    from golf.judge.labels import claim_witness

    submission = ctx.submission
    if submission is None or submission.val_bpb is None or submission.score_label:
        return
    runs = ctx.counted
    key = submission.keys.get("val_bpb", "val_bpb")
    literal = claim_literal(ctx, key)
    witness = claim_witness(runs, ctx.ruleset, submission.val_bpb, decimals_of(literal, submission.val_bpb),
                            str(literal) if literal is not None else repr(submission.val_bpb))
    if witness is None:
        return
    ctx.witness = witness
    for r in ctx.runs:
        if r.score is not None:
            r.score = score_of(r.run, ctx.ruleset, family=witness.family)


def build_context(root: Path, ruleset, *, shown: str | None = None, reruns=None, submission=None,
                  choose_ruleset=None, pool_dirs=(), verdict_only: bool = False, pack: bool = True,
                  record=None) -> RecordContext:
    """Every fact of the record folder at `root` (and of its rerun results, when given).

    `submission` replaces the folder's submission.json (golf submit judges the file it is about to write).
    `choose_ruleset(record, root) -> (ruleset, reason)` picks the ruleset once the record is read
    (golf.judge.verify: the one given, or the one in force on the record's date).
    `pool_dirs` are folders of reproduction logs given on the command line (--pool-runs).
    `verdict_only` (a record looked at for its verdict and scores only) skips packing a script whose
    shipped bytes already fit the cap (golf.judge.code_bytes.count_code); `pack=False` packs none.
    `record` is the folder already read (golf.read.records.load_record), when the caller has it.
    """
    from golf.judge.code_bytes import count_code
    from golf.read.records import load_record

    record = load_record(root) if record is None else record
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
    ctx.code_count = count_code(ctx, verdict_only=verdict_only, pack=pack)
    read_claim_text(ctx)
    ctx.runs, ctx.set_aside, ctx.groups = select_runs(ctx, static_runs(ctx))
    witness_claim(ctx)  # after the selection: the witness family must be printed by every counted run
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
        run.score = score_of(log.run, ctx.ruleset, ctx.submission, family=ctx.score_family)
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
                     log_sha256=log.sha256, eval_only_lines=list(log.eval_only_lines))
        f.sources = run_sources(run, parse, omitted.get(log.path, []))
        run_sizes(ctx, f, run)
        facts.append(f)
    return facts


# ---------------------------------------------------------------------------
# Which logs are the record's runs
# ---------------------------------------------------------------------------

# Settings (as the log prints them) that say the run only re-scored a saved model.
EVAL_ONLY_SETTINGS = ("eval_only", "ttt_eval_only", "skip_training", "skip_train", "eval_only_path")
# Settings that load a saved model: eval-only when the log then shows no training.
LOAD_SETTINGS = ("load_checkpoint_path", "load_checkpoint", "checkpoint_path", "init_checkpoint", "load_model_path")
# Settings whose value names what kind of run it was.
KIND_SETTINGS = ("run_kind", "run_type", "run_mode", "mode", "purpose", "experiment_type")
NOT_RUN_KINDS = ("diagnostic", "ablation", "eval_only", "eval-only", "evalonly")
_OFF = ("", "0", "false", "no", "off", "none", "null")
_ON = ("1", "true", "yes", "on")
# submission.json keys that list which of its logs or seeds make the record, first found decides.
LISTED_SEED_KEYS = ("submittable_seeds", "seeds")
LISTED_LOG_KEYS = ("logs", "log_files", "train_logs")


def select_runs(ctx: RecordContext, facts: list[RunFacts]) -> tuple[list[RunFacts], list[RunFacts], list[RunGroup]]:
    """Split the logs into the record's runs and the logs set aside (each with why), once for every command.

    Never runs: logs in hidden or checkpoint folders (an editor's autosave), logs that say they only
    re-scored a saved model, logs whose settings call them diagnostic or ablation runs. When
    submission.json declares groups of runs, the group its claim is the mean of is the record's and
    the others are set aside as declared; when it lists its logs or seeds, logs outside the list are set aside.
    """
    for f in facts:
        f.set_aside = _not_a_run(f)
    _set_aside_rescorings(facts)
    kept = [f for f in facts if f.set_aside is None]
    groups = declared_groups(ctx.submission, kept)
    if groups:
        _choose_group(ctx, groups, kept)
    else:
        _apply_listing(ctx, kept)
    return [f for f in facts if f.set_aside is None], [f for f in facts if f.set_aside is not None], groups


def _not_a_run(f: RunFacts) -> str | None:
    parts = f.log.split("/")
    if any(p.startswith(".") for p in parts[:-1]) or parts[-1].rsplit(".", 1)[0].endswith("-checkpoint"):
        return "an autosaved copy in a hidden or checkpoint folder"
    config = f.run.config if f.run is not None else {}
    # A setting named for diagnostics or ablations marks the run only when it is switched on (`DIAGNOSTIC_RUN=1`),
    # not when it carries a number (`diagnostics_every: 100`).
    flagged = sorted(k for k in config if any(w in k.lower() for w in ("diagnostic", "ablation"))
                     and (config[k] or "").strip().strip("'\"").lower() in _ON)
    kinds = sorted(k for k in KIND_SETTINGS if any(w in (config.get(k) or "").lower() for w in NOT_RUN_KINDS))
    if flagged or kinds:
        return f"a diagnostic or ablation run ({', '.join(f'{k}: {config[k]}' for k in flagged + kinds)})"
    return None


def eval_only(f: RunFacts) -> str | None:
    """Why the log is a re-scoring of a saved model rather than a training run, or None."""
    config = f.run.config if f.run is not None else {}
    on = sorted(k for k in EVAL_ONLY_SETTINGS if _is_on(config.get(k)))
    if on:
        return f"an eval-only re-scoring ({', '.join(f'{k}: {config[k]}' for k in on)})"
    if f.eval_only_lines:
        line, text = f.eval_only_lines[0]
        return f"an eval-only re-scoring (line {line}: {text!r})"
    loaded = [k for k in LOAD_SETTINGS if _is_on(config.get(k))]
    if loaded and f.run is not None and f.run.train_time_ms is None and not f.run.periodic and f.run.steps is None:
        return f"an eval-only re-scoring of a saved model ({loaded[0]}: {config[loaded[0]]}, no training logged)"
    return None


def _set_aside_rescorings(facts: list[RunFacts]) -> None:
    """An eval-only re-scoring is not a run, nor a repeat of its seed, when the training log of its seed is
    scored (or, its seed unknown, when training logs are). Where the training logs hold no score, the
    re-scorings are the record's only scores and stay."""
    rescorings = [(f, why) for f in facts if f.set_aside is None and (why := eval_only(f))]
    others = {id(f) for f, _ in rescorings}
    trained = {f.seed for f in facts if f.set_aside is None and id(f) not in others and f.counted}
    for f, why in rescorings:
        if trained and (f.seed is None or f.seed in trained):
            seed = f"seed {f.seed}'s" if f.seed is not None else "the"
            f.set_aside = f"{why}; {seed} training log is scored"


def _is_on(value: str | None) -> bool:
    return value is not None and value.strip().strip("'\"").lower() not in _OFF


def _stem(log: str) -> str:
    return log.rsplit("/", 1)[-1].rsplit(".", 1)[0].lower()


def _matches(token: str, f: RunFacts) -> bool:
    """A seed or log name from submission.json names this log: its seed, or the end of its file name."""
    from golf.read.records import parse_seed

    token = str(token).strip().removeprefix("./")
    if not token:
        return False
    seed = parse_seed(token)
    if seed is not None:   # 42, "seed42", "s42": the seed as the log, its file name or submission.json states it
        return seed in {f.seed, *f.seed_sources.values()}
    lowered = token.lower()
    if f.log.lower() == lowered or f.log.rsplit("/", 1)[-1].lower() == lowered:
        return True
    stem = _stem(f.log)
    return stem == lowered or (stem.endswith(lowered) and not stem[-len(lowered) - 1].isalnum()) \
        or stem.endswith("seed" + lowered)


def _listed_tokens(submission) -> tuple[str, list[str]] | None:
    """(what, tokens): the logs, else the seeds, submission.json lists as the record's."""
    raw = getattr(submission, "raw", None)
    if not isinstance(raw, dict):
        return None
    from golf.read.records import JSON_LOG_KEYS

    logs = [str(v) for k in LISTED_LOG_KEYS if isinstance(raw.get(k), list) for v in raw[k] if isinstance(v, str)]
    if logs:
        return "logs", logs
    entries = list(raw["seed_results"].values()) if isinstance(raw.get("seed_results"), dict) else []
    entries += [r for r in raw.get("runs") or [] if isinstance(r, dict)] if isinstance(raw.get("runs"), list) else []
    named = [next((e[k] for k in JSON_LOG_KEYS if isinstance(e.get(k), str)), None) if isinstance(e, dict) else None
             for e in entries]
    if named and all(named):   # every per-run entry names its log: together they list the logs
        return "logs", named
    for key in LISTED_SEED_KEYS:
        value = raw.get(key)
        if isinstance(value, (list, dict)) and value:
            seeds = [str(v) for v in value if isinstance(v, (str, int)) and not isinstance(v, bool)]
            return f"`{key}`", seeds + [n for n in named if n]
    return None


def _apply_listing(ctx: RecordContext, kept: list[RunFacts]) -> None:
    """Logs outside the list submission.json gives are not the record's runs, when the list names logs whose
    mean is the claimed val_bpb (to the claim's decimals). A list that names none of the logs, or logs whose
    mean is not the claim, decides nothing: the claim checks report it, and which subset the claim is."""
    listed = _listed_tokens(ctx.submission)
    if listed is None:
        return
    what, tokens = listed
    named = {id(f) for f in kept if any(_matches(t, f) for t in tokens)}
    if not named or not _is_the_claim(ctx, [f for f in kept if id(f) in named]):
        return
    for f in kept:
        # A log of unknown seed cannot be told apart from a listed one: it stays.
        if id(f) not in named and (what == "logs" or f.seed is not None):
            f.set_aside = f"not among the {what} submission.json lists ({', '.join(tokens)})"


def _is_the_claim(ctx: RecordContext, runs: list[RunFacts]) -> bool:
    """Whether these runs' mean val_bpb is the claimed one, to the decimals the claim is written with
    (True without a claim: then the list alone decides)."""
    claim = getattr(ctx.submission, "val_bpb", None)
    if claim is None:
        return True
    scores = [f.val_bpb for f in runs if f.counted and finite(f.val_bpb)]
    if not scores:
        return False
    key = ctx.submission.keys.get("val_bpb", "val_bpb")
    tolerance = 0.5 * 10 ** -decimals_of(claim_literal(ctx, key), claim) + 1e-12
    return abs(sum(scores) / len(scores) - claim) <= tolerance


def declared_groups(submission, kept: list[RunFacts]) -> list[RunGroup]:
    """The groups of runs submission.json declares: `groups` ({name: [logs or seeds]} or
    {name: {"logs"|"seeds": [...]}} or [{"name", "logs"|"seeds"}]), or a `group` on `runs` / `seed_results`
    entries that name their log. Only groups whose entries name logs of the folder count."""
    raw = getattr(submission, "raw", None)
    if not isinstance(raw, dict):
        return []
    from golf.read.records import JSON_LOG_KEYS

    declared: dict[str, list[str]] = {}
    value = raw.get("groups")
    items = value.items() if isinstance(value, dict) else (
        [(g.get("name"), g) for g in value if isinstance(g, dict)] if isinstance(value, list) else [])
    for name, body in items:
        if not isinstance(name, str):
            continue
        if isinstance(body, dict):
            results = body.get("seed_results")
            body = body.get("logs") or body.get("seeds") or (list(results) if isinstance(results, dict) else [])
        if isinstance(body, list):
            declared.setdefault(name, []).extend(str(v) for v in body if isinstance(v, (str, int)))
    entries = [e for e in raw.get("runs") or [] if isinstance(e, dict)] if isinstance(raw.get("runs"), list) else []
    if isinstance(raw.get("seed_results"), dict):
        entries += [e for e in raw["seed_results"].values() if isinstance(e, dict)]
    for entry in entries:
        log = next((entry[k] for k in JSON_LOG_KEYS if isinstance(entry.get(k), str)), None)
        if isinstance(entry.get("group"), str) and log:
            declared.setdefault(entry["group"], []).append(log)
    groups = []
    for name, tokens in declared.items():
        logs = [f.log for f in kept if any(_matches(t, f) for t in tokens)]
        if logs:
            groups.append(RunGroup(name, logs))
    return groups if len(groups) > 1 else []


def _choose_group(ctx: RecordContext, groups: list[RunGroup], kept: list[RunFacts]) -> None:
    """The claimed group: the one whose mean is nearest the claimed val_bpb (the first declared without a claim)."""
    by_log = {f.log: f for f in kept}
    for group in groups:
        scores = [by_log[log].val_bpb for log in group.logs if by_log[log].counted and finite(by_log[log].val_bpb)]
        group.mean = sum(scores) / len(scores) if scores else None
    claim = getattr(ctx.submission, "val_bpb", None)
    chosen = groups[0]
    if claim is not None:
        chosen = min(groups, key=lambda g: abs(g.mean - claim) if g.mean is not None else math.inf)
    chosen.claimed = True
    for f in kept:
        if f.log not in chosen.logs:
            mine = next((g.name for g in groups if f.log in g.logs), None)
            where = f"in the declared group {mine!r}" if mine else "in none of the declared groups"
            f.set_aside = f"{where}; the claim is the mean of group {chosen.name!r}"


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
        f.score = score_of(f.run, ctx.ruleset, ctx.submission, family=ctx.score_family)
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

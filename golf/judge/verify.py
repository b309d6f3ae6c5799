"""Verify record folders: gather the facts, run the registered checks, assemble the report.

Static verification reads a record folder and judges it against a ruleset; it never
imports torch and never imports, runs or executes anything from the folder. When
rerun results are given (golf.produce.rerun), the runs come from the new logs and the real
artifact bytes on disk, and the rerun checks compare them with what was claimed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from golf import __version__
from golf.judge.findings import Rule, blocking, emit, run_rules, select_rules
from golf.judge.facts import (RecordContext, RunFacts, Sota, build_context, date_from_name, finite, pooled_in_test,
                              record_date, rel, summarise, tokenizers_of, val_tokens_by_tokenizer)
from golf.errors import GolfError
from golf.judge.report import RecordReport, Report, RunRow, Summary



class SotaError(GolfError):
    """The SOTA given on the command line cannot be used."""


def verify_record(path, *, ruleset=None, sota=None, sota_record=None, select=None, ignore=None,
                  records_root=None, reruns=None, config=None, pool_runs=()) -> RecordReport:
    """Verify one record folder (static checks; rerun checks too when `reruns` are given)."""
    verifier = Verifier(ruleset=ruleset, sota=sota, sota_record=sota_record, select=select, ignore=ignore,
                        records_root=records_root, config=config, pool_runs=pool_runs)
    return verifier.verify(path, reruns=reruns)


def verify_paths(paths: Iterable, *, judging=None, ruleset=None, sota=None, sota_record=None, select=None,
                 ignore=None, records_root=None, reruns=None, curves=False, config=None, pool_runs=()) -> Report:
    """Verify every record folder under `paths` (each a record folder or a folder of record folders),
    judged by `judging` (else by the settings given, merged with `config`)."""
    from golf.progress import progress_bar
    from golf.read.records import find_record_dirs

    verifier = Verifier(judging=judging, ruleset=ruleset, sota=sota, sota_record=sota_record, select=select,
                        ignore=ignore, records_root=records_root, curves=curves, config=config, pool_runs=pool_runs)
    pool_runs = verifier.pool_runs
    targets: list[tuple[str, Path]] = []
    blocked: list[tuple[str, str]] = []   # folders that could not be listed, reported beside the others
    not_records: list[tuple[str, str]] = []  # paths given that are not record folders: bad input, reported too
    for given in paths:
        problem = _not_a_record_path(Path(given))
        if problem:
            not_records.append((str(given), f"{given}: {problem}"))
            continue
        base = Path(given)
        unreadable: list[tuple[Path, str]] = []
        dirs = find_record_dirs(base, unreadable)
        for folder, reason in unreadable:
            blocked.append((os.path.join(str(given), rel(folder, base)), f"{folder}: cannot list the folder: {reason}"))
        if not dirs and not unreadable:
            not_records.append((str(given), f"{given}: no record folder found (a record folder holds a README, a "
                                            "submission JSON, a script or a log golf can read)"))
        for d in dirs:
            shown = str(given) if Path(d).resolve() == base.resolve() else os.path.join(str(given), rel(d, base))
            targets.append((shown, Path(d)))
    given_count = len(targets) + len(blocked) + len(not_records)
    if pool_runs and given_count != 1:
        raise GolfError(f"--pool-runs adds runs to one record: give one record folder, not {given_count}")
    report = verifier.new_report()
    report.records.extend(RecordReport(path=shown, findings=[emit("G100", reason)]) for shown, reason in blocked)
    report.records.extend(RecordReport(path=shown, findings=[emit("G099", reason)]) for shown, reason in not_records)
    with progress_bar("verifying records", total=len(targets), enabled=False if len(targets) < 10 else None) as bar:
        for shown, d in targets:
            report.records.append(verifier.verify(d, shown=shown, reruns=reruns))
            bar.advance()
    report.ruleset = verifier.ruleset_used(report.records)
    return report



def _not_a_record_path(path: Path) -> str | None:
    """Why a path given on the command line cannot hold record folders, or None."""
    try:
        if not path.exists():
            return "no such file or folder"
        if not path.is_dir():
            return "not a folder (give a record folder or a folder of record folders)"
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    return None


def bad_inputs(report: Report) -> list[str]:
    """The messages of the report's entries for paths that are not record folders (bad input, exit status 2)."""
    return [f.message for record in report.records for f in record.findings if f.code == "G099"]


def exit_status(report: Report) -> int:
    """The worst of the batch: 2 when a path given is not a record folder, else 1 when a record fails, else 0."""
    if bad_inputs(report):
        return 2
    return 0 if report.passed else 1


def _one_cause(findings: list, ctx) -> list:
    """A rerun seed that crashed is reported once, by the rerun rules (G801, G802, with its first error);
    what follows from the crash (no score line, no size, no time in its log) is not reported again."""
    failed = {r.log for r in ctx.runs if r.rerun is not None
              and (r.rerun.timed_out or r.rerun.returncode not in (0, None))}
    if not failed:
        return findings
    rerun_codes = {f.code for f in findings if f.code.startswith("G8")}
    # With no run left to score, "no score" is the crash again, not a question of score labels.
    consequences = {"G201"} if all(r.log in failed for r in ctx.runs) else set()
    return [f for f in findings if f.code in rerun_codes or (f.file not in failed and f.code not in consequences)]

class Verifier:
    """Verifies records against one ruleset; remembers what it learnt about each folder (for SOTA lookups)."""

    def __init__(self, *, judging=None, ruleset=None, sota=None, sota_record=None, select=None, ignore=None,
                 records_root=None, curves=False, config=None, pool_runs=()):
        """Judge by `judging` (golf.judge.judging.Judging); without one, by the settings given here merged
        with `config` (a golf.read.config.Config) the way every command merges them."""
        if judging is None:
            from golf.judge.judging import judging as build

            judging = build(ruleset=ruleset, sota=sota, sota_record=sota_record, select=select, ignore=ignore,
                            records_root=records_root, config=config, pool_runs=pool_runs)
        self.judging = judging
        self.curves = curves  # read each run's train_loss and val_bpb curves for the report's pictures
        self.config = judging.config   # golf.read.config.Config | None: named in the report
        # A fixed ruleset judges every record; otherwise each record is judged by the ruleset in force
        # on its date, and `self.ruleset` is the default one (for labels and reruns).
        self.forced_ruleset = judging.ruleset
        self.ruleset = judging.default_ruleset
        self.selection = select_rules(judging.select, judging.ignore)
        self.rules: list[Rule] = self.selection.rules
        self.sota_value = _as_float(judging.sota, "--sota") if judging.sota is not None else None
        self.sota_record = judging.sota_record
        self.records_root = judging.records_root
        self.pool_runs = judging.pool_runs  # folders of reproduction logs for the record verified
        self._scores: dict[Path, Known] = {}
        self._verdicts: dict[Path, Known] = {}   # read for the frontier's verdict only (record_scores)
        self._records: dict = {}                   # folder -> golf.read.records.Record, read once
        self._frontiers: dict = {}
        self._copy_indexes: dict = {}

    @property
    def ruleset_label(self) -> str:
        if self.forced_ruleset is None:
            return f"by record date (default {self.ruleset.name} {self.ruleset.version})"
        return f"{self.ruleset.name} {self.ruleset.version}"

    def ruleset_used(self, records) -> str:
        """The rulesets that judged these records, named (a summary must not name one that judged nothing)."""
        if self.forced_ruleset is not None:
            return self.ruleset_label
        counts: dict[str, int] = {}
        for record in records:
            used = record.stats.get("ruleset") if isinstance(record.stats, dict) else None
            if used:
                name = f"{used['name']} {used['version']}"
                counts[name] = counts.get(name, 0) + 1
        if not counts:
            return self.ruleset_label
        if len(counts) == 1:
            return f"by record date: {next(iter(counts))}"
        return "by record date: " + ", ".join(f"{name} ({n} record{'s' if n != 1 else ''})"
                                                for name, n in sorted(counts.items()))

    def ruleset_of(self, root: Path):
        """The ruleset that judges the record folder `root` (a rerun is planned and scored by it)."""
        from golf.read.records import load_record

        return self.choose_ruleset(load_record(root), Path(root))[0]

    def choose_ruleset(self, record, root: Path):
        """The ruleset that judges this record, and why."""
        return self.judging.ruleset_for(record_date(record, root))

    def new_report(self, records=()) -> Report:
        """An empty report that names the ruleset and the rules this verifier selected and ignored."""
        from golf.judge.findings import get_rule

        ignored = [{"code": code, "name": get_rule(code).name} for code in self.selection.ignored]
        waivers = []
        base = self.config.base if self.config is not None else None
        for record, rules in sorted(self.judging.waivers.items()):
            shown_record = rel(record, base) if base else str(record)
            waivers += [{"record": shown_record, "code": code, "reason": reason} for code, reason in rules.items()]
        return Report(golf_version=__version__, ruleset=self.ruleset_used(records), records=list(records),
                      selected=self.selection.selected, ignored=ignored, waivers=waivers,
                      config=str(self.config.path) if self.config is not None and self.config.path else None)

    # ---- one record -------------------------------------------------------

    def verify(self, path, *, shown: str | None = None, reruns=None) -> RecordReport:
        return self.judge(path, shown=shown, reruns=reruns)[1]

    def judge(self, path, *, shown: str | None = None, reruns=None, submission=None):
        """(facts, report) of one record folder; facts is None when the folder could not be read.

        `submission` (a golf.read.records.Submission) stands in for the folder's submission.json.
        """
        shown = str(path) if shown is None else shown
        root = Path(path)
        if not root.is_dir():
            raise GolfError(f"{path}: not a record folder")
        try:
            ctx = self.context(root, shown, reruns=reruns, submission=submission, pool_dirs=self.pool_runs)
            ctx.copies = self.copies(ctx)
            self.add_significance(ctx)
        except SotaError:
            raise  # a bad --sota-record is a usage error, not a finding about this folder
        except GolfError as error:
            return None, RecordReport(path=shown, findings=[emit("G100", str(error))])
        except Exception as error:  # a bug in golf must not stop the other folders from being reported
            return None, RecordReport(path=shown, findings=[emit("G000", f"golf failed on this folder: "
                                                                         f"{where_of(error)}")])
        findings = _one_cause(run_rules(ctx, self.rules), ctx)
        findings, waived = self.apply_waivers(root, findings)
        findings, fixes = set_paperwork_aside(findings, ctx.ruleset)
        if reruns is None and submission is None:
            # Remember this folder's scores: a later record of the same track may take it as SOTA.
            errors = blocking(findings, allow=("significance",))
            self._scores.setdefault(root.resolve(), _known(ctx, errors))
        report = RecordReport(path=shown, track=ctx.track.name if ctx.track else None,
                              date=record_date(ctx.record, ctx.root),
                              runs=[_row(r) for r in ctx.runs], summary=_summary(ctx),
                              findings=findings, stats=_stats(ctx), rerun=bool(reruns),
                              reproduction=_reproduction(ctx) if reruns else [],
                              curves=_curves(ctx) if self.curves else [], waived=waived, fixes=fixes)
        return ctx, report

    def apply_waivers(self, root: Path, findings: list) -> tuple[list, list[dict[str, Any]]]:
        """Set aside the findings of the rules waived for this record, keeping each with its reason."""
        waivers = self.judging.waivers_for(root)
        if not waivers:
            return findings, []
        kept = [f for f in findings if f.code not in waivers]
        waived = [dict(f.to_dict(), reason=waivers[f.code]) for f in findings if f.code in waivers]
        return kept, waived

    def context(self, root: Path, shown: str, *, reruns=None, submission=None, pool_dirs=(),
                verdict_only: bool = False, pack: bool = True) -> RecordContext:
        pool_dirs = (*pool_dirs, *self.judging.reproductions_for(root))   # named in the configuration, too
        # A submission standing in for submission.json changes the record read: that one is read afresh.
        record = self.load(root) if submission is None else None
        return build_context(root, self.ruleset, shown=shown, reruns=reruns, submission=submission,
                             choose_ruleset=self.choose_ruleset, pool_dirs=pool_dirs, verdict_only=verdict_only,
                             pack=pack, record=record)

    # ---- significance -----------------------------------------------------

    def add_significance(self, ctx: RecordContext) -> None:
        if not ctx.is_record_track:
            ctx.significance_skip = (f"track {ctx.track.name} is not a record track" if ctx.track
                                     else "the record's track is unknown")
            return
        counted = ctx.counted
        if len(counted) == 0:
            ctx.significance_skip = "no scored run"
            return
        ctx.sota, ctx.sota_problem = self.find_sota(ctx)
        if ctx.sota is None and self.sota_value is None and self.sota_record is None:
            from golf.judge.frontier import has_earlier

            mine = record_date(ctx.record, ctx.root)
            # nothing to beat: no earlier record in the tree, or no date to find one by
            ctx.first_of_track = mine is None or not has_earlier(self._track_dir(ctx), mine, ctx.root)
        if ctx.sota is None:
            ctx.significance_skip = ctx.sota_problem or "no SOTA to compare with"
            return
        policy = ctx.ruleset.significance
        tested = [*counted, *pooled_in_test(ctx)]
        if len(tested) < policy.min_runs:
            ctx.significance_skip = f"{len(tested)} scored run(s), fewer than the {policy.min_runs} a t test needs"
            return
        from golf.judge.stats import loss_ratio, significance

        values = [r.val_bpb for r in tested]
        ratio = loss_ratio([r.val_loss for r in tested], values)
        sota_values = ctx.sota.values if ctx.sota.values and len(ctx.sota.values) >= 2 else None
        ctx.significance = significance(values, ctx.sota.value, policy.delta, policy.unit, policy.alpha,
                                        ratio=ratio, sota_values=sota_values, gate=policy.gate)
        if policy.also_report:
            from golf.judge.judging import ruleset_named

            other = ruleset_named(policy.also_report)
            o = other.significance
            ctx.other_significance = (other.label, significance(
                values, ctx.sota.value, o.delta, o.unit, o.alpha, ratio=ratio, sota_values=sota_values, gate=o.gate))

    def find_sota(self, ctx: RecordContext) -> tuple[Sota | None, str | None]:
        if self.sota_value is not None:
            return Sota(self.sota_value, None, "--sota"), None
        if self.sota_record is not None:
            if not self.sota_record.is_dir():
                raise SotaError(f"{self.sota_record}: --sota-record is not a folder")
            known = self.record_scores(self.sota_record)
            values = known.values
            if not values:
                raise SotaError(f"{self.sota_record}: --sota-record has no scored run to compare with")
            return Sota(sum(values) / len(values), values, f"--sota-record {self.sota_record}",
                        str(self.sota_record), known.tokenizers, known.val_tokens), None
        if ctx.ruleset.significance.reference == "frontier":
            return self.frontier_sota(ctx)
        return self.auto_sota(ctx)

    def copies(self, ctx: RecordContext) -> list:
        """This record's logs that are copies of logs in other records of the records tree."""
        from golf.judge.copies import copies_in, grow_index, start_index

        tree = self._tree(ctx)
        key = tree.resolve()
        if key not in self._copy_indexes:
            self._copy_indexes[key] = start_index(tree)
        # Only records dated the same day or earlier can be the original of this one's logs.
        grow_index(self._copy_indexes[key], record_date(ctx.record, ctx.root), self.load)
        return copies_in(ctx, self._copy_indexes[key])

    def load(self, root: Path):
        """The record folder read (golf.read.records.load_record), once per verifier."""
        from golf.read.records import load_record

        key = Path(root).resolve()
        if key not in self._records:
            self._records[key] = load_record(root)
        return self._records[key]

    def _tree(self, ctx: RecordContext) -> Path:
        """The records tree around a record: --records-root, else records/ above its track folder."""
        if self.records_root is not None:
            return self.records_root
        track_dir = ctx.root.parent
        return track_dir.parent if ctx.ruleset.find_track(track_dir.name) is not None else track_dir

    def frontier(self, track_dir: Path, ruleset, until: str | None = None):
        """The chronological frontier of a track folder under a ruleset, judged as far as `until` (a date:
        the rows before it; None: every row), grown on demand and remembered. Its records are judged only
        for their verdict and scores (see `record_scores`)."""
        from golf.judge.frontier import grow, start_frontier

        key = (track_dir.resolve(), ruleset.label)
        if key not in self._frontiers:
            self._frontiers[key] = start_frontier(track_dir, ruleset)
        grow(self._frontiers[key], self, ruleset, until=until, verdict_only=True)
        return self._frontiers[key]

    def frontier_sota(self, ctx: RecordContext) -> tuple[Sota | None, str | None]:
        """The previous row of the chronological frontier of the record's track."""
        mine = record_date(ctx.record, ctx.root)
        if mine is None:
            return None, "the record's date is unknown, so no frontier row can be chosen as SOTA"
        track_dir = self._track_dir(ctx)
        row = self.frontier(track_dir, ctx.ruleset, until=mine).before(mine, exclude=ctx.root)
        if row is None:
            return None, f"no frontier row dated before {mine} in {track_dir}"
        known = self.record_scores(row.path, verdict_only=True)
        source = f"previous frontier row {row.name} ({row.date}, mean of {len(row.values)} run(s))"
        return Sota(row.mean, list(row.values), source, str(row.path), known.tokenizers, known.val_tokens), None

    def _track_dir(self, ctx: RecordContext) -> Path:
        track_dir = ctx.root.parent
        if self.records_root is not None and (self.records_root / track_dir.name).is_dir():
            track_dir = self.records_root / track_dir.name
        return track_dir

    def auto_sota(self, ctx: RecordContext) -> tuple[Sota | None, str | None]:
        """The best earlier record of the same track in the same records tree: passing ones first."""
        from golf.judge.frontier import valid

        mine = record_date(ctx.record, ctx.root)
        if mine is None:
            return None, "the record's date is unknown, so no earlier record can be chosen as SOTA"
        track_dir = self._track_dir(ctx)
        candidates = []
        try:
            entries = sorted(p for p in track_dir.iterdir() if p.is_dir() and not p.is_symlink())
        except OSError:
            entries = []
        for other in entries:
            if other.resolve() == ctx.root.resolve():
                continue
            date = date_from_name(other.name)
            if date is None or date >= mine:
                continue
            known = self.record_scores(other)
            if known.values and known.track == (ctx.track.name if ctx.track else None):
                # valid rows first: as on the frontier, what submission.json states does not unseat a record
                candidates.append((not valid(known), sum(known.values) / len(known.values), other, known))
        if not candidates:
            return None, f"no earlier record with a score in {track_dir}"
        candidates.sort(key=lambda c: (c[0], c[1]))
        _, mean, other, known = candidates[0]
        note = ("passes static verification" if known.passing
                else "valid apart from its claims" if valid(known)
                else "does not pass static verification; best parseable score")
        source = f"best earlier record {other.name} (mean of {len(known.values)} run(s); {note})"
        return Sota(mean, known.values, source, str(other), known.tokenizers, known.val_tokens), None

    def record_scores(self, root: Path, *, verdict_only: bool = False) -> "Known":
        """What a SOTA lookup needs of another record: static verdict (significance aside), scores, tokenizers.

        `verdict_only` (the frontier's rows) spares what cannot change whether the record is valid: its
        script is packed only where that can change the verdict (no other error rules the record out, and the
        shipped bytes do not fit the cap), so a claim about the packed size may be read differently; such a
        reading is kept apart from the full one."""
        key = root.resolve()
        if key in self._scores:
            return self._scores[key]
        remembered = self._verdicts if verdict_only else self._scores
        if key not in remembered:
            try:
                remembered[key] = self._scores_of(root, verdict_only)
            except GolfError as error:
                remembered[key] = Known(False, [], set(), None, {}, str(error))
        return remembered[key]

    def _scores_of(self, root: Path, verdict_only: bool) -> "Known":
        if verdict_only:
            # Packing a script costs a second or two and can only lift G301 (size-over-cap): a record with another
            # error is settled without it, and named without the undecided G301.
            ctx, errors = self._errors(root, verdict_only=True, pack=False)
            settled = [f for f in errors if f.code != "G301"]
            if settled or not errors:
                return _known(ctx, settled)
        ctx, errors = self._errors(root, verdict_only=verdict_only)
        return _known(ctx, errors)

    def _errors(self, root: Path, *, verdict_only: bool, pack: bool = True) -> tuple[RecordContext, list]:
        """The record's context and the error findings that decide its verdict, significance aside."""
        ctx = self.context(root, str(root), verdict_only=verdict_only, pack=pack)
        rules = [r for r in self.rules if r.group != "significance"]
        findings, _ = self.apply_waivers(root, run_rules(ctx, rules))
        findings, _ = set_paperwork_aside(findings, ctx.ruleset)
        return ctx, [f for f in findings if f.severity == "error"]


@dataclass(frozen=True)
class Known:
    passing: bool
    values: list[float]
    tokenizers: set[str]
    track: str | None
    val_tokens: dict[str, set[int]]
    reason: str | None = None       # the blocking findings, when not passing
    errors: tuple = ()              # (code, group) of each blocking finding
    scripts_removed: bool = False   # a copy whose scripts were cut out (SOURCE_OMITTED.json)
    losses: tuple = ()              # val_loss of the same runs (for the nats reading of a margin)
    pooled: tuple = ()              # val_bpb of the reproductions its significance test pools


def _known(ctx: RecordContext, errors: list) -> Known:
    """What a SOTA lookup keeps of a judged record: it passes when no error blocks it."""
    from golf.judge.facts import SOURCE_OMITTED

    reason = ", ".join(sorted({f"{f.code} {f.name}" for f in errors})) or None
    return Known(not errors, [r.val_bpb for r in ctx.counted], tokenizers_of(ctx.counted),
                 ctx.track.name if ctx.track else None, val_tokens_by_tokenizer(ctx.counted), reason,
                 tuple((f.code, f.group) for f in errors), (ctx.root / SOURCE_OMITTED).is_file(),
                 tuple(r.val_loss for r in ctx.counted), tuple(r.val_bpb for r in pooled_in_test(ctx)))


# ---- helpers --------------------------------------------------------------

def set_paperwork_aside(findings: list, ruleset) -> tuple[list, list[dict[str, Any]]]:
    """The findings that decide the verdict, and the paperwork the ruleset reports as fixes instead (each with
    its fix): a claim off below the shown precision, a README's name, a seed label (issue 19: the
    maintainers accepted such rows and fixed the paperwork)."""
    from golf.judge.findings import PAPERWORK

    unknown = sorted(set(ruleset.paperwork) - set(PAPERWORK))
    if unknown:
        raise GolfError(f"ruleset {ruleset.name}: unknown kind(s) of paperwork {', '.join(unknown)} "
                        f"(known: {', '.join(sorted(PAPERWORK))})")
    kept, fixes = [], []
    for f in findings:
        if f.paperwork is not None and f.paperwork in ruleset.paperwork:
            fixes.append(dict(f.to_dict(), fix=PAPERWORK[f.paperwork]))
        else:
            kept.append(f)
    return kept, fixes


def where_of(error: BaseException) -> str:
    """`Type: message (file:line)` of the innermost frame, for an internal-error finding."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    place = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{place}"


def _as_float(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GolfError(f"{what}: not a number: {value!r}") from None
    if not finite(number) or number <= 0:
        raise GolfError(f"{what}: must be a positive finite number, not {value!r}")
    return number


def _row(f: RunFacts) -> RunRow:
    return RunRow(log=f.log, seed=f.seed, label=f.score.label if f.score else None, val_bpb=f.val_bpb,
                  val_loss=f.val_loss, bytes_total=f.bytes_total, bytes_code=f.bytes_code,
                  bytes_model=f.bytes_model, size_basis=f.size_basis, train_time_ms=f.train_time_ms,
                  eval_time_ms=f.eval_time_ms, duplicate_of=f.duplicate_of)


def _summary(ctx: RecordContext) -> Summary:
    agg = summarise(ctx.runs)
    return Summary(n_runs=agg.n_runs, val_bpb_mean=agg.val_bpb_mean, val_bpb_std=agg.val_bpb_std,
                   val_loss_mean=agg.val_loss_mean, val_loss_std=agg.val_loss_std,
                   bytes_total_max=agg.bytes_total_max)


def _curves(ctx: RecordContext) -> list:
    from golf.judge.report import RunCurves
    from golf.read.curves import read_curves

    out = []
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None:
            continue
        path = Path(r.rerun.log_path) if r.rerun is not None and r.rerun.log_path else ctx.root / r.log
        curves = read_curves(path)
        out.append(RunCurves(log=r.log, seed=r.seed, train_loss=curves.train_loss, val_bpb=curves.val_bpb))
    return out


def _reproduction(ctx: RecordContext) -> list:
    """Each rerun seed beside the shipped log of the same seed."""
    from golf.judge.report import Reproduced

    rows = []
    for r in ctx.runs:
        result = r.rerun
        if result is None:
            continue
        claimed = next((s for s in ctx.static_runs if s.counted and (s.seed == r.seed or r.seed in
                                                                      s.seed_sources.values())), None)
        status = "timed out" if result.timed_out else ("ok" if r.counted else "failed")
        rows.append(Reproduced(seed=r.seed, status=status,
                               claimed_val_bpb=claimed.val_bpb if claimed else None, val_bpb=r.val_bpb,
                               claimed_bytes_total=claimed.bytes_total if claimed else None,
                               bytes_total=r.bytes_total,
                               claimed_train_time_ms=claimed.train_time_ms if claimed else None,
                               train_time_ms=r.train_time_ms))
    return rows


def _stats(ctx: RecordContext) -> dict[str, Any]:
    stats: dict[str, Any] = {"track": ctx.track.name if ctx.track else None, "track_source": ctx.track_source,
                             "ruleset": {"name": ctx.ruleset.name, "version": ctx.ruleset.version,
                                         "applies_from": ctx.ruleset.applies_from, "reason": ctx.ruleset_reason}}
    if ctx.script_size is not None:
        stats["script"] = {"file": ctx.script_name, "bytes": ctx.script_size, "sha256": ctx.script_sha256}
    stats["code_bytes_policy"] = ctx.ruleset.code_bytes_policy.policy
    if ctx.code_count is not None:
        stats["code_bytes"] = ctx.code_count.to_dict()
    if ctx.sota is not None:
        stats["sota"] = {"value": ctx.sota.value, "values": ctx.sota.values, "source": ctx.sota.source,
                         "path": ctx.sota.path,
                         "reference": ctx.ruleset.significance.reference if ctx.sota.path and
                         ctx.sota.source.startswith(("previous frontier row", "best earlier record")) else "given"}
    if ctx.pooled:
        stats["pooled"] = {"allowed": ctx.ruleset.significance.pool_reproductions,
                           "runs": [p.to_dict() for p in ctx.pooled]}
    if ctx.significance is not None:
        stats["significance"] = ctx.significance.to_dict()
    else:
        stats["significance"] = {"applicable": False, "reason": ctx.significance_skip}
    if ctx.other_significance is not None:
        label, other = ctx.other_significance
        stats["significance_other"] = dict(other.to_dict(), ruleset=label)
    return stats


__all__ = ["Verifier", "bad_inputs", "exit_status", "verify_paths", "verify_record"]

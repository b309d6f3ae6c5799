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
from golf.judge.facts import (RecordContext, RunFacts, Sota, build_context, date_from_name, finite, record_date,
                              rel, summarise, tokenizers_of, val_tokens_by_tokenizer)
from golf.errors import GolfError
from golf.judge.report import RecordReport, Report, RunRow, Summary



class SotaError(GolfError):
    """The SOTA given on the command line cannot be used."""


def verify_record(path, *, ruleset=None, sota=None, sota_record=None, select=None, ignore=None,
                  records_root=None, reruns=None) -> RecordReport:
    """Verify one record folder (static checks; rerun checks too when `reruns` are given)."""
    verifier = Verifier(ruleset=ruleset, sota=sota, sota_record=sota_record, select=select, ignore=ignore,
                        records_root=records_root)
    return verifier.verify(path, reruns=reruns)


def verify_paths(paths: Iterable, *, ruleset=None, sota=None, sota_record=None, select=None, ignore=None,
                 records_root=None, reruns=None) -> Report:
    """Verify every record folder under `paths` (each a record folder or a folder of record folders)."""
    from golf.progress import progress_bar
    from golf.read.records import find_record_dirs

    verifier = Verifier(ruleset=ruleset, sota=sota, sota_record=sota_record, select=select, ignore=ignore,
                        records_root=records_root)
    targets: list[tuple[str, Path]] = []
    blocked: list[tuple[str, str]] = []   # folders that could not be listed, reported beside the others
    for given in paths:
        base = Path(given)
        if not base.exists():
            raise GolfError(f"{given}: no such file or folder")
        if not base.is_dir():
            raise GolfError(f"{given}: not a folder (give a record folder or a folder of record folders)")
        unreadable: list[tuple[Path, str]] = []
        dirs = find_record_dirs(base, unreadable)
        for folder, reason in unreadable:
            blocked.append((os.path.join(str(given), rel(folder, base)), f"{folder}: cannot list the folder: {reason}"))
        if not dirs and not unreadable:
            raise GolfError(f"{given}: no record folder found (a record folder holds a README, a submission "
                            "JSON, a script or logs)")
        for d in dirs:
            shown = str(given) if Path(d).resolve() == base.resolve() else os.path.join(str(given), rel(d, base))
            targets.append((shown, Path(d)))
    report = verifier.new_report()
    report.records.extend(RecordReport(path=shown, findings=[emit("G100", reason)]) for shown, reason in blocked)
    with progress_bar("verifying records", total=len(targets), enabled=False if len(targets) < 10 else None) as bar:
        for shown, d in targets:
            report.records.append(verifier.verify(d, shown=shown, reruns=reruns))
            bar.advance()
    return report


class Verifier:
    """Verifies records against one ruleset; remembers what it learnt about each folder (for SOTA lookups)."""

    def __init__(self, *, ruleset=None, sota=None, sota_record=None, select=None, ignore=None, records_root=None):
        from golf.rules import load_ruleset

        self.ruleset = ruleset if hasattr(ruleset, "tracks") else load_ruleset(ruleset)
        self.selection = select_rules(select, ignore)
        self.rules: list[Rule] = self.selection.rules
        if sota is not None and sota_record is not None:
            raise GolfError("give either --sota or --sota-record, not both")
        self.sota_value = _as_float(sota, "--sota") if sota is not None else None
        self.sota_record = Path(sota_record) if sota_record is not None else None
        self.records_root = Path(records_root) if records_root is not None else None
        self._scores: dict[Path, Known] = {}

    @property
    def ruleset_label(self) -> str:
        return f"{self.ruleset.name} {self.ruleset.version}"

    def new_report(self, records=()) -> Report:
        """An empty report that names the ruleset and the rules this verifier selected and ignored."""
        from golf.judge.findings import get_rule

        ignored = [{"code": code, "name": get_rule(code).name} for code in self.selection.ignored]
        return Report(golf_version=__version__, ruleset=self.ruleset_label, records=list(records),
                      selected=self.selection.selected, ignored=ignored)

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
            ctx = self.context(root, shown, reruns=reruns, submission=submission)
            self.add_significance(ctx)
        except SotaError:
            raise  # a bad --sota-record is a usage error, not a finding about this folder
        except GolfError as error:
            return None, RecordReport(path=shown, findings=[emit("G100", str(error))])
        except Exception as error:  # a bug in golf must not stop the other folders from being reported
            return None, RecordReport(path=shown, findings=[emit("G000", f"golf failed on this folder: "
                                                                         f"{where_of(error)}")])
        findings = run_rules(ctx, self.rules)
        if reruns is None and submission is None:
            # Remember this folder's scores: a later record of the same track may take it as SOTA.
            passing = not blocking(findings, allow=("significance",))
            self._scores.setdefault(root.resolve(), _known(ctx, passing))
        report = RecordReport(path=shown, track=ctx.track.name if ctx.track else None,
                              date=record_date(ctx.record, ctx.root),
                              runs=[_row(r) for r in ctx.runs], summary=_summary(ctx),
                              findings=findings, stats=_stats(ctx), rerun=bool(reruns))
        return ctx, report

    def context(self, root: Path, shown: str, *, reruns=None, submission=None) -> RecordContext:
        return build_context(root, self.ruleset, shown=shown, reruns=reruns, submission=submission)

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
        if ctx.sota is None:
            ctx.significance_skip = ctx.sota_problem or "no SOTA to compare with"
            return
        policy = self.ruleset.significance
        if len(counted) < policy.min_runs:
            ctx.significance_skip = f"{len(counted)} scored run(s), fewer than the {policy.min_runs} a t test needs"
            return
        from golf.judge.stats import significance

        values = [r.val_bpb for r in counted]
        losses = [r.val_loss for r in counted]
        ratio = None
        if all(finite(v) for v in losses) and all(finite(v) and v > 0 for v in values):
            ratio = (sum(losses) / len(losses)) / (sum(values) / len(values))
        sota_values = ctx.sota.values if ctx.sota.values and len(ctx.sota.values) >= 2 else None
        ctx.significance = significance(values, ctx.sota.value, policy.delta, policy.unit, policy.alpha,
                                        ratio=ratio, sota_values=sota_values, gate=policy.gate)

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
        return self.auto_sota(ctx)

    def auto_sota(self, ctx: RecordContext) -> tuple[Sota | None, str | None]:
        """The best earlier record of the same track in the same records tree: passing ones first."""
        mine = record_date(ctx.record, ctx.root)
        if mine is None:
            return None, "the record's date is unknown, so no earlier record can be chosen as SOTA"
        track_dir = ctx.root.parent
        if self.records_root is not None and (self.records_root / track_dir.name).is_dir():
            track_dir = self.records_root / track_dir.name
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
                candidates.append((not known.passing, sum(known.values) / len(known.values), other, known))
        if not candidates:
            return None, f"no earlier record with a score in {track_dir}"
        candidates.sort(key=lambda c: (c[0], c[1]))
        _, mean, other, known = candidates[0]
        note = ("passes static verification" if known.passing
                else "does not pass static verification; best parseable score")
        source = f"best earlier record {other.name} (mean of {len(known.values)} run(s); {note})"
        return Sota(mean, known.values, source, str(other), known.tokenizers, known.val_tokens), None

    def record_scores(self, root: Path) -> "Known":
        """What a SOTA lookup needs of another record: static verdict (significance aside), scores, tokenizers."""
        key = root.resolve()
        if key not in self._scores:
            try:
                ctx = self.context(root, str(root))
                rules = [r for r in self.rules if r.group != "significance"]
                findings = run_rules(ctx, rules)
                self._scores[key] = _known(ctx, not any(f.severity == "error" for f in findings))
            except GolfError:
                self._scores[key] = Known(False, [], set(), None, {})
        return self._scores[key]


@dataclass(frozen=True)
class Known:
    passing: bool
    values: list[float]
    tokenizers: set[str]
    track: str | None
    val_tokens: dict[str, set[int]]


def _known(ctx: RecordContext, passing: bool) -> Known:
    return Known(passing, [r.val_bpb for r in ctx.counted], tokenizers_of(ctx.counted),
                 ctx.track.name if ctx.track else None, val_tokens_by_tokenizer(ctx.counted))


# ---- helpers --------------------------------------------------------------

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


def _stats(ctx: RecordContext) -> dict[str, Any]:
    stats: dict[str, Any] = {"track": ctx.track.name if ctx.track else None, "track_source": ctx.track_source}
    if ctx.script_size is not None:
        stats["script"] = {"file": ctx.script_name, "bytes": ctx.script_size, "sha256": ctx.script_sha256}
    stats["code_bytes_policy"] = ctx.ruleset.code_bytes_policy.policy
    if ctx.sota is not None:
        stats["sota"] = {"value": ctx.sota.value, "values": ctx.sota.values, "source": ctx.sota.source,
                         "path": ctx.sota.path}
    if ctx.significance is not None:
        stats["significance"] = ctx.significance.to_dict()
    else:
        stats["significance"] = {"applicable": False, "reason": ctx.significance_skip}
    return stats


__all__ = ["Verifier", "verify_paths", "verify_record"]

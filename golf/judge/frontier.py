"""The chronological frontier of a track: the leaderboard as the maintainers built it (spec 4.4).

Records are taken in date order (then by folder name). The first valid record is the first
row; each later record joins when it is valid (passes static verification, significance
aside) and beats the previous row under the ruleset's significance policy (in practice:
one-sided Welch on the per-run val_bpb, p < 0.25, no margin; a one-sample test against the
previous row's value when that row has a single run). Every other record is kept with the
reason it was left out. A new record's SOTA is the last row dated before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path



@dataclass
class Row:
    """One record of the track, in the frontier or left out of it."""

    path: Path
    date: str
    values: list[float]
    pooled: list[float] = field(default_factory=list)  # reproductions its own test pooled (never its mean)
    test: object = None             # golf.judge.stats.TestResult against the previous row, when one ran
    against: str | None = None      # folder name of the previous row it was tested against
    reason: str | None = None       # why it is not a frontier row
    waiver: str | None = None       # the written reason a failed test was waived (G703, e.g. a systems-only change)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None

    def to_dict(self) -> dict:
        test = self.test
        return {"record": self.name, "path": str(self.path), "date": self.date, "n": len(self.values),
                "pooled": len(self.pooled), "mean": self.mean, "against": self.against,
                "test": None if test is None else {"test": test.test, "t": test.t, "df": test.df, "p": test.p,
                                                     "alpha": test.alpha, "passed": test.passed,
                                                     "reason": test.reason},
                "reason": self.reason, "waiver": self.waiver}


@dataclass
class Frontier:
    track_dir: Path
    ruleset: str
    rows: list[Row] = field(default_factory=list)
    excluded: list[Row] = field(default_factory=list)
    pending: list = field(default_factory=list, repr=False)  # (date, folder) of records not judged yet

    def before(self, date: str, exclude: Path | None = None) -> Row | None:
        """The last frontier row dated strictly before `date` (never the record itself)."""
        earlier = [r for r in self.rows if r.date < date
                   and (exclude is None or r.path.resolve() != exclude.resolve())]
        return earlier[-1] if earlier else None

    def to_dict(self) -> dict:
        return {"track_dir": str(self.track_dir), "ruleset": self.ruleset,
                "rows": [r.to_dict() for r in self.rows], "excluded": [r.to_dict() for r in self.excluded]}


def folder_date(path: Path) -> str | None:
    """The date of a record folder from its name alone (golf.judge.facts.record_date without the record)."""
    from golf.judge.facts import record_date

    return record_date(None, path)


# Errors that do not take a record off the frontier: submission.json's own statements (rounded or
# stale claims; the rows are judged on their logs), and, in a copy whose scripts were cut out
# (SOURCE_OMITTED.json, e.g. golf's corpus), the missing script.
_NOT_EXCLUDING_GROUPS = ("claim", "significance")
_MISSING_SCRIPT = "G104"
_NOT_SIGNIFICANT = "G703"   # waived for a record, it joins the frontier whatever its test (systems-only changes)


def valid(known) -> bool:
    """Whether a record judged statically can be a frontier row."""
    if known.passing:
        return True
    if not known.errors:
        return False
    return all(group in _NOT_EXCLUDING_GROUPS or (code == _MISSING_SCRIPT and known.scripts_removed)
               for code, group in known.errors)


def has_earlier(track_dir: Path, date: str, exclude: Path) -> bool:
    """Whether any other record folder of the track is dated before `date`."""
    try:
        folders = [p for p in Path(track_dir).iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return False
    return any((folder_date(p) or "9999") < date and p.resolve() != exclude.resolve() for p in folders)


def progression(values: list[float], previous: list[float], policy, losses=()):
    """The test of `values` against the previous frontier row under a significance policy
    (`losses`, the same runs' val_loss, convert a margin in nats to bpb)."""
    from golf.judge.stats import loss_ratio, significance

    reference = sum(previous) / len(previous)
    ratio = loss_ratio(losses, values)
    sig = significance(values, reference, policy.delta, policy.unit, policy.alpha, ratio=ratio,
                       sota_values=previous if len(previous) >= 2 else None, gate=policy.gate)
    return sig.gating


def build_frontier(verifier, track_dir: Path, ruleset, *, until: str | None = None,
                   verdict_only: bool = False) -> Frontier:
    """The frontier of the records in `track_dir`, judged by `verifier`, tested under `ruleset`: every
    record, or (`until`) only those dated before that date, which is all `before(until)` needs.
    `verdict_only` asks the verifier for no more of each record than whether it is valid, and its scores."""
    frontier = start_frontier(track_dir, ruleset)
    grow(frontier, verifier, ruleset, until=until, verdict_only=verdict_only)
    return frontier


def start_frontier(track_dir: Path, ruleset) -> Frontier:
    """A frontier with no row judged yet: its dated record folders wait in date order (then by name)."""
    frontier = Frontier(Path(track_dir), ruleset.label)
    try:
        folders = [p for p in Path(track_dir).iterdir() if p.is_dir() and not p.is_symlink()]
    except OSError:
        return frontier
    frontier.pending = sorted(((folder_date(p), p) for p in folders if folder_date(p)),
                              key=lambda item: (item[0], item[1].name))
    return frontier


def grow(frontier: Frontier, verifier, ruleset, *, until: str | None = None, verdict_only: bool = False) -> None:
    """Judge the waiting records in date order: all of them, or those dated before `until`."""
    policy = ruleset.significance
    while frontier.pending and (until is None or frontier.pending[0][0] < until):
        date, path = frontier.pending.pop(0)
        known = verifier.record_scores(path, verdict_only=verdict_only)
        row = Row(path, date, list(known.values), list(known.pooled))
        if not known.values:
            row.reason = "no scored run"
        elif not valid(known):
            row.reason = f"not valid: {known.reason or 'fails static verification'}"
        elif frontier.rows:
            previous = frontier.rows[-1]
            row.against = previous.name
            row.test = progression(row.values + row.pooled, previous.values, policy,
                                   known.losses if not row.pooled else ())
            waiver = verifier.judging.waivers_for(path).get(_NOT_SIGNIFICANT)
            if row.test.passed is None:
                row.reason = f"no test against {previous.name}: {row.test.reason}"
            elif not row.test.passed:
                row.reason = (f"not a frontier progression over {previous.name} "
                              f"({row.test.test} p={row.test.p:.4g}, alpha {policy.alpha:g})")
            if row.reason and waiver:
                row.reason, row.waiver = None, waiver
        (frontier.excluded if row.reason else frontier.rows).append(row)


__all__ = ["Frontier", "Row", "build_frontier", "folder_date", "grow", "progression", "start_frontier"]

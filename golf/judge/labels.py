"""Which score lines are a run's score: each label read by the grammar (golf.read.labels), its
evaluation mode placed in one of the ruleset's classes ([labels] classes, [labels.modes]).

A label is, for the ruleset, one of:
- a class (`ttt`, `sliding`, `roundtrip`): a score; the run's score is a line of its best class;
- `excluded` (a [labels] excluded glob) or a grammar kind that is never a score (`step`,
  `diagnostic`, `prequant`, `progress`);
- `flagged` ([labels.flagged]): recognised, never chosen silently (G210);
- `unplaced`: a score line whose mode no class holds (G209 names the parts golf did read).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fnmatch import fnmatchcase

from golf.read.labels import LabelParts, read_label

NEVER_SCORED = ("excluded", "step", "diagnostic", "prequant", "progress")


@dataclass(frozen=True)
class Placement:
    """A label as the ruleset sees it: `place` is a class name, or one of NEVER_SCORED, `flagged`, `unplaced`."""

    parts: LabelParts
    place: str
    mode_class: str | None = None   # the class of the label's mode, even where the ruleset excludes the label

    @property
    def scored(self) -> bool:
        """A line of one of the ruleset's classes: it can be a run's score."""
        return self.place not in (*NEVER_SCORED, "flagged", "unplaced")

    @property
    def claimable(self) -> bool:
        """A line a claim may name as the score: a scored one, or one the ruleset excludes only because the
        label is overloaded (`final_int6_ttt`) while the grammar reads a score of a class."""
        return self.scored or (self.place == "excluded" and self.mode_class is not None)


def place(label: str, ruleset) -> Placement:
    classes = tuple(ruleset.label_classes)
    return _place(label, classes, tuple(tuple(ruleset.label_modes[c]) for c in classes),
                  tuple(ruleset.excluded_labels), tuple(ruleset.flagged_labels))


@functools.lru_cache(maxsize=4096)
def _place(label: str, classes: tuple, modes: tuple, excluded: tuple, flagged: tuple) -> Placement:
    parts = read_label(label)
    mode_class = None
    if parts.kind == "score" and parts.mode:
        mode_class = next((name for name, globs in zip(classes, modes)
                           if any(fnmatchcase(parts.mode, g) for g in globs)), None)
    if any(fnmatchcase(label, p) for p in excluded):
        return Placement(parts, "excluded", mode_class)
    if any(fnmatchcase(label, p) for p in flagged):
        return Placement(parts, "flagged")
    if parts.kind != "score":
        return Placement(parts, parts.kind)
    return Placement(parts, mode_class or "unplaced", mode_class)


def rank(line, ruleset, claimed: bool = False) -> tuple | None:
    """How good a score `line` is (higher is better), or None when it is never a score: its class
    first, then `_exact` / 8-decimal lines, then the last one. `claimed`: the claim names the line's
    family, which may then be one the ruleset excludes as overloaded (Placement.claimable)."""
    if not line.finite:
        return None
    where = place(line.label, ruleset)
    if not (where.claimable if claimed else where.scored):
        return None
    return (-ruleset.label_classes.index(where.mode_class), line.exact or line.decimals >= 8, line.line)


def choose(run, ruleset, family: str | None = None):
    """The score line of a run by the ruleset's classes; with `family`, the best line of that family
    (a label less `_exact`, see LabelParts.family). None when the run has no acceptable line."""
    if run is None:
        return None
    best, best_rank = None, None
    for line in run.scores:
        if family is not None and read_label(line.label).family != family:
            continue
        key = rank(line, ruleset, claimed=family is not None)
        if key is not None and (best_rank is None or key > best_rank):
            best, best_rank = line, key
    return best


def within(claim: float, value: float, decimals: int) -> bool:
    """Whether `value` written at `decimals` places (rounded or truncated) gives `claim`."""
    unit = 10.0 ** -decimals
    if abs(claim - value) <= 0.5 * unit + 1e-12:
        return True
    truncated = math.floor(value / unit + 1e-9) * unit
    return abs(truncated - claim) <= 1e-9 * max(1.0, abs(claim))


def mean_agrees(claim: float, values: list[float], decimals: int) -> bool:
    """Whether `claim` is the mean of `values` at its precision (also when taken over values already
    rounded to that precision)."""
    if not values:
        return False
    return within(claim, sum(values) / len(values), decimals) or \
        within(claim, sum(round(v, decimals) for v in values) / len(values), decimals)


@dataclass(frozen=True)
class Witness:
    """The claim chose the score: submission.json's val_bpb is the mean of the `family` lines of
    every counted run, where the ruleset's classes chose the `instead` lines (mean `instead_mean`)."""

    family: str
    place: str
    claim: str
    mean: float
    instead: tuple[str, ...]
    instead_mean: float | None
    n_runs: int


def families(run, ruleset) -> dict[str, object]:
    """A run's score lines a claim may name, by family (label less `_exact`), the best line of each."""
    out: dict[str, object] = {}
    best: dict[str, tuple] = {}
    for line in run.scores if run is not None else []:
        key = rank(line, ruleset, claimed=True)
        if key is None:
            continue
        family = read_label(line.label).family
        if family not in best or key > best[family]:
            out[family], best[family] = line, key
    return out


def claim_witness(runs, ruleset, claim: float, decimals: int, literal: str) -> Witness | None:
    """The family the claim is the mean of, when the runs' chosen scores are not: the best-ranked
    family that every run prints and whose mean is the claim at its precision. None when the chosen
    scores already agree with the claim or no family does."""
    chosen = [r.score.val_bpb for r in runs if r.score is not None]
    if not runs or len(chosen) != len(runs) or mean_agrees(claim, chosen, decimals):
        return None
    per_run = [families(r.run, ruleset) for r in runs]
    common = set.intersection(*(set(f) for f in per_run))
    matching = [f for f in common if mean_agrees(claim, [lines[f].val_bpb for lines in per_run], decimals)]
    if not matching:
        return None
    family = max(matching, key=lambda f: (min(rank(lines[f], ruleset, claimed=True) for lines in per_run), f))
    values = [lines[family].val_bpb for lines in per_run]
    return Witness(family, place(per_run[0][family].label, ruleset).mode_class, literal, sum(values) / len(values),
                   tuple(sorted({r.score.label for r in runs})), sum(chosen) / len(chosen), len(runs))


__all__ = ["NEVER_SCORED", "Placement", "Witness", "choose", "claim_witness", "families", "mean_agrees", "place",
           "rank", "within"]

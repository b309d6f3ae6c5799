"""G2xx: the scores in the logs, and the claims of submission.json against them (spec 5.1, 5.4)."""

from __future__ import annotations

import math
from fnmatch import fnmatchcase
from itertools import combinations

from golf.judge.findings import Hit, hit, rule
from golf.judge.facts import claim_literal, decimals_of, finite
from golf.judge.labels import mean_agrees, place, within

# Subsets of runs are searched (to say what a claim is) only up to this many runs.
MAX_SUBSET_RUNS = 12


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _fmt(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.6g}"


def explain_claim(ctx, claim: float, decimals: int, runs, attr: str) -> str | None:
    """None when `claim` is the mean of the runs' `attr`; otherwise what the claim actually is."""
    values = [(r, getattr(r, attr)) for r in runs if finite(getattr(r, attr))]
    if not values:
        return None
    n = len(values)
    mean = _mean([v for _, v in values])
    if within(claim, mean, decimals):
        return None
    # A mean taken over per-run values already rounded to the claim's precision is still the mean.
    if within(claim, _mean([round(v, decimals) for _, v in values]), decimals):
        return None
    what = f"the mean {_fmt(mean)} of the {n} run{'s' if n != 1 else ''}"
    ordered = sorted(values, key=lambda rv: rv[1])
    for r, v in values:
        if within(claim, v, decimals):
            kind = "the best run" if n > 1 and r is ordered[0][0] else "one run"
            return f"is {kind} ({r.log}: {_fmt(v)}), not {what}"
    if 2 < n <= MAX_SUBSET_RUNS:
        # The smallest subset that explains the claim, the best-k one first.
        for k in range(2, n):
            best = tuple(ordered[:k])
            for subset in (best, *combinations(values, k)):
                if within(claim, _mean([v for _, v in subset]), decimals):
                    logs = ", ".join(r.log for r, _ in subset)
                    kind = (f"the mean of the best {k} of {n} runs" if subset is best
                            else f"the mean of {k} of the {n} runs")
                    return f"is {kind} ({logs}), not {what}"
    other = _other_label(ctx, claim, decimals, [r for r, _ in values], attr)
    if other:
        return f"{other}, not {what}"
    closest_run, closest = min(values, key=lambda rv: abs(rv[1] - claim))
    return (f"matches neither {what} nor any single run or subset mean "
            f"(closest run {closest_run.log}: {_fmt(closest)})")


# What a line the grammar or the ruleset never scores is, in words.
_NOT_A_SCORE = {
    "step": "a periodic validation (step) line, taken before quantization",
    "diagnostic": "a diagnostic line, never a score",
    "prequant": "a pre-quantization evaluation, never a score",
    "progress": "a progress line, never a score",
    "excluded": "a label the ruleset never takes as a score",
    "flagged": "a label the ruleset flags (G210)",
    "unplaced": "a label golf cannot place in a score class (G209)",
}


def _kind(ctx, label: str) -> str:
    """` (what the line is)` for a label that is never a score, else ''."""
    where = place(label, ctx.ruleset)
    return f" ({_NOT_A_SCORE[where.place]})" if where.place in _NOT_A_SCORE else ""


def _other_label(ctx, claim: float, decimals: int, runs, attr: str) -> str | None:
    """Whether the claim is a line other than the chosen score (mean over runs, or one line): another
    score line, the last periodic validation lines, or a summary the script printed."""
    chosen = {r.score.label for r in runs if r.score is not None}
    per_run: list[dict[str, float]] = []
    for r in runs:
        lines: dict[str, float] = {}
        for s in r.run.scores if r.run is not None else []:
            if s.finite:
                lines[s.label] = getattr(s, attr)
        if r.run is not None and r.run.periodic:
            lines["step"] = getattr(r.run.periodic[-1], attr)
        per_run.append(lines)
    common = set.intersection(*(set(lines) for lines in per_run)) - chosen if per_run else set()
    for label in sorted(common):
        if mean_agrees(claim, [lines[label] for lines in per_run], decimals):
            what = "last periodic validation (step) lines, taken before quantization" if label == "step" \
                else f"`{label}` lines{_kind(ctx, label)}"
            scored = f"rather than of the scored `{'`/`'.join(sorted(chosen))}` lines" if chosen else \
                "and no run has a score line"
            return f"is the mean of the {what} {scored}"
    for r, lines in zip(runs, per_run):
        for label, value in lines.items():
            if label not in chosen and within(claim, value, decimals):
                what = "last periodic validation (step) line" if label == "step" \
                    else f"`{label}` line{_kind(ctx, label)}"
                return f"matches the {what} of {r.log} ({_fmt(value)}) rather than a score"
    if attr == "val_bpb":
        for r in runs:
            for printed in r.run.printed_claims if r.run is not None else []:
                if within(claim, printed.value, decimals):
                    return (f"is the summary the script printed (`{printed.text}`, {r.log} line {printed.line}), "
                            "a claim, not a score line")
    return None


# ---- rules -------------------------------------------------------------------

@rule("G201", "no-score", "error", "Without a score line from the script's own logs there is nothing to verify.")
def no_score(ctx):
    """No log has a score line golf recognises.

    Why: the claimed val_bpb must come from the logs, never from typed numbers.
    How to fix: ship complete logs; name the label in submission.json (`score_label`) when it is unusual.
    """
    if ctx.runs and not any(r.score is not None for r in ctx.runs):
        labels = sorted({s.label for r in ctx.runs if r.run is not None for s in r.run.scores})
        seen = f" (score labels seen: {', '.join(labels[:8])})" if labels else " (no score lines at all)"
        yield Hit(f"none of the {len(ctx.runs)} logs has an acceptable score line under the ruleset's label "
                  f"classes{seen}{_claim_without_score(ctx)}; name the label in submission.json (`score_label`) "
                  "if it is unusual")


def _claim_without_score(ctx) -> str:
    """`; the claim ... is <what it matches>` when a run has no score but the claim is a line golf read."""
    submission = ctx.submission
    runs = [r for r in ctx.logged if r.run is not None and r.duplicate_of is None]
    if submission is None or submission.val_bpb is None or not runs:
        return ""
    key = submission.keys.get("val_bpb", "val_bpb")
    literal = claim_literal(ctx, key)
    other = _other_label(ctx, submission.val_bpb, decimals_of(literal, submission.val_bpb), runs, "val_bpb")
    return f"; {submission.path} {key} {literal if literal is not None else submission.val_bpb} {other}" \
        if other else ""


@rule("G202", "unscored-log", "warning", "A log without a final score is a crashed, truncated or unrelated run.")
def unscored_log(ctx):
    """A log has no score line, so its run is not counted.

    Why: a run without a final score cannot support the claim.
    How to fix: ship the complete log, or remove a log that is not a run.
    """
    if not any(r.score is not None for r in ctx.runs):
        return  # no-score says it for the whole record
    for r in ctx.runs:
        if r.score is None and r.duplicate_of is None:
            if r.run is None:
                yield Hit(f"{r.log}: no run found in the log", r.log)
            else:
                labels = sorted({s.label for s in r.run.scores})
                seen = f"; labels seen: {', '.join(labels[:6])}" if labels else ""
                yield Hit(f"{r.log}: no acceptable score line{seen}; not counted", r.log)


@rule("G203", "incomplete-run", "warning", "A run that stops before its final evaluation may have crashed.")
def incomplete_run(ctx):
    """A run stops before its final score (truncated or crashed).

    Why: a truncated log cannot show what the run scored or how long it took.
    How to fix: ship the complete log of the run.
    """
    for r in ctx.runs:
        if r.run is not None and not r.run.complete and r.duplicate_of is None:
            yield Hit(f"{r.log}: the run (lines {r.run.first_line}-{r.run.last_line}) has no final score line: "
                      "truncated or crashed", r.log)


@rule("G204", "multiple-runs-in-log", "info", "Only the last complete run of a log counts; say so.")
def multiple_runs_in_log(ctx):
    """One log file holds several runs; only the last is counted.

    Why: a log should show one run, so each claim maps to one run.
    How to fix: ship one log per run.
    """
    for r in ctx.runs:
        if r.n_runs_in_log > 1 and r.duplicate_of is None and r.run is not None:
            yield Hit(f"{r.log} holds {r.n_runs_in_log} runs; the last complete one (lines "
                      f"{r.run.first_line}-{r.run.last_line}) is used", r.log)


@rule("G205", "claim-mismatch", "error",
      "The claimed score must be the mean of the runs in the logs, at the precision it is written with.", group="claim")
def claim_mismatch(ctx):
    """A number submission.json claims is not what the logs say (at the claim's own precision).

    Why: the claim must be recomputed from the logs.
    How to fix: write the logs' numbers (`golf submit` does).
    """
    submission = ctx.submission
    counted = ctx.logged_counted
    if submission is None or not counted:
        return
    where = submission.path
    for field, attr in (("val_bpb", "val_bpb"), ("val_loss", "val_loss")):
        claim = getattr(submission, field)
        if claim is None:
            continue
        key = submission.keys.get(field, field)
        literal = claim_literal(ctx, key)
        decimals = decimals_of(literal, claim)
        explanation = explain_claim(ctx, claim, decimals, counted, attr)
        if explanation is None:
            continue
        if field == "val_loss" and explain_claim(ctx, claim, decimals, counted, "val_bpb") is None:
            explanation = "is the val_bpb mean stored under `val_loss`, not a val_loss"
            hidden = False
        else:
            hidden = _off_below_shown(ctx, claim, counted, attr)
        note = f" (the same at the {ctx.ruleset.shown_decimals} decimals the leaderboard shows)" if hidden else ""
        values = [v for v in (getattr(r, attr) for r in counted) if finite(v)]
        mean = _mean(values) if values else None
        yield hit("{path} {key} {written} ({decimals} decimals) {explanation}{note}", file=where,
                  paperwork="claim-precision" if hidden else None, path=where, key=key,
                  written=str(literal) if literal is not None else str(claim), claim=claim, decimals=decimals,
                  mean=mean, explanation=explanation, note=note)
    yield from _seed_claims(ctx)
    yield from _run_claims(ctx)


def _off_below_shown(ctx, claim: float, runs, attr: str) -> bool:
    """Whether the claim is the runs' mean at the precision the leaderboard shows (ruleset [verdict])."""
    shown = ctx.ruleset.shown_decimals
    values = [getattr(r, attr) for r in runs if finite(getattr(r, attr))]
    if shown is None or not values:
        return False
    return within(claim, _mean(values), shown)


def _run_claims(ctx):
    """The per-run entries golf submit writes (`runs`: log, val_bpb, val_loss) against those logs."""
    submission = ctx.submission
    where = submission.path
    by_log = {r.log: r for r in ctx.logged}
    for index, entry in enumerate(submission.runs):
        log = entry.get("log")
        if not isinstance(log, str) or not log:
            continue
        log = log.removeprefix("./")
        r = by_log.get(log)
        if r is None:
            yield Hit(f"{where} runs[{index}] names log {log}, which is not in the folder", where)
            continue
        for key in ("val_bpb", "val_loss"):
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not finite(getattr(r, key)):
                continue
            literal = claim_literal(ctx, "runs", index, key)
            if not within(float(value), getattr(r, key), decimals_of(literal, float(value))):
                yield Hit(f"{where} runs[{index}].{key} {literal if literal is not None else value} is not the "
                          f"score of {log} ({_fmt(getattr(r, key))})", where)


def _seed_claims(ctx):
    submission = ctx.submission
    where = submission.path
    scored = [r for r in ctx.logged if r.score is not None and r.duplicate_of is None]
    for seed, entry in sorted(submission.seed_results.items()):
        runs = [r for r in scored if r.seed == seed or seed in r.seed_sources.values()]
        claimed = {k: entry.get(k) for k in ("val_bpb", "val_loss")
                   if isinstance(entry.get(k), (int, float)) and not isinstance(entry.get(k), bool)}
        if not claimed:
            continue
        if not runs:
            yield Hit(f"{where} seed_results claims seed {seed} but no scored log ran seed {seed}", where)
            continue
        for key, value in claimed.items():
            literal = claim_literal(ctx, "seed_results", str(seed), key)
            decimals = decimals_of(literal, value)
            if not any(within(float(value), getattr(r, key), decimals) for r in runs if finite(getattr(r, key))):
                shown = ", ".join(f"{r.log}: {_fmt(getattr(r, key))}" for r in runs if finite(getattr(r, key)))
                yield Hit(f"{where} seed_results[{seed}].{key} {literal if literal is not None else value} does not "
                          f"match the log of seed {seed} ({shown})", where)


@rule("G206", "std-mismatch", "warning", "The claimed spread should be the sample standard deviation of the runs.", group="claim")
def std_mismatch(ctx):
    """The claimed standard deviation is not the sample sd (n - 1) of the logged scores.

    Why: the spread decides significance.
    How to fix: recompute it from the logs.
    """
    submission = ctx.submission
    counted = ctx.logged_counted
    if submission is None or len(counted) < 2:
        return
    for field, attr in (("val_bpb_std", "val_bpb"), ("val_loss_std", "val_loss")):
        claim = getattr(submission, field, None)
        if claim is None:
            continue
        values = [getattr(r, attr) for r in counted if finite(getattr(r, attr))]
        if len(values) < 2:
            continue
        mean = _mean(values)
        sample = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        population = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        key = submission.keys.get(field, field)
        literal = claim_literal(ctx, key)
        decimals = decimals_of(literal, claim)
        if within(claim, sample, decimals):
            continue
        if within(claim, population, decimals):
            what = f"is the population sd ({_fmt(population)}, n), not the sample sd ({_fmt(sample)}, n-1)"
        else:
            what = f"differs from the sample sd of the {len(values)} runs ({_fmt(sample)})"
        yield Hit(f"{submission.path} {key} {literal if literal is not None else claim} {what}", submission.path)


@rule("G208", "log-hash-mismatch", "error",
      "A log that differs from the one submission.json recorded (by sha256) was changed after the claim.", group="claim")
def log_hash_mismatch(ctx):
    """A log's hash is not the one submission.json records for it.

    Why: the log was changed after the claim was written.
    How to fix: ship the original log, or rewrite the claim from the logs.
    """
    submission = ctx.submission
    if submission is None:
        return
    by_log = {r.log: r for r in ctx.logged}
    for index, entry in enumerate(submission.runs):
        log, recorded = entry.get("log"), entry.get("log_sha256")
        if not isinstance(log, str) or not isinstance(recorded, str):
            continue
        r = by_log.get(log.removeprefix("./"))
        if r is not None and r.log_sha256 and r.log_sha256 != recorded.lower():
            yield Hit(f"{r.log}: sha256 {r.log_sha256[:12]} but {submission.path} runs[{index}] recorded "
                      f"{recorded[:12]}: the log changed after the claim was written", r.log)


@rule("G207", "log-problems", "info", "Lines a parser could not read are worth a look.")
def log_problems(ctx):
    """The log parser met something it could not read cleanly (unknown formats, garbled lines).

    Why: a score read from a damaged log may be wrong.
    How to fix: ship the logs as the script wrote them.
    """
    for r in ctx.runs:
        if r.duplicate_of is None and r.log_problems:
            shown = "; ".join(r.log_problems[:3]) + (f" (and {len(r.log_problems) - 3} more)"
                                                      if len(r.log_problems) > 3 else "")
            yield Hit(f"{r.log}: {shown}", r.log)


@rule("G209", "unknown-score-label", "warning",
      "A score line under a label golf does not know may be the claimed score; it is never silently passed over.")
def unknown_score_label(ctx):
    """A log prints a score line (`<label> val_loss:... val_bpb:...`) whose label golf cannot place.

    golf reads a label by its grammar ([final_] [quantisation] [compressor] <evaluation mode>
    [_exact] [qualifiers]) and places its evaluation mode in one of the ruleset's classes
    (test-time training > sliding window > roundtrip). A label whose mode no class holds, and which
    the ruleset neither excludes nor flags, may be the record's real claimed score (a new
    evaluation) while golf scores the run from another line. golf names both, with the parts of
    the label it did read.

    How to fix: name the claimed label in submission.json (`score_label`), or, for golf's
    maintainers, add the evaluation mode to the ruleset's [labels.modes].
    """
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None:
            continue
        unplaced = {}
        for s in r.run.scores:
            if s.finite and s.label not in unplaced:
                where = place(s.label, ctx.ruleset)
                if where.place == "unplaced":
                    unplaced[s.label] = where.parts.describe()
        if unplaced:
            shown = "; ".join(f"{label} (read: {parts})" for label, parts in sorted(unplaced.items()))
            took = f"golf scored the run from `{r.score.label}`" if r.score is not None else "the run has no score"
            yield Hit(f"{r.log}: score label(s) golf cannot place in a score class: {shown}; {took}", r.log)


@rule("G210", "flagged-score-label", "warning",
      "Some kinds of score were not accepted as practised (e.g. byte-mixture/PPM scores).")
def flagged_score_label(ctx):
    """A log prints a score under a label the ruleset flags, with the ruleset's reason.

    The maintainers excluded byte-mixture/PPM scores (`quantized_cond_ppm`, `ppm_mixer`),
    which do not form a normalised distribution. golf scores such a run from its ordinary
    line and flags the other, so a reviewer sees which score the record claims.

    How to fix: claim the ordinary (normalised) score, or show the mixture is normalised.
    """
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None:
            continue
        by_reason: dict[str, set[str]] = {}
        for s in r.run.scores:
            for pattern, why in ctx.ruleset.flagged_labels.items():
                if s.finite and fnmatchcase(s.label, pattern):
                    by_reason.setdefault(why, set()).add(s.label)
        for why, labels in sorted(by_reason.items()):
            took = f"golf scored the run from `{r.score.label}`" if r.score is not None else "no other score"
            yield Hit(f"{r.log}: {', '.join(sorted(labels))}: {why}; {took}", r.log)


@rule("G216", "score-chosen-by-claim", "info",
      "When the claim is the mean of one family of score lines, that family is the score; say so when the "
      "label classes would have chosen another.", group="claim")
def score_chosen_by_claim(ctx):
    """submission.json's val_bpb is the mean of one family of score lines in every run, and the ruleset's
    label classes would have chosen other lines: golf scores the runs by the family the claim names.

    Labels are overloaded (an int8 roundtrip label reused for a sliding result) and extra evaluations
    can follow the claimed one (a worse TTT pass); the claim, when it matches one family of final
    lines exactly at its precision, is the better witness of which line is the score.

    How to fix: nothing, if that family is the score; name it in submission.json (`score_label`) to
    make it explicit.
    """
    witness = ctx.witness
    if witness is None:
        return
    where = ctx.submission.path if ctx.submission is not None else "submission.json"
    instead = "`/`".join(witness.instead)
    was = f" (mean {_fmt(witness.instead_mean)})" if witness.instead_mean is not None else ""
    yield Hit(f"{where} val_bpb {witness.claim} is the mean of the `{witness.family}` lines ({witness.place}) of the "
              f"{witness.n_runs} run{'s' if witness.n_runs != 1 else ''} ({_fmt(witness.mean)}); golf scores them "
              f"by it, where the label classes chose `{instead}`{was}", where)

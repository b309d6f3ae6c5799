"""G7xx: a new record must beat SOTA by delta with p < alpha (spec 4.1-4.3, 5.9). Record tracks only."""

from __future__ import annotations

from golf.judge.facts import pooled_in_test
from golf.judge.findings import Hit, hit, rule


def _tested(ctx) -> int:
    """How many runs the significance test takes: the record's own, and reproductions it pools."""
    return len(ctx.counted) + len(pooled_in_test(ctx))


def _p(value) -> str:
    return "n/a" if value is None else (f"{value:.2g}" if value < 0.001 else f"{value:.4f}")


def _reading(sig, unit: str) -> str:
    reading = sig.readings.get(unit)
    if reading is None:
        return ""
    test = reading.one_sample
    if reading.delta_bpb is None:
        return f"{unit}: {test.reason}"
    text = (f"delta {reading.delta:g} {unit} = {reading.delta_bpb:.5f} bpb, threshold {reading.threshold:.5f}, "
            f"one-sample t={test.t:.3f} p={_p(test.p)}" if test.t is not None
            else f"delta {reading.delta:g} {unit}: {test.reason}")
    if reading.welch is not None and reading.welch.t is not None:
        text += f", Welch t={reading.welch.t:.3f} p={_p(reading.welch.p)}"
    return text


def _describe(ctx) -> str:
    sig = ctx.significance
    units = [sig.unit] if sig.delta == 0 else [sig.unit, *[u for u in sig.readings if u != sig.unit]]
    readings = "; ".join(_reading(sig, u) for u in units)
    pooled = len(pooled_in_test(ctx))
    runs = f"{sig.n} runs ({sig.n - pooled} the record's, {pooled} pooled reproductions)" if pooled else f"{sig.n} runs"
    text = (f"mean val_bpb {sig.mean:.5f} over {runs} vs SOTA {sig.sota:.5f} ({ctx.sota.source}); "
            f"gate {sig.gate} in {sig.unit}, alpha {sig.alpha:g}: {readings}")
    if ctx.other_significance is not None:
        label, other = ctx.other_significance
        gating = other.gating
        verdict = {True: "passes", False: "fails", None: "cannot test"}[gating.passed]
        text += (f". Under {label} ({other.gate}, delta {other.delta:g} {other.unit}, alpha {other.alpha:g}) it "
                 f"{verdict}: {gating.test} p={_p(gating.p)}")
    return text


@rule("G701", "too-few-seeds", "error",
      "Beating a SOTA needs a t test, which needs at least the ruleset's minimum number of runs.", group="significance")
def too_few_seeds(ctx):
    """A record on a record track has fewer scored runs than a t test needs.

    A new record must show a significant win, and a t test needs at least the ruleset's
    `min_runs` runs (2). This holds whether or not golf knows the SOTA: a single run on a
    record track can never show significance (the maintainers excluded single-seed rows).
    The first record of a track (none in the records tree is dated before it) has nothing
    to beat and is not reported; nor is an undated record (G704 says no SOTA could be chosen).

    How to fix: run more seeds and ship every log, or submit to a non-record track.
    """
    if not ctx.is_record_track or ctx.first_of_track:
        return
    n = _tested(ctx)
    needed = ctx.ruleset.significance.min_runs
    if 0 < n < needed:
        against = (f"beating the SOTA {ctx.sota.value:.5f} ({ctx.sota.source})" if ctx.sota is not None
                   else "a record on a record track")
        yield Hit(f"{n} scored run{'s' if n != 1 else ''}; {against} must be shown with at least {needed} "
                  "runs (seeds)")


@rule("G702", "few-seeds", "warning", "The rules expect about three runs to show a significant win.", group="significance")
def few_seeds(ctx):
    """A record track's claim rests on fewer runs than recommended (3).

    Why: the README says an average over 3 runs is usually sufficient.
    How to fix: add runs.
    """
    if not ctx.is_record_track:
        return
    n = _tested(ctx)
    policy = ctx.ruleset.significance
    if policy.min_runs <= n < policy.recommended_runs:
        yield Hit(f"{n} scored runs; {policy.recommended_runs} are recommended")


@rule("G703", "not-significant", "error",
      "A new record must beat SOTA by delta with a one-sided p below alpha.", group="significance")
def not_significant(ctx):
    """A record on a record track must show, with its per-run scores, that it beats the current SOTA.

    The gating test comes from the ruleset's [significance] table. Under the written rules
    (parameter_golf_2026) it is a one-sided one-sample t test of the per-run val_bpb against
    SOTA - delta, with delta = 0.005 nats converted to bpb by the record's own val_loss/val_bpb
    ratio, at p < 0.01. The 0.005-bpb reading and a Welch test against the SOTA record's per-run
    scores are reported beside it. t is written so that an improvement is positive.

    How to fix: run more seeds (the finding says about how many would reach p < alpha at this
    mean and spread), or compare against the right SOTA (--sota-record), or, when the record
    does not claim to beat SOTA, submit it to a non-record track.
    """
    sig = ctx.significance
    if sig is None or sig.n < ctx.ruleset.significance.min_runs:
        return
    gating = sig.gating
    if gating.passed:
        return
    reason = f" ({gating.reason})" if gating.passed is None and gating.reason else ""
    plan = sig.readings[sig.unit].plan
    advice = ""
    if plan is not None:
        if plan.n_needed is not None:
            advice = f"; at this mean and spread about {plan.n_needed} runs would reach p < {sig.alpha:g}"
        elif plan.reason:
            advice = f"; {plan.reason}"
    yield hit("not significant{reason}: {description}{advice}", reason=reason, description=_describe(ctx),
              advice=advice, p=gating.p, alpha=sig.alpha, mean=sig.mean, sota=sig.sota, n=sig.n,
              runs_needed=plan.n_needed if plan is not None else None)


@rule("G704", "significance-not-applicable", "info",
      "Significance is tested only on record tracks and against a known SOTA.", group="significance")
def significance_not_applicable(ctx):
    """Significance was not tested, and why (not a record track, no SOTA known, no date).

    Why: a reviewer should see when no test ran.
    How to fix: give --sota-record or --records-root when the record should be tested.
    """
    too_few = ctx.is_record_track and not ctx.first_of_track and _tested(ctx) < ctx.ruleset.significance.min_runs
    if ctx.significance is None and ctx.significance_skip and ctx.counted and not too_few:
        yield Hit(f"significance not tested: {ctx.significance_skip}")


@rule("G705", "significant", "info", "The test that decided the record, for the reviewer's eyes.", group="significance")
def significant(ctx):
    """The significance test that decided the record, with both readings.

    Why: reviewers see the test, its SOTA and p-value.
    How to fix: nothing; informational.
    """
    sig = ctx.significance
    if sig is not None and sig.passed:
        yield Hit(f"significant: {_describe(ctx)}")


@rule("G706", "pooled-runs", "info",
      "Reproduction runs pooled into the significance test are named, with who ran them.", group="significance")
def pooled_runs(ctx):
    """Runs of the record's script by others (submission.json's `reproductions`, or --pool-runs) and
    what the significance test did with them.

    Under the practice ruleset independent reproduction seeds are pooled with the submitter's
    (#1902); under the written rules only the submitter's runs are tested. Pooled runs never
    change the record's claimed mean. Pooling is never silent: each run is listed with its
    provenance.

    How to fix: nothing; informational.
    """
    usable = [p for p in ctx.pooled if p.problem is None]
    if not usable:
        return
    listed = "; ".join(f"{p.log} (by {p.by}{', ' + p.source if p.source else ''}): val_bpb {p.val_bpb:.5f}"
                       for p in usable)
    if ctx.ruleset.significance.pool_reproductions:
        yield Hit(f"{len(usable)} reproduction run(s) pooled with the record's {len(ctx.counted)} in the "
                  f"significance test: {listed}")
    else:
        yield Hit(f"{len(usable)} reproduction run(s) not pooled: {ctx.ruleset.label} tests only the "
                  f"submitter's runs: {listed}")


@rule("G707", "reproduction-unusable", "warning",
      "A reproduction offered for pooling must be a scored run of the shipped script, not a copy.",
      group="significance")
def reproduction_unusable(ctx):
    """A reproduction listed in submission.json or given with --pool-runs cannot be pooled.

    Why: a reproduction is evidence only if it is a distinct, complete run of the same script.
    How to fix: list the log of a finished run of the shipped train_gpt.py, or drop the entry.
    """
    for p in ctx.pooled:
        if p.problem is not None:
            yield Hit(f"{p.log} (by {p.by}): {p.problem}; not pooled", p.log if p.listed else None)

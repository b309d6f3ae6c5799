"""G8xx: reruns of the record's own command against what the record claims (only with --rerun)."""

from __future__ import annotations

from pathlib import Path

from golf.judge.findings import Hit, rule
from golf.judge.facts import claim_literal, decimals_of, finite, shown

def _claimed_spread(ctx) -> float | None:
    submission = ctx.submission
    if submission is not None and submission.val_bpb_std is not None:
        return submission.val_bpb_std
    from golf.judge.stats import mean_and_sd

    return mean_and_sd([r.val_bpb for r in ctx.static_runs if r.counted and finite(r.val_bpb)])[1]


def _tolerance(ctx, decimals: int | None) -> float:
    spread = _claimed_spread(ctx)
    rounding = 0.5 * 10.0 ** -decimals if decimals is not None else 0.0
    policy = ctx.ruleset.reruns
    return max(policy.spread_multiple * spread if spread else 0.0, rounding, policy.min_tolerance_bpb)


def claimed_for_seed(ctx, seed: int) -> tuple[float | None, int | None, str]:
    """What the record claims for one seed: seed_results, else its shipped log, else the claimed mean."""
    submission = ctx.submission
    if submission is not None:
        entry = submission.seed_results.get(seed, {})
        value = entry.get("val_bpb")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and finite(float(value)):
            literal = claim_literal(ctx, "seed_results", str(seed), "val_bpb")
            return float(value), decimals_of(literal, float(value)), f"seed_results[{seed}]"
    for r in ctx.static_runs:
        if r.counted and (r.seed == seed or seed in r.seed_sources.values()):
            return r.val_bpb, None, f"the shipped log {r.log}"
    if submission is not None and submission.val_bpb is not None:
        literal = claim_literal(ctx, submission.keys.get("val_bpb", "val_bpb"))
        return submission.val_bpb, decimals_of(literal, submission.val_bpb), "the claimed mean"
    return None, None, ""


@rule("G801", "rerun-failed", "error", "A record whose command fails or scores nothing on rerun is not reproducible.",
      phase="rerun")
def rerun_failed(ctx):
    """A rerun of a seed failed (non-zero exit, no log).

    Why: a record must run from its folder.
    How to fix: make the script run from inside the record folder with its listed requirements.
    """
    for r in ctx.runs:
        result = r.rerun
        if result is None or result.timed_out:
            continue
        cause = f": {result.error}" if getattr(result, "error", None) else ""
        if result.returncode not in (0, None):
            yield Hit(f"seed {result.seed}: the command exited with status {result.returncode}{cause} "
                      f"(output in {shown(Path(result.workdir) / 'rerun.log', ctx.root)})", r.log)
        elif r.run is None:
            yield Hit(f"seed {result.seed}: no log was written (expected logs/<RUN_ID>.txt in "
                      f"{shown(result.workdir, ctx.root)})")
        elif r.score is None:
            yield Hit(f"seed {result.seed}: the new log has no acceptable score line", r.log)
        elif result.artifact_path is None:
            yield Hit(f"seed {result.seed}: no model artifact was written, so its size cannot be measured", r.log)


@rule("G802", "rerun-timeout", "error", "A rerun that runs past its time limit was killed and proves nothing.",
      phase="rerun")
def rerun_timeout(ctx):
    """A rerun of a seed ran past --timeout-per-seed and was killed.

    Why: a record must finish within its budget.
    How to fix: check the script stops at its wallclock cap.
    """
    for r in ctx.runs:
        result = r.rerun
        if result is not None and result.timed_out:
            yield Hit(f"seed {result.seed}: timed out after {result.elapsed_s:.0f} s; the process group was killed",
                      r.log)


@rule("G803", "rerun-mismatch", "error",
      "A rerun must reproduce the claimed score within the claimed spread (3 sd, or the claim's rounding).",
      phase="rerun")
def rerun_mismatch(ctx):
    """A rerun's score or size differs from the shipped logs beyond tolerance.

    Why: non-reproducible results can be disqualified.
    How to fix: ship the script that produced the logs, with fixed seeds.
    """
    scored = [r for r in ctx.runs if r.rerun is not None and r.score is not None]
    for r in scored:
        claimed, decimals, source = claimed_for_seed(ctx, r.seed)
        if claimed is None:
            continue
        tolerance = _tolerance(ctx, decimals)
        if abs(r.val_bpb - claimed) > tolerance:
            yield Hit(f"seed {r.seed}: rerun val_bpb {r.val_bpb:.8f} differs from {source} {claimed:.8f} by "
                      f"{abs(r.val_bpb - claimed):.6f} (> tolerance {tolerance:.6f})", r.log)
    submission = ctx.submission
    if submission is not None and submission.val_bpb is not None and len(scored) >= 2:
        mean = sum(r.val_bpb for r in scored) / len(scored)
        literal = claim_literal(ctx, submission.keys.get("val_bpb", "val_bpb"))
        tolerance = _tolerance(ctx, decimals_of(literal, submission.val_bpb))
        if abs(mean - submission.val_bpb) > tolerance:
            yield Hit(f"the mean of {len(scored)} reruns, {mean:.8f}, differs from the claimed val_bpb "
                      f"{submission.val_bpb} by {abs(mean - submission.val_bpb):.6f} (> tolerance {tolerance:.6f})",
                      submission.path)

"""G6xx: time budgets, by the script's own clocks (spec 1.6, 5.8)."""

from __future__ import annotations

from golf.judge.findings import Hit, rule


def _timed_runs(ctx):
    return [r for r in ctx.runs if r.duplicate_of is None and r.run is not None]


@rule("G601", "train-time-over", "error",
      "Training must finish within the track's limit (the script's train_time, one step of overshoot tolerated).")
def train_time_over(ctx):
    track = ctx.track
    if track is None or track.train_time_limit_ms is None:
        return
    allowed = track.train_time_limit_ms + track.train_time_tolerance_ms
    for r in _timed_runs(ctx):
        t = r.train_time_ms
        if t is not None and t > allowed:
            yield Hit(f"{r.log}: train_time {t:,.0f} ms exceeds the {track.train_time_limit_ms:,} ms limit "
                      f"(+{track.train_time_tolerance_ms:,} ms tolerance) by {t - track.train_time_limit_ms:,.0f} ms",
                      r.log)


@rule("G602", "eval-time-over", "error", "Evaluation, all phases together, must finish within the track's limit.")
def eval_time_over(ctx):
    track = ctx.track
    if track is None or track.eval_time_limit_ms is None:
        return
    for r in _timed_runs(ctx):
        t = r.eval_time_ms
        if t is not None and t > track.eval_time_limit_ms:
            phases = ", ".join(f"{k} {v:,.0f}" for k, v in (r.run.eval_times_ms or {}).items())
            detail = f" (phases: {phases} ms)" if phases else ""
            yield Hit(f"{r.log}: evaluation took {t:,.0f} ms, over the {track.eval_time_limit_ms:,} ms limit{detail}",
                      r.log)


@rule("G603", "time-unverifiable", "warning", "A time budget golf cannot read from the log is only a claim.")
def time_unverifiable(ctx):
    track = ctx.track
    if track is None:
        return
    for r in _timed_runs(ctx):
        missing = []
        if track.train_time_limit_ms is not None and r.train_time_ms is None:
            missing.append("train_time")
        if track.eval_time_limit_ms is not None and r.eval_time_ms is None and r.score is not None:
            missing.append("evaluation time")
        if missing:
            yield Hit(f"{r.log}: no {' or '.join(missing)} in the log, so the time limit cannot be checked", r.log)


@rule("G604", "train-time-tolerated", "info",
      "The loop checks the cap between steps, so a train_time up to one step over the limit is accepted.")
def train_time_tolerated(ctx):
    track = ctx.track
    if track is None or track.train_time_limit_ms is None:
        return
    for r in _timed_runs(ctx):
        t = r.train_time_ms
        if t is not None and track.train_time_limit_ms < t <= track.train_time_limit_ms + track.train_time_tolerance_ms:
            yield Hit(f"{r.log}: train_time {t:,.0f} ms is {t - track.train_time_limit_ms:,.0f} ms over the limit, "
                      f"within the {track.train_time_tolerance_ms:,} ms tolerance", r.log)

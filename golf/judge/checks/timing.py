"""G6xx: time budgets, by the script's own clocks (spec 1.6, 5.8)."""

from __future__ import annotations

from golf.judge.findings import Hit, hit, rule


def _timed_runs(ctx):
    return [r for r in ctx.runs if r.duplicate_of is None and r.run is not None]


@rule("G601", "train-time-over", "error",
      "Training must finish within the track's limit (the script's train_time, one step of overshoot tolerated).")
def train_time_over(ctx):
    """A run trained longer than the track's limit (plus the ruleset's tolerance).

    Why: training must fit 10 minutes on 8xH100.
    How to fix: stop at the wallclock cap (the baseline's loop does).
    """
    track = ctx.track
    if track is None or track.train_time_limit_ms is None:
        return
    allowed = track.train_time_limit_ms + track.train_time_tolerance_ms
    for r in _timed_runs(ctx):
        t = r.train_time_ms
        if t is not None and t > allowed:
            yield hit("{log}: train_time {train_time_ms:,.0f} ms exceeds the {limit_ms:,} ms limit "
                      "(+{tolerance_ms:,} ms tolerance) by {over_ms:,.0f} ms", file=r.log, log=r.log,
                      train_time_ms=t, limit_ms=track.train_time_limit_ms,
                      tolerance_ms=track.train_time_tolerance_ms, over_ms=t - track.train_time_limit_ms)


@rule("G602", "eval-time-over", "error", "Evaluation, all phases together, must finish within the track's limit.")
def eval_time_over(ctx):
    """A run's evaluation phases together took longer than the track's limit.

    Why: evaluation must also fit 10 minutes; all phases count (roundtrip, sliding window, TTT),
    including phases before scoring that the script times only on their own progress lines
    (pre-quantization TTT epochs, the ruleset's [eval] pre_score_phases), and an evaluation
    time submission.json itself states over the limit.
    How to fix: shorten evaluation.
    """
    track = ctx.track
    if track is None or track.eval_time_limit_ms is None:
        return
    limit = track.eval_time_limit_ms
    for r in _timed_runs(ctx):
        phases = dict(r.run.eval_times_ms or {})
        before = _pre_score_phases(ctx, r)
        t = r.eval_time_ms
        if before:
            t = (t or 0.0) + sum(before.values())
            phases.update({f"{k} (before scoring)": v for k, v in before.items()})
        if t is not None and t > limit:
            shown = ", ".join(f"{k} {v:,.0f}" for k, v in phases.items())
            detail = f" (phases: {shown} ms)" if shown else ""
            yield hit("{log}: evaluation took {eval_time_ms:,.0f} ms, over the {limit_ms:,} ms limit{detail}",
                      file=r.log, log=r.log, eval_time_ms=t, limit_ms=limit, detail=detail)
    yield from _claimed_eval_times(ctx, limit)


def _pre_score_phases(ctx, r) -> dict[str, float]:
    from pathlib import Path

    from golf.read.phases import phase_times

    globs = list(ctx.ruleset.pre_score_phases)
    if not globs or r.rerun is not None:
        return {}
    path = Path(r.log) if Path(r.log).is_absolute() else ctx.root / r.log
    return phase_times(path, globs)


# Units a field name may carry (`eval_time_ms_max`, `eval_time_seconds`, `eval_s`), in seconds.
_SECONDS = {"ms": 0.001, "millis": 0.001, "milliseconds": 0.001, "s": 1.0, "sec": 1.0, "secs": 1.0,
            "seconds": 1.0, "min": 60.0, "mins": 60.0, "minutes": 60.0}


def claimed_time_ms(name: str, value: float) -> float | None:
    """An evaluation time submission.json states under `name`, in milliseconds; None when the field is not one.

    The unit is the first unit word of the name (`eval_time_ms_max` is milliseconds, `eval_time_s` and
    `eval_s` seconds); a time field without a unit word is read as seconds.
    """
    words = name.lower().split("_")
    units = [w for w in words if w in _SECONDS]
    if not any(w.startswith("eval") for w in words) or not (any("time" in w for w in words) or units):
        return None
    return value * 1000 * _SECONDS[units[0] if units else "s"]


def _claimed_eval_times(ctx, limit_ms: float):
    """Evaluation times submission.json itself states (`eval_time_s`, `eval_time_ms_max`, `eval_s`, ...)."""
    submission = ctx.submission
    raw = getattr(submission, "raw", None) if submission is not None else None
    if not isinstance(raw, dict):
        return
    stated = []

    def visit(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                visit(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            ms = claimed_time_ms(where.rsplit(".", 1)[-1], node)
            if ms is not None:
                stated.append((where, ms))

    visit(raw, "")
    for where, ms in stated:
        if ms > limit_ms:
            yield Hit(f"{submission.path} says {where} = {ms / 1000:,.1f} s, over the {limit_ms / 1000:,.0f} s "
                      "evaluation limit", submission.path)


@rule("G603", "time-unverifiable", "warning", "A time budget golf cannot read from the log is only a claim.")
def time_unverifiable(ctx):
    """A run's training or evaluation time is not in its log.

    Why: a budget golf cannot read is unverified.
    How to fix: keep the baseline's train_time and eval_time lines.
    """
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
    """A run's train_time is over the limit but within the ruleset's one-step tolerance.

    Why: the loop stops on the step after the cap, so the clock may overrun by one step.
    How to fix: nothing; shown for the reviewer.
    """
    track = ctx.track
    if track is None or track.train_time_limit_ms is None:
        return
    for r in _timed_runs(ctx):
        t = r.train_time_ms
        if t is not None and track.train_time_limit_ms < t <= track.train_time_limit_ms + track.train_time_tolerance_ms:
            yield Hit(f"{r.log}: train_time {t:,.0f} ms is {t - track.train_time_limit_ms:,.0f} ms over the limit, "
                      f"within the {track.train_time_tolerance_ms:,} ms tolerance", r.log)

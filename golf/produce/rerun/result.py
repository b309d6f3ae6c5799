"""What a seed's run left behind, judged the same way whichever launcher ran it: completed when the
process exited 0 and its log holds the score verify will take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from golf.produce.rerun.plan import RecordPlan, SeedPlan, run_id
from golf.produce.rerun.process import first_error
from golf.produce.rerun.workdir import ARTIFACT_NAME, RERUN_LOG, _has_score, _save_state, say


@dataclass
class RerunResult:
    seed: int
    workdir: Path
    log_path: Path | None
    artifact_path: Path | None
    returncode: int | None
    timed_out: bool
    elapsed_s: float
    command: list[str]
    resumed: bool
    error: str | None = None      # the first exception the ranks printed, when the seed failed
    job_id: str | None = None     # the SLURM job that ran the seed (--launcher slurm)
    why: str | None = None        # why the seed failed, in words


def completed_earlier(plan: RecordPlan, seed: SeedPlan) -> RerunResult | None:
    """The seed's result from an earlier run of the same rerun, when it completed and its log is still there."""
    done = plan.state["completed"].get(str(seed.seed))
    if not done or not (plan.workdir / done["log"]).is_file():
        return None
    artifact = plan.workdir / done["artifact"] if done.get("artifact") else None
    return RerunResult(seed=seed.seed, workdir=seed.seed_dir, log_path=plan.workdir / done["log"],
                       artifact_path=artifact if artifact is not None and artifact.is_file() else None,
                       returncode=0, timed_out=False, elapsed_s=float(done.get("elapsed_s", 0.0)),
                       command=list(done.get("command", [])), resumed=True, job_id=done.get("job_id"))


def seeds_to_run(plans: list[RecordPlan], console, done: dict):
    """(plan, seed, label) of every seed still to run, in order; a seed an earlier run completed is put in
    done[record_dir, seed] instead, and said so. The label names the record when the batch has several."""
    for plan in plans:
        for i, seed in enumerate(plan.seeds, 1):
            label = f"seed {i}/{len(plan.seeds)} ({seed.seed})"
            if len(plans) > 1:
                label = f"{plan.record_dir.name} {label}"
            earlier = completed_earlier(plan, seed)
            if earlier is not None:
                done[plan.record_dir, seed.seed] = earlier
                say(console, f"{label}: already completed in an earlier run, skipped")
                continue
            yield plan, seed, label


def finish_seed(plan: RecordPlan, seed: SeedPlan, *, returncode, timed_out: bool, elapsed_s: float,
                job_id: str | None = None, why: str | None = None) -> tuple[RerunResult, bool]:
    """The result of a seed whose processes are over; a completed seed is written into the state file."""
    log_path = seed.seed_dir / "logs" / f"{run_id(seed.seed)}.txt"
    artifact = seed.seed_dir / ARTIFACT_NAME
    result = RerunResult(seed=seed.seed, workdir=seed.seed_dir, log_path=log_path if log_path.is_file() else None,
                         artifact_path=artifact if artifact.is_file() else None, returncode=returncode,
                         timed_out=timed_out, elapsed_s=elapsed_s, command=seed.command, resumed=False,
                         job_id=job_id)
    submission = getattr(plan.record, "submission", None)
    completed = returncode == 0 and result.log_path is not None and _has_score(result.log_path, plan.ruleset,
                                                                              submission)
    if completed:
        plan.state["completed"][str(seed.seed)] = {
            "log": result.log_path.relative_to(plan.workdir).as_posix(),
            "artifact": result.artifact_path.relative_to(plan.workdir).as_posix() if result.artifact_path else None,
            "elapsed_s": round(elapsed_s, 3), "command": seed.command, **({"job_id": job_id} if job_id else {})}
        _save_state(plan.state_path, plan.state)
    else:
        result.error = first_error(seed.seed_dir / RERUN_LOG)
        result.why = why or _why(result)
    return result, completed


def _why(result: RerunResult) -> str:
    if result.returncode != 0:
        return f"exited with status {result.returncode}"
    if result.log_path is None:
        return f"wrote no log at logs/{run_id(result.seed)}.txt"
    return "its log has no score line"


def report_seed(console, label: str, result: RerunResult, completed: bool, tail=()) -> None:
    if completed:
        say(console, f"{label}: done in {result.elapsed_s:.1f}s, log {result.log_path}")
        return
    say(console, f"{label}: FAILED, {result.why}; output in {result.workdir / RERUN_LOG}")
    if result.error:
        say(console, f"    first error: {result.error}")
    else:
        for line in list(tail)[-15:]:
            say(console, f"    {line}")

"""`--launcher local`: the seeds run one after the other on this machine, each in its own process group."""

from __future__ import annotations

from golf.errors import GolfError
from golf.produce.rerun.plan import RecordPlan
from golf.produce.rerun.process import _run_seed
from golf.produce.rerun.result import finish_seed, report_seed, seeds_to_run
from golf.produce.rerun.workdir import RERUN_LOG, _fresh_copy


def run_local(plans: list[RecordPlan], results: dict, *, timeout_per_seed=None, console) -> None:
    """Run every seed of every plan, one after the other; results[record_dir] gets its seeds' RerunResults."""
    from golf.produce.rerun.slurm import JOBS_NAME, jobs_in_flight

    for plan in plans:
        if ids := jobs_in_flight(plan.workdir):
            raise GolfError(f"{plan.workdir}: SLURM job(s) {', '.join(ids)} of an earlier `--launcher slurm` rerun "
                            "may still write there; resume with --launcher slurm, or cancel them (scancel) and "
                            f"delete {plan.workdir / JOBS_NAME}")
    done: dict = {}
    with console.status("starting") as status:
        for plan, seed, label in seeds_to_run(plans, console, done):
            _fresh_copy(plan.record_dir, seed.seed_dir)
            returncode, timed_out, elapsed, tail = _run_seed(seed.command, seed.env, seed.seed_dir,
                                                             seed.seed_dir / RERUN_LOG, timeout_per_seed,
                                                             status, label)
            why = f"timed out after {timeout_per_seed:g}s (process group killed)" if timed_out else None
            result, completed = finish_seed(plan, seed, returncode=returncode, timed_out=timed_out,
                                            elapsed_s=elapsed, why=why)
            done[plan.record_dir, seed.seed] = result
            report_seed(console, label, result, completed, tail)
    for plan in plans:
        results[plan.record_dir] = [done[plan.record_dir, seed.seed] for seed in plan.seeds]

"""`--launcher local`: the seeds run one after the other on this machine, each in its own process group."""

from __future__ import annotations

from golf.errors import GolfError
from golf.produce.rerun.plan import RecordPlan
from golf.produce.rerun.process import _run_seed
from golf.produce.rerun.result import RerunResult, completed_earlier, finish_seed, report_seed
from golf.produce.rerun.workdir import RERUN_LOG, _fresh_copy, say


def run_local(plans: list[RecordPlan], results: dict, *, timeout_per_seed=None, console) -> None:
    """Run every seed of every plan; results[record_dir] collects each seed's RerunResult as it ends."""
    from golf.produce.rerun.slurm import JOBS_NAME, jobs_in_flight

    for plan in plans:
        if ids := jobs_in_flight(plan.workdir):
            raise GolfError(f"{plan.workdir}: SLURM job(s) {', '.join(ids)} of an earlier `--launcher slurm` rerun "
                            "may still write there; resume with --launcher slurm, or cancel them (scancel) and "
                            f"delete {plan.workdir / JOBS_NAME}")
    with console.status("starting") as status:
        for plan in plans:
            out: list[RerunResult] = results.setdefault(plan.record_dir, [])
            for i, seed in enumerate(plan.seeds, 1):
                label = f"seed {i}/{len(plan.seeds)} ({seed.seed})"
                if len(plans) > 1:
                    label = f"{plan.record_dir.name} {label}"
                earlier = completed_earlier(plan, seed)
                if earlier is not None:
                    out.append(earlier)
                    say(console, f"{label}: already completed in an earlier run, skipped")
                    continue
                _fresh_copy(plan.record_dir, seed.seed_dir)
                returncode, timed_out, elapsed, tail = _run_seed(seed.command, seed.env, seed.seed_dir,
                                                                 seed.seed_dir / RERUN_LOG, timeout_per_seed,
                                                                 status, label)
                why = f"timed out after {timeout_per_seed:g}s (process group killed)" if timed_out else None
                result, completed = finish_seed(plan, seed, returncode=returncode, timed_out=timed_out,
                                                elapsed_s=elapsed, why=why)
                out.append(result)
                report_seed(console, label, result, completed, tail)

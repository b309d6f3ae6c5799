"""Rerun record folders: each seed in a fresh copy, launched with torchrun, on this machine or on SLURM.

The record's command (submission.json `run` block, else the README's torchrun line) is read by
golf.read.commands. The parts, in the order a rerun uses them:

    plan.py      seeds, the clean environment, the torchrun command of each seed, the work directory
    workdir.py   fresh per-seed copies and rerun_state.json (what lets a rerun resume)
    process.py   one seed on this machine: a process group, a timeout, Ctrl-C kills every rank
    result.py    a finished seed judged the same way whichever launcher ran it
    local.py     `--launcher local` (the default): the seeds one after the other on this machine
    slurm.py     `--launcher slurm`: one sbatch job per (record, seed), waited for, cancelled on Ctrl-C

A seed counts as completed when its process exited 0 and its log holds a score. A rerun that is
interrupted (Ctrl-C, a timeout, a crash) and started again skips the completed seeds, provided the
record folder's content and the launch options are unchanged; otherwise it starts over and says so.

Nothing of the record runs inside golf's process: the record's own command is launched as
`python -m torch.distributed.run ... <script>` with a clean environment (the record's own variables
under the rules of golf.produce.safe_env), in a process group or a SLURM job golf can kill.
"""

from __future__ import annotations

from pathlib import Path

from golf.errors import GolfError
from golf.read.commands import LaunchSpec, launch_spec, parse_command_line, readme_commands
from golf.produce.rerun.plan import (RecordPlan, SeedPlan, _absolute_paths, _check_inputs, clean_environment,
                                     default_nproc, default_seeds, format_command, launcher_options, make_plan,
                                     run_id, seal)
from golf.produce.rerun.process import _run_seed, _terminate_as_interrupt, first_error
from golf.produce.rerun.result import RerunResult
from golf.produce.rerun.workdir import (ARTIFACT_NAME, MARKER_NAME, RERUN_LOG, STATE_NAME, WORKDIR_NAME, _fresh_copy,
                                        _has_score, _resume_state, _save_state, record_hash, say)

_say = say  # the name golf.produce.train uses

LAUNCHERS = ("local", "slurm")


def rerun_record(record_dir, *, seeds=None, nproc=None, data_path=None, tokenizer_path=None,
                 timeout_per_seed=None, workdir=None, dry_run=False, torchrun_args=(), console=None,
                 ruleset=None, launcher="local", slurm=None) -> list[RerunResult]:
    """Rerun one record's own command once per seed; see the package docstring."""
    record_dir = Path(record_dir).resolve()
    results = rerun_records([record_dir], seeds=seeds, nproc=nproc, data_path=data_path,
                            tokenizer_path=tokenizer_path, timeout_per_seed=timeout_per_seed, workdir=workdir,
                            dry_run=dry_run, torchrun_args=torchrun_args, console=console, ruleset=ruleset,
                            launcher=launcher, slurm=slurm)
    return results[record_dir]


def rerun_records(record_dirs, *, seeds=None, nproc=None, data_path=None, tokenizer_path=None,
                  timeout_per_seed=None, workdir=None, dry_run=False, torchrun_args=(), console=None,
                  ruleset=None, launcher="local", slurm=None) -> dict[Path, list[RerunResult]]:
    """Rerun several records as one batch: {record folder: its seeds' results}.

    With one record, `workdir` is its work directory; with several, each gets `workdir/<folder name>`.
    `slurm` holds the SLURM options (golf.produce.rerun.slurm.SlurmOptions) for `launcher="slurm"`.
    """
    from rich.console import Console

    console = console or Console(stderr=True)
    if launcher not in LAUNCHERS:
        raise GolfError(f"unknown launcher {launcher!r} (choose {' or '.join(LAUNCHERS)})")
    if nproc is not None and nproc < 1:
        raise GolfError(f"--nproc must be at least 1 (got {nproc})")
    if timeout_per_seed is not None and timeout_per_seed <= 0:
        raise GolfError(f"--timeout-per-seed must be positive (got {timeout_per_seed})")
    if ruleset is None:
        from golf.judge.judging import ruleset_named

        ruleset = ruleset_named(None)
    record_dirs = [Path(d).resolve() for d in record_dirs]
    if not record_dirs:
        raise GolfError("no record folder to rerun")
    for record_dir in record_dirs:
        if not record_dir.is_dir():
            raise GolfError(f"{record_dir}: not a record folder")
    plans = [make_plan(d, seeds=seeds, nproc=nproc, data_path=data_path, tokenizer_path=tokenizer_path,
                       workdir=_workdir_of(d, record_dirs, workdir), torchrun_args=torchrun_args,
                       ruleset=ruleset, console=console)
             for d in record_dirs]
    if launcher == "slurm":
        from golf.produce.rerun.slurm import SlurmOptions

        slurm = slurm or SlurmOptions()
        slurm.check(timeout_per_seed)
    if dry_run:
        return _dry_run(plans, launcher, slurm, timeout_per_seed, console)
    for plan in plans:
        seal(plan)
    for plan in plans:
        plan.state = _resume_state(plan.state_path, plan.fingerprint, console)
        plan.workdir.mkdir(parents=True, exist_ok=True)
        _save_state(plan.state_path, plan.state)
        say(console, f"rerun of {plan.record_dir} ({plan.spec.source}): {len(plan.seeds)} seed(s), nproc "
                     f"{plan.nproc} (from {plan.nproc_source}), work directory {plan.workdir}")

    results: dict[Path, list[RerunResult]] = {}
    with _terminate_as_interrupt():
        if launcher == "slurm":
            from golf.produce.rerun.slurm import run_slurm

            run_slurm(plans, results, options=slurm, timeout_per_seed=timeout_per_seed, console=console)
        else:
            try:
                from golf.produce.rerun.local import run_local

                run_local(plans, results, timeout_per_seed=timeout_per_seed, console=console)
            except KeyboardInterrupt:
                say(console, "interrupted: the process group was killed; completed seeds are kept in "
                             f"{_state_paths(plans)}, run the same command again to resume")
                raise
    return results


def _workdir_of(record_dir: Path, record_dirs: list[Path], workdir) -> Path | None:
    if len(record_dirs) == 1:
        return workdir
    names = [d.name for d in record_dirs]
    if names.count(record_dir.name) > 1:
        raise GolfError(f"two record folders are named {record_dir.name}; rerun them one at a time "
                        "(each work directory is named after its record folder)")
    return Path(workdir) / record_dir.name if workdir is not None else None


def _state_paths(plans) -> str:
    return ", ".join(str(p.state_path) for p in plans)


def _dry_run(plans, launcher, slurm, timeout_per_seed, console) -> dict[Path, list[RerunResult]]:
    out = {}
    for plan in plans:
        say(console, f"# dry run of {plan.record_dir}: the command comes from the {plan.spec.source}; nothing is "
                     "copied, run or submitted")
        out[plan.record_dir] = []
        for seed in plan.seeds:
            if launcher == "slurm":
                from golf.produce.rerun.slurm import sbatch_script

                say(console, f"# sbatch script for seed {seed.seed} ({seed.seed_dir.parent / 'slurm'})")
                say(console, sbatch_script(plan, seed, slurm, timeout_per_seed))
            else:
                say(console, format_command(seed.command, seed.env, seed.seed_dir))
            out[plan.record_dir].append(RerunResult(seed=seed.seed, workdir=seed.seed_dir, log_path=None,
                                                    artifact_path=None, returncode=None, timed_out=False,
                                                    elapsed_s=0.0, command=seed.command, resumed=False))
    return out


__all__ = ["RerunResult", "LaunchSpec", "RecordPlan", "SeedPlan", "rerun_record", "rerun_records", "launch_spec",
           "readme_commands", "parse_command_line", "default_seeds", "default_nproc", "clean_environment",
           "launcher_options", "record_hash", "format_command", "first_error", "run_id", "LAUNCHERS",
           "ARTIFACT_NAME", "MARKER_NAME", "RERUN_LOG", "STATE_NAME", "WORKDIR_NAME",
           "_absolute_paths", "_check_inputs", "_fresh_copy", "_has_score", "_resume_state", "_run_seed",
           "_save_state", "_say", "_terminate_as_interrupt"]

"""`golf train`: run a record's seeds for a participant, file the logs, record how they were run.

Each seed runs the record's script with torchrun in a fresh copy of the folder (the rerun machinery
of golf.produce.rerun: a process group per seed, a timeout, resume state), so the trainer's outputs
(`logs/`, `final_model.*`) never land in the record. What comes back into the record:

    train_seed<SEED>.log     the run's own log (logs/<RUN_ID>.txt)
    submission.json          its `run` block: the exact command and environment, written before the
                             first seed, so `golf submit` needs no --env and a rerun runs the same thing

An interrupted `golf train` started again with the same settings skips the seeds already filed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from golf.errors import GolfError
from golf.io import atomic_write_bytes, atomic_write_text
from golf.produce import rerun
from golf.read.runenv import PER_RUN

WORKDIR_NAME = ".golf-train"
TRAIN_OUTPUT = "train.log"


@dataclass
class TrainResult:
    seed: int
    log: Path | None          # the filed train_seed<SEED>.log
    ok: bool
    elapsed_s: float
    resumed: bool = False
    why: str = ""             # why a seed failed
    output: Path | None = None


def launch_command(nproc: int, script: str) -> str:
    return f"torchrun --standalone --nproc_per_node={nproc} {script}"


def run_id(seed: int) -> str:
    return f"train_seed{seed}"


def log_name(seed: int) -> str:
    return f"train_seed{seed}.log"


def record_run_block(record_dir: Path, command: str, env: dict[str, str]) -> None:
    """Put `run: {command, env}` into submission.json, keeping everything else a person wrote there."""
    path = record_dir / "submission.json"
    data: dict = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise GolfError(f"{path}: not readable JSON ({error}); fix or remove it before `golf train`")
        if not isinstance(data, dict):
            raise GolfError(f"{path}: expected a JSON object")
    data["run"] = {"command": command, "env": dict(env)}
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if not path.is_file() or path.read_text("utf-8") != text:
        atomic_write_text(path, text)


def train_record(record_dir, *, seeds, nproc, env=None, script="train_gpt.py", timeout_per_seed=None,
                 workdir=None, console=None, ruleset=None) -> list[TrainResult]:
    """Run `script` once per seed under torchrun; file each log into the record folder."""
    from rich.console import Console

    console = console or Console(stderr=True)
    if ruleset is None:
        from golf.judge.judging import ruleset_named

        ruleset = ruleset_named(None)
    record_dir = Path(record_dir).resolve()
    env = dict(env or {})
    _check_arguments(record_dir, seeds, nproc, env, script, timeout_per_seed)
    workdir = _workdir(record_dir, workdir)
    command = launch_command(nproc, script)
    record_run_block(record_dir, command, env)

    env_base = rerun.clean_environment()
    env_base.update(rerun._absolute_paths(env, record_dir, Path.cwd()))
    rerun._check_inputs(env_base, record_dir)
    launcher = [sys.executable, "-m", "torch.distributed.run", *rerun.launcher_options(nproc), script]

    state_path = workdir / rerun.STATE_NAME
    fingerprint = {"record_sha256": rerun.record_hash(record_dir), "nproc": nproc, "script": script,
                   "env": dict(sorted(env.items()))}
    state = rerun._resume_state(state_path, fingerprint, console)
    workdir.mkdir(parents=True, exist_ok=True)
    rerun._save_state(state_path, state)
    rerun._say(console, f"training {_shown(record_dir)}: {len(seeds)} seed(s), `{command}`, work directory "
                        f"{_shown(workdir)}")
    results: list[TrainResult] = []
    try:
        with rerun._terminate_as_interrupt(), console.status("starting") as status:
            for i, seed in enumerate(seeds, 1):
                label = f"seed {i}/{len(seeds)} ({seed})"
                result = _train_seed(seed, label, record_dir, workdir, launcher, env_base, state, state_path,
                                     timeout_per_seed, ruleset, status, console)
                results.append(result)
                if not result.ok:
                    break  # the same settings would fail the next seed the same way
    except KeyboardInterrupt:
        rerun._say(console, "interrupted: the seed's processes were killed; seeds already filed are kept, "
                            "run the same command again to resume")
        raise
    return results


def _check_arguments(record_dir: Path, seeds, nproc: int, env: dict, script: str, timeout) -> None:
    if not record_dir.is_dir():
        raise GolfError(f"{record_dir}: not a folder (make one with `golf new TRACK NAME`)")
    if not (record_dir / script).is_file():
        raise GolfError(f"{record_dir}: no {script} to train (copy the reference trainer, or use `golf new`)")
    if not seeds:
        raise GolfError("give at least one seed (--seeds 1337 42 2025)")
    if len(set(seeds)) != len(seeds):
        raise GolfError(f"seeds must be distinct (got {' '.join(map(str, seeds))})")
    if nproc < 1:
        raise GolfError(f"--nproc must be at least 1 (got {nproc})")
    if timeout is not None and timeout <= 0:
        raise GolfError(f"--timeout-per-seed must be positive (got {timeout})")
    fixed = [key for key in env if key in PER_RUN]
    if fixed:
        raise GolfError(f"{', '.join(fixed)} is set by golf train for each seed; use --seeds instead")


def _workdir(record_dir: Path, workdir) -> Path:
    path = Path(workdir) if workdir is not None else Path.cwd() / WORKDIR_NAME / record_dir.name
    path = path.resolve()
    if path == record_dir or path.is_relative_to(record_dir):
        raise GolfError(f"work directory {path} is inside the record folder {record_dir}; choose another --workdir")
    return path


def _train_seed(seed, label, record_dir, workdir, launcher, env_base, state, state_path, timeout, ruleset,
                status, console) -> TrainResult:
    filed = record_dir / log_name(seed)
    done = state["completed"].get(str(seed))
    if done and filed.is_file():
        rerun._say(console, f"{label}: already filed as {filed.name} in an earlier run, skipped")
        return TrainResult(seed, filed, True, float(done.get("elapsed_s", 0.0)), resumed=True)
    seed_dir = workdir / f"seed{seed}"
    rerun._fresh_copy(record_dir, seed_dir)
    env = {**env_base, "SEED": str(seed), "RUN_ID": run_id(seed)}
    output = seed_dir / TRAIN_OUTPUT
    returncode, timed_out, elapsed, _tail = rerun._run_seed(launcher, env, seed_dir, output, timeout, status, label)
    log = seed_dir / "logs" / f"{run_id(seed)}.txt"
    if returncode == 0 and log.is_file() and rerun._has_score(log, ruleset, None):
        atomic_write_bytes(filed, log.read_bytes())
        state["completed"][str(seed)] = {"log": filed.name, "elapsed_s": round(elapsed, 3)}
        rerun._save_state(state_path, state)
        rerun._say(console, f"{label}: done in {elapsed:.1f}s, filed {filed.name}")
        return TrainResult(seed, filed, True, elapsed, output=output)
    if timed_out:
        why = f"timed out after {timeout:g}s (process group killed)"
    elif returncode != 0:
        why = f"exited with status {returncode}"
    else:
        why = "its log has no score line" if log.is_file() else f"wrote no log at logs/{run_id(seed)}.txt"
    cause = rerun.first_error(output)
    rerun._say(console, f"{label}: FAILED, {why}" + (f": {cause}" if cause else "") + f"; output in {output}")
    return TrainResult(seed, None, False, elapsed, why=why + (f": {cause}" if cause else ""), output=output)


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the current directory when it is below it."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)


__all__ = ["TrainResult", "launch_command", "log_name", "record_run_block", "train_record"]

"""The plan of a rerun: for each record, its command, seeds, environment and work directory, before
anything is copied or launched. Both launchers (this machine, SLURM) run the same plan."""

from __future__ import annotations

import importlib.util
import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError
from golf.read.commands import LaunchSpec, expand, launch_spec
from golf.produce.rerun.workdir import STATE_NAME, record_hash, resolve_workdir, say
from golf.produce.safe_env import split_record_env

# The caller's environment is not passed on; only these variables (and the record's own env) are.
ENV_KEEP = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ", "TERM", "LANG", "LANGUAGE",
            "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH",
            "NVIDIA_VISIBLE_DEVICES", "OMP_NUM_THREADS")
ENV_KEEP_PREFIXES = ("LC_", "NCCL_")

# torchrun options that describe the job topology; when any is given, `--standalone` is dropped.
MULTINODE_PREFIXES = ("--nnodes", "--node-rank", "--node_rank", "--rdzv", "--master")


@dataclass
class SeedPlan:
    seed: int
    seed_dir: Path                # the fresh copy the seed runs in
    command: list[str]            # python -m torch.distributed.run ... script args
    env: dict[str, str]           # the whole environment of the launch (nothing else is inherited)


@dataclass
class RecordPlan:
    record_dir: Path
    record: object                # golf.read.records.Record
    spec: LaunchSpec
    nproc: int
    nproc_source: str
    workdir: Path
    env_base: dict[str, str]
    seeds: list[SeedPlan] = field(default_factory=list)
    fingerprint: dict = field(default_factory=dict)   # what must not change for completed seeds to count
    state: dict = field(default_factory=dict)         # rerun_state.json, once loaded
    ruleset: object = None

    @property
    def state_path(self) -> Path:
        return self.workdir / STATE_NAME


def default_seeds(record, ruleset) -> list[int]:
    """Seeds the record ran (logs, then submission.json); else the ruleset's default seeds, as many as it
    recommends runs."""
    seeds: list[int] = []
    for log in getattr(record, "logs", None) or []:
        if getattr(log, "duplicate_of", None) is None and getattr(log, "seed", None) is not None:
            seeds.append(int(log.seed))
    submission = getattr(record, "submission", None)
    seeds += [int(s) for s in (getattr(submission, "seeds", None) or [])]
    seeds = list(dict.fromkeys(seeds))
    if seeds:
        return seeds
    defaults = list(ruleset.reruns.default_seeds)
    n = max(ruleset.significance.min_runs, ruleset.significance.recommended_runs)
    extra = [s for s in range(1, n + 1) if s not in defaults]
    return (defaults + extra)[:n]


def clean_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The few variables of the caller's environment a run needs (PATH, HOME, locale, GPU selection)."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if k in ENV_KEEP or k.startswith(ENV_KEEP_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _absolute_paths(env: dict[str, str], record_dir: Path, cwd: Path) -> dict[str, str]:
    """Relative paths in the record's env that exist from the caller's directory (but not inside the
    record folder) are made absolute, since the run happens in another directory."""
    out = {}
    for key, value in env.items():
        if value and not os.path.isabs(value) and not (record_dir / value).exists() and (cwd / value).exists():
            value = str((cwd / value).resolve())
        out[key] = value
    return out


def launcher_options(nproc: int, torchrun_args=()) -> list[str]:
    args = [str(a) for a in torchrun_args]
    multinode = any(a.startswith(MULTINODE_PREFIXES) for a in args)
    return ([] if multinode else ["--standalone"]) + [f"--nproc_per_node={nproc}"] + args


def run_id(seed: int) -> str:
    return f"golf_rerun_seed{seed}"


def default_nproc(record, spec: LaunchSpec, ruleset) -> tuple[int, str]:
    """Processes per node for a rerun, and where the number came from: the record's command, else its track."""
    if spec.nproc:
        return spec.nproc, f"the {spec.source}"
    submission = getattr(record, "submission", None)
    for name in (getattr(record, "track_dir", None), getattr(submission, "track", None)):
        track = ruleset.find_track(name) if name else None
        if track is not None:
            return track.processes, f"track {track.name} in ruleset {ruleset.name}"
    track = ruleset.track()
    return track.processes, f"the default track {track.name}"


def _check_inputs(env: dict[str, str], record_dir: Path) -> None:
    """Fail before copying anything when the run cannot start: no torch, or data that is not there."""
    if importlib.util.find_spec("torch") is None:
        raise GolfError("training and reruns launch torchrun, but torch is not installed in this Python "
                        f"({sys.executable}): pip install 'golf[train]' (see the README)")
    for key, hint in (("DATA_PATH", "--data-path"), ("TOKENIZER_PATH", "--tokenizer-path")):
        value = env.get(key)
        # A relative path that is not made absolute is looked up inside the record folder's copy.
        if value and not os.path.exists(value if os.path.isabs(value) else record_dir / value):
            raise GolfError(f"{key} {value} does not exist (looked for it from {Path.cwd()} and in the record "
                            f"folder); pass {hint}, or run `golf data smoke` for the bundled smoke dataset")


def format_command(command: list[str], env: dict[str, str], cwd: Path) -> str:
    """A shell line that reproduces one seed's launch exactly (clean env included)."""
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
    return f"cd {shlex.quote(str(cwd))} && env -i {assignments} {shlex.join(command)}"


def make_plan(record_dir: Path, *, seeds=None, nproc=None, data_path=None, tokenizer_path=None, workdir=None,
              torchrun_args=(), ruleset, console) -> RecordPlan:
    """Everything a rerun of one record will do, decided before anything is copied or launched."""
    from golf.read.records import load_record

    record_dir = Path(record_dir).resolve()
    if not record_dir.is_dir():
        raise GolfError(f"{record_dir}: not a record folder")
    record = load_record(record_dir)
    spec = launch_spec(record)
    nproc_source = "--nproc"
    if nproc is None:
        nproc, nproc_source = default_nproc(record, spec, ruleset)
    seeds = [int(s) for s in seeds] if seeds else default_seeds(record, ruleset)
    if len(set(seeds)) != len(seeds):
        raise GolfError(f"seeds must be distinct (got {seeds})")
    workdir = resolve_workdir(record_dir, workdir)

    env_base = clean_environment()
    knobs, refused = split_record_env(spec.env)
    for problem in refused:
        say(console, f"golf: warning: not passed to the run ({record_dir.name}, {spec.source}): {problem}")
    env_base.update(_absolute_paths(knobs, record_dir, Path.cwd()))
    if data_path is not None:
        env_base["DATA_PATH"] = str(Path(data_path).resolve())
    if tokenizer_path is not None:
        env_base["TOKENIZER_PATH"] = str(Path(tokenizer_path).resolve())
    options = launcher_options(nproc, torchrun_args)
    plan = RecordPlan(record_dir=record_dir, record=record, spec=spec, nproc=nproc, nproc_source=nproc_source,
                      workdir=workdir, env_base=env_base, ruleset=ruleset)
    for seed in seeds:
        env = {**env_base, "SEED": str(seed), "RUN_ID": run_id(seed)}
        args = [expand(a, env) for a in spec.script_args]
        command = [sys.executable, "-m", "torch.distributed.run", *options, spec.script, *args]
        plan.seeds.append(SeedPlan(seed=seed, seed_dir=workdir / f"seed{seed}", command=command, env=env))
    plan.fingerprint = {"record_sha256": None, "nproc": nproc, "script": spec.script,
                        "torchrun_args": [str(a) for a in torchrun_args],
                        "data_path": env_base.get("DATA_PATH"), "tokenizer_path": env_base.get("TOKENIZER_PATH")}
    return plan


def seal(plan: RecordPlan) -> None:
    """Before a real run: check the inputs exist and fix the record's content hash into the fingerprint."""
    _check_inputs(plan.env_base, plan.record_dir)
    plan.fingerprint["record_sha256"] = record_hash(plan.record_dir)

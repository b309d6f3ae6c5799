"""`--launcher slurm`: one sbatch job per (record, seed), each a torchrun on one node.

The job runs the same command, in the same clean environment, in the same fresh copy of the record a
local rerun uses; the work directory must therefore be on a filesystem the nodes share. What golf keeps
in the work directory besides the local layout:

    <workdir>/slurm/seed<SEED>.sbatch   the job script (what --dry-run prints)
    <workdir>/slurm_jobs.json           the jobs in flight: a rerun started again re-attaches to them
    <workdir>/seed<SEED>/.golf-exit     written by the job when torchrun ends: "<status> <start> <end>"

The exit file, not the accounting database, says how a seed ended (many clusters keep no accounting a
user can read, and squeue forgets a job minutes after it ends); squeue only says queued or running,
and names the reason a job ended without writing the file (cancelled, its --time limit, a node failure).

Every call to SLURM goes through the four commands at the top of this module (sbatch, squeue, sacct,
scancel), each a subprocess with a timeout; nothing here schedules anything itself.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError
from golf.io import atomic_write_text, dumps_json
from golf.produce.rerun.plan import RecordPlan, SeedPlan
from golf.produce.rerun.process import last_step
from golf.produce.rerun.result import RerunResult, finish_seed, report_seed, seeds_to_run
from golf.produce.rerun.workdir import RERUN_LOG, _fresh_copy, say

POLL_S = 5.0              # between two squeue calls
COMMAND_TIMEOUT_S = 60.0  # for one sbatch/squeue/sacct/scancel call
EXIT_GRACE_S = 60.0       # how long a finished job's exit file may take to appear on a shared filesystem
KILL_AFTER_S = 10         # --timeout-per-seed: SIGKILL this long after SIGTERM
JOBS_NAME = "slurm_jobs.json"
EXIT_NAME = ".golf-exit"
SCRIPTS_DIR = "slurm"

# Variables the node gives the job (its GPUs, its scratch folder): taken from the job, never from golf's machine.
NODE_VARS = ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "TMPDIR")
QUEUED = ("PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SUSPENDED")
ENDED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
         "DEADLINE", "REVOKED", "SPECIAL_EXIT")
TIME_LIMIT = re.compile(r"\d+(:\d{1,2}){0,2}|\d+-\d+(:\d{1,2}){0,2}")


class SlurmError(GolfError):
    pass


# ---------------------------------------------------------------------------------------------
# The four SLURM commands


def _slurm(args: list[str], what: str) -> subprocess.CompletedProcess:
    if shutil.which(args[0]) is None:
        raise SlurmError(f"{args[0]} not found: --launcher slurm needs SLURM's client commands (sbatch, squeue, "
                         "scancel) on PATH, on a machine that can submit jobs")
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SlurmError(f"{what}: {args[0]} did not answer in {COMMAND_TIMEOUT_S:g}s") from None


def sbatch(script: Path) -> str:
    """Submit a job script; its job id."""
    done = _slurm(["sbatch", "--parsable", str(script)], f"submitting {script}")
    job_id = done.stdout.strip().split(";")[0]
    if done.returncode != 0 or not job_id.isdigit():
        raise SlurmError(f"sbatch {script} failed (status {done.returncode}): {(done.stderr or done.stdout).strip()}")
    return job_id


@dataclass
class JobInfo:
    state: str
    node: str = ""
    reason: str = ""


def squeue(job_ids: list[str]) -> dict[str, JobInfo] | None:
    """What squeue knows of these jobs (a job absent from the answer has left it); None when it cannot say."""
    if not job_ids:
        return {}
    done = _slurm(["squeue", "--noheader", "--states=all", f"--jobs={','.join(job_ids)}", "--format=%i|%T|%N|%r"],
                  "asking squeue")
    if done.returncode != 0:
        # Every job id unknown (they all left the queue) is an error to squeue, not a failure to answer.
        return {} if "Invalid job id" in done.stderr else None
    jobs = {}
    for line in done.stdout.splitlines():
        parts = line.strip().split("|")
        if len(parts) == 4 and parts[0] in job_ids:
            jobs[parts[0]] = JobInfo(state=parts[1].split()[0], node=parts[2], reason=parts[3])
    return jobs


def sacct_state(job_id: str) -> str | None:
    """The job's final state from SLURM's accounting, where the cluster keeps one; else None."""
    try:
        done = _slurm(["sacct", "--noheader", "--parsable2", "--allocations", f"--jobs={job_id}",
                       "--format=State"], "asking sacct")
    except SlurmError:
        return None
    states = done.stdout.split()
    return states[0].split()[0] if done.returncode == 0 and states else None


def scancel(job_ids: list[str]) -> bool:
    if not job_ids:
        return True
    return _slurm(["scancel", *job_ids], "cancelling jobs").returncode == 0


# ---------------------------------------------------------------------------------------------
# Options and the job script


@dataclass
class SlurmOptions:
    partition: str | None = None
    account: str | None = None
    gpus_per_node: int | None = None
    time: str | None = None                       # the job's time limit, in SLURM's format (e.g. 00:30:00)
    sbatch_args: list[str] = field(default_factory=list)

    def check(self, timeout_per_seed=None) -> None:
        if self.time is not None and not TIME_LIMIT.fullmatch(self.time):
            raise GolfError(f"--time {self.time!r}: expected a SLURM time limit such as 30, 00:30:00 or 1-00:00:00")
        if self.gpus_per_node is not None and self.gpus_per_node < 0:
            raise GolfError(f"--gpus-per-node must be 0 or more (got {self.gpus_per_node})")
        for name, value in (("--partition", self.partition), ("--account", self.account)):
            if value is not None and (not value or any(c.isspace() for c in value)):
                raise GolfError(f"{name} {value!r}: expected one word")
        for arg in self.sbatch_args:
            if not arg.startswith("-") or "\n" in arg or "\r" in arg:
                raise GolfError(f"--sbatch-arg {arg!r}: expected one sbatch option such as --exclusive or "
                                "--qos=high (write an option and its value as --name=value)")


def job_name(plan: RecordPlan, seed: SeedPlan) -> str:
    return f"golf-rerun-{seed.seed}-{plan.record_dir.name}"[:120]


def script_path(plan: RecordPlan, seed: SeedPlan) -> Path:
    return plan.workdir / SCRIPTS_DIR / f"seed{seed.seed}.sbatch"


def sbatch_script(plan: RecordPlan, seed: SeedPlan, options: SlurmOptions, timeout_per_seed=None) -> str:
    """The job script of one seed: SLURM's options, then torchrun in the seed's copy with a clean environment."""
    directives = [f"--job-name={job_name(plan, seed)}", "--nodes=1", "--ntasks=1",
                  f"--chdir={seed.seed_dir}", f"--output={seed.seed_dir / RERUN_LOG}"]
    if options.partition:
        directives.append(f"--partition={options.partition}")
    if options.account:
        directives.append(f"--account={options.account}")
    if options.gpus_per_node is not None:
        directives.append(f"--gpus-per-node={options.gpus_per_node}")
    if options.time:
        directives.append(f"--time={options.time}")
    directives += options.sbatch_args
    env = {k: v for k, v in sorted(seed.env.items()) if k not in NODE_VARS}
    first = 'env -i "${node_env[@]}"'
    if timeout_per_seed is not None:
        first = f"timeout --kill-after={KILL_AFTER_S} {timeout_per_seed:g} {first}"
    launch = [first, *(shlex.quote(f"{k}={v}") for k, v in env.items()), shlex.join(seed.command)]
    exit_file = shlex.quote(EXIT_NAME)
    lines = ["#!/bin/bash", *(f"#SBATCH {d}" for d in directives),
             f"# golf verify --rerun --launcher slurm: {plan.record_dir}, seed {seed.seed}",
             f"# the command comes from the {plan.spec.source}; written by golf, resubmitted by it on a resume",
             f"cd {shlex.quote(str(seed.seed_dir))} || exit 1",
             "node_env=()",
             f"for name in {' '.join(NODE_VARS)}; do",
             '  if [ -n "${!name+set}" ]; then node_env+=("$name=${!name}"); fi',
             "done",
             "start=$(date +%s.%N)",
             " \\\n    ".join(launch),
             "status=$?",
             f'printf "%s %s %s\\n" "$status" "$start" "$(date +%s.%N)" > {exit_file}.tmp && '
             f"mv {exit_file}.tmp {exit_file}",
             'exit "$status"']
    return "\n".join(lines) + "\n"


def read_exit(seed_dir: Path) -> tuple[int, float] | None:
    """(exit status, seconds the command ran) from the job's exit file, or None while there is none."""
    try:
        status, start, end = (seed_dir / EXIT_NAME).read_text().split()
        return int(status), max(0.0, float(end) - float(start))
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# The jobs in flight (slurm_jobs.json)


def _jobs_path(plan: RecordPlan) -> Path:
    return plan.workdir / JOBS_NAME


def _load_jobs(plan: RecordPlan, console) -> dict[str, dict]:
    """{seed: {"job_id": ...}} of the jobs an earlier run submitted; jobs of a rerun with other options or
    another version of the record are cancelled, since their seed folders are about to be replaced."""
    try:
        data = json.loads(_jobs_path(plan).read_text())
        jobs = {str(k): v for k, v in data["jobs"].items() if isinstance(v, dict) and str(v.get("job_id")).isdigit()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    if data.get("fingerprint") != plan.fingerprint and jobs:
        ids = [v["job_id"] for v in jobs.values()]
        say(console, f"{plan.record_dir.name}: cancelling SLURM job(s) {', '.join(ids)} of an earlier rerun with "
                     "another record content or other options")
        scancel(ids)
        return {}
    return jobs


def _save_jobs(plan: RecordPlan, jobs: dict[str, dict]) -> None:
    atomic_write_text(_jobs_path(plan), dumps_json({"golf_slurm_jobs": 1, "fingerprint": plan.fingerprint,
                                                    "jobs": jobs}, indent=2, sort_keys=True) + "\n", backup=False)


def jobs_in_flight(workdir: Path) -> list[str]:
    """The job ids slurm_jobs.json lists in a work directory (for the local launcher's refusal)."""
    try:
        data = json.loads((Path(workdir) / JOBS_NAME).read_text())
        return [str(v["job_id"]) for v in data["jobs"].values()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


# ---------------------------------------------------------------------------------------------
# Submitting, waiting, collecting


@dataclass
class _Job:
    plan: RecordPlan
    seed: SeedPlan
    job_id: str
    label: str
    phase: str = "submitted"
    gone_since: float | None = None
    result: RerunResult | None = None


def run_slurm(plans: list[RecordPlan], results: dict, *, options: SlurmOptions, timeout_per_seed=None,
              console) -> None:
    """Submit every seed not completed yet (or re-attach to its job), wait for all, judge each as it ends."""
    missing = [tool for tool in ("sbatch", "squeue", "scancel") if shutil.which(tool) is None]
    if missing:
        raise SlurmError(f"{', '.join(missing)} not found: --launcher slurm needs SLURM's client commands on PATH, "
                         "on a machine that can submit jobs")
    found: dict[tuple[Path, int], RerunResult] = {}
    jobs_of = {plan.record_dir: _load_jobs(plan, console) for plan in plans}
    known = squeue([v["job_id"] for jobs in jobs_of.values() for v in jobs.values()])
    if known is None:
        raise SlurmError("squeue does not answer: is this a machine of the SLURM cluster?")
    waiting: list[_Job] = []
    try:
        for plan, seed, label in seeds_to_run(plans, console, found):
            jobs = jobs_of[plan.record_dir]
            job = _attach(plan, seed, label, jobs, known, console)
            if job is None:
                job = _submit(plan, seed, label, jobs, options, timeout_per_seed, console)
            waiting.append(job)
        _wait(waiting, timeout_per_seed, console)
    except KeyboardInterrupt:
        _cancel(waiting, jobs_of, plans, console)
        raise
    for job in waiting:
        found[job.plan.record_dir, job.seed.seed] = job.result
    for plan in plans:
        results[plan.record_dir] = [found[plan.record_dir, seed.seed] for seed in plan.seeds]


def _attach(plan, seed, label, jobs, known, console) -> _Job | None:
    """The job an earlier run submitted for this seed, when it is still queued or running."""
    entry = jobs.get(str(seed.seed))
    if entry is None:
        return None
    info = known.get(entry["job_id"])
    if info is not None and info.state not in ENDED:
        say(console, f"{label}: re-attached to SLURM job {entry['job_id']} ({info.state.lower()})")
        return _Job(plan, seed, entry["job_id"], label)
    if read_exit(seed.seed_dir) is not None:
        # It ended while golf was away: judged now like any other (a failed seed is resubmitted next time).
        return _Job(plan, seed, entry["job_id"], label, phase="ended")
    return None


def _submit(plan, seed, label, jobs, options, timeout_per_seed, console) -> _Job:
    _fresh_copy(plan.record_dir, seed.seed_dir)
    script = script_path(plan, seed)
    script.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(script, sbatch_script(plan, seed, options, timeout_per_seed), backup=False)
    job_id = sbatch(script)
    jobs[str(seed.seed)] = {"job_id": job_id, "script": script.relative_to(plan.workdir).as_posix()}
    _save_jobs(plan, jobs)
    say(console, f"{label}: submitted as SLURM job {job_id}")
    return _Job(plan, seed, job_id, label)


def _wait(waiting: list[_Job], timeout_per_seed, console) -> None:
    with console.status("waiting for SLURM") as status:
        while True:
            open_jobs = [job for job in waiting if job.result is None]
            if not open_jobs:
                return
            known = squeue([job.job_id for job in open_jobs])
            for job in open_jobs:
                _step(job, known, timeout_per_seed, console)
            status.update(_progress(waiting))
            if any(job.result is None for job in waiting):
                time.sleep(POLL_S)


def _step(job: _Job, known: dict[str, JobInfo] | None, timeout_per_seed, console) -> None:
    """Look at one job: note it queued or running, or judge the seed once it has ended."""
    ended = read_exit(job.seed.seed_dir)
    if ended is not None:
        status, elapsed = ended
        timed_out = timeout_per_seed is not None and status == 124
        why = f"timed out after {timeout_per_seed:g}s (killed inside SLURM job {job.job_id})" if timed_out else None
        _finish(job, console, returncode=status, timed_out=timed_out, elapsed_s=elapsed, why=why)
        return
    if known is None:
        return  # squeue did not answer this time; ask again at the next poll
    info = known.get(job.job_id)
    if info is not None and info.state not in ENDED:
        phase = "queued" if info.state in QUEUED else "running"
        if phase != job.phase:
            job.phase = phase
            where = f" on {info.node}" if phase == "running" and info.node else ""
            why = f", {info.reason}" if phase == "queued" and info.reason not in ("", "None") else ""
            say(console, f"{job.label}: {phase} (SLURM job {job.job_id}{where}{why})")
        return
    state = info.state if info is not None else sacct_state(job.job_id)
    if state in (None, "COMPLETED", "FAILED"):
        # The job is over; its exit file may still be on its way through a shared filesystem.
        job.gone_since = job.gone_since or time.monotonic()
        if time.monotonic() - job.gone_since < EXIT_GRACE_S:
            return
    timed_out = state in ("TIMEOUT", "DEADLINE")
    why = {"TIMEOUT": f"SLURM job {job.job_id} reached its --time limit and was ended",
           "CANCELLED": f"SLURM job {job.job_id} was cancelled (not by this golf)",
           None: f"SLURM job {job.job_id} left the queue without writing {EXIT_NAME}"}.get(
        state, f"SLURM job {job.job_id} ended {state} without writing {EXIT_NAME}")
    _finish(job, console, returncode=None, timed_out=timed_out, elapsed_s=0.0, why=why)


def _finish(job: _Job, console, **how) -> None:
    result, completed = finish_seed(job.plan, job.seed, job_id=job.job_id, **how)
    job.result = result
    jobs = _load_jobs_quiet(job.plan)
    jobs.pop(str(job.seed.seed), None)
    _save_jobs(job.plan, jobs)
    report_seed(console, job.label, result, completed, _tail(job.seed.seed_dir / RERUN_LOG))


def _load_jobs_quiet(plan: RecordPlan) -> dict[str, dict]:
    try:
        return dict(json.loads(_jobs_path(plan).read_text())["jobs"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _tail(path: Path, n: int = 20) -> list[str]:
    try:
        return path.read_text("utf-8", "replace").splitlines()[-n:]
    except OSError:
        return []


def _progress(waiting: list[_Job]) -> str:
    counts = {"queued": 0, "running": 0, "done": 0}
    running = []
    for job in waiting:
        if job.result is not None:
            counts["done"] += 1
        elif job.phase == "running":
            counts["running"] += 1
            running.append(f"{job.seed.seed} {last_step(job.seed.seed_dir / RERUN_LOG) or 'starting'}")
        else:
            counts["queued"] += 1
    text = f"SLURM: {counts['queued']} queued, {counts['running']} running, {counts['done']}/{len(waiting)} done"
    return text + (" · " + " · ".join(running) if running else "")


def _cancel(waiting: list[_Job], jobs_of: dict, plans: list[RecordPlan], console) -> None:
    """Ctrl-C: cancel every job this run submitted or re-attached to that has not ended."""
    ids = [job.job_id for job in waiting if job.result is None]
    if ids and scancel(ids):
        for plan in plans:
            jobs = _load_jobs_quiet(plan)
            kept = {seed: entry for seed, entry in jobs.items() if entry.get("job_id") not in ids}
            _save_jobs(plan, kept)
        say(console, f"interrupted: cancelled SLURM job(s) {', '.join(ids)}; completed seeds are kept in "
                     f"{', '.join(str(p.state_path) for p in plans)}, run the same command again to resume")
    elif ids:
        say(console, f"interrupted: scancel {' '.join(ids)} failed; the jobs are listed in "
                     f"{', '.join(str(p.workdir / JOBS_NAME) for p in plans)} and the same command re-attaches "
                     "to them")
    else:
        say(console, "interrupted: no SLURM job was running; run the same command again to resume")

"""Rerun a record folder: each seed in a fresh copy, launched with torchrun, under a timeout.

Work directory layout (default `./.golf-rerun/<record folder name>/`, never inside the record):

    <workdir>/rerun_state.json       seeds already completed, with the record's content hash
    <workdir>/seed<SEED>/            a fresh copy of the record folder (previous outputs left out)
    <workdir>/seed<SEED>/rerun.log   everything the launched processes printed
    <workdir>/seed<SEED>/logs/<RUN_ID>.txt, final_model.int8.ptz   what the record's script wrote

A seed counts as completed when its process exited 0 and its log holds a score. A rerun that is
interrupted (Ctrl-C, a timeout, a crash) and started again skips the completed seeds, provided the
record folder's content and the launch options are unchanged; otherwise it starts over and says so.

Nothing of the record runs inside golf's process: the record's own command is launched as
`python -m torch.distributed.run ... <script>` in a new session (process group), with a clean
environment, so a timeout or Ctrl-C can kill the launcher, every rank and anything they spawned.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError
from golf.io import atomic_write_text, dumps_json, sha256_file
from golf.produce.safe_env import split_record_env

KILL_GRACE_S = 10.0
POLL_S = 0.2
STATE_NAME = "rerun_state.json"
MARKER_NAME = ".golf-rerun-seed"
RERUN_LOG = "rerun.log"
ARTIFACT_NAME = "final_model.int8.ptz"
WORKDIR_NAME = ".golf-rerun"

# The caller's environment is not passed on; only these variables (and the record's own env) are.
ENV_KEEP = ("PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ", "TERM", "LANG", "LANGUAGE",
            "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "CUDA_HOME", "CUDA_PATH",
            "NVIDIA_VISIBLE_DEVICES", "OMP_NUM_THREADS")
ENV_KEEP_PREFIXES = ("LC_", "NCCL_")

# torchrun options that describe the job topology; when any is given, `--standalone` is dropped.
MULTINODE_PREFIXES = ("--nnodes", "--node-rank", "--node_rank", "--rdzv", "--master")
# torchrun options that take no value (every other option takes one, inline or as the next word).
TORCHRUN_FLAGS = {"--standalone", "--no-python", "--no_python", "--run-path", "--run_path", "-m", "--module"}

ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
STEP = re.compile(r"(?:^|\s)step:(\d+)/(\d+)|^(\d+)/(\d+) (?:train_loss|val_loss)")
FENCE = re.compile(r"^\s*(```|~~~)")


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


@dataclass
class LaunchSpec:
    """The record's own command: which script, its arguments, its environment, and where it came from."""

    script: str
    script_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    source: str = ""
    nproc: int | None = None      # the command's --nproc_per_node, when it gives one


# ---------------------------------------------------------------------------------------------
# Reading the record's command


def _logical_lines(text: str) -> list[str]:
    """Join backslash-continued lines; undo markdown escapes that some READMEs put in code blocks."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.replace("\\_", "_").rstrip()
        if line.endswith("\\\\"):
            line = line[:-1]
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    if current:
        lines.append(current)
    return lines


def _split(line: str) -> list[str] | None:
    # `2>&1` and `2>file`: the descriptor digits belong to the redirection, not to the command.
    line = re.sub(r"(?<!\S)\d+(?=>)", " ", line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        return None


def _expand(word: str, variables: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), word)


def _is_launcher(words: list[str], i: int) -> int | None:
    """Index just after a torchrun launcher starting at words[i], or None."""
    word = words[i]
    if word == "torchrun" or word.endswith("/torchrun"):
        return i + 1
    if Path(word).name.startswith("python") and words[i + 1:i + 3] == ["-m", "torch.distributed.run"]:
        return i + 3
    return None


def parse_command_line(line: str, variables: dict[str, str] | None = None) -> LaunchSpec | None:
    """Parse one shell command line `VAR=x ... torchrun [opts] script.py [args]`; None if it is not one."""
    words = _split(line)
    if not words:
        return None
    variables = dict(variables or {})
    env: dict[str, str] = {}
    i = 0
    while i < len(words) and (m := ASSIGNMENT.match(words[i])):
        env[m.group(1)] = _expand(m.group(2), {**variables, **env})
        i += 1
    start = _is_launcher(words, i) if i < len(words) else None
    if start is None:
        return None
    i = start
    nproc = None
    while i < len(words) and words[i].startswith("-"):
        option = words[i]
        i += 1
        name, _, value = option.partition("=")
        if option not in TORCHRUN_FLAGS and "=" not in option:
            value = words[i] if i < len(words) else ""
            i += 1  # the option's value is the next word
        if name.replace("_", "-") == "--nproc-per-node" and value.isdigit():
            nproc = int(value)
    if i >= len(words) or not words[i].endswith(".py"):
        return None
    script = words[i]
    args = []
    for word in words[i + 1:]:
        if word and set(word) <= set("();<>|&"):
            break  # a redirection or a pipe ends the command
        args.append(_expand(word, {**variables, **env}))
    return LaunchSpec(script=script, script_args=args, env=env, nproc=nproc)


def _fenced_blocks(text: str) -> list[str]:
    blocks, current, inside = [], [], False
    for line in text.splitlines():
        if FENCE.match(line):
            if inside:
                blocks.append("\n".join(current))
                current = []
            inside = not inside
        elif inside:
            current.append(line)
    return blocks


def readme_commands(text: str) -> list[LaunchSpec]:
    """Every torchrun command in the README's fenced code blocks, in order.

    `export VAR=x` lines earlier in the same block become environment; bare `VAR=x` lines are only
    used to expand `$VAR` in later lines, as a shell would.
    """
    found = []
    for block in _fenced_blocks(text):
        exported: dict[str, str] = {}
        variables: dict[str, str] = {}
        for line in _logical_lines(block):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            words = _split(stripped) or []
            if words and words[0] == "export":
                for word in words[1:]:
                    if m := ASSIGNMENT.match(word):
                        exported[m.group(1)] = _expand(m.group(2), {**variables, **exported})
                continue
            if words and all(ASSIGNMENT.match(w) for w in words):
                for word in words:
                    m = ASSIGNMENT.match(word)
                    variables[m.group(1)] = _expand(m.group(2), {**variables, **exported})
                continue
            spec = parse_command_line(stripped, {**variables, **exported})
            if spec is not None:
                spec.env = {**exported, **spec.env}
                found.append(spec)
    return found


def _resolve_script(record_dir: Path, script: str) -> str | None:
    """The script's path relative to the record folder, trying the path as written, its tail, its name."""
    parts = Path(script).parts
    for k in range(len(parts)):
        candidate = Path(*parts[k:])
        if not candidate.is_absolute() and (record_dir / candidate).is_file():
            return candidate.as_posix()
    return None


def launch_spec(record) -> LaunchSpec:
    """The record's command: submission.json's `run` block, else the README's torchrun command."""
    root = Path(record.root)
    submission = getattr(record, "submission", None)
    raw = getattr(submission, "raw", None) or {}
    run = raw.get("run") if isinstance(raw, dict) else None
    if isinstance(run, dict) and run.get("command"):
        command = run["command"]
        line = shlex.join(str(w) for w in command) if isinstance(command, list) else str(command)
        spec = parse_command_line(" ".join(_logical_lines(line)))
        if spec is None:
            raise GolfError(f"{root / 'submission.json'}: the run command {line!r} is not a torchrun "
                            "command with a .py script (expected `torchrun ... train_gpt.py`)")
        env = run.get("env") or {}
        if not isinstance(env, dict):
            raise GolfError(f"{root / 'submission.json'}: run.env must be an object of NAME: value")
        spec.env.update({str(k): str(v) for k, v in env.items()})
        spec.source = "submission.json run block"
        candidates = [spec]
    else:
        candidates = readme_commands(getattr(record, "readme", None) or "")
        for spec in candidates:
            spec.source = "README.md command block"
        if not candidates:
            raise GolfError(f"{root}: no command to rerun: submission.json has no `run` block and the "
                            "README has no fenced code block with a `torchrun ... train_gpt.py` line")
    resolved = [(spec, _resolve_script(root, spec.script)) for spec in candidates]
    resolved = [(spec, script) for spec, script in resolved if script]
    if not resolved:
        names = ", ".join(sorted({spec.script for spec in candidates}))
        raise GolfError(f"{root}: the command's script ({names}) is not a file in the record folder")
    # Prefer the standard script name when a README shows several commands.
    spec, script = next(((s, p) for s, p in resolved if Path(p).name == "train_gpt.py"), resolved[0])
    spec.script = script
    return spec


# ---------------------------------------------------------------------------------------------
# Seeds, environment, commands


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


# ---------------------------------------------------------------------------------------------
# Work directory, copies, state


def record_hash(record_dir: Path) -> str:
    """sha256 over the relative path and content of every file a rerun copies."""
    digest = hashlib.sha256()
    for rel, source in _copied_files(record_dir):
        digest.update(f"{rel}\0{sha256_file(source)}\n".encode())
    return digest.hexdigest()


def _is_output(rel: Path) -> bool:
    """What earlier runs wrote (logs, checkpoints, artifacts): never copied, so a rerun starts clean."""
    return (rel.parts[0] == "logs" or rel.suffix in (".ptz", ".pt", ".log")
            or "__pycache__" in rel.parts or ".git" in rel.parts)


def _copied_files(record_dir: Path) -> list[tuple[str, Path]]:
    """(relative path, file) for what goes into a fresh copy: not previous outputs, no link leaving the folder."""
    files = []
    for dirpath, dirnames, filenames in os.walk(record_dir):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(record_dir)
            if _is_output(rel):
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_file() or not target.is_relative_to(record_dir):
                    continue
            if path.is_file():
                files.append((rel.as_posix(), path))
    return files


def resolve_workdir(record_dir: Path, workdir=None) -> Path:
    path = Path(workdir) if workdir is not None else Path.cwd() / WORKDIR_NAME / record_dir.name
    path = path.resolve()
    if path == record_dir or path.is_relative_to(record_dir):
        raise GolfError(f"work directory {path} is inside the record folder {record_dir}; "
                        "a rerun never writes into the record (choose another --workdir)")
    return path


def _fresh_copy(record_dir: Path, seed_dir: Path) -> None:
    if seed_dir.exists():
        if not (seed_dir / MARKER_NAME).exists():
            raise GolfError(f"{seed_dir} exists and was not made by golf; refusing to replace it "
                            "(choose another --workdir)")
        shutil.rmtree(seed_dir)
    seed_dir.mkdir(parents=True)
    (seed_dir / MARKER_NAME).write_text("made by golf verify --rerun; replaced on the next rerun\n")
    for rel, source in _copied_files(record_dir):
        target = seed_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _load_state(path: Path) -> dict | None:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("completed"), dict):
        return None
    entries = state["completed"].values()
    if not all(isinstance(e, dict) and isinstance(e.get("log"), str) for e in entries):
        return None
    return state


def _save_state(path: Path, state: dict) -> None:
    atomic_write_text(path, dumps_json(state, indent=2, sort_keys=True) + "\n", backup=False)


def _has_score(log_path: Path, ruleset, submission) -> bool:
    """Whether the seed's log holds the score verify will take (the record's score_label counts)."""
    from golf.judge.facts import score_of
    from golf.read.logs import parse_log

    return score_of(parse_log(log_path).run, ruleset, submission) is not None


# ---------------------------------------------------------------------------------------------
# Launching one seed


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process (Linux /proc); empty where /proc is not available."""
    parents = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return parents
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and fields[0] != b"Z":
            parents[int(name)] = int(fields[1])
    return parents


def _tree(roots: set[int]) -> set[int]:
    """`roots` and all their living descendants."""
    parents = _parents()
    tree, grew = set(roots), True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


def _signal_groups(pids: set[int], sig: int, groups=()) -> None:
    """Send `sig` to `groups` and the process group of each pid (never to golf's own group)."""
    groups = set(groups)
    for pid in pids:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            continue
    for group in groups - {os.getpgrp()}:
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            pass


def _kill_tree(proc: subprocess.Popen, grace_s: float) -> None:
    """SIGTERM the launcher's process group and those of everything below it, give them `grace_s`,
    then SIGKILL whatever is left. torchrun starts each rank in a session of its own, so killing
    the launcher's group alone would leave the ranks (and anything they spawned) running."""
    tracked = _tree({proc.pid})
    _signal_groups(tracked, signal.SIGTERM, groups={proc.pid})
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    tracked = _tree(tracked)
    _signal_groups(tracked, signal.SIGKILL, groups={proc.pid})
    proc.wait()


class _Stream(threading.Thread):
    """Copies the process output into the seed's rerun.log and remembers the last step line."""

    def __init__(self, pipe, log_file):
        super().__init__(daemon=True)
        self.pipe, self.log_file = pipe, log_file
        self.last_step = ""
        self.tail: list[str] = []

    def run(self) -> None:
        for raw in iter(self.pipe.readline, b""):
            try:
                self.log_file.write(raw)
                self.log_file.flush()
            except ValueError:
                return  # the seed is over and its log closed; a straggler still holds the pipe
            line = raw.decode("utf-8", "replace").rstrip()
            self.tail = (self.tail + [line])[-20:]
            if m := STEP.search(line):
                self.last_step = f"step:{m.group(1) or m.group(3)}/{m.group(2) or m.group(4)}"


def _run_seed(command, env, cwd: Path, log_path: Path, timeout_s, status, label: str):
    """Run one seed; returns (returncode, timed_out, elapsed_s, last output lines)."""
    start = time.monotonic()
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        stream = _Stream(proc.stdout, log_file)
        stream.start()
        timed_out = False
        try:
            while proc.poll() is None:
                elapsed = time.monotonic() - start
                if timeout_s is not None and elapsed > timeout_s:
                    timed_out = True
                    _kill_tree(proc, KILL_GRACE_S)
                    break
                status.update(f"{label} · {elapsed:.0f}s · {stream.last_step or 'starting'}")
                time.sleep(POLL_S)
        except BaseException:
            _kill_tree(proc, KILL_GRACE_S)
            stream.join(timeout=5)
            raise
        # Ranks may still hold the pipe briefly after the launcher exits; anything still alive in
        # the group once the launcher is gone is killed.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        stream.join(timeout=5)
    return proc.returncode, timed_out, time.monotonic() - start, stream.tail


# ---------------------------------------------------------------------------------------------
# The entry point


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


def rerun_record(record_dir, *, seeds=None, nproc=None, data_path=None, tokenizer_path=None,
                 timeout_per_seed=None, workdir=None, dry_run=False, torchrun_args=(), console=None,
                 ruleset=None) -> list[RerunResult]:
    """Rerun the record's own command once per seed; see the module docstring for the layout."""
    from golf.read.records import load_record
    from rich.console import Console

    console = console or Console(stderr=True)
    record_dir = Path(record_dir).resolve()
    if not record_dir.is_dir():
        raise GolfError(f"{record_dir}: not a record folder")
    if nproc is not None and nproc < 1:
        raise GolfError(f"--nproc must be at least 1 (got {nproc})")
    if timeout_per_seed is not None and timeout_per_seed <= 0:
        raise GolfError(f"--timeout-per-seed must be positive (got {timeout_per_seed})")
    if ruleset is None:
        from golf.rules import load_ruleset

        ruleset = load_ruleset(None)
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
        console.print(f"golf: warning: not passed to the run ({spec.source}): {problem}", markup=False)
    env_base.update(_absolute_paths(knobs, record_dir, Path.cwd()))
    if data_path is not None:
        env_base["DATA_PATH"] = str(Path(data_path).resolve())
    if tokenizer_path is not None:
        env_base["TOKENIZER_PATH"] = str(Path(tokenizer_path).resolve())
    options = launcher_options(nproc, torchrun_args)
    plans = []
    for seed in seeds:
        env = {**env_base, "SEED": str(seed), "RUN_ID": run_id(seed)}
        variables = {**env}
        args = [_expand(a, variables) for a in spec.script_args]
        command = [sys.executable, "-m", "torch.distributed.run", *options, spec.script, *args]
        plans.append((seed, workdir / f"seed{seed}", command, env))

    if dry_run:
        return _dry_run(plans, spec, console)
    _check_inputs(env_base, record_dir)

    state_path = workdir / STATE_NAME
    fingerprint = {"record_sha256": record_hash(record_dir), "nproc": nproc, "script": spec.script,
                   "torchrun_args": [str(a) for a in torchrun_args],
                   "data_path": env_base.get("DATA_PATH"), "tokenizer_path": env_base.get("TOKENIZER_PATH")}
    state = _resume_state(state_path, fingerprint, console)
    workdir.mkdir(parents=True, exist_ok=True)
    _save_state(state_path, state)

    _say(console, f"rerun of {record_dir} ({spec.source}): {len(seeds)} seed(s), nproc {nproc} (from "
                  f"{nproc_source}), work directory {workdir}")
    results = []
    try:
        with _terminate_as_interrupt():
            _run_plans(plans, record_dir, workdir, state, state_path, timeout_per_seed, ruleset, record.submission,
                       console, results)
    except KeyboardInterrupt:
        _say(console, f"interrupted: the process group was killed; completed seeds are kept in {state_path}, "
                      "run the same command again to resume")
        raise
    return results


@contextmanager
def _terminate_as_interrupt():
    """While seeds run, SIGTERM and SIGHUP (a cancelled CI job, a closed terminal) act like Ctrl-C, so the
    ranks, which live in sessions of their own, are killed instead of outliving golf."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run_plans(plans, record_dir, workdir, state, state_path, timeout_per_seed, ruleset, submission, console,
               results):
    with console.status("starting") as status:
        for i, (seed, seed_dir, command, env) in enumerate(plans, 1):
            label = f"seed {i}/{len(plans)} ({seed})"
            done = state["completed"].get(str(seed))
            if done and (workdir / done["log"]).is_file():
                results.append(_resumed_result(seed, seed_dir, workdir, done))
                _say(console, f"{label}: already completed in an earlier run, skipped")
                continue
            _fresh_copy(record_dir, seed_dir)
            returncode, timed_out, elapsed, tail = _run_seed(command, env, seed_dir, seed_dir / RERUN_LOG,
                                                             timeout_per_seed, status, label)
            log_path = seed_dir / "logs" / f"{run_id(seed)}.txt"
            artifact = seed_dir / ARTIFACT_NAME
            result = RerunResult(seed=seed, workdir=seed_dir, log_path=log_path if log_path.is_file() else None,
                                 artifact_path=artifact if artifact.is_file() else None, returncode=returncode,
                                 timed_out=timed_out, elapsed_s=elapsed, command=command, resumed=False)
            results.append(result)
            completed = returncode == 0 and result.log_path is not None and _has_score(result.log_path, ruleset, submission)
            if not completed:
                result.error = first_error(seed_dir / RERUN_LOG)
            if completed:
                state["completed"][str(seed)] = {
                    "log": result.log_path.relative_to(workdir).as_posix(),
                    "artifact": result.artifact_path.relative_to(workdir).as_posix() if result.artifact_path else None,
                    "elapsed_s": round(elapsed, 3), "command": command}
                _save_state(state_path, state)
            _report_seed(console, label, result, completed, tail, timeout_per_seed)


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


def _resume_state(state_path: Path, fingerprint: dict, console) -> dict:
    fresh = {"golf_rerun_state": 1, **fingerprint, "completed": {}}
    old = _load_state(state_path)
    if old is None or not old["completed"]:
        return fresh
    if old.get("record_sha256") != fingerprint["record_sha256"]:
        _say(console, f"the record folder changed since the earlier rerun in {state_path.parent}; "
                      "starting over")
        return fresh
    changed = [k for k in fingerprint if old.get(k) != fingerprint[k]]
    if changed:
        _say(console, f"rerun options changed since the earlier rerun ({', '.join(changed)}); starting over")
        return fresh
    _say(console, f"resuming: seed(s) {', '.join(sorted(old['completed']))} already completed")
    return {**fresh, "completed": old["completed"]}


def _resumed_result(seed: int, seed_dir: Path, workdir: Path, done: dict) -> RerunResult:
    artifact = workdir / done["artifact"] if done.get("artifact") else None
    return RerunResult(seed=seed, workdir=seed_dir, log_path=workdir / done["log"],
                       artifact_path=artifact if artifact is not None and artifact.is_file() else None,
                       returncode=0, timed_out=False, elapsed_s=float(done.get("elapsed_s", 0.0)),
                       command=list(done.get("command", [])), resumed=True)


def _report_seed(console, label, result: RerunResult, completed: bool, tail, timeout_s) -> None:
    if completed:
        _say(console, f"{label}: done in {result.elapsed_s:.1f}s, log {result.log_path}")
        return
    if result.timed_out:
        why = f"timed out after {timeout_s:g}s (process group killed)"
    elif result.returncode != 0:
        why = f"exited with status {result.returncode}"
    elif result.log_path is None:
        why = f"wrote no log at logs/{run_id(result.seed)}.txt"
    else:
        why = "its log has no score line"
    _say(console, f"{label}: FAILED, {why}; output in {result.workdir / RERUN_LOG}")
    if result.error:
        _say(console, f"    first error: {result.error}")
    else:
        for line in tail[-15:]:
            _say(console, f"    {line}")


# `[rank0]: RuntimeError: ...` or `RuntimeError: ...`: the line naming an exception, as Python prints it.
_RANK_PREFIX = re.compile(r"^(?:\[(?:rank|default)\d*\]:\s*)+")
_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Interrupt)(?::\s.*)?$")
# torchrun's own summary names the failure after the cause; it is never the cause.
_LAUNCHER_ERRORS = ("torch.distributed.elastic.multiprocessing.errors.ChildFailedError", "ChildFailedError")


def first_error(output: Path | None, limit_bytes: int = 64 * 1024 * 1024) -> str | None:
    """The first exception line the ranks printed (`RuntimeError: NOT_FOUND: ...`), or None."""
    if output is None:
        return None
    try:
        with open(output, "rb") as handle:
            for raw in handle:
                limit_bytes -= len(raw)
                if limit_bytes < 0:
                    break
                line = _RANK_PREFIX.sub("", raw.decode("utf-8", "replace").strip())
                if _EXCEPTION.match(line) and not line.startswith(_LAUNCHER_ERRORS):
                    return line[:500]
    except OSError:
        return None
    return None


def _say(console, text: str) -> None:
    """One plain line for the user: no rich markup (paths may hold brackets), no wrapping."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def format_command(command: list[str], env: dict[str, str], cwd: Path) -> str:
    """A shell line that reproduces one seed's launch exactly (clean env included)."""
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
    return f"cd {shlex.quote(str(cwd))} && env -i {assignments} {shlex.join(command)}"


def _dry_run(plans, spec: LaunchSpec, console) -> list[RerunResult]:
    _say(console, f"# dry run: the command comes from the {spec.source}; nothing is copied or run")
    results = []
    for seed, seed_dir, command, env in plans:
        _say(console, format_command(command, env, seed_dir))
        results.append(RerunResult(seed=seed, workdir=seed_dir, log_path=None, artifact_path=None,
                                   returncode=None, timed_out=False, elapsed_s=0.0, command=command,
                                   resumed=False))
    return results


__all__ = ["RerunResult", "LaunchSpec", "rerun_record", "launch_spec", "readme_commands", "parse_command_line",
           "default_seeds", "clean_environment", "launcher_options", "record_hash", "format_command"]

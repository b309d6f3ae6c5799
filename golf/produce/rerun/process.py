"""Running one seed on this machine: a process group per seed, its output streamed to a log, a timeout,
and Ctrl-C, SIGTERM or SIGHUP killing every rank and anything they spawned."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

KILL_GRACE_S = 10.0
POLL_S = 0.2
STEP = re.compile(r"(?:^|\s)step:(\d+)/(\d+)|^(\d+)/(\d+) (?:train_loss|val_loss)")


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


def last_step(path: Path, tail_bytes: int = 64 * 1024) -> str:
    """The last `step:N/M` a seed's output shows (read from the end of the file), or ''."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - tail_bytes))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if m := STEP.search(line):
            return f"step:{m.group(1) or m.group(3)}/{m.group(2) or m.group(4)}"
    return ""

"""golf's own fuzzing suite: the reliability contract (README "Guarantees") for generated hostile
inputs. Every command run here must exit 0, 1 or 2 without an internal error, print strict JSON,
finish within a generous per-case time limit, and change nothing but its documented outputs.

Runs are reproducible (derandomized) and sized for CI; GOLF_FUZZ_SCALE=N multiplies the number of
cases (benchmarks/fuzz_bench.py runs the same suite with a large N).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings

import fuzz_strategies as fz
from golf.cli import main
from golf.errors import GolfError
from golf.io import loads_json
from golf.read.logs import parse_text
from golf.read.records import load_record

SCALE = max(1, int(os.environ.get("GOLF_FUZZ_SCALE", "1")))
RANDOM = os.environ.get("GOLF_FUZZ_RANDOM") == "1"   # fresh cases (benchmarks/fuzz_bench.py --random)
# Cases per test at scale 1: 425 in all.
EXAMPLES = {"log": 150, "json": 150, "folder": 30, "artifact": 20, "options": 60, "git": 15}
CASE_SECONDS = 30   # a hang is what this catches; a healthy case takes well under a second


def fuzz_settings(kind: str):
    # No shrinking in CI: a failure still prints its example, and shrinking one took minutes.
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if RANDOM else [])
    return settings(max_examples=EXAMPLES[kind] * SCALE, derandomize=not RANDOM, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), phases=phases)


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise Hang(f"no result after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def strict_json(text: str):
    def refuse(name):
        raise AssertionError(f"non-strict JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def golf(capsys, *args: str) -> tuple[int, str]:
    """Run a command in-process under the contract; returns (exit status, stdout)."""
    with time_limit(CASE_SECONDS):
        code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (args, code, err[-1000:])
    assert "internal error" not in err, (args, err[-2000:])
    return code, out


# ---- the log grammar ---------------------------------------------------------------------------

@fuzz_settings("log")
@given(fz.log_texts())
def test_fuzz_log_parser_never_raises_and_stays_fast(text):
    start = time.perf_counter()
    parsed = parse_text(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 5 + len(text) / 200_000, f"{elapsed:.1f} s for {len(text)} characters"
    for run in parsed.runs:
        assert all(s.bytes is not None and 0 <= s.bytes <= 10**15 for s in run.sizes)


# ---- submission.json ---------------------------------------------------------------------------

@fuzz_settings("json")
@given(fz.submission_texts())
def test_fuzz_submission_json_is_loaded_or_refused(text):
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "submission.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        record = load_record(tmp)   # must not raise
    if record.submission is None:
        assert record.submission_problems or not text.strip()
    try:
        loads_json(text)
    except ValueError as error:
        assert str(error)


# ---- whole record folders through every static command -----------------------------------------

def _folder_commands(folder: Path, records: Path) -> list[list[str]]:
    logs = [os.fsdecode(p) for p in folder.rglob("*.log")][:2]
    commands = [["verify", "--json", folder], ["submit", "--dry-run", "--json", folder, "--sota", "1.3"],
                ["leaderboard", "--records", records, "--format", "json"], ["size", "--json", folder]]
    if logs:
        commands.append(["logs", "--json", *logs])
    return commands


@fuzz_settings("folder")
@given(fz.folder_plans())
def test_fuzz_record_folders_through_every_command(capsys, plan):
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp)
        outside = top / "outside"
        outside.mkdir()
        (outside / "target.txt").write_text("not part of any record\n")
        records = top / "records"
        folder = records / "track_10min_16mb" / "2026-05-01_Fuzz"
        fz.build_folder(plan, folder, outside)
        before = fz.snapshot(top)
        for args in _folder_commands(folder, records):
            code, out = golf(capsys, *args)
            if ("--json" in args or "json" in args) and code in (0, 1):
                strict_json(out)
            assert fz.snapshot(top) == before, f"{args[0]} changed files"
        # submit for real: only submission.json and its backups in the folder may change
        golf(capsys, "submit", folder, "--sota", "1.3", "--author", "A", "--github-id", "a", "--name", "n",
             "--blurb", "b")
        after = fz.snapshot(top)
        changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
        allowed = os.fsencode(folder / "submission.json")
        assert all(path == allowed or path.startswith(allowed + b".") and path.endswith(b".bak")
                   for path in changed), changed
        if allowed in changed and before.get(allowed, ("file",))[0] == "file" and allowed in before:
            backups = [after[p] for p in changed if p != allowed]
            assert before[allowed] in backups   # what a person wrote is kept
        assert fz.snapshot(outside) == {k: v for k, v in before.items() if k.startswith(os.fsencode(outside) + b"/")}


# ---- artifacts ---------------------------------------------------------------------------------

@fuzz_settings("artifact")
@given(fz.artifact_bytes())
def test_fuzz_artifact_decompression_is_bounded(data):
    from golf.produce.artifact import bounded_decompress

    try:
        raw = bounded_decompress(data, "fuzz.ptz", limit=10_000_000)
    except GolfError as error:
        assert "fuzz.ptz" in str(error)
    else:
        assert len(raw) <= 10_000_000


# ---- numeric options ---------------------------------------------------------------------------

@fuzz_settings("options")
@given(fz.option_numbers(), fz.option_numbers())
def test_fuzz_numeric_options(capsys, sota, delta):
    try:
        code, out = golf(capsys, "stats", "--values", "1.0", "1.01", "1.02", "--sota", sota, f"--delta={delta}",
                         "--json")
    except SystemExit as stop:   # argparse refusing a value: a usage error
        assert stop.code == 2
        capsys.readouterr()
        return
    if code in (0, 1):   # 2: a value refused with a message, and nothing on stdout
        strict_json(out)


# ---- git trees extracted by golf ci ------------------------------------------------------------

def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    env = {**os.environ, "GIT_AUTHOR_NAME": "fuzz", "GIT_AUTHOR_EMAIL": "fuzz@golf.invalid",
           "GIT_COMMITTER_NAME": "fuzz", "GIT_COMMITTER_EMAIL": "fuzz@golf.invalid", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull}
    return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, check=True,
                          env=env).stdout.strip()


def _write_tree(repo: Path, entries: list, outside: Path) -> bytes:
    lines = []
    for name, (kind, payload) in entries:
        if kind == "tree":
            lines.append(b"040000 tree " + _write_tree(repo, payload, outside) + b"\t" + os.fsencode(name))
        else:
            data = os.fsencode(str(outside)) if payload == "OUTSIDE" else (
                os.fsencode(payload) if kind == "link" else payload)
            mode = b"120000" if kind == "link" else b"100644"
            lines.append(mode + b" blob " + _git(repo, "hash-object", "-w", "--stdin", stdin=data) + b"\t"
                         + os.fsencode(name))
    return _git(repo, "mktree", "--missing", stdin=b"".join(line + b"\n" for line in lines))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@fuzz_settings("git")
@given(fz.git_trees())
def test_fuzz_ci_extraction_stays_inside(entries):
    from golf.read.git import extract_tree

    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp)
        outside, repo, dest = top / "outside", top / "repo", top / "dest"
        for folder in (outside, repo, dest):
            folder.mkdir()
        _git(repo, "init", "-q")
        try:
            record = _write_tree(repo, entries, outside)
            root = _write_tree(repo, [("records", ("tree", [("r", ("tree", []))]))], outside) if not record else \
                _git(repo, "mktree", stdin=b"040000 tree " + record + b"\trecords\n")
            commit = _git(repo, "commit-tree", root.decode(), "-m", "fuzz").decode()
        except subprocess.CalledProcessError:
            assume(False)   # git itself refused the tree (e.g. a name it does not allow)
        try:
            with time_limit(CASE_SECONDS):
                extract_tree(repo, commit, "records", dest)
        except GolfError as error:
            assert str(error)
        assert list(outside.iterdir()) == []
        for path in fz.snapshot(dest):
            assert os.path.realpath(os.path.dirname(path)).startswith(os.fsencode(os.path.realpath(dest)))

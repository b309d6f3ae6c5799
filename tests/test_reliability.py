"""Regression tests of golf's reliability contract (README "Guarantees"; issue 12): one test per
failure class found by hostile inputs. The log grammar's share is in test_reliability_logs.py and
the generated cases in test_fuzz.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from golf.cli import main
from golf.errors import GolfError
from golf.io import UnsafeFile, atomic_write_text, dumps_json, loads_json, read_bytes

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "records"
GOOD = FIXTURES / "track_10min_16mb" / "2026-04-06_Good Record"


def strict_json(text: str):
    """JSON as a strict reader takes it: NaN and Infinity are errors."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def golf(*args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    """golf in a child process, so a hang is a timeout and a traceback is visible on stderr."""
    return subprocess.run([sys.executable, "-m", "golf", *args], capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def assert_contract(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode in (0, 1, 2), proc.stderr[-2000:]
    assert b"Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert b"internal error" not in proc.stderr, proc.stderr[-2000:]


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "internal error" not in err, err
    return code, out, err


@pytest.fixture
def record(tmp_path):
    folder = tmp_path / "records" / "track_10min_16mb" / "2026-04-06_Good Record"
    shutil.copytree(GOOD, folder)
    return folder


# ---- submission.json values the loader cannot hold -------------------------------------------

HOSTILE_SUBMISSIONS = {
    "NaN seed": '{"name": "x", "seeds": [NaN]}',
    "Infinity seed": '{"name": "x", "seeds": [Infinity]}',
    "10,000-deep nesting": "[" * 10_000 + "]" * 10_000,
    "5,001-digit integer": '{"val_bpb": 1' + "0" * 5001 + "}",
    "400-digit val_bpb": '{"val_bpb": 1.' + "1" * 400 + "}",
    "5,001-digit seed": '{"seeds": [1' + "0" * 5001 + "]}",
    "overflowing float": '{"val_bpb": 1e999, "bytes_total": 1e999}',
}


@pytest.mark.parametrize("case", sorted(HOSTILE_SUBMISSIONS))
def test_hostile_submission_json_is_a_finding_not_a_crash(case, record, capsys):
    (record / "submission.json").write_text(HOSTILE_SUBMISSIONS[case])
    code, out, _ = run_main(capsys, "verify", "--json", str(record))
    report = strict_json(out)
    findings = report["records"][0]["findings"]
    assert not [f for f in findings if f["code"] == "G000"], findings
    assert code == 1
    run_main(capsys, "submit", "--dry-run", str(record), "--sota", "1.3")
    run_main(capsys, "leaderboard", "--records", str(record.parents[1]))


def test_refused_json_names_the_file_and_position(record):
    from golf.read.records import load_record

    (record / "submission.json").write_text('{\n "val_bpb": 1' + "0" * 5001 + "\n}")
    problems = load_record(record).submission_problems
    assert any(p.startswith("submission.json: refused: number longer than 100 characters at line 2") for p in problems)


def test_nan_in_a_submission_is_reported_on_the_field(record):
    from golf.read.records import load_record

    (record / "submission.json").write_text('{"val_bpb": NaN, "seeds": [NaN, 7]}')
    sub = load_record(record).submission
    assert sub.val_bpb is None and sub.seeds == [7]
    assert any("`val_bpb` is not finite" in p for p in sub.problems)


def test_loads_json_refuses_what_strict_json_has_not():
    for text in ('{"a": NaN}', "[Infinity]", "[-Infinity]", "[1e999]"):
        with pytest.raises(ValueError):
            loads_json(text)
    assert loads_json('{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}


# ---- walking trees ---------------------------------------------------------------------------

def test_deeply_nested_folders_do_not_recurse(tmp_path, capsys):
    deep = tmp_path / "records"
    deep.mkdir()
    made = [str(deep)]
    for _ in range(1500):   # os.makedirs itself recurses
        made.append(made[-1] + "/a")
        os.mkdir(made[-1])
    try:
        code, _, err = run_main(capsys, "verify", str(deep))
        assert code == 2 and "no record folder found" in err
    finally:  # pytest's own clean-up of old temporary folders recurses too
        for path in reversed(made[1:]):
            os.rmdir(path)


def test_an_unreadable_folder_does_not_hide_the_records_beside_it(tmp_path, monkeypatch, capsys):
    root = tmp_path / "records" / "track_10min_16mb"
    shutil.copytree(GOOD, root / "2026-04-06_Good Record")
    (root / "2026-05-02_Locked" / "inner").mkdir(parents=True)
    locked = root / "2026-05-02_Locked"
    real_iterdir = Path.iterdir

    def iterdir(self):   # chmod does not stop root, so the refusal is simulated
        if self == locked:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    code, out, _ = run_main(capsys, "verify", "--json", str(tmp_path / "records"))
    records = {Path(r["path"]).name: r for r in strict_json(out)["records"]}
    assert "2026-04-06_Good Record" in records
    assert [f["code"] for f in records["2026-05-02_Locked"]["findings"]] == ["G100"]
    assert code == 1


# ---- reading: only regular files, never waiting ---------------------------------------------

def test_a_fifo_submission_is_refused_without_hanging(record):
    (record / "submission.json").unlink()
    os.mkfifo(record / "submission.json")
    for args in (["submit", "--dry-run", str(record)], ["verify", str(record)]):
        proc = golf(*args, timeout=60)
        assert_contract(proc)


def test_a_symlink_to_dev_zero_is_not_read(record):
    (record / "submission.json").unlink()
    (record / "submission.json").symlink_to("/dev/zero")
    proc = golf("submit", str(record), "--sota", "1.3", timeout=60)
    assert_contract(proc)
    assert proc.returncode != 0
    assert (record / "submission.json").is_symlink()


def test_read_bytes_refuses_devices_and_oversized_files(tmp_path):
    with pytest.raises(UnsafeFile, match="character device"):
        read_bytes("/dev/zero")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(UnsafeFile, match="more than the 100"):
        read_bytes(big, 100)


def test_data_info_refuses_a_fifo_shard(tmp_path):
    os.mkfifo(tmp_path / "fineweb_val_000000.bin")
    proc = golf("data", "info", str(tmp_path), timeout=60)
    assert_contract(proc)
    assert proc.returncode == 2 and b"FIFO" in proc.stderr


def test_size_does_not_count_a_script_linked_from_outside(record, tmp_path, capsys):
    outside = tmp_path / "elsewhere.py"
    outside.write_text("print('not in the record')\n")
    (record / "train_gpt.py").unlink()
    (record / "train_gpt.py").symlink_to(outside)
    code, _, err = run_main(capsys, "size", str(record))
    assert code == 2 and "train_gpt.py" in err and "elsewhere" not in err


# ---- writing: never through a link, never a truncated backup --------------------------------

def test_a_dangling_backup_link_is_not_written_through(record, tmp_path, capsys):
    target = tmp_path / "outside_target"
    (record / "submission.json.bak").symlink_to(target)
    before = (record / "submission.json").read_bytes()
    code, _, _ = run_main(capsys, "submit", str(record), "--sota", "1.3")
    assert not target.exists()
    assert (record / "submission.json.bak").is_symlink()
    if code == 0:  # the old content went to a fresh, real backup file instead
        kept = [p for p in record.iterdir() if p.name.startswith("submission.json.") and not p.is_symlink()]
        assert [p.read_bytes() for p in kept] == [before]


def test_submission_json_that_is_a_link_is_not_replaced(record, tmp_path, capsys):
    outside = tmp_path / "theirs.json"
    outside.write_text((record / "submission.json").read_text())
    (record / "submission.json").unlink()
    (record / "submission.json").symlink_to(outside)
    before = outside.read_bytes()
    code, _, _ = run_main(capsys, "submit", str(record), "--sota", "1.3", "--author", "A", "--github-id", "a")
    assert code in (1, 2)
    assert (record / "submission.json").is_symlink() and outside.read_bytes() == before


def test_a_failed_backup_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("original content")
    import golf.io as gio

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gio.os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        atomic_write_text(target, "new content")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    assert target.read_text() == "original content"


def test_writing_under_a_symlinked_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "sub").symlink_to(outside)
    with pytest.raises(UnsafeFile, match="symbolic link"):
        atomic_write_text(root / "sub" / "file.txt", "x", root=root)
    assert list(outside.iterdir()) == []


def test_a_write_error_is_a_message_not_a_traceback(record, monkeypatch, capsys):
    import tempfile

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device", str(record / "submission.json"))

    monkeypatch.setattr(tempfile, "mkstemp", no_space)
    code, _, err = run_main(capsys, "submit", str(record), "--sota", "1.3")
    assert code == 2 and "No space left on device" in err


# ---- executing: the record's environment is untrusted ----------------------------------------

@pytest.mark.parametrize("env, words", [
    ({"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}, "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"),
    ({"LD_PRELOAD": "/tmp/x.so"}, "LD_PRELOAD"),
    ({"PYTHONPATH": "."}, "PYTHONPATH"),
    ({"A=B": "1"}, "not a knob name"),
    ({"NUM_LAYERS": "9\u0000x"}, "NUL"),
    ({"num_layers": "9"}, "not a knob name"),
])
def test_a_record_cannot_set_dangerous_environment(record, env, words):
    from golf.produce.eval.runner import record_env

    (record / "submission.json").write_text(json.dumps({"run": {"env": env}}))
    with pytest.raises(GolfError, match=words) as caught:
        record_env(record)
    assert "submission.json run.env" in str(caught.value)


def test_the_trainer_knobs_pass(record):
    from golf.produce.eval.runner import record_env

    (record / "submission.json").write_text(json.dumps({"run": {"env": {"NUM_LAYERS": 11, "XSA_LAST_N": "4"}}}))
    assert record_env(record) == {"NUM_LAYERS": "11", "XSA_LAST_N": "4"}


def test_every_reference_trainer_knob_is_allowed():
    import re

    from golf.produce.safe_env import knob_problem

    text = (Path(__file__).resolve().parents[1] / "golf" / "reference" / "train_gpt.py").read_text()
    names = set(re.findall(r'os\.environ\.get\("([A-Z0-9_]+)"', text)) - {"RANK", "WORLD_SIZE", "LOCAL_RANK"}
    assert names and all(knob_problem(name, "1") is None for name in names)


def test_env_option_cannot_turn_off_safe_loading():
    from golf.produce.safe_env import user_knob

    with pytest.raises(GolfError, match="safe loading"):
        user_knob("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    user_knob("NUM_LAYERS", "11")   # the user's own knobs pass


def test_decompression_is_bounded():
    from golf.produce.artifact import bounded_decompress

    bomb = zlib.compress(b"\0" * 5_000_000, 9)
    assert len(bomb) < 10_000
    with pytest.raises(GolfError, match="more than 1,000,000 bytes"):
        bounded_decompress(bomb, "bomb.ptz", limit=1_000_000)
    assert bounded_decompress(bomb, "bomb.ptz", limit=5_000_000) == b"\0" * 5_000_000


def test_the_worker_limit_bounds_memory():
    from golf.produce.safe_env import limit_worker

    grab = "x = bytearray(600 * 1024 * 1024)"
    proc = subprocess.run([sys.executable, "-c", grab], capture_output=True, preexec_fn=limit_worker(400 * 1024**2))
    assert proc.returncode != 0 and b"MemoryError" in proc.stderr


# ---- encoding --------------------------------------------------------------------------------

def test_a_utf7_cookie_is_an_error_finding(record, capsys):
    (record / "train_gpt.py").write_bytes(b"# -*- coding: utf-7 -*-\nx = 1 +AAo-import os\n")
    code, out, _ = run_main(capsys, "verify", "--json", str(record))
    findings = strict_json(out)["records"][0]["findings"]
    assert any(f["code"] == "G115" and "utf-7" in f["message"] for f in findings)
    assert code == 1


def test_python_decoding_matches_golfs():
    from golf.read.pysource import decode_source

    data = b"# -*- coding: utf-7 -*-\nx = 1 +AAo-y = 2\n"
    text, encoding = decode_source(data)
    namespace: dict = {}
    exec(compile(data, "s.py", "exec"), namespace)   # what Python itself sees: two statements
    assert encoding == "utf-7" and "\ny = 2" in text and namespace["y"] == 2
    assert decode_source("# coding: utf-8\nx = 'é'\n".encode())[1] == "utf-8"


def test_an_unknown_cookie_is_reported(record, capsys):
    (record / "train_gpt.py").write_bytes(b"# coding: no-such-codec\nx = 1\n")
    code, out, _ = run_main(capsys, "verify", "--json", str(record))
    findings = strict_json(out)["records"][0]["findings"]
    assert any(f["code"] == "G108" and "encoding" in f["message"] for f in findings)


# ---- outputs ---------------------------------------------------------------------------------

def test_logs_json_is_strict(tmp_path, capsys):
    log = tmp_path / "nan.log"
    log.write_text("step:1/2 train_loss:nan\nfinal val_loss:nan val_bpb:inf\npeak memory allocated: inf MiB\n")
    _, out, _ = run_main(capsys, "logs", "--json", str(log))
    run = strict_json(out)["files"][0]["runs"][0]
    assert run["peak_memory_mib"] is None and run["scores"][0]["val_bpb"] is None


def test_dumps_json_writes_null_for_non_finite():
    assert strict_json(dumps_json({"a": float("nan"), "b": [float("inf"), 1.5]})) == {"a": None, "b": [None, 1.5]}


@pytest.mark.parametrize("args", [["--sota", "inf"], ["--sota", "1.2", "--delta=-inf"], ["--sota", "nan"],
                                  ["--sota", "1e999"], ["--sota", "1.2", "--ratio", "-inf"]])
def test_non_finite_options_are_usage_errors(args, capsys):
    try:
        code = main(["stats", "--values", "1.0", "1.01", *args])
    except SystemExit as stop:   # argparse's own exit, where main lets it through
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2
    assert "finite" in err or "greater than 0" in err


def test_a_negative_value_in_scientific_notation_is_accepted(capsys):
    code, out, _ = run_main(capsys, "stats", "--values", "1.0", "1.01", "--sota", "1.2", "--delta", "-1e-3", "--json")
    assert strict_json(out)["delta"] == -0.001
    assert code in (0, 1)


def _set_scores(record: Path, bpb: str) -> None:
    for path in record.rglob("*"):
        if path.suffix in (".log", ".txt") and path.is_file():
            lines = path.read_text().splitlines(keepends=True)
            path.write_text("".join(
                f"final_int8_zlib_roundtrip_exact val_loss:{bpb} val_bpb:{bpb}\n"
                if line.startswith("final_int8_zlib_roundtrip_exact") else line for line in lines))


def test_a_zero_score_does_not_divide_by_zero(record, capsys):
    _set_scores(record, "0.0")
    code, _, err = run_main(capsys, "submit", str(record), "--sota", "1.3")
    assert code == 1


def test_huge_scores_never_write_infinity(record, capsys):
    _set_scores(record, "1e308")
    code, _, _ = run_main(capsys, "submit", str(record), "--sota", "1.3")
    strict_json((record / "submission.json").read_text())
    assert code == 1


def test_non_utf8_file_names_under_a_strict_locale(tmp_path):
    folder = tmp_path / "records" / "track_10min_16mb" / "2026-05-01_x"
    shutil.copytree(GOOD, folder)
    odd = os.fsencode(str(folder)) + b"/train_\xff.log"
    shutil.copyfile(folder / "train.log", odd)
    env = {"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii:strict", "PYTHONUTF8": "0"}
    for args in (["logs", os.fsdecode(odd)], ["submit", "--dry-run", str(folder)], ["verify", str(folder)]):
        assert_contract(golf(*args, env=env))


# ---- ci extraction ---------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_ci_does_not_extract_through_a_symlinked_parent(tmp_path, monkeypatch, capsys):
    for key in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{key}_NAME", "golf tests")
        monkeypatch.setenv(f"GIT_{key}_EMAIL", "tests@golf.invalid")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    outside = tmp_path / "outside"
    outside.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True, text=True,
                              check=True).stdout.strip()

    def tree(*entries: str) -> str:
        return git("mktree", stdin="".join(e + "\n" for e in entries))

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "base")
    link = git("hash-object", "-w", "--stdin", stdin=str(outside))
    payload = git("hash-object", "-w", "--stdin", stdin="written outside\n")
    # a link `s` to the outside folder, then a folder `s/` holding a file: git can hold both
    folder = tree("100644 blob %s\tREADME.md" % payload)
    record = tree("120000 blob %s\ts" % link, "040000 tree %s\ts" % folder)
    track = tree("040000 tree %s\t2026-06-01_X" % record)
    root = tree("040000 tree %s\trecords" % tree("040000 tree %s\ttrack_10min_16mb" % track))
    git("update-ref", "refs/heads/pr", git("commit-tree", root, "-p", "HEAD", "-m", "crafted"))
    code, _, err = run_main(capsys, "ci", "--repo", str(repo), "--base", "HEAD", "--head", "pr")
    assert code == 2 and "symbolic link" in err
    assert list(outside.iterdir()) == []


def test_the_worker_bounds_the_records_own_decompression():
    script = ("import zlib, lzma, sys\n"
              "from golf.produce.safe_env import bound_decompression\n"
              "bound_decompression(1_000_000)\n"
              "small = zlib.compress(b'a' * 1000)\n"
              "assert zlib.decompress(small) == b'a' * 1000\n"
              "assert lzma.decompress(lzma.compress(b'b' * 10) * 2) == b'b' * 20\n"
              "for module, bomb in ((zlib, zlib.compress(b'0' * 5_000_000)), (lzma, lzma.compress(b'0' * 5_000_000))):\n"
              "    try:\n"
              "        module.decompress(bomb)\n"
              "    except Exception as error:\n"
              "        assert 'limit' in str(error), error\n"
              "    else:\n"
              "        sys.exit('not bounded')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_ci_with_a_non_utf8_file_name_under_a_strict_locale(tmp_path):
    env = {"GIT_AUTHOR_NAME": "golf tests", "GIT_AUTHOR_EMAIL": "tests@golf.invalid",
           "GIT_COMMITTER_NAME": "golf tests", "GIT_COMMITTER_EMAIL": "tests@golf.invalid",
           "GIT_CONFIG_GLOBAL": str(tmp_path / "no-global-gitconfig")}
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **env})

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "base")
    folder = repo / "records" / "track_10min_16mb" / "2026-06-01_U"
    shutil.copytree(GOOD, folder)
    shutil.copyfile(folder / "train.log", os.fsencode(folder) + b"/train_\xff.log")
    git("add", "-A")
    git("commit", "-q", "-m", "record")
    strict = {"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii:strict", "PYTHONUTF8": "0"}
    proc = golf("ci", "--repo", str(repo), "--base", "HEAD~1", "--head", "HEAD", "--report",
                str(tmp_path / "report.md"), env=strict)
    assert_contract(proc)
    assert b"\\udcff" in (tmp_path / "report.md").read_bytes()

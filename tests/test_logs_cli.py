"""`golf logs`: table and JSON output, errors, and no torch on the static path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from golf.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "logs"


def run_json(capsys, *args) -> dict:
    assert main(["logs", "--json", *map(str, args)]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_output_of_a_stdout_capture(capsys):
    report = run_json(capsys, FIXTURES / "b_stdout_torchrun.txt")
    (entry,) = report["files"]
    (run,) = entry["runs"]
    assert (run["steps"], run["total_steps"], run["stop_reason"]) == (7182, 9000, "wallclock_cap")
    assert (run["seed"], run["world_size"], run["total_bytes"]) == (42, 8, 15876510)
    assert run["eval_times_ms"]["legal_ttt"] == 408049
    if report["score_rules"]:
        assert (run["score"]["label"], run["score"]["val_bpb"]) == ("legal_ttt_exact", 1.12002032)


def test_label_override_and_all_runs(capsys):
    report = run_json(capsys, FIXTURES / "concatenated_runs.txt", "--all-runs", "--label", "final_int6_roundtrip")
    runs = report["files"][0]["runs"]
    assert [r["index"] for r in runs] == [1, 2, 3]
    assert [r["complete"] for r in runs] == [False, True, True]
    assert runs[2]["score"]["val_bpb"] == 1.2103 and runs[0]["score"] is None
    assert runs[0]["source_sha256"] == runs[1]["source_sha256"] != runs[2]["source_sha256"]
    assert report["files"][0]["problems"]


def test_default_shows_the_last_complete_run_only(capsys):
    report = run_json(capsys, FIXTURES / "concatenated_runs.txt")
    assert [r["index"] for r in report["files"][0]["runs"]] == [3]
    assert report["files"][0]["runs_found"] == 3


def test_human_table(capsys):
    assert main(["logs", str(FIXTURES / "c_new_style_banner.txt"), str(FIXTURES / "empty.txt")]) == 0
    out = capsys.readouterr().out
    assert "15,932,307" in out and "4921/20000" in out and "489.1 s (logged total)" in out
    assert "empty log" in out and "no run found" in out


def test_missing_file_is_a_clean_error(capsys, tmp_path):
    assert main(["logs", str(tmp_path / "nope.log")]) == 2
    err = capsys.readouterr().err
    assert "nope.log" in err and "no such file" in err and "Traceback" not in err
    assert main(["logs", str(tmp_path)]) == 2


def test_logs_command_never_imports_torch():
    code = ("import sys; from golf.cli import main; "
            f"rc = main(['logs', '--json', {str(FIXTURES / 'a_baseline_with_source.txt')!r}]); "
            "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"][0]["runs"][0]["steps"] == 13780


def test_unknown_ruleset_is_a_clean_error(capsys):
    import pytest

    pytest.importorskip("golf.rules")
    assert main(["logs", "--ruleset", "no_such_ruleset", str(FIXTURES / "d_jepa.txt")]) == 2
    assert "no_such_ruleset" in capsys.readouterr().err

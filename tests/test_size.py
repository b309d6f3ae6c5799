"""`golf size`: code bytes as verify counts them, model bytes on disk, the cap of the track verify judges."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from golf.cli import main
from golf.errors import GolfError
from golf.judge.facts import measure_sizes
from golf.rules import load_ruleset

ARTIFACT = "final_model.int8.ptz"
RULESET = load_ruleset()


def make_record(root: Path, code: bytes, model: bytes | None, track: str = "track_10min_16mb") -> Path:
    record = root / track / "2026-01-01_Test"
    record.mkdir(parents=True)
    (record / "train_gpt.py").write_bytes(code)
    if model is not None:
        (record / ARTIFACT).write_bytes(model)
    return record


def test_counts_real_bytes(tmp_path):
    record = make_record(tmp_path, "é = 1\n".encode() * 10, b"\0" * 1234)
    report = measure_sizes(record, RULESET, cap=2000)
    assert (report.code_bytes, report.model_bytes, report.total) == (70, 1234, 1304)
    assert report.fits is True
    assert measure_sizes(record, RULESET, cap=1303).fits is False
    assert measure_sizes(record, RULESET, cap=1304).fits is True


def test_the_cap_is_that_of_the_track_verify_judges(tmp_path):
    record = make_record(tmp_path, b"x = 1\n", b"\0" * 10, track="track_non_record_16mb")
    report = measure_sizes(record, RULESET)
    assert report.cap == RULESET.track("track_non_record_16mb").byte_cap
    assert report.track == "track_non_record_16mb"
    loose = make_record(tmp_path / "elsewhere", b"x = 1\n", None, track="somewhere")
    assert measure_sizes(loose, RULESET).track == RULESET.default_track
    # outside records/<track>/, submission.json names the track (as verify reads it)
    (loose / "submission.json").write_text(json.dumps({"track": "smoke"}))
    assert measure_sizes(loose, RULESET).track == "track_smoke"


def test_without_artifact_and_with_an_explicit_one(tmp_path):
    record = make_record(tmp_path, b"x = 1\n", None)
    report = measure_sizes(record, RULESET, cap=100)
    assert report.model_bytes is None and report.total is None and report.fits is None
    assert measure_sizes(record, RULESET, cap=3).fits is False  # the code alone is over
    other = tmp_path / "other.ptz"
    other.write_bytes(b"\1" * 50)
    assert measure_sizes(record, RULESET, artifact=other, cap=100).total == 56
    with pytest.raises(GolfError, match="no such artifact"):
        measure_sizes(record, RULESET, artifact=tmp_path / "missing.ptz", cap=100)


def test_errors_and_a_script_linked_from_outside(tmp_path):
    with pytest.raises(GolfError, match="no such record folder"):
        measure_sizes(tmp_path / "nope", RULESET, cap=1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GolfError, match="train_gpt.py"):
        measure_sizes(tmp_path / "empty", RULESET, cap=1)
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n" * 100)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "train_gpt.py").symlink_to(outside)
    with pytest.raises(GolfError, match="train_gpt.py"):
        measure_sizes(linked, RULESET, cap=1)


def test_command_exit_status_and_json(tmp_path, capsys):
    record = make_record(tmp_path, b"x = 1\n", b"\0" * 10)
    assert main(["size", str(record), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 16
    big = make_record(tmp_path / "big", b"x" * 100, b"\0" * 16_000_000)
    assert main(["size", str(big)]) == 1


def test_size_accounting_does_not_import_torch(tmp_path):
    record = make_record(tmp_path, b"x = 1\n", b"\0" * 10)
    code = ("import sys\nfrom golf.judge.facts import measure_sizes\nfrom golf.rules import load_ruleset\n"
            f"r = measure_sizes({str(record)!r}, load_ruleset())\nassert r.total == 16, r\n"
            "assert 'torch' not in sys.modules, 'measure_sizes imported torch'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)

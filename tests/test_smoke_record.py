"""golf's own smoke record: it passes static verification, and a rerun of one seed reproduces it."""

import json
from pathlib import Path

from golf.cli import main
from golf.data.smoke import ensure_smoke

REPO = Path(__file__).resolve().parents[1]
RECORD = next((REPO / "records" / "track_smoke").glob("*_ReferenceBaseline"))


def test_smoke_record_passes_static_verification(capsys):
    assert main(["verify", str(RECORD), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)["records"][0]
    claimed = json.loads((RECORD / "submission.json").read_text())
    assert report["verdict"] == "pass"
    assert report["summary"]["n_runs"] == 3
    assert abs(report["summary"]["val_bpb_mean"] - claimed["val_bpb"]) < 1e-8
    assert [f for f in report["findings"] if f["severity"] == "error"] == []


def test_smoke_record_ships_the_reference_trainer_it_was_made_with():
    logs = sorted(RECORD.glob("train_seed*.log"))
    script = (RECORD / "train_gpt.py").read_text()
    assert len(logs) == 3
    for log in logs:
        assert log.read_text().startswith(script)


def test_smoke_record_script_is_the_reference_trainer_byte_for_byte():
    reference = REPO / "golf" / "reference" / "train_gpt.py"
    assert (RECORD / "train_gpt.py").read_bytes() == reference.read_bytes(), (
        "the reference trainer changed: remake the smoke record with tools/make_smoke_record.py")


def test_rerun_of_one_seed_reproduces_the_record(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ensure_smoke(tmp_path)
    status = main(["verify", str(RECORD), "--rerun", "--nproc", "2", "--seeds", "1337",
                   "--workdir", str(tmp_path / "work"), "--json"])
    report = json.loads(capsys.readouterr().out)["records"][0]
    assert status == 0, report["findings"]
    assert [run["seed"] for run in report["runs"]] == [1337]
    claimed = json.loads((RECORD / "submission.json").read_text())
    claimed_run = next(run for run in claimed["runs"] if run["seed"] == 1337)
    # Float kernels differ between CPUs: a record made on one 2-core host reran 2.9e-6 off on another, and
    # 3.1e-6 off on a third (2.71876922 against 2.71877231 for seed 1337). 1e-5 bpb is still five times tighter
    # than the smallest tolerance golf's own rerun rule allows (5e-5).
    assert abs(report["runs"][0]["val_bpb"] - claimed_run["val_bpb"]) < 1e-5
    (row,) = report["reproduction"]
    assert row["seed"] == 1337 and row["claimed"]["val_bpb"] == claimed_run["val_bpb"]
    assert not any(f["code"].startswith("G80") for f in report["findings"])

"""What golf writes, golf passes: a rerun of a copy, submit's size claims, the ruleset named, bad numbers.

Reruns here use the small fake trainer of tests/test_rerun.py (torchrun launches it, it writes a log in
the baseline's format in a second); the real smoke record is only read and submitted, never trained.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from fixtures.verify.kit import make_record, log_text
from golf.cli import main
from golf.read.records import load_record
from golf.read.workdirs import MARKER_NAME, WORKDIR_NAME
from test_rerun import make_record as make_fake_record

REPO = Path(__file__).resolve().parents[1]
SMOKE = next((REPO / "records" / "track_smoke").glob("*_ReferenceBaseline"))


def verify_json(capsys, *argv) -> tuple[int, dict]:
    status = main(["verify", *map(str, argv), "--json"])
    return status, json.loads(capsys.readouterr().out)


def codes(record: dict) -> set[str]:
    return {f["code"] for f in record["findings"]}


# ---- a rerun's own work directory is never a records tree to copy from -----------------------

def test_a_rerun_of_a_copy_elsewhere_reproduces_it_and_is_no_copy(tmp_path, monkeypatch, capsys):
    # The record's shipped log is what its script prints for the seed, as in a real record.
    made = make_fake_record(tmp_path / "made", name="2026-11-01_Fake")
    monkeypatch.chdir(tmp_path / "made")
    status, first = verify_json(capsys, made, "--rerun", "--nproc", "1", "--seeds", "1337",
                                "--workdir", tmp_path / "made" / "work")
    produced = tmp_path / "made" / "work" / "seed1337" / "logs" / "golf_rerun_seed1337.txt"
    assert produced.is_file(), first
    shutil.rmtree(made / "logs")
    (made / "final_model.int8.ptz").unlink()
    shutil.copy(produced, made / "train_seed1337.log")

    # cp -r RECORD /tmp/x/rec && cd /tmp/x && golf verify rec --rerun: the work directory lands beside the copy
    elsewhere = tmp_path / "x"
    elsewhere.mkdir()
    shutil.copytree(made, elsewhere / "rec")
    monkeypatch.chdir(elsewhere)
    status, data = verify_json(capsys, "rec", "--rerun", "--nproc", "1", "--seeds", "1337")
    (record,) = data["records"]
    assert (elsewhere / WORKDIR_NAME / "rec" / "seed1337" / MARKER_NAME).is_file()
    assert "G509" not in codes(record), record["findings"]
    (row,) = record["reproduction"]
    assert row["status"] == "ok" and row["reproduced"]["val_bpb"] == row["claimed"]["val_bpb"]

    # The same tree verified statically afterwards: the rerun's copies are still not other records.
    status, data = verify_json(capsys, "rec")
    assert "G509" not in codes(data["records"][0])


def test_a_copy_without_the_rerun_marker_is_still_a_copy(tmp_path, capsys):
    tree = tmp_path / "records"
    original = make_record(tree, "2026-04-01_Original")
    copy = tree / "track_10min_16mb" / "2026-04-06_Copy"
    shutil.copytree(original, copy)
    status, data = verify_json(capsys, copy)
    assert "G509" in codes(data["records"][0])
    # ... and the same copy inside a rerun work directory of the tree is evidence of a rerun, never searched
    shutil.rmtree(original)
    seed_dir = tree / WORKDIR_NAME / "2026-04-06_Copy" / "seed1337"
    shutil.copytree(copy, seed_dir)
    (seed_dir / MARKER_NAME).write_text("made by golf verify --rerun\n")
    status, data = verify_json(capsys, copy)
    assert "G509" not in codes(data["records"][0])


# ---- golf submit writes, golf verify passes -------------------------------------------------------

def test_submit_then_verify_the_smoke_record_passes_with_no_warning(tmp_path, capsys):
    record = tmp_path / "records" / "track_smoke" / SMOKE.name
    shutil.copytree(SMOKE, record)
    (record / "submission.json").unlink()
    assert main(["submit", str(record), "--author", "Golf Tests", "--github-id", "golf-tests",
                 "--name", "Reference baseline", "--format", "json"]) == 0
    written = json.loads(capsys.readouterr().out)["submission"]
    status, data = verify_json(capsys, record)
    (report,) = data["records"]
    assert status == 0
    assert report["stats"]["ruleset"]["name"] == "parameter_golf_2026_practice"
    # under the practice ruleset the code counted is the packed wrapper, and that is what submit claimed
    assert written["bytes_code"] == report["stats"]["code_bytes"]["counted"] < report["stats"]["script"]["bytes"]
    assert [f for f in report["findings"] if f["severity"] in ("error", "warning")] == []


def test_a_code_size_claim_matching_neither_count_is_still_reported(tmp_path, capsys):
    record = tmp_path / "records" / "track_smoke" / SMOKE.name
    shutil.copytree(SMOKE, record)
    claims = json.loads((record / "submission.json").read_text())
    claims["bytes_code"] = 12_345
    (record / "submission.json").write_text(json.dumps(claims))
    status, data = verify_json(capsys, record)
    (g305,) = [f for f in data["records"][0]["findings"] if f["code"] == "G305"]
    assert "12,345" in g305["message"] and "packed" in g305["message"]


def test_the_summary_names_the_ruleset_that_judged_the_record(tmp_path, capsys):
    assert main(["verify", str(SMOKE)]) == 0
    out = capsys.readouterr().out
    summary = out.strip().splitlines()[-1]
    assert "parameter_golf_2026_practice" in summary and "default parameter_golf_2026 " not in summary
    status, data = verify_json(capsys, SMOKE)
    assert "parameter_golf_2026_practice" in data["ruleset"]


def test_submit_reads_the_project_configuration(tmp_path, monkeypatch, capsys):
    record = tmp_path / "records" / "track_smoke" / SMOKE.name
    shutil.copytree(SMOKE, record)
    (tmp_path / "golf.toml").write_text('ruleset = "parameter_golf_2026"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["submit", str(record), "--dry-run", "--format", "json"]) == 0
    written = json.loads(capsys.readouterr().out)["submission"]
    assert written["generator"]["ruleset"] == "parameter_golf_2026"
    assert written["bytes_code"] == (record / "train_gpt.py").stat().st_size   # the written rules count it shipped


# ---- bad numbers ------------------------------------------------------------------------------

def test_non_finite_seeds_are_findings(tmp_path, capsys):
    record = make_record(tmp_path)
    text = (record / "submission.json").read_text().replace('"seeds": [', '"seeds": [NaN, Infinity, ', 1)
    (record / "submission.json").write_text(text)
    status, data = verify_json(capsys, record)
    messages = [f["message"] for f in data["records"][0]["findings"]]
    assert any("nan" in m.lower() and "seed" in m for m in messages), messages
    assert any("inf" in m.lower() and "seed" in m for m in messages), messages


def test_values_near_the_float_maximum_do_not_overflow(capsys):
    from golf.judge.stats import mean_and_sd

    mean, sd = mean_and_sd([1.7e308, 1.6e308, 1.75e308])
    assert mean == pytest.approx(1.6833333333333333e308) and sd == pytest.approx(7.637626158259736e306)
    assert mean_and_sd([1.7e308, -1.7e308]) == (0.0, None)   # a spread no float holds is undefined
    status = main(["stats", "--values", "1.7e308", "-1.7e308", "1.6e308", "--sota", "1.5e308",
                   "--delta", "0.01", "--unit", "bpb", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 1
    assert out["gating"]["passed"] is None and "too large" in out["gating"]["reason"]


def test_submit_with_scores_near_the_float_maximum_is_no_internal_error(tmp_path, capsys):
    record = tmp_path / "records" / "track_smoke" / SMOKE.name
    shutil.copytree(SMOKE, record)
    for i, log in enumerate(sorted(record.glob("train_seed*.log"))):
        lines = log.read_text().split("\n")
        for k, line in enumerate(lines):
            if line.startswith(("final_int8_zlib_roundtrip val_loss", "final_int8_zlib_roundtrip_exact val_loss")):
                lines[k] = line.split(" val_loss:")[0] + f" val_loss:1.{7 - i}e308 val_bpb:1.{6 - i}e308"
        log.write_text("\n".join(lines))
    status = main(["submit", str(record), "--dry-run", "--format", "json"])
    result = json.loads(capsys.readouterr().out)
    assert status in (0, 1)
    assert not any("internal error" in f for f in result["failures"])
    if result["submission"] is not None:
        assert math.isfinite(result["submission"]["val_bpb"])


def test_an_unreadable_subfolder_is_a_finding_that_names_it(tmp_path, monkeypatch, capsys):
    record = make_record(tmp_path)
    (record / "logs").mkdir()
    (record / "logs" / "extra.txt").write_text(log_text(seed=7, val_bpb=1.2))
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self.name == "logs":
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    status, data = verify_json(capsys, record)
    findings = data["records"][0]["findings"]
    assert "G000" not in {f["code"] for f in findings}
    assert any(f["code"] == "G108" and "logs" in f["message"] for f in findings), findings
    assert status == 1


# ---- golf eval: the record's log and a capture of its stdout are one run ------------------------

def test_eval_picks_the_log_when_a_stdout_capture_repeats_it(tmp_path):
    from golf.produce.eval.compare import pick_log

    record_dir = make_record(tmp_path, seeds=(1337,), bpbs=(1.1,))
    log = (record_dir / "train_seed1337.log").read_text()
    (record_dir / "stdout.txt").write_text("W1207 torchrun warning\n" + log + "done\n")
    record = load_record(record_dir)
    assert len([g for g in record.unique_logs if g.run is not None]) == 2
    chosen = pick_log(record, 15_000_000)
    assert chosen is not None and chosen.path in ("train_seed1337.log", "stdout.txt")
    # two different runs of the same size are still not told apart
    (record_dir / "stdout.txt").write_text(log_text(seed=42, val_bpb=1.3))
    assert pick_log(load_record(record_dir), 15_000_000) is None


def test_write_submission_writes_with_the_verifier_that_judged_the_rerun(tmp_path, monkeypatch):
    """--rerun --write-submission hands the writer the verifier that judged the rerun (its ruleset by date, its
    selection and waivers), not the default ruleset."""
    from types import SimpleNamespace

    from golf.cli import verify as verify_cli
    from golf.judge.judging import judging
    from golf.produce import submit

    record = tmp_path / "records" / "track_smoke" / SMOKE.name
    shutil.copytree(SMOKE, record)
    verifier = judging().verifier()
    assert verifier.ruleset_of(record).name == "parameter_golf_2026_practice"   # by its date, not the default
    seen = {}
    real = submit.build_submission

    def build(record_dir, options, ruleset=None, verifier=None):
        seen.update(ruleset=ruleset, verifier=verifier)
        return real(record_dir, options, verifier=verifier)

    monkeypatch.setattr(submit, "build_submission", build)
    log = tmp_path / "rerun.log"
    shutil.copy(record / "train_seed42.log", log)
    verify_cli._write_submission(record, [SimpleNamespace(seed=42, log_path=log)], verifier,
                                 SimpleNamespace(passed=True))
    assert seen["verifier"] is verifier and seen["ruleset"] is None
    written = json.loads((record / "submission.json").read_text())
    assert written["generator"]["ruleset"] == "parameter_golf_2026_practice"

"""Verdict = validity; paperwork apart (issue 19 part 3).

A claim off below the precision the leaderboard shows, a README under another name and a wrong seed
label whose seed is distinct are paperwork under the practice ruleset: reported as fixes to make, with
the fix, never failing the record. The written rules keep them errors. What changes validity still fails.
"""

from __future__ import annotations

import json

from fixtures.verify.kit import make_record
from golf.cli import main

PRACTICE = "parameter_golf_2026_practice"
WRITTEN = "parameter_golf_2026"


def verify(capsys, record, ruleset):
    status = main(["verify", str(record), "--ruleset", ruleset, "--ignore", "G702,G703,G704", "--json"])
    return status, json.loads(capsys.readouterr().out)["records"][0]


def test_a_claim_off_in_the_sixth_decimal_is_paperwork_under_the_practice(tmp_path, capsys):
    record = make_record(tmp_path, bpbs=(1.1000, 1.1010, 1.0990))
    claims = json.loads((record / "submission.json").read_text())
    claims["val_bpb"] = 1.100003   # the mean is 1.1; the leaderboard shows 1.1000 either way
    (record / "submission.json").write_text(json.dumps(claims))
    status, report = verify(capsys, record, PRACTICE)
    assert status == 0 and report["verdict"] == "pass"
    (fix,) = [f for f in report["fixes"] if f["code"] == "G205"]
    assert fix["paperwork"] == "claim-precision" and "golf submit" in fix["fix"]
    status, report = verify(capsys, record, WRITTEN)
    assert status == 1 and "G205" in {f["code"] for f in report["findings"]} and report["fixes"] == []


def test_a_claim_off_at_the_shown_precision_still_fails(tmp_path, capsys):
    record = make_record(tmp_path, bpbs=(1.1000, 1.1010, 1.0990))
    claims = json.loads((record / "submission.json").read_text())
    claims["val_bpb"] = 1.0990
    (record / "submission.json").write_text(json.dumps(claims))
    status, report = verify(capsys, record, PRACTICE)
    assert status == 1 and "G205" in {f["code"] for f in report["findings"]}


def test_a_readme_under_another_name_is_paperwork_and_no_readme_is_not(tmp_path, capsys):
    record = make_record(tmp_path)
    (record / "README.md").rename(record / "v2_README.md")
    status, report = verify(capsys, record, PRACTICE)
    assert status == 0
    (fix,) = [f for f in report["fixes"] if f["code"] == "G101"]
    assert "v2_README.md" in fix["message"] and "README.md" in fix["fix"]
    status, report = verify(capsys, record, WRITTEN)
    assert status == 1 and "G101" in {f["code"] for f in report["findings"]}
    (record / "v2_README.md").unlink()
    status, report = verify(capsys, record, PRACTICE)
    assert status == 1 and "G101" in {f["code"] for f in report["findings"]}


def test_a_wrong_seed_label_with_distinct_seeds_is_paperwork(tmp_path, capsys):
    record = make_record(tmp_path, seeds=(1337, 42, 2025))
    (record / "train_seed42.log").rename(record / "train_seed7.log")   # the log still ran seed 42
    claims = json.loads((record / "submission.json").read_text())
    (record / "submission.json").write_text(json.dumps(claims))
    status, report = verify(capsys, record, PRACTICE)
    fixes = [f for f in report["fixes"] if f["code"] == "G502"]
    assert fixes and fixes[0]["paperwork"] == "seed-label"
    assert "G502" not in {f["code"] for f in report["findings"]}
    status, report = verify(capsys, record, WRITTEN)
    assert "G502" in {f["code"] for f in report["findings"]}


def test_a_wrong_seed_label_that_hides_a_repeated_seed_still_fails(tmp_path, capsys):
    record = make_record(tmp_path, seeds=(1337, 42, 2025))
    text = (record / "train_seed2025.log").read_text().replace("seed:2025", "seed:42")
    (record / "train_seed2025.log").write_text(text)   # named 2025, ran 42 again
    status, report = verify(capsys, record, PRACTICE)
    assert status == 1
    assert "G502" in {f["code"] for f in report["findings"]}

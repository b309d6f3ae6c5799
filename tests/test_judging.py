"""Judging settings resolved once: every command reads golf.toml the same way and they agree.

The record is dated before the practice ruleset applies (the written rules would judge it by its date)
and its model is over the byte cap; golf.toml names the practice ruleset and waives the cap with a
reason. verify, submit, ci, leaderboard, logs and stats must each judge by the practice ruleset, and
the four that judge the record must all let the waived finding stand aside.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fixtures.verify.kit import make_record
from golf.cli import main
from golf.errors import GolfError
from golf.judge.judging import judging, ruleset_named
from golf.read.config import parse_config

PRACTICE = "parameter_golf_2026_practice"
RECORD = "records/track_10min_16mb/2026-04-06_Over"
CONFIG = (f'ruleset = "{PRACTICE}"\nignore = ["G702"]\n\n'
          f'[waivers."{RECORD}"]\nG301 = "counted by hand in review #123"\n')


def out_json(capsys, *argv) -> tuple[int, dict]:
    status = main([*map(str, argv)])
    return status, json.loads(capsys.readouterr().out)


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    make_record(tmp_path / "records", "2026-04-06_Over", model_bytes=16_500_000)
    (tmp_path / "golf.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def practice_label() -> str:
    return ruleset_named(PRACTICE).label


def test_without_the_configuration_the_record_fails_by_its_date(project, capsys):
    (project / "golf.toml").unlink()
    status, data = out_json(capsys, "verify", RECORD, "--json")
    (record,) = data["records"]
    assert status == 1 and record["stats"]["ruleset"]["name"] == "parameter_golf_2026"
    assert "G301" in {f["code"] for f in record["findings"]}


def test_verify_judges_by_the_configured_ruleset_and_waiver(project, capsys):
    status, data = out_json(capsys, "verify", RECORD, "--json")
    (record,) = data["records"]
    assert status == 0 and record["verdict"] == "pass"
    assert record["stats"]["ruleset"]["name"] == PRACTICE and "golf.toml" in record["stats"]["ruleset"]["reason"]
    assert {w["code"] for w in record["waived"]} == {"G301"}
    assert practice_label() in data["ruleset"]


def test_submit_judges_as_verify_does(project, capsys):
    status, result = out_json(capsys, "submit", RECORD, "--dry-run", "--format", "json")
    assert status == 0 and result["ok"], result["failures"]
    assert result["submission"]["generator"]["ruleset"] == PRACTICE
    assert "G301" not in {f["code"] for f in result["findings"]}


def test_leaderboard_judges_as_verify_does(project, capsys):
    status, rows = out_json(capsys, "leaderboard", "--json")
    (row,) = rows if isinstance(rows, list) else rows["rows"]
    assert row["verdict"] == "pass" and row["failing_rules"] == []
    assert row["ruleset"] == practice_label()


def test_logs_and_stats_read_the_configured_ruleset(project, capsys):
    status, logs = out_json(capsys, "logs", f"{RECORD}/train_seed1337.log", "--json")
    assert status == 0 and logs["ruleset"] == practice_label()
    status, stats = out_json(capsys, "stats", "--values", "1.10", "1.101", "1.099", "--sota", "1.2", "--json")
    policy = ruleset_named(PRACTICE).significance
    assert stats["ruleset"] == practice_label()
    assert (stats["alpha"], stats["gate"], stats["unit"]) == (policy.alpha, policy.gate, policy.unit)
    # the command line still wins
    status, stats = out_json(capsys, "stats", "--values", "1.10", "1.101", "1.099", "--sota", "1.2",
                             "--ruleset", "parameter_golf_2026", "--json")
    assert stats["ruleset"] == ruleset_named("parameter_golf_2026").label


def test_ci_judges_by_the_base_branch_configuration(project, capsys, monkeypatch):
    for key, value in {"GIT_AUTHOR_NAME": "golf tests", "GIT_AUTHOR_EMAIL": "tests@golf.invalid",
                       "GIT_COMMITTER_NAME": "golf tests", "GIT_COMMITTER_EMAIL": "tests@golf.invalid",
                       "GIT_CONFIG_GLOBAL": str(project / "no-global-gitconfig"), "GIT_CONFIG_NOSYSTEM": "1"}.items():
        monkeypatch.setenv(key, value)

    def git(*args):
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)

    record = project / RECORD
    moved = project.parent / "held"
    record.rename(moved)
    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "base: the configuration")
    git("checkout", "-q", "-b", "pr")
    moved.rename(record)
    git("add", "-A")
    git("commit", "-q", "-m", "a record")
    status, result = out_json(capsys, "ci", "--base", "main", "--format", "json")
    assert status == 0 and result["passed"], result
    (judged,) = result["report"]["records"]
    assert judged["stats"]["ruleset"]["name"] == PRACTICE
    assert {w["code"] for w in judged["waived"]} == {"G301"}


def test_the_command_line_wins_key_by_key_and_waivers_resolve_names(tmp_path):
    config = parse_config(CONFIG.replace("G301", "size-over-cap"), tmp_path / "golf.toml", tmp_path)
    settings = judging(ruleset="parameter_golf_2026", config=config)
    assert settings.ruleset.name == "parameter_golf_2026" and settings.ruleset_source == "--ruleset"
    assert settings.ignore == ("G702",)                     # not given: the file's
    assert settings.waivers_for(tmp_path / RECORD) == {"G301": "counted by hand in review #123"}
    assert judging(config=config).ruleset.name == PRACTICE
    assert judging().ruleset is None and judging().default_ruleset.name == "parameter_golf_2026"
    with pytest.raises(GolfError, match="either --sota or --sota-record"):
        judging(sota=1.0, sota_record=tmp_path)


def test_configured_reproductions_join_the_record_they_name(tmp_path, monkeypatch, capsys):
    record = make_record(tmp_path / "records", "2026-05-01_Pooled")
    elsewhere = tmp_path / "pr-1234"
    elsewhere.mkdir()
    from fixtures.verify.kit import log_text

    (elsewhere / "train_seed7.log").write_text(log_text(seed=7, val_bpb=1.1005))
    (tmp_path / "golf.toml").write_text(f'[reproductions]\n"records/track_10min_16mb/{record.name}" = '
                                        '["pr-1234"]\n')
    monkeypatch.chdir(tmp_path)
    status, data = out_json(capsys, "verify", record, "--json")
    pooled = data["records"][0]["stats"]["pooled"]
    (run,) = pooled["runs"]
    assert run["log"].endswith("train_seed7.log") and run["by"].endswith("golf.toml")

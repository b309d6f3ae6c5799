"""The report model, its JSON shape (validated against schemas/report.schema.json) and its renderers."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from rich.console import Console

from golf.judge.findings import Finding
from golf.judge.report import RecordReport, Report, RunRow, Summary
from golf.render.report import render_github, render_json, render_markdown, render_terminal

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json").read_text())


def sample() -> Report:
    failing = RecordReport(
        path="records/track_10min_16mb/2026-04-06_A b",
        track="track_10min_16mb",
        runs=[RunRow(log="train_seed1.log", seed=1, label="final_int8_zlib_roundtrip_exact", val_bpb=1.2,
                     val_loss=2.03, bytes_total=15_990_000, bytes_code=50_000, bytes_model=15_940_000,
                     size_basis="shipped", train_time_ms=600_000.0, eval_time_ms=float("nan")),
              RunRow(log="train.log", seed=1, duplicate_of="train_seed1.log")],
        summary=Summary(n_runs=1, val_bpb_mean=1.2, val_loss_mean=2.03, bytes_total_max=15_990_000),
        findings=[Finding("G301", "size-over-cap", "error", "too big, 100% over: a,b\nnext line", "train_seed1.log"),
                  Finding("G501", "duplicate-log", "warning", "train.log is a copy", "train.log"),
                  Finding("G704", "significance-not-applicable", "info", "no SOTA")],
        stats={"significance": {"applicable": False, "reason": "no SOTA"}, "values": (1.0, float("inf"))})
    passing = RecordReport(path="records/track_smoke/ok", track="track_smoke")
    return Report(golf_version="0.1.0", ruleset="parameter_golf_2026 2026.1", records=[failing, passing])


def test_json_has_the_documented_shape_and_validates():
    data = json.loads(render_json(sample()))
    jsonschema.validate(data, SCHEMA)
    assert set(data) == {"schema_version", "golf_version", "ruleset", "config", "rules", "records"}
    assert data["schema_version"] == 3 and set(data["rules"]) == {"selected", "ignored", "waivers"}
    record = data["records"][0]
    assert record["verdict"] == "fail" and data["records"][1]["verdict"] == "pass"
    assert set(record["summary"]) >= {"n_runs", "val_bpb_mean", "val_bpb_std", "val_loss_mean", "bytes_total_max"}
    assert set(record["runs"][0]) >= {"log", "seed", "label", "val_bpb", "val_loss", "bytes_total", "bytes_code",
                                      "train_time_ms", "eval_time_ms", "duplicate_of"}
    assert set(record["findings"][0]) >= {"code", "name", "severity", "message", "file"}
    assert record["runs"][0]["eval_time_ms"] is None  # NaN is not JSON
    assert record["stats"]["values"] == [1.0, None]
    assert record["runs"][1]["duplicate_of"] == "train_seed1.log"


def test_schema_rejects_a_wrong_verdict_and_a_missing_field():
    data = sample().to_dict()
    data["records"][0]["verdict"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
    data = sample().to_dict()
    del data["records"][0]["runs"][0]["seed"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_verdict_follows_error_findings_only():
    record = RecordReport(path="x", findings=[Finding("G501", "duplicate-log", "warning", "w")])
    assert record.verdict == "pass"
    record.findings.append(Finding("G101", "missing-readme", "error", "e"))
    assert record.verdict == "fail"
    assert not Report("0", "r", [record]).passed


def test_github_annotations_escape_and_map_severities():
    text = render_github(sample())
    lines = text.splitlines()
    assert lines[0] == ("::error file=records/track_10min_16mb/2026-04-06_A b/train_seed1.log,"
                        "title=G301 size-over-cap::too big, 100%25 over: a,b%0Anext line")
    assert lines[1].startswith("::warning file=records/track_10min_16mb/2026-04-06_A b/train.log,")
    assert lines[2].startswith("::notice file=records/track_10min_16mb/2026-04-06_A b,title=G704")
    assert any(line.startswith("::notice title=golf verify::records/track_smoke/ok: pass") for line in lines)


def test_markdown_is_a_pull_request_comment():
    text = render_markdown(sample())
    assert text.startswith("## golf verify")
    assert "| `records/track_10min_16mb/2026-04-06_A b` | ❌ fail | 1 |" in text
    assert "| `records/track_smoke/ok` | ✅ pass |" in text
    assert "**G301 size-over-cap**: train_seed1.log: too big" in text
    assert "next line" in text and "too big, 100% over: a,b\nnext" not in text  # one line per finding
    assert "(copy of `train_seed1.log`)" in text


def test_terminal_shows_a_verdict_line_and_a_findings_table():
    buffer = io.StringIO()
    render_terminal(sample(), Console(file=buffer, width=200, force_terminal=False, color_system=None))
    text = buffer.getvalue()
    assert "FAIL records/track_10min_16mb/2026-04-06_A b (track_10min_16mb): 1 run, val_bpb 1.20000" in text
    assert "PASS records/track_smoke/ok" in text
    assert "G301" in text and "size-over-cap" in text and "train_seed1.log: too big" in text
    assert "2 records verified, 1 failed" in text


def test_a_rerun_shows_claimed_against_reproduced_in_every_format():
    from golf.judge.report import Reproduced

    record = RecordReport(path="records/track_smoke/r", track="track_smoke", rerun=True, reproduction=[
        Reproduced(seed=1337, claimed_val_bpb=2.7198, val_bpb=2.7201, claimed_bytes_total=281_502,
                   bytes_total=281_500, claimed_train_time_ms=12_646.0, train_time_ms=55_400.0),
        Reproduced(seed=42, claimed_val_bpb=2.73, status="failed")])
    report = Report(golf_version="0.1.0", ruleset="r", records=[record])

    data = json.loads(render_json(report))
    jsonschema.validate(data, SCHEMA)
    first, second = data["records"][0]["reproduction"]
    assert first["claimed"]["val_bpb"] == 2.7198 and first["reproduced"]["train_time_ms"] == 55_400.0
    assert first["delta_val_bpb"] == pytest.approx(0.0003) and second["delta_val_bpb"] is None

    markdown = render_markdown(report)
    assert "| 1337 | ok | 2.719800 | 2.720100 | +0.000300 | 281,502 | 281,500 | 12.6 | 55.4 |" in markdown
    assert "| 42 | failed | 2.730000 | – | – |" in markdown

    out = io.StringIO()
    render_terminal(report, Console(file=out, width=60))
    lines = out.getvalue().splitlines()
    assert any(line.split() == ["1337", "ok", "2.719800", "2.720100", "+0.000300", "281,502", "281,500", "12.6",
                                "55.4"] for line in lines)  # one unwrapped row even at 60 columns

    github = render_github(report)
    assert "::notice title=golf verify --rerun%3A seed 1337::status ok, bpb claimed 2.719800, bpb rerun 2.720100" \
        in github

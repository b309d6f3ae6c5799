"""Formatters are chosen by name from one registry in golf/render/ (flake8's reporters), never by branches
in the command modules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from golf.cli import main
from golf.errors import GolfError
from golf.render.formats import FORMATTERS, formats, formatter

GOLF = Path(__file__).resolve().parents[1] / "golf"


def test_no_command_branches_on_its_format():
    offenders = [f"{path.name}:{n}" for path in sorted((GOLF / "cli").glob("*.py"))
                 for n, line in enumerate(path.read_text().splitlines(), 1) if re.search(r"args\.format\s*==", line)]
    assert offenders == []


def test_every_registered_formatter_lives_in_render_and_imports():
    for kind, table in FORMATTERS.items():
        for name, target in table.items():
            assert target.startswith("golf.render."), (kind, name, target)
            assert callable(formatter(kind, name))


def test_verify_offers_every_report_format_and_an_unknown_one_is_an_error():
    assert set(formats("report")) == {"text", "json", "markdown", "github", "html"}
    with pytest.raises(GolfError, match="no 'yaml' format"):
        formatter("report", "yaml")


def test_rules_render_by_name(capsys):
    assert main(["rules", "G301", "--format", "json"]) == 0
    (rule,) = json.loads(capsys.readouterr().out)["rules"]
    assert rule["code"] == "G301" and rule["explanation"]
    assert main(["rules", "G301", "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("## G301 size-over-cap (error)")
    assert main(["rules", "--format", "markdown"]) == 0
    assert "| G301 | size-over-cap | error |" in capsys.readouterr().out


def test_a_finding_carries_its_template_and_arguments_in_json(tmp_path, capsys):
    from fixtures.verify.kit import make_record

    record = make_record(tmp_path, model_bytes=16_500_000)
    assert main(["verify", str(record), "--json"]) == 1
    findings = json.loads(capsys.readouterr().out)["records"][0]["findings"]
    over = [f for f in findings if f["code"] == "G301" and f["file"].endswith(".log")]
    assert over
    args = over[0]["args"]
    assert args["cap"] == 16_000_000 and args["over"] == args["bytes_total"] - 16_000_000
    assert over[0]["template"].format(**args) == over[0]["message"]

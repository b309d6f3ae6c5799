"""The pictures of the verify report: Mermaid charts in markdown, SVG in a self-contained HTML file, and that
file opened in a real headless browser (skipped when none is installed)."""

from __future__ import annotations

import json

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from golf.cli import main
from golf.read.curves import read_curves, thin

REPO = Path(__file__).resolve().parents[1]
SMOKE = "records/track_smoke/2026-11-23_ReferenceBaseline"
TOOL = REPO / "tools" / "check_report_html.py"


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def test_curves_come_from_the_step_lines_of_the_last_run(tmp_path):
    curves = read_curves(REPO / SMOKE / "train_seed1337.log")
    assert curves.train_loss[0] == (1, 6.9325) and curves.train_loss[-1] == (120, 4.2849)
    assert curves.val_bpb == [(120, 2.7198)]
    log = tmp_path / "two_runs.log"
    log.write_text("step:1/2 train_loss:5.0\nstep:2/2 train_loss:4.0\nf'step:{step}/{n} train_loss:{x}'\n"
                   "step:1/2 train_loss:6.0\nstep:2/2 train_loss:5.5 train_time:3ms\n")
    assert read_curves(log).train_loss == [(1, 6.0), (2, 5.5)]
    points = [(i, float(i)) for i in range(1000)]
    assert len(thin(points)) == 120 and thin(points)[0] == (0, 0.0) and thin(points)[-1] == (999, 999.0)


def test_markdown_carries_mermaid_charts_github_can_draw(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert main(["verify", SMOKE, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    blocks = re.findall(r"```mermaid\n(.*?)```", out, re.S)
    assert len(blocks) == 2 and all(b.startswith("xychart-beta\n") for b in blocks)
    curves, scores = blocks
    assert curves.count("    line [") == 3 and '"120"' in curves
    assert "bar [2.71877, 2.74644, 2.72474]" in scores
    assert "Lines in order: 1. seed 1337, 2. seed 2025, 3. seed 42." in out
    # without pictures asked for (text, json), the report does not read the curves
    assert main(["verify", SMOKE, "--format", "json"]) == 0
    assert '"curves": []' in capsys.readouterr().out


def test_html_is_one_self_contained_file_with_a_curve_and_a_bar_per_seed(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(REPO)
    assert main(["verify", SMOKE, "--format", "html"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    parser = Elements()
    parser.feed(page)
    series = [a["data-series"] for tag, a in parser.found if tag == "polyline"]
    bars = {a["data-seed"]: float(a["data-value"]) for tag, a in parser.found if tag == "rect"}
    assert series == ["seed 1337", "seed 2025", "seed 42"]
    claimed = json.loads((REPO / SMOKE / "submission.json").read_text())
    assert bars == {str(run["seed"]): run["val_bpb"] for run in claimed["runs"]}   # one bar per logged score


def test_a_record_track_draws_the_threshold_its_seeds_must_beat(tmp_path, capsys):
    from golf.judge.report import RecordReport, Report, RunCurves, RunRow
    from golf.render.html import render_html

    record = RecordReport(path="records/track_10min_16mb/x", track="track_10min_16mb",
                          runs=[RunRow(log="a.log", seed=1, val_bpb=1.20), RunRow(log="b.log", seed=2, val_bpb=1.21)],
                          curves=[RunCurves(log="a.log", seed=1, train_loss=[(1, 7.0), (10, 3.0)])],
                          stats={"significance": {"unit": "nats", "sota": 1.2244,
                                                  "readings": {"nats": {"threshold": 1.2214}}}})
    page = render_html(Report(golf_version="0", ruleset="r", records=[record]))
    parser = Elements()
    parser.feed(page)
    lines = {a["class"]: float(a["data-value"]) for tag, a in parser.found if tag == "line" and "data-value" in a}
    assert lines == {"threshold": 1.2214, "sota": 1.2244}


def test_the_html_report_in_a_real_headless_browser(tmp_path):
    done = subprocess.run([sys.executable, str(TOOL), "--screenshot", str(tmp_path / "report.png")],
                          capture_output=True, text=True, timeout=300)
    if done.returncode == 77:
        pytest.skip("no headless Chromium installed (apt-get install chromium-headless-shell)")
    assert done.returncode == 0, done.stderr
    assert "drew 3 curves and 3 bars" in done.stdout
    assert (tmp_path / "report.png").stat().st_size > 10_000

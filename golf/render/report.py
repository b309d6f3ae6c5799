"""Renderers of the verification report: terminal, JSON, markdown and GitHub annotations.

Checks produce findings; golf.judge.verify assembles them into a Report
(golf.judge.report); this module only shapes and prints it.
"""

from __future__ import annotations

import math

from golf.judge.findings import SEVERITIES, Finding
from golf.judge.report import RecordReport, Report

# ---------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------

_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def _sorted_findings(record: RecordReport) -> list[Finding]:
    return sorted(record.findings, key=lambda f: (_ORDER.get(f.severity, 9), f.code))


def _located(f: Finding) -> str:
    """The message led by the file it concerns (once, even when the message already names it)."""
    if not f.file or f.message.startswith(f"{f.file}:") or f.message.startswith(f"{f.file} "):
        return f.message
    return f"{f.file}: {f.message}"


def _fmt(value: float | None, digits: int = 5) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _headline(record: RecordReport) -> str:
    s = record.summary
    parts = [f"{s.n_runs} run{'s' if s.n_runs != 1 else ''}"]
    if s.val_bpb_mean is not None:
        spread = f" ± {s.val_bpb_std:.5f}" if s.val_bpb_std is not None else ""
        parts.append(f"val_bpb {s.val_bpb_mean:.5f}{spread}")
    if s.bytes_total_max is not None:
        parts.append(f"max {s.bytes_total_max:,} bytes")
    parts.append(f"{record.count('error')} errors, {record.count('warning')} warnings")
    return ", ".join(parts)


def render_terminal(report: Report, console) -> None:
    """A verdict line per record and a table of its findings, for people at a terminal."""
    from rich.markup import escape
    from rich.table import Table

    for record in report.records:
        mark = "[bold green]PASS[/]" if record.passed else "[bold red]FAIL[/]"
        track = f" [dim]({escape(record.track)})[/]" if record.track else ""
        console.print(f"{mark} {escape(record.path)}{track}: {escape(_headline(record))}")
        if not record.findings:
            continue
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
        for column in ("code", "severity", "rule", "message"):
            table.add_column(column, overflow="fold")
        styles = {"error": "red", "warning": "yellow", "info": "cyan"}
        for f in _sorted_findings(record):
            table.add_row(f.code, f"[{styles.get(f.severity, 'white')}]{f.severity}[/]", f.name,
                          escape(_located(f)))
        console.print(table)
        console.print()
    total = len(report.records)
    failed = sum(1 for r in report.records if not r.passed)
    console.print(f"{total} record{'s' if total != 1 else ''} verified, {failed} failed "
                  f"(ruleset {escape(report.ruleset)}, golf {report.golf_version})"
                  f"{escape(_rules_note(report, ''))}")


def _rules_note(report: Report, quote: str) -> str:
    """' Rules ignored: G301 size-over-cap.' (and those selected), or nothing: a verdict without them may differ."""
    parts = []
    if report.selected is not None:
        parts.append(f" Only rules {', '.join(f'{quote}{c}{quote}' for c in report.selected)} ran.")
    if report.ignored:
        parts.append(" Rules ignored: " + ", ".join(f"{quote}{r['code']} {r['name']}{quote}" for r in report.ignored)
                     + ".")
    return "".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    """A pull-request comment: a verdict table, then the findings of each record."""
    icon = {"pass": "✅", "fail": "❌"}
    sev_icon = {"error": "❌", "warning": "⚠️", "info": "ℹ️"}
    lines = ["## golf verify", "",
             f"Ruleset `{report.ruleset}`, golf {report.golf_version}.{_rules_note(report, '`')}", "",
             "| Record | Verdict | Runs | val_bpb (mean ± sd) | Max bytes | Errors | Warnings |",
             "|---|---|---|---|---|---|---|"]
    for r in report.records:
        s = r.summary
        score = _fmt(s.val_bpb_mean) + (f" ± {_fmt(s.val_bpb_std)}" if s.val_bpb_std is not None else "")
        size = f"{s.bytes_total_max:,}" if s.bytes_total_max is not None else "n/a"
        lines.append(f"| `{_md_cell(r.path)}` | {icon[r.verdict]} {r.verdict} | {s.n_runs} | {score} | {size} "
                     f"| {r.count('error')} | {r.count('warning')} |")
    for r in report.records:
        lines += ["", f"### {icon[r.verdict]} `{_md_cell(r.path)}`", ""]
        if r.runs:
            lines += ["| Log | Seed | Label | val_bpb | val_loss | Bytes | Train ms | Eval ms |",
                      "|---|---|---|---|---|---|---|---|"]
            for run in r.runs:
                dup = f" (copy of `{_md_cell(run.duplicate_of)}`)" if run.duplicate_of else ""
                lines.append(
                    f"| `{_md_cell(run.log)}`{dup} | {run.seed if run.seed is not None else ''} "
                    f"| {_md_cell(run.label or '')} | {_fmt(run.val_bpb, 8)} | {_fmt(run.val_loss, 8)} "
                    f"| {'' if run.bytes_total is None else f'{run.bytes_total:,}'} "
                    f"| {_fmt(run.train_time_ms, 0)} | {_fmt(run.eval_time_ms, 0)} |")
            lines.append("")
        if not r.findings:
            lines.append("No findings.")
            continue
        for f in _sorted_findings(r):
            lines.append(f"- {sev_icon.get(f.severity, '')} **{f.code} {f.name}**: {_md_cell(_located(f))}")
    return "\n".join(lines) + "\n"


def _gh_escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_property(text: str) -> str:
    return _gh_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    """GitHub Actions workflow commands: one ::error/::warning/::notice line per finding."""
    command = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for r in report.records:
        base = r.path.rstrip("/")
        for f in _sorted_findings(r):
            props = []
            target = f"{base}/{f.file}" if f.file else base
            props.append(f"file={_gh_escape_property(target)}")
            if f.line is not None:
                props.append(f"line={f.line}")
            props.append(f"title={_gh_escape_property(f'{f.code} {f.name}')}")
            lines.append(f"::{command.get(f.severity, 'notice')} {','.join(props)}::{_gh_escape_data(f.message)}")
        lines.append(f"::notice title={_gh_escape_property('golf verify')}::"
                     f"{_gh_escape_data(f'{base}: {r.verdict} ({_headline(r)})')}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(report: Report) -> str:
    from golf.io import dumps_json

    return dumps_json(report.to_dict(), indent=2, ensure_ascii=False) + "\n"

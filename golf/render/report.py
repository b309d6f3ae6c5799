"""Renderers of the verification report: terminal, JSON, markdown and GitHub annotations.

Checks produce findings; golf.judge.verify assembles them into a Report
(golf.judge.report); this module only shapes and prints it.
"""

from __future__ import annotations

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
    from golf.read.numerals import fixed

    return fixed(value, digits)


def _headline(record: RecordReport) -> str:
    s = record.summary
    parts = [f"{s.n_runs} run{'s' if s.n_runs != 1 else ''}"]
    if s.val_bpb_mean is not None:
        spread = f" ± {s.val_bpb_std:.5f}" if s.val_bpb_std is not None else ""
        parts.append(f"val_bpb {s.val_bpb_mean:.5f}{spread}")
    if s.bytes_total_max is not None:
        parts.append(f"max {s.bytes_total_max:,} bytes")
    errors, warnings = record.count("error"), record.count("warning")
    parts.append(f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)


def show_terminal(report: Report, **_options) -> None:
    """The text report on the terminal (golf.render.formats' "text" format of a report)."""
    from golf.render.terminal import make_console

    render_terminal(report, make_console())


def render_terminal(report: Report, console) -> None:
    """A verdict line per record and a table of its findings, for people at a terminal."""
    from rich.markup import escape
    from rich.table import Table

    for record in report.records:
        mark = "[bold green]PASS[/]" if record.passed else "[bold red]FAIL[/]"
        track = f" [dim]({escape(record.track)})[/]" if record.track else ""
        console.print(f"{mark} {escape(record.path)}{track}: {escape(_headline(record))}", highlight=False,
                      soft_wrap=True)
        if record.reproduction:
            _print_reproduction(record, console)
        ruleset = record.stats.get("ruleset") if isinstance(record.stats, dict) else None
        if ruleset:
            console.print(f"  [dim]ruleset {escape(ruleset['name'])} {escape(ruleset['version'])}: "
                          f"{escape(ruleset['reason'])}[/]", highlight=False, soft_wrap=True)
        for w in record.waived:
            console.print(f"  [dim]waived {escape(w['code'])} {escape(w['name'])}: {escape(w['reason'])} "
                          f"(finding: {escape(w['message'])})[/]", highlight=False, soft_wrap=True)
        for f in record.fixes:
            console.print(f"  [cyan]fix[/] {escape(f['code'])} {escape(f['name'])}: {escape(f['message'])}: "
                          f"{escape(f['fix'])}", highlight=False, soft_wrap=True)
        if not record.findings:
            continue
        if not console.is_terminal:
            # Piped: one finding per line, never wrapped, so paths stay whole for grep and for people.
            for f in _sorted_findings(record):
                console.print(f"{f.code}  {f.severity:<8} {f.name}  {_located(f)}", markup=False, highlight=False,
                              soft_wrap=True)
            console.print()
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
                  f"{escape(_rules_note(report, ''))}", highlight=False, soft_wrap=True)


def _rules_note(report: Report, quote: str) -> str:
    """' Rules ignored: G301 size-over-cap.' (and those selected), or nothing: a verdict without them may differ."""
    parts = []
    if report.selected is not None:
        parts.append(f" Only rules {', '.join(f'{quote}{c}{quote}' for c in report.selected)} ran.")
    if report.ignored:
        parts.append(" Rules ignored: " + ", ".join(f"{quote}{r['code']} {r['name']}{quote}" for r in report.ignored)
                     + ".")
    return "".join(parts)


def _print_reproduction(record: RecordReport, console) -> None:
    rows = [REPRODUCTION_HEADER] + reproduction_rows(record)
    widths = [max(len(row[i]) for row in rows) for i in range(len(REPRODUCTION_HEADER))]
    console.print("claimed vs reproduced:", highlight=False)
    for row in rows:
        console.print("  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths)), markup=False,
                      highlight=False, soft_wrap=True)
    console.print()


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
        size = f"{s.bytes_total_max:,}" if s.bytes_total_max is not None else "–"
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
        if r.curves:
            from golf.render.charts import mermaid_lines, mermaid_scores, train_series, val_series

            lines += mermaid_lines("train_loss by step", "train_loss", train_series(r))
            lines += mermaid_lines("val_bpb by step", "val_bpb", val_series(r))
            lines += mermaid_scores(r)
        if r.reproduction:
            lines += ["**Claimed vs reproduced** (the shipped log of each seed against its rerun)", "",
                      "| Seed | Status | val_bpb claimed | val_bpb rerun | Δ | Bytes claimed | Bytes rerun "
                      "| Train s claimed | Train s rerun |", "|---|---|---|---|---|---|---|---|---|"]
            lines += ["| " + " | ".join(row) + " |" for row in reproduction_rows(r)]
            lines.append("")
        ruleset = r.stats.get("ruleset") if isinstance(r.stats, dict) else None
        if ruleset:
            lines += [f"Ruleset `{ruleset['name']} {ruleset['version']}`: {_md_cell(ruleset['reason'])}.", ""]
        for w in r.waived:
            lines.append(f"- 🏳️ **{w['code']} {w['name']}** waived: {_md_cell(w['reason'])} "
                         f"(finding: {_md_cell(w['message'])})")
        for f in r.fixes:
            lines.append(f"- 🔧 **{f['code']} {f['name']}** to fix: {_md_cell(f['message'])}: {_md_cell(f['fix'])}")
        if not r.findings:
            lines.append("No findings.")
            continue
        for f in _sorted_findings(r):
            lines.append(f"- {sev_icon.get(f.severity, '')} **{f.code} {f.name}**: {_md_cell(_located(f))}")
    return "\n".join(lines) + "\n"


def reproduction_rows(record: RecordReport) -> list[list[str]]:
    """The claimed-vs-reproduced table of a rerun, as text cells (seed, status, bpb, Δ, bytes, train s)."""
    def num(value, digits):
        return "–" if value is None else f"{value:.{digits}f}"

    def size(value):
        return "–" if value is None else f"{value:,}"

    def seconds(value):
        return "–" if value is None else f"{value / 1000:.1f}"

    rows = []
    for x in record.reproduction:
        delta = "–" if x.delta_bpb is None else f"{x.delta_bpb:+.6f}"
        rows.append([str(x.seed) if x.seed is not None else "?", x.status, num(x.claimed_val_bpb, 6),
                     num(x.val_bpb, 6), delta, size(x.claimed_bytes_total), size(x.bytes_total),
                     seconds(x.claimed_train_time_ms), seconds(x.train_time_ms)])
    return rows


REPRODUCTION_HEADER = ["seed", "status", "bpb claimed", "bpb rerun", "delta", "bytes claimed", "bytes rerun",
                       "train s claimed", "train s rerun"]


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
        for row in reproduction_rows(r):
            said = ", ".join(f"{name} {cell}" for name, cell in zip(REPRODUCTION_HEADER[1:], row[1:]))
            lines.append(f"::notice title={_gh_escape_property(f'golf verify --rerun: seed {row[0]}')}::"
                         f"{_gh_escape_data(said)}")
        lines.append(f"::notice title={_gh_escape_property('golf verify')}::"
                     f"{_gh_escape_data(f'{base}: {r.verdict} ({_headline(r)})')}")
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(report: Report) -> str:
    from golf.io import dumps_json

    return dumps_json(report.to_dict(), indent=2, ensure_ascii=False) + "\n"

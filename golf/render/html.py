"""`golf verify --format html`: one self-contained HTML file (no scripts, no network): per record its verdict,
runs, claimed-vs-reproduced table, findings, and SVG pictures of each seed's train_loss curve and its score
against the SOTA threshold."""

from __future__ import annotations

from html import escape

from golf.render.charts import svg_lines, svg_scores, train_series, val_series

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 980px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } code { font-size: .95em; }
.pass { color: #1a7f37; } .fail { color: #cf222e; } .error { color: #cf222e; } .warning { color: #9a6700; }
.info { color: #0969da; } figure { margin: .8em 0; }
svg text { font: 11px system-ui, sans-serif; fill: #333; } svg .title { font-size: 13px; font-weight: 600; }
svg .axis { stroke: #333; } svg .grid { stroke: #eee; } svg .bar { fill: #6e9fd1; }
svg .threshold { stroke: #cf222e; stroke-dasharray: 6 4; } svg .sota { stroke: #555; stroke-dasharray: 2 3; }
svg .threshold-label { fill: #cf222e; } svg .sota-label { fill: #555; }
"""


def _num(value, digits=8) -> str:
    from golf.read.numerals import fixed

    return fixed(value, digits)


def _cells(values, numeric=()) -> str:
    return "".join(f'<td class="num">{escape(v)}</td>' if i in numeric else f"<td>{escape(v)}</td>"
                   for i, v in enumerate(values))


def _runs(record) -> list[str]:
    if not record.runs:
        return []
    out = ["<table><tr><th>log</th><th>seed</th><th>val_bpb</th><th>val_loss</th><th>bytes</th>"
           "<th>train s</th><th>eval s</th></tr>"]
    for run in record.runs:
        values = [run.log + (f" (copy of {run.duplicate_of})" if run.duplicate_of else ""),
                  "" if run.seed is None else str(run.seed), _num(run.val_bpb), _num(run.val_loss),
                  "" if run.bytes_total is None else f"{run.bytes_total:,}",
                  "" if run.train_time_ms is None else f"{run.train_time_ms / 1000:.1f}",
                  "" if run.eval_time_ms is None else f"{run.eval_time_ms / 1000:.1f}"]
        out.append(f"<tr>{_cells(values, numeric=(1, 2, 3, 4, 5, 6))}</tr>")
    return out + ["</table>"]


def _reproduction(record) -> list[str]:
    from golf.render.report import REPRODUCTION_HEADER, reproduction_rows

    if not record.reproduction:
        return []
    head = "".join(f"<th>{escape(h)}</th>" for h in REPRODUCTION_HEADER)
    rows = [f"<tr>{_cells(row, numeric=(0, 2, 3, 4, 5, 6, 7, 8))}</tr>" for row in reproduction_rows(record)]
    return ["<h3>Claimed vs reproduced</h3>", f"<table><tr>{head}</tr>", *rows, "</table>"]


def _findings(record) -> list[str]:
    from golf.render.report import _located, _sorted_findings

    if not record.findings:
        return ["<p>No findings.</p>"]
    items = [f'<li><span class="{escape(f.severity)}">{escape(f.severity)}</span> <b>{escape(f.code)} '
             f"{escape(f.name)}</b>: {escape(_located(f))}</li>" for f in _sorted_findings(record)]
    return ["<ul>", *items, "</ul>"]


def _pictures(record) -> list[str]:
    figures = [svg_lines("train_loss by step", "train_loss", train_series(record)),
               svg_lines("val_bpb by step", "val_bpb", val_series(record)), svg_scores(record)]
    return [f"<figure>{svg}</figure>" for svg in figures if svg]


def render_html(report) -> str:
    verdict = "pass" if report.passed else "fail"
    body = [f"<h1>golf verify: <span class=\"{verdict}\">{verdict}</span></h1>",
            f"<p>Ruleset <code>{escape(report.ruleset)}</code>, golf {escape(report.golf_version)}.</p>"]
    for record in report.records:
        body += [f'<section class="record" data-verdict="{record.verdict}">',
                 f'<h2><span class="{record.verdict}">{record.verdict.upper()}</span> '
                 f"<code>{escape(record.path)}</code></h2>"]
        body += _runs(record) + _pictures(record) + _reproduction(record) + _findings(record)
        body.append("</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
            "<title>golf verify report</title>\n<style>" + STYLE + "</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


__all__ = ["render_html"]

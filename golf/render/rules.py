"""`golf rules` as text, JSON or markdown: the table of rules, or the explanation of those named."""

from __future__ import annotations


def rules_json(rules, *, explain: bool = False, **_options) -> str:
    from golf.io import dumps_json

    return dumps_json({"rules": [dict(r.to_dict(), explanation=r.explanation) for r in rules]}, indent=2) + "\n"


def rules_markdown(rules, *, explain: bool = False, **_options) -> str:
    if explain:
        return "".join(f"## {_title(r)}\n\n{r.explanation}\n\n" for r in rules)
    lines = ["| Code | Name | Severity | Rationale |", "|---|---|---|---|"]
    lines += [f"| {r.code} | {r.name} | {r.severity} | {r.rationale} |" for r in rules]
    return "\n".join(lines) + "\n"


def rules_text(rules, *, explain: bool = False, **_options) -> str | None:
    if explain:
        return "".join(f"{_title(r)}\n\n{r.explanation}\n\n" for r in rules)
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=True, header_style="bold", box=None)
    for column in ("code", "name", "severity", "rationale"):
        table.add_column(column, overflow="fold")
    for r in rules:
        suffix = " (--rerun only)" if r.phase == "rerun" else ""
        table.add_row(r.code, r.name, r.severity, r.rationale + suffix)
    Console().print(table)
    return None


def _title(r) -> str:
    return f"{r.code} {r.name} ({r.severity}{', --rerun only' if r.phase == 'rerun' else ''})"


__all__ = ["rules_json", "rules_markdown", "rules_text"]

"""Formatters chosen by name, as flake8 makes a reporter from its name (`--format`).

Every command's output is one KIND (a verify report, the rules, a ci result, ...) that a
formatter writes in one of the FORMATS named for it. The table names each formatter by
"module:function" and imports it only when asked for, so `golf verify --json` never loads
the terminal renderer. A formatter takes the value (and keyword options) and returns the text
to print, or prints it itself and returns None (the rich terminal renderers).
"""

from __future__ import annotations

import importlib
import sys

from golf.errors import GolfError

JSON = "golf.render.formats:as_json"

FORMATTERS: dict[str, dict[str, str]] = {
    "report": {"text": "golf.render.report:show_terminal", "json": "golf.render.report:render_json",
               "markdown": "golf.render.report:render_markdown", "github": "golf.render.report:render_github",
               "html": "golf.render.html:render_html"},
    "rescore": {"text": "golf.render.evaluation:rescore_stdout", **{name: "golf.render.evaluation:rescore_stderr"
                                                                   for name in ("json", "markdown", "github", "html")}},
    "rerun-summary": {"text": "golf.render.rerun_summary:summary_stdout",
                      **{name: "golf.render.rerun_summary:summary_stderr" for name in ("json", "markdown", "github", "html")}},
    "legality": {"text": "golf.render.legality:legality_text", "json": JSON},
    "legality-combined": {"text": "golf.render.legality:combined_stdout",
                          **{name: "golf.render.legality:combined_stderr" for name in ("json", "markdown", "github", "html")}},
    "rules": {"text": "golf.render.rules:rules_text", "json": "golf.render.rules:rules_json",
              "markdown": "golf.render.rules:rules_markdown"},
    "ci": {"text": "golf.render.ci:render_markdown", "markdown": "golf.render.ci:render_markdown",
           "github": "golf.render.ci:render_github", "json": JSON},
    "leaderboard": {"markdown": "golf.render.leaderboard:render_markdown", "json": "golf.render.leaderboard:render_json"},
    "frontier": {"markdown": "golf.render.frontier:render_markdown", "json": "golf.render.frontier:render_json"},
    "stats": {"text": "golf.render.stats:print_human", "json": JSON},
    "logs": {"text": "golf.render.logs:print_logs", "json": JSON},
    "submit": {"text": "golf.render.submit:submit_text", "markdown": "golf.render.submit:submit_text",
               "json": JSON},
    "eval": {"text": "golf.render.evaluation:eval_text", "json": JSON},
    "size": {"text": "golf.render.evaluation:size_text", "json": JSON},
    "data-fetch": {"text": "golf.render.data:fetch_text", "json": JSON},
    "data-build": {"text": "golf.render.data:build_text", "json": JSON},
    "data-smoke": {"text": "golf.render.data:smoke_text", "json": JSON},
    "data-info": {"text": "golf.render.data:info_text", "json": JSON},
    "new": {"text": "golf.render.data:new_text", "json": JSON},
    "train": {"text": "golf.render.data:train_text", "json": JSON},
    "preset": {"text": "golf.render.data:preset_text", "json": "golf.render.formats:nothing"},
}


# The formats whose reports draw pictures (the verifier reads each run's curves for them).
PICTURES = ("markdown", "html")


def draws_pictures(name: str) -> bool:
    return name in PICTURES


def formats(kind: str) -> tuple[str, ...]:
    """The format names a kind of output can be written in (the choices of its --format)."""
    return tuple(FORMATTERS[kind])


def formatter(kind: str, name: str):
    """The formatter of `kind` called `name` (imported now)."""
    try:
        target = FORMATTERS[kind][name]
    except KeyError:
        known = ", ".join(FORMATTERS.get(kind, {})) or "none"
        raise GolfError(f"no {name!r} format for {kind} output (known: {known})") from None
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def show(kind: str, name: str, value, *, stream=None, **options) -> None:
    """Write `value` as `kind` output in the format called `name`."""
    text = formatter(kind, name)(value, **options)
    if text is not None:
        (stream or sys.stdout).write(text)


def nothing(value, **_options) -> None:
    """No output (a note that only the text format shows)."""
    return None


def as_json(value, *, extra: dict | None = None, **_options) -> str:
    """Strict JSON of a value or of its to_dict() (with `extra` keys added), two-space indented, one newline."""
    from golf.io import dumps_json

    data = value.to_dict() if hasattr(value, "to_dict") else value
    if extra:
        data = {**data, **extra}
    return dumps_json(data, indent=2, ensure_ascii=False, default=str) + "\n"


__all__ = ["FORMATTERS", "PICTURES", "as_json", "draws_pictures", "formats", "formatter", "show"]

"""Pictures of a verify report: each seed's train_loss curve and its score against the SOTA threshold.

Two forms: Mermaid `xychart-beta` blocks, which GitHub draws inside markdown (pull-request comments, no image
hosting), and inline SVG for the self-contained HTML report. Both are built from the report's data only.
"""

from __future__ import annotations

from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")


# ---- what to draw --------------------------------------------------------------------------

def score_reference(record) -> tuple[float | None, float | None]:
    """(threshold, SOTA) of the record's significance test: the mean must be significantly below the threshold."""
    sig = (record.stats or {}).get("significance") or {}
    reading = (sig.get("readings") or {}).get(sig.get("unit")) or {}
    return reading.get("threshold"), sig.get("sota")


def seed_scores(record) -> list[tuple[str, float]]:
    return [(str(run.seed) if run.seed is not None else run.log, run.val_bpb) for run in record.runs
            if run.val_bpb is not None and run.duplicate_of is None]


def train_series(record) -> list[tuple[str, list[tuple[int, float]]]]:
    return [(f"seed {c.seed}" if c.seed is not None else c.log, c.train_loss) for c in record.curves if c.train_loss]


def val_series(record) -> list[tuple[str, list[tuple[int, float]]]]:
    # One point per run (the final evaluation) is not a curve: the score chart shows it.
    return [(f"seed {c.seed}" if c.seed is not None else c.log, c.val_bpb) for c in record.curves
            if len(c.val_bpb) >= 2]


# ---- Mermaid ---------------------------------------------------------------------------------

def _interpolate(points: list[tuple[int, float]], step: int) -> float:
    if step <= points[0][0]:
        return points[0][1]
    for (s0, v0), (s1, v1) in zip(points, points[1:]):
        if s0 <= step <= s1:
            return v0 if s1 == s0 else v0 + (v1 - v0) * (step - s0) / (s1 - s0)
    return points[-1][1]


def _range(values: list[float], pad: float = 0.05) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(hi) or 1.0
    return lo - pad * span, hi + pad * span


def _categories(items) -> str:
    """Mermaid axis categories, each quoted (a double quote inside one becomes a single quote)."""
    return ", ".join('"' + str(item).replace('"', "'") + '"' for item in items)


def mermaid_lines(title: str, y_label: str, series) -> list[str]:
    """A Mermaid line chart: one line per series over the union of their steps (categories)."""
    if not series:
        return []
    steps = sorted({s for _, points in series for s, _ in points})
    lo, hi = _range([v for _, points in series for _, v in points])
    lines = ["```mermaid", "xychart-beta", f'    title "{title}"',
             f'    x-axis "step" [{_categories(steps)}]',
             f'    y-axis "{y_label}" {lo:.4g} --> {hi:.4g}']
    for _, points in series:
        lines.append(f"    line [{', '.join(f'{_interpolate(points, s):.4f}' for s in steps)}]")
    lines.append("```")
    order = ", ".join(f"{i + 1}. {label}" for i, (label, _) in enumerate(series))
    return lines + [f"<sub>Lines in order: {order}.</sub>", ""]


def mermaid_scores(record) -> list[str]:
    """A Mermaid bar chart of each seed's val_bpb, with the significance threshold (and SOTA) as lines."""
    scores = seed_scores(record)
    if not scores:
        return []
    threshold, sota = score_reference(record)
    values = [v for _, v in scores] + [v for v in (threshold, sota) if v is not None]
    lo, hi = _range(values, pad=0.25)
    lines = ["```mermaid", "xychart-beta", '    title "val_bpb per seed (lower is better)"',
             f'    x-axis "seed" [{_categories(label for label, _ in scores)}]',
             f'    y-axis "val_bpb" {lo:.5g} --> {hi:.5g}',
             f"    bar [{', '.join(f'{v:.5f}' for _, v in scores)}]"]
    for value in (threshold, sota):
        if value is not None:
            lines.append(f"    line [{', '.join(f'{value:.5f}' for _ in scores)}]")
    lines.append("```")
    notes = []
    if threshold is not None:
        notes.append(f"first line: the threshold SOTA − δ = {threshold:.5f}, which the mean must beat significantly")
    if sota is not None:
        notes.append(f"{'second' if threshold is not None else 'first'} line: SOTA {sota:.5f}")
    if notes:
        lines.append(f"<sub>Bars: each seed's val_bpb; {'; '.join(notes)}.</sub>")
    else:
        lines.append("<sub>Bars: each seed's val_bpb (no SOTA to compare with on this track).</sub>")
    return lines + [""]


# ---- SVG -------------------------------------------------------------------------------------

W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 300, 64, 16, 32, 40


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


def _frame(title: str, x_label: str, y_label: str, x_ticks, y_ticks, fx, fy) -> list[str]:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
             f'role="img" aria-label="{escape(title)}">',
             f'<text x="{W / 2}" y="18" text-anchor="middle" class="title">{escape(title)}</text>',
             f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" class="axis"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" class="axis"/>']
    for value, label in x_ticks:
        parts.append(f'<text x="{fx(value):.1f}" y="{H - BOTTOM + 14}" text-anchor="middle">{escape(label)}</text>')
    for value in y_ticks:
        parts.append(f'<line x1="{LEFT}" y1="{fy(value):.1f}" x2="{W - RIGHT}" y2="{fy(value):.1f}" class="grid"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{fy(value) + 4:.1f}" text-anchor="end">{value:.4g}</text>')
    parts.append(f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text x="14" y="{H / 2}" text-anchor="middle" transform="rotate(-90 14 {H / 2})">'
                 f'{escape(y_label)}</text>')
    return parts


def svg_lines(title: str, y_label: str, series) -> str:
    """An SVG line chart, steps on a true numeric axis, one coloured polyline and legend entry per series."""
    if not series:
        return ""
    steps = [s for _, points in series for s, _ in points]
    x0, x1 = min(steps), max(steps)
    y0, y1 = _range([v for _, points in series for _, v in points])

    def fx(step):
        return LEFT + (W - LEFT - RIGHT) * ((step - x0) / (x1 - x0) if x1 > x0 else 0.5)

    def fy(value):
        return H - BOTTOM - (H - TOP - BOTTOM) * (value - y0) / (y1 - y0)

    x_ticks = [(round(v), str(round(v))) for v in _ticks(x0, x1)] if x1 > x0 else [(x0, str(x0))]
    parts = _frame(title, "step", y_label, x_ticks, _ticks(y0, y1), fx, fy)
    for i, (label, points) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        coords = " ".join(f"{fx(s):.1f},{fy(v):.1f}" for s, v in points)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.5" '
                     f'data-series="{escape(label)}"/>')
        parts.append(f'<text x="{W - RIGHT - 4}" y="{TOP + 14 * (i + 1)}" text-anchor="end" style="fill: {colour}">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def svg_scores(record) -> str:
    """An SVG bar chart of each seed's val_bpb, with dashed lines at the threshold and at SOTA."""
    scores = seed_scores(record)
    if not scores:
        return ""
    threshold, sota = score_reference(record)
    y0, y1 = _range([v for _, v in scores] + [v for v in (threshold, sota) if v is not None], pad=0.25)
    slot = (W - LEFT - RIGHT) / len(scores)

    def fx(i):
        return LEFT + slot * (i + 0.5)

    def fy(value):
        return H - BOTTOM - (H - TOP - BOTTOM) * (value - y0) / (y1 - y0)

    parts = _frame("val_bpb per seed (lower is better)", "seed", "val_bpb",
                   [(i, label) for i, (label, _) in enumerate(scores)], _ticks(y0, y1), fx, fy)
    for i, (label, value) in enumerate(scores):
        top = fy(value)
        parts.append(f'<rect x="{fx(i) - slot * 0.3:.1f}" y="{top:.1f}" width="{slot * 0.6:.1f}" '
                     f'height="{H - BOTTOM - top:.1f}" class="bar" data-seed="{escape(label)}" '
                     f'data-value="{value:.8f}"><title>seed {escape(label)}: {value:.8f}</title></rect>')
    for value, name, css in ((threshold, "threshold (SOTA − δ)", "threshold"), (sota, "SOTA", "sota")):
        if value is not None:
            parts.append(f'<line x1="{LEFT}" y1="{fy(value):.1f}" x2="{W - RIGHT}" y2="{fy(value):.1f}" '
                         f'class="{css}" data-value="{value:.8f}"/>')
            parts.append(f'<text x="{W - RIGHT - 4}" y="{fy(value) - 4:.1f}" text-anchor="end" class="{css}-label">'
                         f'{escape(name)} {value:.5f}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


__all__ = ["mermaid_lines", "mermaid_scores", "score_reference", "seed_scores", "svg_lines", "svg_scores",
           "train_series", "val_series"]

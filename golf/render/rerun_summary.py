"""The summary table of a batch of reruns (`golf verify records/ --rerun`): one line per record."""

from __future__ import annotations

from statistics import fmean


def summary_rows(report) -> list[dict]:
    """Per record: seeds reproduced of those rerun, the claimed and reproduced mean val_bpb over the
    reproduced seeds, and the verdict."""
    rows = []
    for record in report.records:
        reproduced = [r for r in record.reproduction if r.status == "ok" and r.val_bpb is not None]
        claimed = [r.claimed_val_bpb for r in reproduced if r.claimed_val_bpb is not None]
        rows.append({"record": record.path, "reproduced": len(reproduced), "rerun": len(record.reproduction),
                     "claimed_mean": fmean(claimed) if claimed and len(claimed) == len(reproduced) else None,
                     "reproduced_mean": fmean(r.val_bpb for r in reproduced) if reproduced else None,
                     "verdict": record.verdict})
    return rows


def _bpb(value: float | None) -> str:
    return "-" if value is None else f"{value:.5f}"


def summary_lines(report) -> list[str]:
    rows = summary_rows(report)
    table = [("record", "seeds reproduced", "claimed mean", "reproduced mean", "verdict")]
    table += [(r["record"], f"{r['reproduced']}/{r['rerun']}", _bpb(r["claimed_mean"]), _bpb(r["reproduced_mean"]),
               r["verdict"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = ["", f"rerun summary: {sum(r['verdict'] == 'pass' for r in rows)} of {len(rows)} record(s) pass"]
    for row in table:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return lines


def summary_stdout(report, **_options) -> str:
    """The table after a text report."""
    return "\n".join(summary_lines(report)) + "\n"


def summary_stderr(report, **_options) -> None:
    """The same table on stderr: a machine-readable report on stdout stays that alone."""
    import sys

    sys.stderr.write(summary_stdout(report))

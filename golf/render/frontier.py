"""The chronological frontier of each record track, as `golf leaderboard --frontier` prints it.

One table of frontier rows per track (each the previous row's successor under the ruleset's
significance test), then every record left out, with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

from golf.errors import GolfError


def build_frontiers(records_root, *, judging=None, ruleset=None, track: str | None = None, config=None) -> list:
    """The frontier of every record track under `records_root` (golf.judge.frontier.Frontier objects),
    judged by `judging` (else by `ruleset` and `config`)."""
    import dataclasses

    from golf.judge.frontier import build_frontier, folder_date
    from golf.judge.judging import judging as build_judging
    from golf.rules import ruleset_for_date

    root = Path(records_root)
    if not root.is_dir():
        raise GolfError(f"{root}: no records folder here (give --records DIR)")
    judging = judging or build_judging(ruleset=ruleset, config=config)
    verifier = dataclasses.replace(judging, records_root=root).verifier()
    frontiers = []
    for track_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
        known = verifier.ruleset.find_track(track_dir.name)
        if known is None or not known.record or (track and known.name != verifier.ruleset.track(track).name):
            continue
        dates = [d for d in (folder_date(p) for p in track_dir.iterdir() if p.is_dir()) if d]
        rules = verifier.forced_ruleset or (ruleset_for_date(max(dates))[0] if dates else verifier.ruleset)
        frontiers.append(build_frontier(verifier, track_dir, rules))
    return frontiers


def _test(row) -> str:
    test = row.test
    waived = f"; G703 waived: {row.waiver}" if row.waiver else ""
    if test is None or test.p is None:
        return ("first row" if row.against is None and row.reason is None else "–") + waived
    return f"{test.test} p={test.p:.3g} vs {row.against}{waived}"


def render_markdown(frontiers) -> str:
    out = []
    for frontier in frontiers:
        out += [f"### {frontier.track_dir.name} frontier ({frontier.ruleset})", "",
                "| # | Date | Record | val_bpb | Runs | Test |", "|---|---|---|---|---|---|"]
        for i, row in enumerate(frontier.rows, 1):
            out.append(f"| {i} | {row.date} | {row.name} | {row.mean:.4f} | {len(row.values)} | {_test(row)} |")
        if frontier.excluded:
            out += ["", "Not on the frontier:", ""]
            for row in frontier.excluded:
                score = f"{row.mean:.4f}" if row.mean is not None else "no score"
                out.append(f"- {row.date} {row.name} ({score}): {row.reason}")
        out.append("")
    return "\n".join(out) + ("\n" if out else "")


def render_json(frontiers) -> str:
    return json.dumps({"frontiers": [f.to_dict() for f in frontiers]}, indent=2) + "\n"


__all__ = ["build_frontiers", "render_json", "render_markdown"]

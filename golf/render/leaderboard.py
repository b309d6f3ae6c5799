"""The leaderboard: one table per track (Run | Score | Author | Summary | Date | Info) from records/.

Scores are the verified ones: the mean val_bpb of the runs golf finds in each record's logs
(static verification), never the number a submission.json claims. A record that fails
verification keeps its row, marked, with the names of the rules it fails under the table.
In a README the table lives between two markers, so `--write` can replace it and `--check`
can tell whether it is stale.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from golf.io import dumps_json
from golf.errors import GolfError

MARK_START = "<!-- golf:leaderboard:start -->"
MARK_END = "<!-- golf:leaderboard:end -->"
FAIL_MARK = "✗"
SUMMARY_MAX = 140


@dataclass
class Row:
    track: str
    run: str
    score: float | None
    claimed: float | None
    author: str
    summary: str
    date: str
    folder: Path
    readme: Path | None
    verdict: str
    failing: list[str] = field(default_factory=list)
    n_runs: int = 0
    ruleset: str | None = None      # the ruleset that judged the record, "NAME VERSION"

    def link(self, base: Path) -> str:
        """The Info link target, relative to the folder the table is shown from."""
        target = self.readme if self.readme is not None else self.folder
        return Path(os.path.relpath(target.resolve(), base.resolve())).as_posix()

    def to_dict(self, base: Path) -> dict:
        return {"track": self.track, "run": self.run, "score": self.score, "score_claimed": self.claimed,
                "n_runs": self.n_runs, "author": self.author, "summary": self.summary, "date": self.date,
                "info": self.link(base), "verdict": self.verdict, "failing_rules": self.failing,
                "ruleset": self.ruleset}


def build_rows(records_root, *, track: str | None = None, judging=None, ruleset=None, config=None) -> list[Row]:
    """Verify every record folder under `records_root` and return the rows, sorted by score per track.

    Each record is judged as `golf verify` judges it: by `ruleset` when given, else by the ruleset
    in force on its date, with the configuration's selection and waivers."""
    from golf.read.records import find_record_dirs, load_record
    import dataclasses

    from golf.judge.judging import judging as build_judging
    from golf.judge.verify import verify_paths

    root = Path(records_root)
    if not root.is_dir():
        raise GolfError(f"{root}: no records folder here (give --records DIR)")
    judging = dataclasses.replace(judging or build_judging(ruleset=ruleset, config=config), records_root=root)
    rules = judging.default_ruleset   # names the tracks
    wanted = rules.track(track).name if track is not None else None
    dirs = [d for d in find_record_dirs(root) if d.resolve() != root.resolve()]
    dirs = [d for d in dirs if wanted is None or _track_name(d, root, rules) == wanted]
    report = verify_paths([str(d) for d in dirs], judging=judging) if dirs else None
    rows = []
    for folder, result in zip(dirs, report.records if report else []):
        rows.append(_row(folder, root, rules, result, load_record(folder)))
    order = {name: i for i, name in enumerate(rules.tracks)}
    rows.sort(key=lambda r: (order.get(r.track, len(order)), r.track, r.score is None,
                             r.score if r.score is not None else 0.0, r.date, r.run))
    return rows


def _ruleset_of(result) -> str | None:
    used = result.stats.get("ruleset") if isinstance(result.stats, dict) else None
    return f"{used['name']} {used['version']}" if used else None


def _track_name(folder: Path, root: Path, rules) -> str:
    """The track a folder belongs to: the folder under records/ that holds it (by name or alias)."""
    rel = folder.resolve().relative_to(root.resolve())
    top = rel.parts[0] if len(rel.parts) > 1 else ""
    known = rules.find_track(top) if top else None
    return known.name if known else (top or "(no track)")


def _row(folder: Path, root: Path, rules, result, record) -> Row:
    sub = record.submission
    errors = [f.name for f in result.findings if f.severity == "error"]
    readme = folder / record.readme_path if record.readme_path else None
    return Row(track=_track_name(folder, root, rules),
               run=_plain((sub.name if sub and sub.name else None) or record.name or folder.name),
               score=result.summary.val_bpb_mean, claimed=sub.val_bpb if sub else None,
               author=_plain(sub.author if sub and sub.author else ""),
               summary=_plain(sub.blurb if sub and sub.blurb else "", SUMMARY_MAX),
               date=result.date or "",
               folder=folder, readme=readme, verdict=result.verdict, ruleset=_ruleset_of(result),
               failing=list(dict.fromkeys(errors)), n_runs=result.summary.n_runs)


def _plain(text: str, limit: int | None = None) -> str:
    """One line of table-safe text, shortened to `limit` characters (before escaping)."""
    text = " ".join(str(text).split())
    if limit is not None and len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text.replace("|", "\\|")


# ---------------------------------------------------------------------------------------------
# Rendering


def render_markdown(rows: list[Row], base: Path) -> str:
    """The tables, one per track; links relative to `base` (the folder of the README shown in)."""
    if not rows:
        return "_No record folders found._\n"
    parts = []
    for track in dict.fromkeys(r.track for r in rows):
        group = [r for r in rows if r.track == track]
        lines = [f"### {track}", "", "| Run | Score | Author | Summary | Date | Info |", "|---|---|---|---|---|---|"]
        for r in group:
            score = f"{r.score:.4f}" if r.score is not None else "–"
            if r.verdict != "pass":
                score += f" {FAIL_MARK}"
            lines.append(f"| {r.run} | {score} | {r.author} | {r.summary} | {r.date} | [info]({_url(r.link(base))}) |")
        failing = [r for r in group if r.verdict != "pass"]
        if failing:
            lines.append("")
            for r in failing:
                rules = ", ".join(f"`{name}`" for name in r.failing) or "see `golf verify`"
                lines.append(f"{FAIL_MARK} {r.run}: fails verification ({rules}).  ")
            lines[-1] = lines[-1].rstrip()
        parts.append("\n".join(lines))
    note = ("Scores are the mean val_bpb of each record's logs as verified by `golf verify`, not the claimed "
            f"numbers; {FAIL_MARK} marks a record that fails verification.")
    return "\n\n".join(parts + [note]) + "\n"


def _url(path: str) -> str:
    return path.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def render_json(rows: list[Row], base: Path) -> str:
    from golf import __version__

    return dumps_json({"golf_version": __version__, "rows": [r.to_dict(base) for r in rows]},
                      indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# The README section


def _markers_help(path: Path) -> str:
    return (f"{path}: the leaderboard markers are missing; add these two lines where the table belongs, "
            f"then run the command again:\n{MARK_START}\n{MARK_END}")


def replace_section(text: str, table: str, path: Path) -> str:
    """`text` with everything between the markers replaced by `table`."""
    start = text.find(MARK_START)
    end = text.find(MARK_END)
    if start < 0 or end < 0:
        raise GolfError(_markers_help(path))
    if end < start or text.count(MARK_START) > 1 or text.count(MARK_END) > 1:
        raise GolfError(f"{path}: the leaderboard markers must appear once each, {MARK_START} before {MARK_END}")
    inner = f"\n<!-- Generated by `golf leaderboard --write`: edit the records, not this table. -->\n\n{table}\n"
    return text[:start + len(MARK_START)] + inner + text[end:]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GolfError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise GolfError(f"{path}: cannot read: {error}") from None


def write_readme(path, rows: list[Row]) -> tuple[bool, Path | None]:
    """Update the README's leaderboard section. Returns (changed, backup path)."""
    from golf.io import atomic_write_text

    path = Path(path)
    old = _read(path)
    new = replace_section(old, render_markdown(rows, path.parent), path)
    if new == old:
        return False, None
    # Only the generated section between the markers changes; what a person wrote around it is kept as it is,
    # so no backup is left next to a file that a workflow commits.
    atomic_write_text(path, new, backup=False)
    return True, None


def check_readme(path, rows: list[Row]) -> str:
    """The unified diff that `write_readme` would apply; empty when the README is current."""
    path = Path(path)
    old = _read(path)
    new = replace_section(old, render_markdown(rows, path.parent), path)
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"{path} (current)", tofile=f"{path} (golf leaderboard)"))


__all__ = ["Row", "build_rows", "render_markdown", "render_json", "replace_section", "write_readme",
           "check_readme", "MARK_START", "MARK_END"]

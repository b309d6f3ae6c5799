"""Renderers of `golf ci`'s result: a pull-request comment (markdown) and GitHub Actions annotations."""

from __future__ import annotations

from golf.render.report import _gh_escape_data, _gh_escape_property
from golf.render.report import render_github as render_report_github


def render_markdown(result) -> str:
    """The pull-request comment: the change-set verdict, then golf verify's report of the folder."""
    from golf.render.report import render_markdown as render_report

    cs = result.changeset
    verdict = "✅ pass" if result.passed else "❌ fail"
    lines = ["## golf ci: record pull request", "", f"**Result: {verdict}**", "",
             f"Change set `{cs.base}...{cs.head}` (merge base `{cs.merge_base[:12]}`, head "
             f"`{cs.head_commit[:12]}`): {len(cs.changes)} changed path{'s' if len(cs.changes) != 1 else ''}.", ""]
    if cs.passed:
        lines.append(f"- ✅ adds one new record folder `{cs.new_folders[0]}` and touches nothing else")
    for problem in cs.problems:
        lines.append(f"- ❌ {problem}")
    if result.report is not None:
        failed = [r.path for r in result.report.records if not r.passed]
        for path in failed:
            lines.append(f"- ❌ `{path}` fails static verification (findings below)")
        if not failed:
            lines.append("- ✅ the record folder passes static verification")
    else:
        lines.append("- ❌ no new record folder to verify")
    if cs.problems:
        lines += ["", "A record pull request adds exactly one new folder under `records/<track>/` and changes "
                      "nothing else; split other changes into their own pull request."]
    text = "\n".join(lines) + "\n"
    if result.report is not None:
        text += "\n" + render_report(result.report)
    return text


def render_github(result) -> str:
    """One ::error line per change-set problem (on the file it names), then the annotations of the verify report."""
    lines = []
    for f in result.changeset.findings:
        where = f"file={_gh_escape_property(f.file)}," if f.file else ""
        lines.append(f"::error {where}title={_gh_escape_property(f'{f.code} {f.name}')}::{_gh_escape_data(f.message)}")
    if result.report is None and not lines:
        lines.append(f"::error title={_gh_escape_property('golf ci')}::no new record folder to verify")
    text = "\n".join(lines) + ("\n" if lines else "")
    if result.report is not None:
        text += render_report_github(result.report)
    return text

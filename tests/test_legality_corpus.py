"""Score-first legality on real code (skipped when ../shared/corpus is absent).

`legality/LABELS.md` labels 15 pull-request folders legal or illegal and cites the lines where
training and scoring happen; `parameter-golf/` holds 16 records the maintainers accepted. The
legality rules must fire on every illegal folder, naming lines the labels cite, and on none of
the others. The same behaviours are covered by the fixture scripts of test_legality.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from golf.judge.legality import analyse
from golf.judge.verify import verify_record
from golf.read.records import load_record

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
LEGALITY = CORPUS / "legality"
ACCEPTED = CORPUS / "parameter-golf"
RULES = {"val-trained-before-scored", "val-trained-before-evaluation", "legality-not-followed"}

pytestmark = pytest.mark.skipif(not (LEGALITY / "LABELS.md").is_file(), reason="corpus not present")


def labels() -> dict[str, tuple[str, str]]:
    """folder -> (verdict, the 'where scoring and training happen' cell) from LABELS.md's table."""
    out = {}
    if not (LEGALITY / "LABELS.md").is_file():
        return out
    for line in (LEGALITY / "LABELS.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and (LEGALITY / cells[0]).is_dir():
            out[cells[0]] = (cells[2].split()[0], cells[4])
    return out


LABELS = labels()


def cited_lines(cell: str) -> set[int]:
    """Every line number the labels cite: '878-893' gives 878..893, 'at 1152' gives 1152."""
    lines: set[int] = set()
    for a, b in re.findall(r"(\d{3,4})(?:-(\d{3,4}))?", cell):
        lines |= set(range(int(a), int(b or a) + 1))
    return lines


def legality_findings(folder: Path):
    """What the legality rules see in a folder: its script (as golf picks it) judged against its logs."""
    record = load_record(folder)
    if record.script is None:
        return []
    text = (folder / record.script).read_text(encoding="utf-8")
    return analyse(record.script, text, folder, [log.path for log in record.logs])


@pytest.mark.parametrize("folder, rule", [("illegal-slot-pr1313", "val-trained-before-scored"),
                                          ("illegal-prequant-ttt-pr1735", "val-trained-before-evaluation")])
def test_verify_fails_illegal_folders_under_the_legality_rules(folder, rule):
    report = verify_record(LEGALITY / folder, select=["G404", "G405", "G406"])
    [finding] = [f for f in report.findings if f.name in RULES]
    assert finding.name == rule and finding.severity == "error" and not report.passed


def test_the_labels_are_read():
    verdicts = [v for v, _ in LABELS.values()]
    assert len(LABELS) == 15 and verdicts.count("illegal") == 8 and verdicts.count("legal") == 7


@pytest.mark.parametrize("folder", sorted(f for f, (v, _) in LABELS.items() if v == "illegal"))
def test_every_illegal_folder_fails_with_the_lines_the_labels_cite(folder):
    found = legality_findings(LEGALITY / folder)
    assert found and all(f.kind != "unfollowed" for f in found)
    cited = cited_lines(LABELS[folder][1])
    for finding in found:
        assert f"{finding.function}()" in finding.message and finding.file.startswith("train_gpt.py")
        assert set(finding.train_lines) <= cited, (finding.train_lines, finding.message)
        assert set(finding.score_lines) <= cited | {0} or finding.kind == "trained-before-evaluation"


@pytest.mark.parametrize("folder", sorted(f for f, (v, _) in LABELS.items() if v == "legal"))
def test_no_legal_folder_is_flagged(folder):
    assert legality_findings(LEGALITY / folder) == []


@pytest.mark.parametrize("folder", sorted(p.relative_to(ACCEPTED).as_posix() for p in ACCEPTED.glob("*/*")
                                          if p.is_dir()) if ACCEPTED.is_dir() else [])
def test_no_accepted_record_is_flagged(folder):
    assert legality_findings(ACCEPTED / folder) == []

"""The README stays true: its commands point at things that exist, its leaderboard is current."""

import re
from pathlib import Path

from golf.cli import main

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_main_command_names_golfs_own_record():
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    main_line = first_block.strip().splitlines()[0]
    folder = re.search(r"golf verify (\S+) --rerun", main_line).group(1)
    assert (REPO / folder / "submission.json").is_file()
    assert (REPO / folder / "train_gpt.py").is_file()


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    assert "python -m pytest" in ci
    assert re.search(r"^pip install torch==2\.13\.0 .*python -m pytest", README, re.M)


def test_leaderboard_in_readme_is_current(monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["leaderboard", "--check", "README.md"]) == 0

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


def test_leaderboard_lives_outside_the_readme_and_lists_every_record(monkeypatch, capsys):
    """A record pull request must not have to edit README.md: the README links LEADERBOARD.md, which the
    leaderboard workflow rewrites on main. Its freshness is that workflow's job (a test of it would be red
    between a merge and the refresh); here: the file is where the workflow writes and names every record."""
    monkeypatch.chdir(REPO)
    assert "golf:leaderboard:start" not in README and "(LEADERBOARD.md)" in README
    workflow = (REPO / ".github" / "workflows" / "leaderboard.yml").read_text()
    assert "golf leaderboard --write LEADERBOARD.md" in workflow and "branches: [main]" in workflow
    board = (REPO / "LEADERBOARD.md").read_text()
    assert board.count("<!-- golf:leaderboard:start -->") == 1 and board.count("<!-- golf:leaderboard:end -->") == 1
    assert main(["leaderboard"]) == 0
    generated = capsys.readouterr().out
    for readme in sorted(REPO.glob("records/*/*/README.md")):
        assert f"[info]({readme.relative_to(REPO).as_posix()})" in generated

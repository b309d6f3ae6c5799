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


def _block_after(heading: str) -> list[str]:
    block = README.split(heading, 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    return [line for line in block.strip().splitlines() if line.strip()]


def test_the_readme_examples_run_as_written(monkeypatch, capsys):
    import shlex

    monkeypatch.chdir(REPO)
    lines = _block_after("### Examples")
    assert len(lines) >= 5
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "golf"
        assert main(words[1:]) == 0, f"README example failed: {line}\n{capsys.readouterr()}"
        assert "CANNOT TEST" not in capsys.readouterr().out


def test_the_participant_quick_start_goes_new_train_submit_verify():
    """The quick start itself trains for minutes; tests/test_flow.py runs the same steps at a tiny shape."""
    import shlex

    lines = _block_after("### For participants")
    commands = [shlex.split(line)[1] for line in lines]
    assert commands == ["data", "new", "train", "submit", "verify"]
    folder = shlex.split(lines[2])[2]
    assert all(folder in line for line in lines[2:])
    track, name, date = shlex.split(lines[1])[2], shlex.split(lines[1])[3], shlex.split(lines[1])[5]
    assert folder == f"records/track_{track}/{date}_{name}"


def test_the_participant_quick_start_runs_exactly_as_written(tmp_path, monkeypatch, capsys):
    """Each line of the quick start, word for word, in an empty folder: no KEY=VALUE, the smoke track's preset
    supplies the data and the shape. Only the validation split is cut short after `golf data smoke` (as
    tests/test_flow.py does) so that the three evaluations take seconds; the commands are untouched."""
    import importlib.util
    import json
    import shlex

    import pytest

    if importlib.util.find_spec("torch") is None:
        pytest.skip("golf train needs torch")
    from golf.data.shards import read_shard, write_shard

    lines = _block_after("### For participants")
    assert not any("=" in word for line in lines for word in shlex.split(line) if not word.startswith("--"))
    monkeypatch.chdir(tmp_path)
    for line in lines:
        words = shlex.split(line)
        assert words[0] == "golf"
        status = main(words[1:])
        out, err = capsys.readouterr()
        assert status == 0, f"{line}\n{out}\n{err}"
        if words[1] == "data":
            val = tmp_path / "data" / "datasets" / "smoke_sp1024" / "fineweb_val_000000.bin"
            write_shard(val, read_shard(val)[:8 * 1024 + 1], backup=False)
    folder = tmp_path / shlex.split(lines[2])[2]
    run = json.loads((folder / "submission.json").read_text())["run"]
    assert run["env"]["DATA_PATH"] == "./data/datasets/smoke_sp1024" and run["env"]["NUM_LAYERS"] == "2"
    assert sorted(p.name for p in folder.glob("train_seed*.log")) == [
        "train_seed1337.log", "train_seed2025.log", "train_seed42.log"]
    assert "1 record verified, 0 failed" in out

"""From an idea to a merged record with golf alone, in a real git repository: golf new, golf train (a tiny
model, 2 CPU processes, 2 seeds), golf submit without --env, golf verify, golf verify --rerun, golf ci, the
merge, and the leaderboard refresh the workflow does on main. No file is edited by hand."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from golf.cli import main
from golf.data.shards import read_shard, write_shard
from golf.rules import load_ruleset

pytestmark = [
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
    pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="golf train needs torch"),
]

FOLDER = "records/track_smoke/2026-12-01_Tiny"
SETTINGS = {
    "DATA_PATH": "./data/datasets/smoke_sp1024",
    "TOKENIZER_PATH": "./data/tokenizers/smoke_1024_bpe.model",
    "NUM_LAYERS": "2", "MODEL_DIM": "64", "NUM_HEADS": "4", "NUM_KV_HEADS": "2",
    "TRAIN_SEQ_LEN": "64", "TRAIN_BATCH_TOKENS": "1024", "ITERATIONS": "12", "WARMUP_STEPS": "1",
    "WARMDOWN_ITERS": "4", "MAX_WALLCLOCK_SECONDS": "0", "VAL_LOSS_EVERY": "0", "TRAIN_LOG_EVERY": "4",
    "VAL_BATCH_SIZE": "8192", "COMPILE": "0",
}
RUN_ENV = {**load_ruleset("parameter_golf_2026").track("smoke").preset, **SETTINGS}
VAL_TOKENS = 8 * 1024 + 1  # a short validation split keeps each evaluation to about a second


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def challenge(tmp_path, monkeypatch):
    """A challenge repository on branch main: a README linking the leaderboard, an empty leaderboard."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    for key, value in (("NAME", "Golf Test"), ("EMAIL", "golf@example.com")):
        monkeypatch.setenv(f"GIT_AUTHOR_{key}", value)
        monkeypatch.setenv(f"GIT_COMMITTER_{key}", value)
    repo = tmp_path / "challenge"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# Challenge\n\nScores: [LEADERBOARD.md](LEADERBOARD.md).\n")
    (repo / "LEADERBOARD.md").write_text("# Leaderboard\n\n<!-- golf:leaderboard:start -->\n"
                                         "<!-- golf:leaderboard:end -->\n")
    (repo / ".gitignore").write_text("/data/\n/.golf-train/\n/.golf-rerun/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "challenge")
    monkeypatch.chdir(repo)
    assert main(["data", "smoke"]) == 0
    val = repo / "data" / "datasets" / "smoke_sp1024" / "fineweb_val_000000.bin"
    write_shard(val, read_shard(val)[:VAL_TOKENS], backup=False)
    return repo


def test_idea_to_merged_record_without_hand_work(challenge, capsys):
    repo = challenge
    git(repo, "checkout", "-q", "-b", "tiny")

    assert main(["new", "smoke", "Tiny", "--date", "2026-12-01"]) == 0
    record = repo / FOLDER
    assert (record / "train_gpt.py").read_bytes() == (Path(__file__).parents[1] / "golf" / "reference"
                                                       / "train_gpt.py").read_bytes()
    assert main(["new", "smoke", "Tiny", "--date", "2026-12-01"]) == 2  # never over an existing folder

    settings = [f"{k}={v}" for k, v in SETTINGS.items()]
    assert main(["train", FOLDER, "--seeds", "1", "2", "--nproc", "2", *settings]) == 0
    assert sorted(p.name for p in record.glob("*.log")) == ["train_seed1.log", "train_seed2.log"]
    assert not (record / "logs").exists() and not list(record.glob("final_model.*"))
    run = json.loads((record / "submission.json").read_text())["run"]
    # the smoke track's preset, under the settings given
    assert run == {"command": "torchrun --standalone --nproc_per_node=2 train_gpt.py", "env": RUN_ENV}
    err = capsys.readouterr().err
    assert "seed 2/2 (2): done" in err

    # Run again: both seeds are filed, so nothing is trained.
    assert main(["train", FOLDER, "--seeds", "1", "2", "--nproc", "2", *settings]) == 0
    assert "already filed as train_seed2.log" in capsys.readouterr().err

    assert main(["submit", FOLDER, "--author", "Ada", "--github-id", "ada", "--blurb", "A tiny test."]) == 0
    err = capsys.readouterr().err
    assert "run.env was empty" not in err
    submission = json.loads((record / "submission.json").read_text())
    assert submission["run"]["env"] == RUN_ENV and submission["seeds"] == [1, 2]

    assert main(["verify", FOLDER]) == 0
    capsys.readouterr()
    # nproc comes from the record's command; one seed is enough to see the rerun reproduce the record.
    assert main(["verify", FOLDER, "--rerun", "--seeds", "2", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert "nproc 2 (from the submission.json run block)" in err
    (row,) = json.loads(out)["records"][0]["reproduction"]
    claimed = next(r for r in submission["runs"] if r["seed"] == 2)
    assert row["seed"] == 2 and row["status"] == "ok"
    assert row["claimed"]["val_bpb"] == claimed["val_bpb"] and row["reproduced"]["val_bpb"] == claimed["val_bpb"]
    assert row["reproduced"]["bytes_total"] == claimed["bytes_total"]

    git(repo, "add", "-A")
    committed = git(repo, "diff", "--cached", "--name-only").split()
    assert not [p for p in committed if p.endswith(".bak") or "final_model" in p]  # kept out by .gitignore
    git(repo, "commit", "-q", "-m", "Tiny record")
    assert main(["ci", "--base", "main", "--head", "tiny"]) == 0
    capsys.readouterr()

    # A pull request that also commits the trainer's artifact is rejected, with an annotation.
    git(repo, "checkout", "-q", "-b", "tiny-with-weights")
    shutil.copy(next((repo / ".golf-train").rglob("final_model.int8.ptz")), record / "final_model.int8.ptz")
    git(repo, "add", "-f", f"{FOLDER}/final_model.int8.ptz")
    git(repo, "commit", "-q", "-m", "weights too")
    assert main(["ci", "--base", "main", "--head", "tiny-with-weights", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"::error file={FOLDER}/final_model.int8.ptz,title=G901 not-one-new-record::adds `")
    assert "model artifact" in out.splitlines()[0]

    # The merge, then what .github/workflows/leaderboard.yml does on main.
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge tiny", "tiny")
    assert main(["leaderboard", "--check"]) == 1
    assert main(["leaderboard", "--write", "LEADERBOARD.md"]) == 0
    git(repo, "commit", "-q", "-am", "Leaderboard")
    capsys.readouterr()
    assert main(["leaderboard", "--check"]) == 0
    assert f"| Tiny | {submission['val_bpb']:.4f} | Ada | A tiny test. | 2026-12-01 |" in (repo / "LEADERBOARD.md").read_text()
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert git(repo, "diff", "--name-only", "main~2", "main", "--", "README.md") == ""
    assert main(["verify", "records"]) == 0

"""run.env against what the logs printed (G512), submit filling run.env, and the small rules around a record's
run: rerun options, the first error of a failed seed, files a record pull request must not commit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from golf.cli import main
from golf.judge.ci import not_a_record_file
from golf.produce.rerun import first_error, parse_command_line
from golf.read.logs import parse_log
from golf.read.runenv import command_nproc, derive_env, disagreements, script_defaults

REPO = Path(__file__).resolve().parents[1]
SMOKE = REPO / "records" / "track_smoke" / "2026-11-23_ReferenceBaseline"
REFERENCE = (REPO / "golf" / "reference" / "train_gpt.py").read_text()


@pytest.fixture
def smoke(tmp_path):
    folder = tmp_path / "records" / "track_smoke" / SMOKE.name
    shutil.copytree(SMOKE, folder)
    return folder


def edit_run(folder: Path, **changes) -> None:
    path = folder / "submission.json"
    data = json.loads(path.read_text())
    data["run"].update(changes)
    path.write_text(json.dumps(data, indent=2))


def test_script_defaults_are_read_from_the_text_not_run():
    defaults = script_defaults(REFERENCE)
    assert defaults["ITERATIONS"] == "20000" and defaults["TRAIN_SEQ_LEN"] == "1024"
    assert defaults["TIE_EMBEDDINGS"] == "1" and defaults["MAX_WALLCLOCK_SECONDS"] == "600.0"
    assert "EVAL_SEQ_LEN" not in defaults  # its default is another knob: unknown without running the script
    assert script_defaults("def broken(:\n") == {}


def test_the_smoke_logs_give_back_the_settings_that_differ_from_the_defaults():
    config = parse_log(SMOKE / "train_seed1337.log").run.config
    env = derive_env(config, script_defaults(REFERENCE))
    assert env == {"ITERATIONS": "120", "WARMUP_STEPS": "2", "TRAIN_BATCH_TOKENS": "4096", "TRAIN_SEQ_LEN": "128",
                   "MAX_WALLCLOCK_SECONDS": "0", "NUM_HEADS": "4", "NUM_KV_HEADS": "2"}
    # Numbers compare by value and booleans as 0/1: the record's own run.env agrees with its logs.
    run_env = json.loads((SMOKE / "submission.json").read_text())["run"]["env"]
    assert disagreements(config, run_env, script_defaults(REFERENCE)) == []
    assert disagreements(config, {**run_env, "ITERATIONS": "60"}, {}) == [("ITERATIONS", "60", "120")]


def test_an_edited_run_env_fails_static_verification(smoke, capsys):
    assert main(["verify", str(smoke), "--select", "G512"]) == 0
    edit_run(smoke, env={**json.loads((smoke / "submission.json").read_text())["run"]["env"], "ITERATIONS": "60"})
    capsys.readouterr()
    assert main(["verify", str(smoke), "--select", "G512", "--format", "json"]) == 1
    (finding,) = json.loads(capsys.readouterr().out)["records"][0]["findings"]
    assert finding["code"] == "G512" and "ITERATIONS=120 (run.env sets 60)" in finding["message"]
    assert "train_seed1337.log, train_seed2025.log, train_seed42.log" in finding["message"]  # one finding


def test_an_empty_run_env_fails_and_submit_fills_it_from_the_logs(smoke, capsys):
    edit_run(smoke, env={})
    assert main(["verify", str(smoke), "--select", "G512"]) == 1
    capsys.readouterr()
    assert main(["submit", str(smoke)]) == 0
    err = capsys.readouterr().err
    assert "run.env was empty: filled from the logs" in err and "NUM_LAYERS" not in err.split("(")[1]
    assert json.loads((smoke / "submission.json").read_text())["run"]["env"]["ITERATIONS"] == "120"
    assert main(["verify", str(smoke), "--select", "G512"]) == 0


def test_submit_refuses_an_env_that_contradicts_the_logs(smoke, capsys):
    assert main(["submit", str(smoke), "--env", "ITERATIONS=60"]) == 1
    assert "ran ITERATIONS=120, but run.env would run ITERATIONS=60" in capsys.readouterr().err


def test_the_command_must_launch_as_many_processes_as_the_logs_ran(smoke, capsys):
    edit_run(smoke, command="torchrun --standalone --nproc_per_node=8 train_gpt.py")
    assert main(["verify", str(smoke), "--select", "G512"]) == 1
    assert "world_size 2 but the run command launches --nproc_per_node=8" in capsys.readouterr().out


def test_nproc_is_read_from_the_command_and_only_applies_to_reruns(smoke, capsys):
    assert command_nproc("torchrun --standalone --nproc_per_node 4 train_gpt.py") == 4
    assert parse_command_line("torchrun --nproc-per-node=2 train_gpt.py").nproc == 2
    assert parse_command_line("python train_gpt.py") is None
    assert main(["verify", str(smoke), "--nproc", "2"]) == 2
    assert "--nproc only apply with --rerun" in capsys.readouterr().err


def test_a_failed_seed_is_explained_by_the_first_exception_of_its_ranks(tmp_path):
    output = tmp_path / "rerun.log"
    output.write_text("W1203 12:00:00 torch/distributed/run.py:792] Setting OMP_NUM_THREADS\n"
                      "[rank1]: Traceback (most recent call last):\n"
                      '[rank1]:   File "train_gpt.py", line 870, in main\n'
                      "[rank1]: RuntimeError: NOT_FOUND: ./data/tokenizers/fineweb_1024_bpe.model\n"
                      "[rank0]: RuntimeError: NOT_FOUND: ./data/tokenizers/fineweb_1024_bpe.model\n"
                      "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: \n")
    assert first_error(output) == "RuntimeError: NOT_FOUND: ./data/tokenizers/fineweb_1024_bpe.model"
    output.write_text("nothing went wrong here\n")
    assert first_error(output) is None and first_error(tmp_path / "missing.log") is None


@pytest.mark.parametrize("path, kind", [
    ("records/t/2026-01-01_X/submission.json.bak", "backup"),
    ("records/t/2026-01-01_X/README.md.bak", "backup"),
    ("records/t/2026-01-01_X/final_model.int8.ptz", "model artifact"),
    ("records/t/2026-01-01_X/final_model.pt", "model artifact"),
    ("records/t/2026-01-01_X/logs/abc.txt", "output of a run"),
    ("records/t/2026-01-01_X/train_seed1.log", None),
    ("records/t/2026-01-01_X/train_gpt.py", None),
    ("records/t/2026-01-01_X/.gitignore", None),
])
def test_what_a_record_pull_request_must_not_commit(path, kind):
    why = not_a_record_file(path)
    assert (why is None) if kind is None else (kind in why)


def test_train_refuses_per_seed_settings_and_bad_words(smoke, capsys):
    assert main(["train", str(smoke), "--seeds", "1", "SEED=3"]) == 2
    assert "SEED is set by golf train for each seed" in capsys.readouterr().err
    assert main(["train", str(smoke), "--seeds", "1", "--nproc", "2", "not-a-setting"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert main(["train", str(smoke.parent / "nothing-here"), "--seeds", "1"]) == 2


def test_new_submit_verify_html_and_ci_rules_never_import_torch(tmp_path):
    import subprocess
    import sys

    code = ("import sys; from golf.cli import main; "
            "assert main(['new', 'smoke', 'Idea', '--date', '2026-12-01', '--records', 'records']) == 0; "
            f"assert main(['verify', {str(SMOKE)!r}, '--format', 'html']) == 0; "
            f"assert main(['verify', {str(SMOKE)!r}, '--format', 'markdown']) == 0; "
            "assert main(['rules', 'G512']) == 0; "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]; "
            "assert not bad, bad; print('NO_TORCH')")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("NO_TORCH")
    assert (tmp_path / "records" / "track_smoke" / "2026-12-01_Idea" / ".gitignore").is_file()


def test_a_command_that_needs_torch_says_how_to_install_it(monkeypatch, capsys):
    import golf.cli.train as train_cli

    def needs_torch(args):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(train_cli, "run_train", needs_torch)
    assert main(["train", str(SMOKE), "--seeds", "1"]) == 2
    assert "pip install 'golf[train]'" in capsys.readouterr().err

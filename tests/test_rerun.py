"""golf.produce.rerun: per-seed reruns through the real torchrun launcher, on a tiny fake record.

The fake record's train_gpt.py is a small script written here: every rank runs it, rank 0
writes logs/<RUN_ID>.txt in the baseline log format with a score that depends on SEED, and
environment variables set in submission.json's run block make it dump its environment, fail,
hang with a child process, or wait for a file.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from golf.produce import rerun
from golf.errors import GolfError
from golf.read.logs import parse_log
from golf.produce.rerun import (clean_environment, default_seeds, launch_spec, launcher_options, parse_command_line,
                        readme_commands, record_hash, rerun_record)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "parameter-golf"

FAKE_TRAINER = r'''"""A fake trainer for golf's rerun tests: behaves like the reference script's outer shell."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

seed = int(os.environ.get("SEED", "1337"))
rank = int(os.environ.get("RANK", "0"))
world = int(os.environ.get("WORLD_SIZE", "1"))
run_id = os.environ["RUN_ID"]
Path("ranks").mkdir(exist_ok=True)
Path("ranks", str(rank)).write_text(str(world))
wait_for = os.environ.get("FAKE_WAIT_FOR")
if wait_for and seed == int(os.environ.get("FAKE_WAIT_SEED", "-1")):
    Path("waiting").write_text(str(os.getpid()))
    while not Path(wait_for).exists():
        time.sleep(0.2)
if os.environ.get("FAKE_DUMP_ENV") and rank == 0:
    Path("env.json").write_text(json.dumps(dict(os.environ)))
fail_flag = os.environ.get("FAKE_FAIL_FLAG")
if fail_flag and Path(fail_flag).exists() and seed == int(os.environ.get("FAKE_FAIL_SEED", "-1")):
    print("fake trainer: failing on purpose", flush=True)
    sys.exit(3)
if os.environ.get("FAKE_HANG") and rank == 0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(1000)"])
    Path(os.environ["FAKE_HANG"]).write_text(json.dumps({"rank0": os.getpid(), "child": child.pid}))
    print("step:1/200 train_loss:6.0000 train_time:10ms step_avg:10.00ms", flush=True)
    while True:
        time.sleep(1)
if rank == 0:
    source = Path(__file__).read_text()
    bpb = 1.5 + (seed % 1000) / 10000
    loss = bpb * 1.69
    lines = [
        "val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=tok.model",
        f"world_size:{world} grad_accum_steps:{8 // world}",
        f"seed:{seed}",
        f"step:0/20 val_loss:6.9000 val_bpb:4.0000 train_time:0ms step_avg:0.00ms",
        f"step:20/20 val_loss:{loss:.4f} val_bpb:{bpb:.4f} train_time:1000ms step_avg:50.00ms",
        "peak memory allocated: 10 MiB reserved: 12 MiB",
        "Serialized model int8+zlib: 1000 bytes (payload:2000 raw_torch:2500 payload_ratio:2.00x)",
        f"Code size: {len(source.encode())} bytes",
        f"Total submission size int8+zlib: {1000 + len(source.encode())} bytes",
        f"final_int8_zlib_roundtrip val_loss:{loss:.4f} val_bpb:{bpb:.4f} eval_time:12ms",
        f"final_int8_zlib_roundtrip_exact val_loss:{loss:.8f} val_bpb:{bpb:.8f}",
    ]
    label = os.environ.get("FAKE_LABEL")
    if label:  # the only score line uses a label outside the ruleset's precedence
        lines[-2:] = [f"{label} val_loss:{loss:.8f} val_bpb:{bpb:.8f} eval_time:12ms"]
    Path("logs").mkdir(exist_ok=True)
    with open(f"logs/{run_id}.txt", "w") as f:
        f.write(source + "\n" + "=" * 100 + "\n" + f"Running Python {sys.version}\n" + "=" * 100 + "\n")
        f.write("\n".join(lines) + "\n")
    Path("final_model.int8.ptz").write_bytes(b"\0" * 1000)
    print("\n".join(lines), flush=True)
'''


def make_record(tmp_path: Path, env: dict | None = None, name: str = "2026-01-01_Fake") -> Path:
    record = tmp_path / "records" / "track_smoke" / name
    (record / "logs").mkdir(parents=True)
    (record / "train_gpt.py").write_text(FAKE_TRAINER)
    (record / "README.md").write_text("# Fake\n\nA fake record for rerun tests.\n")
    submission = {"name": "Fake", "author": "golf tests", "date": "2026-01-01", "track": "smoke",
                  "val_bpb": 1.55, "seeds": [],
                  "run": {"command": "torchrun --standalone --nproc_per_node=2 train_gpt.py",
                          "env": {"FAKE_RECORD_VAR": "from-record", **(env or {})}}}
    (record / "submission.json").write_text(json.dumps(submission, indent=2))
    # Previous outputs that a fresh copy must leave out.
    (record / "logs" / "old_run.txt").write_text("step:1/1 val_loss:9.0 val_bpb:9.0\n")
    (record / "final_model.int8.ptz").write_bytes(b"old artifact")
    return record


def quiet_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, force_terminal=False), buffer


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# --------------------------------------------------------------------------------------------
# The real launch path


def test_rerun_launches_every_seed_through_torchrun(tmp_path, monkeypatch):
    record = make_record(tmp_path, env={"FAKE_DUMP_ENV": "1"})
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("not part of the record")
    os.symlink(secret, record / "leak.txt")             # a link leaving the folder is never copied
    before = record_hash(record), sorted(p.name for p in record.rglob("*"))
    monkeypatch.setenv("GOLF_SECRET_TEST", "must-not-leak")
    monkeypatch.chdir(tmp_path)
    console, out = quiet_console()

    results = rerun_record(record, seeds=[1337, 42], nproc=2, console=console)

    assert [r.seed for r in results] == [1337, 42]
    scores = []
    for r in results:
        assert r.returncode == 0 and not r.timed_out and not r.resumed
        assert r.workdir == tmp_path / ".golf-rerun" / record.name / f"seed{r.seed}"
        assert r.log_path == r.workdir / "logs" / f"golf_rerun_seed{r.seed}.txt"
        assert r.artifact_path == r.workdir / "final_model.int8.ptz"
        assert r.artifact_path.stat().st_size == 1000          # the new artifact, not the record's old one
        assert not (r.workdir / "logs" / "old_run.txt").exists() and not (r.workdir / "leak.txt").exists()
        assert (r.workdir / "README.md").read_text() == (record / "README.md").read_text()
        assert sorted(p.name for p in (r.workdir / "ranks").iterdir()) == ["0", "1"]
        assert r.command[1:3] == ["-m", "torch.distributed.run"]
        assert "--standalone" in r.command and "--nproc_per_node=2" in r.command
        assert r.command[-1] == "train_gpt.py"
        run = parse_log(r.log_path).run
        assert run.seed == r.seed and run.world_size == 2
        scores.append(run.scores[-1].val_bpb)
        assert "final_int8_zlib_roundtrip_exact" in (r.workdir / "rerun.log").read_text()
        env = json.loads((r.workdir / "env.json").read_text())
        assert "GOLF_SECRET_TEST" not in env
        assert env["SEED"] == str(r.seed) and env["RUN_ID"] == f"golf_rerun_seed{r.seed}"
        assert env["FAKE_RECORD_VAR"] == "from-record"
        assert env["WORLD_SIZE"] == "2"
    assert scores == [pytest.approx(1.5337), pytest.approx(1.5042)]
    assert (record_hash(record), sorted(p.name for p in record.rglob("*"))) == before
    state = json.loads((tmp_path / ".golf-rerun" / record.name / "rerun_state.json").read_text())
    assert sorted(state["completed"]) == ["1337", "42"]
    assert "seed 2/2 (42): done" in out.getvalue()


def test_timeout_kills_the_whole_process_group(tmp_path, monkeypatch):
    pids_file = tmp_path / "pids.json"
    record = make_record(tmp_path, env={"FAKE_HANG": str(pids_file)})
    monkeypatch.setattr(rerun.process, "KILL_GRACE_S", 1.0)
    console, out = quiet_console()
    start = time.monotonic()

    results = rerun_record(record, seeds=[7], nproc=2, timeout_per_seed=10, workdir=tmp_path / "work",
                           console=console)

    assert time.monotonic() - start < 30
    (result,) = results
    assert result.timed_out and result.returncode != 0 and result.log_path is None
    pids = json.loads(pids_file.read_text())      # both the rank and its child were running
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (alive(pids["rank0"]) or alive(pids["child"])):
        time.sleep(0.1)
    assert not alive(pids["rank0"]) and not alive(pids["child"])
    assert "timed out after 10s" in out.getvalue()
    assert "step:1/200" in (tmp_path / "work" / "seed7" / "rerun.log").read_text()
    state = json.loads((tmp_path / "work" / "rerun_state.json").read_text())
    assert state["completed"] == {}


def test_interrupted_rerun_resumes_from_completed_seeds(tmp_path):
    flag = tmp_path / "fail-now"
    flag.write_text("x")
    record = make_record(tmp_path, env={"FAKE_FAIL_FLAG": str(flag), "FAKE_FAIL_SEED": "42"})
    work = tmp_path / "work"
    console, out = quiet_console()

    first = rerun_record(record, seeds=[1337, 42, 2025], nproc=1, workdir=work, console=console)
    assert [(r.seed, r.returncode == 0, r.resumed) for r in first] == \
        [(1337, True, False), (42, False, False), (2025, True, False)]
    assert f"seed 2/3 (42): FAILED, exited with status {first[1].returncode}" in out.getvalue()
    assert str(work / "seed42" / "rerun.log") in out.getvalue()
    assert "failing on purpose" in (work / "seed42" / "rerun.log").read_text()
    first_log = first[0].log_path.read_text()

    flag.unlink()
    console, out = quiet_console()
    second = rerun_record(record, seeds=[1337, 42, 2025], nproc=1, workdir=work, console=console)
    assert [(r.seed, r.returncode, r.resumed) for r in second] == [(1337, 0, True), (42, 0, False), (2025, 0, True)]
    assert second[0].log_path == first[0].log_path and second[0].log_path.read_text() == first_log
    assert "resuming" in out.getvalue()

    # Changing the record folder invalidates what was completed: everything runs again.
    (record / "README.md").write_text("# Fake\n\nEdited.\n")
    console, out = quiet_console()
    third = rerun_record(record, seeds=[1337], nproc=1, workdir=work, console=console)
    assert [(r.seed, r.returncode, r.resumed) for r in third] == [(1337, 0, False)]
    assert "record folder changed" in out.getvalue() and "starting over" in out.getvalue()


def test_a_score_label_named_by_the_record_completes_and_resumes(tmp_path):
    record = make_record(tmp_path, env={"FAKE_LABEL": "final_int6_ttt"})
    work = tmp_path / "work"
    console, out = quiet_console()
    # without the record naming its label, the seed's log has no score line golf accepts
    (result,) = rerun_record(record, seeds=[1337], nproc=1, workdir=work, console=console)
    assert result.returncode == 0 and "FAILED" in out.getvalue()
    data = json.loads((record / "submission.json").read_text())
    data["score_label"] = "final_int6_ttt"
    (record / "submission.json").write_text(json.dumps(data))
    console, out = quiet_console()
    (result,) = rerun_record(record, seeds=[1337], nproc=1, workdir=work, console=console)
    assert result.returncode == 0 and not result.resumed and "FAILED" not in out.getvalue()
    state = json.loads((work / rerun.STATE_NAME).read_text())
    assert "1337" in state["completed"]
    console, out = quiet_console()
    (again,) = rerun_record(record, seeds=[1337], nproc=1, workdir=work, console=console)
    assert again.resumed and again.log_path == result.log_path
    assert "resuming" in out.getvalue()


def test_changed_options_start_over(tmp_path):
    record = make_record(tmp_path)
    work = tmp_path / "work"
    console, _ = quiet_console()
    rerun_record(record, seeds=[5], nproc=1, workdir=work, console=console)
    console, out = quiet_console()
    (result,) = rerun_record(record, seeds=[5], nproc=2, workdir=work, console=console)
    assert not result.resumed and result.returncode == 0
    assert "options changed" in out.getvalue() and "nproc" in out.getvalue()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_kills_every_rank_and_keeps_state(tmp_path, monkeypatch, sig):
    pids_file = tmp_path / "pids.json"
    record = make_record(tmp_path, env={"FAKE_HANG": str(pids_file)})
    monkeypatch.setattr(rerun.process, "KILL_GRACE_S", 1.0)

    def interrupt():
        # A real signal to this process (Ctrl-C, or a cancelled job) once the rank and its child are up.
        deadline = time.monotonic() + 60
        while not pids_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), sig)

    threading.Thread(target=interrupt, daemon=True).start()
    console, out = quiet_console()
    with pytest.raises(KeyboardInterrupt):
        rerun_record(record, seeds=[9], nproc=1, workdir=tmp_path / "work", timeout_per_seed=90, console=console)
    pids = json.loads(pids_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (alive(pids["rank0"]) or alive(pids["child"])):
        time.sleep(0.1)
    assert not alive(pids["rank0"]) and not alive(pids["child"])
    assert "run the same command again to resume" in out.getvalue()
    assert (tmp_path / "work" / "rerun_state.json").is_file()


def test_dry_run_prints_every_command_and_creates_nothing(tmp_path, monkeypatch):
    record = make_record(tmp_path)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data" / "smoke"
    console, out = quiet_console()

    results = rerun_record(record, seeds=[1, 2, 3], nproc=4, data_path=data, dry_run=True,
                           torchrun_args=["--nnodes=2", "--node-rank=1", "--rdzv-endpoint=host:29400"],
                           console=console)

    assert not (tmp_path / ".golf-rerun").exists() and not data.exists()
    text = out.getvalue()
    lines = [line for line in text.splitlines() if "torch.distributed.run" in line]
    assert len(lines) == 3 and [r.returncode for r in results] == [None, None, None]
    for seed, line in zip((1, 2, 3), lines):
        assert f"SEED={seed} " in line and f"RUN_ID=golf_rerun_seed{seed} " in line
        assert f"DATA_PATH={data} " in line and "FAKE_RECORD_VAR=from-record" in line
        assert "--nproc_per_node=4 --nnodes=2 --node-rank=1 --rdzv-endpoint=host:29400 train_gpt.py" in line
        assert "--standalone" not in line and "env -i" in line


def test_relative_paths_in_the_record_env_are_resolved_from_the_current_folder(tmp_path, monkeypatch):
    record = make_record(tmp_path, env={"DATA_PATH": "data/smoke", "TOKENIZER_PATH": "tok/missing.model"})
    (tmp_path / "data" / "smoke").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    console, out = quiet_console()
    rerun_record(record, seeds=[1], nproc=1, dry_run=True, console=console)
    assert f"DATA_PATH={(tmp_path / 'data' / 'smoke').resolve()} " in out.getvalue()
    assert "TOKENIZER_PATH=tok/missing.model " in out.getvalue()
    with pytest.raises(GolfError, match="TOKENIZER_PATH tok/missing.model does not exist"):
        rerun_record(record, seeds=[1], nproc=1, console=quiet_console()[0])
    assert not (tmp_path / ".golf-rerun").exists()


def test_workdir_inside_the_record_is_refused(tmp_path):
    record = make_record(tmp_path)
    with pytest.raises(GolfError, match="inside the record folder"):
        rerun_record(record, seeds=[1], workdir=record / "work", console=quiet_console()[0])


def test_a_foreign_seed_folder_is_never_deleted(tmp_path):
    record = make_record(tmp_path)
    mine = tmp_path / "work" / "seed1"
    mine.mkdir(parents=True)
    (mine / "precious.txt").write_text("keep me")
    with pytest.raises(GolfError, match="not made by golf"):
        rerun_record(record, seeds=[1], nproc=1, workdir=tmp_path / "work", console=quiet_console()[0])
    assert (mine / "precious.txt").read_text() == "keep me"


def test_missing_data_path_is_a_clear_error(tmp_path):
    record = make_record(tmp_path)
    with pytest.raises(GolfError, match="DATA_PATH .* does not exist.*golf data smoke"):
        rerun_record(record, seeds=[1], nproc=1, data_path=tmp_path / "nope", workdir=tmp_path / "w",
                     console=quiet_console()[0])
    assert not (tmp_path / "w").exists()


# --------------------------------------------------------------------------------------------
# Reading the record's command


def test_readme_command_with_env_prefix_continuations_and_record_path():
    text = """# A record

Run it:

```bash
NCCL_IB_DISABLE=1 \\
RUN_ID=baseline \\
VOCAB_SIZE=1024 \\
torchrun --standalone --nproc_per_node=8 \\
  records/track_10min_16mb/2026-03-18_X/train_gpt.py
```
"""
    (spec,) = readme_commands(text)
    assert spec.script == "records/track_10min_16mb/2026-03-18_X/train_gpt.py"
    assert spec.env == {"NCCL_IB_DISABLE": "1", "RUN_ID": "baseline", "VOCAB_SIZE": "1024"}
    assert spec.script_args == []


def test_readme_markdown_escapes_redirections_exports_and_variables():
    text = r"""
```
export DATA_PATH=./data/x
VAL\_LOSS\_EVERY=2000 \\
torchrun --standalone --nproc\_per\_node=8 train\_gpt.py --flag 1 > train_seed0.log 2>&1
```

```bash
SEED=0
ARTIFACT_DIR="runs/varlen${SEED}" SEED=$SEED \
    python3 -m torch.distributed.run --nproc_per_node 8 hnet/train_gpt_hnet.py | tee out.log
# eval only
torchrun --standalone --nproc_per_node=8 train_gpt.py --eval 2>&1
```
"""
    first, second, third = readme_commands(text)
    assert first.script == "train_gpt.py" and first.script_args == ["--flag", "1"]
    assert first.env == {"DATA_PATH": "./data/x", "VAL_LOSS_EVERY": "2000"}
    assert second.script == "hnet/train_gpt_hnet.py" and second.script_args == []
    assert second.env == {"ARTIFACT_DIR": "runs/varlen0", "SEED": "0"}
    assert third.script_args == ["--eval"]


def test_lines_that_are_not_torchrun_commands_are_ignored():
    assert parse_command_line("python train_gpt.py") is None
    assert parse_command_line("pip install -r requirements.txt") is None
    assert parse_command_line("torchrun --standalone --nproc_per_node=8") is None
    assert parse_command_line("FOO=1 torchrun --standalone 'unterminated") is None
    assert readme_commands("no code blocks, torchrun train_gpt.py in prose") == []


def test_launch_spec_prefers_the_run_block_and_resolves_the_script(tmp_path):
    from golf.read.records import load_record

    record = make_record(tmp_path)
    (record / "README.md").write_text("```\ntorchrun --standalone --nproc_per_node=8 other.py\n```\n")
    spec = launch_spec(load_record(record))
    assert spec.source == "submission.json run block" and spec.script == "train_gpt.py"
    assert spec.env == {"FAKE_RECORD_VAR": "from-record"}

    (record / "submission.json").write_text(json.dumps({"name": "Fake"}))
    (record / "README.md").write_text(
        "```\nA=1 torchrun --standalone --nproc_per_node=8 /root/code/parameter-golf/train_gpt.py\n```\n")
    spec = launch_spec(load_record(record))
    assert spec.source == "README.md command block"
    assert spec.script == "train_gpt.py" and spec.env == {"A": "1"}


def test_launch_spec_errors_name_the_folder_and_the_problem(tmp_path):
    from golf.read.records import load_record

    record = make_record(tmp_path)
    (record / "submission.json").write_text(json.dumps({"name": "Fake"}))
    (record / "README.md").write_text("# nothing to run\n")
    with pytest.raises(GolfError, match="no command to rerun"):
        launch_spec(load_record(record))
    (record / "README.md").write_text("```\ntorchrun --standalone --nproc_per_node=8 missing.py\n```\n")
    with pytest.raises(GolfError, match=r"missing\.py\) is not a file in the record folder"):
        launch_spec(load_record(record))
    (record / "submission.json").write_text(json.dumps({"run": {"command": "python train_gpt.py"}}))
    with pytest.raises(GolfError, match="not a torchrun command"):
        launch_spec(load_record(record))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_corpus_readme_commands():
    def first(folder):
        return readme_commands((CORPUS / folder / "README.md").read_text())[0]

    base = first("track_10min_16mb/2026-03-17_NaiveBaseline")
    assert base.script == "/root/code/parameter-golf/train_gpt.py"
    assert base.env["TRAIN_LOG_EVERY"] == "50" and base.env["VAL_LOSS_EVERY"] == "200"
    mixed = first("track_10min_16mb/2026-03-19_MixedQuant_Int6Int8_SlidingWindow")
    assert mixed.script == "train_gpt.py" and mixed.env["VAL_LOSS_EVERY"] == "2000"
    ternary = first("track_10min_16mb/2026-03-24_74M_Ternary_UNet_FP8_10L_8192BPE_YaRN_NeoMuon")
    assert ternary.script == "train_gpt_cuda_ternary.py" and ternary.env["OMP_NUM_THREADS"] == "1"
    varlen = readme_commands((CORPUS / "track_10min_16mb/2026-04-10_VarLenAttn/README.md").read_text())
    assert varlen[0].script == "records/track_10min_16mb/2026-04-10_VarLenAttn/train_gpt.py"
    assert "EVAL_ONLY_PATH" in varlen[1].env
    caseops = first("track_10min_16mb/2026-04-18_PR1626_CaseOps_Taper")
    assert caseops.script_args == [] and caseops.env["TOKENIZER_PATH"].endswith(".model")
    # The command names the script by an absolute path on the author's machine; the rerun takes the
    # folder's own train_gpt.py (a script that is nowhere in the folder fails: see the test above).
    from golf.read.records import load_record
    spec = launch_spec(load_record(CORPUS / "track_10min_16mb/2026-03-17_NaiveBaseline"))
    assert spec.script == "train_gpt.py" and spec.env["VAL_LOSS_EVERY"] == "200"


def test_readme_script_path_resolves_inside_the_record(tmp_path):
    from golf.read.records import load_record

    record = make_record(tmp_path)
    (record / "submission.json").write_text(json.dumps({"name": "Fake"}))
    (record / "hnet").mkdir()
    (record / "hnet" / "train_gpt_hnet.py").write_text("print('x')\n")
    (record / "README.md").write_text(
        "```\ntorchrun --standalone --nproc_per_node=8 records/track_smoke/x/hnet/train_gpt_hnet.py\n"
        "torchrun --standalone --nproc_per_node=8 records/track_smoke/2026-01-01_Fake/train_gpt.py\n```\n")
    spec = launch_spec(load_record(record))
    assert spec.script == "train_gpt.py"           # the standard name wins over the first command
    (record / "train_gpt.py").unlink()
    assert launch_spec(load_record(record)).script == "hnet/train_gpt_hnet.py"


# --------------------------------------------------------------------------------------------
# Seeds, environment and launcher options


def test_default_seeds_come_from_the_logs_then_the_ruleset(tmp_path):
    from golf.read.records import load_record
    from golf.rules import load_ruleset

    record = make_record(tmp_path)
    (record / "logs" / "old_run.txt").unlink()
    ruleset = load_ruleset()
    n = max(ruleset.significance.min_runs, ruleset.significance.recommended_runs)
    assert default_seeds(load_record(record), ruleset) == [1337, 42, 2025][:n]

    for seed in (7, 3):
        (record / f"train_seed{seed}.log").write_text(f"seed:{seed}\nstep:1/1 val_loss:2.0 val_bpb:1.2\n")
    (record / "train.log").write_text((record / "train_seed7.log").read_text())   # a copy, not a run
    assert sorted(default_seeds(load_record(record), ruleset)) == [3, 7]


def test_clean_environment_keeps_only_what_a_run_needs():
    env = clean_environment({"PATH": "/bin", "HOME": "/h", "LC_ALL": "C", "NCCL_DEBUG": "INFO",
                             "CUDA_VISIBLE_DEVICES": "0,1", "GOLF_SECRET_TEST": "x", "AWS_SECRET_ACCESS_KEY": "y",
                             "PYTHONPATH": "/evil"})
    assert env == {"PATH": "/bin", "HOME": "/h", "LC_ALL": "C", "NCCL_DEBUG": "INFO",
                   "CUDA_VISIBLE_DEVICES": "0,1", "PYTHONUNBUFFERED": "1"}


def test_launcher_options_standalone_or_multinode():
    assert launcher_options(2) == ["--standalone", "--nproc_per_node=2"]
    assert launcher_options(8, ["--nnodes=2", "--rdzv-backend=c10d", "--rdzv-endpoint=h:1"]) == \
        ["--nproc_per_node=8", "--nnodes=2", "--rdzv-backend=c10d", "--rdzv-endpoint=h:1"]
    assert launcher_options(8, ["--master_addr=h", "--master_port=1", "--node_rank=0", "--nnodes=2"])[0] == \
        "--nproc_per_node=8"


# --------------------------------------------------------------------------------------------
# Through the command line


def test_golf_verify_rerun_uses_the_new_logs(tmp_path, capsys):
    from golf.cli import main

    record = make_record(tmp_path)
    work = tmp_path / "work"
    status = main(["verify", str(record), "--rerun", "--nproc", "1", "--seeds", "11", "--workdir", str(work),
                   "--json"])
    report = json.loads(capsys.readouterr().out)
    (entry,) = report["records"]
    assert entry["rerun"] is True
    (run,) = entry["runs"]
    assert run["seed"] == 11 and run["val_bpb"] == pytest.approx(1.5011)
    assert (work / "seed11" / "logs" / "golf_rerun_seed11.txt").is_file()
    assert status == (0 if entry["verdict"] == "pass" else 1)


def test_golf_verify_rerun_dry_run(tmp_path, capsys):
    from golf.cli import main

    record = make_record(tmp_path)
    assert main(["verify", str(record), "--rerun", "--dry-run", "--nproc", "3", "--seeds", "4", "5",
                 "--workdir", str(tmp_path / "work")]) == 0
    err = capsys.readouterr().err
    assert err.count("--nproc_per_node=3") == 2 and "SEED=4 " in err and "SEED=5 " in err
    assert not (tmp_path / "work").exists()


def test_golf_verify_rerun_of_a_folder_of_records_is_one_batch_with_a_summary(tmp_path, capsys):
    from golf.cli import main

    first = make_record(tmp_path, name="2026-01-01_First")
    second = make_record(tmp_path, name="2026-01-02_Second")
    work = tmp_path / "work"
    status = main(["verify", str(tmp_path / "records"), "--rerun", "--nproc", "1", "--seeds", "11",
                   "--workdir", str(work), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert sorted(entry["path"] for entry in report["records"]) == sorted([str(first), str(second)])
    for entry in report["records"]:
        assert entry["rerun"] is True and [run["seed"] for run in entry["runs"]] == [11]
    for record in (first, second):
        assert (work / record.name / "seed11" / "logs" / "golf_rerun_seed11.txt").is_file()
    # with --json the summary table goes to stderr, after the rerun's own lines
    summary = captured.err[captured.err.index("rerun summary"):].splitlines()
    rows = [line.split() for line in summary[2:]]
    assert sorted(row[0] for row in rows) == sorted([str(first), str(second)])
    for row in rows:
        assert row[1] == "1/1" and row[2] == "-" and row[3] == "1.50110" and row[4] in ("pass", "fail")
    assert status == (0 if all(entry["verdict"] == "pass" for entry in report["records"]) else 1)
    assert main(["verify", str(tmp_path / "records"), "--rerun", "--write-submission"]) == 2
    assert "--write-submission takes one record folder" in capsys.readouterr().err

"""`golf verify --rerun --launcher slurm` on a real one-node SLURM cluster.

`.ci/run` starts the cluster (tools/slurm_local.sh up) and sets GOLF_SLURM_CLUSTER; there a cluster
that does not answer fails these tests. A developer without SLURM sees them skip, with the reason;
`tools/slurm_local.sh up` (as root, with slurm-wlm and munge installed) starts the same cluster by hand.
The tests that need no cluster (the sbatch scripts of --dry-run, the options) always run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from golf.cli import main
from golf.produce.rerun import rerun_record, slurm
from golf.produce.rerun.slurm import SlurmOptions
from test_rerun import make_record, quiet_console

REPO = Path(__file__).resolve().parents[1]
SMOKE_RECORD = next((REPO / "records" / "track_smoke").glob("*_ReferenceBaseline"))


def _cluster_problem() -> str | None:
    if shutil.which("sbatch") is None:
        return ("SLURM is not installed (apt-get install slurm-wlm munge, then tools/slurm_local.sh up as root "
                "starts a one-node cluster)")
    try:
        done = subprocess.run(["sinfo", "--noheader", "--format=%t"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer in 30s"
    states = done.stdout.split()
    if done.returncode != 0 or not any(s.rstrip("*~#") in ("idle", "mix", "alloc") for s in states):
        said = (done.stderr or done.stdout).strip().splitlines()
        return f"no SLURM node is up (sinfo: {said[-1] if said else 'nothing'}); tools/slurm_local.sh up starts one"
    return None


@pytest.fixture
def cluster(monkeypatch):
    problem = _cluster_problem()
    if problem:
        if os.environ.get("GOLF_SLURM_CLUSTER"):
            pytest.fail(f"the SLURM cluster .ci/run started is expected, but {problem}")
        pytest.skip(problem)
    monkeypatch.setattr(slurm, "POLL_S", 0.5)


def squeue_state(job_id: str) -> str | None:
    return (slurm.squeue([job_id]) or {}).get(job_id, slurm.JobInfo("gone")).state


def wait_for(predicate, timeout_s: float = 120, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


# --------------------------------------------------------------------------------------------
# Without a cluster: the job scripts and the options


def test_dry_run_prints_every_sbatch_script_and_submits_nothing(tmp_path, monkeypatch):
    record = make_record(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")     # golf's machine's GPUs are not the node's
    monkeypatch.setattr(slurm, "sbatch", lambda script: pytest.fail("--dry-run submitted a job"))
    console, out = quiet_console()
    options = SlurmOptions(partition="h100", account="golf", gpus_per_node=8, time="00:30:00",
                           sbatch_args=["--exclusive", "--qos=high"])

    results = rerun_record(record, seeds=[1337, 42], nproc=8, launcher="slurm", slurm=options,
                           timeout_per_seed=900, dry_run=True, console=console)

    assert [r.returncode for r in results] == [None, None]
    assert not (tmp_path / ".golf-rerun").exists()
    scripts = out.getvalue().split("#!/bin/bash")[1:]
    assert len(scripts) == 2
    for seed, script in zip((1337, 42), scripts):
        seed_dir = tmp_path / ".golf-rerun" / record.name / f"seed{seed}"
        for directive in ("--nodes=1", "--partition=h100", "--account=golf", "--gpus-per-node=8", "--time=00:30:00",
                          "--exclusive", "--qos=high", f"--chdir={seed_dir}", f"--output={seed_dir}/rerun.log"):
            assert f"#SBATCH {directive}\n" in script
        assert f"SEED={seed} " in script and f"RUN_ID=golf_rerun_seed{seed} " in script
        assert "FAKE_RECORD_VAR=from-record" in script
        assert "CUDA_VISIBLE_DEVICES=3" not in script and "CUDA_VISIBLE_DEVICES" in script.split("start=")[0]
        assert "timeout --kill-after=10 900 env -i" in script
        assert "-m torch.distributed.run --standalone --nproc_per_node=8 train_gpt.py" in script


def test_slurm_options_are_checked_before_anything_runs(tmp_path, capsys):
    record = make_record(tmp_path)
    assert main(["verify", str(record), "--rerun", "--partition", "p", "--dry-run"]) == 2
    assert "--partition only apply with --launcher slurm" in capsys.readouterr().err
    assert main(["verify", str(record), "--launcher", "slurm"]) == 2
    assert "--launcher only apply with --rerun" in capsys.readouterr().err
    assert main(["verify", str(record), "--rerun", "--launcher", "slurm", "--time", "half an hour", "--dry-run"]) == 2
    assert "expected a SLURM time limit" in capsys.readouterr().err
    assert main(["verify", str(record), "--rerun", "--launcher", "slurm", "--sbatch-arg", "exclusive",
                 "--dry-run"]) == 2
    assert "expected one sbatch option" in capsys.readouterr().err


def test_a_local_rerun_refuses_a_work_directory_with_slurm_jobs_in_flight(tmp_path):
    record = make_record(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    (work / slurm.JOBS_NAME).write_text(json.dumps({"fingerprint": {}, "jobs": {"1": {"job_id": "77"}}}))
    with pytest.raises(Exception, match="SLURM job.s. 77 of an earlier `--launcher slurm` rerun"):
        rerun_record(record, seeds=[1], nproc=1, workdir=work, console=quiet_console()[0])
    assert not (work / "seed1").exists()


# --------------------------------------------------------------------------------------------
# On the cluster


def test_smoke_record_through_slurm_matches_the_local_rerun(cluster, tmp_path, monkeypatch, capsys):
    from golf.data.smoke import ensure_smoke

    monkeypatch.chdir(tmp_path)
    ensure_smoke(tmp_path)
    common = ["verify", str(SMOKE_RECORD), "--rerun", "--nproc", "2", "--seeds", "1337", "--json"]

    status_local = main(common + ["--workdir", str(tmp_path / "local")])
    local = json.loads(capsys.readouterr().out)["records"][0]
    status_slurm = main(common + ["--launcher", "slurm", "--workdir", str(tmp_path / "slurm")])
    captured = capsys.readouterr()
    on_slurm = json.loads(captured.out)["records"][0]

    assert "submitted as SLURM job" in captured.err
    assert (status_slurm, on_slurm["verdict"]) == (status_local, local["verdict"]) == (0, "pass")
    assert [(r["seed"], r["val_bpb"], r["val_loss"]) for r in on_slurm["runs"]] == \
        [(r["seed"], r["val_bpb"], r["val_loss"]) for r in local["runs"]] != []
    def reproduced(report):
        return [(r["seed"], r["status"], r["reproduced"]["val_bpb"], r["claimed"]["val_bpb"])
                for r in report["reproduction"]]

    assert reproduced(on_slurm) == reproduced(local)
    state = json.loads((tmp_path / "slurm" / "rerun_state.json").read_text())
    assert state["completed"]["1337"]["job_id"].isdigit()
    assert (tmp_path / "slurm" / "slurm" / "seed1337.sbatch").is_file()


def test_a_batch_of_records_runs_as_jobs_and_ends_with_a_summary(cluster, tmp_path, monkeypatch, capsys):
    first = make_record(tmp_path, env={"FAKE_DUMP_ENV": "1"}, name="2026-01-01_First")
    second = make_record(tmp_path, name="2026-01-02_Second")
    monkeypatch.setenv("GOLF_SECRET_TEST", "must-not-leak")
    monkeypatch.chdir(tmp_path)

    status = main(["verify", str(tmp_path / "records"), "--rerun", "--launcher", "slurm", "--nproc", "2",
                   "--seeds", "1337", "42", "--workdir", str(tmp_path / "work")])
    captured = capsys.readouterr()

    for record in (first, second):
        for seed, bpb in ((1337, 1.5337), (42, 1.5042)):
            seed_dir = tmp_path / "work" / record.name / f"seed{seed}"
            log = (seed_dir / "logs" / f"golf_rerun_seed{seed}.txt").read_text()
            assert f"val_bpb:{bpb:.8f}" in log
            assert sorted(p.name for p in (seed_dir / "ranks").iterdir()) == ["0", "1"]
        jobs = json.loads((tmp_path / "work" / record.name / slurm.JOBS_NAME).read_text())
        assert jobs["jobs"] == {}          # nothing left in flight
    env = json.loads((tmp_path / "work" / first.name / "seed42" / "env.json").read_text())
    assert "GOLF_SECRET_TEST" not in env and env["FAKE_RECORD_VAR"] == "from-record" and env["SEED"] == "42"
    assert captured.err.count("submitted as SLURM job") == 4
    summary = captured.out[captured.out.index("rerun summary"):].splitlines()
    assert summary[1].split() == ["record", "seeds", "reproduced", "claimed", "mean", "reproduced", "mean", "verdict"]
    rows = {line.split()[0]: line.split() for line in summary[2:]}
    assert set(rows) == {str(first), str(second)}
    for row in rows.values():
        assert row[1] == "2/2" and row[3] == f"{(1.5337 + 1.5042) / 2:.5f}" and row[4] in ("pass", "fail")
    assert status == (0 if all(row[4] == "pass" for row in rows.values()) else 1)


def test_ctrl_c_cancels_the_jobs_and_the_same_command_resumes(cluster, tmp_path):
    flag = tmp_path / "go-on"
    record = make_record(tmp_path, env={"FAKE_WAIT_FOR": str(flag), "FAKE_WAIT_SEED": "42"})
    work = tmp_path / "work"

    def interrupt():
        # Ctrl-C once seed 1337 is done and seed 42's job is running (waiting for the flag).
        wait_for(lambda: (work / "seed42" / "waiting").exists() and "1337" in
                 json.loads((work / "rerun_state.json").read_text())["completed"], what="the jobs")
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    console, out = quiet_console()
    with pytest.raises(KeyboardInterrupt):
        rerun_record(record, seeds=[1337, 42], nproc=1, workdir=work, launcher="slurm", console=console)

    text = out.getvalue()
    cancelled = text.split("interrupted: cancelled SLURM job(s) ")[1].split(";")[0]
    assert cancelled.isdigit() and f"seed 2/2 (42): submitted as SLURM job {cancelled}" in text
    wait_for(lambda: squeue_state(cancelled) in ("CANCELLED", "gone"), 60, "the job to be cancelled")
    wait_for(lambda: not (work / "seed42" / "waiting").exists() or not _alive_in(work / "seed42"), 30,
             "the rank to be killed")
    assert json.loads((work / slurm.JOBS_NAME).read_text())["jobs"] == {}

    flag.write_text("go")
    console, out = quiet_console()
    results = rerun_record(record, seeds=[1337, 42], nproc=1, workdir=work, launcher="slurm", console=console)
    text = out.getvalue()
    assert [(r.seed, r.returncode, r.resumed) for r in results] == [(1337, 0, True), (42, 0, False)]
    assert "seed 1/2 (1337): already completed in an earlier run, skipped" in text
    assert results[1].job_id != cancelled and f"submitted as SLURM job {results[1].job_id}" in text
    assert "val_bpb:1.50420000" in results[1].log_path.read_text()


def _alive_in(seed_dir: Path) -> bool:
    """Whether the process that wrote seed_dir/waiting still runs."""
    pid = (seed_dir / "waiting").read_text()
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_running_job_is_re_attached_when_golf_died(cluster, tmp_path):
    flag = tmp_path / "go-on"
    record = make_record(tmp_path, env={"FAKE_WAIT_FOR": str(flag), "FAKE_WAIT_SEED": "7"})
    work = tmp_path / "work"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    golf = subprocess.Popen([sys.executable, "-m", "golf", "verify", str(record), "--rerun", "--launcher", "slurm",
                             "--nproc", "1", "--seeds", "7", "--workdir", str(work)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (work / "seed7" / "waiting").exists(), what="the job to start")
    finally:
        golf.kill()        # golf dies without cancelling anything (SIGKILL)
        golf.wait()
    job_id = json.loads((work / slurm.JOBS_NAME).read_text())["jobs"]["7"]["job_id"]
    assert squeue_state(job_id) == "RUNNING"

    flag.write_text("go")
    console, out = quiet_console()
    (result,) = rerun_record(record, seeds=[7], nproc=1, workdir=work, launcher="slurm", console=console)
    assert f"re-attached to SLURM job {job_id}" in out.getvalue()
    assert "submitted" not in out.getvalue()
    assert result.job_id == job_id and result.returncode == 0 and not result.resumed
    assert "val_bpb:1.50070000" in result.log_path.read_text()


def test_without_slurm_commands_the_error_says_what_is_missing(tmp_path, monkeypatch, capsys):
    record = make_record(tmp_path)
    monkeypatch.setattr(slurm.shutil, "which", lambda name: None)
    assert main(["verify", str(record), "--rerun", "--launcher", "slurm", "--seeds", "1", "--nproc", "1",
                 "--workdir", str(tmp_path / "work")]) == 2
    assert "sbatch, squeue, scancel not found" in capsys.readouterr().err
    assert not (tmp_path / "work" / "seed1").exists()


def test_a_failed_or_timed_out_job_is_reported_and_rerun_next_time(cluster, tmp_path):
    fail_flag, go_on = tmp_path / "fail-now", tmp_path / "go-on"
    fail_flag.write_text("x")
    record = make_record(tmp_path, env={"FAKE_FAIL_FLAG": str(fail_flag), "FAKE_FAIL_SEED": "1337",
                                        "FAKE_WAIT_FOR": str(go_on), "FAKE_WAIT_SEED": "42"})
    work = tmp_path / "work"
    console, out = quiet_console()
    failed, timed_out = rerun_record(record, seeds=[1337, 42], nproc=1, workdir=work, launcher="slurm",
                                     timeout_per_seed=20, console=console)
    text = out.getvalue()
    assert failed.returncode not in (0, None) and not failed.timed_out and failed.log_path is None
    assert f"seed 1/2 (1337): FAILED, exited with status {failed.returncode}" in text
    assert "failing on purpose" in (work / "seed1337" / "rerun.log").read_text()
    assert timed_out.timed_out and timed_out.log_path is None
    assert f"seed 2/2 (42): FAILED, timed out after 20s (killed inside SLURM job {timed_out.job_id})" in text
    assert json.loads((work / "rerun_state.json").read_text())["completed"] == {}
    assert json.loads((work / slurm.JOBS_NAME).read_text())["jobs"] == {}

    fail_flag.unlink()
    go_on.write_text("go")
    console, out = quiet_console()
    results = rerun_record(record, seeds=[1337, 42], nproc=1, workdir=work, launcher="slurm", timeout_per_seed=20,
                           console=console)
    assert [(r.seed, r.returncode, r.resumed) for r in results] == [(1337, 0, False), (42, 0, False)]
    assert {r.job_id for r in results}.isdisjoint({failed.job_id, timed_out.job_id})

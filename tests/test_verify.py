"""golf verify end to end: the API, the command line and its exit statuses, hostile folders, reruns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from fixtures.verify.kit import SCRIPT, log_text, make_record, snapshot
from golf.cli import main
from golf.errors import GolfError
from golf.judge.verify import verify_paths, verify_record

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json").read_text())


def cli_json(capsys, *argv) -> tuple[int, dict]:
    status = main(["verify", *map(str, argv), "--json"])
    out = capsys.readouterr().out
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    return status, data


# ---- API -----------------------------------------------------------------------

def test_verify_paths_finds_every_record_in_a_tree_and_keeps_paths_as_given(tmp_path, monkeypatch):
    make_record(tmp_path / "records", "2026-04-01_Base", bpbs=(1.12, 1.121, 1.119))
    make_record(tmp_path / "records", "2026-04-06_Tiny")
    monkeypatch.chdir(tmp_path)
    report = verify_paths(["records"])
    assert [r.path for r in report.records] == [os.path.join("records", "track_10min_16mb", "2026-04-01_Base"),
                                               os.path.join("records", "track_10min_16mb", "2026-04-06_Tiny")]
    assert report.ruleset.startswith("by record date")
    # both records predate the practice ruleset (2026-04-10), so the written rules judge them, and say why
    for record in report.records:
        assert record.stats["ruleset"]["name"] == "parameter_golf_2026"
        assert "in force on the record's date" in record.stats["ruleset"]["reason"]
    assert report.passed


def test_verify_record_path_is_as_given(tmp_path):
    root = make_record(tmp_path)
    assert verify_record(str(root)).path == str(root)


def test_sota_record_option(tmp_path):
    base = make_record(tmp_path / "elsewhere", "2026-06-01_Later", bpbs=(1.0, 1.001, 0.999))
    root = make_record(tmp_path)
    report = verify_record(root, sota_record=base)
    assert sorted(report.stats["sota"]["values"]) == pytest.approx([0.999, 1.0, 1.001])
    assert "not-significant" in {f.name for f in report.findings}


def test_bad_inputs_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    # A path that is not a record folder is its own entry in the report (G099), so a batch still reports the rest.
    report = verify_paths([tmp_path / "missing", tmp_path / "empty"])
    messages = [record.findings[0].message for record in report.records]
    assert [record.findings[0].code for record in report.records] == ["G099", "G099"]
    assert "no such file or folder" in messages[0] and "no record folder found" in messages[1]
    with pytest.raises(GolfError, match="not a number"):
        verify_record(make_record(tmp_path), sota="fast")
    with pytest.raises(GolfError, match="unknown ruleset"):
        verify_record(make_record(tmp_path), ruleset="no_such_rules")


def test_unreadable_record_becomes_a_finding(tmp_path, monkeypatch):
    import golf.read.records

    root = make_record(tmp_path)

    def fail(path):
        raise GolfError(f"{path}: cannot list the folder")

    monkeypatch.setattr(golf.read.records, "load_record", fail)
    report = verify_record(root)
    assert [f.name for f in report.findings] == ["unreadable-record"]
    assert report.verdict == "fail"


# ---- the command line ---------------------------------------------------------------

def test_exit_status_zero_when_every_record_passes(tmp_path, capsys):
    status, data = cli_json(capsys, make_record(tmp_path))
    assert status == 0
    assert data["records"][0]["verdict"] == "pass"


def test_exit_status_one_when_any_record_fails(tmp_path, capsys):
    good = make_record(tmp_path)
    bad = make_record(tmp_path, "2026-04-07_NoScript", script=None)
    status, data = cli_json(capsys, good, bad)
    assert status == 1
    assert [r["verdict"] for r in data["records"]] == ["pass", "fail"]
    assert "missing-script" in {f["name"] for f in data["records"][1]["findings"]}


def test_exit_status_two_for_usage_errors(tmp_path, capsys):
    root = make_record(tmp_path)
    assert main(["verify", str(tmp_path / "nowhere")]) == 2
    assert main(["verify", str(root), "--select", "no-such-rule"]) == 2
    assert main(["verify", str(root), "--dry-run"]) == 2
    assert "only apply with --rerun" in capsys.readouterr().err
    assert main(["verify", str(root), str(root), "--rerun"]) == 2
    assert "given twice to --rerun" in capsys.readouterr().err
    other = make_record(tmp_path, "2026-04-07_Other")
    assert main(["verify", str(root), str(other), "--rerun", "--write-submission"]) == 2
    assert "takes one record folder" in capsys.readouterr().err
    assert main(["verify", str(root), "--sota", "1.1", "--sota-record", str(root)]) == 2
    assert main(["verify", str(root), "--json", "--format", "markdown"]) == 2


def test_markdown_github_and_terminal_outputs(tmp_path, capsys):
    root = make_record(tmp_path, script=None)
    assert main(["verify", str(root), "--format", "markdown"]) == 1
    assert "**G104 missing-script**" in capsys.readouterr().out
    assert main(["verify", str(root), "--format", "github"]) == 1
    assert f"::error file={root},title=G104 missing-script::" in capsys.readouterr().out
    assert main(["verify", str(root)]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_rules_command_lists_every_rule(capsys):
    assert main(["rules", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)["rules"]
    assert {"code", "name", "severity", "rationale"} <= set(rules[0])
    assert "claim-mismatch" in {r["name"] for r in rules}
    assert main(["rules"]) == 0
    assert "G205" in capsys.readouterr().out


def test_static_verify_does_not_import_torch(tmp_path):
    make_record(tmp_path, "2026-04-01_Base", bpbs=(1.12, 1.121, 1.119))
    root = make_record(tmp_path)
    code = ("import sys\nfrom golf.cli import main\n"
            f"status = main(['verify', {str(root)!r}, '--json'])\n"
            "assert status == 0, status\n"
            "assert 'torch' not in sys.modules, 'static golf verify imported torch'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["records"][0]["verdict"] == "pass"


# ---- hostile folders -----------------------------------------------------------------

def test_a_script_that_would_delete_files_is_never_run(tmp_path, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    evil = ("import os, shutil\n"
            f"os.remove({str(victim)!r})\n"
            "shutil.rmtree(os.path.expanduser('~/should-not-exist'), ignore_errors=True)\n")
    root = make_record(tmp_path, script=evil)
    before = snapshot(tmp_path)
    status, data = cli_json(capsys, root)
    assert snapshot(tmp_path) == before
    assert victim.read_text() == "keep me"
    assert status == 0  # the script compiles; the logs embed it exactly


def test_symlinks_out_of_the_folder_binary_junk_and_a_large_log(tmp_path, capsys):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.log").write_text(log_text(seed=5, val_bpb=0.1))
    root = make_record(tmp_path)
    (root / "leak.log").symlink_to(outside / "secret.log")
    (root / "leakdir").symlink_to(outside, target_is_directory=True)
    (root / "junk.log").write_bytes(bytes(range(256)) * 4096 + b"\xff\xfe\x00val_loss\x00" * 1000)
    big = root / "big.log"
    with open(big, "w") as handle:  # 50 MB of training chatter, then nothing scored
        chunk = "step:1/20000 train_loss:2.5000 train_time:43ms step_avg:43.00ms\n" * 16_000
        while handle.tell() < 50_000_000:
            handle.write(chunk)
    before = snapshot(tmp_path)
    status, data = cli_json(capsys, root)
    assert snapshot(tmp_path) == before
    record = data["records"][0]
    names = {f["name"] for f in record["findings"]}
    assert "symlink-outside" in names
    assert {"leak.log", "leakdir"} <= {f["file"] for f in record["findings"] if f["name"] == "symlink-outside"}
    assert record["summary"]["n_runs"] == 3
    assert {"big.log", "junk.log"} <= {f["file"] for f in record["findings"] if f["name"] == "unscored-log"}
    assert status == 1


def test_read_only_record_folder_is_fine(tmp_path, capsys):
    root = make_record(tmp_path)
    for path in [root, *root.iterdir()]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        status, _ = cli_json(capsys, root)
    finally:
        for path in [root, *root.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert status == 0


# ---- reruns ---------------------------------------------------------------------------

def fake_rerun(tmp_path: Path, seed: int, val_bpb: float | None, *, artifact_bytes: int | None = 15_000_000,
               returncode: int = 0, timed_out: bool = False, source: str = SCRIPT):
    from golf.produce.rerun import RerunResult

    # Where golf puts it by default (a hidden .golf-rerun folder): a folder of .txt logs is a record folder,
    # so a work directory out in the records tree would be read as a record whose logs copy this one's.
    workdir = tmp_path / ".golf-rerun" / f"seed{seed}"
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    log = None
    if val_bpb is not None:
        log = workdir / "logs" / f"golf_rerun_seed{seed}.txt"
        log.write_text(log_text(seed=seed, val_bpb=val_bpb, source=source))
    artifact = None
    if artifact_bytes is not None:
        artifact = workdir / "final_model.int8.ptz"
        with open(artifact, "wb") as handle:
            handle.truncate(artifact_bytes)
    return RerunResult(seed=seed, workdir=workdir, log_path=log, artifact_path=artifact, returncode=returncode,
                       timed_out=timed_out, elapsed_s=12.0, command=["torchrun"], resumed=False)


def test_rerun_that_reproduces_passes_with_measured_sizes(tmp_path):
    root = make_record(tmp_path)
    reruns = [fake_rerun(tmp_path, 1337, 1.1004), fake_rerun(tmp_path, 42, 1.1008),
              fake_rerun(tmp_path, 2025, 1.0993, artifact_bytes=15_100_000)]
    report = verify_record(root, reruns=reruns)
    assert report.rerun and report.verdict == "pass", [f.message for f in report.findings]
    assert [r.size_basis for r in report.runs] == ["measured"] * 3
    assert report.runs[2].bytes_total == 15_100_000 + len(SCRIPT.encode())
    assert report.summary.val_bpb_mean == pytest.approx((1.1004 + 1.1008 + 1.0993) / 3)


def test_rerun_failures_timeouts_and_mismatches(tmp_path):
    root = make_record(tmp_path)
    # seed_results claims 1.1 for seed 1337: known to +-0.05 at its one decimal, so 1.2 is off
    reruns = [fake_rerun(tmp_path, 1337, 1.2000),
              fake_rerun(tmp_path, 42, None, returncode=1, artifact_bytes=None),
              fake_rerun(tmp_path, 2025, None, timed_out=True, returncode=-9, artifact_bytes=None)]
    report = verify_record(root, reruns=reruns)
    found = {}
    for f in report.findings:
        found.setdefault(f.name, []).append(f.message)
    assert any("seed 1337: rerun val_bpb 1.20000000 differs from seed_results[1337] 1.10000000" in m
               for m in found["rerun-mismatch"])
    assert found["rerun-failed"] == [f"seed 42: the command exited with status 1 (output in "
                                     f"{tmp_path / '.golf-rerun' / 'seed42' / 'rerun.log'})"]
    assert "seed 2025: timed out" in found["rerun-timeout"][0]
    assert report.verdict == "fail"


def test_rerun_tolerance_comes_from_the_claimed_spread(tmp_path):
    bpbs = (1.10012345, 1.10112345, 1.09912345)  # sd 0.001: 3 sd = 0.003
    root = make_record(tmp_path, bpbs=bpbs)
    close = [fake_rerun(tmp_path / "a", s, b + 0.0025) for s, b in zip((1337, 42, 2025), bpbs)]
    assert "rerun-mismatch" not in {f.name for f in verify_record(root, reruns=close).findings}
    far = [fake_rerun(tmp_path / "b", s, b + 0.0035) for s, b in zip((1337, 42, 2025), bpbs)]
    messages = [f.message for f in verify_record(root, reruns=far).findings if f.name == "rerun-mismatch"]
    assert len(messages) == 4  # each seed, and the mean
    assert "tolerance 0.003000" in messages[0]


def test_rerun_checks_stay_silent_without_reruns(tmp_path):
    report = verify_record(make_record(tmp_path))
    assert not {"rerun-failed", "rerun-timeout", "rerun-mismatch"} & {f.name for f in report.findings}


def test_rerun_over_the_cap_on_real_artifact_bytes(tmp_path):
    root = make_record(tmp_path)
    reruns = [fake_rerun(tmp_path, s, b, artifact_bytes=16_000_000)
              for s, b in ((1337, 1.1), (42, 1.101), (2025, 1.099))]
    report = verify_record(root, reruns=reruns)
    over = [f for f in report.findings if f.name == "size-over-cap"]
    assert len(over) == 3 and "artifact bytes on disk" in over[0].message


def test_cli_rerun_calls_rerun_record_and_verifies_its_results(tmp_path, capsys, monkeypatch):
    import golf.produce.rerun

    root = make_record(tmp_path)
    calls = {}

    def fake(record_dir, **kwargs):
        calls["dir"], calls["kwargs"] = record_dir, kwargs
        return [fake_rerun(tmp_path, 1337, 1.1), fake_rerun(tmp_path, 42, 1.101), fake_rerun(tmp_path, 2025, 1.099)]

    monkeypatch.setattr(golf.produce.rerun, "rerun_record", fake)
    status, data = cli_json(capsys, root, "--rerun", "--nproc", "2", "--seeds", "1337", "42", "2025",
                            "--timeout-per-seed", "60", "--nnodes", "2", "--rdzv-endpoint", "host:29400")
    assert status == 0
    assert Path(calls["dir"]) == root
    assert calls["kwargs"]["nproc"] == 2 and calls["kwargs"]["seeds"] == [1337, 42, 2025]
    assert calls["kwargs"]["timeout_per_seed"] == 60
    assert list(calls["kwargs"]["torchrun_args"]) == ["--nnodes", "2", "--rdzv-endpoint", "host:29400"]
    assert data["records"][0]["rerun"] is True
    assert data["records"][0]["runs"][0]["size_basis"] == "measured"


def test_cli_dry_run_prints_and_verifies_nothing(tmp_path, capsys, monkeypatch):
    import golf.produce.rerun

    root = make_record(tmp_path)
    monkeypatch.setattr(golf.produce.rerun, "rerun_record", lambda record_dir, **kw: [])
    assert main(["verify", str(root), "--rerun", "--dry-run"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_write_submission_keeps_rerun_logs_and_rewrites_the_claim(tmp_path, capsys, monkeypatch):
    import golf.produce.rerun

    root = make_record(tmp_path)
    old_claim = json.loads((root / "submission.json").read_text())
    reruns = [fake_rerun(tmp_path, 1337, 1.1003), fake_rerun(tmp_path, 42, 1.1011), fake_rerun(tmp_path, 2025, 1.0992)]
    monkeypatch.setattr(golf.produce.rerun, "rerun_record", lambda record_dir, **kw: reruns)
    status, _ = cli_json(capsys, root, "--rerun", "--write-submission")
    assert status == 0
    claim = json.loads((root / "submission.json").read_text())
    assert claim["val_bpb"] == pytest.approx((1.1003 + 1.1011 + 1.0992) / 3)
    assert claim["github_id"] == old_claim["github_id"]
    assert json.loads((root / "submission.json.bak").read_text()) == old_claim
    assert (root / "train_seed42.log").read_text() == reruns[1].log_path.read_text()
    assert (root / "train_seed42.log.bak").is_file()
    # the folder now verifies statically against its new claim
    assert verify_record(root).verdict == "pass"


def test_bad_sota_record_is_a_usage_error(tmp_path):
    root = make_record(tmp_path)
    assert main(["verify", str(root), "--sota-record", str(tmp_path / "nothing")]) == 2
    empty = make_record(tmp_path, "2026-04-01_NoRuns", seeds=(), bpbs=())
    assert main(["verify", str(root), "--sota-record", str(empty)]) == 2


def test_a_bug_on_one_folder_is_reported_and_the_others_still_verified(tmp_path, monkeypatch):
    import golf.judge.facts

    good = make_record(tmp_path)
    bad = make_record(tmp_path, "2026-04-07_Bad")
    real = golf.judge.facts.read_script

    def flaky(ctx):
        if ctx.root == bad:
            raise ZeroDivisionError("oops")
        real(ctx)

    monkeypatch.setattr(golf.judge.facts, "read_script", flaky)
    report = verify_paths([good, bad])
    assert report.records[0].verdict == "pass"
    [finding] = report.records[1].findings
    assert finding.name == "internal-error" and "ZeroDivisionError: oops" in finding.message


def test_an_unexpected_error_in_the_command_exits_two_without_a_traceback(tmp_path, capsys, monkeypatch):
    import golf.render.report

    def broken(report):
        raise KeyError("render")

    monkeypatch.setattr(golf.render.report, "render_json", broken)
    assert main(["verify", str(make_record(tmp_path)), "--json"]) == 2
    assert "golf: error: internal error: KeyError" in capsys.readouterr().err


def test_rerun_still_compares_the_shipped_logs_with_the_script(tmp_path):
    root = make_record(tmp_path, log_kwargs=[{"source": SCRIPT + "# edited\n"}, {}, {}])
    reruns = [fake_rerun(tmp_path, s, b) for s, b in ((1337, 1.1), (42, 1.101), (2025, 1.099))]
    found = [f for f in verify_record(root, reruns=reruns).findings if f.name == "source-mismatch"]
    assert [f.file for f in found] == ["train_seed1337.log"]


def test_ignored_rules_are_named_in_every_format(tmp_path, capsys):
    root = make_record(tmp_path, script=None)          # fails missing-script (G104)
    assert main(["verify", str(root), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["rules"] == {"selected": None, "ignored": [], "waivers": []}
    assert main(["verify", str(root), "--ignore", "missing-script,G302", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"code": "G104", "name": "missing-script"} in data["rules"]["ignored"]
    assert all(f["code"] not in ("G104", "G302") for f in data["records"][0]["findings"])
    assert main(["verify", str(root), "--ignore", "G104", "--format", "markdown"]) == 0
    assert "Rules ignored: `G104 missing-script`" in capsys.readouterr().out
    assert main(["verify", str(root), "--ignore", "G104"]) == 0
    assert "Rules ignored: G104 missing-script" in capsys.readouterr().out


def test_rules_explains_a_rule(capsys):
    assert main(["rules", "G703"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("G703 not-significant (error)") and "How to fix" in out
    assert main(["rules", "no-such-rule"]) == 2
    assert main(["rules", "G7", "--format", "json"]) == 0
    codes = [r["code"] for r in json.loads(capsys.readouterr().out)["rules"]]
    assert codes and all(c.startswith("G7") for c in codes)


# ---- configuration and waivers ([tool.golf] / golf.toml) ---------------------------------

def test_waiver_from_pyproject_sets_a_finding_aside_with_its_reason(tmp_path, monkeypatch, capsys):
    from fixtures.verify.kit import make_record as kit_record

    records = tmp_path / "records"
    over = kit_record(records, "2026-04-06_Over", model_bytes=16_500_000)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.golf]\nignore = ["G702"]\nrecords-root = "records"\n\n'
        '[tool.golf.waivers."records/track_10min_16mb/2026-04-06_Over"]\n'
        'G301 = "counted by hand in review #123: the model file is 15,900,000 bytes"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["verify", str(over), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    record = data["records"][0]
    assert record["verdict"] == "pass" and not [f for f in record["findings"] if f["code"] == "G301"]
    assert record["waived"][0]["code"] == "G301" and "review #123" in record["waived"][0]["reason"]
    # named as the configuration names it, relative to the file
    assert data["rules"]["waivers"] == [{"record": "records/track_10min_16mb/2026-04-06_Over", "code": "G301",
                                         "reason": "counted by hand in review #123: the model file is "
                                                   "15,900,000 bytes"}]
    assert data["rules"]["ignored"] == [{"code": "G702", "name": "few-seeds"}]
    assert data["config"].endswith("pyproject.toml")
    # the command line wins over the file; the waiver still applies
    assert main(["verify", str(over), "--ignore", "G113", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rules"]["ignored"] == [{"code": "G113", "name": "submission-oddity"}]


def test_a_waiver_without_a_reason_or_for_an_unknown_rule_is_bad_input(tmp_path, monkeypatch, capsys):
    from fixtures.verify.kit import make_record as kit_record

    record = kit_record(tmp_path / "records", "2026-04-06_Any")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "golf.toml").write_text('[waivers."records/track_10min_16mb/2026-04-06_Any"]\nG301 = ""\n')
    assert main(["verify", str(record)]) == 2
    assert "golf.toml" in capsys.readouterr().err
    (tmp_path / "golf.toml").write_text('[waivers."records/track_10min_16mb/2026-04-06_Any"]\nG999 = "why"\n')
    assert main(["verify", str(record)]) == 2
    assert "unknown rule 'G999'" in capsys.readouterr().err

"""golf submit: submission.json from the logs, schema-valid, atomic with a backup, and clear refusals."""

import hashlib
import json
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from golf.cli import main
from golf.render.submit import render_markdown
from golf.produce.submit import (SubmitOptions, build_submission, load_schema, validate_submission,
                         write_submission)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "records"
GOOD = FIXTURES / "track_10min_16mb" / "2026-04-06_Good Record"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "parameter-golf"
SCORE_RE = re.compile(r"^final_int8_zlib_roundtrip_exact val_loss:([0-9.]+) val_bpb:([0-9.]+)$", re.M)
MODEL_RE = re.compile(r"^Serialized model int8\+zlib: (\d+) bytes", re.M)


@pytest.fixture
def record(tmp_path):
    folder = tmp_path / "records" / "track_10min_16mb" / "2026-04-06_Good Record"
    shutil.copytree(GOOD, folder)
    return folder


def ruleset_variant(tmp_path, old, new):
    text = (resources.files("golf.rules") / "parameter_golf_2026.toml").read_text("utf-8")
    assert old in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1))
    return str(path)


def expected_from_logs(folder):
    """Per-log numbers read with a plain regex, independent of golf.read.logs."""
    out = {}
    for name in ("logs/seed 2025/train_seed_2025.txt", "train.log", "train_seed1337.log"):
        text = (folder / name).read_text()
        loss, bpb = SCORE_RE.findall(text)[-1]
        out[name] = (float(bpb), float(loss), int(MODEL_RE.findall(text)[-1]))
    return out


def test_happy_path_writes_a_valid_submission_from_the_logs(record, capsys):
    original = (record / "submission.json").read_text()
    assert main(["submit", str(record), "--sota", "1.21613611"]) == 0
    out, err = capsys.readouterr()
    data = json.loads((record / "submission.json").read_text())
    assert validate_submission(data) == []
    expected = expected_from_logs(record)
    code = (record / "train_gpt.py").stat().st_size
    bpbs = [v[0] for v in expected.values()]
    assert data["val_bpb"] == pytest.approx(sum(bpbs) / 3, abs=1e-12)
    assert data["val_loss"] == pytest.approx(sum(v[1] for v in expected.values()) / 3, abs=1e-12)
    assert data["bytes_code"] == code
    assert data["bytes_total"] == max(v[2] for v in expected.values()) + code
    assert data["sizes"]["byte_cap"] == 16_000_000
    runs = {r["log"]: r for r in data["runs"]}
    assert set(runs) == set(expected)                     # the duplicate train_seed42.log is not a second run
    for name, run in runs.items():
        assert run["val_bpb"] == expected[name][0]
        assert run["log_sha256"] == hashlib.sha256((record / name).read_bytes()).hexdigest()
    assert sorted(data["seeds"]) == [42, 1337, 2025]
    assert data["environment"]["torch"] == "2.8.0+cu128" and data["environment"]["python"].startswith("3.12")
    assert data["generator"]["ruleset"] == "parameter_golf_2026"
    sig = data["significance"]
    assert sig["unit"] == "nats" and sig["passed"] is True and set(sig["readings"]) == {"bpb", "nats"}
    assert sig["sota"] == 1.21613611 and sig["reference"]["source"] == "--sota"
    # identity and run block kept from the existing file
    old = json.loads(original)
    for key in ("author", "github_id", "name", "blurb", "date"):
        assert data[key] == old[key]
    assert data["run"] == old["run"]
    assert data["track"] == "track_10min_16mb"
    # the summary for the pull request
    assert "| 1337 | 1.19945102 |" in out and "**Significance (PASS):**" in out
    assert (record / "submission.json.bak").read_text() == original
    assert "wrote" in err


def test_backup_only_when_content_changes(record):
    assert main(["submit", str(record)]) == 0
    first_backup = (record / "submission.json.bak").read_text()
    assert main(["submit", str(record)]) == 0                     # same content: nothing rewritten
    assert sorted(p.name for p in record.glob("submission.json*")) == ["submission.json", "submission.json.bak"]
    before = (record / "submission.json").read_text()
    assert main(["submit", str(record), "--author", "Grace Hopper", "--env", "SEED_OFFSET=1"]) == 0
    backups = sorted(p for p in record.glob("submission.json.*bak") if p.name != "submission.json.bak")
    assert len(backups) == 1 and backups[0].read_text() == before
    assert (record / "submission.json.bak").read_text() == first_backup
    data = json.loads((record / "submission.json").read_text())
    assert data["author"] == "Grace Hopper" and data["github_id"] == "ada"
    assert data["run"]["env"] == {"NUM_LAYERS": "9", "SEED_OFFSET": "1"}


def test_command_option_and_default_run_block(record):
    assert main(["submit", str(record), "--command", "python train_gpt.py", "--dry-run"]) == 0
    data = json.loads((record / "submission.json").read_text())
    assert "run" in data and "schema_version" not in data          # dry run wrote nothing
    raw = json.loads((record / "submission.json").read_text())
    del raw["run"]
    (record / "submission.json").write_text(json.dumps(raw))
    result = build_submission(record)
    assert result.ok and result.submission["run"] == {
        "command": "torchrun --standalone --nproc_per_node=8 train_gpt.py", "env": {}}


def test_missing_things_are_listed_and_nothing_is_written(tmp_path, capsys):
    folder = tmp_path / "rec"
    shutil.copytree(FIXTURES / "no_score", folder)
    assert main(["submit", str(folder)]) == 1
    err = capsys.readouterr().err
    for fragment in ("missing author", "missing github_id", "missing track", "G201 no-score"):
        assert fragment in err
    assert not (folder / "submission.json").exists()


def test_folder_without_logs_or_script(tmp_path, capsys):
    (tmp_path / "README.md").write_text("# nothing yet\n")
    assert main(["submit", str(tmp_path), "--author", "a", "--github-id", "a", "--track", "smoke", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["written"] is False and data["submission"] is None
    text = "\n".join(data["failures"])
    assert "G105 missing-logs" in text and "G104 missing-script" in text


def test_over_the_cap(record, tmp_path, capsys):
    rules = ruleset_variant(tmp_path, "byte_cap = 16_000_000          #", "byte_cap = 15_830_000          #")
    before = (record / "submission.json").read_text()
    assert main(["submit", str(record), "--ruleset", rules]) == 1
    err = capsys.readouterr().err
    assert "G301 size-over-cap: logs/seed 2025/train_seed_2025.txt: 15,839,567 bytes" in err
    assert (record / "submission.json").read_text() == before


def test_train_time_over_the_limit_plus_tolerance(record, tmp_path, capsys):
    rules = ruleset_variant(tmp_path, "train_time_tolerance_ms = 250", "train_time_tolerance_ms = 0")
    rules_text = Path(rules).read_text().replace("train_time_limit_ms = 600_000", "train_time_limit_ms = 599_900", 1)
    Path(rules).write_text(rules_text)
    assert main(["submit", str(record), "--ruleset", rules, "--dry-run"]) == 1
    assert "G601 train-time-over: train_seed1337.log: train_time 599,950 ms" in capsys.readouterr().err
    Path(rules).write_text(rules_text.replace("train_time_tolerance_ms = 0", "train_time_tolerance_ms = 100", 1))
    assert main(["submit", str(record), "--ruleset", rules, "--dry-run"]) == 0


def test_not_significant_fails_on_a_record_track(record, capsys):
    assert main(["submit", str(record), "--sota", "1.2030", "--dry-run"]) == 1
    assert "G703 not-significant" in capsys.readouterr().err
    # the folder's place decides the track, as verify judges it: --track cannot move it off a record track
    assert main(["submit", str(record), "--sota", "1.2030", "--track", "non-record-16mb", "--dry-run"]) == 1
    elsewhere = record.parents[1] / "track_non_record_16mb" / record.name
    shutil.move(record, elsewhere)
    assert main(["submit", str(elsewhere), "--sota", "1.2030", "--dry-run"]) == 0


def test_sota_record_gives_per_run_values_and_welch(record, tmp_path):
    sota = tmp_path / "sota"
    shutil.copytree(FIXTURES / "seeds_disagree", sota)
    for log in sota.glob("*.log"):         # make the SOTA runs worse than the submission
        log.write_text(log.read_text().replace("val_bpb:1.06", "val_bpb:1.21").replace("val_bpb:1.07", "val_bpb:1.22"))
    result = build_submission(record, SubmitOptions(sota_record=sota))
    sig = result.submission["significance"]
    assert len(sig["sota_values"]) == 3 and sig["reference"]["source"].startswith("--sota-record ")
    assert sig["readings"]["bpb"]["welch"]["t"] is not None
    assert sig["sota"] == pytest.approx(sum(sig["sota_values"]) / 3)


def test_one_run_cannot_claim_a_record(tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    for name in ("README.md", "train_gpt.py", "train_seed1337.log", "submission.json"):
        shutil.copy(GOOD / name, folder / name)
    result = build_submission(folder, SubmitOptions(sota=1.3))
    assert not result.ok and any(f.startswith("G701 too-few-seeds") for f in result.failures)
    assert build_submission(folder, SubmitOptions(track="non-record-16mb")).ok


def test_schema_failures_block_the_write(record, capsys):
    assert main(["submit", str(record), "--date", "yesterday"]) == 1
    assert "schema: date:" in capsys.readouterr().err
    assert validate_submission({"schema_version": "1"})                   # many required keys missing
    result = build_submission(record)
    broken = dict(result.submission, runs=[])
    assert any(e.startswith("runs:") for e in validate_submission(broken))


def test_refuses_to_write_a_failing_result(tmp_path):
    result = build_submission(FIXTURES / "no_score")
    from golf.errors import GolfError
    with pytest.raises(GolfError, match="refusing to write"):
        write_submission(result)
    assert "nothing to summarise" in render_markdown(result)


def test_bad_env_option_is_a_usage_error(record, capsys):
    assert main(["submit", str(record), "--env", "NOEQUALS"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_schema_is_2020_12_with_a_version_and_legacy_keys():
    schema = load_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["properties"]["schema_version"]["const"] == "2"
    for key in ("val_bpb", "val_loss", "bytes_total", "bytes_code", "author", "github_id", "name", "blurb",
                "date", "track"):
        assert key in schema["properties"]
    from jsonschema import Draft202012Validator
    Draft202012Validator.check_schema(schema)


def test_corpus_record_whose_log_ran_other_code_is_refused():
    # train.log embeds a 47,642-byte source, the shipped train_gpt.py is 47,759 bytes (spec 5.7)
    folder = CORPUS / "track_10min_16mb" / "2026-03-19_TrainingOptSeq4096"
    if not folder.is_dir():
        pytest.skip("corpus not present")
    result = build_submission(folder)
    assert not result.ok and any(f.startswith("G401 source-mismatch: train.log") for f in result.failures)


def test_static_path_never_imports_torch(record):
    code = (
        "import sys\n"
        "from golf.cli import main\n"
        f"assert main(['submit', {str(record)!r}, '--dry-run', '--json']) == 0\n"
        "assert main(['stats', '--values', '1.2', '1.21', '1.19', '--sota', '1.3', '--unit', 'bpb', '--json']) == 0\n"
        "import golf.read.records, golf.rules, golf.judge.stats, golf.produce.submit\n"
        "golf.read.records.load_record(" + repr(str(record)) + ")\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --- submit = verify + write -------------------------------------------------------------------

def _record_folders(root: Path) -> list[Path]:
    from golf.read.records import find_record_dirs

    return [d for d in find_record_dirs(root) if d != root]


def _submit_agrees_with_verify(folder: Path) -> None:
    """submit refuses exactly when verify reports an error outside the claim rules, and what it writes passes."""
    from golf.judge.findings import blocking
    from golf.judge.verify import Verifier

    report = Verifier(records_root=folder.parents[1]).verify(folder)
    # a folder without a date is compared with no earlier record; an early date keeps it so once written
    identity = SubmitOptions(author="A. Person", github_id="a-person", name="A Record", track=report.track,
                             date=report.date or "2000-01-01")
    result = build_submission(folder, identity)
    errors = blocking(report.findings, allow=("claim",))
    assert result.ok == (not errors), (folder, [f.code for f in errors], result.failures)
    argv = ["submit", str(folder), "--dry-run", "--format", "json", "--author", identity.author,
            "--github-id", identity.github_id, "--name", identity.name, "--track", identity.track,
            "--date", identity.date]
    assert main(argv) == (0 if result.ok else 1)
    if not result.ok:
        assert all(any(f.startswith(e.code) for f in result.failures) for e in errors)
        return
    write_submission(result)
    again = Verifier(records_root=folder.parents[1]).verify(folder)
    assert again.passed, (folder, [(f.code, f.message) for f in again.findings if f.severity == "error"])
    assert again.summary.val_bpb_mean == result.submission["val_bpb"]


def test_what_submit_writes_verify_passes_on_every_fixture(tmp_path):
    copy = tmp_path / "records"
    shutil.copytree(FIXTURES, copy, symlinks=True)
    folders = _record_folders(copy)
    assert len(folders) >= 5
    for folder in folders:
        _submit_agrees_with_verify(folder)


def test_what_submit_writes_verify_passes_on_the_corpus(tmp_path):
    if not CORPUS.is_dir():
        pytest.skip("corpus not present")
    copy = tmp_path / "records"
    shutil.copytree(CORPUS, copy, symlinks=True)
    for folder in _record_folders(copy):
        _submit_agrees_with_verify(folder)


def test_submit_keeps_the_listed_reproductions_and_their_pooled_significance(tmp_path):
    from fixtures.verify.kit import pooled_tree
    from golf.judge.verify import Verifier

    base, new = pooled_tree(tmp_path)
    listed = json.loads((new / "submission.json").read_text())["reproductions"]
    result = build_submission(new, SubmitOptions())
    assert result.ok, result.failures
    assert result.submission["reproductions"] == listed
    assert result.submission["significance"]["passed"] and result.submission["significance"]["n"] == 5
    assert len(result.submission["runs"]) == 2
    write_submission(result)
    assert Verifier().verify(new).passed

"""golf leaderboard: verified scores per track, marks on failing records, the README section."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from golf.cli import main
from golf.errors import GolfError
from golf.render.leaderboard import MARK_END, MARK_START, build_rows, render_markdown, write_readme
from golf.judge.verify import verify_record

# A tiny stand-in for a record's script: test data only, golf never runs it.
SCRIPT = '''"""A tiny stand-in trainer used only as test data; golf never runs it."""
import os

print("seed", os.environ.get("SEED"))
'''


def log_text(script: str, seed: int, bpb: float, ratio: float = 1.69) -> str:
    """A log in the baseline format (spec 1.12) with the script's source embedded at the top."""
    loss = bpb * ratio
    code = len(script.encode())
    model = 20000 + seed % 97
    lines = [
        "=" * 100, "Running Python 3.11.7", "Running PyTorch 2.13.0+cpu", "=" * 100,
        "val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=data/tokenizers/smoke_1024_bpe.model",
        "train_loader:dataset:smoke_sp1024 train_shards:1",
        "val_loader:shards pattern=data/datasets/smoke_sp1024/fineweb_val_*.bin tokens:16384",
        "model_params:123456", "world_size:2 grad_accum_steps:4",
        "train_batch_tokens:8192 train_seq_len:128 iterations:20 warmup_steps:0 max_wallclock_seconds:60.000",
        f"seed:{seed}",
        "step:0/20 val_loss:6.9300 val_bpb:4.1000 train_time:0ms step_avg:0.00ms",
        "step:1/20 train_loss:6.9000 train_time:250ms step_avg:250.00ms",
        f"step:20/20 val_loss:{loss:.4f} val_bpb:{bpb:.4f} train_time:5000ms step_avg:250.00ms",
        "peak memory allocated: 0 MiB reserved: 0 MiB",
        "Serialized model: 500000 bytes", f"Code size: {code} bytes", f"Total submission size: {500000 + code} bytes",
        f"Serialized model int8+zlib: {model} bytes (payload:30000 raw_torch:50000 payload_ratio:1.50x)",
        f"Total submission size int8+zlib: {model + code} bytes",
        f"final_int8_zlib_roundtrip val_loss:{loss:.4f} val_bpb:{bpb:.4f} eval_time:900ms",
        f"final_int8_zlib_roundtrip_exact val_loss:{loss:.8f} val_bpb:{bpb:.8f}",
    ]
    return script + "\n" + "\n".join(lines) + "\n"


def write_record(folder: Path, scores: dict[int, float], *, name: str = "Tiny", author: str = "Ada",
                 date: str = "2026-04-06", track: str = "smoke", claim: float | None = None,
                 blurb: str = "A tiny test record.") -> Path:
    """A record folder: script, one baseline-format log per seed, submission.json, README."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    (folder / "train_gpt.py").write_text(SCRIPT)
    for seed, bpb in scores.items():
        (folder / f"train_seed{seed}.log").write_text(log_text(SCRIPT, seed, bpb))
    mean = statistics.mean(scores.values())
    submission = {"name": name, "author": author, "github_id": author.lower(), "date": date, "track": track,
                  "blurb": blurb, "val_bpb": round(mean, 8) if claim is None else claim, "seeds": sorted(scores)}
    (folder / "submission.json").write_text(json.dumps(submission, indent=2))
    (folder / "README.md").write_text(f"# {name}\n\n{blurb}\n\n```bash\n"
                                      "torchrun --standalone --nproc_per_node=2 train_gpt.py\n```\n")
    return folder


def make_tree(root: Path) -> Path:
    """records/ with two smoke records that pass, one whose claim the logs contradict, one non-record."""
    records = root / "records"
    write_record(records / "track_smoke" / "2026-04-06_Slow", {1337: 1.71, 42: 1.72, 2025: 1.715},
                 name="Slow | steady", author="Ada", date="2026-04-06", blurb="Baseline\nat tiny size.")
    write_record(records / "track_smoke" / "2026-04-08_Fast", {1337: 1.61, 42: 1.62, 2025: 1.615},
                 name="Fast", author="Bo", date="2026-04-08", blurb="Better schedule.")
    write_record(records / "track_smoke" / "2026-04-07_Claims Too Much", {1337: 1.66, 42: 1.67, 2025: 1.665},
                 name="Claims too much", author="Cy", date="2026-04-07", claim=1.50, blurb="Optimistic.")
    write_record(records / "track_non_record_16mb" / "2026-04-09_Study", {7: 1.9, 8: 1.91},
                 name="Study", author="Di", date="2026-04-09", track="non-record-16mb", blurb="x" * 300)
    return records


def test_rows_use_verified_scores_sorted_per_track_with_failures_marked(tmp_path):
    records = make_tree(tmp_path)
    rows = build_rows(records)

    assert [(r.track, r.run) for r in rows] == [
        ("track_non_record_16mb", "Study"),
        ("track_smoke", "Fast"), ("track_smoke", "Claims too much"), ("track_smoke", "Slow \\| steady")]
    by_run = {r.run: r for r in rows}
    for r in rows:
        report = verify_record(r.folder, records_root=records)
        assert r.verdict == report.verdict
        assert r.score == pytest.approx(report.summary.val_bpb_mean)
    assert by_run["Fast"].score == pytest.approx(1.615) and by_run["Fast"].verdict == "pass"
    bad = by_run["Claims too much"]
    assert bad.score == pytest.approx(1.665) and bad.claimed == 1.50          # the verified score, not the claim
    assert bad.verdict == "fail" and "claim-mismatch" in bad.failing
    assert by_run["Slow \\| steady"].summary == "Baseline at tiny size."
    assert by_run["Study"].summary.endswith("…") and len(by_run["Study"].summary) == 140


def test_markdown_table(tmp_path):
    records = make_tree(tmp_path)
    text = render_markdown(build_rows(records), tmp_path)
    assert "| Run | Score | Author | Summary | Date | Info |" in text
    smoke = text[text.index("### track_smoke"):]
    lines = [line for line in smoke.splitlines() if line.startswith("| ") and "Run | Score" not in line]
    assert lines[0] == ("| Fast | 1.6150 | Bo | Better schedule. | 2026-04-08 | "
                        "[info](records/track_smoke/2026-04-08_Fast/README.md) |")
    assert lines[1].startswith("| Claims too much | 1.6650 ✗ | Cy |")
    assert "[info](records/track_smoke/2026-04-07_Claims%20Too%20Much/README.md)" in lines[1]
    assert "✗ Claims too much: fails verification (`claim-mismatch`" in smoke
    assert text.index("### track_non_record_16mb") < text.index("### track_smoke")   # ruleset order


def test_track_filter_and_json(tmp_path, capsys, monkeypatch):
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["leaderboard", "--track", "smoke", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [row["run"] for row in data["rows"]] == ["Fast", "Claims too much", "Slow \\| steady"]
    assert {row["track"] for row in data["rows"]} == {"track_smoke"}
    fast = data["rows"][0]
    assert fast["score"] == pytest.approx(1.615) and fast["verdict"] == "pass" and fast["failing_rules"] == []
    assert fast["info"] == "records/track_smoke/2026-04-08_Fast/README.md"
    assert main(["leaderboard", "--track", "nonsense"]) == 2
    assert "unknown track" in capsys.readouterr().err


def test_write_and_check_the_readme_section(tmp_path, capsys):
    records = make_tree(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# Project\n\nIntro.\n\n## Leaderboard\n\n{MARK_START}\nold table\n{MARK_END}\n\n## After\n")
    original = readme.read_text()

    assert main(["leaderboard", "--records", str(records), "--check", str(readme)]) == 1
    assert "-old table" in capsys.readouterr().out

    assert main(["leaderboard", "--records", str(records), "--write", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# Project\n\nIntro.\n\n## Leaderboard\n\n" + MARK_START)
    assert text.endswith(MARK_END + "\n\n## After\n") and "old table" not in text
    assert "[info](records/track_smoke/2026-04-08_Fast/README.md)" in text
    # Only the generated section changed, so no backup is left for a workflow to commit by accident.
    assert not (tmp_path / "README.md.bak").exists() and original.split(MARK_START)[0] in text

    capsys.readouterr()
    assert main(["leaderboard", "--records", str(records), "--check", str(readme)]) == 0
    assert main(["leaderboard", "--records", str(records), "--write", str(readme)]) == 0
    assert "already up to date" in capsys.readouterr().err

    # A new record makes the section stale.
    write_record(records / "track_smoke" / "2026-05-05_Faster", {1: 1.5, 2: 1.51}, name="Faster", date="2026-05-05")
    assert main(["leaderboard", "--records", str(records), "--check", str(readme)]) == 1
    assert "+| Faster | 1.5050 |" in capsys.readouterr().out


def test_missing_markers_is_a_clear_error_and_changes_nothing(tmp_path, capsys):
    records = make_tree(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text("# No markers here\n")
    assert main(["leaderboard", "--records", str(records), "--write", str(readme)]) == 2
    err = capsys.readouterr().err
    assert "markers are missing" in err and MARK_START in err and MARK_END in err
    assert readme.read_text() == "# No markers here\n" and not (tmp_path / "README.md.bak").exists()
    with pytest.raises(GolfError, match="once each"):
        readme.write_text(f"{MARK_END}\n{MARK_START}\n")
        write_readme(readme, build_rows(records))


def test_missing_records_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["leaderboard"]) == 2
    assert "no records folder" in capsys.readouterr().err
    (tmp_path / "records").mkdir()
    assert main(["leaderboard"]) == 0
    assert "No record folders" in capsys.readouterr().out


def test_leaderboard_never_imports_torch(tmp_path):
    import subprocess
    import sys

    records = make_tree(tmp_path)
    code = ("import sys\nfrom golf.cli import main\n"
            f"rc = main(['leaderboard', '--records', {str(records)!r}, '--format', 'json'])\n"
            "assert rc == 0, rc\nassert 'torch' not in sys.modules, 'torch was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_rows_are_judged_by_the_ruleset_of_their_date_and_the_config(tmp_path, capsys, monkeypatch):
    from golf.cli import main

    records = make_tree(tmp_path / "repo")
    late = write_record(records / "track_smoke" / "2026-05-01_Late", {1337: 1.601, 42: 1.603, 2025: 1.602},
                        name="Late", date="2026-05-01", claim=1.40)
    rows = {r.run: r for r in build_rows(records)}
    assert rows["Late"].verdict == verify_record(late, records_root=records).verdict == "fail"
    assert verify_record(late, records_root=records).stats["ruleset"]["name"] == "parameter_golf_2026_practice"
    # the config's records-root replaces --records, and its waiver (with a reason) turns the row's verdict
    (tmp_path / "repo" / "golf.toml").write_text(
        'records-root = "records"\n\n[waivers."records/track_smoke/2026-05-01_Late"]\n'
        'claim-mismatch = "the claim was a typo, fixed in review"\n')
    monkeypatch.chdir(tmp_path / "repo")
    assert main(["leaderboard", "--format", "json"]) == 0
    late_row = next(r for r in json.loads(capsys.readouterr().out)["rows"] if r["run"] == "Late")
    assert late_row["verdict"] == "pass"

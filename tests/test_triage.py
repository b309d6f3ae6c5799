"""Triage of a whole queue (issue 25) and runs as practised (issue 19, part 4): a bad path in a batch is its own
entry, folders holding only .txt logs are records, logs that are not runs stay out of the mean, claimed
evaluation times are read in the unit their field names, G510 needs train-side evidence, the train-time
tolerance is ruleset data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures.verify.kit import SCRIPT, default_submission, log_text, make_record
from golf.cli import main
from golf.judge.checks.timing import claimed_time_ms
from golf.judge.verify import exit_status, verify_paths, verify_record
from golf.read.records import find_record_dirs, is_record_dir

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def codes(report) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in report.findings:
        out.setdefault(f.code, []).append(f.message)
    return out


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- a batch reports every path ------------------------------------------------------------------

def test_a_batch_reports_every_path_and_names_the_bad_ones(tmp_path, capsys):
    good = make_record(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "note.md").write_text("hello\n")
    missing = tmp_path / "nonexistent" / "bogus"
    code, out, err = run_cli(capsys, "verify", str(good), str(tmp_path / "empty"), str(tmp_path / "note.md"),
                             str(missing), "--format", "json")
    doc = json.loads(out)
    by_path = {r["path"]: r for r in doc["records"]}
    assert by_path[str(good)]["verdict"] == "pass"
    for bad, why in ((tmp_path / "empty", "no record folder found"), (tmp_path / "note.md", "not a folder"),
                     (missing, "no such file or folder")):
        [finding] = by_path[str(bad)]["findings"]
        assert finding["code"] == "G099" and why in finding["message"] and str(bad) in finding["message"]
        assert str(bad) in err
    assert code == 2   # the worst of the batch: bad input


def test_a_batch_report_with_bad_paths_validates_against_the_schema(tmp_path, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json").read_text())
    good = make_record(tmp_path)
    _, out, _ = run_cli(capsys, "verify", str(good), str(tmp_path / "missing"), "--format", "json")
    jsonschema.validate(json.loads(out), schema)


def test_exit_status_is_the_worst_of_the_batch(tmp_path):
    passing = make_record(tmp_path / "a")
    failing = make_record(tmp_path / "b", bpbs=(1.1, 1.2, 1.3), submission=default_submission((1337, 42, 2025),
                                                                                                (1.0, 1.0, 1.0)))
    assert exit_status(verify_paths([passing])) == 0
    assert exit_status(verify_paths([passing, failing])) == 1
    assert exit_status(verify_paths([passing, failing, tmp_path / "nope"])) == 2


def test_one_bad_path_alone_is_still_a_clear_error(tmp_path, capsys):
    code, _, err = run_cli(capsys, "verify", str(tmp_path / "nope"))
    assert code == 2 and "no such file or folder" in err and "Traceback" not in err


# ---- record folders are recognised by any log golf reads ------------------------------------------

def test_a_folder_holding_only_txt_logs_is_a_record_folder(tmp_path):
    folder = tmp_path / "records" / "track_10min_16mb" / "2026-04-06_TxtOnly"
    folder.mkdir(parents=True)
    (folder / "train_v1.txt").write_text(log_text(seed=1, val_bpb=1.1), encoding="utf-8")
    assert is_record_dir(folder)
    assert find_record_dirs(tmp_path / "records") == [folder]
    report = verify_paths([tmp_path / "records"])
    assert [r.path for r in report.records] == [str(tmp_path / "records" / "track_10min_16mb" /
                                                   "2026-04-06_TxtOnly")]
    assert report.records[0].runs and report.records[0].runs[0].val_bpb == pytest.approx(1.1)


def test_documentation_txt_files_do_not_make_a_record_folder(tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "requirements.txt").write_text("torch\n")
    (folder / "ideas.txt").write_text("try a bigger model\n")
    assert not is_record_dir(folder)


def test_hidden_folders_are_not_searched_for_records(tmp_path):
    hidden = tmp_path / "records" / ".ipynb_checkpoints"
    hidden.mkdir(parents=True)
    (hidden / "train-checkpoint.log").write_text(log_text(seed=1, val_bpb=1.1), encoding="utf-8")
    assert find_record_dirs(tmp_path / "records") == []


# ---- which logs are runs --------------------------------------------------------------------------

def test_a_jupyter_autosave_is_not_a_run(tmp_path):
    root = make_record(tmp_path)
    autosave = root / ".ipynb_checkpoints" / "train-checkpoint.log"
    autosave.parent.mkdir()
    autosave.write_text(log_text(seed=7, val_bpb=1.5), encoding="utf-8")
    report = verify_record(root)
    assert report.summary.n_runs == 3 and report.summary.val_bpb_mean == pytest.approx(1.1)
    assert ".ipynb_checkpoints/train-checkpoint.log" not in {r.log for r in report.runs}
    [note] = codes(report)["G513"]
    assert ".ipynb_checkpoints/train-checkpoint.log" in note and "checkpoint" in note
    assert report.verdict == "pass"


def _with_extra_log(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize("setting", ["DIAGNOSTIC_RUN=1", "ablation: true", "RUN_KIND=ablation_no_ema"])
def test_diagnostic_and_ablation_logs_are_listed_and_left_out_of_the_mean(tmp_path, setting):
    root = make_record(tmp_path, submission=None)
    (root / "submission.json").write_text(json.dumps(dict(default_submission((1337, 42, 2025),
                                                                             (1.1, 1.101, 1.099)), seeds=[])))
    key, _, value = setting.replace("=", ": ").partition(": ")
    text = f"Hyperparameters:\n  {key.lower()}: {value}\n" + log_text(seed=99, val_bpb=1.3, source=None)
    _with_extra_log(root, "train_diag.log", text)
    report = verify_record(root)
    assert report.summary.n_runs == 3 and report.summary.val_bpb_mean == pytest.approx(1.1)
    [note] = codes(report)["G513"]
    assert "train_diag.log" in note and "diagnostic or ablation" in note and key.lower() in note
    assert "G205" not in codes(report)


def test_a_diagnostics_interval_is_not_a_diagnostic_run(tmp_path):
    root = make_record(tmp_path, seeds=(1,), bpbs=(1.1,))
    text = "Hyperparameters:\n  diagnostics_every: 100\n" + log_text(seed=1, val_bpb=1.1, source=None)
    (root / "train_seed1.log").write_text(text, encoding="utf-8")
    report = verify_record(root)
    assert report.summary.n_runs == 1 and "G513" not in codes(report)


@pytest.mark.parametrize("marker", ["TTT_EVAL_ONLY=1: skipping training, loading final_model.int8.ptz",
                                    "=== EVAL-ONLY START 2026-04-16T03:50:43Z ==="])
def test_an_eval_only_rescoring_is_not_a_run_nor_a_repeated_seed(tmp_path, marker):
    root = make_record(tmp_path)
    text = log_text(seed=42, val_bpb=1.1012, source=None)
    _with_extra_log(root, "eval_seed42.log", marker + "\n" + text)
    report = verify_record(root)
    found = codes(report)
    assert report.summary.n_runs == 3 and "G503" not in found   # seed 42 is not run twice
    [note] = found["G513"]
    assert "eval_seed42.log" in note and "eval-only" in note and "line 1" in note


def test_eval_only_rescorings_stay_when_the_training_logs_hold_no_score(tmp_path):
    root = make_record(tmp_path, seeds=(1, 2), bpbs=(1.1, 1.102), log_kwargs=[{"complete": False}] * 2,
                       submission=default_submission((1, 2), (1.1, 1.102)))
    for seed, bpb in ((1, 1.1), (2, 1.102)):
        _with_extra_log(root, f"eval_seed{seed}.log",
                        "=== EVAL-ONLY START ===\n" + log_text(seed=seed, val_bpb=bpb, source=None))
    report = verify_record(root)
    assert sorted(r.log for r in report.runs if r.val_bpb is not None) == ["eval_seed1.log", "eval_seed2.log"]
    assert report.summary.val_bpb_mean == pytest.approx(1.101)


def test_a_seed_listed_by_file_name_matches_a_log_whose_own_seed_line_differs(tmp_path):
    submission = default_submission((0, 42), (1.1, 1.102))
    root = make_record(tmp_path, seeds=(0, 42), bpbs=(1.1, 1.102), submission=submission)
    text = (root / "train_seed0.log").read_text().replace("seed:0\n", "seed:1337\n")
    (root / "train_seed0.log").write_text(text)
    report = verify_record(root)
    assert report.summary.n_runs == 2 and "G513" not in codes(report)
    assert "G502" in codes(report)   # the disagreement itself is still reported


def test_eval_only_words_inside_the_embedded_source_do_not_count(tmp_path):
    root = make_record(tmp_path, script=SCRIPT + "\nprint('skipping training')\n")
    report = verify_record(root)
    assert report.summary.n_runs == 3 and "G513" not in codes(report)


def test_a_loaded_checkpoint_without_training_is_an_eval_only_rescoring(tmp_path):
    root = make_record(tmp_path)
    lines = log_text(seed=1337, val_bpb=1.1, source=None).splitlines()
    kept = [line for line in lines if not line.startswith(("step:", "stopping_early"))]
    kept.insert(0, "Hyperparameters:\n  load_checkpoint_path: outputs/seed1337/final_model.pt")
    _with_extra_log(root, "rescore_1337.log", "\n".join(kept) + "\n")
    report = verify_record(root)
    assert report.summary.n_runs == 3
    [note] = codes(report)["G513"]
    assert "rescore_1337.log" in note and "load_checkpoint_path" in note


def test_a_loaded_checkpoint_that_then_trains_is_a_run(tmp_path):
    root = make_record(tmp_path, seeds=(1,), bpbs=(1.1,))
    text = "Hyperparameters:\n  load_checkpoint_path: init.pt\n" + log_text(seed=1, val_bpb=1.1, source=None)
    (root / "train_seed1.log").write_text(text, encoding="utf-8")
    report = verify_record(root)
    assert report.summary.n_runs == 1 and "G513" not in codes(report)


def test_the_seeds_submission_json_lists_decide_which_logs_are_runs(tmp_path):
    submission = default_submission((42, 1337, 2024), (1.1, 1.101, 1.099))
    submission["submittable_seeds"] = ["42", "1337", "2024_5pct"]
    root = make_record(tmp_path, seeds=(42, 1337, 2024, 2024), bpbs=(1.1, 1.101, 1.3, 1.099),
                       log_names=["train_seed42.log", "train_seed1337.log", "train_seed2024_3pct.log",
                                  "train_seed2024_5pct.log"], submission=submission)
    report = verify_record(root)
    assert sorted(r.log for r in report.runs) == ["train_seed1337.log", "train_seed2024_5pct.log",
                                                  "train_seed42.log"]
    assert report.summary.val_bpb_mean == pytest.approx(1.1)
    [note] = codes(report)["G513"]
    assert "train_seed2024_3pct.log" in note and "submittable_seeds" in note


def test_the_logs_submission_json_lists_decide(tmp_path):
    submission = default_submission((1, 2), (1.1, 1.102))
    submission["seed_results"] = {"1": {"val_bpb": 1.1, "log": "train_seed1.log"},
                                  "2": {"val_bpb": 1.102, "log": "train_seed2.log"}}
    root = make_record(tmp_path, seeds=(1, 2, 3), bpbs=(1.1, 1.102, 1.4), submission=submission)
    report = verify_record(root)
    assert sorted(r.log for r in report.runs) == ["train_seed1.log", "train_seed2.log"]
    assert "train_seed3.log" in codes(report)["G513"][0]


def test_a_list_naming_none_of_the_logs_sets_nothing_aside(tmp_path):
    submission = default_submission((1, 2), (1.1, 1.102))
    submission["seeds"] = [7, 8]
    root = make_record(tmp_path, seeds=(1, 2), bpbs=(1.1, 1.102), submission=submission)
    report = verify_record(root)
    assert report.summary.n_runs == 2 and "G513" not in codes(report)
    assert "G211" in codes(report)   # the claim names seeds no log ran


def test_a_list_whose_logs_are_not_the_claim_decides_nothing(tmp_path):
    # As in GDN_Hybrid_LongContext: the seeds listed name logs whose mean is not the claimed one.
    submission = default_submission((1, 2), (1.1, 1.102))
    submission["val_bpb"] = 1.2
    root = make_record(tmp_path, seeds=(1, 2, 3), bpbs=(1.1, 1.102, 1.3), submission=submission)
    report = verify_record(root)
    assert report.summary.n_runs == 3 and "G513" not in codes(report)
    assert "G205" in codes(report)   # the claim checks report the mismatch


def test_declared_groups_are_judged_as_declared_not_averaged(tmp_path):
    seeds = (1, 2, 3)
    original, rerun = (1.1000, 1.1010, 1.0990), (1.0900, 1.0910, 1.0890)
    submission = default_submission(seeds, rerun)
    submission["groups"] = {"original": [f"train_seed{s}.log" for s in seeds],
                            "compliance_rerun": [f"rerun/train_seed{s}.log" for s in seeds]}
    root = make_record(tmp_path, seeds=seeds + seeds, bpbs=original + rerun,
                       log_names=[f"train_seed{s}.log" for s in seeds] + [f"rerun/train_seed{s}.log" for s in seeds],
                       submission=submission)
    report = verify_record(root)
    found = codes(report)
    assert sorted(r.log for r in report.runs) == [f"rerun/train_seed{s}.log" for s in seeds]
    assert report.summary.val_bpb_mean == pytest.approx(1.09)
    assert "G503" not in found and "G205" not in found
    notes = " | ".join(found["G513"])
    assert "'compliance_rerun'" in notes and "judged as the record's runs" in notes
    assert "train_seed1.log: not counted as a run: in the declared group 'original'" in notes


def test_groups_on_run_entries_are_declared_groups(tmp_path):
    seeds = (1, 2)
    submission = default_submission(seeds, (1.1, 1.102))
    submission["runs"] = [{"seed": s, "log": f"train_seed{s}.log", "group": "main"} for s in seeds] + \
                         [{"seed": s, "log": f"extra_seed{s}.log", "group": "tuning"} for s in seeds]
    root = make_record(tmp_path, seeds=seeds + seeds, bpbs=(1.1, 1.102, 1.3, 1.31),
                       log_names=["train_seed1.log", "train_seed2.log", "extra_seed1.log", "extra_seed2.log"],
                       submission=submission)
    report = verify_record(root)
    assert sorted(r.log for r in report.runs) == ["train_seed1.log", "train_seed2.log"]


# ---- G602: units from the field name --------------------------------------------------------------

@pytest.mark.parametrize("name, value, ms", [
    ("eval_time_ms_max", 512_345, 512_345),
    ("eval_time_ms_total", 580_000, 580_000),
    ("eval_time_ms_mean", 455.5, 455.5),
    ("eval_time_seconds", 69.881, 69_881),      # 2026-03-19_SlidingWindowEval and others in the corpus
    ("total_eval_time_seconds", 120, 120_000),
    ("eval_time_s", 500, 500_000),
    ("eval_s", 577.5, 577_500),                 # seed_results of legality/legal-P1-...-wrapped-pr1812
    ("eval_time", 79.4, 79_400),                # no unit word: seconds
    ("eval_time_minutes", 9, 540_000),
    ("train_time_seconds", 590, None),          # not an evaluation time
    ("training_time_seconds", 600, None),
    ("wallclock_seconds", 600.028, None),
])
def test_claimed_eval_times_are_read_in_the_unit_their_field_names(name, value, ms):
    got = claimed_time_ms(name, value)
    assert got == (pytest.approx(ms) if ms is not None else None)


def test_milliseconds_fields_under_the_limit_do_not_fail_a_record(tmp_path):
    submission = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    submission.update(eval_time_ms_max=581_234, eval_time_ms_total=1_500, eval_time_ms_mean=540_000.5)
    root = make_record(tmp_path, submission=submission)
    assert "G602" not in codes(verify_record(root))
    submission["eval_time_ms_max"] = 612_000
    (root / "submission.json").write_text(json.dumps(submission))
    [message] = codes(verify_record(root))["G602"]
    assert "eval_time_ms_max" in message and "612.0 s" in message


# ---- G510 only from train-side evidence; a truncated validation set is G508 -----------------------

def test_a_truncated_validation_set_is_g508_not_overlap(tmp_path):
    root = make_record(tmp_path, log_kwargs=[{"val_tokens": 262_144}] * 3)
    found = codes(verify_record(root))
    assert "G510" not in found
    assert any("262,144" in m and "62,021,632" in m for m in found["G508"])


def test_more_train_shards_than_the_canonical_export_is_overlap(tmp_path):
    root = make_record(tmp_path)
    for log in root.glob("train_seed*.log"):
        log.write_text(log.read_text().replace("train_shards:10", "train_shards:1499"))
    [first, *_] = codes(verify_record(root))["G510"]
    assert "train_shards 1,499" in first and "80" in first


def test_a_doubled_datasets_path_in_the_training_data_is_overlap(tmp_path):
    root = make_record(tmp_path)
    for log in root.glob("train_seed*.log"):
        log.write_text(log.read_text().replace(
            "train_shards:10", "train_shards:10 train_files=./data/datasets/datasets/fineweb10B_sp1024/fineweb_train_*.bin"))
    found = codes(verify_record(root))
    assert any("doubled datasets/datasets path in the training data (train_files)" in m for m in found["G510"])
    assert "G511" not in found


def test_a_doubled_path_on_the_validation_side_only_is_a_nonstandard_export(tmp_path):
    root = make_record(tmp_path)
    for log in root.glob("train_seed*.log"):
        log.write_text(log.read_text().replace("./data/datasets/", "./data/datasets/datasets/"))
    found = codes(verify_record(root))
    assert "G510" not in found and any("(pattern)" in m for m in found["G511"])


# ---- the train-time tolerance is ruleset data -----------------------------------------------------

@pytest.mark.parametrize("ruleset, fails", [("parameter_golf_2026", True), ("parameter_golf_2026_practice", False)])
def test_365_ms_over_the_cap_is_accepted_in_practice_only(tmp_path, ruleset, fails):
    root = make_record(tmp_path, log_kwargs=[{"train_time_ms": 600_365}] * 3)
    found = codes(verify_record(root, ruleset=ruleset))
    assert ("G601" in found) is fails
    assert ("G604" in found) is not fails


# ---- the real corpus, when present ----------------------------------------------------------------

@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_the_corpus_and_a_bogus_path_in_one_call(capsys):
    folders = [CORPUS / "parameter-golf", CORPUS / "legality"]
    code, out, err = run_cli(capsys, "verify", *map(str, folders), "/nonexistent/bogus", "--format", "json",
                             "--ruleset", "parameter_golf_2026_practice")
    doc = json.loads(out)
    paths = {r["path"] for r in doc["records"]}
    expected = {str(d) for base in folders for d in find_record_dirs(base)}
    assert expected <= paths and len(expected) == 31
    [bogus] = [r for r in doc["records"] if r["path"] == "/nonexistent/bogus"]
    assert bogus["findings"][0]["code"] == "G099" and "no such file or folder" in bogus["findings"][0]["message"]
    assert code == 2 and "/nonexistent/bogus" in err


def test_a_collection_with_its_own_readme_is_searched_for_records(tmp_path):
    collection = tmp_path / "legality"
    a, b = make_record(collection, "a", track=None), make_record(collection, "b", track=None)
    (collection / "README.md").write_text("# Labelled picks\n")
    assert not is_record_dir(collection)
    assert sorted(find_record_dirs(collection)) == [a, b]


def test_a_readme_beside_a_folder_of_logs_is_one_record(tmp_path):
    root = tmp_path / "2026-04-06_LogsOnly"
    (root / "logs").mkdir(parents=True)
    (root / "README.md").write_text("# Logs in a subfolder\n")
    (root / "logs" / "train0.txt").write_text(log_text(seed=0, val_bpb=1.1), encoding="utf-8")
    assert find_record_dirs(root) == [root]

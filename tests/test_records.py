"""Record folders as data: self-written fixtures for every case, then the real corpus when present."""

import shutil
from pathlib import Path

import pytest

from golf.errors import GolfError
from golf.read.records import filename_seed, find_record_dirs, load_record, normalise_submission

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "records"
GOOD = FIXTURES / "track_10min_16mb" / "2026-04-06_Good Record"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "parameter-golf"


def log_of(record, path):
    """The record's log at `path` (relative to the folder)."""
    return next(log for log in record.logs if log.path == path)


def corpus_record(track, name):
    folder = CORPUS / track / name
    if not folder.is_dir():
        pytest.skip("corpus not present")
    return load_record(folder)


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

def test_good_record_files_readme_scripts():
    record = load_record(GOOD)
    assert "logs/seed 2025/train_seed_2025.txt" in record.files
    assert record.readme_path == "README.md" and record.readme.startswith("# Good Record")
    assert record.scripts == ["train_gpt.py"] and record.script == "train_gpt.py"
    assert record.track_dir == "track_10min_16mb"
    assert record.name == "Good Record"
    assert record.skipped == []


def test_good_record_logs_and_duplicates():
    record = load_record(GOOD)
    paths = [log.path for log in record.logs]
    # requirements.txt and notes.txt are not logs; the nested log with spaces is
    assert paths == ["logs/seed 2025/train_seed_2025.txt", "train.log", "train_seed1337.log", "train_seed42.log"]
    assert log_of(record, "train_seed42.log").duplicate_of == "train.log"
    assert log_of(record, "train.log").duplicate_of is None
    assert [log.path for log in record.unique_logs] == paths[:3]
    for log in record.logs:
        assert log.run is not None and log.run.complete
        assert len(log.sha256) == 64 and log.size == (GOOD / log.path).stat().st_size
    assert log_of(record, "train_seed1337.log").run.scores[-1].val_bpb == 1.19945102


def test_good_record_seeds_from_log_filename_and_json():
    record = load_record(GOOD)
    nested = log_of(record, "logs/seed 2025/train_seed_2025.txt")
    assert nested.seed == 2025 and nested.seed_sources == {"log": 2025, "filename": 2025, "json": 2025}
    # seed 1337 has no log named in the JSON: its result matches exactly one log's score
    assert log_of(record, "train_seed1337.log").seed_sources["json"] == 1337
    assert not any(log.seeds_disagree for log in record.logs)


def test_good_record_submission_is_normalised():
    sub = load_record(GOOD).submission
    assert (sub.author, sub.github_id, sub.name, sub.track, sub.date) == (
        "Ada Lovelace", "ada", "Good Record", "10min_16mb", "2026-04-06")
    assert sub.seeds == [42, 1337, 2025] and set(sub.seed_results) == {42, 1337, 2025}
    assert sub.bytes_code == (GOOD / "train_gpt.py").stat().st_size
    assert sub.raw["run"]["command"].startswith("torchrun")
    assert sub.problems == []


def test_bpb_stored_under_val_loss_is_flagged_not_guessed():
    record = load_record(FIXTURES / "legacy" / "2026-03-20_bpb_under_val_loss")
    assert record.submission.val_bpb is None and record.submission.val_loss == 1.14276
    assert any("may hold the bpb" in p for p in record.submission_problems)


def test_alternative_names_and_types():
    record = load_record(FIXTURES / "legacy" / "2026-03-24_alt_names")
    sub = record.submission
    assert sub.path == "submission_ternary.json"
    assert sub.val_bpb == 1.1570 and sub.keys["val_bpb"] == "mean_val_bpb"
    assert sub.val_loss is None and any("`val_loss` is not finite" in p for p in sub.problems)
    assert sub.val_bpb_std == 0.0007 and any("`val_bpb_std` is a string" in p for p in sub.problems)
    assert sub.bytes_total == 15993853 and any("artifact_bytes" in p and "exclude" in p for p in sub.problems)
    assert sub.bytes_code == 70853 and sub.bytes_model == 15920000
    assert sub.seeds == [1337, 42, 7]                     # a dict of seeds, keys like seed42 and s7
    assert set(sub.seed_results) == {1337}
    assert any("`seed_results` key 'x'" in p for p in sub.problems)
    assert any("`blurb` is null" in p for p in sub.problems)
    assert sub.raw["p_value"] == "<0.001"                # kept raw
    assert log_of(record, "ternary_log_1337.txt").seed_sources == {"log": 1337, "filename": 1337, "json": 1337}


def test_invalid_json_is_a_problem_not_an_exception():
    record = load_record(FIXTURES / "legacy" / "invalid_json")
    assert record.submission is None
    assert record.submission_problems and "invalid JSON" in record.submission_problems[0]
    assert "submission.json" in record.submission_problems[0]
    assert len(record.logs) == 1


def test_wrong_types_become_problems():
    record = load_record(FIXTURES / "legacy" / "wrong_types")
    sub = record.submission
    assert sub.author is None and sub.name is None and sub.val_bpb is None and sub.val_loss is None
    assert sub.bytes_total is None and sub.bytes_code is None and sub.seeds == []
    text = "\n".join(record.submission_problems)
    for fragment in ("`author` must be text", "`github_id` is null", "`val_bpb` is not a number",
                     "`val_loss` is a boolean", "`bytes_total` is not a whole number", "`seeds` must be",
                     "`seed_results` must be", "`runs` must be"):
        assert fragment in text


def test_json_that_is_not_an_object():
    record = load_record(FIXTURES / "legacy" / "not_an_object")
    assert record.submission is None and "expected a JSON object" in record.submission_problems[0]


def test_empty_files():
    record = load_record(FIXTURES / "empty_files")
    assert record.readme == "" and record.script == "train_gpt.py"
    assert record.submission is None and "empty file" in record.submission_problems[0]
    assert [log.path for log in record.logs] == ["train.log"]      # empty.txt is not a log
    log = record.logs[0]
    assert log.run is None and log.seed is None and log.size == 0


def test_seed_disagreements_are_kept_as_data():
    record = load_record(FIXTURES / "seeds_disagree")
    zero = log_of(record, "train_seed0.log")
    assert zero.seed_sources == {"log": 1337, "filename": 0, "json": 0}
    assert zero.seed == 1337 and zero.seeds_disagree                 # the log the script wrote wins
    named = log_of(record, "run_b.log")
    assert named.seed_sources == {"log": 7, "json": 9} and named.seeds_disagree
    assert not log_of(record, "train_seed42.log").seeds_disagree


def test_log_without_score():
    record = load_record(FIXTURES / "no_score")
    log = record.logs[0]
    assert log.run is not None and not log.run.complete and log.run.scores == []
    assert record.submission is None and record.submission_problems == []


@pytest.mark.parametrize("name,seed", [
    ("train_seed42.log", 42), ("train_seed_42.txt", 42), ("run-seed-7.log", 7), ("SEED1337.log", 1337),
    ("hybrid_s42.txt", 42), ("ternary_log_7.txt", 7), ("logs/train0.txt", None), ("train.log", None),
    ("baseline_1xh100_600s_seq8192.txt", None), ("train_byte260_4h.log", None), ("train_v2.txt", None),
])
def test_filename_seed_patterns(name, seed):
    assert filename_seed(name) == seed


def test_find_record_dirs_recurses_through_track_folders():
    found = [p.relative_to(FIXTURES).as_posix() for p in find_record_dirs(FIXTURES)]
    assert found == ["empty_files", "legacy/2026-03-20_bpb_under_val_loss", "legacy/2026-03-24_alt_names",
                     "legacy/invalid_json", "legacy/not_an_object", "legacy/wrong_types", "no_score",
                     "seeds_disagree", "track_10min_16mb/2026-04-06_Good Record"]
    assert find_record_dirs(GOOD) == [GOOD]
    with pytest.raises(GolfError, match="not a folder"):
        find_record_dirs(FIXTURES / "nope")
    with pytest.raises(GolfError, match="not a record folder"):
        load_record(GOOD / "README.md")


def test_symlinks_leaving_the_folder_are_not_followed(tmp_path):
    record_dir = tmp_path / "rec"
    shutil.copytree(GOOD, record_dir)
    outside = tmp_path / "secret.log"
    outside.write_text((GOOD / "train_seed42.log").read_text())
    (record_dir / "stolen.log").symlink_to(outside)
    (record_dir / "outside_dir").symlink_to(tmp_path, target_is_directory=True)
    (record_dir / "dangling.log").symlink_to(tmp_path / "missing.log")
    (record_dir / "inside.log").symlink_to(record_dir / "train_seed1337.log")
    record = load_record(record_dir)
    skipped = dict(record.skipped)
    assert "leaving the record folder" in skipped["stolen.log"]
    assert "leaving the record folder" in skipped["outside_dir"]
    assert "broken symbolic link" in skipped["dangling.log"]
    assert "stolen.log" not in record.files and "inside.log" in record.files
    assert log_of(record, "inside.log").duplicate_of is None          # sorted first among the identical pair
    assert log_of(record, "train_seed1337.log").duplicate_of == "inside.log"


def test_several_submission_files_and_unreadable_ones(tmp_path):
    (tmp_path / "submission_a.json").write_text('{"name": "a"}')
    (tmp_path / "submission_b.json").write_text('{"name": "b"}')
    record = load_record(tmp_path)
    assert record.submission.name == "a"
    assert "more than one submission file" in record.submission_problems[0]
    (tmp_path / "submission.json").write_bytes(b"\xff\xfe not utf-8")
    assert "unreadable" in " ".join(load_record(tmp_path).submission_problems)


def test_a_large_log_is_streamed(tmp_path):
    record_dir = tmp_path / "big"
    record_dir.mkdir()
    body = (GOOD / "train_seed42.log").read_text()
    filler = "step:1/20000 train_loss:6.9370 train_time:40ms step_avg:40.00ms\n" * 200_000   # ~13 MB
    lines = body.splitlines(keepends=True)
    (record_dir / "train.log").write_text("".join(lines[:14]) + filler + "".join(lines[14:]))
    record = load_record(record_dir)
    assert record.logs[0].run.complete and record.logs[0].size > 10_000_000


def test_normalise_submission_seed_forms():
    sub = normalise_submission({"seeds": [1, "2", "seed_3", 4.0, "x"], "runs": [{"seed": 5, "log": "a.log"}]})
    assert sub.seeds == [1, 2, 3, 4]
    assert any("'x'" in p for p in sub.problems)
    only_runs = normalise_submission({"runs": [{"seed": "5", "log": "a.log"}], "score": {"label": "legal_ttt*"}})
    assert only_runs.seeds == [5] and only_runs.score_label == "legal_ttt*"


# ---------------------------------------------------------------------------
# The real corpus (skipped when absent)
# ---------------------------------------------------------------------------

def test_corpus_every_folder_loads():
    if not CORPUS.is_dir():
        pytest.skip("corpus not present")
    folders = find_record_dirs(CORPUS)
    assert len(folders) == len([p for p in CORPUS.glob("*/*") if p.is_dir()])
    for folder in folders:
        record = load_record(folder)
        assert record.logs, folder
        assert record.submission is not None, folder
        assert record.skipped == []
        assert all(not log.path.endswith(("README.md", "requirements.txt")) for log in record.logs)


def test_corpus_duplicates_as_a_reviewer_finds_them():
    if not CORPUS.is_dir():
        pytest.skip("corpus not present")
    duplicates = {}
    for folder in find_record_dirs(CORPUS):
        for log in load_record(folder).logs:
            if log.duplicate_of:
                duplicates[f"{folder.name}/{log.path}"] = log.duplicate_of
    assert duplicates == {"2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271/train_seed1337.log": "train.log"}


def test_corpus_seed_disagreements():
    caseops = corpus_record("track_10min_16mb", "2026-04-18_PR1626_CaseOps_Taper")
    log = log_of(caseops, "train_seed0.log")
    assert log.seed_sources["log"] == 1337 and log.seed_sources["filename"] == 0 and log.seed_sources["json"] == 0
    gdn = corpus_record("track_non_record_16mb", "2026-04-04_GDN_Hybrid_LongContext")
    log = log_of(gdn, "logs_experiment/hybrid_gdn_1xh100_600s_seq32768.txt")
    assert log.seed_sources == {"log": 1342, "json": 1341}       # JSON seed 1341's result is this 1342 run


def test_corpus_seeds_and_folders():
    varlen = corpus_record("track_10min_16mb", "2026-04-10_VarLenAttn")
    assert [(log.path, log.seed) for log in varlen.logs] == [
        ("logs/train0.txt", 0), ("logs/train1.txt", 1), ("logs/train2.txt", 2)]
    ternary = corpus_record("track_10min_16mb", "2026-03-24_74M_Ternary_UNet_FP8_10L_8192BPE_YaRN_NeoMuon")
    assert ternary.submission.path == "submission_ternary.json"
    assert sorted(log.seed for log in ternary.logs) == [7, 42, 1337]
    sp8192 = corpus_record("track_10min_16mb", "2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2")
    # seeds 1 and 1337 both claim 1.08554: the JSON cannot tell their logs apart
    assert "json" not in log_of(sp8192, "train_seed1.log").seed_sources
    assert sp8192.submission.seeds == [1, 42, 1234, 1337, 2025]
    longctx = corpus_record("track_10min_16mb", "2026-03-18_LongContextSeq2048")
    assert [log.seed for log in longctx.logs] == [1337, 1338, 1339]
    int5 = corpus_record("track_10min_16mb", "2026-03-20_10L_Int5MLP_MuonWD04_SWA50")
    assert int5.submission.val_bpb is None and int5.submission.val_loss == 1.14276

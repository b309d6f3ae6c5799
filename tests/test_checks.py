"""Every registered check, firing on a folder built to break it and silent on a clean one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from fixtures.verify.kit import OWN, REPRODUCED, SCRIPT, default_submission, log_text, make_record, pooled_tree, write_logs
from golf.judge.findings import REGISTRY, all_rules, resolve, select_rules
from golf.errors import GolfError
from golf.judge.verify import verify_record

REQUIRED_NAMES = ["missing-readme", "missing-submission", "missing-script", "missing-logs", "invalid-submission",
                  "script-syntax-error", "no-score", "size-over-cap", "claim-mismatch", "source-mismatch",
                  "duplicate-log", "seed-mismatch", "seeds-not-distinct", "train-time-over", "eval-time-over",
                  "too-few-seeds", "not-significant"]


def names(report) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in report.findings:
        out.setdefault(f.name, []).append(f)
    return out


def verify(root, **kwargs):
    return verify_record(root, **kwargs)


# ---- the registry -------------------------------------------------------------

def test_required_rule_names_are_registered():
    registered = {r.name for r in all_rules()}
    assert set(REQUIRED_NAMES) <= registered


def test_rules_have_stable_unique_codes_and_one_line_rationales():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)
    for r in rules:
        assert r.code[0] == "G" and r.code[1:].isdigit() and len(r.code) == 4
        assert r.severity in ("error", "warning", "info")
        assert r.rationale and "\n" not in r.rationale and r.rationale.endswith(".")


def test_select_and_ignore_accept_codes_names_and_prefixes():
    assert resolve(["G301"]) == {"G301"}
    assert resolve(["size-over-cap"]) == {"G301"}
    assert resolve(["missing-readme,G104"]) == {"G101", "G104"}
    assert {"G301", "G302"} <= resolve(["G3"])
    assert all(code.startswith("G3") for code in resolve(["G3"]))
    chosen = select_rules(select=["G3"], ignore=["size-unverifiable"]).rules
    assert "G302" not in {r.code for r in chosen} and "G301" in {r.code for r in chosen}
    with pytest.raises(GolfError, match="unknown rule 'nope'"):
        resolve(["nope"])


def test_a_crashing_check_becomes_an_internal_error_finding(tmp_path, monkeypatch):
    root = make_record(tmp_path)
    rule = REGISTRY["G101"]

    def boom(ctx):
        raise RuntimeError("kaput")

    monkeypatch.setitem(REGISTRY, "G101", rule.__class__(rule.code, rule.name, rule.severity, rule.rationale, boom))
    report = verify(root)
    [finding] = names(report)["internal-error"]
    assert "G101 missing-readme crashed: RuntimeError: kaput" in finding.message
    assert report.verdict == "fail"


# ---- a clean record ---------------------------------------------------------------

def test_clean_record_passes_with_no_findings_but_the_significance_note(tmp_path):
    root = make_record(tmp_path)
    report = verify(root)
    assert [f.name for f in report.findings] == ["significance-not-applicable"]
    assert report.verdict == "pass"
    assert report.summary.n_runs == 3
    assert report.summary.val_bpb_mean == pytest.approx(1.1)
    assert report.summary.bytes_total_max == 15_000_000 + len(SCRIPT.encode())
    assert all(run.size_basis == "shipped" for run in report.runs)


def test_clean_record_against_an_earlier_sota_is_significant(tmp_path):
    make_record(tmp_path, "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190))
    root = make_record(tmp_path)
    report = verify(root)
    assert [f.name for f in report.findings] == ["significant"]
    assert "2026-04-01_Base" in report.stats["sota"]["source"]
    assert report.stats["significance"]["passed"] is True


# ---- G1xx folder contents -----------------------------------------------------------

def test_missing_readme_submission_script_and_logs(tmp_path):
    bare = make_record(tmp_path, readme=None, submission=None, script=None)
    found = names(verify(bare))
    assert {"missing-readme", "missing-submission", "missing-script"} <= set(found)
    assert "no train_gpt.py" in found["missing-script"][0].message
    empty = make_record(tmp_path, "2026-04-07_NoLogs", seeds=(), bpbs=())
    found = names(verify(empty))
    assert "missing-logs" in found and "missing-readme" not in found and "missing-script" not in found


def test_a_script_under_another_name_is_the_one_the_logs_embed(tmp_path):
    # the logs embed SCRIPT; the folder ships it as train_cuda.py beside a helper the logs do not embed
    root = make_record(tmp_path, script=None)
    (root / "train_cuda.py").write_text(SCRIPT, encoding="utf-8")
    (root / "helpers.py").write_text("X = 1\n", encoding="utf-8")
    found = names(verify(root))
    assert "missing-script" not in found and "source-mismatch" not in found
    assert "the script that ran is train_cuda.py" in found["script-named-otherwise"][0].message
    assert found["script-named-otherwise"][0].severity == "warning"


def test_the_only_script_of_a_folder_is_taken_and_two_unembedded_ones_are_not(tmp_path):
    alone = make_record(tmp_path, "2026-04-06_Alone", script=None)
    (alone / "train_jepa.py").write_text("print('other code')\n", encoding="utf-8")
    found = names(verify(alone))
    assert "script-named-otherwise" in found and "missing-script" not in found
    assert "source-mismatch" in found  # the logs embed other code than the one script shipped
    two = make_record(tmp_path, "2026-04-06_Two", script=None)
    for name in ("a.py", "b.py"):
        (two / name).write_text(f"# {name}\n", encoding="utf-8")
    found = names(verify(two))
    assert "golf cannot tell which ran" in found["missing-script"][0].message


def test_invalid_submission_json_and_missing_fields(tmp_path):
    broken = make_record(tmp_path, submission="{ not json")
    found = names(verify(broken))
    assert "invalid JSON" in found["invalid-submission"][0].message
    assert "missing-submission" not in found
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    del sub["github_id"]
    lacking = make_record(tmp_path, "2026-04-07_NoId", submission=sub)
    assert "lacks github_id" in names(verify(lacking))["invalid-submission"][0].message


def test_submission_oddity_for_a_string_number(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["val_bpb"] = "1.1"
    found = names(verify(make_record(tmp_path, submission=sub)))
    assert "`val_bpb` is a string" in found["submission-oddity"][0].message
    assert "submission-oddity" not in names(verify(make_record(tmp_path, "2026-04-07_Ok")))


def test_script_syntax_error_and_empty_script(tmp_path):
    bad = make_record(tmp_path, script="def broken(:\n    pass\n")
    found = names(verify(bad))
    assert found["script-syntax-error"][0].file == "train_gpt.py"
    assert found["script-syntax-error"][0].line == 1
    empty = make_record(tmp_path, "2026-04-07_Empty", script="")
    found = names(verify(empty))
    assert "empty-script" in found and "script-syntax-error" not in found


def test_unreadable_file_for_a_fifo(tmp_path):
    root = make_record(tmp_path)
    os.mkfifo(root / "pipe.log")
    found = names(verify(root))
    assert "pipe.log" in found["unreadable-file"][0].message
    assert "unreadable-file" not in names(verify(make_record(tmp_path, "2026-04-07_Ok")))


def test_symlink_outside_is_reported_and_not_followed(tmp_path):
    outside = tmp_path / "secret.log"
    outside.write_text(log_text(seed=9, val_bpb=0.5))
    root = make_record(tmp_path)
    (root / "train_seed9.log").symlink_to(outside)
    report = verify(root)
    found = names(report)
    assert "train_seed9.log" in found["symlink-outside"][0].message
    assert report.summary.n_runs == 3  # the outside log's 0.5 is not counted


def test_extra_runtime_files(tmp_path):
    root = make_record(tmp_path)
    (root / "helper.py").write_text("X = 1\n")
    (root / "tok.model").write_bytes(b"\0" * 10)
    (root / "requirements.txt").write_text("numpy\n")
    [finding] = names(verify(root))["extra-runtime-files"]
    assert "helper.py" in finding.message and "tok.model" in finding.message
    assert "requirements.txt" not in finding.message


def test_track_mismatch_and_track_assumed(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["track"] = "non-record-16mb"
    found = names(verify(make_record(tmp_path, submission=sub)))
    assert "track_10min_16mb" in found["track-mismatch"][0].message
    del sub["track"]
    loose = make_record(tmp_path / "loose", track=None, submission=sub)
    found = names(verify(loose))
    assert "track-assumed" in found and "track-mismatch" not in found


# ---- G2xx scores and claims ----------------------------------------------------------

def test_no_score_unscored_log_and_incomplete_run(tmp_path):
    none = make_record(tmp_path, log_kwargs=[{"complete": False}] * 3)
    found = names(verify(none))
    assert "no-score" in found and "unscored-log" not in found
    claim = default_submission((1337, 42), (1.1, 1.101))
    del claim["seeds"]   # a list of seeds would decide which logs are runs, and leave seed 2025's out
    one = make_record(tmp_path, "2026-04-07_One", log_kwargs=[{}, {}, {"complete": False}], submission=claim)
    found = names(verify(one))
    assert "no-score" not in found
    assert found["unscored-log"][0].file == "train_seed2025.log"
    assert found["incomplete-run"][0].file == "train_seed2025.log"
    assert "log-problems" in found


def test_multiple_runs_in_one_log_uses_the_last_complete_run(tmp_path):
    root = make_record(tmp_path)
    first = log_text(seed=1337, val_bpb=1.3)
    path = root / "train_seed1337.log"
    path.write_text(first + path.read_text())
    report = verify(root)
    assert "multiple-runs-in-log" in names(report)
    assert report.summary.val_bpb_mean == pytest.approx(1.1)


@pytest.mark.parametrize("claim, expected", [
    (1.0990, "is the best run (train_seed2025.log: 1.099)"),
    (1.1010, "is one run (train_seed42.log: 1.101)"),
    (1.0995, "is the mean of the best 2 of 3 runs (train_seed2025.log, train_seed1337.log)"),
    (1.2000, "matches neither the mean 1.1 of the 3 runs"),
])
def test_claim_mismatch_says_what_the_claim_is(tmp_path, claim, expected):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["val_bpb"] = claim
    del sub["val_loss"]
    messages = [f.message for f in names(verify(make_record(tmp_path, submission=sub)))["claim-mismatch"]]
    assert any(expected in m for m in messages), messages


def test_claim_is_judged_at_its_own_precision(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["val_bpb"] = 1.10004  # 5 decimals: the mean 1.1 is 1.10000, off by 4 in the last place
    assert "claim-mismatch" in names(verify(make_record(tmp_path, submission=sub)))
    text = json.dumps(sub).replace("1.10004", "1.1000")  # 4 decimals, written with a trailing zero
    assert "claim-mismatch" not in names(verify(make_record(tmp_path, "2026-04-07_Round", submission=text)))


def test_claim_of_a_subset_mean(tmp_path):
    bpbs = (1.1000, 1.1010, 1.0990, 1.1100)
    seeds = (1, 2, 3, 4)
    sub = default_submission(seeds, bpbs)
    sub["val_bpb"] = round((1.1010 + 1.1100) / 2, 5)
    del sub["val_loss"]
    found = names(verify(make_record(tmp_path, seeds=seeds, bpbs=bpbs, submission=sub)))
    assert "is the mean of 2 of the 4 runs (train_seed2.log, train_seed4.log)" in found["claim-mismatch"][0].message


def test_seed_results_claims_are_checked_per_seed(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["seed_results"]["42"]["val_bpb"] = 1.1111
    sub["seed_results"]["7"] = {"val_bpb": 1.1}
    messages = [f.message for f in names(verify(make_record(tmp_path, submission=sub)))["claim-mismatch"]]
    assert any("seed_results[42].val_bpb 1.1111 does not match the log of seed 42" in m for m in messages)
    assert any("claims seed 7 but no scored log ran seed 7" in m for m in messages)


def test_std_mismatch_names_the_population_sd(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["val_bpb_std"] = round((2 * 0.001 ** 2 / 3) ** 0.5, 8)
    [finding] = names(verify(make_record(tmp_path, submission=sub)))["std-mismatch"]
    assert "population sd" in finding.message


# ---- G3xx sizes ---------------------------------------------------------------------

def test_size_over_cap_from_real_bytes_even_when_the_log_says_it_fits(tmp_path):
    code = len(SCRIPT.encode())
    model = 16_000_000 - code + 1
    # the logs count a small code figure, so their totals fit; the shipped script does not
    root = make_record(tmp_path, model_bytes=model, log_kwargs=[{"code_bytes": 100}] * 3,
                       submission=default_submission((1337, 42, 2025), (1.1, 1.101, 1.099), model_bytes=model))
    found = names(verify(root))
    assert len(found["size-over-cap"]) >= 3
    assert "16,000,001 bytes" in found["size-over-cap"][0].message
    assert "code-size-mismatch" in found and "100 bytes" in found["code-size-mismatch"][0].message
    fits = make_record(tmp_path, "2026-04-07_Fits", model_bytes=model - 1,
                       submission=default_submission((1337, 42, 2025), (1.1, 1.101, 1.099), model_bytes=model - 1))
    assert "size-over-cap" not in names(verify(fits))


def test_size_unverifiable_without_a_script_uses_the_embedded_source(tmp_path):
    root = make_record(tmp_path, script=None)
    report = verify(root)
    assert "size-unverifiable" in names(report)
    assert all(run.size_basis == "embedded" for run in report.runs)
    assert report.runs[0].bytes_code == len(SCRIPT.encode())


def test_json_size_excludes_code_and_size_claim_mismatch(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["bytes_total"] = 15_000_000
    found = names(verify(make_record(tmp_path, submission=sub)))
    assert "json-size-excludes-code" in found and "size-claim-mismatch" not in found
    sub["bytes_total"] = 15_900_000
    sub["bytes_code"] = 999
    found = names(verify(make_record(tmp_path, "2026-04-07_Rounded", submission=sub)))
    messages = " ".join(f.message for f in found["size-claim-mismatch"])
    assert "15,900,000 (a rounded figure)" in messages and "bytes_code 999" in messages
    assert "json-size-excludes-code" not in found


def test_logged_total_inconsistent(tmp_path):
    root = make_record(tmp_path, log_kwargs=[{"total_bytes": 123}, {}, {}])
    [finding] = names(verify(root))["logged-total-inconsistent"]
    assert finding.file == "train_seed1337.log"


# ---- G4xx source ---------------------------------------------------------------------

def test_source_mismatch_fires_only_for_the_changed_log(tmp_path):
    changed = SCRIPT + "# tuned after the run\n"
    root = make_record(tmp_path, log_kwargs=[{"source": changed}, {}, {}])
    found = names(verify(root))
    assert [f.file for f in found["source-mismatch"]] == ["train_seed1337.log"]
    assert "source-differs-between-logs" in found


def test_source_not_embedded(tmp_path):
    root = make_record(tmp_path, log_kwargs=[{"source": None}, {}, {}])
    found = names(verify(root))
    assert [f.file for f in found["source-not-embedded"]] == ["train_seed1337.log"]
    assert "source-mismatch" not in found


# ---- G5xx runs and seeds -------------------------------------------------------------

def test_duplicate_log_is_counted_once(tmp_path):
    root = make_record(tmp_path)
    shutil.copy(root / "train_seed42.log", root / "train.log")
    report = verify(root)
    [finding] = names(report)["duplicate-log"]
    assert "byte-identical copy" in finding.message
    assert report.summary.n_runs == 3
    assert "claim-mismatch" not in names(report)


def test_seed_mismatch_between_log_and_file_name(tmp_path):
    root = make_record(tmp_path, log_names=["train_seed7.log", "train_seed42.log", "train_seed2025.log"])
    [finding] = names(verify(root))["seed-mismatch"]
    assert "the log says 1337" in finding.message and "the file name says 7" in finding.message


def test_seeds_claim_mismatch_is_a_claim_rule(tmp_path):
    root = make_record(tmp_path)
    data = json.loads((root / "submission.json").read_text())
    data["seeds"] = data["seeds"] + [7]
    (root / "submission.json").write_text(json.dumps(data))
    [finding] = names(verify(root))["seeds-claim-mismatch"]
    assert "no scored log ran 7" in finding.message and finding.group == "claim"
    assert "seed-mismatch" not in names(verify(root))


def test_seeds_not_distinct(tmp_path):
    root = make_record(tmp_path, seeds=(1337, 1337, 42), log_names=["a.log", "b.log", "c.log"],
                       submission=default_submission((1337, 42), (1.1, 1.101)))
    found = names(verify(root))
    assert "2 runs used seed 1337" in found["seeds-not-distinct"][0].message


def test_nonstandard_world_size_wallclock_and_hardware(tmp_path):
    root = make_record(tmp_path, log_kwargs=[{"world_size": 4}, {"max_wallclock": 2400.0, "train_time_ms": 2_399_000},
                                             {"gpus": ("NVIDIA A100-SXM4-80GB",) * 8, "max_wallclock": 0.0}])
    found = names(verify(root))
    assert found["nonstandard-world-size"][0].file == "train_seed1337.log"
    # a raised cap matters when the run trained past the limit; a disabled cap on a short run does not
    assert [f.file for f in found["nonstandard-wallclock"]] == ["train_seed42.log"]
    assert "2400 s" in found["nonstandard-wallclock"][0].message
    assert "A100" in found["nonstandard-hardware"][0].message
    h100 = make_record(tmp_path, "2026-04-07_H100", log_kwargs=[{"gpus": ("NVIDIA H100 80GB HBM3",) * 8}] * 3)
    assert "nonstandard-hardware" not in names(verify(h100))


def test_tokenizer_changed_against_the_sota_record(tmp_path):
    make_record(tmp_path, "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190))
    root = make_record(tmp_path, log_kwargs=[{"dataset": "fineweb10B_sp8192"}] * 3)
    [finding] = names(verify(root))["tokenizer-changed"]
    assert "sp8192" in finding.message and "sp1024" in finding.message


# ---- G6xx time ---------------------------------------------------------------------

def test_train_time_over_and_tolerated(tmp_path):
    root = make_record(tmp_path, log_kwargs=[{"train_time_ms": 600_400}, {"train_time_ms": 600_100}, {}])
    found = names(verify(root))
    assert [f.file for f in found["train-time-over"]] == ["train_seed1337.log"]
    assert [f.file for f in found["train-time-tolerated"]] == ["train_seed42.log"]


def test_eval_time_over(tmp_path):
    root = make_record(tmp_path, log_kwargs=[{"eval_time_ms": 600_001}, {}, {}])
    [finding] = names(verify(root))["eval-time-over"]
    assert "600,001 ms" in finding.message


def test_time_unverifiable(tmp_path):
    root = make_record(tmp_path)
    (root / "train_seed42.log").write_text(
        "seed:42\nfinal_int8_zlib_roundtrip_exact val_loss:1.86169000 val_bpb:1.10100000\n")
    found = names(verify(root))
    assert [f.file for f in found["time-unverifiable"]] == ["train_seed42.log"]


# ---- G7xx significance ---------------------------------------------------------------

def test_too_few_seeds_with_or_without_a_sota_and_few_seeds(tmp_path):
    single = make_record(tmp_path, seeds=(1337,), bpbs=(1.1,))
    assert "too-few-seeds" not in names(verify(single))      # the track's first record: nothing to beat
    make_record(tmp_path, "2026-03-01_Unscored", seeds=(), bpbs=())
    [finding] = names(verify(single))["too-few-seeds"]      # an earlier record exists, but has no score
    assert "a record on a record track" in finding.message
    assert "too-few-seeds" not in names(verify(make_record(tmp_path / "nr", track="track_non_record_16mb",
                                                           seeds=(1,), bpbs=(1.1,))))
    make_record(tmp_path, "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190))
    [finding] = names(verify(single))["too-few-seeds"]
    assert "beating the SOTA" in finding.message
    two = make_record(tmp_path, "2026-04-07_Two", seeds=(1, 2), bpbs=(1.1, 1.101))
    found = names(verify(two))
    assert "few-seeds" in found and "too-few-seeds" not in found


def test_not_significant_against_a_given_sota(tmp_path):
    root = make_record(tmp_path)
    found = names(verify(root, sota=1.1005))
    assert "not-significant" in found and "significant" not in found
    assert "--sota" in found["not-significant"][0].message
    found = names(verify(root, sota=1.2))
    assert "significant" in found and "not-significant" not in found


def test_non_record_track_is_not_tested(tmp_path):
    root = make_record(tmp_path, track="track_non_record_16mb", seeds=(1,), bpbs=(1.5,))
    found = names(verify(root, sota=1.0))
    assert "not a record track" in found["significance-not-applicable"][0].message
    assert "too-few-seeds" not in found and "not-significant" not in found


def test_select_and_ignore_filter_findings(tmp_path):
    root = make_record(tmp_path, script=None)
    assert {f.name for f in verify(root, select=["G104"]).findings} == {"missing-script"}
    assert "missing-script" not in {f.name for f in verify(root, ignore=["missing-script"]).findings}


def test_tool_folders_are_ignored_and_inner_folder_links_are_not_followed(tmp_path):
    root = make_record(tmp_path)
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"\0")
    inner = root / "inner"
    inner.mkdir()
    (root / "alias").symlink_to(inner, target_is_directory=True)
    found = names(verify(root))
    assert [f.file for f in found["unreadable-file"]] == ["alias"]
    assert "symlink-outside" not in found


def test_val_tokens_differ_within_a_record_and_against_the_sota(tmp_path):
    root = make_record(tmp_path / "alone", log_kwargs=[{"val_tokens": 12_400_000}, {}, {}])
    [truncated, finding] = names(verify(root))["val-tokens-differ"]
    assert "train_seed1337.log: evaluated 12,400,000 validation tokens, fewer than the full sp1024" in truncated.message
    assert "12,400,000 to 62,021,632 tokens" in finding.message
    make_record(tmp_path, "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190),
                log_kwargs=[{"val_tokens": 63_779_840}] * 3)
    later = make_record(tmp_path, "2026-04-07_Later")
    [finding] = names(verify(later))["val-tokens-differ"]
    assert "the SOTA record evaluated 63,779,840" in finding.message
    make_record(tmp_path / "two", "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190),
                log_kwargs=[{"val_tokens": 63_779_840}] * 3)
    close = make_record(tmp_path / "two", "2026-04-08_Close", log_kwargs=[{"val_tokens": 63_700_000}] * 3)
    assert "val-tokens-differ" not in names(verify(close))


def test_every_rule_has_a_test_that_makes_it_fire():
    """A guard for this file's promise: each registered rule is named by some test that breaks a folder for it."""
    here = Path(__file__).resolve().parent
    # the tests after the registry section (which lists the required names without breaking anything)
    text = (here / "test_checks.py").read_text().split("# ---- a clean record", 1)[1]
    text += (here / "test_verify.py").read_text()
    text += (here / "test_ci.py").read_text()
    untested = [r.name for r in all_rules() if f'"{r.name}"' not in text]
    assert not untested


def test_a_path_that_is_not_a_record_and_a_log_that_is_not_a_run(tmp_path):
    from golf.judge.verify import verify_paths

    [entry] = verify_paths([tmp_path / "nope"]).records
    assert [f.name for f in entry.findings] == ["not-a-record"]
    root = make_record(tmp_path)
    (root / "eval_seed42.log").write_text("skipping training\n" + log_text(seed=42, val_bpb=1.2, source=None))
    [finding] = names(verify(root))["not-a-run"]
    assert finding.file == "eval_seed42.log" and finding.severity == "info"


def test_size_claim_mismatch_per_seed(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["seed_results"]["42"]["artifact_bytes"] = 15_123_456
    sub["seed_results"]["1337"]["artifact_bytes"] = 15_000_000 + len(SCRIPT.encode())
    [finding] = names(verify(make_record(tmp_path, submission=sub)))["size-claim-mismatch"]
    assert "seed_results[42].artifact_bytes 15,123,456 matches no size of the log of seed 42" in finding.message


def test_per_run_claims_and_log_hashes_written_by_golf_submit(tmp_path):
    import hashlib

    root = make_record(tmp_path)
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["runs"] = [{"seed": 42, "log": "train_seed42.log", "val_bpb": 1.101,
                    "log_sha256": hashlib.sha256((root / "train_seed42.log").read_bytes()).hexdigest()},
                   {"seed": 1337, "log": "train_seed1337.log", "val_bpb": 1.1,
                    "log_sha256": hashlib.sha256((root / "train_seed1337.log").read_bytes()).hexdigest()},
                   {"seed": 2025, "log": "train_seed2025.log", "val_bpb": 1.099}]
    (root / "submission.json").write_text(json.dumps(sub))
    found = names(verify(root))
    assert "log-hash-mismatch" not in found and "claim-mismatch" not in found
    sub["runs"][0]["val_bpb"] = 1.2
    sub["runs"].append({"seed": 7, "log": "train_seed7.log", "val_bpb": 1.0})
    (root / "submission.json").write_text(json.dumps(sub))
    with open(root / "train_seed1337.log", "a") as handle:
        handle.write("edited later\n")
    found = names(verify(root))
    messages = [f.message for f in found["claim-mismatch"]]
    assert any("runs[0].val_bpb 1.2 is not the score of train_seed42.log (1.101)" in m for m in messages)
    assert any("runs[3] names log train_seed7.log, which is not in the folder" in m for m in messages)
    assert [f.file for f in found["log-hash-mismatch"]] == ["train_seed1337.log"]


def test_required_files_come_from_the_ruleset(tmp_path):
    from importlib import resources

    root = make_record(tmp_path)
    (root / "README.md").unlink()
    assert "missing-readme" in names(verify(root))
    text = (resources.files("golf.rules") / "parameter_golf_2026.toml").read_text("utf-8")
    old = 'required = ["README.md", "submission.json", "train_gpt.py"]'
    assert old in text
    rules = tmp_path / "rules.toml"
    rules.write_text(text.replace(old, 'required = ["submission.json", "train_gpt.py"]'))
    assert "missing-readme" not in names(verify(root, ruleset=str(rules)))


def test_run_env_that_would_not_reproduce_the_logs(tmp_path):
    """The logs print iterations:20000 and world_size:8; the fixture script reads no environment, so only run.env
    itself and the command can disagree with them."""
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["run"] = {"command": "torchrun --standalone --nproc_per_node=8 train_gpt.py", "env": {"ITERATIONS": "20000"}}
    assert "run-env-mismatch" not in names(verify(make_record(tmp_path / "a", submission=sub)))
    sub["run"] = {"command": "torchrun --standalone --nproc_per_node=4 train_gpt.py", "env": {"ITERATIONS": "500"}}
    found = names(verify(make_record(tmp_path / "b", submission=sub)))["run-env-mismatch"]
    assert [f.code for f in found] == ["G512"] * 2  # one finding per cause, naming every log it concerns
    assert "ran ITERATIONS=20000 (run.env sets 500)" in found[0].message
    assert "world_size 8 but the run command launches --nproc_per_node=4" in found[1].message


# ---- the practice ruleset: packed code bytes, by-date choice, the frontier ----------------

PRACTICE = "parameter_golf_2026_practice"
# The kit's script plus comments and a docstring that minifying removes: readable, and far
# larger than its packed wrapper.
READABLE = '"""A readable training script."""\n' + "".join(f"# note {i}: {'x' * 60}\n" for i in range(300)) + SCRIPT


def pyminify_wrapper_size(source: str) -> int:
    """The records' own `_compressed_code_size`: the pyminify command line, lzma, base85, the wrapper."""
    import base64
    import lzma
    import subprocess
    import sys

    pyminify = Path(sys.executable).with_name("pyminify")
    minified = subprocess.run([str(pyminify), "--no-rename-locals", "--no-hoist-literals",
                               "--remove-literal-statements", "-"], input=source.encode(), capture_output=True,
                              check=True).stdout
    payload = base64.b85encode(lzma.compress(minified)).decode()
    return len(f'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("{payload}")))\n'.encode())


def packed_log(packed: int | None, *, model_bytes: int, **kwargs) -> str:
    """A late-style log: `Code size (uncompressed)` and `(compressed)`, and a total that counts the packed code."""
    text = log_text(model_bytes=model_bytes, source=READABLE, **kwargs)
    shipped = len(READABLE.encode())
    text = text.replace(f"Code size: {shipped} bytes",
                        f"Code size (uncompressed): {shipped} bytes\nCode size (compressed): {packed} bytes")
    return text.replace(f"Total submission size int8+zlib: {model_bytes + shipped} bytes",
                        f"Total submission size int8+zlib: {model_bytes + packed} bytes")


def packed_record(parent: Path, name: str, packed: int, model_bytes: int = 15_990_000) -> Path:
    seeds, bpbs = (1337, 42, 2025), (1.1000, 1.1010, 1.0990)
    submission = default_submission(seeds, bpbs, model_bytes=model_bytes, script=READABLE)
    submission.update(bytes_total=model_bytes + packed, bytes_code=packed, date=name[:10])
    root = make_record(parent, name, script=READABLE, seeds=seeds, bpbs=bpbs, submission=submission)
    for seed, bpb in zip(seeds, bpbs):
        (root / f"train_seed{seed}.log").write_text(packed_log(packed, model_bytes=model_bytes, seed=seed,
                                                               val_bpb=bpb), encoding="utf-8")
    return root


def test_packed_wrapper_size_equals_the_size_the_log_prints(tmp_path):
    expected = pyminify_wrapper_size(READABLE)
    root = packed_record(tmp_path, "2026-04-12_Packed", expected)
    report = verify(root)
    assert report.stats["ruleset"]["name"] == PRACTICE          # chosen by date: on or after 2026-04-10
    assert report.stats["code_bytes"]["packed"] == expected
    assert report.stats["code_bytes"]["shipped"] == len(READABLE.encode())
    assert {r.bytes_code for r in report.runs} == {expected} and {r.size_basis for r in report.runs} == {"packed"}
    found = names(report)
    assert "size-over-cap" not in found and "packed-size-mismatch" not in found and "code-size-mismatch" not in found
    # the written rules count the shipped readable file: over the cap by the same folder
    written = names(verify(root, ruleset="parameter_golf_2026"))
    assert "size-over-cap" in written and "code-size-mismatch" in written


def test_a_frontier_row_is_packed_only_when_its_verdict_needs_it(tmp_path, monkeypatch):
    """Packing an earlier record's script (seconds, on a real one) can only lift size-over-cap: a row another
    error already rules out is not packed, and its reason does not name the undecided size."""
    import golf.cache
    import golf.read.packed
    from golf.judge.frontier import build_frontier
    from golf.judge.verify import Verifier
    from golf.rules import load_ruleset

    fits = packed_record(tmp_path, "2026-04-11_FitsPacked", pyminify_wrapper_size(READABLE))  # over unpacked
    other = packed_record(tmp_path, "2026-04-12_OtherCode", pyminify_wrapper_size(READABLE))
    other_script = READABLE + "# a revision the logs do not embed\n"
    (other / "train_gpt.py").write_text(other_script, encoding="utf-8")
    new = make_record(tmp_path, "2026-04-13_New", bpbs=(1.0500, 1.0510, 1.0490))
    packed = []
    pack = golf.read.packed.pack
    monkeypatch.setattr(golf.read.packed, "pack", lambda source: packed.append(source) or pack(source))
    monkeypatch.setattr(golf.cache, "_memo", {})  # nothing packed by earlier tests is remembered
    monkeypatch.setitem(golf.cache._state, "enabled", False)
    report = verify(new)
    assert report.stats["sota"]["path"] == str(fits)
    assert READABLE in packed and other_script not in packed
    frontier = build_frontier(Verifier(), tmp_path / "track_10min_16mb", load_ruleset(PRACTICE), verdict_only=True)
    reason = {r.name: r.reason for r in frontier.excluded}[other.name]
    assert "G401" in reason and "size-over-cap" not in reason  # unpacked it is over the cap; packed it is not
    assert other_script not in packed


def test_packed_size_mismatch_when_the_log_counts_something_else(tmp_path):
    real = pyminify_wrapper_size(READABLE)
    root = packed_record(tmp_path, "2026-04-12_Packed", real - 500)
    [finding, *_] = names(verify(root))["packed-size-mismatch"]
    assert f"{real - 500:,}" in finding.message and f"{real:,}" in finding.message


def test_a_shipped_wrapper_is_counted_as_shipped(tmp_path):
    from golf.read.packed import minify, wrap

    wrapper = wrap(minify(SCRIPT)).decode()
    root = make_record(tmp_path, "2026-04-12_Wrapper", script=wrapper, log_kwargs=[{"source": None}] * 3)
    report = verify(root)
    assert report.stats["code_bytes"]["already_packed"] and report.stats["code_bytes"]["counted"] == len(wrapper)
    assert "script-syntax-error" not in names(report)


def test_files_a_script_uses_are_those_it_opens_or_imports(tmp_path):
    from golf.read.packed import files_used

    for name in ("helper.py", "table.json", "notes.md", "unused.py", "train_gpt.py"):
        (tmp_path / name).write_text("x = 1\n")
    source = ("import helper\n"
              "data = open('./table.json').read()\n"
              "# notes.md says how this was made\n")
    assert files_used(source, tmp_path, "train_gpt.py") == ["helper.py", "table.json"]
    assert files_used("print('no other file')\n", tmp_path, "train_gpt.py") == []
    assert files_used("import helper(\n", tmp_path, "train_gpt.py") == []  # unparseable: nothing is claimed


def test_exec_stub_is_counted_with_the_file_it_runs_packed_like_the_script(tmp_path):
    # HessianSDClip: a stub execs a readable decode file; its logs count the readable bytes (over the
    # cap), the practice counts the decode file packed like a script (under it)
    stub = 'exec(open("train_gpt_decode.py").read())\n'
    shipped_total = 15_980_000 + len(stub) + len(READABLE.encode())
    assert shipped_total > 16_000_000
    root = make_record(tmp_path, "2026-04-12_Stub", script=stub, model_bytes=15_980_000,
                       log_kwargs=[{"source": None, "code_bytes": len(stub) + len(READABLE.encode())}] * 3)
    (root / "train_gpt_decode.py").write_text(READABLE, encoding="utf-8")
    report = verify(root)
    packed = pyminify_wrapper_size(READABLE)
    code = report.stats["code_bytes"]
    assert code["extra_files"] == {"train_gpt_decode.py": len(READABLE.encode())}
    assert code["extra_files_packed"] == {"train_gpt_decode.py": packed}
    assert code["counted"] == len(stub) + packed
    assert {r.bytes_total for r in report.runs} == {15_980_000 + len(stub) + packed}
    found = names(report)
    assert "size-over-cap" not in found
    [uses] = found["code-uses-other-files"]
    assert "train_gpt_decode.py" in uses.message and "counted as code" in uses.message
    assert "code-uses-other-files" not in names(verify(make_record(tmp_path, "2026-04-13_Plain")))


def test_ruleset_by_date_and_override_are_named_with_the_reason(tmp_path, capsys):
    from golf.cli import main

    early = make_record(tmp_path, "2026-04-06_Early")
    late = make_record(tmp_path, "2026-04-11_Late")
    assert verify(early).stats["ruleset"]["name"] == "parameter_golf_2026"
    chosen = verify(late).stats["ruleset"]
    assert chosen["name"] == PRACTICE and "2026-04-11" in chosen["reason"] and chosen["applies_from"] == "2026-04-10"
    forced = verify(late, ruleset="parameter_golf_2026").stats["ruleset"]
    assert forced["name"] == "parameter_golf_2026" and "--ruleset" in forced["reason"]
    main(["verify", str(late), "--format", "json"])
    record = json.loads(capsys.readouterr().out)["records"][0]
    assert record["stats"]["ruleset"]["name"] == PRACTICE
    assert record["stats"]["sota"]["reference"] == "frontier"
    assert record["stats"]["sota"]["path"] == str(early)


def frontier_tree(tmp_path):
    base = make_record(tmp_path, "2026-04-11_Base", bpbs=(1.1200, 1.1210, 1.1190))
    worse = make_record(tmp_path, "2026-04-12_Worse", bpbs=(1.1300, 1.1310, 1.1290))
    broken = make_record(tmp_path, "2026-04-12_OverCap", bpbs=(1.0500, 1.0510, 1.0490), model_bytes=16_500_000)
    new = make_record(tmp_path, "2026-04-13_New", bpbs=(1.1185, 1.1195, 1.1190))
    return base, worse, broken, new


def test_frontier_sota_and_welch_without_margin(tmp_path):
    base, worse, broken, new = frontier_tree(tmp_path)
    report = verify(new)
    assert report.stats["sota"]["path"] == str(base) and "previous frontier row" in report.stats["sota"]["source"]
    sig = report.stats["significance"]
    assert sig["gate"] == "welch" and sig["alpha"] == 0.25 and sig["delta"] == 0
    assert sig["passed"] and sig["gating"]["test"] == "welch" and sig["gating"]["p"] < 0.25
    # the written reading stays visible, and fails: 0.001 bpb is below the 0.005-nat margin
    other = report.stats["significance_other"]
    assert other["ruleset"].startswith("parameter_golf_2026 ") and other["passed"] is False
    assert "not-significant" not in names(report)
    assert "not-significant" in names(verify(new, ruleset="parameter_golf_2026", sota_record=base))


def test_frontier_rows_and_excluded_rows_with_reasons(tmp_path):
    from golf.judge.frontier import build_frontier
    from golf.judge.verify import Verifier
    from golf.rules import load_ruleset

    base, worse, broken, new = frontier_tree(tmp_path)
    frontier = build_frontier(Verifier(), tmp_path / "track_10min_16mb", load_ruleset(PRACTICE))
    assert [r.name for r in frontier.rows] == [base.name, new.name]
    reasons = {r.name: r.reason for r in frontier.excluded}
    assert "not a frontier progression over 2026-04-11_Base" in reasons[worse.name]
    assert "size-over-cap" in reasons[broken.name]


def test_one_run_without_a_stated_seed_is_not_a_seed_clash(tmp_path):
    one = make_record(tmp_path, "2026-04-06_One", seeds=(None,), bpbs=(1.1,), log_names=["train.log"])
    assert "seeds-not-distinct" not in names(verify(one))
    two = make_record(tmp_path, "2026-04-07_Two", seeds=(None, None), bpbs=(1.1, 1.101),
                      log_names=["a.log", "b.log"])
    assert "no seed stated" in names(verify(two))["seeds-not-distinct"][0].message


def test_leaderboard_frontier_lists_rows_and_excluded_records_with_reasons(tmp_path, capsys):
    from golf.cli import main

    base, worse, broken, new = frontier_tree(tmp_path)
    assert main(["leaderboard", "--records", str(tmp_path), "--frontier"]) == 0
    text = capsys.readouterr().out
    assert "| 1 | 2026-04-11 | 2026-04-11_Base |" in text and "| 2 | 2026-04-13 | 2026-04-13_New |" in text
    assert f"{worse.name} (1.1300): not a frontier progression" in text
    assert f"{broken.name} (1.0500): not valid: G301 size-over-cap" in text
    assert main(["leaderboard", "--records", str(tmp_path), "--frontier", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)["frontiers"][0]
    assert [r["record"] for r in data["rows"]] == [base.name, new.name]


def test_syntax_of_a_newer_python_is_a_note_not_an_error(tmp_path):
    import sys

    newer = f"{sys.version_info[0]}.{sys.version_info[1] + 1}.0"
    script = SCRIPT + 'x = f"{"nested"}"\n'   # 3.12 syntax; on 3.12+ it compiles and neither rule fires
    compiles = sys.version_info >= (3, 12)
    ran_newer = make_record(tmp_path, "2026-04-06_Newer", script=script)
    for log in ran_newer.glob("*.log"):
        log.write_text(log.read_text().replace("Running Python 3.11.9", f"Running Python {newer}"))
    found = names(verify(ran_newer))
    assert "script-syntax-error" not in found
    assert ("syntax-newer-python" in found) is not compiles
    same = make_record(tmp_path, "2026-04-07_Same", script=script)
    for log in same.glob("*.log"):
        log.write_text(log.read_text().replace("Running Python 3.11.9", "Running Python 3.10.12"))
    assert ("script-syntax-error" in names(verify(same))) is not compiles


def with_extra_score(root: Path, line: str) -> Path:
    for log in root.glob("*.log"):
        log.write_text(log.read_text() + line + "\n")
    return root


def test_unknown_score_label_is_named_with_the_line_golf_scored_from(tmp_path):
    root = with_extra_score(make_record(tmp_path, "2026-04-06_New"),
                            "final_brand_new_eval_exact val_loss:1.50000000 val_bpb:0.90000000")
    report = verify(root)
    [first, *_] = names(report)["unknown-score-label"]
    assert "final_brand_new_eval_exact" in first.message and "final_int8_zlib_roundtrip_exact" in first.message
    assert {r.label for r in report.runs} == {"final_int8_zlib_roundtrip_exact"}
    assert "unknown-score-label" not in names(verify(make_record(tmp_path, "2026-04-07_Plain")))


def test_ttt_at_a_temperature_is_a_known_score_family(tmp_path):
    root = with_extra_score(make_record(tmp_path, "2026-04-06_TTT"),
                            "final_ttt_T0.98_exact val_loss:1.80000000 val_bpb:1.05000000")
    report = verify(root, sota=1.2)
    assert "unknown-score-label" not in names(report)
    assert {r.label for r in report.runs} == {"final_ttt_T0.98_exact"} and {r.val_bpb for r in report.runs} == {1.05}


def test_ppm_mixture_scores_are_flagged_and_never_chosen(tmp_path):
    root = with_extra_score(make_record(tmp_path, "2026-04-06_PPM"),
                            "quantized_sliding_window_ppm_mixer val_loss:1.50000000 val_bpb:0.90000000")
    report = verify(root)
    flagged = names(report)["flagged-score-label"]
    assert len(flagged) == 3 and "normalised distribution" in flagged[0].message   # one per log and "unknown-score-label" not in names(report)
    assert 0.9 not in {r.val_bpb for r in report.runs}


def test_eval_time_counts_phases_before_scoring_and_the_claimed_time(tmp_path):
    root = make_record(tmp_path, "2026-04-06_PreTTT", log_kwargs=[{"eval_time_ms": 300_000}] * 3)
    assert "eval-time-over" not in names(verify(root))
    for log in root.glob("*.log"):
        text = log.read_text()
        epochs = "".join(f"prequant_ttt:epoch {i}/3 loss:2.7 elapsed:{110.0 * i:.1f}s\n" for i in (1, 2, 3))
        log.write_text(text.replace("Serialized model:", epochs + "Serialized model:", 1))
    [first, *_] = names(verify(root))["eval-time-over"]
    assert "630,000 ms" in first.message and "prequant_ttt (before scoring) 330,000" in first.message
    claimed = make_record(tmp_path, "2026-04-07_Claimed")
    data = json.loads((claimed / "submission.json").read_text())
    data["eval_time_seconds"] = 688
    (claimed / "submission.json").write_text(json.dumps(data))
    [finding] = names(verify(claimed))["eval-time-over"]
    assert "eval_time_seconds = 688.0 s" in finding.message


# ---- provenance: copied logs, data exports, tokenizer identity ---------------------------

def rewrite_logs(root: Path, old: str, new: str) -> Path:
    for log in root.glob("*.log"):
        text = log.read_text()
        assert old in text
        log.write_text(text.replace(old, new))
    return root


def test_copied_log_by_bytes_and_by_numbers(tmp_path):
    first = make_record(tmp_path, "2026-04-06_First")
    copier = make_record(tmp_path, "2026-04-07_Copier", bpbs=(1.2, 1.21, 1.19))
    shutil.copy(first / "train_seed1337.log", copier / "train_seed1337.log")
    edited = (first / "train_seed42.log").read_text().replace("Running PyTorch 2.4.0", "Running PyTorch 2.5.1")
    (copier / "train_seed42.log").write_text(edited)
    found = names(verify(copier))["copied-log"]
    messages = sorted(f.message for f in found)
    assert len(found) == 2
    assert "byte-identical to train_seed1337.log of 2026-04-06_First by golf-tests" in messages[0]
    assert "the same numbers, line for line, as train_seed42.log of 2026-04-06_First" in messages[1]
    assert "copied-log" not in names(verify(first))       # the earlier record is the original
    assert "copied-log" not in names(verify(make_record(tmp_path, "2026-04-08_Own", bpbs=(1.3, 1.31, 1.29))))


CASEOPS = "fineweb10B_sp8192_lossless_caps_caseops_v1_reserved"


def test_train_val_overlap_from_the_logs_data_fingerprint(tmp_path):
    canonical = make_record(tmp_path, "2026-04-06_Canonical", log_kwargs=[{"dataset": CASEOPS,
                                                                            "val_tokens": 47_851_520}] * 3)
    rewrite_logs(canonical, "train_shards:10", "train_shards:80")
    found = names(verify(canonical))
    assert "train-val-overlap" not in found and "nonstandard-data-export" not in found
    leaky = make_record(tmp_path, "2026-04-07_Leaky", log_kwargs=[{"dataset": CASEOPS, "val_tokens": 9_570_304}] * 3)
    rewrite_logs(leaky, "train_shards:10", "train_shards:1499")
    found = names(verify(leaky))
    [first, *_] = found["train-val-overlap"]
    assert "train_shards 1,499, but the canonical sp8192_lossless_caps_caseops_v1_reserved export has 80" \
        in first.message
    # The shorter validation set is not evidence of overlap by itself: it is G508's (issue 25).
    assert "validation tokens" not in first.message
    assert any("evaluated 9,570,304 validation tokens, fewer than the full sp8192_lossless_caps_caseops_v1_reserved "
               "split's 47,851,520" in f.message for f in found["val-tokens-differ"])


def test_doubled_datasets_path_is_a_nonstandard_export(tmp_path):
    root = make_record(tmp_path, "2026-04-06_Doubled")
    rewrite_logs(root, "./data/datasets/fineweb10B_sp1024", "./data/datasets/datasets/fineweb10B_sp1024")
    [first, *_] = names(verify(root))["nonstandard-data-export"]
    assert "doubled datasets/datasets path (pattern)" in first.message
    assert "train-val-overlap" not in names(verify(root))


def test_tokenizer_identity_comes_from_the_tokenizer_the_log_loaded(tmp_path):
    make_record(tmp_path, "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190))
    root = make_record(tmp_path, log_kwargs=[{"dataset": "my_local_export"}] * 3)
    rewrite_logs(root, "val_bpb:enabled tokenizer_kind=sentencepiece",
                 "val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=./tok/custom_4000.model")
    [finding] = names(verify(root))["tokenizer-changed"]
    assert "custom_4000" in finding.message and "sp1024" in finding.message


# ---- G404: score-first test-time training, read from the script's syntax tree ------------

TTT_LEGAL = '''
import torch

def eval_val_ttt(model, opt, val_chunks):
    loss_sum = 0.0
    for chunk in val_chunks:
        with torch.no_grad():
            loss_sum += model(chunk).sum().item()
        loss = model(chunk).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss_sum

eval_val_ttt(MODEL, OPT, VAL_CHUNKS)
'''

TTT_UPDATE_FIRST = '''
import torch

def eval_val_ttt(model, opt, val_chunks):
    loss_sum = 0.0
    for chunk in val_chunks:
        loss = model(chunk).mean()
        loss.backward()
        opt.step()
        with torch.no_grad():
            loss_sum += model(chunk).sum().item()
    return loss_sum

eval_val_ttt(MODEL, OPT, VAL_CHUNKS)
'''

PREQUANT_TTT = '''
def prequant_ttt(model, optimizer, val_tokens, epochs):
    for epoch in range(epochs):
        for batch in val_tokens.split(4096):
            model(batch).mean().backward()
            optimizer.step()

prequant_ttt(MODEL, OPT, VAL_TOKENS, 3)
'''


@pytest.mark.parametrize("script, rule, expected", [
    (TTT_UPDATE_FIRST, "val-trained-before-scored", "eval_val_ttt() takes gradient steps (lines 8, 9) before"),
    (PREQUANT_TTT, "val-trained-before-evaluation", "prequant_ttt() takes gradient steps on validation data"),
])
def test_val_trained_before_scored(tmp_path, script, rule, expected):
    root = make_record(tmp_path, "2026-04-06_TTT", script=SCRIPT + script, log_kwargs=[{"source": None}] * 3)
    [finding] = names(verify(root))[rule]
    offset = SCRIPT.count("\n")
    expected = expected.replace("lines 8, 9", f"lines {offset + 8}, {offset + 9}")
    assert expected in finding.message and finding.file == "train_gpt.py"


def test_legality_not_followed_when_the_script_execs_code_built_at_run_time(tmp_path):
    script = SCRIPT + "\nexec(bytes(CODE).decode())\n"
    root = make_record(tmp_path, "2026-04-06_Exec", script=script, log_kwargs=[{"source": None}] * 3)
    [finding] = names(verify(root))["legality-not-followed"]
    assert finding.severity == "warning" and "built at run time" in finding.message


def test_score_first_ttt_and_ordinary_training_are_legal(tmp_path):
    from golf.judge.legality import check_source

    root = make_record(tmp_path, "2026-04-06_Legal", script=SCRIPT + TTT_LEGAL, log_kwargs=[{"source": None}] * 3)
    assert "val-trained-before-scored" not in names(verify(root))
    reference = (Path(__file__).resolve().parents[1] / "golf" / "reference" / "train_gpt.py").read_text()
    assert check_source(reference) == []   # trains on train shards, scores validation under no_grad
    problems = check_source(TTT_UPDATE_FIRST)
    assert [(p.kind, p.line, p.function) for p in problems] == [("update-before-score", 8, "eval_val_ttt")]


def test_script_not_utf8_for_a_coding_cookie(tmp_path):
    hidden = make_record(tmp_path, script="# -*- coding: utf-7 -*-\nx = 1 +AAo-import os\n")
    [finding] = names(verify(hidden))["script-not-utf8"]
    assert "utf-7" in finding.message and finding.severity == "error"
    plain = make_record(tmp_path, "2026-05-02_Plain", script="# -*- coding: utf-8 -*-\nx = 1\n")
    assert "script-not-utf8" not in names(verify(plain))


# ---- reproduction runs pooled into significance (practice: #1902) ---------------------------

def test_listed_reproductions_join_the_test_but_not_the_claim(tmp_path):
    base, alone = pooled_tree(tmp_path / "alone", reproductions=False)
    assert "not-significant" in names(verify(alone))
    base, new = pooled_tree(tmp_path / "pooled")
    report = verify(new)
    found = names(report)
    assert "not-significant" not in found and report.passed
    assert report.stats["significance"]["n"] == 5 and report.stats["significance"]["passed"]
    assert len(report.runs) == 2 and report.summary.val_bpb_mean == pytest.approx(sum(OWN) / 2)
    [note] = found["pooled-runs"]
    assert "3 reproduction run(s) pooled with the record's 2" in note.message and "by Alice, PR #12 comment" in note.message
    assert [r["by"] for r in report.stats["pooled"]["runs"]] == ["Alice"] * 3 and report.stats["pooled"]["allowed"]


def test_the_written_rules_list_reproductions_without_pooling_them(tmp_path):
    base, new = pooled_tree(tmp_path)
    report = verify(new, ruleset="parameter_golf_2026", sota_record=base)
    [note] = names(report)["pooled-runs"]
    assert "not pooled" in note.message and report.stats["significance"]["n"] == 2
    assert report.stats["pooled"]["allowed"] is False


def test_pool_runs_folder_from_the_command_line(tmp_path, capsys):
    from golf.cli import main

    base, new = pooled_tree(tmp_path / "tree", reproductions=False)
    write_logs(tmp_path / "mine", (7, 8, 9), REPRODUCED)
    assert main(["verify", str(new), "--pool-runs", str(tmp_path / "mine"), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)["records"][0]
    assert record["stats"]["significance"]["n"] == 5
    assert {r["by"] for r in record["stats"]["pooled"]["runs"]} == {"--pool-runs"}
    assert main(["verify", str(tmp_path / "tree"), "--pool-runs", str(tmp_path / "mine")]) == 2
    assert "one record folder" in capsys.readouterr().err
    assert main(["verify", str(new), "--pool-runs", str(tmp_path / "nowhere")]) == 2
    assert "--pool-runs is not a folder" in capsys.readouterr().err


def test_unusable_reproductions_are_named_and_not_pooled(tmp_path):
    base, new = pooled_tree(tmp_path, reproductions=False)
    submission = json.loads((new / "submission.json").read_text())
    (new / "repro").mkdir()
    (new / "repro" / "copy.log").write_bytes((new / "train_seed1.log").read_bytes())
    (new / "repro" / "other.log").write_text(log_text(seed=7, val_bpb=1.1185, source=SCRIPT + "# another script\n"))
    (new / "repro" / "crashed.log").write_text(log_text(seed=8, val_bpb=1.1185, complete=False))
    submission["reproductions"] = [{"log": f"repro/{n}", "by": "Bob"} for n in
                                   ("copy.log", "other.log", "crashed.log", "missing.log")]
    (new / "submission.json").write_text(json.dumps(submission), encoding="utf-8")
    report = verify(new)
    problems = {f.file: f.message for f in names(report)["reproduction-unusable"]}
    assert "byte-identical copy of train_seed1.log" in problems["repro/copy.log"]
    assert "not the shipped train_gpt.py" in problems["repro/other.log"]
    assert "no score line" in problems["repro/crashed.log"]
    assert "not a readable log" in problems["repro/missing.log"]
    assert report.stats["significance"]["n"] == 2 and "pooled-runs" not in names(report)
    assert len(report.runs) == 2   # listed logs are never counted as the submitter's runs


def test_a_reproductions_entry_needs_a_log_and_who_ran_it(tmp_path):
    base, new = pooled_tree(tmp_path, reproductions=False)
    submission = json.loads((new / "submission.json").read_text())
    submission["reproductions"] = [{"log": "repro/a.log"}]
    (new / "submission.json").write_text(json.dumps(submission), encoding="utf-8")
    messages = " ".join(f.message for f in verify(new).findings)
    assert "entry 0 needs a `log` path and who ran it (`by`)" in messages


def test_the_frontier_pools_a_rows_listed_reproductions(tmp_path):
    from golf.judge.frontier import build_frontier
    from golf.judge.verify import Verifier
    from golf.rules import load_ruleset

    base, new = pooled_tree(tmp_path)
    frontier = build_frontier(Verifier(), tmp_path / "track_10min_16mb", load_ruleset(PRACTICE))
    assert [r.name for r in frontier.rows] == [base.name, new.name]
    assert frontier.rows[1].to_dict()["pooled"] == 3 and frontier.rows[1].mean == pytest.approx(sum(OWN) / 2)


def test_a_waived_significance_test_keeps_a_systems_only_record_on_the_frontier(tmp_path):
    from golf.read.config import parse_config
    from golf.judge.frontier import build_frontier
    from golf.judge.verify import Verifier
    from golf.rules import load_ruleset

    base, new = pooled_tree(tmp_path, reproductions=False)   # its own runs alone: not significant
    track = tmp_path / "track_10min_16mb"
    assert [r.name for r in build_frontier(Verifier(), track, load_ruleset(PRACTICE)).rows] == [base.name]
    config = parse_config(f'[waivers."track_10min_16mb/{new.name}"]\nG703 = "systems-only: same model, faster '
                          'kernels"\n', Path("golf.toml"), tmp_path)
    frontier = build_frontier(Verifier(config=config), track, load_ruleset(PRACTICE))
    assert [r.name for r in frontier.rows] == [base.name, new.name]
    assert frontier.rows[1].waiver.startswith("systems-only") and frontier.rows[1].test.passed is False
    report = Verifier(config=config).verify(new)
    assert report.passed and [w["code"] for w in report.waived] == ["G703"]


def test_an_unreadable_file_in_a_pool_runs_folder_is_named(tmp_path):
    base, new = pooled_tree(tmp_path / "tree", reproductions=False)
    mine = tmp_path / "mine"
    write_logs(mine, (7,), (1.1185,))
    os.mkfifo(mine / "stuck.log")
    os.mkfifo(mine / "notes.pipe")   # not a log by name: not offered, so not reported
    report = verify(new, pool_runs=[mine])
    problems = [f.message for f in names(report)["reproduction-unusable"]]
    assert len(problems) == 1 and "stuck.log" in problems[0]
    assert [r["log"] for r in report.stats["pooled"]["runs"] if r["problem"] is None] == [str(mine / "seed7.log")]


def test_a_pool_runs_folder_without_logs_is_named(tmp_path):
    base, new = pooled_tree(tmp_path / "tree", reproductions=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.md").write_text("no runs here\n")
    [finding] = names(verify(new, pool_runs=[empty]))["reproduction-unusable"]
    assert str(empty) in finding.message and "holds no log" in finding.message and finding.file is None


# ---- the claim as a witness of which score family counts (issue 24) --------------------------------

def test_claim_chooses_the_family_it_is_the_mean_of(tmp_path):
    # every run prints a worse TTT pass after the claimed roundtrip score (as SP4096 seed 42 did)
    root = with_extra_score(make_record(tmp_path, "2026-04-06_Extra"),
                            "final_int6_ttt_exact val_loss:2.03000000 val_bpb:1.20000000")
    report = verify(root)
    found = names(report)
    [note] = found["score-chosen-by-claim"]
    assert note.severity == "info" and "final_int8_zlib_roundtrip" in note.message
    assert "final_int6_ttt_exact" in note.message
    assert "claim-mismatch" not in found
    assert {r.label for r in report.runs} == {"final_int8_zlib_roundtrip_exact"}
    # without the witness the classes decide: a claim of the TTT mean keeps the TTT lines, silently
    sub = json.loads((root / "submission.json").read_text())
    sub["val_bpb"] = 1.2
    (root / "submission.json").write_text(json.dumps(sub))
    report = verify(root)
    assert "score-chosen-by-claim" not in names(report)
    assert {r.label for r in report.runs} == {"final_int6_ttt_exact"}


def test_claim_of_the_last_step_lines_is_named(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1000, 1.1010, 1.0990))
    sub["val_bpb"] = 1.106   # the mean of the last periodic validation lines (score + 0.006)
    report = verify(make_record(tmp_path, submission=sub))
    [mismatch] = names(report)["claim-mismatch"]
    assert "periodic validation (step)" in mismatch.message


def test_no_score_names_the_summary_the_script_printed(tmp_path):
    root = make_record(tmp_path, log_kwargs=[{"label": "final_mystery_eval"}] * 3)
    found = names(verify(root))
    [none] = found["no-score"]   # the claim is the mean of the lines golf cannot place
    assert "mean of the `final_mystery_eval" in none.message and "a label golf cannot place" in none.message
    assert "mode mystery_eval" in found["unknown-score-label"][0].message
    sub = json.loads((root / "submission.json").read_text())
    sub["val_bpb"] = 1.1234
    (root / "submission.json").write_text(json.dumps(sub))
    for log in root.glob("*.log"):
        log.write_text(log.read_text() + "Mean val_bpb : 1.1234\n")
    [none] = names(verify(root))["no-score"]
    assert "Mean val_bpb : 1.1234" in none.message and "not a score line" in none.message

"""Every registered check, firing on a folder built to break it and silent on a clean one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from fixtures.verify.kit import SCRIPT, default_submission, log_text, make_record
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
    empty = make_record(tmp_path, "2026-05-02_NoLogs", seeds=(), bpbs=())
    found = names(verify(empty))
    assert "missing-logs" in found and "missing-readme" not in found and "missing-script" not in found


def test_invalid_submission_json_and_missing_fields(tmp_path):
    broken = make_record(tmp_path, submission="{ not json")
    found = names(verify(broken))
    assert "invalid JSON" in found["invalid-submission"][0].message
    assert "missing-submission" not in found
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    del sub["github_id"]
    lacking = make_record(tmp_path, "2026-05-02_NoId", submission=sub)
    assert "lacks github_id" in names(verify(lacking))["invalid-submission"][0].message


def test_submission_oddity_for_a_string_number(tmp_path):
    sub = default_submission((1337, 42, 2025), (1.1, 1.101, 1.099))
    sub["val_bpb"] = "1.1"
    found = names(verify(make_record(tmp_path, submission=sub)))
    assert "`val_bpb` is a string" in found["submission-oddity"][0].message
    assert "submission-oddity" not in names(verify(make_record(tmp_path, "2026-05-02_Ok")))


def test_script_syntax_error_and_empty_script(tmp_path):
    bad = make_record(tmp_path, script="def broken(:\n    pass\n")
    found = names(verify(bad))
    assert found["script-syntax-error"][0].file == "train_gpt.py"
    assert found["script-syntax-error"][0].line == 1
    empty = make_record(tmp_path, "2026-05-02_Empty", script="")
    found = names(verify(empty))
    assert "empty-script" in found and "script-syntax-error" not in found


def test_unreadable_file_for_a_fifo(tmp_path):
    root = make_record(tmp_path)
    os.mkfifo(root / "pipe.log")
    found = names(verify(root))
    assert "pipe.log" in found["unreadable-file"][0].message
    assert "unreadable-file" not in names(verify(make_record(tmp_path, "2026-05-02_Ok")))


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
    one = make_record(tmp_path, "2026-05-02_One", log_kwargs=[{}, {}, {"complete": False}],
                      submission=default_submission((1337, 42), (1.1, 1.101)))
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
    assert "claim-mismatch" not in names(verify(make_record(tmp_path, "2026-05-02_Round", submission=text)))


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
    fits = make_record(tmp_path, "2026-05-02_Fits", model_bytes=model - 1,
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
    found = names(verify(make_record(tmp_path, "2026-05-02_Rounded", submission=sub)))
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
    h100 = make_record(tmp_path, "2026-05-02_H100", log_kwargs=[{"gpus": ("NVIDIA H100 80GB HBM3",) * 8}] * 3)
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

def test_too_few_and_few_seeds_need_a_sota(tmp_path):
    single = make_record(tmp_path, seeds=(1337,), bpbs=(1.1,))
    found = names(verify(single))
    assert "too-few-seeds" not in found and "significance-not-applicable" in found
    make_record(tmp_path, "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190))
    assert "too-few-seeds" in names(verify(single))
    two = make_record(tmp_path, "2026-05-02_Two", seeds=(1, 2), bpbs=(1.1, 1.101))
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
    [finding] = names(verify(root))["val-tokens-differ"]
    assert "12,400,000 to 62,021,632 tokens" in finding.message
    make_record(tmp_path, "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190),
                log_kwargs=[{"val_tokens": 63_779_840}] * 3)
    later = make_record(tmp_path, "2026-05-02_Later")
    [finding] = names(verify(later))["val-tokens-differ"]
    assert "the SOTA record evaluated 63,779,840" in finding.message
    make_record(tmp_path / "two", "2026-04-01_Base", bpbs=(1.1200, 1.1210, 1.1190),
                log_kwargs=[{"val_tokens": 63_779_840}] * 3)
    close = make_record(tmp_path / "two", "2026-05-03_Close", log_kwargs=[{"val_tokens": 63_700_000}] * 3)
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
                    "log_sha256": hashlib.sha256((root / "train_seed1337.log").read_bytes()).hexdigest()}]
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
    assert any("runs[2] names log train_seed7.log, which is not in the folder" in m for m in messages)
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


def test_script_not_utf8_for_a_coding_cookie(tmp_path):
    hidden = make_record(tmp_path, script="# -*- coding: utf-7 -*-\nx = 1 +AAo-import os\n")
    [finding] = names(verify(hidden))["script-not-utf8"]
    assert "utf-7" in finding.message and finding.severity == "error"
    plain = make_record(tmp_path, "2026-05-02_Plain", script="# -*- coding: utf-8 -*-\nx = 1\n")
    assert "script-not-utf8" not in names(verify(plain))

"""golf verify on the challenge's real record folders (skipped when the corpus is absent).

The expectations are what a reviewer who read spec section 5 would write about each
folder. Every behaviour pinned here is also covered by fixture tests (test_checks.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from golf.cli import main
from golf.judge.verify import verify_paths

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "parameter-golf"
RECORD = "track_10min_16mb"
NON_RECORD = "track_non_record_16mb"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present")


@pytest.fixture(scope="module")
def reports():
    folders = sorted(p for p in CORPUS.glob("*/*") if p.is_dir())
    report = verify_paths(folders)
    return {Path(r.path).relative_to(CORPUS).as_posix(): r for r in report.records}


def _reports_under(ruleset):
    folders = sorted(p for p in CORPUS.glob("*/*") if p.is_dir())
    report = verify_paths(folders, ruleset=ruleset)
    return {Path(r.path).relative_to(CORPUS).as_posix(): r for r in report.records}


@pytest.fixture(scope="module")
def written():
    return _reports_under("parameter_golf_2026")


@pytest.fixture(scope="module")
def practice():
    return _reports_under("parameter_golf_2026_practice")


def messages(report, name: str) -> list[str]:
    return [f.message for f in report.findings if f.name == name]


# The errors a reviewer who read each folder expects under the maintainers' practice (spec 4.4), and why
# each is right although the maintainers accepted every one of these rows:
PRACTICE_ERRORS = {
    f"{RECORD}/2026-03-17_NaiveBaseline": set(),
    # the claim is the seed-1337 run (1.2058), not the 3-run mean 1.2064: the leaderboard shows 4 decimals
    f"{RECORD}/2026-03-18_LongContextSeq2048": {"G205"},
    # one run each: no test of significance can be made (spec 5.9)
    f"{RECORD}/2026-03-19_MixedQuant_Int6Int8_SlidingWindow": {"G701"},
    f"{RECORD}/2026-03-19_SlidingWindowEval": {"G701"},
    # one run claimed; train.log embeds a 47,642-byte source, the shipped script is 47,759 bytes (spec 5.7)
    f"{RECORD}/2026-03-19_TrainingOptSeq4096": {"G205", "G401"},
    # no val_bpb key: the bpb mean is stored under val_loss (spec 5.5)
    f"{RECORD}/2026-03-20_10L_Int5MLP_MuonWD04_SWA50": {"G103", "G205"},
    # the claim is the best seed (the folder name's 1.1271), not the mean 1.1280
    f"{RECORD}/2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271": {"G205"},
    f"{RECORD}/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon": set(),
    # best seed claimed; the logs embed other code than the shipped script; 1.1570 does not beat 1.1194 (spec 4.3)
    f"{RECORD}/2026-03-24_74M_Ternary_UNet_FP8_10L_8192BPE_YaRN_NeoMuon": {"G205", "G401", "G703"},
    f"{RECORD}/2026-04-01_Vocab4096_MLPMult4_WD085": set(),
    f"{RECORD}/2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2": set(),
    # logs/train0.txt embeds other code (its packed size 27,310, the shipped script packs to 26,845)
    f"{RECORD}/2026-04-10_VarLenAttn": {"G401"},
    f"{RECORD}/2026-04-18_PR1626_CaseOps_Taper": set(),
    # the claim is the 100k-step run; each log embeds a different revision of the shipped script
    f"{NON_RECORD}/2026-03-26_37M_LeWM_Jepa_Mamba2_10L_UNet_INT4FP8QAT_Brotli": {"G205", "G401"},
    # two scripts, neither the exact source a log embeds: golf cannot tell which one ran
    f"{NON_RECORD}/2026-03-29_HNet_ByteVsSubword_Study": {"G104", "G205"},
    # the claim is 2 of the 10 runs; the study's logs embed several revisions
    f"{NON_RECORD}/2026-04-04_GDN_Hybrid_LongContext": {"G205", "G401"},
}


def errors(report) -> set[str]:
    return {f.code for f in report.findings if f.severity == "error"}


def test_every_folder_gets_a_report_with_the_errors_a_reviewer_expects(practice):
    assert set(practice) == set(PRACTICE_ERRORS)
    for path, report in practice.items():
        assert "internal-error" not in {f.name for f in report.findings}, path
        assert errors(report) == PRACTICE_ERRORS[path], path
        assert report.verdict == ("pass" if not PRACTICE_ERRORS[path] else "fail"), path


def test_command_line_exit_status_on_the_corpus(capsys):
    assert main(["verify", str(CORPUS), "--json"]) == 1
    assert '"verdict": "fail"' in capsys.readouterr().out


def test_naive_baseline_is_clean(reports):
    report = reports[f"{RECORD}/2026-03-17_NaiveBaseline"]
    assert report.verdict == "pass" and not errors(report)
    assert report.summary.val_bpb_mean == pytest.approx(1.2243657)
    assert report.summary.bytes_total_max == 15_863_489
    assert messages(report, "significance-not-applicable")  # the first record has no SOTA


@pytest.mark.parametrize("folder, expected", [
    ("2026-03-18_LongContextSeq2048", "is the best run (train.log: 1.20576485)"),
    ("2026-03-19_TrainingOptSeq4096", "is one run (train.log: 1.20143417)"),
    ("2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271", "is the best run (train.log: 1.12707468)"),
    ("2026-03-24_74M_Ternary_UNet_FP8_10L_8192BPE_YaRN_NeoMuon", "is the best run (ternary_log_42.txt: 1.1565)"),
])
def test_claims_that_are_not_the_mean_say_what_they_are(reports, folder, expected):
    found = messages(reports[f"{RECORD}/{folder}"], "claim-mismatch")
    assert any(expected in m for m in found), found


def test_claims_that_are_the_mean_pass(reports):
    for folder in ("2026-03-23_LeakyReLU_LegalTTT_ParallelMuon", "2026-04-01_Vocab4096_MLPMult4_WD085",
                   "2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2", "2026-04-10_VarLenAttn",
                   "2026-04-18_PR1626_CaseOps_Taper"):
        assert not messages(reports[f"{RECORD}/{folder}"], "claim-mismatch"), folder


def test_gdn_claim_is_the_two_seed_subset(reports):
    found = messages(reports[f"{NON_RECORD}/2026-04-04_GDN_Hybrid_LongContext"], "claim-mismatch")
    assert any("is the mean of 2 of the 10 runs (logs_experiment/hybrid_gdn_1xh100_600s_seq32768.txt, "
               "logs_experiment/hybrid_gdn_1xh100_600s_seq32768_s42.txt)" in m for m in found), found


def test_int5mlp_stores_the_bpb_under_val_loss_and_a_rounded_size(reports):
    report = reports[f"{RECORD}/2026-03-20_10L_Int5MLP_MuonWD04_SWA50"]
    assert any("lacks val_bpb" in m for m in messages(report, "invalid-submission"))
    assert any("val_bpb mean stored under `val_loss`" in m for m in messages(report, "claim-mismatch"))
    assert any("15,900,000 (a rounded figure)" in m for m in messages(report, "size-claim-mismatch"))


def test_varlen_is_over_the_cap_once_the_shipped_source_is_counted(written):
    # the written rules count the shipped readable script: logged model bytes + its 116,694 bytes
    folder = CORPUS / RECORD / "2026-04-10_VarLenAttn"
    script = (folder / "train_gpt.py").stat().st_size
    model = int(re.search(r"^Serialized model quantized\+brotli: (\d+) bytes", (folder / "logs/train0.txt").read_text(),
                          re.M).group(1))
    report = written[f"{RECORD}/2026-04-10_VarLenAttn"]
    over = messages(report, "size-over-cap")
    assert len(over) == 3 and any(f"{model + script:,} bytes" in m for m in over)
    assert any(f"logged code size 27,310 bytes but the shipped train_gpt.py is {script:,} bytes" in m
               for m in messages(report, "code-size-mismatch"))
    assert messages(report, "source-differs-between-logs")


def test_seed_disagreements(reports):
    # CaseOps postdates the practice ruleset, which reports a wrong seed label whose seed is distinct as
    # paperwork to fix (issue 19): the finding moves to the record's fixes, with its kind and fix. GDN is judged
    # by the written rules (its date), which keep it a finding.
    caseops = reports[f"{RECORD}/2026-04-18_PR1626_CaseOps_Taper"]
    fixes = [f["message"] for f in caseops.fixes if f["name"] == "seed-mismatch" and f["paperwork"] == "seed-label"]
    assert any("train_seed0.log: the log says 1337" in m for m in fixes)
    assert not messages(caseops, "seed-mismatch")
    gdn = messages(reports[f"{NON_RECORD}/2026-04-04_GDN_Hybrid_LongContext"], "seed-mismatch")
    assert any("the log says 1342, submission.json says 1341" in m for m in gdn)


def test_duplicated_log_is_counted_once(reports):
    report = reports[f"{RECORD}/2026-03-20_11L_XSA4_EMA_Int6_MLP3x_WD04_1.1271"]
    assert any("train_seed1337.log is a byte-identical copy of train.log" in m
               for m in messages(report, "duplicate-log"))
    assert report.summary.n_runs == 3


def test_single_run_records_after_the_baseline_have_too_few_seeds(reports):
    for folder in ("2026-03-19_MixedQuant_Int6Int8_SlidingWindow", "2026-03-19_SlidingWindowEval"):
        assert messages(reports[f"{RECORD}/{folder}"], "too-few-seeds"), folder


def test_significance_against_the_best_earlier_record(reports):
    ternary = reports[f"{RECORD}/2026-03-24_74M_Ternary_UNet_FP8_10L_8192BPE_YaRN_NeoMuon"]
    assert messages(ternary, "not-significant")  # 1.1570 when SOTA was 1.1194 (spec 4.3)
    assert "2026-03-23_LeakyReLU_LegalTTT_ParallelMuon" in ternary.stats["sota"]["source"]
    opt = reports[f"{RECORD}/2026-03-19_TrainingOptSeq4096"]
    assert messages(opt, "not-significant")
    leaky = reports[f"{RECORD}/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon"]
    assert messages(leaky, "significant") and not messages(leaky, "not-significant")


def test_train_time_overshoot_within_one_step_is_tolerated(reports):
    report = reports[f"{RECORD}/2026-03-23_LeakyReLU_LegalTTT_ParallelMuon"]
    assert not messages(report, "train-time-over")
    assert any("600,128 ms is 128 ms over the limit" in m for m in messages(report, "train-time-tolerated"))


def test_tokenizer_changes_are_flagged(reports):
    for folder, new in (("2026-04-01_Vocab4096_MLPMult4_WD085", "sp4096"),
                        ("2026-04-18_PR1626_CaseOps_Taper", "sp8192_lossless_caps_caseops_v1_reserved")):
        found = messages(reports[f"{RECORD}/{folder}"], "tokenizer-changed")
        assert found and new in found[0], folder


def test_caseops_claims_a_population_sd(reports):
    found = messages(reports[f"{RECORD}/2026-04-18_PR1626_CaseOps_Taper"], "std-mismatch")
    assert found and "population sd" in found[0]


def test_non_record_tracks_are_not_tested_for_significance(reports):
    for path, report in reports.items():
        if path.startswith(NON_RECORD):
            assert messages(report, "significance-not-applicable"), path
            assert not messages(report, "not-significant") and not messages(report, "too-few-seeds"), path


def test_long_context_evaluated_a_different_split_than_the_baseline(reports):
    found = messages(reports[f"{RECORD}/2026-03-18_LongContextSeq2048"], "val-tokens-differ")
    assert found and "62,021,632" in found[0] and "63,779,840" in found[0]


def test_corpus_report_validates_against_the_schema(capsys):
    import json

    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json").read_text())
    main(["verify", str(CORPUS), "--json"])
    jsonschema.validate(json.loads(capsys.readouterr().out), schema)


def test_practice_packs_the_shipped_script_as_the_logs_did_and_tests_welch_against_the_frontier(practice, reports):
    varlen = practice[f"{RECORD}/2026-04-10_VarLenAttn"]
    assert not messages(varlen, "size-over-cap")
    # golf packs the shipped script to the `Code size (compressed)` of the two logs that embed it exactly
    assert [r.bytes_code for r in varlen.runs] == [26_845, 26_845, 26_845]
    assert {r.size_basis for r in varlen.runs} == {"packed"}
    assert varlen.stats["sota"]["reference"] == "frontier"
    assert varlen.stats["sota"]["path"].endswith("2026-04-05_SP8192_GPTQ-Embeddings_SDClip_Loop45x2")
    # judged by date, the 2026-04-10 record already falls under the practice ruleset
    assert reports[f"{RECORD}/2026-04-10_VarLenAttn"].stats["ruleset"]["name"] == "parameter_golf_2026_practice"
    # TrainingOptSeq4096 fails the written 0.005-nat margin but is a frontier step
    opt = practice[f"{RECORD}/2026-03-19_TrainingOptSeq4096"]
    assert not messages(opt, "not-significant") and opt.stats["significance"]["gating"]["test"] == "welch"
    assert opt.stats["significance"]["gating"]["p"] == pytest.approx(0.0155, abs=5e-4)
    assert opt.stats["significance_other"]["passed"] is False

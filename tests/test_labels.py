"""The grammar of score labels (golf.read.labels) and the ruleset's classes (golf.judge.labels), on
lines of each label family the challenge's record folders print (issue 24), written here."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golf.judge.labels import choose, place
from golf.read.labels import is_label, read_label
from golf.read.logs import parse_text
from golf.rules import load_ruleset

RULES = load_ruleset()


def line(label: str, bpb: float = 1.1, decimals: int = 8) -> str:
    return f"{label} val_loss:{bpb * 1.69:.{decimals}f} val_bpb:{bpb:.{decimals}f}"


def scored(text: str):
    """The one score line of a log holding `text`."""
    [score] = parse_text(text + "\n").run.scores
    return score


# Each family of the issue, as a log line: (line, label golf reads, class, parts it reads).
FAMILIES = [
    (line("final_int6_ttt_exact"), "final_int6_ttt_exact", "ttt",
     dict(final=True, quant="int6", mode="ttt", exact=True)),
    (line("final_ttt_exact"), "final_ttt_exact", "ttt", dict(mode="ttt", exact=True)),
    (line("final_int8_ttt_lora_exact"), "final_int8_ttt_lora_exact", "ttt", dict(quant="int8", mode="ttt_lora")),
    (line("final_causal_ttt_exact"), "final_causal_ttt_exact", "ttt", dict(mode="causal_ttt")),
    (line("final_dyneval_exact"), "final_dyneval_exact", "ttt", dict(mode="dyneval")),
    (line("sgd_ttt_exact"), "sgd_ttt_exact", "ttt", dict(final=False, mode="sgd_ttt", exact=True)),
    (line("legal_ttt_exact"), "legal_ttt_exact", "ttt", dict(mode="legal_ttt")),
    ("1776142348.135 " + line("quantized_ttt_phased"), "quantized_ttt_phased", "ttt",
     dict(quant="quantized", mode="ttt_phased", exact=False)),
    (line("final_kv_cache_eval_exact backend:polar"), "final_kv_cache_eval_exact backend:polar", "ttt",
     dict(mode="kv_cache_eval", qualifiers={"backend": "polar"})),
    (line("final_int6_sliding_exact"), "final_int6_sliding_exact", "sliding", dict(quant="int6", mode="sliding")),
    (line("final_int8_sliding_exact"), "final_int8_sliding_exact", "sliding", dict(quant="int8", mode="sliding")),
    (line("final_int6_sliding_window_exact"), "final_int6_sliding_window_exact", "sliding",
     dict(mode="sliding_window")),
    (line("final_int6_sliding_window_s64_exact"), "final_int6_sliding_window_s64_exact", "sliding",
     dict(mode="sliding_window", stride=64)),
    (line("final_int6+zstd22_roundtrip_slide512_exact"), "final_int6+zstd22_roundtrip_slide512_exact", "sliding",
     dict(quant="int6", compressor="zstd22", mode="roundtrip_slide", stride=512, exact=True)),
    (line("final_sliding_window_eval_exact stride:64"), "final_sliding_window_eval_exact", "sliding",
     dict(mode="sliding_window_eval")),
    (line("final_int8_zlib_roundtrip_exact sliding"), "final_int8_zlib_roundtrip_exact sliding", "sliding",
     dict(quant="int8", compressor="zlib", mode="roundtrip_sliding")),
    (line("final_int6_standard"), "final_int6_standard", "roundtrip", dict(quant="int6", mode="standard")),
    (line("final_quant_roundtrip_exact mode:mixed"), "final_quant_roundtrip_exact mode:mixed", "roundtrip",
     dict(quant="quant", mode="roundtrip", qualifiers={"mode": "mixed"})),
    (line("roundtrip_int6+zstd22"), "roundtrip_int6+zstd22", "roundtrip",
     dict(final=False, quant="int6", compressor="zstd22", mode="roundtrip")),
    (line("final_INT7_zlib_roundtrip", decimals=4), "final_INT7_zlib_roundtrip", "roundtrip",
     dict(quant="INT7", compressor="zlib")),
    (line("final_xnor_roundtrip"), "final_xnor_roundtrip", "roundtrip", dict(quant="xnor")),
    (line("final_temped"), "final_temped", "tempered", dict(mode="temped")),
    (line("final_ngram_exact"), "final_ngram_exact", "flagged", dict(mode="ngram")),
    ("ngram_exact:val_loss:1.85900000 val_bpb:1.10000000", "ngram_exact", "flagged", dict(mode="ngram", exact=True)),
    (line("quantized_sliding_window_ppm_mixer"), "quantized_sliding_window_ppm_mixer", "flagged", {}),
    # never a score, whatever the ruleset: diagnostics, pre-quantization and progress lines
    (line("diagnostic quantized"), "diagnostic quantized", "excluded", dict(kind="diagnostic")),
    (line("DIAGNOSTIC post_ttt"), "DIAGNOSTIC post_ttt", "excluded", dict(kind="diagnostic")),
    (line("pre_quant_eval_exact"), "pre_quant_eval_exact", "excluded", dict(kind="prequant")),
    (line("post-prequant-ttt"), "post-prequant-ttt", "excluded", dict(kind="prequant")),
    ("ttt_sliding:done val_loss=1.891102 val_bpb=1.120020 elapsed=300.1s", "ttt_sliding:done", "excluded",
     dict(kind="progress")),
    (line("ttt_chunk 3/10"), "ttt_chunk 3/10", "progress", dict(kind="progress")),
    (line("ttt_chunk [3/10]"), "ttt_chunk [3/10]", "progress", dict(kind="progress")),
]


@pytest.mark.parametrize("text,label,where,parts", FAMILIES, ids=[f[1] for f in FAMILIES])
def test_each_family_is_read_and_placed(text, label, where, parts):
    score = scored(text)
    assert score.label == label
    placement = place(label, RULES)
    assert placement.place == where
    for key, value in parts.items():
        assert getattr(placement.parts, key) == value, key


def test_a_label_the_grammar_cannot_place_keeps_the_parts_it_read():
    placement = place("final_int6+brotli_slot_exact", RULES)
    assert placement.place == "unplaced" and not placement.scored
    assert placement.parts.describe() == "final, quantisation int6, compressor brotli, mode slot, exact"


def test_an_exact_line_and_its_twin_are_one_family():
    assert read_label("final_int6_ttt_exact").family == read_label("final_int6_ttt").family == "final_int6_ttt"
    assert read_label("final_quant_roundtrip_exact mode:mixed").family == "final_quant_roundtrip mode:mixed"


# ---- precedence between the classes -------------------------------------------------------------

def test_ttt_over_sliding_over_roundtrip_over_tempered_wherever_they_stand():
    lines = [line("final_int6_sliding_window_exact", 1.12), line("final_int6_ttt_exact", 1.10),
             line("final_int6_roundtrip_exact", 1.14), line("final_temped", 1.13)]
    for order in (lines, lines[::-1]):
        assert choose(parse_text("\n".join(order) + "\n").run, RULES).label == "final_int6_ttt_exact"
    no_ttt = [lines[0], lines[2], lines[3]]
    assert choose(parse_text("\n".join(no_ttt) + "\n").run, RULES).label == "final_int6_sliding_window_exact"
    assert choose(parse_text("\n".join(lines[2:]) + "\n").run, RULES).label == "final_int6_roundtrip_exact"
    assert choose(parse_text(lines[3] + "\n").run, RULES).label == "final_temped"


def test_within_a_class_the_exact_line_then_the_last_one():
    run = parse_text("\n".join([line("final_int6_sliding_window_exact", 1.12),
                                line("final_int6_sliding_window", 1.1200, decimals=4),
                                line("final_int8_zlib_roundtrip_exact sliding", 1.13)]) + "\n").run
    assert choose(run, RULES).label == "final_int8_zlib_roundtrip_exact sliding"
    run = parse_text("\n".join([line("final_ttt_lora", 1.1529, decimals=4), line("final_ttt_lora_exact", 1.15289371),
                                line("final_ttt_lora", 1.1529, decimals=4)]) + "\n").run
    assert choose(run, RULES).val_bpb == 1.15289371


def test_flagged_unplaced_and_never_scored_lines_are_never_chosen():
    run = parse_text("\n".join([line("final_ngram_exact", 0.9), line("final_int6_slot_exact", 0.95),
                                line("pre-quantization post-ema", 1.0), line("diagnostic quantized", 1.05),
                                line("quantized", 1.06), line("final_int6_roundtrip", 1.2)]) + "\n").run
    assert choose(run, RULES).label == "final_int6_roundtrip"
    assert choose(parse_text(line("final_ngram_exact") + "\n").run, RULES) is None
    assert choose(run, RULES, family="final_int6_roundtrip").val_bpb == 1.2


# ---- the label reader refuses what is not a label -----------------------------------------------

@pytest.mark.parametrize("label", ["", '"log_tail": "x', "[2026-04-01 10:00:00,123] INFO: step:3/10",
                                   "Final result for seed 42 was, in the end,", "a" * 200, "step 3: {x}"])
def test_not_labels(label):
    assert not is_label(label)


def test_junk_before_metric_values_is_never_a_score():
    text = "\n".join([
        '  "log_tail": "final_int6_ttt_exact val_loss:1.85900000 val_bpb:1.10000000 eval_time:900ms",',
        "[2026-04-01 10:00:00,123] INFO: step:3/10 val_loss:2.0000 val_bpb:1.2000",
        "val_loss:1.85900000 val_bpb:1.10000000",
        line("final_int6_roundtrip_exact", 1.2),
    ]) + "\n"
    parsed = parse_text(text)
    run = parsed.run
    assert [s.label for s in run.scores] == ["final_int6_roundtrip_exact"]
    assert [(p.step, p.total_steps, p.val_bpb) for p in run.periodic] == [(3, 10, 1.2)]   # logger prefix dropped
    assert [(c.value, c.line) for c in run.printed_claims] == [(1.1, 3)]                  # the unlabelled line
    assert any("log_tail" in problem and "not a score label" in problem for problem in parsed.problems)


def test_torchrun_tee_prefix_is_dropped():
    run = parse_text("[default0]:" + line("quantized_ttt", 1.07) + "\n[default0]:4000/50000 val_loss: 2.1 "
                     "val_bpb: 1.3\n").run
    assert [s.label for s in run.scores] == ["quantized_ttt"]
    assert [p.step for p in run.periodic] == [4000]


# ---- free-form summaries are claims the script printed, never a score --------------------------

def test_free_form_summary_lines_are_printed_claims():
    text = "\n".join(["Mean val_bpb : 1.1752", "- val_bpb: 1.35557361", "val_bpb: 1.2", "eval_bits_per_byte=1.21",
                      "val_bpb:enabled tokenizer_kind=sentencepiece"]) + "\n"
    run = parse_text(text).run
    assert [(c.value, c.decimals, c.line) for c in run.printed_claims] == [
        (1.1752, 4, 1), (1.35557361, 8, 2), (1.2, 1, 3), (1.21, 2, 4)]
    assert run.scores == [] and choose(run, RULES) is None
    assert run.config["tokenizer_kind"] == "sentencepiece"   # a config line is still configuration


def test_label_checks_stay_linear_on_long_lines():
    # possessive patterns: a long run of label characters followed by a character no label holds
    long = "a" * 200_000 + "!"
    assert not is_label(long[:150] + "!")
    parsed = parse_text(long + " val_loss:1.0 val_bpb:1.0\n" + "x_" * 100_000 + " val_loss:1.0 val_bpb:1.0\n")
    assert parsed.run is None or parsed.run.scores == []


# ---- any label built from the grammar's parts reads back as those parts ----------------------------

MODES = [("ttt", "ttt"), ("ttt_lora", "ttt"), ("causal_ttt", "ttt"), ("legal_ttt", "ttt"), ("sgd_ttt", "ttt"),
         ("dyneval", "ttt"), ("ttt_phased", "ttt"), ("kv_cache_eval", "ttt"), ("sliding", "sliding"),
         ("sliding_window", "sliding"), ("sliding_window_eval", "sliding"), ("roundtrip", "roundtrip"),
         ("standard", "roundtrip"), ("temped", "tempered"), ("ngram", "flagged"), ("ppm", "flagged"),
         ("mixer", "flagged"), ("slot", "unplaced")]


@settings(max_examples=300, deadline=None)
@given(final=st.booleans(), quant=st.sampled_from([None, "int5", "int6", "int8", "INT7", "ternary", "binary", "xnor",
                                                   "mixed", "quant", "quantized"]),
       compressor=st.sampled_from([None, "zlib", "zstd22", "lzma", "brotli"]), joiner=st.sampled_from(["_", "+"]),
       mode=st.sampled_from(MODES), exact=st.booleans(),
       qualifiers=st.lists(st.sampled_from(["mode:mixed", "backend:polar"]), unique=True, max_size=2))
def test_any_label_of_the_grammar_reads_back(final, quant, compressor, joiner, mode, exact, qualifiers):
    packed = joiner.join(p for p in (quant, compressor) if p)
    core = "_".join(p for p in ("final" if final else None, packed or None, mode[0], "exact" if exact else None) if p)
    label = " ".join([core, *qualifiers])
    score = scored(line(label))
    assert score.label == label and score.exact == exact
    parts = read_label(label)
    assert (parts.kind, parts.final, parts.quant, parts.compressor, parts.mode, parts.exact) == (
        "score", final, quant, compressor, mode[0], exact)
    assert parts.qualifiers == dict(q.split(":") for q in qualifiers)
    placement = place(label, RULES)
    if any(fnmatchcase(label, glob) for glob in RULES.excluded_labels):   # final_int6_ttt, overloaded
        assert placement.place == "excluded" and placement.mode_class == mode[1]
    else:
        assert placement.place == mode[1]


def test_a_long_free_form_line_is_read_in_linear_time():
    parsed = parse_text("val_bpb: " + "1" * 1_000_000 + "x\n" + "Mean val_bpb :" + " " * 1_000_000 + "1.5\n")
    assert [c.value for c in parsed.run.printed_claims] == [1.5]


# ---- the claim as a witness, through golf verify ----------------------------------------------------

SEEDS = (1337, 42, 2025)


def _record_with(tmp_path, name, extra_lines, claimed):
    """The verify kit's 3-seed record (roundtrip scores 1.1000, 1.1010, 1.0990), each log given its extra
    lines, its submission.json claiming the per-seed values `claimed` (and their mean)."""
    from fixtures.verify.kit import default_submission, make_record

    root = make_record(tmp_path, name, seeds=SEEDS, submission=default_submission(SEEDS, claimed))
    for seed, extra in zip(SEEDS, extra_lines):
        log = root / f"train_seed{seed}.log"
        log.write_text(log.read_text() + "".join(f"{text}\n" for text in extra))
    return root


def _verify(root):
    from golf.judge.verify import verify_record

    report = verify_record(root)
    return report, {f.name for f in report.findings}, {r.log: r.label for r in report.runs}


def test_an_extra_evaluation_after_the_claimed_score_in_one_run(tmp_path):
    # as SP4096 seed 42: every run scores sliding; one prints a worse `final_int6_ttt` afterwards
    sliding = [[line("final_int6_sliding_window_exact", b)] for b in (1.09, 1.091, 1.089)]
    sliding[0].append(line("final_int6_ttt", 1.2))
    report, found, labels = _verify(_record_with(tmp_path, "2026-04-06_Extra", sliding, (1.09, 1.091, 1.089)))
    assert set(labels.values()) == {"final_int6_sliding_window_exact"}
    assert "claim-mismatch" not in found and "score-chosen-by-claim" not in found


def test_the_claim_names_an_overloaded_label_the_ruleset_excludes(tmp_path):
    # every run's claimed score is the non-exact `final_int6_ttt` line the ruleset excludes as overloaded
    extra = [[line("final_int6_sliding_window_exact", b + 0.02), line("final_int6_ttt", b)]
             for b in (1.05, 1.051, 1.049)]
    report, found, labels = _verify(_record_with(tmp_path, "2026-04-06_Ttt", extra, (1.05, 1.051, 1.049)))
    assert set(labels.values()) == {"final_int6_ttt"}
    assert "score-chosen-by-claim" in found and "claim-mismatch" not in found
    # a claim that is none of the families changes nothing: the classes decide and G205 says what it is
    report, found, labels = _verify(_record_with(tmp_path, "2026-04-07_Ttt", extra, (1.3, 1.3, 1.3)))
    assert set(labels.values()) == {"final_int6_sliding_window_exact"}
    assert "score-chosen-by-claim" not in found and "claim-mismatch" in found


def test_the_claim_never_chooses_flagged_or_unplaced_lines(tmp_path):
    extra = [[line("final_ngram_exact", b), line("final_slot_exact", b)] for b in (0.9, 0.901, 0.899)]
    report, found, labels = _verify(_record_with(tmp_path, "2026-04-06_Ngram", extra, (0.9, 0.901, 0.899)))
    assert set(labels.values()) == {"final_int8_zlib_roundtrip_exact"}
    assert {"claim-mismatch", "flagged-score-label", "unknown-score-label"} <= found
    assert "score-chosen-by-claim" not in found


# Every label of spec 3.2's table keeps its place: the tier the old precedence list gave it, or never a score.
SPEC_TABLE = {
    "final_int8_zlib_roundtrip_exact": "roundtrip", "final_int8_zlib_roundtrip": "roundtrip",
    "final_int6_roundtrip": "roundtrip", "final_int6_roundtrip_exact": "roundtrip",
    "diagnostic pre-quantization post-ema": "excluded", "diagnostic quantized": "excluded",
    "final_int6_sliding_window": "sliding", "quantized_ttt_phased": "ttt", "pre-quantization post-ema": "excluded",
    "final_int6_sliding_window_exact": "sliding", "quantized": "excluded", "quantized_sliding_window": "sliding",
    "DIAGNOSTIC post_ema": "excluded", "ttt_sliding:done": "excluded", "legal_ttt_exact": "ttt",
    "final_sliding": "sliding", "final_xnor_roundtrip": "roundtrip", "quantized_ttt_lora": "ttt",
    "final_sliding_window": "sliding", "final_sliding_window_exact": "sliding",
    "final_sliding_window_eval": "sliding", "final_sliding_window_eval_exact": "sliding", "legal_ttt": "ttt",
    "final_ternary_roundtrip": "roundtrip", "quantized_ttt": "ttt", "final_roundtrip": "roundtrip",
    "final_temped": "tempered", "final_int8_zlib_roundtrip sliding": "sliding",
    "final_int8_zlib_roundtrip_exact sliding": "sliding", "final_ttt_lora": "ttt", "final_int8_ttt_lora": "ttt",
    "final_int6_ttt": "excluded", "final_binary_roundtrip": "roundtrip", "final_INT7_zlib_roundtrip": "roundtrip",
    "final_ttt_T0.98_exact": "ttt",
}


@pytest.mark.parametrize("label,where", sorted(SPEC_TABLE.items()))
def test_spec_table_labels_keep_their_place(label, where):
    assert place(label, RULES).place == where
    assert is_label(label)

"""The log grammar on self-written fixtures, one per format family (spec 1.12, 3.2, 3.3)."""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path

import pytest

from golf.read.logs import BANNER, SOURCE_KEEP_LIMIT, choose_score, parse_log, parse_text

FIXTURES = Path(__file__).parent / "fixtures" / "logs"

# Test-only copy of the spec 5.1 precedence (TTT > sliding > roundtrip); the ruleset file is the
# real home of these patterns.
DEFAULT_PRECEDENCE = [
    "legal_ttt_exact", "legal_ttt", "quantized_ttt_phased", "quantized_ttt_lora", "quantized_ttt",
    "final_ttt_lora", "final_int8_ttt_lora",
    "*sliding_window*exact*", "quantized_sliding_window", "*sliding_window*", "final_sliding", "* sliding",
    "final_int8_zlib_roundtrip_exact", "final_int8_zlib_roundtrip", "*_roundtrip_exact", "*_roundtrip",
    "final_temped",
]
DEFAULT_EXCLUDE = ["diagnostic*", "DIAGNOSTIC*", "pre-quantization*", "*post_ema*", "*post-ema*",
                   "quantized", "step*", "ttt_sliding:done*"]


def parse(name):
    return parse_log(FIXTURES / name)


def score(run, override=None):
    return choose_score(run, DEFAULT_PRECEDENCE, DEFAULT_EXCLUDE, override)


def source_of(name: str) -> str:
    """The fixture's embedded source: the text before the first banner, less the newline log0 adds."""
    text = (FIXTURES / name).read_text()
    return text[:text.index(BANNER)][:-1]


# ---- family A: baseline log file with the source header --------------------------------------

def test_baseline_log_file_everything_of_spec_1_12():
    parsed = parse("a_baseline_with_source.txt")
    assert parsed.problems == []
    assert len(parsed.runs) == 1
    run = parsed.run
    chosen = score(run)
    assert (chosen.label, chosen.val_loss, chosen.val_bpb) == (
        "final_int8_zlib_roundtrip_exact", 2.07269931, 1.22436570)
    assert chosen.exact and chosen.decimals == 8
    assert [s.label for s in run.scores] == ["final_int8_zlib_roundtrip", "final_int8_zlib_roundtrip_exact"]
    assert run.scores[0].eval_time_ms == 1401
    assert (run.steps, run.total_steps, run.stop_reason) == (13780, 20000, "wallclock_cap")
    assert run.train_time_ms == 600038 and run.step_avg_ms == 43.54
    assert run.eval_times_ms == {"final_int8_zlib_roundtrip": 1401}
    assert run.total_eval_time_ms == 1401
    assert run.peak_memory_mib == 10184
    assert run.model_bytes == 15815847 and run.code_bytes == 47642 and run.total_bytes == 15863489
    kinds = {(s.kind, s.format): s.bytes for s in run.sizes}
    assert kinds[("raw_model", None)] == 67224983 and kinds[("raw_total", None)] == 67272625
    assert kinds[("model", "int8+zlib")] == 15815847
    assert run.seed == 1337 and run.world_size == 2
    assert run.config["train_seq_len"] == "1024" and run.config["max_wallclock_seconds"] == "600.000"
    assert run.python_version == "3.12.3" and run.torch_version == "2.9.1+cu128"
    assert run.gpus == ["NVIDIA H100 80GB HBM3"] * 2
    assert [(p.step, p.val_bpb, p.train_time_ms) for p in run.periodic] == [
        (0, 4.1077, 0), (400, 1.48, 17400), (13780, 1.2172, 600038)]
    assert run.complete


def test_source_region_is_exact_and_never_parsed():
    run = parse("a_baseline_with_source.txt").run
    expected = source_of("a_baseline_with_source.txt")
    assert run.source == expected
    assert run.source_sha256 == hashlib.sha256(expected.encode()).hexdigest()
    assert run.source_first_line == 1 and run.source_last_line == expected.count("\n") + 1
    # the numerals written inside the source (a comment, a print) are not results
    assert all(s.val_bpb not in (0.22222222, 9.9999) for s in run.scores)
    assert all(p.val_bpb != 9.9999 for p in run.periodic)


def test_byte_order_mark_is_ignored():
    source = "import os\n"
    run = parse_text("\ufeff" + source + "\n" + BANNER + "\nRunning Python 3.12.3\n").run
    assert run.source == source and run.python_version == "3.12.3"
    assert parse_text("\ufeff" + BANNER + "\nSource code:\n" + BANNER + "\nimport os\n" + BANNER + "\n").run.source \
        == "import os"


def test_source_keeps_crlf_and_exact_bytes():
    source = 'import os\r\nprint("x")\r\n'
    text = source + "\r\n" + BANNER + "\r\nfinal_int8_zlib_roundtrip_exact val_loss:1.00000000 val_bpb:0.50000000\r\n"
    run = parse_text(text).run
    assert run.source == source
    assert run.source_sha256 == hashlib.sha256(source.encode()).hexdigest()
    assert score(run).val_bpb == 0.5


# ---- family B: stdout capture with torchrun noise --------------------------------------------

def test_stdout_capture_with_rank_prefixes_and_ttt():
    parsed = parse("b_stdout_torchrun.txt")
    assert parsed.problems == []
    run = parsed.run
    assert run.source is None and run.python_version is None
    chosen = score(run)
    assert (chosen.label, chosen.val_bpb) == ("legal_ttt_exact", 1.12002032)
    labels = [s.label for s in run.scores]
    assert labels == ["DIAGNOSTIC post_ema", "final_int6_roundtrip", "final_int6_roundtrip_exact",
                      "final_int6_sliding_window", "final_int6_sliding_window_exact",
                      "final_int8_zlib_roundtrip_exact", "ttt_sliding:done", "legal_ttt", "legal_ttt_exact"]
    done = run.scores[labels.index("ttt_sliding:done")]
    assert (done.val_loss, done.val_bpb, done.decimals) == (1.891102, 1.120020, 6)
    assert run.scores[labels.index("final_int6_sliding_window")].stride == 64
    assert run.config["train_seq_len"] == "2048"     # a `[rank0]:` prefixed config line
    assert not {"Warning", "Running", "Uploading", "nohup", "start"} & set(run.config)
    assert (run.seed, run.world_size, run.steps) == (42, 8, 7182)
    assert run.total_bytes == 15876510 and run.model_bytes == 15787052 and run.code_bytes == 89458
    # no total logged: the sum of every phase that carries a time
    assert run.total_eval_time_ms == 1977 + 20430 + 97749 + 408049


def test_precedence_tiers_and_override():
    run = parse("b_stdout_torchrun.txt").run
    without_ttt = [p for p in DEFAULT_PRECEDENCE if "ttt" not in p]
    assert choose_score(run, without_ttt, DEFAULT_EXCLUDE).label == "final_int6_sliding_window_exact"
    roundtrip_only = [p for p in without_ttt if "sliding" not in p]
    # the int8 label is overloaded (an alias of the sliding result): precedence, not position, decides
    assert choose_score(run, roundtrip_only, DEFAULT_EXCLUDE).val_bpb == 1.12266500
    assert score(run, override="final_int6_roundtrip*").val_bpb == 1.14603270
    assert score(run, override="no_such_label") is None
    assert choose_score(run, ["DIAGNOSTIC*"], DEFAULT_EXCLUDE) is None
    assert choose_score(None, DEFAULT_PRECEDENCE, DEFAULT_EXCLUDE) is None


# ---- family C: new style (Hyperparameters dump, Source code banner, timestamps) --------------

def test_new_style_with_source_banner_and_timestamps():
    parsed = parse("c_new_style_banner.txt")
    assert parsed.problems == []
    assert len(parsed.runs) == 1
    run = parsed.run
    chosen = score(run)
    assert (chosen.label, chosen.val_loss, chosen.val_bpb) == ("quantized_ttt_phased", 2.33730724, 1.06805820)
    assert chosen.eval_time_ms == 488803 and not chosen.exact and chosen.decimals == 8
    assert run.config["seed"] == "0" and run.config["run_id"] == "caseops_seed0"
    assert run.config["val_loss_every"] == "4000"
    assert (run.seed, run.world_size) == (0, 8)
    assert [(p.step, p.total_steps, p.val_bpb) for p in run.periodic] == [
        (0, 20000, 3.4874), (4000, 20000, 1.1126), (4921, 20000, 1.0723)]
    assert (run.steps, run.stop_reason, run.train_time_ms) == (4921, "wallclock_cap", 596107)
    assert run.total_eval_time_ms == 489100 and run.logged_total_eval_time_ms == 489100
    assert run.code_bytes == 28320  # the compressed figure counted in the logged total
    assert {s.kind: s.bytes for s in run.sizes}["code_uncompressed"] == 125671
    assert run.total_bytes == 15932307 and run.model_bytes == 15903987
    text = (FIXTURES / "c_new_style_banner.txt").read_text()
    start = text.index("Source code:\n" + BANNER + "\n") + len("Source code:\n" + BANNER + "\n")
    expected = text[start:text.index("\n" + BANNER, start)]
    assert run.source == expected
    assert run.python_version == "3.10.12"


def test_hyperparameter_dump_followed_directly_by_source():
    run = parse("c_hparams_then_source.txt").run
    assert run.config == {"iterations": "20000", "seed": "2025", "world_size": "8", "train_shards": "80"}
    assert run.source.startswith("import os\n") and run.source.endswith('{1.0:.8f}")')
    chosen = score(run)
    assert (chosen.label, chosen.val_bpb, chosen.decimals) == ("final_int6_sliding_window", 1.09816278, 8)
    assert choose_score(run, ["*"], DEFAULT_EXCLUDE).label == "final_int6_sliding_window"


# ---- family D: custom formats ----------------------------------------------------------------

def test_ternary_sizes_and_final_sliding():
    run = parse("d_ternary.txt").run
    chosen = score(run)
    assert (chosen.label, chosen.val_bpb, chosen.stride) == ("final_sliding", 1.1578, 16)
    assert run.config["seed"] == "7" and run.seed == 7
    assert run.code_bytes == 70853 and run.total_bytes == 15992753
    model = [s for s in run.sizes if s.kind == "model"]
    assert model[0].approximate and model[0].bytes == 15_920_000
    assert run.eval_times_ms == {"temp_scaling": 150, "final_sliding": 429023}
    assert run.python_version == "3.13.12" and run.torch_version == "2.10.0+cu128"
    assert (run.steps, run.total_steps) == (6530, 10000)


def test_jepa_mb_sizes_and_time_suffix():
    run = parse("d_jepa.txt").run
    chosen = score(run)
    assert (chosen.label, chosen.val_bpb, chosen.eval_time_ms) == ("final_sliding", 1.2566, 123304)
    sizes = {s.kind: s for s in run.sizes}
    assert sizes["model"].format == "INT4+fp8+brotli" and sizes["model"].bytes == 15_420_000
    assert sizes["code"].bytes == 77_000 and sizes["total"].bytes == 15_500_000
    assert all(s.approximate for s in run.sizes)
    assert [s.label for s in run.scores] == ["final_roundtrip", "final_temped", "final_sliding"]


def test_int7_line_stride_label_and_sliding_before_keys():
    run = parse("d_int7_and_label_variants.txt").run
    assert run.model_bytes == 15700000 and run.total_bytes == 15751234 and run.code_bytes == 51234
    assert {s.format for s in run.sizes if s.kind in ("model", "total")} == {"INT7+zlib"}
    labels = [(s.label, s.stride) for s in run.scores]
    assert ("final_sliding_window_eval_exact", 64) in labels
    assert ("final_int8_zlib_roundtrip_exact sliding", None) in labels
    assert score(run).label == "final_sliding_window_eval_exact"
    assert score(run, override="* sliding").val_bpb == 1.19000002
    assert score(run, override="final_INT7*").val_bpb == 1.22


# ---- several runs, broken logs ---------------------------------------------------------------

def test_concatenated_runs_last_complete_run_wins():
    parsed = parse("concatenated_runs.txt")
    assert len(parsed.runs) == 3
    first, second, third = parsed.runs
    assert not first.complete and first.seed == 1
    assert second.seed == 2 and third.seed == 3
    assert parsed.run is third
    assert score(third).val_bpb == 1.16301431
    assert score(second).val_bpb == 1.19763674
    assert first.source_sha256 == second.source_sha256 != third.source_sha256
    assert third.source == source_of("a_baseline_with_source.txt").replace("tiny", "second tiny")
    assert any("run 1" in p and "no final score" in p for p in parsed.problems)
    assert all(s.val_bpb not in (0.22222222, 9.9999) for run in parsed.runs for s in run.scores)


def test_last_complete_run_preferred_over_a_later_crashed_one():
    text = ("world_size:8 grad_accum_steps:1\nfinal_int8_zlib_roundtrip_exact val_loss:2.00000000 val_bpb:1.10000000\n"
            "Running Python 3.12.3\nworld_size:8 grad_accum_steps:1\nstep:1/100 train_loss:5.0 train_time:10ms\n")
    parsed = parse_text(text)
    assert len(parsed.runs) == 2 and parsed.run is parsed.runs[0]


def test_nan_and_inf_are_parsed_but_never_a_score():
    parsed = parse("nan_score.txt")
    run = parsed.run
    assert math.isnan(run.scores[0].val_loss) and math.isinf(run.scores[1].val_bpb)
    assert score(run) is None
    assert sum("non-finite" in p for p in parsed.problems) == 3
    text = (FIXTURES / "nan_score.txt").read_text() + "final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.5\n"
    assert score(parse_text(text).run).val_bpb == 1.5


def test_truncated_log():
    parsed = parse("truncated.txt")
    run = parsed.run
    assert not run.complete and run.scores == [] and score(run) is None
    assert run.steps == 13000 and run.stop_reason is None
    assert any("no final score line" in p for p in parsed.problems)


def test_empty_log(tmp_path):
    parsed = parse("empty.txt")
    assert parsed.runs == [] and parsed.run is None and parsed.problems == ["empty log"]
    blank = tmp_path / "blank.txt"
    blank.write_text("\n\n   \n")
    assert parse_log(blank).problems == ["no run found in the log"]


def test_binary_junk_is_decoded_with_replacement():
    parsed = parse("binary_junk.txt")
    assert [s.val_bpb for s in parsed.run.scores] == [1.22436570]
    with open(FIXTURES / "binary_junk.txt", "rb") as handle:
        assert parse_log(handle).run.scores[0].val_loss == 2.07269931


def test_streams_and_iterables():
    text = (FIXTURES / "d_ternary.txt").read_text()
    from_stream = parse_log(io.StringIO(text))
    from_lines = parse_log(text.splitlines(keepends=True))
    assert score(from_stream.run).val_bpb == score(from_lines.run).val_bpb == 1.1578


def test_templates_are_never_results():
    text = ('log0(f"final_int8_zlib_roundtrip_exact val_loss:{q_val_loss:.8f} val_bpb:{q_val_bpb:.8f}")\n'
            "final_int8_zlib_roundtrip val_loss:{x} val_bpb:{y}\n"
            "legal_ttt_exact val_loss:%.8f val_bpb:%.8f\n")
    parsed = parse_text(text)
    assert all(run.scores == [] for run in parsed.runs)


def test_prefer_exact_within_a_label_and_last_occurrence():
    text = ("final_int6_sliding_window_exact val_loss:2.00000000 val_bpb:1.10000000\n"
            "final_int6_sliding_window val_loss:2.0000 val_bpb:1.0999 eval_time:100ms\n"
            "final_int6_sliding_window_exact val_loss:2.00000000 val_bpb:1.10000001\n")
    run = parse_text(text).run
    assert choose_score(run, ["final_int6_sliding_window*"], []).val_bpb == 1.10000001
    assert choose_score(run, ["final_int6_sliding_window"], []).val_bpb == 1.0999


def test_separators_and_sliding_word():
    text = ("final_x val_loss=2.5 val_bpb=1.25\n"
            "final_y val_loss: 2.25000000 val_bpb: 1.12500000 eval_time: 3.5s\n"
            "final_z sliding val_loss:2.0 sliding val_bpb:1.0\n")
    scores = parse_text(text).run.scores
    assert [(s.label, s.val_loss, s.val_bpb) for s in scores] == [
        ("final_x", 2.5, 1.25), ("final_y", 2.25, 1.125), ("final_z sliding", 2.0, 1.0)]
    assert scores[1].eval_time_ms == 3500


def test_oversized_source_is_hashed_but_not_kept(monkeypatch):
    import golf.read.logs as logs_module

    monkeypatch.setattr(logs_module, "SOURCE_KEEP_LIMIT", 1000)
    source = "import os\n" + "x = 1\n" * 400
    text = source + "\n" + BANNER + "\nfinal_int8_zlib_roundtrip_exact val_loss:1.00000000 val_bpb:0.50000000\n"
    parsed = parse_text(text)
    assert parsed.run.source is None
    assert parsed.run.source_sha256 == hashlib.sha256(source.encode()).hexdigest()
    assert any("not kept" in p for p in parsed.problems)
    assert SOURCE_KEEP_LIMIT == 5_000_000


def test_unclosed_source_is_read_as_log_lines():
    text = ("# a stdout capture that starts with a comment\nworld_size:8 grad_accum_steps:1\n"
            "final_int8_zlib_roundtrip_exact val_loss:2.00000000 val_bpb:1.10000000\n")
    parsed = parse_text(text)
    run = parsed.run
    assert run.source is None and run.source_sha256 is None
    assert run.world_size == 8 and score(run).val_bpb == 1.1 and score(run).line == 3
    assert any("never closed" in p for p in parsed.problems)


@pytest.mark.parametrize("prefix", ["", "[rank0]:", "[rank7]: ", "1776142348.135 ", "[rank0]:1776142348 "])
def test_line_prefixes(prefix):
    run = parse_text(prefix + "quantized_ttt_phased val_loss:2.33730724 val_bpb:1.06805820 eval_time:488803ms\n").run
    assert (run.scores[0].label, run.scores[0].val_bpb) == ("quantized_ttt_phased", 1.06805820)


def test_huge_line_is_cut(monkeypatch, tmp_path):
    import golf.read.logs as logs_module

    monkeypatch.setattr(logs_module, "MAX_LINE_CHARS", 100)
    monkeypatch.setattr(logs_module, "SMALL_FILE_BYTES", 0)
    path = tmp_path / "long.log"
    path.write_text("x" * 1000 + "\nfinal_int8_zlib_roundtrip_exact val_loss:2.00000000 val_bpb:1.10000000\n")
    parsed = parse_log(path)
    assert parsed.run.scores[0].line == 2 and parsed.run.scores[0].val_bpb == 1.1
    assert parsed.run.scores[0].decimals == 8
    assert any("line 1: longer than 100" in p for p in parsed.problems)


def test_per_run_lists_are_capped(monkeypatch):
    import golf.read.logs as logs_module

    monkeypatch.setattr(logs_module, "MAX_ENTRIES", 3)
    lines = [f"step:{i}/10 val_loss:2.{i}000 val_bpb:1.{i}000" for i in range(1, 7)]
    lines += [f"final_x{i} val_loss:2.0 val_bpb:1.{i}" for i in range(1, 7)]
    parsed = parse_text("\n".join(lines) + "\n")
    run = parsed.run
    assert [p.step for p in run.periodic] == [1, 2, 6]
    assert [s.label for s in run.scores] == ["final_x1", "final_x2", "final_x6"]
    assert sum("more than 3" in p for p in parsed.problems) == 2


def test_timing_keys_are_whole_words():
    # `xtrain_time:` and `pre_step_avg:` are other keys; only the standalone words are read.
    text = ("step:7/10 train_loss:2.5 xtrain_time:999ms train_time:70ms pre_step_avg:99.00ms step_avg:10.00ms\n"
            "final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.2\n")
    run = parse_text(text).run
    assert (run.steps, run.train_time_ms, run.step_avg_ms) == (7, 70.0, 10.0)


def test_decimals_of_scores_count_digits_before_any_exponent():
    run = parse_text("a val_loss:2.5e-1 val_bpb:1.25E+0\nb val_loss:2.123 val_bpb:1.1234\n").run
    assert [s.decimals for s in run.scores] == [2, 4]

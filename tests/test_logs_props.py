"""Property-based tests of the log grammar, and bounded memory on a large generated log."""

from __future__ import annotations

import io
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from log_samples import write_big_log

from golf.read.logs import parse_log, parse_text

LABELS = [
    "final_int8_zlib_roundtrip", "final_int8_zlib_roundtrip_exact", "final_int6_roundtrip",
    "final_int6_roundtrip_exact", "final_int6_sliding_window", "final_int6_sliding_window_exact",
    "quantized_ttt_phased", "quantized_sliding_window", "quantized", "diagnostic quantized",
    "diagnostic pre-quantization post-ema", "pre-quantization post-ema", "DIAGNOSTIC post_ema",
    "ttt_sliding:done", "legal_ttt_exact", "legal_ttt", "final_sliding", "final_sliding_window",
    "final_sliding_window_exact", "quantized_ttt_lora", "final_xnor_roundtrip", "final_ternary_roundtrip",
    "final_roundtrip", "final_temped", "final_ttt_lora", "final_int8_ttt_lora", "final_int6_ttt",
    "final_binary_roundtrip", "final_INT7_zlib_roundtrip",
]
SEPARATORS = [":", ": ", "="]
PREFIXES = ["", "[rank0]:", "[rank3]: ", "[default0]:", "1776142348.135 ", "1776142348 "]
SUFFIXES = ["", " eval_time:123ms", " stride:64 eval_time:97749ms", " (stride=16, T=0.90) eval_time:429023ms",
            " (stride=16, T=1.02) time:130598ms", " T=1.02", " elapsed=407.5s", " eval_time:5.5s"]

values = st.floats(min_value=0, max_value=50, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(label=st.sampled_from(LABELS), sep=st.sampled_from(SEPARATORS), decimals=st.sampled_from([4, 6, 8]),
       prefix=st.sampled_from(PREFIXES), suffix=st.sampled_from(SUFFIXES), sliding=st.booleans(),
       stride_in_label=st.sampled_from([None, 64, 256]), loss=values, bpb=values)
def test_any_score_line_parses_back(label, sep, decimals, prefix, suffix, sliding, stride_in_label, loss, bpb):
    loss_text, bpb_text = f"{loss:.{decimals}f}", f"{bpb:.{decimals}f}"
    word = "sliding " if sliding else ""
    head = label if stride_in_label is None else f"{label} stride:{stride_in_label}"
    line = f"{prefix}{head} {word}val_loss{sep}{loss_text} {word}val_bpb{sep}{bpb_text}{suffix}\n"
    run = parse_text(line).run
    assert len(run.scores) == 1
    score = run.scores[0]
    assert score.val_loss == float(loss_text) and score.val_bpb == float(bpb_text)
    assert score.label == (f"{label} sliding" if sliding else label)
    assert score.decimals == decimals
    assert score.exact == label.endswith("_exact")
    if stride_in_label is not None:
        assert score.stride == stride_in_label
    elif "stride" in suffix:
        assert score.stride == int(suffix.split("stride")[1][1:].split()[0].rstrip(","))
    if "time:" in suffix:
        assert score.eval_time_ms is not None and score.eval_time_ms > 0


@settings(max_examples=200, deadline=None)
@given(step=st.integers(0, 10**6), total=st.integers(1, 10**6), sep=st.sampled_from([":", ": "]),
       old=st.booleans(), loss=values, bpb=values)
def test_any_periodic_line_parses_back(step, total, sep, old, loss, bpb):
    head = f"step:{step}/{total}" if old else f"{step}/{total}"
    tail = " train_time:1234ms step_avg:12.34ms" if old else ""
    run = parse_text(f"{head} val_loss{sep}{loss:.4f} val_bpb{sep}{bpb:.4f}{tail}\n").run
    assert run.scores == []
    (periodic,) = run.periodic
    assert (periodic.step, periodic.total_steps) == (step, total)
    assert periodic.val_loss == float(f"{loss:.4f}") and periodic.val_bpb == float(f"{bpb:.4f}")
    assert periodic.train_time_ms == (1234 if old else None)


@settings(max_examples=200, deadline=None)
@given(label=st.sampled_from(LABELS), sep=st.sampled_from(SEPARATORS),
       spec=st.sampled_from([":.8f", ":.4f", "", "!r", ":>10.6f"]),
       var=st.sampled_from(["q_val_loss", "val_loss", "x", "ttt.loss", "res['bpb']"]))
def test_templates_never_count(label, sep, spec, var):
    lines = [
        f'log0(f"{label} val_loss{sep}{{{var}{spec}}} val_bpb{sep}{{{var}{spec}}}")',
        f"{label} val_loss{sep}{{{var}{spec}}} val_bpb{sep}{{{var}{spec}}}",
        f"{label} val_loss{sep}%.8f val_bpb{sep}%.8f",
    ]
    parsed = parse_text("\n".join(lines) + "\n")
    assert all(run.scores == [] and run.periodic == [] for run in parsed.runs)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=200), max_size=30))
def test_random_text_never_raises(lines):
    parsed = parse_text("\n".join(lines))
    assert parsed.lines >= 0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(data):
    parsed = parse_log(io.BytesIO(data))
    assert isinstance(parsed.problems, list)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([
    "step:10/100 train_loss:2.5 train_time:100ms step_avg:10.00ms", "4000/20000 val_loss: 2.8 val_bpb: 1.1",
    "stopping_early: wallclock_cap train_time:600000ms step:10/100", "Serialized model int8+zlib: 12 bytes",
    "Hyperparameters:", "  seed: 7", "=" * 100, "Source code:", "Running Python 3.12.3", "world_size:8",
    "| 0  NVIDIA H100 80GB HBM3  On  |", "nan val_loss:nan val_bpb:inf", "--- Hyperparameters ---",
    "a=1 b=2", "", "budget:1/16000000", "artifact:1.0MB code:5", "total_eval_time:1.5s",
]), max_size=40))
def test_shuffled_grammar_lines_never_raise(lines):
    parsed = parse_text("\n".join(lines) + "\n")
    for run in parsed.runs:
        assert run.first_line <= run.last_line or run.first_line == 0


def test_large_log_parses_in_bounded_memory(tmp_path):
    path = tmp_path / "big.log"
    size = write_big_log(path, 50_000_000)
    tracemalloc.start()
    try:
        parsed = parse_log(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    run = parsed.run
    assert run.scores[-1].val_bpb == 1.22436570 and run.stop_reason == "wallclock_cap"
    assert len(run.periodic) > 5000
    # the periodic list is kept (a few MB); everything else streams
    assert peak < size / 5, (peak, size)

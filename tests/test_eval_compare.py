"""golf's scores beside a record's printed lines: which lines, which knobs, which differences are named."""

from types import SimpleNamespace

from golf.produce.eval.compare import compare, log_knobs
from golf.read.logs import parse_text

LOG = """\
num_layers:3 model_dim:96 mlp_mult:2
tie_embeddings:True
seed:7
final_int6_roundtrip_exact val_loss:2.00000000 val_bpb:1.20000000
final_int6_sliding_window_exact stride:64 val_loss:1.90000000 val_bpb:1.15000500
legal_ttt_exact val_loss:1.80000000 val_bpb:1.10000000
"""


def results(standard_bpb, sliding_bpb, conventions):
    return [{"mode": "standard", "numerics": "record", "stride": None, "val_bpb": standard_bpb, "conventions": {}},
            {"mode": "standard", "numerics": "float32", "stride": None, "val_bpb": standard_bpb + 3e-4,
             "conventions": {}},
            {"mode": "sliding", "numerics": "record", "stride": 64, "val_bpb": sliding_bpb,
             "conventions": conventions}]


def log(text=LOG):
    return SimpleNamespace(path="train_seed7.log", run=parse_text(text).run)


def test_knobs_come_from_the_log_for_names_the_script_reads():
    run = log().run
    assert log_knobs(run, ["NUM_LAYERS", "MODEL_DIM", "TIE_EMBEDDINGS", "SEED", "NUM_HEADS"]) == \
        {"NUM_LAYERS": "3", "MODEL_DIM": "96", "TIE_EMBEDDINGS": "1"}


def test_matches_conventions_ttt_and_findings():
    report = compare(results(1.2000002, 1.1499, {"tail_twice": {"val_bpb": 1.1500049}, "head_skipped": {"val_bpb": 1.3}}),
                     log(), 1e-5)
    standard, sliding = report.comparisons
    assert standard.label == "final_int6_roundtrip_exact" and standard.explanation.startswith("matches")
    assert "bfloat16 numerics" in standard.explanation          # float32 is 3e-4 away
    assert sliding.explanation.startswith("tail_twice")
    assert report.findings == []
    assert any("legal_ttt_exact" in note and "does not re-score" in note for note in report.notes)
    report = compare(results(1.2001, 1.16, {}), log(), 1e-5)
    assert len(report.findings) == 2 and "final_int6_roundtrip_exact" in report.findings[0]


def test_a_four_decimal_line_is_compared_to_its_rounding():
    text = "final_int8_zlib_roundtrip val_loss:2.0000 val_bpb:1.2000 eval_time:5ms\n"
    assert compare(results(1.20004, 1.0, {}), log(text), 1e-6).findings == []
    assert len(compare(results(1.2001, 1.0, {}), log(text), 1e-6).findings) == 1


def test_no_log_is_a_note():
    report = compare(results(1.2, 1.1, {}), None, 1e-5)
    assert report.comparisons == [] and "pass --log" in report.notes[0]

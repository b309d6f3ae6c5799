"""Score-first legality read from code (G404/G405/G406), one small script per pattern of spec 4.5.

The fixture scripts under fixtures/legality are written for these tests; each names its pattern.
Line numbers are looked up in the fixture text, so a finding is checked against the line a
reviewer would point at.
"""

from __future__ import annotations

import base64
import lzma
import sys
from pathlib import Path

import pytest

from fixtures.verify.kit import make_record
from golf.judge.legality import analyse, check_source
from golf.judge.legality.runlog import RunLog
from golf.judge.verify import verify_record

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "legality"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def line_of(text: str, needle: str, nth: int = 0) -> int:
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return hits[nth]


def logs(*lines: str) -> RunLog:
    return RunLog.from_texts({"train_seed42.log": "\n".join(lines) + "\n"})


def kinds(findings) -> list[str]:
    return [f.kind for f in findings]


# ---- legal patterns -------------------------------------------------------------------------

def test_p1_chunked_score_then_train_is_legal():
    # the inner epoch loop trains without scoring: it inherits "already scored" from the chunk loop
    assert check_source(fixture("p1_chunked.py")) == []


def test_p2_per_document_lora_with_one_epoch_is_legal():
    text = fixture("p2_doc_lora.py")
    assert check_source(text) == []                                      # the code's default: 1 epoch
    assert check_source(text, run=logs("ttt:start epochs=1")) == []      # and the log agrees


def test_p3_helper_that_trains_on_the_scored_prefix_is_legal_at_its_call_site():
    assert check_source(fixture("p3_phased.py")) == []


def test_p3_helper_called_on_the_whole_validation_set_is_not():
    text = fixture("p3_phased.py").replace(
        "    eval_val_phased(model, val_data)",
        "    train_global_sgd(model, val_data.val_tokens)\n    eval_val_phased(model, val_data)")
    [finding] = check_source(text)
    assert finding.kind == "trained-before-evaluation" and finding.function == "train_global_sgd"
    assert finding.line == line_of(text, "train_global_sgd(model, val_data.val_tokens)")
    assert line_of(text, ").backward()") in finding.train_lines
    assert "eval_val_phased()" in finding.message


def test_training_loss_monitors_and_diagnostics_are_not_scores():
    # the reference trainer: `train_loss` monitors, eval under no_grad, training on train shards only
    reference = Path(__file__).resolve().parents[1] / "golf" / "reference" / "train_gpt.py"
    assert check_source(reference.read_text(encoding="utf-8")) == []


# ---- disabled paths (M4) ----------------------------------------------------------------------

def test_pre_quant_ttt_switched_off_in_the_logged_hyperparameters_is_skipped():
    text = fixture("prequant_ttt.py")
    assert check_source(text, run=logs("Hyperparameters:", "  prequant_ttt_enabled: False")) == []
    assert check_source(text, run=logs("PREQUANT_TTT_ENABLED=0")) == []


def test_a_path_whose_own_log_lines_never_appear_did_not_run():
    off = fixture("prequant_ttt.py").replace('"PREQUANT_TTT_ENABLED", "1"', '"PREQUANT_TTT_ENABLED", "0"')
    assert check_source(off, run=logs("final_int8_roundtrip val_loss:1.9 val_bpb:1.1")) == []
    # the log shows it ran (an environment override the log did not print): judged
    ran = check_source(off, run=logs("prequant_ttt:start epochs=6", "prequant_ttt:epoch 1 loss:2.1"))
    assert kinds(ran) == ["trained-before-evaluation"]


# ---- illegal patterns -------------------------------------------------------------------------

def test_pre_quant_ttt_is_found_with_its_training_and_scoring_lines():
    text = fixture("prequant_ttt.py")
    [finding] = check_source(text, run=logs("prequant_ttt_enabled: True", "prequant_ttt:epoch 1 loss:2.31"))
    assert finding.kind == "trained-before-evaluation" and finding.function == "prequant_ttt_adapt_adamw"
    assert finding.line == line_of(text, "prequant_ttt_adapt_adamw(args, model, val_tokens)")
    assert finding.train_lines == (line_of(text, "loss.backward()"), line_of(text, "opt.step()"))
    assert finding.score_lines == (line_of(text, "val_loss, val_bpb = eval_val(model, val_tokens)"),)
    assert "outside any score-first loop" in finding.message


def test_slot_delta_fitted_to_the_targets_it_scores():
    text = fixture("slot.py")
    [finding] = check_source(text)
    assert finding.kind == "update-before-score" and finding.function == "eval_val_slot"
    assert finding.train_lines == (line_of(text, "nll.backward()"), line_of(text, "slot_opt.step()"))
    assert finding.score_lines == (line_of(text, "loss_sum += scored"),)
    assert f"loop at line {line_of(text, 'for bi in range')}" in finding.message


def test_multi_epoch_lora_that_counts_only_the_last_pass():
    text = fixture("p2_doc_lora.py")
    [finding] = check_source(text, run=logs("ttt:start epochs=5"))
    assert finding.kind == "rescored-after-training" and finding.function == "eval_val_doc_lora"
    assert finding.line == line_of(text, "for epoch in range(args.ttt_epochs)")
    assert "ran 5 times" in finding.message
    assert line_of(text, "per_tok.mean().backward()") in finding.train_lines
    assert finding.score_lines == (line_of(text, "_accumulate(per_tok, loss_sum, token_count)", nth=1),)


def test_a_repeat_count_golf_cannot_find_is_a_warning_not_an_error():
    text = fixture("p2_doc_lora.py").replace('int(os.environ.get("TTT_EPOCHS", "1"))', "pick_epochs()")
    [finding] = check_source(text)
    assert finding.kind == "unfollowed" and "cannot tell how many times" in finding.message


# ---- never silent: the code that runs --------------------------------------------------------

def _wrapper(source: str, raw: bool) -> str:
    if raw:
        data = lzma.compress(source.encode(), format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2}])
        return ('import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("' + base64.b85encode(data).decode()
                + '"),format=L.FORMAT_RAW,filters=[{"id":L.FILTER_LZMA2}]))\n')
    data = lzma.compress(source.encode())
    return 'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("' + base64.b85encode(data).decode() + '")))\n'


@pytest.mark.parametrize("raw", [False, True])
def test_a_packed_wrapper_is_unpacked_and_judged(tmp_path, raw):
    (tmp_path / "train_gpt.py").write_text(_wrapper(fixture("slot.py"), raw))
    [finding] = analyse("train_gpt.py", (tmp_path / "train_gpt.py").read_text(), tmp_path, [])
    assert finding.kind == "update-before-score" and finding.file == "train_gpt.py (unpacked)"
    assert finding.train_lines == (line_of(fixture("slot.py"), "nll.backward()"),
                                   line_of(fixture("slot.py"), "slot_opt.step()"))
    (tmp_path / "train_gpt.py").write_text(_wrapper(fixture("p1_chunked.py"), raw))
    assert analyse("train_gpt.py", (tmp_path / "train_gpt.py").read_text(), tmp_path, []) == []


def test_a_wrapper_that_cannot_be_decoded_is_said_so(tmp_path):
    broken = 'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("notlzma")))\n'
    [finding] = analyse("train_gpt.py", broken, tmp_path, [])
    assert finding.kind == "unfollowed" and "cannot decode" in finding.message


def test_an_execd_file_of_the_folder_is_judged(tmp_path):
    (tmp_path / "train_gpt_decode.py").write_text(fixture("slot.py"))
    stub = 'exec(open("train_gpt_decode.py").read())\n'
    [finding] = analyse("train_gpt.py", stub, tmp_path, [])
    assert finding.kind == "update-before-score" and finding.file == "train_gpt_decode.py"


def test_exec_of_code_built_at_run_time_is_a_warning():
    text = fixture("p1_chunked.py") + "\nexec(compile(bytes(CODE), 'x', 'exec'))\n"
    [finding] = check_source(text)
    assert finding.kind == "unfollowed" and "built at run time" in finding.message


def test_python_312_fstrings_are_parsed():
    # quotes of the same kind nested in an f-string: Python 3.11's ast refuses this line
    text = fixture("slot.py").replace(
        '    print(f"final_slot val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f}")',
        '    cfg = {"steps": 8}\n    print(f"final_slot steps:{cfg["steps"]} val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f}")')
    from golf.read.pyparse import parse

    parsed = parse(text)
    assert parsed.tree is not None and parsed.lowered == (sys.version_info < (3, 12))
    [finding] = check_source(text)
    assert finding.kind == "update-before-score"
    assert finding.score_lines == (line_of(text, "loss_sum += scored"),)   # lines kept through the rewrite


def test_a_script_nothing_can_parse_is_a_warning_never_an_empty_answer():
    [finding] = check_source("def f(:\n    pass\n")
    assert finding.kind == "unfollowed" and "cannot be parsed" in finding.message


# ---- the rules, end to end --------------------------------------------------------------------

def _names(report):
    out: dict[str, list] = {}
    for f in report.findings:
        out.setdefault(f.name, []).append(f)
    return out


def test_verify_reports_each_pattern_under_its_rule(tmp_path):
    slot = make_record(tmp_path, "2026-04-06_Slot", script=fixture("slot.py"),
                       log_kwargs=[{"source": None, "label": "final_slot"}] * 3)
    [hit] = _names(verify_record(slot))["val-trained-before-scored"]
    assert hit.severity == "error" and hit.file == "train_gpt.py" and "eval_val_slot()" in hit.message
    assert hit.line == line_of(fixture("slot.py"), "nll.backward()")

    pre = make_record(tmp_path, "2026-04-07_Pre", script=fixture("prequant_ttt.py"),
                      log_kwargs=[{"source": None}] * 3)
    [hit] = _names(verify_record(pre))["val-trained-before-evaluation"]
    assert "prequant_ttt_adapt_adamw()" in hit.message

    legal = make_record(tmp_path, "2026-04-08_Legal", script=fixture("p3_phased.py"),
                        log_kwargs=[{"source": None}] * 3)
    found = _names(verify_record(legal))
    assert not {"val-trained-before-scored", "val-trained-before-evaluation", "legality-not-followed"} & set(found)

    broken = make_record(tmp_path, "2026-04-09_Broken", script="def f(:\n", log_kwargs=[{"source": None}] * 3)
    [hit] = _names(verify_record(broken))["legality-not-followed"]
    assert hit.severity == "warning"


def test_a_compile_warm_up_on_a_scratch_adapter_that_is_deleted_is_not_training():
    # VarLenAttn warms the LoRA kernels up on real validation tokens with an adapter it then deletes
    warm_up = '''
def warm_up(model, val_tokens, make_lora):
    wl = make_lora()
    wo = torch.optim.AdamW(wl.parameters(), lr=1e-3)
    for ctx_len in (64, 128):
        x = val_tokens[:ctx_len][None]
        model(x, lora=wl).mean().backward()
        wo.step()
    del wl, wo


def main():
    model = torch.load("model.pt")
    warm_up(model, torch.load("val.pt"), lambda: torch.nn.Linear(8, 8))
'''
    text = fixture("p1_chunked.py").replace("def main():", warm_up.strip() + "\n\n\ndef _main():")
    assert check_source(text) == []
    kept = text.replace("    del wl, wo\n", "    model.adapter = wl\n")
    assert kinds(check_source(kept)) == ["trained-before-evaluation"]


def test_an_epoch_loop_that_counts_only_its_first_untrained_pass_is_legal():
    text = fixture("p2_doc_lora.py").replace("if epoch == args.ttt_epochs - 1:", "if epoch == 0:")
    assert check_source(text, run=logs("ttt:start epochs=5")) == []


def test_a_training_function_passed_as_a_value_is_a_warning():
    text = fixture("prequant_ttt.py").replace(
        "        prequant_ttt_adapt_adamw(args, model, val_tokens)",
        "        run_phase(prequant_ttt_adapt_adamw, args, model, val_tokens)")
    [finding] = check_source(text)
    assert finding.kind == "unfollowed" and finding.function == "prequant_ttt_adapt_adamw"
    assert "passed as a value" in finding.message


def test_two_functions_of_one_name_that_train_on_validation_data_are_a_warning():
    text = fixture("slot.py") + "\n\nclass Other:\n    def eval_val_slot(self):\n        pass\n"
    [finding] = check_source(text)
    assert finding.kind == "unfollowed" and "2 functions are named eval_val_slot()" in finding.message


def test_an_execd_file_named_from_the_scripts_folder_is_judged(tmp_path):
    # a stub that builds the decode file's path from its own folder, as exec stubs do
    (tmp_path / "train_gpt_decode.py").write_text(fixture("slot.py"))
    stub = 'import os;exec(open(os.path.dirname(__file__)+"/train_gpt_decode.py").read())\n'
    [finding] = analyse("train_gpt.py", stub, tmp_path, [])
    assert finding.kind == "update-before-score" and finding.file == "train_gpt_decode.py"

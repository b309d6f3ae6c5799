"""golf legality: the prefix-invariance test on small scripts of our own, and its parts.

Each fixture script (tests/legality_scripts.py) is run by `golf legality --format json` (two CPU runs
of a tiny model, seconds each) and must be classified as a maintainer would: the legal score-then-train
loop passes; pre-quantization TTT, SLOT, a future-token attention bug and validation data in training
leak, each at the line and in the phase where the tail gets in.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sentencepiece")

import legality_scripts as scripts  # noqa: E402
from golf.cli import main  # noqa: E402
from golf.errors import GolfError  # noqa: E402
from golf.produce.legality.compare import (PHASE_BEFORE, PHASE_DURING, PHASE_TRAINING, Call,  # noqa: E402
                                           compare_runs, phase_of)
from golf.produce.legality.shape import changed_tail, tail_from, tiny_knobs  # noqa: E402

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "legality.schema.json").read_text())


def _legality(capsys, *argv) -> tuple[int, dict]:
    code = main(["legality", *map(str, argv), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    jsonschema.validate(data, SCHEMA)
    return code, data


@pytest.mark.parametrize("name", sorted(scripts.EXPECTED))
def test_fixture_is_classified_with_its_call_site(tmp_path, capsys, name):
    verdict, phase, marker = scripts.EXPECTED[name]
    code, data = _legality(capsys, scripts.write_record(tmp_path, name), "--keep", tmp_path / "work")
    assert data["verdict"] == verdict, data["reason"]
    assert code == (0 if verdict == "pass" else 1)
    assert data["runs"][0]["stage"] == data["runs"][1]["stage"] == "done"
    assert data["compared_elements"] > 0
    if verdict == "pass":
        assert data["first_leak"] is None
        return
    leak = data["first_leak"]
    assert (leak["file"], leak["line"]) == ("train_gpt.py", scripts.marker_line(name, marker))
    assert leak["phase"] == phase
    assert scripts.EXPECTED_VIA[name] in leak["via"]


def test_legal_loop_trains_on_the_scored_chunk_and_still_passes(tmp_path, capsys):
    """The chunk holding P is trained on after it is scored: those training losses move, the scores do not."""
    code, data = _legality(capsys, scripts.write_record(tmp_path, "legal_chunked"), "--tail-from", 2300)
    assert (code, data["verdict"], data["tail_from"]) == (0, "pass", 2300)
    adapt = scripts.marker_line("legal_chunked", "# LOSS")
    assert data["differing_calls"] and all(c["grad"] and c["line"] == adapt for c in data["differing_calls"])


def test_scores_computed_under_grad_count_once_and_only_once(tmp_path, capsys):
    """One epoch of score-then-train with grad-mode scores is legal; a second epoch re-scores trained tokens."""
    code, data = _legality(capsys, scripts.write_record(tmp_path, "rescored_epochs"), "--env", "TTT_EPOCHS=1")
    assert (code, data["verdict"]) == (0, "pass"), data["reason"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "train_gpt.py").write_text(text)
    return folder


def test_missing_dependency_cannot_run(tmp_path, capsys):
    folder = _write(tmp_path, "needs_kernels", "import golf_test_absent_kernels\n\n\ndef main():\n    pass\n")
    code, data = _legality(capsys, folder)
    assert (code, data["verdict"], data["reason_kind"]) == (4, "cannot-run", "missing-dependency")
    assert "golf_test_absent_kernels" in data["reason"]


def test_script_that_refuses_the_tiny_shape_cannot_run(tmp_path, capsys):
    text = ("import os\n\n\nclass Hyperparameters:\n    model_dim = int(os.environ.get('MODEL_DIM', 768))\n\n\n"
            "def main():\n    args = Hyperparameters()\n"
            "    assert args.model_dim % 96 == 0, 'model_dim must be a multiple of 96'\n")
    code, data = _legality(capsys, _write(tmp_path, "picky", text))
    assert (code, data["verdict"], data["reason_kind"]) == (4, "cannot-run", "shape")
    assert "multiple of 96" in data["reason"] and "train_gpt.py:10" in data["reason"]


def test_script_that_runs_past_the_limit_is_stopped(tmp_path, capsys):
    text = "import time\n\n\ndef main():\n    while True:\n        time.sleep(0.1)\n"
    code, data = _legality(capsys, _write(tmp_path, "forever", text), "--timeout", 3)
    assert (code, data["verdict"], data["reason_kind"]) == (4, "cannot-run", "timed-out")
    assert data["runs"][0]["timed_out"] is True


def test_script_doing_work_at_import_is_refused_unrun(tmp_path, capsys):
    folder = _write(tmp_path, "eager", "import os\nos.system('echo hi')\n\n\ndef main():\n    pass\n")
    code, data = _legality(capsys, folder)
    assert (code, data["verdict"], data["reason_kind"]) == (4, "cannot-run", "refused")
    assert data["runs"] == []


def test_bad_input_is_exit_2(tmp_path, capsys):
    assert main(["legality", str(tmp_path / "absent")]) == 2
    assert "no such record folder" in capsys.readouterr().err
    assert main(["verify", str(tmp_path), "--legality"]) == 2
    assert "--legality only apply with --rerun" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# The parts, on made-up calls


def _call(losses, targets, *, grad=False, line=10, chain=(("main", 5), ("forward", 10))) -> Call:
    losses, targets = np.asarray(losses, dtype=float), np.asarray(targets)
    return Call("train_gpt.py", line, chain, grad, "cross_entropy", losses, targets, np.zeros(len(targets), bool))


def test_only_losses_of_unchanged_targets_are_compared():
    a = [_call([1.0, 2.0, 3.0], [5, 6, 7])]
    b = [_call([1.0, 2.0, 9.0], [5, 6, 8])]  # the third target changed: its loss may differ
    result = compare_runs(a, b, tolerance=1e-6)
    assert not result.leak and result.compared_elements == 2


def test_a_target_that_agrees_right_after_one_that_differs_is_not_compared():
    """Runs that drew different data (or a control token kept after P) agree on a target only by chance."""
    a = [_call([1.0] * 12, [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])]
    b = [_call([2.0] * 12, [0, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])]
    result = compare_runs(a, b, tolerance=1e-6)
    assert result.compared_elements == 3 and result.leak  # only the last three have 8 agreeing targets before


def test_a_moved_score_is_a_leak_and_a_moved_training_loss_is_not():
    a = [_call([1.0, 2.0], [5, 6], grad=True), _call([1.0, 2.0], [5, 6])]
    b = [_call([1.0, 2.5], [5, 6], grad=True), _call([1.0, 2.0], [5, 6])]
    assert not compare_runs(a, b, tolerance=1e-6).leak
    b[1] = _call([1.0, 2.0 + 1e-3], [5, 6])
    result = compare_runs(a, b, tolerance=1e-6)
    assert result.leak and [d.index for d in result.differences] == [0, 1]
    assert compare_runs(a, b, tolerance=1e-2).differences[0].index == 0  # within tolerance: the score agrees


def test_kept_control_tokens_are_left_out_and_a_nan_counts():
    a = [_call([1.0, 2.0], [1, 6])]
    b = [_call([4.0, 2.0], [1, 6])]
    assert not compare_runs(a, b, tolerance=1e-6, special_ids={1}).leak
    assert compare_runs(a, [_call([1.0, float("nan")], [1, 6])], tolerance=1e-6, special_ids={1}).leak


def test_runs_that_stop_making_the_same_calls_are_a_leak():
    a = [_call([1.0], [5]), _call([1.0], [5], line=20)]
    result = compare_runs(a, [_call([1.0], [5]), _call([1.0], [5], line=30)], tolerance=1e-6)
    assert result.leak and result.diverged_at == 1
    assert compare_runs(a, a[:1], tolerance=1e-6).diverged_at == 1


def test_phase_follows_the_training_and_final_evaluation_paths():
    train = (("main", 100), ("forward", 10))
    score = (("main", 120), ("eval_val", 50), ("forward", 10))
    assert phase_of(train, train, score) == PHASE_TRAINING
    assert phase_of((("main", 120), ("eval_val", 60)), train, score) == PHASE_DURING
    assert phase_of((("main", 110), ("ttt_adapt", 70), ("forward", 10)), train, score) == PHASE_BEFORE


def test_changed_tail_changes_every_ordinary_token_after_p_only():
    tokens = np.array([3, 1, 4, 1023, 1, 5, 2, 0, 7], dtype=np.uint16)
    out = changed_tail(tokens, 3, 1024, kept={0, 1, 2})
    assert list(out[:3]) == [3, 1, 4]
    assert all((a != b) == (a not in {0, 1, 2}) for a, b in zip(tokens[3:], out[3:]))
    assert not set(out[3:].tolist()) - {0, 1, 2} & {0, 1, 2} and out[3] == 3  # 1023 wraps past the kept 0, 1, 2


def test_tiny_knobs_shrink_the_shape_and_keep_evaluation_settings():
    names = ["NUM_LAYERS", "MODEL_DIM", "TTT_EPOCHS", "TTT_CHUNK_TOKENS", "EVAL_STRIDE", "TTT_LR", "NUM_HEADS",
             "NUM_KV_HEADS"]
    defaults = {"NUM_LAYERS": "11", "TTT_EPOCHS": "3", "TTT_CHUNK_TOKENS": "32768", "EVAL_STRIDE": "64",
                "NUM_HEADS": "8", "NUM_KV_HEADS": "4"}
    knobs = tiny_knobs(names, defaults, 4097)
    assert knobs["MODEL_DIM"] == "64" and knobs["TTT_CHUNK_TOKENS"] == "512"
    assert "NUM_LAYERS" not in knobs  # layer-index knobs keep their meaning
    assert "TTT_EPOCHS" not in knobs and "TTT_LR" not in knobs and "EVAL_STRIDE" not in knobs
    assert (knobs["NUM_HEADS"], knobs["NUM_KV_HEADS"]) == ("4", "2")
    assert "ITERATIONS" not in knobs  # only what the script reads
    p = tail_from(4097)
    assert 0 < p < 4096 and p % 64 != 0


def test_ruleset_says_how_the_two_readings_stand(tmp_path):
    from golf.rules import load_ruleset

    policy = load_ruleset("parameter_golf_2026").legality
    assert policy.precedence == "dynamic" and policy.loss_tolerance > 0
    text = Path(load_ruleset("parameter_golf_2026").path).read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('precedence = "dynamic"', 'precedence = "loudest"'))
    with pytest.raises(GolfError, match="precedence"):
        load_ruleset(str(bad))


def test_dynamic_result_decides_over_the_static_finding_only_when_it_ran():
    from types import SimpleNamespace

    from golf.produce.legality import deciding
    from golf.render.legality import combined

    static = [SimpleNamespace(code="G404", message="train_gpt.py: loop at line 9 trains before it scores")]
    passed = SimpleNamespace(verdict="pass", reason="same losses", first_leak=None)
    unknown = SimpleNamespace(verdict="cannot-run", reason="missing dependency: triton", first_leak=None)
    assert deciding(passed, "dynamic") == "pass"
    lines = combined(passed, static, "pass")
    assert any("line 9" in line for line in lines) and any("same losses" in line for line in lines)
    assert deciding(unknown, "dynamic") == "static" and deciding(passed, "static") == "static"
    assert "the test could not run" in combined(unknown, static, "static")[-1]


# ---------------------------------------------------------------------------------------------
# golf eval's script check, as far as the legality corpus needed it


def test_raw_lzma2_wrapper_is_unpacked_as_data(tmp_path):
    import base64
    import lzma

    from golf.produce.eval.script_check import describe_script

    inner = "import os\n\n\ndef main():\n    print('inner')\n"
    packed = lzma.compress(inner.encode(), format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2}])
    text = base64.b85encode(packed).decode()
    path = tmp_path / "train_gpt.py"
    path.write_text(f'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("{text}"),format=L.FORMAT_RAW,'
                    f'filters=[{{"id":L.FILTER_LZMA2}}]))\n')
    info = describe_script(path)
    assert info.wrapped and info.source == inner


def test_top_level_raise_choosing_a_fallback_is_inert_unless_the_name_is_rebound(tmp_path):
    from golf.produce.eval.script_check import describe_script

    chooser = ("import os\ntry:\n    if os.environ.get('SMOKE', '0') == '1':\n        raise ImportError('fallback')\n"
               "    from flash_attn_interface import flash_attn_func\n"
               "except ImportError:\n    flash_attn_func = None\n")
    path = tmp_path / "train_gpt.py"
    path.write_text(chooser)
    assert describe_script(path).flash_attn
    path.write_text("class ImportError(Exception):\n    pass\n\n\n" + chooser)
    with pytest.raises(GolfError, match="rebinds"):
        describe_script(path)
    path.write_text("import os\nraise SystemExit(os.system('true'))\n")
    with pytest.raises(GolfError, match="import time"):
        describe_script(path)


def test_verify_exit_follows_the_reading_that_decides(capsys):
    from types import SimpleNamespace

    from golf.cli.verify import _legality_exit
    from golf.rules import load_ruleset

    ruleset = load_ruleset("parameter_golf_2026")
    g404 = SimpleNamespace(code="G404", severity="error", message="train_gpt.py: loop at line 9 trains first")
    other = SimpleNamespace(code="G101", severity="error", message="missing file")

    def exit_for(verdict, *findings):
        report = SimpleNamespace(records=[SimpleNamespace(findings=list(findings))],
                                 passed=not any(f.severity == "error" for f in findings))
        result = SimpleNamespace(verdict=verdict, reason="why", first_leak=None)
        return _legality_exit(SimpleNamespace(format="text"), report, result, ruleset)

    assert exit_for("pass", g404) == 0            # the test ran and saw no leak: it overrides the reading
    assert exit_for("pass", g404, other) == 1     # other errors still fail
    assert exit_for("leak") == 1                  # a leak observed fails even without a static finding
    assert exit_for("cannot-run", g404) == 1      # nothing observed: the static reading stands
    assert exit_for("cannot-run") == 0
    out = capsys.readouterr().out
    assert "legality (static, G404/G405/G406): flags train_gpt.py: loop at line 9" in out and "legality (dynamic" in out


def test_recorder_marks_only_the_elements_added_to_the_sums():
    """A window's loss computed with grad: only the part added to the sums without grad is a score."""
    import torch
    import torch.nn.functional as F

    from golf.produce.legality.capture import LossRecorder

    recorder = LossRecorder(str(Path(__file__).resolve().parent), to_cpu=False)
    logits = torch.randn(2, 6, 5, requires_grad=True)
    targets = torch.randint(0, 5, (2, 6))
    total = torch.zeros((), dtype=torch.float64)
    with recorder:
        ptl = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="none").view(2, 6)
        with torch.no_grad():
            total += ptl[1, 4:].to(torch.float64).sum()
        ptl.mean().backward()
        log_probs = F.log_softmax(logits.detach(), dim=-1)
        nll = -log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    first, second = recorder.calls
    assert first.grad and list(np.flatnonzero(first.scored)) == [10, 11]
    assert first.site[0] == Path(__file__).name and np.allclose(first.losses, ptl.detach().flatten().numpy())
    assert second.kind == "log_softmax+gather" and not second.grad
    assert np.allclose(second.losses, nll.flatten().numpy(), atol=1e-6)


def test_varlen_flash_attention_standin_attends_within_each_sequence():
    import torch

    from golf.produce.eval.loaders import _standin_flash_attn_func, _standin_flash_attn_varlen_func

    torch.manual_seed(0)
    q, k, v = (torch.randn(7, 2, 8) for _ in range(3))
    cu = torch.tensor([0, 3, 7])
    packed = _standin_flash_attn_varlen_func(q, k, v, cu_seqlens_q=cu, cu_seqlens_k=cu, max_seqlen_q=4,
                                             max_seqlen_k=4, causal=True, window_size=(-1, -1))
    for s, e in ((0, 3), (3, 7)):
        alone = _standin_flash_attn_func(q[None, s:e], k[None, s:e], v[None, s:e], causal=True)[0]
        assert torch.allclose(packed[s:e], alone, atol=1e-6)
    windowed = _standin_flash_attn_varlen_func(q, k, v, cu, cu, 4, 4, causal=True, window_size=(0, 0))
    assert torch.allclose(windowed, v, atol=1e-6)  # a window of one: each position sees only itself


def test_runs_get_the_knobs_the_record_ran_with(tmp_path):
    """The log's printed configuration, then the record's own command; only names the script reads."""
    from golf.produce.legality.run import _record_env

    folder = scripts.write_record(tmp_path, "legal_chunked")
    (folder / "train_seed7.log").write_text("ttt_epochs:1 ttt_lr:0.02 unrelated_knob:5\nseed:7\n"
                                            "load_checkpoint_path:/elsewhere/final_model.pt\n"
                                            "final_int6_roundtrip_exact val_loss:2.00000000 val_bpb:1.20000000\n")
    (folder / "README.md").write_text("```bash\nTTT_LR=0.5 torchrun --standalone --nproc_per_node=8 train_gpt.py\n```\n")
    knobs, notes = _record_env(folder, ["TTT_EPOCHS", "TTT_LR", "SEED", "LOAD_CHECKPOINT_PATH"])
    assert knobs == {"TTT_EPOCHS": "1", "TTT_LR": "0.5"}
    assert any("train_seed7.log" in note for note in notes) and any("README.md" in note for note in notes)

"""The reference artifact format (spec 1.10): quantize -> compress -> load, errors, size accounting."""

import importlib.util
import io
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

from golf.produce.artifact import ARTIFACT_NAME, QUANT_FORMAT, compress, load_artifact
from int8_writer import quantize_state_dict, save_artifact
from golf.errors import GolfError

REFERENCE_SCRIPT = Path(__file__).resolve().parents[1] / "golf" / "reference" / "train_gpt.py"
Q = 0.9999984


def tied_rows(rows: int, cols: int, seed: int) -> np.ndarray:
    """A float32 matrix whose two largest |values| per row are equal, so the row's 0.9999984
    quantile of |w| is exactly that value (the interpolation is between two equal numbers)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.05, size=(rows, cols)).astype(np.float32)
    for r in range(rows):
        order = np.argsort(np.abs(w[r]))
        top = np.abs(w[r, order[-1]])
        w[r, order[-2]] = np.copysign(top, w[r, order[-2]])
    return w


def expected_per_row(w: np.ndarray):
    """The per-row int8 quantization written independently in numpy (clip = max |w| here)."""
    amax = np.abs(w).max(axis=1)
    scale16 = np.maximum(amax / np.float32(127.0), np.float32(1.0 / 127.0)).astype(np.float16)
    scale32 = scale16.astype(np.float32)
    q = np.clip(np.rint(w / scale32[:, None]), -127, 127).astype(np.int8)
    return q, scale16, q.astype(np.float32) * scale32[:, None]


def roundtrip(state_dict, tmp_path):
    path = tmp_path / ARTIFACT_NAME
    save_artifact(state_dict, path)
    return load_artifact(path)


def test_per_row_matrix_is_bit_exact_against_an_independent_computation(tmp_path):
    w = tied_rows(300, 256, seed=1)  # 76,800 elements > 65,536: quantized per row
    container, _ = quantize_state_dict({"blocks.0.mlp.fc.weight": torch.from_numpy(w)})
    q, scale16, dequant = expected_per_row(w)
    assert np.array_equal(container["quantized"]["blocks.0.mlp.fc.weight"].numpy(), q)
    assert np.array_equal(container["scales"]["blocks.0.mlp.fc.weight"].numpy(), scale16)
    assert container["qmeta"]["blocks.0.mlp.fc.weight"] == {"scheme": "per_row", "axis": 0}
    loaded = roundtrip({"blocks.0.mlp.fc.weight": torch.from_numpy(w)}, tmp_path)["blocks.0.mlp.fc.weight"]
    assert loaded.dtype == torch.float32
    assert np.array_equal(loaded.numpy(), dequant)
    # Nothing is clipped here, so every value is within half a step of the stored scale.
    err = np.abs(loaded.numpy() - w)
    assert np.all(err <= scale16.astype(np.float32)[:, None] / 2 * (1 + 1e-6))


def test_per_row_error_is_within_half_a_step_of_the_clipped_value(tmp_path):
    rng = np.random.default_rng(2)
    w = rng.standard_t(3, size=(260, 300)).astype(np.float32)  # heavy tails: the clip bites
    loaded = roundtrip({"w": torch.from_numpy(w)}, tmp_path)["w"].numpy()
    clip = np.quantile(np.abs(w).astype(np.float64), Q, axis=1)
    scale = np.maximum(clip / 127.0, 1.0 / 127.0)
    clipped = np.clip(w, -clip[:, None], clip[:, None])
    assert np.all(np.abs(loaded - clipped) <= scale[:, None] / 2 * 1.001 + 1e-6)
    assert np.all(np.abs(loaded) <= clip[:, None] * 1.001 + 1e-6)


def test_tiny_rows_use_the_minimum_scale(tmp_path):
    w = np.full((300, 256), 1e-4, dtype=np.float32)
    container, _ = quantize_state_dict({"w": torch.from_numpy(w)})
    assert np.all(container["scales"]["w"].numpy() == np.float16(1.0 / 127.0))


def test_per_tensor_for_other_ranks(tmp_path):
    rng = np.random.default_rng(3)
    w = rng.normal(0.0, 1.0, size=(8, 100, 100)).astype(np.float32)
    flat = np.abs(w).ravel()
    order = np.argsort(flat)
    w.ravel()[order[-2]] = np.copysign(flat[order[-1]], w.ravel()[order[-2]])
    container, _ = quantize_state_dict({"conv": torch.from_numpy(w)})
    amax = float(np.abs(w).max())
    scale = np.float32(amax / 127.0)
    assert container["scales"]["conv"].dtype == torch.float32 and container["scales"]["conv"].ndim == 0
    assert container["scales"]["conv"].item() == scale
    assert "qmeta" not in container
    expected = np.clip(np.rint(w / scale), -127, 127).astype(np.float32) * np.float32(scale)
    loaded = roundtrip({"conv": torch.from_numpy(w)}, tmp_path)["conv"].numpy()
    assert np.array_equal(loaded, expected)


def test_dtypes_and_passthrough(tmp_path):
    rng = np.random.default_rng(4)
    emb = torch.from_numpy(tied_rows(1024, 128, seed=5)).to(torch.bfloat16)
    state = {
        "tok_emb.weight": emb,                                       # large bf16: quantized, bf16 back
        "blocks.0.attn_scale": torch.randn(64),                      # control: kept fp32 exactly
        "blocks.0.resid_mix": torch.randn(2, 64).to(torch.bfloat16),  # control bf16: fp32 inside, bf16 back
        "blocks.0.small.weight": torch.from_numpy(rng.normal(size=(64, 64)).astype(np.float32)),  # fp16 inside
        "half": torch.randn(10).to(torch.float16),                   # already fp16: unchanged
        "steps": torch.arange(5, dtype=torch.int64),                 # not float: unchanged
    }
    container, stats = quantize_state_dict(state)
    assert container["__quant_format__"] == QUANT_FORMAT
    assert set(container["quantized"]) == {"tok_emb.weight"}
    assert container["dtypes"]["tok_emb.weight"] == "bfloat16"
    assert container["passthrough"]["blocks.0.attn_scale"].dtype == torch.float32
    assert container["passthrough"]["blocks.0.resid_mix"].dtype == torch.float32
    assert container["passthrough"]["blocks.0.small.weight"].dtype == torch.float16
    assert container["passthrough_orig_dtypes"] == {"blocks.0.resid_mix": "bfloat16",
                                                     "blocks.0.small.weight": "float32"}
    loaded = roundtrip(state, tmp_path)
    assert {k: v.dtype for k, v in loaded.items()} == {k: v.dtype for k, v in state.items()}
    assert torch.equal(loaded["blocks.0.attn_scale"], state["blocks.0.attn_scale"])
    assert torch.equal(loaded["blocks.0.resid_mix"], state["blocks.0.resid_mix"])
    assert torch.equal(loaded["blocks.0.small.weight"], state["blocks.0.small.weight"].half().float())
    assert torch.equal(loaded["half"], state["half"])
    assert torch.equal(loaded["steps"], state["steps"])
    _, _, dequant = expected_per_row(emb.float().numpy())
    assert torch.equal(loaded["tok_emb.weight"], torch.from_numpy(dequant).to(torch.bfloat16))
    # payload: int8 values + fp16 row scales + every kept tensor's bytes
    assert stats.payload_bytes == (1024 * 128 + 1024 * 2 + 64 * 4 + 2 * 64 * 4 + 64 * 64 * 2 + 10 * 2 + 5 * 8)
    assert stats.tensors == 6


def _import_reference(monkeypatch):
    monkeypatch.delenv("INT8_KEEP_FLOAT_FP32_NAME_PATTERNS", raising=False)
    monkeypatch.delenv("CONTROL_TENSOR_NAME_PATTERNS", raising=False)
    spec = importlib.util.spec_from_file_location("reference_train_gpt_for_artifact_tests", REFERENCE_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_same_container_as_the_reference_script_and_loadable_by_it(tmp_path, monkeypatch):
    if not REFERENCE_SCRIPT.is_file():
        pytest.skip("the reference trainer is not there yet")
    reference = _import_reference(monkeypatch)
    torch.manual_seed(0)
    state = {"a.weight": torch.randn(300, 256), "blocks.1.q_gain": torch.randn(4),
             "b.weight": torch.randn(16, 16), "c": torch.randn(4, 50, 400), "d": torch.arange(3)}
    ours, _ = quantize_state_dict(state)
    theirs, _ = reference.quantize_state_dict_int8(state)
    assert ours.keys() == theirs.keys()
    for key in ("quantized", "scales", "passthrough"):
        assert ours[key].keys() == theirs[key].keys()
        for name in ours[key]:
            assert torch.equal(ours[key][name], theirs[key][name]), (key, name)
    assert ours["dtypes"] == theirs["dtypes"] and ours["qmeta"] == theirs["qmeta"]
    path = tmp_path / ARTIFACT_NAME
    save_artifact(state, path)
    by_script, by_golf = reference.load_artifact(str(path)), load_artifact(path)
    assert by_script.keys() == by_golf.keys()
    assert all(torch.equal(by_script[k], by_golf[k]) for k in by_golf)


def test_payload_at_the_baseline_shape_matches_the_spec(monkeypatch):
    if not REFERENCE_SCRIPT.is_file():
        pytest.skip("the reference trainer is not there yet")
    for key in ("NUM_LAYERS", "MODEL_DIM", "NUM_HEADS", "NUM_KV_HEADS", "MLP_MULT", "VOCAB_SIZE", "TIE_EMBEDDINGS"):
        monkeypatch.delenv(key, raising=False)
    reference = _import_reference(monkeypatch)
    model = reference.build_model(reference.Hyperparameters)
    _, stats = quantize_state_dict(model.state_dict())
    assert stats.params == 17_059_912        # spec 1.3
    assert stats.payload_bytes == 17_178_912  # spec 1.10, log `payload:17178912`


# --- corrupt files ---------------------------------------------------------------------------

def _write(tmp_path, data: bytes) -> Path:
    path = tmp_path / "broken.ptz"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("data, words", [
    (b"", "empty file"),
    (b"this is not zlib at all", "not zlib"),
    (zlib.compress(b"zlib, but not a torch file"), "not a loadable torch file"),
])
def test_corrupt_artifacts_are_named_errors(tmp_path, data, words):
    path = _write(tmp_path, data)
    with pytest.raises(GolfError) as error:
        load_artifact(path)
    assert str(path) in str(error.value) and words in str(error.value)


def test_truncated_artifact_is_a_named_error(tmp_path):
    good = compress(quantize_state_dict({"w": torch.randn(300, 256)})[0])
    path = _write(tmp_path, good[: len(good) // 2])
    with pytest.raises(GolfError, match="broken.ptz"):
        load_artifact(path)


def test_other_formats_are_refused(tmp_path):
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(3)}, buffer)
    with pytest.raises(GolfError, match="no __quant_format__"):
        load_artifact(_write(tmp_path, zlib.compress(buffer.getvalue())))
    container, _ = quantize_state_dict({"w": torch.zeros(3)})
    container["__quant_format__"] = "int6_gptq_v9"
    with pytest.raises(GolfError, match="int6_gptq_v9"):
        load_artifact(_write(tmp_path, compress(container)))


def test_missing_artifact(tmp_path):
    with pytest.raises(GolfError, match="no such artifact"):
        load_artifact(tmp_path / "nope.ptz")


def test_pickled_code_is_not_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    buffer = io.BytesIO()
    torch.save({"__quant_format__": QUANT_FORMAT, "x": Evil()}, buffer)
    with pytest.raises(GolfError, match="not a loadable torch file"):
        load_artifact(_write(tmp_path, zlib.compress(buffer.getvalue())))
    assert not marker.exists()

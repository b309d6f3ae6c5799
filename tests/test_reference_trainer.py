"""The reference trainer (golf/reference/train_gpt.py), run on CPU at tiny shapes as a record folder would run it.

Expected values come from the spec (PARAMETER_GOLF.md section 1, the sliding-window contract) or are
recomputed here independently of the script (losses, byte counts, the sliding-window plan)."""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trainer_helpers as th  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

BANNER = "=" * 100
FLOAT = r"-?\d+\.\d+"


@pytest.fixture(scope="session")
def dataset(tmp_path_factory) -> th.TinyDataset:
    return th.build_tiny_dataset(tmp_path_factory.mktemp("tiny_data"))


@pytest.fixture(scope="module")
def trainer():
    return th.import_trainer()


# The full run is wide enough (192) that the embedding and the MLP matrices have more than 65,536 elements, so the
# artifact holds both int8 per-row tensors and fp16/fp32 passthrough tensors.
FULL_WIDTH = 192


@pytest.fixture
def full_module(monkeypatch, dataset):
    """The script imported with the full run's shape in the environment (Hyperparameters reads it at import)."""
    for key, value in th.TINY_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MODEL_DIM", str(FULL_WIDTH))
    monkeypatch.setenv("VOCAB_SIZE", str(dataset.vocab_size))
    return th.import_trainer("train_gpt_full_env")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, dataset) -> th.Run:
    """One run exercising everything: priming steps, periodic validation, training, artifact, sliding eval."""
    env = {
        "RUN_ID": "full",
        "MODEL_DIM": str(FULL_WIDTH),
        "ITERATIONS": "4",
        "VAL_LOSS_EVERY": "2",
        "WARMDOWN_ITERS": "0",
        "EVAL_STRIDE": "32",
        "EVAL_BATCH_SEQS": "7",
    }
    return th.run_trainer(tmp_path_factory.mktemp("full_run"), dataset, env)


def parse_float(pattern: str, text: str) -> float:
    match = re.search(pattern, text, flags=re.M)
    assert match, f"no line matching {pattern!r}"
    return float(match.group(1))


def full_param_count(module) -> int:
    with torch.device("meta"):
        model = module.GPT(module.GPTConfig(
            vocab_size=384, num_layers=2, model_dim=FULL_WIDTH, num_heads=4, num_kv_heads=2, mlp_mult=2,
            tie_embeddings=True, tied_embed_init_std=0.005, logit_softcap=30.0, rope_base=10000.0, qk_gain_init=1.5,
        ))
    return sum(p.numel() for p in model.parameters())


# --- (1) model shape ---------------------------------------------------------------------------------------------


def default_gpt(module):
    with torch.device("meta"):
        return module.GPT(module.GPTConfig(
            vocab_size=1024, num_layers=9, model_dim=512, num_heads=8, num_kv_heads=4, mlp_mult=2,
            tie_embeddings=True, tied_embed_init_std=0.005, logit_softcap=30.0, rope_base=10000.0, qk_gain_init=1.5,
        ))


def test_default_shape_has_the_baseline_parameter_count(trainer):
    model = default_gpt(trainer)
    assert sum(p.numel() for p in model.parameters()) == 17_059_912
    assert sum(p.numel() for p in model.blocks[0].parameters()) == 1_837_064
    assert model.tok_emb.weight.numel() == 524_288 and model.skip_weights.shape == (4, 512)
    assert model.num_encoder_layers == 4 and model.num_decoder_layers == 5


def test_bf16_layout_keeps_embedding_bf16_and_the_rest_fp32(trainer):
    model = trainer.cast_model_for_bf16(default_gpt(trainer))
    dtypes = {name: p.dtype for name, p in model.named_parameters()}
    assert dtypes.pop("tok_emb.weight") == torch.bfloat16
    assert set(dtypes.values()) == {torch.float32}
    assert sum(p.numel() for p in model.parameters()) == 17_059_912


def test_optimizer_groups_follow_the_baseline(trainer):
    model = default_gpt(trainer)
    optimizers, token_lr, head_lr = trainer.build_optimizers(trainer.Hyperparameters, model)
    token_opt, muon, scalar_opt = optimizers
    assert isinstance(muon, trainer.Muon) and token_lr == 0.05 and head_lr == 0.0
    assert token_opt.param_groups[0]["params"] == [model.tok_emb.weight]
    assert len(muon.param_groups[0]["params"]) == 9 * 6
    assert all(p.ndim == 2 for p in muon.param_groups[0]["params"])
    scalars = scalar_opt.param_groups[0]["params"]
    assert len(scalars) == 9 * 4 + 1 and scalars[-1] is model.skip_weights
    assert [g["base_lr"] for opt in optimizers for g in opt.param_groups] == [0.05, 0.04, 0.04]
    assert token_opt.defaults["betas"] == (0.9, 0.95) and token_opt.defaults["eps"] == 1e-8


def test_untied_head_gets_its_own_adam(trainer):
    with torch.device("meta"):
        model = trainer.GPT(trainer.GPTConfig(
            vocab_size=64, num_layers=2, model_dim=32, num_heads=4, num_kv_heads=4, mlp_mult=2,
            tie_embeddings=False, tied_embed_init_std=0.005, logit_softcap=30.0, rope_base=10000.0, qk_gain_init=1.5,
        ))
    optimizers, token_lr, head_lr = trainer.build_optimizers(trainer.Hyperparameters, model)
    assert (token_lr, head_lr) == (0.6, 0.008)
    assert optimizers[1].param_groups[0]["params"] == [model.lm_head.weight]
    assert len(optimizers) == 4


def test_shard_reader_rejects_bad_files(trainer, tmp_path):
    good = tmp_path / "good.bin"
    th.write_shard(good, np.arange(10, dtype=np.uint16))
    assert trainer.load_data_shard(good).tolist() == list(range(10))
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(good.read_bytes()[:-2])
    with pytest.raises(ValueError, match="truncated.bin"):
        trainer.load_data_shard(truncated)
    bad_magic = tmp_path / "magic.bin"
    bad_magic.write_bytes(b"\0" * 4 + good.read_bytes()[4:])
    with pytest.raises(ValueError, match="magic.bin"):
        trainer.load_data_shard(bad_magic)


def test_token_stream_wraps_and_ranks_get_contiguous_spans(trainer, tmp_path):
    th.write_shard(tmp_path / "fineweb_train_000000.bin", np.arange(0, 50, dtype=np.uint16))
    th.write_shard(tmp_path / "fineweb_train_000001.bin", np.arange(50, 70, dtype=np.uint16))
    pattern = str(tmp_path / "fineweb_train_*.bin")
    stream = trainer.TokenStream(pattern)
    assert stream.take(45).tolist() == list(range(45))
    assert stream.take(30).tolist() == list(range(45, 70)) + list(range(5))
    # 2 ranks, 2 micro-steps: 16 global tokens -> 4 per rank per micro-step, spans of 5 tokens
    loaders = [trainer.DistributedTokenLoader(pattern, r, 2, torch.device("cpu")) for r in range(2)]
    x0, y0 = loaders[0].next_batch(16, 2, 2)
    x1, y1 = loaders[1].next_batch(16, 2, 2)
    assert x0.tolist() == [[0, 1], [2, 3]] and y0.tolist() == [[1, 2], [3, 4]]
    assert x1.tolist() == [[5, 6], [7, 8]] and y1.tolist() == [[6, 7], [8, 9]]
    assert loaders[0].next_batch(16, 2, 2)[0].tolist() == [[10, 11], [12, 13]]


def test_bf16_layout_runs_forward(trainer):
    torch.manual_seed(0)
    model = trainer.cast_model_for_bf16(trainer.GPT(trainer.GPTConfig(
        vocab_size=64, num_layers=3, model_dim=32, num_heads=4, num_kv_heads=2, mlp_mult=2,
        tie_embeddings=True, tied_embed_init_std=0.005, logit_softcap=30.0, rope_base=10000.0, qk_gain_init=1.5,
    )))
    x = torch.randint(0, 64, (2, 8))
    logits = model.forward_logits(x)
    assert logits.dtype == torch.float32 and torch.isfinite(logits).all()
    model(x, x).backward()
    assert model.tok_emb.weight.grad.dtype == torch.bfloat16
    assert model.blocks[0].attn.c_q.weight.grad.dtype == torch.float32


def test_long_sequences_and_a_separate_eval_length(tmp_path, dataset, trainer):
    torch.manual_seed(0)
    model = trainer.GPT(trainer.GPTConfig(
        vocab_size=64, num_layers=2, model_dim=16, num_heads=2, num_kv_heads=1, mlp_mult=2,
        tie_embeddings=True, tied_embed_init_std=0.005, logit_softcap=30.0, rope_base=10000.0, qk_gain_init=1.5,
    ))
    with torch.no_grad():
        assert model.forward_logits(torch.randint(0, 64, (1, 4096))).shape == (1, 4096, 64)
    run = th.run_trainer(tmp_path, dataset, {"RUN_ID": "seq", "TRAIN_SEQ_LEN": "128", "EVAL_SEQ_LEN": "256",
                                             "ITERATIONS": "1", "WARMUP_STEPS": "0"})
    usable = ((len(dataset.val_tokens) - 1) // 256) * 256
    assert "train_batch_tokens:1024 train_seq_len:128 iterations:1" in run.body
    assert re.search(rf"^val_loader:shards pattern=\S+ tokens:{usable}$", run.body, re.M)
    assert "final_int8_zlib_roundtrip_exact" in run.body


def test_importing_the_script_has_no_side_effects(tmp_path):
    code = f"import importlib.util as u; s = u.spec_from_file_location('m', {str(th.SCRIPT)!r}); " \
           "m = u.module_from_spec(s); s.loader.exec_module(m); print(m.Hyperparameters.num_layers)"
    env = {**os.environ, "NUM_LAYERS": "3"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "3\n"
    assert list(tmp_path.iterdir()) == []


def test_forward_loss_is_the_cross_entropy_of_forward_logits(trainer):
    torch.manual_seed(0)
    model = trainer.GPT(trainer.GPTConfig(
        vocab_size=50, num_layers=3, model_dim=32, num_heads=4, num_kv_heads=2, mlp_mult=2,
        tie_embeddings=False, tied_embed_init_std=0.005, logit_softcap=5.0, rope_base=10000.0, qk_gain_init=1.5,
    ))
    with torch.no_grad():  # the zero-initialised projections would make every logit 0
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    x = torch.randint(0, 50, (2, 16))
    y = torch.randint(0, 50, (2, 16))
    logits = model.forward_logits(x)
    assert logits.shape == (2, 16, 50) and logits.dtype == torch.float32
    assert logits.abs().max() <= 5.0 and logits.abs().max() > 1.0
    assert torch.allclose(model(x, y), F.cross_entropy(logits.reshape(-1, 50), y.reshape(-1)))
    # causal: changing a later token leaves earlier logits unchanged
    x2 = x.clone()
    x2[:, 10] = (x2[:, 10] + 1) % 50
    assert torch.allclose(model.forward_logits(x2)[:, :10], logits[:, :10])
    assert not torch.allclose(model.forward_logits(x2)[:, 10:], logits[:, 10:])



def test_model_config_comes_from_the_hyperparameters(trainer):
    class Args(trainer.Hyperparameters):
        num_layers, model_dim, num_heads, num_kv_heads, tie_embeddings, logit_softcap = 3, 48, 6, 3, False, 12.0

    config = trainer.GPTConfig.from_args(Args)
    assert (config.num_layers, config.model_dim, config.num_heads, config.num_kv_heads) == (3, 48, 6, 3)
    assert (config.tie_embeddings, config.logit_softcap, config.vocab_size) == (False, 12.0, 1024)
    with torch.device("meta"):
        model = trainer.build_model(Args)
    assert model.config == config and len(model.blocks) == 3 and model.lm_head is not None
    assert model.blocks[0].attn.c_k.weight.shape == (24, 48)  # 3 KV heads of width 48 / 6


@pytest.fixture
def sdpa_flags():
    """configure_backends sets process-wide SDPA flags: put them back after the test."""
    cuda = torch.backends.cuda
    saved = (cuda.flash_sdp_enabled(), cuda.math_sdp_enabled(), cuda.mem_efficient_sdp_enabled(),
             cuda.cudnn_sdp_enabled())
    yield
    for enable, value in zip((cuda.enable_flash_sdp, cuda.enable_math_sdp, cuda.enable_mem_efficient_sdp,
                              cuda.enable_cudnn_sdp), saved):
        enable(value)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_training_attention_keeps_no_score_matrix_for_backward(trainer, sdpa_flags, dtype):
    """The math SDPA kernel saves the (B, H, T, T) scores for backward: gigabytes at the baseline's T=1024.
    With the backends the script configures on CPU (float32), and with its own blocked attention (bf16),
    nothing of T x T size is kept."""
    trainer.configure_backends(use_cuda=False)
    attn = trainer.CausalSelfAttention(trainer.GPTConfig(model_dim=64, num_heads=4, num_kv_heads=2))
    B, T = 2, 256
    saved = []

    def pack(t):
        saved.append(t.numel())
        return t

    autocast = torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), autocast:
        y = attn(torch.randn(B, T, 64))
    y.float().sum().backward()
    assert saved and max(saved) < T * T, sorted(saved)[-3:]


def attention_inputs(B, H, KV, T, D, dtype):
    generator = torch.Generator().manual_seed(T)
    q = F.rms_norm(torch.randn(B, H, T, D, generator=generator), (D,)) * 1.5  # as the model feeds it
    k = F.rms_norm(torch.randn(B, KV, T, D, generator=generator), (D,))
    v = torch.randn(B, KV, T, D, generator=generator)
    grad = torch.randn(B, H, T, D, generator=generator)
    return [t.to(dtype).requires_grad_() for t in (q, k, v)], grad.to(dtype)


def relative_error(a, b):
    return ((a.float() - b.float()).abs().max() / b.float().abs().max()).item()


@pytest.mark.parametrize("B, H, KV, T, D", [(2, 4, 2, 80, 16), (3, 4, 1, 33, 8), (1, 2, 2, 16, 32)])
def test_bf16_cpu_attention_is_causal_attention(trainer, monkeypatch, B, H, KV, T, D):
    """golf's blocked bf16 attention gives SDPA's causal attention and gradients, up to bf16 rounding, for grouped
    queries and a T that is no multiple of the block: checked against float32 SDPA, with small blocks and chunks
    so that every boundary is crossed."""
    monkeypatch.setattr(trainer, "ATTENTION_QUERY_BLOCK", 16)
    monkeypatch.setattr(trainer, "ATTENTION_BATCH_CHUNK", 2)
    (q, k, v), grad = attention_inputs(B, H, KV, T, D, torch.bfloat16)
    exact = [t.detach().float().requires_grad_() for t in (q, k, v)]
    y = trainer.causal_attention(q, k, v)
    y.backward(grad)
    y_exact = F.scaled_dot_product_attention(*exact, is_causal=True, enable_gqa=KV != H)
    y_exact.backward(grad.float())
    assert y.dtype == torch.bfloat16 and q.grad.dtype == k.grad.dtype == torch.bfloat16
    for name, got, want in [("y", y, y_exact), ("dq", q.grad, exact[0].grad), ("dk", k.grad, exact[1].grad),
                            ("dv", v.grad, exact[2].grad)]:
        assert relative_error(got, want) < 2e-2, name
    # a query sees no later key: changing the last token's key and value leaves every earlier output alone
    k2, v2 = k.detach().clone(), v.detach().clone()
    k2[:, :, -1], v2[:, :, -1] = 5.0, -5.0
    y2 = trainer.causal_attention(q.detach(), k2, v2)
    assert torch.equal(y2[:, :, :-1], y.detach()[:, :, :-1]) and not torch.equal(y2[:, :, -1], y.detach()[:, :, -1])


def test_float32_attention_is_sdpa_bit_for_bit(trainer):
    (q, k, v), _ = attention_inputs(2, 4, 2, 40, 16, torch.float32)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    assert torch.equal(trainer.causal_attention(q, k, v), expected)


def test_compute_dtype_follows_the_setting_and_the_cpu(trainer, monkeypatch):
    cpu = torch.device("cpu")
    assert trainer.compute_dtype("float32", cpu) == torch.float32
    assert trainer.compute_dtype("bfloat16", cpu) == torch.bfloat16
    assert trainer.compute_dtype("auto", torch.device("cuda")) == torch.bfloat16
    assert trainer.compute_dtype("float32", torch.device("cuda")) == torch.float32
    for amx, avx512_bf16, expected in [(False, False, torch.float32), (True, False, torch.bfloat16),
                                       (False, True, torch.bfloat16)]:
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda amx=amx: amx)
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v)
        assert trainer.compute_dtype("auto", cpu) == expected
    with pytest.raises(ValueError, match="DTYPE='fp16' must be auto, float32 or bfloat16"):
        trainer.compute_dtype("fp16", cpu)


class _RunsCodeWhenUnpickled:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_artifact_loading_runs_no_pickled_code(trainer, tmp_path):
    marker = tmp_path / "code_ran"
    buf = io.BytesIO()
    torch.save({"quantized": {}, "passthrough": {"x": _RunsCodeWhenUnpickled(marker)}}, buf)
    artifact = tmp_path / "evil.int8.ptz"
    artifact.write_bytes(zlib.compress(buf.getvalue()))
    with pytest.raises(Exception, match="[Ww]eights only load failed"):
        trainer.load_artifact(str(artifact))
    assert not marker.exists()


# --- (2) world-size independence, warmup rollback -----------------------------------------------------------------


def train_losses(run: th.Run) -> dict[int, float]:
    matches = re.finditer(r"^step:(\d+)/\d+ train_loss:(\S+) ", run.body, re.M)
    return {int(m.group(1)): float(m.group(2)) for m in matches}


def exact_val_loss(run: th.Run) -> float:
    return parse_float(r"^final_int8_zlib_roundtrip_exact val_loss:(\S+) ", run.body)


@pytest.fixture(scope="module")
def single_process_run(tmp_path_factory, dataset) -> th.Run:
    env = {"RUN_ID": "p1", "ITERATIONS": "2", "WARMDOWN_ITERS": "0"}
    return th.run_trainer(tmp_path_factory.mktemp("p1"), dataset, env)


def test_two_gloo_processes_train_like_one(tmp_path, dataset, single_process_run):
    two = th.run_trainer(tmp_path, dataset, {"RUN_ID": "p2", "ITERATIONS": "2", "WARMDOWN_ITERS": "0"}, nproc=2)
    assert "world_size:1 grad_accum_steps:8" in single_process_run.body
    assert "world_size:2 grad_accum_steps:4" in two.body
    one_losses, two_losses = train_losses(single_process_run), train_losses(two)
    assert sorted(one_losses) == sorted(two_losses) == [1, 2]
    for step in (1, 2):
        assert one_losses[step] == pytest.approx(two_losses[step], abs=2e-4)
    assert exact_val_loss(two) == pytest.approx(exact_val_loss(single_process_run), abs=1e-5)
    # the two steps really trained: the final loss differs from the untrained model's (~ln V)
    assert abs(exact_val_loss(two) - math.log(dataset.vocab_size)) > 1e-3


def test_micro_batches_run_in_pieces_train_like_whole_ones(tmp_path, dataset, single_process_run):
    """MICRO_BATCH_TOKENS=64 runs each 2-sequence micro-batch of the tiny shape as two passes of one sequence:
    the same steps up to float rounding, and no limit (MICRO_BATCH_TOKENS=0) is the baseline's one pass."""
    halves = th.run_trainer(tmp_path / "halves", dataset, {"RUN_ID": "halves", "ITERATIONS": "2",
                                                           "WARMDOWN_ITERS": "0", "MICRO_BATCH_TOKENS": "64"})
    whole = th.run_trainer(tmp_path / "whole", dataset, {"RUN_ID": "whole", "ITERATIONS": "2",
                                                         "WARMDOWN_ITERS": "0", "MICRO_BATCH_TOKENS": "0"})
    # two gloo processes: gradients are all-reduced once, after each rank's last pass
    two = th.run_trainer(tmp_path / "two", dataset, {"RUN_ID": "two", "ITERATIONS": "2", "WARMDOWN_ITERS": "0",
                                                     "MICRO_BATCH_TOKENS": "64"}, nproc=2)
    assert "micro_batch_pieces:2 seqs_per_piece:1" in halves.body and "micro_batch_pieces:2" in two.body
    assert "micro_batch_pieces" not in single_process_run.body + whole.body
    assert train_losses(whole) == train_losses(single_process_run)
    for step, loss in train_losses(single_process_run).items():
        assert train_losses(halves)[step] == pytest.approx(loss, abs=1e-5)
        assert train_losses(two)[step] == pytest.approx(loss, abs=2e-4)  # the rank-0 loss, as in the test above
    assert exact_val_loss(halves) == pytest.approx(exact_val_loss(single_process_run), abs=1e-5)
    assert exact_val_loss(two) == pytest.approx(exact_val_loss(single_process_run), abs=1e-5)


@pytest.mark.parametrize("seqs, seq_len, max_tokens, pieces", [
    (4, 1024, 2048, 2),  # the baseline shape on CPU: two passes of two sequences
    (4, 1024, 0, 1),  # no limit
    (4, 1024, 4096, 1),
    (3, 1024, 2048, 3),  # pieces are equal: 3 sequences cannot be halved
    (4, 1024, 512, 4),  # one sequence is over the limit: one sequence per pass
    (6, 128, 256, 3),
])
def test_micro_batch_pieces(trainer, seqs, seq_len, max_tokens, pieces):
    assert trainer.micro_batch_pieces(seqs, seq_len, max_tokens) == pieces


def test_priming_steps_are_rolled_back(tmp_path, dataset, single_process_run):
    unprimed = th.run_trainer(tmp_path, dataset, {"RUN_ID": "w0", "ITERATIONS": "2", "WARMDOWN_ITERS": "0",
                                                  "WARMUP_STEPS": "0"})
    assert not any(line.startswith("warmup_step:") for line in unprimed.log_lines_after_header())
    primed_lines = single_process_run.log_lines_after_header()
    assert [line for line in primed_lines if line.startswith("warmup_step:")] == ["warmup_step:1/2", "warmup_step:2/2"]
    assert train_losses(unprimed) == train_losses(single_process_run)
    assert exact_val_loss(unprimed) == pytest.approx(exact_val_loss(single_process_run), abs=1e-6)



def test_bf16_autocast_on_cpu_trains_like_float32(tmp_path, dataset, single_process_run):
    bf16 = th.run_trainer(tmp_path, dataset, {"RUN_ID": "bf16", "ITERATIONS": "2", "WARMDOWN_ITERS": "0",
                                              "DTYPE": "bfloat16"})
    fp32_losses, bf16_losses = train_losses(single_process_run), train_losses(bf16)
    assert sorted(bf16_losses) == [1, 2]
    for step in (1, 2):
        assert bf16_losses[step] == pytest.approx(fp32_losses[step], abs=0.05)
    assert exact_val_loss(bf16) == pytest.approx(exact_val_loss(single_process_run), abs=0.05)
    assert abs(exact_val_loss(bf16) - math.log(dataset.vocab_size)) > 1e-3


# --- (3) wallclock cap and schedules ------------------------------------------------------------------------------


def test_wallclock_cap_stops_training(tmp_path, dataset):
    run = th.run_trainer(tmp_path, dataset, {"RUN_ID": "cap", "ITERATIONS": "100000", "MAX_WALLCLOCK_SECONDS": "1",
                                             "TRAIN_LOG_EVERY": "1000"})
    match = re.search(r"^stopping_early: wallclock_cap train_time:(\d+)ms step:(\d+)/100000$", run.body, re.M)
    assert match, run.body[-2000:]
    train_ms, stop_step = int(match.group(1)), int(match.group(2))
    assert 1000 <= train_ms < 10_000 and 1 <= stop_step < 100_000
    assert "max_wallclock_seconds:1.000" in run.body
    # the last training step is validated, then the stop line follows
    lines = run.log_lines_after_header()
    i = lines.index(match.group(0))
    assert re.fullmatch(rf"step:{stop_step}/100000 val_loss:{FLOAT} val_bpb:{FLOAT} train_time:{train_ms}ms "
                        rf"step_avg:{FLOAT}ms", lines[i - 1])


def test_no_stopping_line_when_iterations_finish(single_process_run):
    assert "stopping_early" not in single_process_run.body


def test_time_based_warmdown_reaches_zero_at_the_cap(trainer):
    lr = trainer.lr_multiplier
    cap = 10_000.0
    # 100 ms per step so far (elapsed / step); WARMDOWN_ITERS=20 -> the last 2,000 ms decay linearly
    assert lr(10, 1_000.0, 1000, 20, cap) == 1.0
    assert lr(79, 7_900.0, 1000, 20, cap) == 1.0
    assert lr(80, 8_000.0, 1000, 20, cap) == pytest.approx(1.0)
    assert lr(90, 9_000.0, 1000, 20, cap) == pytest.approx(0.5)
    assert lr(95, 9_500.0, 1000, 20, cap) == pytest.approx(0.25)
    assert lr(100, cap, 1000, 20, cap) == 0.0
    assert lr(120, 12_000.0, 1000, 20, cap) == 0.0
    assert lr(0, 0.0, 1000, 20, cap) == 1.0
    assert lr(50, 9_000.0, 1000, 0, cap) == 1.0  # WARMDOWN_ITERS <= 0 disables it


def test_step_based_warmdown_without_a_cap(trainer):
    lr = trainer.lr_multiplier
    assert lr(0, 123.0, 100, 20, None) == 1.0
    assert lr(79, 0.0, 100, 20, None) == 1.0
    assert lr(80, 0.0, 100, 20, None) == pytest.approx(1.0)
    assert lr(90, 0.0, 100, 20, None) == pytest.approx(0.5)
    assert lr(99, 0.0, 100, 20, None) == pytest.approx(0.05)
    assert lr(3, 0.0, 5, 20, None) == pytest.approx(2 / 20)  # window longer than the run


def test_muon_momentum_warmup(trainer):
    args = trainer.Hyperparameters
    assert trainer.muon_momentum_at(0, args) == pytest.approx(0.85)
    assert trainer.muon_momentum_at(250, args) == pytest.approx(0.90)
    assert trainer.muon_momentum_at(500, args) == pytest.approx(0.95)
    assert trainer.muon_momentum_at(5000, args) == pytest.approx(0.95)


def test_newton_schulz_orthogonalises(trainer):
    torch.manual_seed(0)
    g = torch.randn(32, 96)
    x = trainer.zeropower_via_newtonschulz5(g, steps=5)
    assert x.shape == g.shape
    singular_values = torch.linalg.svdvals(x)
    # the quintic iteration lands singular values roughly in [0.7, 1.2] rather than exactly at 1
    assert singular_values.min() > 0.5 and singular_values.max() < 1.3
    xt = trainer.zeropower_via_newtonschulz5(g.T.contiguous(), steps=5)
    assert torch.allclose(xt, x.T, atol=1e-5)


# --- (4) the log --------------------------------------------------------------------------------------------------


def expected_log_patterns(run_id_dir: str, n_params: int, val_tokens: int) -> list[str]:
    it = 4
    val = rf"val_loss:{FLOAT} val_bpb:{FLOAT} train_time:\d+ms step_avg:{FLOAT}ms"
    train = rf"train_loss:{FLOAT} train_time:\d+ms step_avg:{FLOAT}ms"
    return [
        r"val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path=\S+\.model",
        r"train_loader:dataset:tiny_sp train_shards:2",
        rf"val_loader:shards pattern={re.escape(run_id_dir)}/fineweb_val_\*\.bin tokens:{val_tokens}",
        rf"model_params:{n_params}",
        r"world_size:1 grad_accum_steps:8",
        r"sdp_backends:cudnn=(True|False) flash=(True|False) mem_efficient=(True|False) math=(True|False)",
        r"attention_mode:gqa num_heads:4 num_kv_heads:2",
        r"tie_embeddings:True embed_lr:0\.05 head_lr:0\.0 matrix_lr:0\.04 scalar_lr:0\.04",
        r"train_batch_tokens:1024 train_seq_len:64 iterations:4 warmup_steps:2 max_wallclock_seconds:0\.000",
        r"seed:1337",
        r"warmup_step:1/2",
        r"warmup_step:2/2",
        rf"step:0/{it} {val}",
        rf"step:1/{it} {train}",
        rf"step:2/{it} {train}",
        rf"step:2/{it} {val}",
        rf"step:3/{it} {train}",
        rf"step:4/{it} {train}",
        rf"step:4/{it} {val}",
        r"peak memory allocated: \d+ MiB reserved: \d+ MiB",
        r"Serialized model: \d+ bytes",
        r"Code size: \d+ bytes",
        r"Total submission size: \d+ bytes",
        r"Serialized model int8\+zlib: \d+ bytes \(payload:\d+ raw_torch:\d+ payload_ratio:\d+\.\d\dx\)",
        r"Total submission size int8\+zlib: \d+ bytes",
        rf"final_int8_zlib_roundtrip val_loss:{FLOAT} val_bpb:{FLOAT} eval_time:\d+ms",
        r"final_int8_zlib_roundtrip_exact val_loss:-?\d+\.\d{8} val_bpb:-?\d+\.\d{8}",
        rf"final_int8_zlib_roundtrip_sliding_window stride:32 val_loss:{FLOAT} val_bpb:{FLOAT} eval_time:\d+ms",
        r"final_int8_zlib_roundtrip_sliding_window_exact stride:32 val_loss:-?\d+\.\d{8} val_bpb:-?\d+\.\d{8}",
    ]


def test_log_starts_with_the_script_source_and_environment(full_run):
    source = th.SCRIPT.read_text(encoding="utf-8")
    text = full_run.log
    assert text.startswith(source + "\n" + BANNER + "\n")
    header = text[len(source) + 1 :].split("\n")
    assert header[0] == BANNER
    assert header[1] == f"Running Python {sys.version}"
    assert header[2] == f"Running PyTorch {torch.__version__}"
    assert BANNER in header[3:]
    assert full_run.log_path == full_run.workdir / "logs" / "full.txt"
    assert full_run.stdout.splitlines()[0] == "logs/full.txt"


def test_log_lines_follow_the_baseline_format_in_order(full_run, dataset, trainer):
    lines = full_run.log_lines_after_header()
    val_tokens = ((len(dataset.val_tokens) - 1) // 64) * 64
    patterns = expected_log_patterns(str(dataset.data_path), full_param_count(trainer), val_tokens)
    assert len(lines) == len(patterns), "\n".join(lines)
    for line, pattern in zip(lines, patterns):
        assert re.fullmatch(pattern, line), f"{line!r} does not match {pattern!r}"
    # stdout carries the same lines (after the log path), but not the source header
    assert full_run.stdout.splitlines()[1:] == lines


def test_logged_sizes_are_the_real_file_sizes(full_run):
    log, workdir = full_run.body, full_run.workdir
    code_bytes = len((workdir / "train_gpt.py").read_bytes())
    raw_bytes = (workdir / "final_model.pt").stat().st_size
    ptz_bytes = (workdir / "final_model.int8.ptz").stat().st_size
    assert parse_float(r"^Code size: (\d+) bytes$", log) == code_bytes
    assert parse_float(r"^Serialized model: (\d+) bytes$", log) == raw_bytes
    assert parse_float(r"^Total submission size: (\d+) bytes$", log) == raw_bytes + code_bytes
    assert parse_float(r"^Serialized model int8\+zlib: (\d+) bytes", log) == ptz_bytes
    assert parse_float(r"^Total submission size int8\+zlib: (\d+) bytes$", log) == ptz_bytes + code_bytes


# --- (5) artifact round trip --------------------------------------------------------------------------------------


def read_artifact(path: Path) -> dict:
    return torch.load(io.BytesIO(zlib.decompress(path.read_bytes())), map_location="cpu")


def test_artifact_format_and_per_row_error_bound(full_run):
    obj = read_artifact(full_run.workdir / "final_model.int8.ptz")
    raw = torch.load(full_run.workdir / "final_model.pt", map_location="cpu")
    assert obj["__quant_format__"] == "int8_clean_per_row_v1"
    assert set(obj["quantized"]) | set(obj["passthrough"]) == set(raw)
    # float tensors above 65,536 elements are quantized: here the 384x192 embedding and the 192x384 MLP matrices
    assert set(obj["quantized"]) == {name for name, t in raw.items() if t.numel() > 65_536}
    assert {"tok_emb.weight", "blocks.0.mlp.fc.weight", "blocks.1.mlp.proj.weight"} <= set(obj["quantized"])
    assert "blocks.0.attn.c_q.weight" in obj["passthrough"]
    for name, q in obj["quantized"].items():
        w = raw[name].float()
        scale = obj["scales"][name]
        assert q.dtype == torch.int8 and scale.dtype == torch.float16 and scale.shape == (w.shape[0],)
        assert obj["qmeta"][name] == {"scheme": "per_row", "axis": 0}
        assert q.abs().max() <= 127
        clip = torch.quantile(w.abs(), 0.9999984, dim=1, keepdim=True)
        s = scale.float()[:, None]
        assert torch.all(s >= 1 / 127 * (1 - 2**-10))
        err = (torch.clamp(w, -clip, clip) - q.float() * s).abs()
        assert torch.all(err <= s / 2 + 1e-7), float((err - s / 2).max())
    for name, t in obj["passthrough"].items():
        if any(k in name for k in ("attn_scale", "mlp_scale", "resid_mix", "q_gain", "skip_weights")):
            assert t.dtype == torch.float32 and torch.equal(t, raw[name])
        else:
            assert t.dtype == torch.float16 and obj["passthrough_orig_dtypes"][name] == "float32"


def test_default_shape_payload_matches_the_baseline(trainer):
    torch.manual_seed(0)
    model = trainer.cast_model_for_bf16(default_gpt(trainer).to_empty(device="cpu"))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
    obj, stats = trainer.quantize_state_dict_int8(model.state_dict())
    assert stats["int8_payload_bytes"] == 17_178_912  # spec 1.10: log `payload:17178912`
    assert stats["param_count"] == 17_059_912
    assert len(obj["quantized"]) == 9 * 6 + 1
    assert obj["dtypes"]["tok_emb.weight"] == "bfloat16"
    restored = trainer.dequantize_state_dict_int8(obj)
    assert restored["tok_emb.weight"].dtype == torch.bfloat16
    assert restored["blocks.0.attn.c_q.weight"].dtype == torch.float32
    assert torch.equal(restored["skip_weights"], model.skip_weights.detach())


def test_load_model_for_eval_matches_dequantized_weights(full_run, full_module, dataset):
    path = full_run.workdir / "final_model.int8.ptz"
    model = full_module.load_model_for_eval(str(path))
    assert not model.training
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in model.parameters())
    obj = read_artifact(path)
    state = model.state_dict()
    for name, q in obj["quantized"].items():
        assert torch.equal(state[name], q.float() * obj["scales"][name].float()[:, None])
    for name, t in obj["passthrough"].items():
        assert torch.equal(state[name], t.float())
    # an independently assembled model with the same weights gives the same logits
    twin = full_module.build_model(full_module.Hyperparameters)
    twin.load_state_dict({k: v.clone() for k, v in state.items()})
    x = torch.from_numpy(dataset.val_tokens[:128].astype(np.int64)).reshape(2, 64)
    with torch.no_grad():
        logits = model.forward_logits(x)
        assert logits.shape == (2, 64, dataset.vocab_size) and logits.dtype == torch.float32
        assert torch.allclose(logits, twin.forward_logits(x))


def spec_target_bytes(sp, prev: np.ndarray, target: np.ndarray) -> int:
    """Spec 1.9 byte accounting, written out per token."""
    def boundary(t):
        return sp.is_control(t) or sp.is_unknown(t) or sp.is_unused(t)

    total = 0
    for x, y in zip(prev.tolist(), target.tolist()):
        if boundary(y):
            continue
        if sp.is_byte(y):
            total += 1
            continue
        piece = sp.id_to_piece(y)
        if piece.startswith("\u2581"):
            total += len(piece[1:].encode("utf-8")) + (0 if boundary(x) else 1)
        else:
            total += len(piece.encode("utf-8"))
    return total


def test_roundtrip_score_is_the_loaded_models_val_loss_and_bpb(full_run, full_module, dataset):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(dataset.tokenizer_path))
    model = full_module.load_model_for_eval(str(full_run.workdir / "final_model.int8.ptz"))
    n = ((len(dataset.val_tokens) - 1) // 64) * 64
    tokens = dataset.val_tokens[: n + 1].astype(np.int64)
    x = torch.from_numpy(tokens[:-1]).reshape(-1, 64)
    y = torch.from_numpy(tokens[1:]).reshape(-1, 64)
    with torch.no_grad():
        nll = F.cross_entropy(model.forward_logits(x).reshape(-1, dataset.vocab_size), y.reshape(-1), reduction="sum")
    val_loss = float(nll) / n
    val_bpb = val_loss / math.log(2) * n / spec_target_bytes(sp, tokens[:-1], tokens[1:])
    logged_loss = parse_float(r"^final_int8_zlib_roundtrip_exact val_loss:(\S+) ", full_run.body)
    logged_bpb = parse_float(r"^final_int8_zlib_roundtrip_exact val_loss:\S+ val_bpb:(\S+)$", full_run.body)
    assert logged_loss == pytest.approx(val_loss, abs=2e-6)
    assert logged_bpb == pytest.approx(val_bpb, abs=2e-6)


# --- (6) sliding-window evaluation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, seq_len, stride",
    [(1, 64, 64), (10, 64, 32), (64, 64, 64), (65, 64, 64), (100, 64, 64), (100, 64, 32), (100, 64, 1),
     (1000, 64, 48), (1000, 128, 17), (129, 64, 64), (130, 16, 5), (7, 7, 3)],
)
def test_sliding_window_plan_scores_every_target_once(trainer, n, seq_len, stride):
    windows = trainer.sliding_windows(n, seq_len, stride)
    scored = np.zeros(n, dtype=int)
    for k, (ws, end, score_from) in enumerate(windows):
        assert ws == k * stride
        assert end == min(ws + seq_len, n)
        assert ws <= score_from < end
        scored[score_from:end] += 1
        if k == 0:
            assert score_from == 0
        elif end - ws == seq_len:
            assert end - score_from == stride  # a full later window scores exactly its last S targets
    assert np.all(scored == 1)
    assert windows[-1][1] == n and sum(1 for w in windows if w[1] == n) == 1


def test_sliding_window_plan_rejects_bad_strides(trainer):
    for stride in (0, 65, -1):
        with pytest.raises(ValueError):
            trainer.sliding_windows(100, 64, stride)


def test_sliding_score_matches_the_definition(full_run, full_module, dataset):
    """Windows start every S tokens; each scores the targets past the previous window's end."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(dataset.tokenizer_path))
    model = full_module.load_model_for_eval(str(full_run.workdir / "final_model.int8.ptz"))
    seq_len, stride = 64, 32
    tokens = dataset.val_tokens[: ((len(dataset.val_tokens) - 1) // seq_len) * seq_len + 1].astype(np.int64)
    n_targets = len(tokens) - 1
    plan, done, ws = [], 0, 0
    while done < n_targets:
        end = min(ws + seq_len, n_targets)
        plan.append((ws, end, done))
        done, ws = end, ws + stride
    total_nll = 0.0
    with torch.no_grad():
        for length in {end - ws for ws, end, _ in plan}:
            group = [w for w in plan if w[1] - w[0] == length]
            x = torch.from_numpy(np.stack([tokens[ws:end] for ws, end, _ in group]))
            y = torch.from_numpy(np.stack([tokens[ws + 1 : end + 1] for ws, end, _ in group]))
            nll = F.cross_entropy(model.forward_logits(x).transpose(1, 2), y, reduction="none").double()
            for row, (ws, end, first) in enumerate(group):
                total_nll += float(nll[row, first - ws :].sum())
    # a target's byte count depends only on itself and the token before it, so it is window-independent
    val_loss = total_nll / n_targets
    val_bpb = val_loss / math.log(2) * n_targets / spec_target_bytes(sp, tokens[:-1], tokens[1:])
    line = r"^final_int8_zlib_roundtrip_sliding_window_exact stride:32 val_loss:(\S+) val_bpb:(\S+)$"
    match = re.search(line, full_run.body, re.M)
    assert match
    assert float(match.group(1)) == pytest.approx(val_loss, abs=2e-6)
    assert float(match.group(2)) == pytest.approx(val_bpb, abs=2e-6)
    rounded = re.search(r"^final_int8_zlib_roundtrip_sliding_window stride:32 val_loss:(\S+) ", full_run.body, re.M)
    assert float(rounded.group(1)) == pytest.approx(val_loss, abs=6e-5)
    # with overlapping context the score differs from the independent-sequence score
    plain = parse_float(r"^final_int8_zlib_roundtrip_exact val_loss:(\S+) ", full_run.body)
    assert abs(plain - val_loss) > 1e-6


def test_no_sliding_lines_without_eval_stride(single_process_run):
    assert "sliding_window" not in single_process_run.log_lines_after_header()[-1]
    assert not any("sliding_window" in line for line in single_process_run.log_lines_after_header())

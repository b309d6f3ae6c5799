"""
Reference trainer for the Parameter Golf challenge: the baseline GPT, Muon + Adam, int8+zlib artifact.

Run with `torchrun --standalone --nproc_per_node=N train_gpt.py` (N divides 8) or `python train_gpt.py`.
Everything is configured through environment variables (see Hyperparameters). On CUDA it uses NCCL, flash SDPA,
bf16 autocast and torch.compile. On CPU it uses gloo and eager mode, and bf16 autocast only where the CPU computes
bf16 natively (AMX or AVX-512 BF16), with its own blocked attention (causal_attention); DTYPE=float32 forces float32
and SDPA everywhere (bit-for-bit reproducible runs), DTYPE=bfloat16 forces bf16 autocast.

Sections, in reading order: config, model, optimizer, data, training loop, evaluation, artifact.
Importing this file does nothing but read the environment into Hyperparameters; the trusted evaluator uses
`load_model_for_eval(artifact_path)` and `model.forward_logits(input_ids)`.
Keep this file under 1,500 lines.
"""

import copy
import glob
import io
import math
import os
import random
import subprocess
import sys
import time
import uuid
import zlib
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel as DDP

# -----------------------------------------------------------------------------
# Config: hyperparameters read from the environment at import time


class Hyperparameters:
    data_path = os.environ.get("DATA_PATH", "./data/datasets/fineweb10B_sp1024")
    train_files = os.path.join(data_path, "fineweb_train_*.bin")
    val_files = os.path.join(data_path, "fineweb_val_*.bin")
    tokenizer_path = os.environ.get("TOKENIZER_PATH", "./data/tokenizers/fineweb_1024_bpe.model")
    run_id = os.environ.get("RUN_ID", str(uuid.uuid4()))
    seed = int(os.environ.get("SEED", 1337))

    # validation
    val_batch_size = int(os.environ.get("VAL_BATCH_SIZE", 524_288))
    val_loss_every = int(os.environ.get("VAL_LOSS_EVERY", 1000))
    train_log_every = int(os.environ.get("TRAIN_LOG_EVERY", 200))

    # training length
    iterations = int(os.environ.get("ITERATIONS", 20_000))
    warmdown_iters = int(os.environ.get("WARMDOWN_ITERS", 1200))
    warmup_steps = int(os.environ.get("WARMUP_STEPS", 20))
    train_batch_tokens = int(os.environ.get("TRAIN_BATCH_TOKENS", 524_288))
    train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 1024))
    # The most tokens one forward/backward pass takes: a larger micro-batch runs in equal pieces whose gradients
    # add up to the same step, with a fraction of the activation memory. 0: no limit (the baseline). The CPU
    # default, 2 sequences of 1024, trains about as fast as the baseline's 4 per pass with half the memory.
    micro_batch_tokens = int(os.environ.get("MICRO_BATCH_TOKENS", "0" if torch.cuda.is_available() else "2048"))
    max_wallclock_seconds = float(os.environ.get("MAX_WALLCLOCK_SECONDS", 600.0))

    # evaluation (EVAL_STRIDE 0 = no sliding-window evaluation)
    eval_seq_len = int(os.environ.get("EVAL_SEQ_LEN", train_seq_len))
    eval_stride = int(os.environ.get("EVAL_STRIDE", 0))
    eval_batch_seqs = int(os.environ.get("EVAL_BATCH_SEQS", 32))

    # model shape
    vocab_size = int(os.environ.get("VOCAB_SIZE", 1024))
    num_layers = int(os.environ.get("NUM_LAYERS", 9))
    num_kv_heads = int(os.environ.get("NUM_KV_HEADS", 4))
    model_dim = int(os.environ.get("MODEL_DIM", 512))
    num_heads = int(os.environ.get("NUM_HEADS", 8))
    mlp_mult = int(os.environ.get("MLP_MULT", 2))
    tie_embeddings = bool(int(os.environ.get("TIE_EMBEDDINGS", "1")))
    rope_base = float(os.environ.get("ROPE_BASE", 10000.0))
    logit_softcap = float(os.environ.get("LOGIT_SOFTCAP", 30.0))
    qk_gain_init = float(os.environ.get("QK_GAIN_INIT", 1.5))

    # optimizers
    embed_lr = float(os.environ.get("EMBED_LR", 0.6))
    head_lr = float(os.environ.get("HEAD_LR", 0.008))
    tied_embed_lr = float(os.environ.get("TIED_EMBED_LR", 0.05))
    tied_embed_init_std = float(os.environ.get("TIED_EMBED_INIT_STD", 0.005))
    matrix_lr = float(os.environ.get("MATRIX_LR", 0.04))
    scalar_lr = float(os.environ.get("SCALAR_LR", 0.04))
    muon_momentum = float(os.environ.get("MUON_MOMENTUM", 0.95))
    muon_backend_steps = int(os.environ.get("MUON_BACKEND_STEPS", 5))
    muon_momentum_warmup_start = float(os.environ.get("MUON_MOMENTUM_WARMUP_START", 0.85))
    muon_momentum_warmup_steps = int(os.environ.get("MUON_MOMENTUM_WARMUP_STEPS", 500))
    beta1 = float(os.environ.get("BETA1", 0.9))
    beta2 = float(os.environ.get("BETA2", 0.95))
    adam_eps = float(os.environ.get("ADAM_EPS", 1e-8))
    grad_clip_norm = float(os.environ.get("GRAD_CLIP_NORM", 0.0))

    # runtime: torch.compile is on by default only on CUDA; DTYPE is auto, float32 or bfloat16 (see compute_dtype)
    compile = bool(int(os.environ.get("COMPILE", "1" if torch.cuda.is_available() else "0")))
    dtype = os.environ.get("DTYPE", "auto")


# Parameters whose names contain one of these substrings are "control" tensors: optimized by Adam at SCALAR_LR,
# kept in fp32, and stored unquantized in fp32 in the artifact.
CONTROL_TENSOR_NAME_PATTERNS = tuple(
    p
    for p in os.environ.get(
        "CONTROL_TENSOR_NAME_PATTERNS",
        "attn_scale,attn_scales,mlp_scale,mlp_scales,resid_mix,resid_mixes,q_gain,skip_weight,skip_weights",
    ).split(",")
    if p
)
INT8_KEEP_FLOAT_FP32_NAME_PATTERNS = tuple(
    p
    for p in os.environ.get("INT8_KEEP_FLOAT_FP32_NAME_PATTERNS", ",".join(CONTROL_TENSOR_NAME_PATTERNS)).split(",")
    if p
)
INT8_KEEP_FLOAT_MAX_NUMEL = 65_536
INT8_KEEP_FLOAT_STORE_DTYPE = torch.float16
INT8_PER_ROW_SCALE_DTYPE = torch.float16
INT8_CLIP_PERCENTILE = 99.99984
INT8_CLIP_Q = INT8_CLIP_PERCENTILE / 100.0


def is_control_name(name: str) -> bool:
    return any(pattern in name for pattern in CONTROL_TENSOR_NAME_PATTERNS)


# -----------------------------------------------------------------------------
# Model


@dataclass
class GPTConfig:
    vocab_size: int = 1024
    num_layers: int = 9
    model_dim: int = 512
    num_heads: int = 8
    num_kv_heads: int = 4
    mlp_mult: int = 2
    tie_embeddings: bool = True
    tied_embed_init_std: float = 0.005
    logit_softcap: float = 30.0
    rope_base: float = 10000.0
    qk_gain_init: float = 1.5

    @classmethod
    def from_args(cls, args) -> "GPTConfig":
        return cls(**{name: getattr(args, name) for name in cls.__dataclass_fields__})


def rms_norm(x: Tensor) -> Tensor:
    """RMS normalisation over the last dimension, without a weight: F.rms_norm, or for bf16 on CPU the same
    forward computed by CPURMSNorm, which keeps less for the backward pass."""
    if x.device.type == "cpu" and x.dtype == torch.bfloat16:
        return CPURMSNorm.apply(x)
    return F.rms_norm(x, (x.size(-1),))


class CPURMSNorm(torch.autograd.Function):
    """F.rms_norm of a bf16 tensor as torch's CPU kernel computes it (in fp32, epsilon of fp32; bit for bit the
    same output). Autograd through that kernel keeps the fp32 copy of the input for the backward pass: a third of
    everything a bf16 training step keeps at the baseline shape. This keeps the bf16 input and upcasts it again."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        xf = x.float()
        rstd = torch.rsqrt(xf.pow(2).mean(-1, keepdim=True).add_(torch.finfo(torch.float32).eps))
        ctx.save_for_backward(x, rstd)
        return xf.mul_(rstd).to(x.dtype)

    @staticmethod
    def backward(ctx, dy: Tensor) -> Tensor:
        x, rstd = ctx.saved_tensors
        x_hat = x.float().mul_(rstd)
        dy = dy.float()
        dx = torch.addcmul(dy, x_hat, (dy * x_hat).mean(-1, keepdim=True), value=-1).mul_(rstd)
        return dx.to(x.dtype)  # rstd * (dy - x_hat * mean(dy * x_hat))


class RMSNorm(nn.Module):
    """RMSNorm without a learnable weight."""

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x)


class CastedLinear(nn.Linear):
    """A bias-free linear layer whose fp32 weight is cast to the activation dtype at matmul time."""

    def __init__(self, in_features: int, out_features: int, zero_init: bool = False):
        super().__init__(in_features, out_features, bias=False)
        self.zero_init = zero_init

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight.to(x.dtype))


class Rotary(nn.Module):
    """Rotate-half RoPE. cos/sin are computed in fp32 from plain floats (immune to the model's bf16 cast),
    then cast to the activation dtype."""

    def __init__(self, head_dim: int, base: float):
        super().__init__()
        self.head_dim = head_dim
        self.base = base

    def forward(self, seq_len: int, device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
        exponents = torch.arange(0, self.head_dim, 2, device=device, dtype=torch.float32) / self.head_dim
        inv_freq = 1.0 / (self.base**exponents)
        freqs = torch.outer(torch.arange(seq_len, device=device, dtype=torch.float32), inv_freq)  # (T, D/2)
        return freqs.cos()[None, None, :, :].to(dtype), freqs.sin()[None, None, :, :].to(dtype)


def apply_rotary(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    half = x.size(-1) // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos + x2 * sin, x2 * cos - x1 * sin), dim=-1)


# Causal attention for bf16 on CPU. torch's CPU flash kernel takes half of a bf16 training step at the baseline
# shape (1024 tokens, head_dim 64): its exp/softmax work runs at a fraction of the speed of its matmuls. This
# computes the same attention from large bf16 batched matmuls instead, one block of query rows at a time so that
# the masked upper triangle is skipped and each block's scores stay in cache, with torch's fused softmax and
# softmax-backward kernels; like the flash kernel it keeps only q, k and v for the backward pass and recomputes
# the probabilities there. Scores are rounded to bf16 before the softmax (the flash kernel keeps them in fp32),
# as in torch's math SDPA kernel; probabilities are bf16 in both. float32 and CUDA keep SDPA.
ATTENTION_QUERY_BLOCK = 128  # query rows per block: blocks of 128 skip 44 % of the T x T scores at T=1024
ATTENTION_BATCH_CHUNK = 4  # (batch, kv head) pairs per block: 4 x 256 x 1024 bf16 scores, 2 MiB


def causal_attention(q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """softmax(q k^T / sqrt(D)) v under a causal mask; q (B, H, T, D), k and v (B, KV, T, D) with KV dividing H."""
    if q.device.type == "cpu" and q.dtype == torch.bfloat16 == k.dtype == v.dtype:
        return BlockedCausalAttention.apply(q, k, v)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=k.size(1) != q.size(1))


_causal_masks: dict[int, Tensor] = {}


def causal_block_probs(q: Tensor, k: Tensor, start: int, groups: int) -> Tensor:
    """Softmax probabilities (N, groups * L, start + L) of the query rows start..start+L-1 of each head group,
    q (N, groups * L, D) already scaled, k (N, T, D)."""
    length = q.size(1) // groups
    scores = torch.bmm(q, k[:, : start + length].transpose(1, 2))
    mask = _causal_masks.get(length)
    if mask is None:
        mask = _causal_masks[length] = torch.ones(length, length, dtype=torch.bool).triu_(1)
    scores.view(scores.size(0), groups, length, -1)[..., start:].masked_fill_(mask, float("-inf"))
    return torch.softmax(scores, dim=-1)


def attention_blocks(n: int, t: int):
    """(chunk of (batch, kv head) pairs, first query row) of every block."""
    for c in range(0, n, ATTENTION_BATCH_CHUNK):
        for start in range(0, t, ATTENTION_QUERY_BLOCK):
            yield slice(c, c + ATTENTION_BATCH_CHUNK), start


class BlockedCausalAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        B, H, T, D = q.shape
        KV = k.size(1)
        G, N = H // KV, B * KV  # query heads per kv head; the query heads of one kv head share its blocks
        scale = D**-0.5
        q = (q * scale).reshape(N, G, T, D)
        k, v = k.reshape(N, T, D), v.reshape(N, T, D)
        y = torch.empty_like(q)
        for c, start in attention_blocks(N, T):
            end = min(start + ATTENTION_QUERY_BLOCK, T)
            qb = q[c, :, start:end].reshape(-1, G * (end - start), D)
            p = causal_block_probs(qb, k[c], start, G)
            y[c, :, start:end] = torch.bmm(p, v[c, :end]).view(-1, G, end - start, D)
        ctx.save_for_backward(q, k, v)
        ctx.shape, ctx.scale = (B, H, KV, T, D), scale
        return y.view(B, H, T, D)

    @staticmethod
    def backward(ctx, dy: Tensor):
        q, k, v = ctx.saved_tensors
        B, H, KV, T, D = ctx.shape
        N, G = q.size(0), q.size(1)
        dy = dy.reshape(N, G, T, D)
        dq = torch.empty_like(q)
        dk = torch.zeros(N, T, D, dtype=torch.float32)
        dv = torch.zeros(N, T, D, dtype=torch.float32)
        for c, start in attention_blocks(N, T):
            end = min(start + ATTENTION_QUERY_BLOCK, T)
            qb = q[c, :, start:end].reshape(-1, G * (end - start), D)
            dyb = dy[c, :, start:end].reshape(-1, G * (end - start), D)
            p = causal_block_probs(qb, k[c], start, G)
            dv[c, :end] += torch.bmm(p.transpose(1, 2), dyb)
            dp = torch.bmm(dyb, v[c, :end].transpose(1, 2))
            ds = torch._softmax_backward_data(dp, p, -1, p.dtype)  # p * (dp - rowsum(dp * p))
            dq[c, :, start:end] = torch.bmm(ds, k[c, :end]).view(-1, G, end - start, D)
            dk[c, :end] += torch.bmm(ds.transpose(1, 2), qb)
        dq = (dq * ctx.scale).view(B, H, T, D)
        return dq, dk.view(B, KV, T, D).to(k.dtype), dv.view(B, KV, T, D).to(v.dtype)


class CausalSelfAttention(nn.Module):
    """Grouped-query attention: H query heads share KV (key/value) heads in groups of H // KV."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        dim, num_heads, num_kv_heads = config.model_dim, config.num_heads, config.num_kv_heads
        if dim % num_heads != 0:
            raise ValueError("MODEL_DIM must be divisible by NUM_HEADS")
        if num_heads % num_kv_heads != 0:
            raise ValueError("NUM_HEADS must be divisible by NUM_KV_HEADS")
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        self.head_dim = dim // num_heads
        if self.head_dim % 2 != 0:
            raise ValueError("head_dim must be even for RoPE")
        kv_dim = num_kv_heads * self.head_dim
        self.c_q = CastedLinear(dim, dim)
        self.c_k = CastedLinear(dim, kv_dim)
        self.c_v = CastedLinear(dim, kv_dim)
        self.proj = CastedLinear(dim, dim, zero_init=True)
        # A learned per-head temperature: q and k are RMS-normalised, so the logit scale must come from here.
        self.q_gain = nn.Parameter(torch.full((num_heads,), config.qk_gain_init, dtype=torch.float32))
        self.rotary = Rotary(self.head_dim, config.rope_base)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape  # batch, sequence length, model width (C = H * D)
        H, KV, D = self.num_heads, self.num_kv_heads, self.head_dim
        q = self.c_q(x).reshape(B, T, H, D).transpose(1, 2)  # (B, H, T, D)
        k = self.c_k(x).reshape(B, T, KV, D).transpose(1, 2)  # (B, KV, T, D)
        v = self.c_v(x).reshape(B, T, KV, D).transpose(1, 2)  # (B, KV, T, D)
        q = rms_norm(q)
        k = rms_norm(k)
        cos, sin = self.rotary(T, x.device, q.dtype)  # (1, 1, T, D/2)
        q = apply_rotary(q, cos, sin)
        k = apply_rotary(k, cos, sin)
        q = q * self.q_gain.to(q.dtype)[None, :, None, None]
        y = causal_attention(q, k, v)  # (B, H, T, D)
        y = y.transpose(1, 2).contiguous().reshape(B, T, C)  # (B, T, H, D) -> (B, T, C)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        hidden = config.mlp_mult * config.model_dim
        self.fc = CastedLinear(config.model_dim, hidden)
        self.proj = CastedLinear(hidden, config.model_dim, zero_init=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(torch.relu(self.fc(x)).square())  # relu^2


class Block(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        dim = config.model_dim
        self.attn_norm = RMSNorm()
        self.mlp_norm = RMSNorm()
        self.attn = CausalSelfAttention(config)
        self.mlp = MLP(config)
        self.attn_scale = nn.Parameter(torch.ones(dim, dtype=torch.float32))
        self.mlp_scale = nn.Parameter(torch.ones(dim, dtype=torch.float32))
        # Each block mixes the running residual x with the embedding x0 it started from.
        self.resid_mix = nn.Parameter(torch.stack((torch.ones(dim), torch.zeros(dim))).float())

    def forward(self, x: Tensor, x0: Tensor) -> Tensor:
        mix = self.resid_mix.to(x.dtype)
        x = mix[0][None, None, :] * x + mix[1][None, None, :] * x0
        x = x + self.attn_scale.to(x.dtype)[None, None, :] * self.attn(self.attn_norm(x))
        x = x + self.mlp_scale.to(x.dtype)[None, None, :] * self.mlp(self.mlp_norm(x))
        return x


class GPT(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.logit_softcap <= 0.0:
            raise ValueError(f"logit_softcap must be positive, got {config.logit_softcap}")
        self.config = config
        self.tie_embeddings = config.tie_embeddings
        self.logit_softcap = config.logit_softcap
        self.tok_emb = nn.Embedding(config.vocab_size, config.model_dim)
        # U-Net: the first half of the blocks push their outputs, the second half pops them (LIFO).
        self.num_encoder_layers = config.num_layers // 2
        self.num_decoder_layers = config.num_layers - self.num_encoder_layers
        num_skips = min(self.num_encoder_layers, self.num_decoder_layers)
        self.skip_weights = nn.Parameter(torch.ones(num_skips, config.model_dim, dtype=torch.float32))
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.num_layers)])
        self.final_norm = RMSNorm()
        self.lm_head = None
        if not config.tie_embeddings:
            self.lm_head = CastedLinear(config.model_dim, config.vocab_size, zero_init=True)
        self._init_weights()

    def _init_weights(self) -> None:
        if self.tie_embeddings:
            nn.init.normal_(self.tok_emb.weight, mean=0.0, std=self.config.tied_embed_init_std)
        for module in self.modules():
            if isinstance(module, CastedLinear) and module.zero_init:
                nn.init.zeros_(module.weight)

    def forward_logits(self, input_ids: Tensor) -> Tensor:
        """Softcapped logits (B, T, V) in float32: exactly what the training loss is computed from."""
        x = rms_norm(self.tok_emb(input_ids))  # (B, T, C)
        x0 = x
        skips = []
        for i in range(self.num_encoder_layers):
            x = self.blocks[i](x, x0)
            skips.append(x)
        for i in range(self.num_decoder_layers):
            if skips:
                x = x + self.skip_weights[i].to(x.dtype)[None, None, :] * skips.pop()
            x = self.blocks[self.num_encoder_layers + i](x, x0)
        x = self.final_norm(x)
        if self.tie_embeddings:
            logits = F.linear(x, self.tok_emb.weight.to(x.dtype))
        else:
            logits = self.lm_head(x)
        # tanh softcap: logits stay within +-logit_softcap, which keeps early training stable
        logits = self.logit_softcap * torch.tanh(logits / self.logit_softcap)
        return logits.float()

    def forward(self, input_ids: Tensor, target_ids: Tensor) -> Tensor:
        logits = self.forward_logits(input_ids)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), target_ids.reshape(-1), reduction="mean")


def build_model(args) -> GPT:
    """The model in fp32; see cast_model_for_bf16 for the layout used with bf16 autocast."""
    return GPT(GPTConfig.from_args(args))


def cast_model_for_bf16(model: GPT) -> GPT:
    # bf16 everywhere, then linear weights and small/control parameters back to fp32 (tok_emb stays bf16).
    model.bfloat16()
    for module in model.modules():
        if isinstance(module, CastedLinear):
            module.float()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if (param.ndim < 2 or is_control_name(name)) and param.dtype != torch.float32:
                param.data = param.data.float()
    return model


# -----------------------------------------------------------------------------
# Optimizer: Muon for the block matrices, Adam for everything else


# Muon (Keller Jordan et al., 2024, from the modded-nanoGPT speedruns) is SGD with Nesterov momentum whose update
# for each 2-D weight is replaced by the nearest (semi-)orthogonal matrix: every direction of the update moves the
# weight by the same amount, instead of a few dominant directions taking all of it. The orthogonalisation is a few
# Newton-Schulz iterations, cheap matmuls that run well in bf16, rather than an SVD.
def zeropower_via_newtonschulz5(G: Tensor, steps: int = 10, eps: float = 1e-7, dtype: torch.dtype | None = None):
    # The quintic's coefficients are tuned for speed, not exactness: five iterations push every singular value
    # into roughly [0.7, 1.2], which is all the update needs. bf16 on CUDA, fp32 on CPU unless dtype says otherwise.
    a, b, c = (3.4445, -4.7750, 2.0315)
    X = G.to(dtype or (torch.bfloat16 if G.is_cuda else torch.float32))
    X = X / (X.norm() + eps)  # singular values <= 1
    transposed = G.size(0) > G.size(1)
    if transposed:  # iterate on the smaller Gram matrix X X^T
        X = X.T
    for _ in range(steps):
        A = X @ X.T
        B = b * A + c * A @ A
        X = a * X + B @ X
    return X.T if transposed else X


class Muon(torch.optim.Optimizer):
    """Nesterov momentum, orthogonalised update. Parameters are shared round-robin between ranks: each rank
    computes the updates of its own parameters, then one flat all_reduce gives every rank all updates.
    `orthogonalize` is zeropower_via_newtonschulz5 or a torch.compile'd version of it."""

    def __init__(self, params, lr: float, momentum: float, backend_steps: int, nesterov: bool = True,
                 dtype: torch.dtype = torch.float32, orthogonalize=zeropower_via_newtonschulz5):
        super().__init__(params, dict(lr=lr, momentum=momentum, backend_steps=backend_steps, nesterov=nesterov))
        self.dtype = dtype
        self.orthogonalize = orthogonalize

    @torch.no_grad()
    def step(self, closure=None):
        distributed = dist.is_available() and dist.is_initialized()
        world_size = dist.get_world_size() if distributed else 1
        rank = dist.get_rank() if distributed else 0
        for group in self.param_groups:
            params = group["params"]
            if not params:
                continue
            lr, momentum = group["lr"], group["momentum"]
            updates = torch.zeros(sum(p.numel() for p in params), device=params[0].device, dtype=self.dtype)
            offset = 0
            for i, p in enumerate(params):
                if i % world_size == rank and p.grad is not None:
                    g = p.grad
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = torch.zeros_like(g)
                    buf = state["momentum_buffer"]
                    buf.mul_(momentum).add_(g)
                    if group["nesterov"]:
                        g = g.add(buf, alpha=momentum)
                    g = self.orthogonalize(g, steps=group["backend_steps"], dtype=self.dtype)
                    # scale so that tall matrices get updates of the same RMS as square ones
                    g = g * max(1.0, g.size(0) / g.size(1)) ** 0.5
                    updates[offset : offset + p.numel()] = g.reshape(-1)
                offset += p.numel()
            if distributed:
                dist.all_reduce(updates, op=dist.ReduceOp.SUM)
            offset = 0
            for p in params:
                p.add_(updates[offset : offset + p.numel()].view_as(p), alpha=-lr)
                offset += p.numel()
        return None


def build_optimizers(args, base_model: GPT, dtype: torch.dtype = torch.float32) -> tuple[list, float, float]:
    """Adam for the embedding, the untied head and the control tensors; Muon for the block matrices."""
    block_params = list(base_model.blocks.named_parameters())
    matrix_params = [p for n, p in block_params if p.ndim == 2 and not is_control_name(n)]
    scalar_params = [p for n, p in block_params if p.ndim < 2 or is_control_name(n)]
    if base_model.skip_weights.numel() > 0:
        scalar_params.append(base_model.skip_weights)
    # The fused kernel updates all of a group's tensors in one pass (CUDA and CPU alike); only float dtypes qualify.
    adam_kwargs = dict(betas=(args.beta1, args.beta2), eps=args.adam_eps, fused=True)

    def adam(params, lr):
        return torch.optim.Adam([{"params": params, "lr": lr, "base_lr": lr}], **adam_kwargs)

    token_lr = args.tied_embed_lr if base_model.tie_embeddings else args.embed_lr
    optimizers = [adam([base_model.tok_emb.weight], token_lr)]
    head_lr = 0.0
    if base_model.lm_head is not None:
        head_lr = args.head_lr
        optimizers.append(adam([base_model.lm_head.weight], head_lr))
    if matrix_params:
        orthogonalize = torch.compile(zeropower_via_newtonschulz5) if args.compile else zeropower_via_newtonschulz5
        muon = Muon(matrix_params, lr=args.matrix_lr, momentum=args.muon_momentum,
                    backend_steps=args.muon_backend_steps, dtype=dtype, orthogonalize=orthogonalize)
        for group in muon.param_groups:
            group["base_lr"] = args.matrix_lr
        optimizers.append(muon)
    if scalar_params:
        optimizers.append(adam(scalar_params, args.scalar_lr))
    return optimizers, token_lr, head_lr


def lr_multiplier(step: int, elapsed_ms: float, iterations: int, warmdown_iters: int, max_wallclock_ms) -> float:
    """Linear warmdown to 0: over the last WARMDOWN_ITERS steps, or, under a wallclock cap, over the time
    those steps are expected to take so that the multiplier reaches 0 exactly at the cap."""
    if warmdown_iters <= 0:
        return 1.0
    if max_wallclock_ms is None:
        warmdown_start = max(iterations - warmdown_iters, 0)
        if warmdown_start <= step < iterations:
            return max((iterations - step) / max(warmdown_iters, 1), 0.0)
        return 1.0
    step_ms = elapsed_ms / max(step, 1)
    warmdown_ms = warmdown_iters * step_ms
    remaining_ms = max(max_wallclock_ms - elapsed_ms, 0.0)
    if remaining_ms <= warmdown_ms:
        return remaining_ms / max(warmdown_ms, 1e-9)
    return 1.0


def muon_momentum_at(step: int, args) -> float:
    frac = min(step / args.muon_momentum_warmup_steps, 1.0) if args.muon_momentum_warmup_steps > 0 else 1.0
    return (1 - frac) * args.muon_momentum_warmup_start + frac * args.muon_momentum


# -----------------------------------------------------------------------------
# Data: shards of uint16 tokens behind a 256 x int32 header


SHARD_MAGIC = 20240520
SHARD_VERSION = 1
SHARD_HEADER_INTS = 256


def load_data_shard(file: Path) -> np.ndarray:
    header_bytes = SHARD_HEADER_INTS * np.dtype("<i4").itemsize
    header = np.fromfile(file, dtype="<i4", count=SHARD_HEADER_INTS)
    if header.size != SHARD_HEADER_INTS or int(header[0]) != SHARD_MAGIC or int(header[1]) != SHARD_VERSION:
        raise ValueError(f"Unexpected shard header for {file}")
    num_tokens = int(header[2])
    expected_size = header_bytes + num_tokens * np.dtype("<u2").itemsize
    if file.stat().st_size != expected_size:
        raise ValueError(f"Shard size mismatch for {file}: expected {expected_size} bytes")
    tokens = np.fromfile(file, dtype="<u2", count=num_tokens, offset=header_bytes)
    if tokens.size != num_tokens:
        raise ValueError(f"Short read for {file}")
    return tokens


class TokenStream:
    """Reads the shards in sorted order, one after the other, wrapping around forever."""

    def __init__(self, pattern: str):
        self.files = [Path(p) for p in sorted(glob.glob(pattern))]
        if not self.files:
            raise FileNotFoundError(f"No files found for pattern: {pattern}")
        self.file_idx = 0
        self.tokens = load_data_shard(self.files[0])
        self.pos = 0

    def _advance_file(self) -> None:
        self.file_idx = (self.file_idx + 1) % len(self.files)
        self.tokens = load_data_shard(self.files[self.file_idx])
        self.pos = 0

    def take(self, n: int) -> np.ndarray:
        chunks = []
        remaining = n
        while remaining > 0:
            available = self.tokens.size - self.pos
            if available <= 0:
                self._advance_file()
                continue
            k = min(remaining, available)
            chunks.append(self.tokens[self.pos : self.pos + k])
            self.pos += k
            remaining -= k
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


class DistributedTokenLoader:
    """Each call takes one contiguous chunk for all ranks; rank r uses its own span of local+1 tokens."""

    def __init__(self, pattern: str, rank: int, world_size: int, device: torch.device):
        self.rank = rank
        self.world_size = world_size
        self.device = device
        self.stream = TokenStream(pattern)

    def next_batch(self, global_tokens: int, seq_len: int, grad_accum_steps: int) -> tuple[Tensor, Tensor]:
        local_tokens = global_tokens // (self.world_size * grad_accum_steps)
        span = local_tokens + 1
        chunk = self.stream.take(span * self.world_size)
        local = chunk[self.rank * span : (self.rank + 1) * span].astype(np.int64)
        local = torch.from_numpy(local).to(self.device, non_blocking=True)
        x = local[:-1].reshape(-1, seq_len)  # (B, T)
        y = local[1:].reshape(-1, seq_len)  # (B, T), x shifted by one
        return x, y


# -----------------------------------------------------------------------------
# Training loop


def micro_batch_pieces(seqs: int, seq_len: int, max_tokens: int) -> int:
    """How many equal pieces a micro-batch of `seqs` sequences runs in so that none has over max_tokens tokens
    (one sequence each where even that is over); 1 when max_tokens is 0."""
    if max_tokens <= 0:
        return 1
    return next((n for n in range(1, seqs + 1) if seqs % n == 0 and seqs // n * seq_len <= max_tokens), seqs)


def compute_dtype(setting: str, device: torch.device) -> torch.dtype:
    """The autocast dtype: bf16 on CUDA; on CPU only where bf16 matmuls run natively (AMX or AVX-512 BF16),
    since elsewhere they are emulated and slower than fp32. DTYPE=float32 or bfloat16 overrides."""
    if setting == "float32":
        return torch.float32
    if setting == "bfloat16":
        return torch.bfloat16
    if setting != "auto":
        raise ValueError(f"DTYPE={setting!r} must be auto, float32 or bfloat16")
    if device.type == "cuda":
        return torch.bfloat16
    # The probes are private torch API; where one is missing it counts as "no native bf16".
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    native_bf16 = any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)
    return torch.bfloat16 if native_bf16 else torch.float32


def autocast_context(device: torch.device, dtype: torch.dtype = torch.float32):
    if dtype == torch.float32:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def configure_backends(use_cuda: bool) -> None:
    """TF32 and flash attention on CUDA, as the baseline. On CPU the dispatcher picks the flash kernel where it
    supports the inputs and the math kernel otherwise; the math kernel materialises the (B, H, T, T) scores and
    keeps them for the backward pass (gigabytes at T=1024), the flash kernel does not."""
    torch.backends.cuda.matmul.allow_tf32 = use_cuda
    torch.backends.cudnn.allow_tf32 = use_cuda
    torch.backends.cuda.enable_flash_sdp(True)
    torch.backends.cuda.enable_cudnn_sdp(False)
    torch.backends.cuda.enable_mem_efficient_sdp(False)
    torch.backends.cuda.enable_math_sdp(not use_cuda)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def nvidia_smi_output(use_cuda: bool) -> str:
    try:
        result = subprocess.run(["nvidia-smi"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
        return result.stdout
    except OSError:
        return "nvidia-smi: not available" + ("" if use_cuda else " (cpu)")


def main() -> None:
    code = Path(__file__).read_text(encoding="utf-8")
    args = Hyperparameters()

    # distributed + device setup
    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world_size <= 0 or 8 % world_size != 0:
        raise ValueError(f"WORLD_SIZE={world_size} must divide 8")
    # 8 micro-batches per step whatever the world size, so any N that divides 8 trains the same model.
    grad_accum_steps = 8 // world_size
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    dtype = compute_dtype(args.dtype, device)
    if distributed:
        if use_cuda:
            dist.init_process_group(backend="nccl", device_id=device)
        else:
            dist.init_process_group(backend="gloo")
        dist.barrier()
    master_process = rank == 0

    configure_backends(use_cuda)

    logfile = None
    if master_process:
        os.makedirs("logs", exist_ok=True)
        logfile = f"logs/{args.run_id}.txt"
        print(logfile)

    def log0(msg: str, console: bool = True) -> None:
        if not master_process:
            return
        if console:
            print(msg)
        with open(logfile, "a", encoding="utf-8") as f:
            print(msg, file=f)

    log0(code, console=False)
    log0("=" * 100, console=False)
    log0(f"Running Python {sys.version}", console=False)
    log0(f"Running PyTorch {torch.__version__}", console=False)
    log0(nvidia_smi_output(use_cuda), console=False)
    log0("=" * 100, console=False)

    # seeds, tokenizer, data
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if use_cuda:
        torch.cuda.manual_seed_all(args.seed)

    if not args.tokenizer_path.endswith(".model"):
        raise ValueError(f"Script only sets up SentencePiece .model files: {args.tokenizer_path}")
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer_path)
    if int(sp.vocab_size()) != args.vocab_size:
        raise ValueError(f"VOCAB_SIZE={args.vocab_size} does not match tokenizer vocab_size={int(sp.vocab_size())}")
    if args.train_batch_tokens % (world_size * grad_accum_steps * args.train_seq_len) != 0:
        raise ValueError(
            f"TRAIN_BATCH_TOKENS={args.train_batch_tokens} must be a multiple of "
            f"8 * TRAIN_SEQ_LEN = {8 * args.train_seq_len}"
        )
    if args.eval_stride < 0 or args.eval_stride > args.eval_seq_len:
        raise ValueError(f"EVAL_STRIDE={args.eval_stride} must be in [0, EVAL_SEQ_LEN={args.eval_seq_len}]")
    micro_batch_seqs = args.train_batch_tokens // (world_size * grad_accum_steps * args.train_seq_len)
    pieces = micro_batch_pieces(micro_batch_seqs, args.train_seq_len, args.micro_batch_tokens)
    grad_scale = 1.0 / (grad_accum_steps * pieces)
    dataset_dir = Path(args.data_path).resolve()
    actual_train_files = len(glob.glob(args.train_files))
    val_tokens = load_validation_tokens(args.val_files, args.eval_seq_len)
    luts = build_sentencepiece_luts(sp, args.vocab_size, device)
    log0(f"val_bpb:enabled tokenizer_kind=sentencepiece tokenizer_path={args.tokenizer_path}")
    log0(f"train_loader:dataset:{dataset_dir.name} train_shards:{actual_train_files}")
    log0(f"val_loader:shards pattern={args.val_files} tokens:{val_tokens.size - 1}")

    # model and optimizers
    base_model = build_model(args).to(device)
    if dtype == torch.bfloat16:
        cast_model_for_bf16(base_model)
    compiled_model = torch.compile(base_model, dynamic=False, fullgraph=True) if args.compile else base_model
    if distributed:
        ddp_kwargs = dict(device_ids=[local_rank]) if use_cuda else {}
        # The model has no buffers, so there is nothing for DDP to broadcast (the baseline passes
        # broadcast_buffers=False, which newer PyTorch deprecates).
        model = DDP(compiled_model, **ddp_kwargs)
    else:
        model = compiled_model
    optimizers, token_lr, head_lr = build_optimizers(args, base_model, dtype)

    n_params = sum(p.numel() for p in base_model.parameters())
    log0(f"model_params:{n_params}")
    log0(f"world_size:{world_size} grad_accum_steps:{grad_accum_steps}")
    if pieces > 1:
        log0(f"micro_batch_pieces:{pieces} seqs_per_piece:{micro_batch_seqs // pieces}")
    log0(
        f"sdp_backends:cudnn={torch.backends.cuda.cudnn_sdp_enabled()} flash={torch.backends.cuda.flash_sdp_enabled()} "
        f"mem_efficient={torch.backends.cuda.mem_efficient_sdp_enabled()} math={torch.backends.cuda.math_sdp_enabled()}"
    )
    attention_mode = "gqa" if args.num_kv_heads != args.num_heads else "mha"
    log0(f"attention_mode:{attention_mode} num_heads:{args.num_heads} num_kv_heads:{args.num_kv_heads}")
    log0(
        f"tie_embeddings:{args.tie_embeddings} embed_lr:{token_lr} head_lr:{head_lr} "
        f"matrix_lr:{args.matrix_lr} scalar_lr:{args.scalar_lr}"
    )
    log0(
        f"train_batch_tokens:{args.train_batch_tokens} train_seq_len:{args.train_seq_len} "
        f"iterations:{args.iterations} warmup_steps:{args.warmup_steps} "
        f"max_wallclock_seconds:{args.max_wallclock_seconds:.3f}"
    )
    log0(f"seed:{args.seed}")

    train_loader = DistributedTokenLoader(args.train_files, rank, world_size, device)

    def zero_grad_all() -> None:
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)

    max_wallclock_ms = 1000.0 * args.max_wallclock_seconds if args.max_wallclock_seconds > 0 else None

    def train_step(step: int, lr_mul: float) -> Tensor:
        """One optimizer step over grad_accum_steps micro-batches (each in `pieces` equal passes); returns this
        rank's mean micro-batch loss."""
        train_loss = torch.zeros((), device=device)
        for micro_step in range(grad_accum_steps):
            x, y = train_loader.next_batch(args.train_batch_tokens, args.train_seq_len, grad_accum_steps)
            for piece, (xp, yp) in enumerate(zip(x.chunk(pieces), y.chunk(pieces))):
                if distributed:  # all-reduce gradients only once, after the last pass
                    model.require_backward_grad_sync = micro_step == grad_accum_steps - 1 and piece == pieces - 1
                with autocast_context(device, dtype):
                    loss = model(xp, yp)
                train_loss += loss.detach()
                (loss * grad_scale).backward()
        train_loss /= grad_accum_steps * pieces
        momentum = muon_momentum_at(step, args)
        for opt in optimizers:
            for group in opt.param_groups:
                if isinstance(opt, Muon):
                    group["momentum"] = momentum
                group["lr"] = group["base_lr"] * lr_mul
        if args.grad_clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(base_model.parameters(), args.grad_clip_norm)
        for opt in optimizers:
            opt.step()
        zero_grad_all()
        return train_loss

    # Priming steps (compile, allocator, communication warm-up), then everything they changed is rolled back.
    if args.warmup_steps > 0:
        initial_model_state = {name: t.detach().cpu().clone() for name, t in base_model.state_dict().items()}
        initial_optimizer_states = [copy.deepcopy(opt.state_dict()) for opt in optimizers]
        model.train()
        for warmup_step in range(args.warmup_steps):
            train_step(0, 1.0)
            k = warmup_step + 1
            if args.warmup_steps <= 20 or k % 10 == 0 or k == args.warmup_steps:
                log0(f"warmup_step:{k}/{args.warmup_steps}")
        base_model.load_state_dict(initial_model_state, strict=True)
        for opt, state in zip(optimizers, initial_optimizer_states, strict=True):
            opt.load_state_dict(state)
        del initial_model_state, initial_optimizer_states
        zero_grad_all()
        if distributed:
            model.require_backward_grad_sync = True
        train_loader = DistributedTokenLoader(args.train_files, rank, world_size, device)

    def validate() -> tuple[float, float]:
        return eval_val(
            args, compiled_model, rank, world_size, device, grad_accum_steps, val_tokens, luts, args.eval_seq_len, dtype
        )

    # Main loop. training_time_ms counts only training; the clock is paused during validation.
    training_time_ms = 0.0
    stop_after_step = None
    synchronize(device)
    t0 = time.perf_counter()
    step = 0
    while True:
        last_step = step == args.iterations or (stop_after_step is not None and step >= stop_after_step)
        should_validate = last_step or (args.val_loss_every > 0 and step % args.val_loss_every == 0)
        if should_validate:
            synchronize(device)
            training_time_ms += 1000.0 * (time.perf_counter() - t0)
            val_loss, val_bpb = validate()
            log0(
                f"step:{step}/{args.iterations} val_loss:{val_loss:.4f} val_bpb:{val_bpb:.4f} "
                f"train_time:{training_time_ms:.0f}ms step_avg:{training_time_ms / max(step, 1):.2f}ms"
            )
            synchronize(device)
            t0 = time.perf_counter()
        if last_step:
            if stop_after_step is not None and step < args.iterations:
                log0(
                    f"stopping_early: wallclock_cap train_time:{training_time_ms:.0f}ms "
                    f"step:{step}/{args.iterations}"
                )
            break

        elapsed_ms = training_time_ms + 1000.0 * (time.perf_counter() - t0)
        lr_mul = lr_multiplier(step, elapsed_ms, args.iterations, args.warmdown_iters, max_wallclock_ms)
        train_loss = train_step(step, lr_mul)
        step += 1
        approx_training_time_ms = training_time_ms + 1000.0 * (time.perf_counter() - t0)

        should_log_train = args.train_log_every > 0 and (
            step <= 10 or step % args.train_log_every == 0 or stop_after_step is not None
        )
        if should_log_train:
            if distributed:
                # Log the mean over all ranks' micro-batches: the same number for any world size.
                dist.all_reduce(train_loss, op=dist.ReduceOp.SUM)
                train_loss /= world_size
            log0(
                f"step:{step}/{args.iterations} train_loss:{train_loss.item():.4f} "
                f"train_time:{approx_training_time_ms:.0f}ms step_avg:{approx_training_time_ms / step:.2f}ms"
            )

        reached_cap = max_wallclock_ms is not None and approx_training_time_ms >= max_wallclock_ms
        if distributed and max_wallclock_ms is not None:
            flag = torch.tensor(int(reached_cap), device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            reached_cap = bool(flag.item())
        if stop_after_step is None and reached_cap:
            stop_after_step = step

    if use_cuda:
        allocated = torch.cuda.max_memory_allocated() // 1024 // 1024
        reserved = torch.cuda.max_memory_reserved() // 1024 // 1024
    else:
        allocated = reserved = 0
    log0(f"peak memory allocated: {allocated} MiB reserved: {reserved} MiB")

    # Serialization: the raw checkpoint, then the int8+zlib artifact that is the submission.
    code_bytes = len(code.encode("utf-8"))
    if master_process:
        torch.save(base_model.state_dict(), "final_model.pt")
        model_bytes = os.path.getsize("final_model.pt")
        log0(f"Serialized model: {model_bytes} bytes")
        log0(f"Code size: {code_bytes} bytes")
        log0(f"Total submission size: {model_bytes + code_bytes} bytes")

    quant_obj, quant_stats = quantize_state_dict_int8(base_model.state_dict())
    quant_buf = io.BytesIO()
    torch.save(quant_obj, quant_buf)
    quant_raw = quant_buf.getvalue()
    quant_blob = zlib.compress(quant_raw, level=9)
    if master_process:
        with open("final_model.int8.ptz", "wb") as f:
            f.write(quant_blob)
        quant_file_bytes = os.path.getsize("final_model.int8.ptz")
        ratio = quant_stats["baseline_tensor_bytes"] / max(quant_stats["int8_payload_bytes"], 1)
        log0(
            f"Serialized model int8+zlib: {quant_file_bytes} bytes "
            f"(payload:{quant_stats['int8_payload_bytes']} raw_torch:{len(quant_raw)} payload_ratio:{ratio:.2f}x)"
        )
        log0(f"Total submission size int8+zlib: {quant_file_bytes + code_bytes} bytes")

    # Roundtrip: every rank reloads the artifact from disk and re-evaluates.
    if distributed:
        dist.barrier()
    base_model.load_state_dict(load_artifact("final_model.int8.ptz"), strict=True)
    synchronize(device)
    t_eval = time.perf_counter()
    q_val_loss, q_val_bpb = validate()
    synchronize(device)
    log0(
        f"final_int8_zlib_roundtrip val_loss:{q_val_loss:.4f} val_bpb:{q_val_bpb:.4f} "
        f"eval_time:{1000.0 * (time.perf_counter() - t_eval):.0f}ms"
    )
    log0(f"final_int8_zlib_roundtrip_exact val_loss:{q_val_loss:.8f} val_bpb:{q_val_bpb:.8f}")

    if args.eval_stride > 0:
        base_model.eval()
        logits_fn = base_model.forward_logits
        if args.compile:
            logits_fn = torch.compile(base_model.forward_logits, dynamic=False)
        synchronize(device)
        t_eval = time.perf_counter()
        s_val_loss, s_val_bpb = eval_val_sliding(
            args, logits_fn, rank, world_size, device, val_tokens, luts, args.eval_seq_len, args.eval_stride, dtype
        )
        synchronize(device)
        log0(
            f"final_int8_zlib_roundtrip_sliding_window stride:{args.eval_stride} val_loss:{s_val_loss:.4f} "
            f"val_bpb:{s_val_bpb:.4f} eval_time:{1000.0 * (time.perf_counter() - t_eval):.0f}ms"
        )
        log0(
            f"final_int8_zlib_roundtrip_sliding_window_exact stride:{args.eval_stride} "
            f"val_loss:{s_val_loss:.8f} val_bpb:{s_val_bpb:.8f}"
        )

    if distributed:
        dist.barrier()
        dist.destroy_process_group()
        # Leave without interpreter finalization: a gloo worker thread may still be releasing the last
        # collective's tensors, which takes the GIL, and a thread that takes the GIL while the interpreter
        # finalizes aborts the process ("terminate called without an active exception"; about 1 run in 5
        # of 2 processes on a loaded 2-core CPU). Every file is closed and the streams are flushed here.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


# -----------------------------------------------------------------------------
# Evaluation: bits per byte on the validation split
#
# The score is bits per byte of the validation text, not loss per token, so that models with different tokenizers
# compare fairly: a tokenizer that packs more text into each token raises the loss per token as well, and per byte
# the two effects cancel. bpb = (val_loss / ln 2) * (tokens / bytes), with the bytes counted from the tokenizer's
# pieces as below.


def build_sentencepiece_luts(sp: spm.SentencePieceProcessor, vocab_size: int, device: torch.device):
    """Per-token tables for counting the bytes of the text that the validation targets stand for."""
    sp_vocab_size = int(sp.vocab_size())
    table_size = max(sp_vocab_size, vocab_size)
    base_bytes = np.zeros(table_size, dtype=np.int16)
    has_leading_space = np.zeros(table_size, dtype=np.bool_)
    is_boundary = np.ones(table_size, dtype=np.bool_)
    for token_id in range(sp_vocab_size):
        if sp.is_control(token_id) or sp.is_unknown(token_id) or sp.is_unused(token_id):
            continue
        is_boundary[token_id] = False
        if sp.is_byte(token_id):
            base_bytes[token_id] = 1
            continue
        piece = sp.id_to_piece(token_id)
        if piece.startswith("\u2581"):
            has_leading_space[token_id] = True
            piece = piece[1:]
        base_bytes[token_id] = len(piece.encode("utf-8"))
    return (
        torch.tensor(base_bytes, dtype=torch.int16, device=device),
        torch.tensor(has_leading_space, dtype=torch.bool, device=device),
        torch.tensor(is_boundary, dtype=torch.bool, device=device),
    )


def target_byte_counts(prev_ids: Tensor, target_ids: Tensor, luts) -> Tensor:
    # A leading "\u2581" is one byte (a space) unless the previous token is a boundary (e.g. BOS).
    base_bytes, has_leading_space, is_boundary = luts
    counts = base_bytes[target_ids].to(torch.int32)
    counts += (has_leading_space[target_ids] & ~is_boundary[prev_ids]).to(torch.int32)
    return counts


def load_validation_tokens(pattern: str, seq_len: int) -> np.ndarray:
    files = sorted(glob.glob(pattern))
    if not files:
        raise FileNotFoundError(f"No files found for pattern: {pattern}")
    tokens = np.concatenate([load_data_shard(Path(f)) for f in files])
    usable = ((tokens.size - 1) // seq_len) * seq_len
    if usable <= 0:
        raise ValueError(f"Validation split is too short for seq_len={seq_len}")
    return tokens[: usable + 1]


def eval_val(args, model, rank, world_size, device, grad_accum_steps, val_tokens, luts, seq_len,
             dtype: torch.dtype = torch.float32):
    """Exact token-weighted mean cross-entropy and bits per byte over all validation sequences."""
    local_batch_tokens = args.val_batch_size // (world_size * grad_accum_steps)
    if local_batch_tokens < seq_len:
        raise ValueError(
            f"VAL_BATCH_SIZE={args.val_batch_size} is too small: each rank needs at least one sequence of "
            f"{seq_len} tokens per batch (world_size={world_size}, grad_accum_steps={grad_accum_steps})"
        )
    local_batch_seqs = local_batch_tokens // seq_len
    total_seqs = (val_tokens.size - 1) // seq_len
    seq_start = total_seqs * rank // world_size
    seq_end = total_seqs * (rank + 1) // world_size
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    token_count = torch.zeros((), device=device, dtype=torch.float64)
    byte_count = torch.zeros((), device=device, dtype=torch.float64)
    model.eval()
    with torch.inference_mode():
        for batch_start in range(seq_start, seq_end, local_batch_seqs):
            batch_end = min(batch_start + local_batch_seqs, seq_end)
            chunk = val_tokens[batch_start * seq_len : batch_end * seq_len + 1]
            local = torch.from_numpy(chunk.astype(np.int64)).to(device, non_blocking=True)
            x = local[:-1].reshape(-1, seq_len)
            y = local[1:].reshape(-1, seq_len)
            with autocast_context(device, dtype):
                batch_loss = model(x, y).detach()
            n = float(y.numel())
            loss_sum += batch_loss.to(torch.float64) * n
            token_count += n
            byte_count += target_byte_counts(x.reshape(-1), y.reshape(-1), luts).to(torch.float64).sum()
    if dist.is_available() and dist.is_initialized():
        for t in (loss_sum, token_count, byte_count):
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
    model.train()
    val_loss = loss_sum / token_count
    bits_per_token = val_loss.item() / math.log(2.0)
    tokens_per_byte = token_count.item() / byte_count.item()
    return float(val_loss.item()), float(bits_per_token * tokens_per_byte)


def sliding_windows(n_targets: int, seq_len: int, stride: int) -> list[tuple[int, int, int]]:
    """Windows (ws, end, score_from) over N targets: inputs tokens[ws:end], targets tokens[ws+1:end+1]; each
    window scores targets [score_from, end), so every target is scored exactly once with the most context."""
    if n_targets < 1 or seq_len < 1 or not 0 < stride <= seq_len:
        raise ValueError(f"bad sliding window plan: n_targets={n_targets} seq_len={seq_len} stride={stride}")
    windows = []
    ws, scored_end = 0, 0
    while True:
        end = min(ws + seq_len, n_targets)
        windows.append((ws, end, scored_end))
        if end == n_targets:
            return windows
        scored_end = end
        ws += stride


def eval_val_sliding(args, logits_fn, rank, world_size, device, val_tokens, luts, seq_len, stride,
                     dtype: torch.dtype = torch.float32):
    """Sliding-window evaluation: windows split contiguously across ranks, EVAL_BATCH_SEQS windows per batch."""
    windows = sliding_windows(val_tokens.size - 1, seq_len, stride)
    mine = windows[len(windows) * rank // world_size : len(windows) * (rank + 1) // world_size]
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    token_count = torch.zeros((), device=device, dtype=torch.float64)
    byte_count = torch.zeros((), device=device, dtype=torch.float64)
    batch_size = max(1, args.eval_batch_seqs)
    with torch.inference_mode():
        for i in range(0, len(mine), batch_size):
            batch = mine[i : i + batch_size]
            # Windows of one length run together; a short window runs at its own length (no padding).
            for length in sorted({end - ws for ws, end, _ in batch}, reverse=True):
                group = [w for w in batch if w[1] - w[0] == length]
                rows = [val_tokens[ws : end + 1].astype(np.int64) for ws, end, _ in group]
                local = torch.from_numpy(np.stack(rows)).to(device, non_blocking=True)
                x, y = local[:, :-1], local[:, 1:]  # (windows, length)
                with autocast_context(device, dtype):
                    logits = logits_fn(x)
                nll = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none")
                nll = nll.reshape(y.shape).to(torch.float64)
                # row r scores its positions from score_from - ws on
                first = torch.tensor([score_from - ws for ws, _, score_from in group], device=device)
                scored = torch.arange(length, device=device)[None, :] >= first[:, None]
                loss_sum += nll[scored].sum()
                token_count += scored.sum().to(torch.float64)
                byte_count += target_byte_counts(x[scored], y[scored], luts).to(torch.float64).sum()
    if dist.is_available() and dist.is_initialized():
        for t in (loss_sum, token_count, byte_count):
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
    val_loss = loss_sum.item() / token_count.item()
    val_bpb = val_loss / math.log(2.0) * token_count.item() / byte_count.item()
    return float(val_loss), float(val_bpb)


# -----------------------------------------------------------------------------
# Artifact: int8 per-row quantization of the state dict, then zlib
#
# The artifact must fit in 16 MB with the code, so weights are stored as int8 with one scale per row: rows of a
# weight matrix differ in magnitude, and a per-row scale spends the 8 bits on each row's own range. Each row is
# clipped at its 99.99984th percentile first, so that a handful of outliers do not stretch the scale and leave
# every ordinary weight with a few levels. Scales are fp16 (half the bytes, ample precision for a scale). Tensors
# of at most 65,536 elements are kept as floats: quantizing them saves little and costs accuracy; the control
# tensors (gains and mixes that multiply whole residual streams) stay fp32, the rest go to fp16. zlib then
# squeezes the bytes further, since int8 weights cluster around zero.


def tensor_nbytes(t: Tensor) -> int:
    return int(t.numel()) * int(t.element_size())


def quantize_float_tensor(t: Tensor) -> tuple[Tensor, Tensor]:
    t32 = t.float()
    if t32.ndim == 2:
        # Per-row symmetric int8 with a high-percentile clip; q is rounded against the stored fp16 scale so
        # that dequantization is exact to half a step.
        clip_abs = torch.quantile(t32.abs(), INT8_CLIP_Q, dim=1) if t32.numel() else torch.zeros(t32.shape[0])
        clipped = torch.maximum(torch.minimum(t32, clip_abs[:, None]), -clip_abs[:, None])
        scale = (clip_abs / 127.0).clamp_min(1.0 / 127.0).to(INT8_PER_ROW_SCALE_DTYPE)
        q = torch.clamp(torch.round(clipped / scale.float()[:, None]), -127, 127).to(torch.int8)
        return q.contiguous(), scale.contiguous()
    clip_abs = float(torch.quantile(t32.abs().flatten(), INT8_CLIP_Q).item()) if t32.numel() else 0.0
    scale = torch.tensor(clip_abs / 127.0 if clip_abs > 0 else 1.0, dtype=torch.float32)
    q = torch.clamp(torch.round(torch.clamp(t32, -clip_abs, clip_abs) / scale), -127, 127).to(torch.int8)
    return q.contiguous(), scale


def quantize_state_dict_int8(state_dict: dict[str, Tensor]) -> tuple[dict, dict]:
    quantized, scales, dtypes, passthrough, passthrough_orig_dtypes, qmeta = {}, {}, {}, {}, {}, {}
    stats = dict(param_count=0, num_tensors=0, baseline_tensor_bytes=0, int8_payload_bytes=0)
    for name, tensor in state_dict.items():
        t = tensor.detach().to("cpu").contiguous()
        stats["param_count"] += int(t.numel())
        stats["num_tensors"] += 1
        stats["baseline_tensor_bytes"] += tensor_nbytes(t)
        if not t.is_floating_point():
            passthrough[name] = t
            stats["int8_payload_bytes"] += tensor_nbytes(t)
            continue
        if t.numel() <= INT8_KEEP_FLOAT_MAX_NUMEL:
            if any(pattern in name for pattern in INT8_KEEP_FLOAT_FP32_NAME_PATTERNS):
                kept = t.float().contiguous()
            else:
                kept = t.to(INT8_KEEP_FLOAT_STORE_DTYPE).contiguous()
            if kept.dtype != t.dtype:
                passthrough_orig_dtypes[name] = str(t.dtype).removeprefix("torch.")
            passthrough[name] = kept
            stats["int8_payload_bytes"] += tensor_nbytes(kept)
            continue
        q, s = quantize_float_tensor(t)
        if s.ndim > 0:
            qmeta[name] = {"scheme": "per_row", "axis": 0}
        quantized[name] = q
        scales[name] = s
        dtypes[name] = str(t.dtype).removeprefix("torch.")
        stats["int8_payload_bytes"] += tensor_nbytes(q) + tensor_nbytes(s)
    obj = {
        "__quant_format__": "int8_clean_per_row_v1",
        "quantized": quantized,
        "scales": scales,
        "dtypes": dtypes,
        "passthrough": passthrough,
    }
    if qmeta:
        obj["qmeta"] = qmeta
    if passthrough_orig_dtypes:
        obj["passthrough_orig_dtypes"] = passthrough_orig_dtypes
    return obj, stats


def dequantize_state_dict_int8(obj: dict) -> dict[str, Tensor]:
    out = {}
    qmeta = obj.get("qmeta", {})
    orig_dtypes = obj.get("passthrough_orig_dtypes", {})
    for name, q in obj["quantized"].items():
        dtype = getattr(torch, obj["dtypes"][name])
        s = obj["scales"][name]
        if qmeta.get(name, {}).get("scheme") == "per_row" or s.ndim > 0:
            s = s.to(torch.float32).view(q.shape[0], *([1] * (q.ndim - 1)))
            out[name] = (q.float() * s).to(dtype).contiguous()
        else:
            out[name] = (q.float() * float(s.item())).to(dtype).contiguous()
    for name, t in obj["passthrough"].items():
        restored = t.detach().to("cpu").contiguous()
        if name in orig_dtypes:
            restored = restored.to(getattr(torch, orig_dtypes[name])).contiguous()
        out[name] = restored
    return out


def load_artifact(path: str) -> dict[str, Tensor]:
    with open(path, "rb") as f:
        blob = f.read()
    # weights_only: the artifact holds only tensors, strings and dicts, so nothing in it may run code on load
    obj = torch.load(io.BytesIO(zlib.decompress(blob)), map_location="cpu", weights_only=True)
    return dequantize_state_dict_int8(obj)


def load_model_for_eval(artifact_path: str, device: str = "cpu", args=None) -> GPT:
    """Trusted-evaluator entry point: the env-configured model with the dequantized artifact, fp32, eval mode."""
    args = args if args is not None else Hyperparameters
    model = build_model(args)
    state = {name: t.float() if t.is_floating_point() else t for name, t in load_artifact(artifact_path).items()}
    model.load_state_dict(state, strict=True)
    return model.to(device).float().eval()


if __name__ == "__main__":
    main()

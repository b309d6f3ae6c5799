"""Small train_gpt.py scripts in the style of the challenge's record families, none with load_model_for_eval.

Each is a standalone script: a Hyperparameters class read from the environment, a GPT module, its own
quantizer and dequantizer, its own byte tables and evaluation, and a main() that casts the model as the
baseline's does (.bfloat16(), CastedLinear and low-dimensional parameters back to float32), builds weights
directly (seeded, no training: tests stay fast), writes the artifact, reloads it and prints its exact lines
to stdout and logs/<run_id>.txt. The family traits are switched by `family_script(...)`:
- head: "tied" or "untied" (both softcapped); forward_logits: present or not (logits then come from the loss);
- quant: "int8_zlib" (baseline), "int6_lzma" (mixed int6/int8 with a {"w", "m"} container), "int8_brotli";
- sliding: None, "tail_twice" (windows 0..N-L step S plus one more at N-L) or "head_skipped" (every window
  scores its last S targets only);
- flash: attention through a top-level `from flash_attn_interface import flash_attn_func`.
`wrap(source)` makes the self-extracting lzma+base85 wrapper of a script.
"""

from __future__ import annotations

import base64
import lzma

HEADER = '''"""A small record script in the style of a challenge family."""
import io
import math
import os
import uuid
import zlib
import lzma
from pathlib import Path

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F
{extra_imports}

class Hyperparameters:
    data_path = os.environ.get("DATA_PATH", "./data")
    tokenizer_path = os.environ.get("TOKENIZER_PATH", "./tok.model")
    run_id = os.environ.get("RUN_ID", str(uuid.uuid4()))
    seed = int(os.environ.get("SEED", 1337))
    vocab_size = int(os.environ.get("VOCAB_SIZE", 1024))
    num_layers = int(os.environ.get("NUM_LAYERS", 2))
    model_dim = int(os.environ.get("MODEL_DIM", 64))
    num_heads = int(os.environ.get("NUM_HEADS", 4))
    num_kv_heads = int(os.environ.get("NUM_KV_HEADS", 2))
    mlp_mult = int(os.environ.get("MLP_MULT", 2))
    tie_embeddings = bool(int(os.environ.get("TIE_EMBEDDINGS", "{tie_default}")))
    logit_softcap = float(os.environ.get("LOGIT_SOFTCAP", 30.0))
    rope_base = float(os.environ.get("ROPE_BASE", 10000.0))
    train_seq_len = int(os.environ.get("TRAIN_SEQ_LEN", 128))
    eval_stride = int(os.environ.get("EVAL_STRIDE", {stride_default}))
    val_batch_size = int(os.environ.get("VAL_BATCH_SIZE", 128 * 6))


CONTROL_TENSOR_NAME_PATTERNS = tuple(p for p in os.environ.get("CONTROL_TENSOR_NAME_PATTERNS",
                                     "attn_scale,mlp_scale,q_gain").split(",") if p)


class CastedLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, self.weight.to(x.dtype))


class Rotary(nn.Module):
    def __init__(self, dim, base):
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), persistent=False)

    def forward(self, seq_len, device, dtype):
        t = torch.arange(seq_len, device=device, dtype=self.inv_freq.dtype)
        freqs = torch.outer(t, self.inv_freq.to(device))
        return freqs.cos()[None, None].to(dtype), freqs.sin()[None, None].to(dtype)


def apply_rotary(x, cos, sin):
    half = x.size(-1) // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos + x2 * sin, x1 * (-sin) + x2 * cos), dim=-1)


class Attention(nn.Module):
    def __init__(self, dim, num_heads, num_kv_heads, rope_base):
        super().__init__()
        self.num_heads, self.num_kv_heads, self.head_dim = num_heads, num_kv_heads, dim // num_heads
        kv_dim = num_kv_heads * self.head_dim
        self.c_q = CastedLinear(dim, dim, bias=False)
        self.c_k = CastedLinear(dim, kv_dim, bias=False)
        self.c_v = CastedLinear(dim, kv_dim, bias=False)
        self.proj = CastedLinear(dim, dim, bias=False)
        self.q_gain = nn.Parameter(torch.full((num_heads,), 1.5))
        self.rotary = Rotary(self.head_dim, rope_base)

    def forward(self, x):
        b, t, d = x.shape
        q = self.c_q(x).reshape(b, t, self.num_heads, self.head_dim).transpose(1, 2)
        k = self.c_k(x).reshape(b, t, self.num_kv_heads, self.head_dim).transpose(1, 2)
        v = self.c_v(x).reshape(b, t, self.num_kv_heads, self.head_dim).transpose(1, 2)
        q = F.rms_norm(q, (q.size(-1),))
        k = F.rms_norm(k, (k.size(-1),))
        cos, sin = self.rotary(t, x.device, q.dtype)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        q = q * self.q_gain.to(q.dtype)[None, :, None, None]
{attention}
        return self.proj(y.reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim, num_heads, num_kv_heads, mlp_mult, rope_base):
        super().__init__()
        self.attn = Attention(dim, num_heads, num_kv_heads, rope_base)
        self.fc = CastedLinear(dim, mlp_mult * dim, bias=False)
        self.mlp_proj = CastedLinear(mlp_mult * dim, dim, bias=False)
        self.attn_scale = nn.Parameter(torch.ones(dim))
        self.mlp_scale = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        x = x + self.attn_scale.to(x.dtype) * self.attn(F.rms_norm(x, (x.size(-1),)))
        return x + self.mlp_scale.to(x.dtype) * self.mlp_proj(torch.relu(self.fc(F.rms_norm(x, (x.size(-1),)))).square())


class GPT(nn.Module):
    def __init__(self, vocab_size, num_layers, model_dim, num_heads, num_kv_heads, mlp_mult, tie_embeddings,
                 logit_softcap, rope_base):
        super().__init__()
        self.tie_embeddings, self.logit_softcap = tie_embeddings, logit_softcap
        self.tok_emb = nn.Embedding(vocab_size, model_dim)
        self.blocks = nn.ModuleList([Block(model_dim, num_heads, num_kv_heads, mlp_mult, rope_base)
                                     for _ in range(num_layers)])
        self.lm_head = None if tie_embeddings else CastedLinear(model_dim, vocab_size, bias=False)

    def _hidden(self, input_ids):
        x = F.rms_norm(self.tok_emb(input_ids), (self.tok_emb.embedding_dim,))
        for block in self.blocks:
            x = block(x)
        x = F.rms_norm(x, (x.size(-1),))
        logits = F.linear(x, self.tok_emb.weight.to(x.dtype)) if self.tie_embeddings else self.lm_head(x)
        return self.logit_softcap * torch.tanh(logits / self.logit_softcap)
{forward_logits}
    def forward(self, input_ids, target_ids):
        logits = self._hidden(input_ids)
        return F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), target_ids.reshape(-1), reduction="mean")


def restore_low_dim_params_to_fp32(module):
    with torch.no_grad():
        for name, param in module.named_parameters():
            if (param.ndim < 2 or any(p in name for p in CONTROL_TENSOR_NAME_PATTERNS)) and param.dtype != torch.float32:
                param.data = param.data.float()


def quantize_per_row(t, levels):
    t32 = t.float()
    scale = (t32.abs().amax(dim=1) / levels).clamp_min(1.0 / levels).to(torch.float16)
    q = torch.clamp(torch.round(t32 / scale.float()[:, None]), -levels, levels).to(torch.int8)
    return q, scale
{quant}

def build_luts(sp, vocab_size):
    size = max(int(sp.vocab_size()), vocab_size)
    base = np.zeros(size, dtype=np.int64)
    space = np.zeros(size, dtype=bool)
    boundary = np.ones(size, dtype=bool)
    for t in range(int(sp.vocab_size())):
        if sp.is_control(t) or sp.is_unknown(t) or sp.is_unused(t):
            continue
        boundary[t] = False
        if sp.is_byte(t):
            base[t] = 1
            continue
        piece = sp.id_to_piece(t)
        if piece.startswith("\\u2581"):
            space[t] = True
            piece = piece[1:]
        base[t] = len(piece.encode("utf-8"))
    return base, space, boundary


def count_bytes(x, y, luts):
    base, space, boundary = luts
    return float((base[y] + (space[y] & ~boundary[x])).sum())


def load_val(pattern_dir, seq_len):
    tokens = np.concatenate([np.fromfile(p, dtype="<u2", offset=1024) for p in sorted(Path(pattern_dir).glob("fineweb_val_*.bin"))])
    usable = ((tokens.size - 1) // seq_len) * seq_len
    return tokens[: usable + 1]


def eval_val(args, model, device, tokens, luts):
    seq_len = args.train_seq_len
    batch = max(1, args.val_batch_size // seq_len)
    total = (tokens.size - 1) // seq_len
    loss_sum, count, nbytes = 0.0, 0.0, 0.0
    with torch.inference_mode():
        for first in range(0, total, batch):
            last = min(first + batch, total)
            chunk = tokens[first * seq_len: last * seq_len + 1].astype(np.int64)
            x = torch.from_numpy(chunk[:-1].reshape(-1, seq_len)).to(device)
            y = torch.from_numpy(chunk[1:].reshape(-1, seq_len)).to(device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                loss = model(x, y).detach()
            loss_sum += float(loss.to(torch.float64)) * y.numel()
            count += y.numel()
            nbytes += count_bytes(chunk[:-1], chunk[1:], luts)
    val_loss = loss_sum / count
    return val_loss, val_loss / math.log(2.0) * count / nbytes
{sliding}

def main():
    args = Hyperparameters()
    device = torch.device("cpu")
    os.makedirs("logs", exist_ok=True)
    logfile = f"logs/{{args.run_id}}.txt"

    def log0(msg):
        print(msg)
        with open(logfile, "a", encoding="utf-8") as f:
            print(msg, file=f)

    log0(f"num_layers:{{args.num_layers}} model_dim:{{args.model_dim}} mlp_mult:{{args.mlp_mult}}")
    log0(f"attention_mode:gqa num_heads:{{args.num_heads}} num_kv_heads:{{args.num_kv_heads}}")
    log0(f"tie_embeddings:{{args.tie_embeddings}} logit_softcap:{{args.logit_softcap}}")
    log0(f"train_seq_len:{{args.train_seq_len}} eval_stride:{{args.eval_stride}}")
    log0(f"seed:{{args.seed}}")
    torch.manual_seed(args.seed)
    model = GPT(vocab_size=args.vocab_size, num_layers=args.num_layers, model_dim=args.model_dim,
                num_heads=args.num_heads, num_kv_heads=args.num_kv_heads, mlp_mult=args.mlp_mult,
                tie_embeddings=args.tie_embeddings, logit_softcap=args.logit_softcap, rope_base=args.rope_base)
    with torch.no_grad():  # weights built directly, in place of training
        for param in model.parameters():
            if param.ndim >= 2:
                param.normal_(0.0, 0.15)
    model = model.to(device).bfloat16()
    for module in model.modules():
        if isinstance(module, CastedLinear):
            module.float()
    restore_low_dim_params_to_fp32(model)
    blob = save_artifact(model.state_dict())
    with open("{artifact}", "wb") as f:
        f.write(blob)
    log0(f"Serialized model quantized: {{len(blob)}} bytes")
    with open("{artifact}", "rb") as f:
        model.load_state_dict(load_artifact(f.read(), model.state_dict()), strict=True)
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer_path)
    luts = build_luts(sp, args.vocab_size)
    tokens = load_val(args.data_path, args.train_seq_len)
    model.eval()
    val_loss, val_bpb = eval_val(args, model, device, tokens, luts)
    log0(f"{label}_roundtrip_exact val_loss:{{val_loss:.8f}} val_bpb:{{val_bpb:.8f}}")
    if args.eval_stride > 0:
        s_loss, s_bpb = eval_sliding(args, model, device, tokens, luts)
        log0(f"{label}_sliding_window_exact stride:{{args.eval_stride}} val_loss:{{s_loss:.8f}} val_bpb:{{s_bpb:.8f}}")


if __name__ == "__main__":
    main()
'''

SDPA = '''        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=self.num_kv_heads != self.num_heads)
        y = y.transpose(1, 2)'''
FLASH = '''        y = flash_attn_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), causal=True)'''

FORWARD_LOGITS = '''
    def forward_logits(self, input_ids):
        return self._hidden(input_ids).float()
'''

INT8_CONTAINER = '''

def quantize_state_dict_int8(state_dict):
    quantized, scales, dtypes, passthrough = {}, {}, {}, {}
    for name, t in state_dict.items():
        t = t.detach().cpu()
        if t.is_floating_point() and t.ndim == 2 and t.numel() > 1024:
            quantized[name], scales[name] = quantize_per_row(t, 127)
            dtypes[name] = str(t.dtype).removeprefix("torch.")
        else:
            passthrough[name] = t.clone()
    return {"quantized": quantized, "scales": scales, "dtypes": dtypes, "passthrough": passthrough}


def dequantize_state_dict_int8(obj):
    out = {}
    for name, q in obj["quantized"].items():
        values = q.float() * obj["scales"][name].float()[:, None]
        out[name] = values.to(getattr(torch, obj["dtypes"][name]))
    out.update(obj["passthrough"])
    return out


def save_artifact(state_dict):
    buffer = io.BytesIO()
    torch.save(quantize_state_dict_int8(state_dict), buffer)
    return COMPRESS(buffer.getvalue()LEVEL)


def load_artifact(blob, template):
    return dequantize_state_dict_int8(torch.load(io.BytesIO(DECOMPRESS(blob)), map_location="cpu"))
'''

INT6_MIXED = '''

def mixed_quantize_int6(state_dict, int6_categories):
    result, meta = {}, {}
    for name, t in state_dict.items():
        t = t.detach().cpu()
        if not t.is_floating_point() or t.numel() <= 1024 or t.ndim != 2:
            result[name] = t.clone()
            meta[name] = "passthrough"
        elif any(c in name for c in int6_categories):
            result[name + ".q"], result[name + ".scale"] = quantize_per_row(t, 31)
            meta[name] = {"type": "int6"}
        else:
            result[name + ".q"], result[name + ".scale"] = quantize_per_row(t, 127)
            meta[name] = {"type": "int8"}
    return result, meta


def dequantize_mixed_int6(result, meta, template_sd):
    out = {}
    for name, orig in template_sd.items():
        info = meta[name]
        if info == "passthrough":
            out[name] = result[name].to(orig.dtype)
        else:
            out[name] = (result[name + ".q"].float() * result[name + ".scale"].float()[:, None]).to(orig.dtype)
    return out


def save_artifact(state_dict):
    result, meta = mixed_quantize_int6(state_dict, ("attn", "fc", "mlp_proj"))
    buffer = io.BytesIO()
    torch.save({"w": result, "m": meta}, buffer)
    return lzma.compress(buffer.getvalue(), preset=9)


def load_artifact(blob, template):
    state = torch.load(io.BytesIO(lzma.decompress(blob)), map_location="cpu")
    return dequantize_mixed_int6(state["w"], state["m"], template)
'''

SLIDING = '''

def eval_sliding(args, model, device, tokens, luts):
    seq_len, stride = args.train_seq_len, args.eval_stride
    n = tokens.size - 1
    starts = list(range(0, n - seq_len + 1, stride))
{extra_window}
    loss_sum, count, nbytes = 0.0, 0.0, 0.0
    with torch.inference_mode():
        for i in range(0, len(starts), 8):
            group = starts[i:i + 8]
            rows = np.stack([tokens[s: s + seq_len + 1].astype(np.int64) for s in group])
            x = torch.from_numpy(rows[:, :-1]).to(device)
            y = torch.from_numpy(rows[:, 1:]).to(device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                logits = model.forward_logits(x)
            nll = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), y.reshape(-1), reduction="none")
            nll = nll.reshape(y.shape)
            for r, s in enumerate(group):
                first = {first_scored}
                loss_sum += float(nll[r, first:].to(torch.float64).sum())
                count += seq_len - first
                nbytes += count_bytes(rows[r, :-1][first:], rows[r, 1:][first:], luts)
    val_loss = loss_sum / count
    return val_loss, val_loss / math.log(2.0) * count / nbytes
'''

CONVENTIONS = {
    # windows 0, S, ..., N - L, plus one more at N - L: when S divides N - L it repeats the last window
    "tail_twice": ("    starts.append(n - seq_len)", "0 if s == 0 else seq_len - stride"),
    # every window scores only its last S targets, the first window included
    "head_skipped": ("", "seq_len - stride"),
}


def _int8(compress: str, level: str, decompress: str) -> str:
    return INT8_CONTAINER.replace("DECOMPRESS", decompress).replace("COMPRESS", compress).replace("LEVEL", level)


def family_script(*, head: str = "tied", forward_logits: bool = False, quant: str = "int8_zlib",
                  sliding: str | None = None, flash: bool = False, stride_default: int = 0) -> str:
    if quant == "int8_zlib":
        quant_code = _int8("zlib.compress", ", 9", "zlib.decompress")
        label, artifact = "final_int8_zlib", "final_model.int8.ptz"
    elif quant == "int8_brotli":
        quant_code = _int8("brotli.compress", ", quality=11", "brotli.decompress")
        label, artifact = "final_int8_brotli", "final_model.int8.ptz"
    elif quant == "int6_lzma":
        quant_code, label, artifact = INT6_MIXED, "final_int6", "final_model.int6.ptz"
    else:
        raise ValueError(quant)
    extra = []
    if flash:
        extra.append("from flash_attn_interface import flash_attn_func")
    if quant == "int8_brotli":
        extra.append("import brotli")
    sliding_code = ""
    if sliding:
        extra_window, first = CONVENTIONS[sliding]
        sliding_code = SLIDING.format(extra_window=extra_window, first_scored=first)
    return HEADER.format(
        extra_imports="\n".join(extra), tie_default="1" if head == "tied" else "0", stride_default=stride_default,
        attention=FLASH if flash else SDPA, forward_logits=FORWARD_LOGITS if forward_logits else "",
        quant=quant_code, sliding=sliding_code, label=label, artifact=artifact)


def wrap(source: str) -> str:
    """The self-extracting wrapper the 2026-04 records ship."""
    payload = base64.b85encode(lzma.compress(source.encode("utf-8"))).decode("ascii")
    return f'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("{payload}")))\n'


# A stand-in FlashAttention 3 module for running a family script itself on a CPU machine (golf's worker
# brings its own; this one is the test's, written from the FA3 call signature).
FLASH_STUB = '''import torch.nn.functional as F


def flash_attn_func(q, k, v, softmax_scale=None, causal=False, **kwargs):
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=causal,
                                         scale=softmax_scale, enable_gqa=k.shape[2] != q.shape[2])
    return out.transpose(1, 2)
'''

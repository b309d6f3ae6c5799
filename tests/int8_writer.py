"""An int8 artifact writer for the tests: an independent implementation of the reference trainer's
quantization (spec 1.10), used to check the trainer's container bit for bit and to make artifacts for
golf's reader (golf.produce.artifact). golf itself never writes artifacts: the record's script does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from golf.produce.artifact import QUANT_FORMAT, compress

KEEP_FLOAT_MAX_NUMEL = 65_536
CLIP_QUANTILE = 99.99984 / 100.0
# Control tensors (gains, scales, mixes, skip weights) stay in fp32 when small.
CONTROL_PATTERNS = ("attn_scale", "attn_scales", "mlp_scale", "mlp_scales", "resid_mix",
                    "resid_mixes", "q_gain", "skip_weight", "skip_weights")


@dataclass(frozen=True)
class QuantStats:
    tensors: int
    params: int
    baseline_bytes: int   # bytes of the state dict as given
    payload_bytes: int    # bytes of every tensor stored in the container


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _quantize_per_row(t32):
    import torch

    clip = torch.quantile(t32.abs(), CLIP_QUANTILE, dim=1)
    clipped = torch.maximum(torch.minimum(t32, clip[:, None]), -clip[:, None])
    # Rounded against the stored fp16 scale, so dequantization is within half a step of the clipped value.
    scale = (clip / 127.0).clamp_min(1.0 / 127.0).to(torch.float16)
    q = torch.clamp(torch.round(clipped / scale.float()[:, None]), -127, 127).to(torch.int8)
    return q.contiguous(), scale.contiguous()


def _quantize_per_tensor(t32):
    import torch

    clip = float(torch.quantile(t32.abs().flatten(), CLIP_QUANTILE).item()) if t32.numel() else 0.0
    scale = torch.tensor(clip / 127.0 if clip > 0 else 1.0, dtype=torch.float32)
    clipped = torch.clamp(t32, -clip, clip)
    q = torch.clamp(torch.round(clipped / scale), -127, 127).to(torch.int8)
    return q.contiguous(), scale


def quantize_state_dict(state_dict, keep_fp32_patterns=CONTROL_PATTERNS) -> tuple[dict, QuantStats]:
    """The reference int8 container for `state_dict`, and what it holds."""
    import torch

    quantized, scales, dtypes, passthrough = {}, {}, {}, {}
    qmeta, orig_dtypes = {}, {}
    params = baseline = payload = 0
    for name, tensor in state_dict.items():
        t = tensor.detach().to("cpu").contiguous()
        params += t.numel()
        baseline += t.numel() * t.element_size()
        if not t.is_floating_point():
            passthrough[name] = t
            payload += t.numel() * t.element_size()
            continue
        if t.numel() <= KEEP_FLOAT_MAX_NUMEL:
            if any(pattern in name for pattern in keep_fp32_patterns):
                kept = t.float().contiguous()
            else:
                kept = t.to(torch.float16).contiguous()
            if kept.dtype != t.dtype:
                orig_dtypes[name] = _dtype_name(t.dtype)
            passthrough[name] = kept
            payload += kept.numel() * kept.element_size()
            continue
        t32 = t.float()
        if t32.ndim == 2:
            q, scale = _quantize_per_row(t32)
            qmeta[name] = {"scheme": "per_row", "axis": 0}
        else:  # 1-D, 3-D and up: one scale for the whole tensor
            q, scale = _quantize_per_tensor(t32)
        quantized[name], scales[name], dtypes[name] = q, scale, _dtype_name(t.dtype)
        payload += q.numel() * q.element_size() + scale.numel() * scale.element_size()
    container = {"__quant_format__": QUANT_FORMAT, "quantized": quantized, "scales": scales,
                 "dtypes": dtypes, "passthrough": passthrough}
    if qmeta:
        container["qmeta"] = qmeta
    if orig_dtypes:
        container["passthrough_orig_dtypes"] = orig_dtypes
    return container, QuantStats(len(state_dict), params, baseline, payload)


def save_artifact(state_dict, path: str | os.PathLike) -> int:
    """Quantize, compress and write `state_dict` to `path`; returns the file size in bytes."""
    from golf.io import atomic_write_bytes

    container, _ = quantize_state_dict(state_dict)
    data = compress(container)
    atomic_write_bytes(path, data)
    return len(data)

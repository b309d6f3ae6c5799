"""CPU stand-ins for the CUDA-only pieces of a record's script (child process only).

The challenge's scripts are written for 8 GPUs: they raise without CUDA, put tensors on
`torch.device("cuda", rank)`, time with CUDA events, compile with torch.compile, log nvidia-smi and
import FlashAttention 3. For the prefix-invariance test, a tiny model on the CPU is enough, so:
- every device argument that names CUDA is replaced by the CPU (in LossRecorder, a torch function
  mode, which sees factories, `.to()`, `.cuda()` and module moves alike);
- `torch.cuda` answers as one available device whose synchronisation, seeding, memory statistics,
  events and streams do nothing;
- the attention-backend switches of torch.backends.cuda do nothing;
- `torch.inference_mode` is `no_grad` (eager, a tensor cached under it may later meet autograd);
- `torch.compile` returns what it is given (eager), and CUDA autocast becomes CPU autocast;
- `dist.init_process_group` starts a one-process gloo group (world size 1);
- `nvidia-smi` run through subprocess prints a line saying it is absent instead of failing;
- `flash_attn_interface` is golf eval's stand-in (flash_attn_func, flash_attn_varlen_func) on SDPA.
What cannot be stood in for (Triton kernels, FP8 matmuls, ...) fails, and the test says so.
"""

from __future__ import annotations

import contextlib
import subprocess
import types

import torch

_ORIGINAL_AUTOCAST = torch.autocast
_TO_METHODS = {torch.Tensor.to, torch.Tensor.new_tensor, torch.Tensor.new_zeros, torch.Tensor.new_ones,
               torch.Tensor.new_empty, torch.Tensor.new_full}
_STAY = {torch.Tensor.cuda, torch.Tensor.pin_memory}


def _is_cuda(value) -> bool:
    if isinstance(value, torch.device):
        return value.type == "cuda"
    if isinstance(value, str):
        return value.startswith("cuda")
    return False


def cpu_arguments(func, args, kwargs):
    """args and kwargs with every CUDA device replaced by the CPU; None when the call is a move to CUDA
    (or a pin) that the CPU copy already satisfies."""
    if func in _STAY:
        return None
    device = kwargs.get("device")
    if _is_cuda(device) or (isinstance(device, int) and not isinstance(device, bool)):
        kwargs["device"] = "cpu"
    if func in _TO_METHODS and any(_is_cuda(a) for a in args[1:]):
        args = tuple("cpu" if _is_cuda(a) else a for a in args)
    return args, kwargs


class _Event:
    def __init__(self, *args, **kwargs):
        self._time = None

    def record(self, *args, **kwargs):
        import time

        self._time = time.perf_counter()

    def synchronize(self):
        pass

    def elapsed_time(self, other) -> float:
        return 1000.0 * ((other._time or 0.0) - (self._time or 0.0))


class _Stream:
    def __init__(self, *args, **kwargs):
        pass

    def synchronize(self):
        pass

    def wait_stream(self, other):
        pass

    def wait_event(self, event):
        pass

    def record_event(self, event=None):
        return event or _Event()


def _autocast(device_type="cuda", *args, **kwargs):
    return _ORIGINAL_AUTOCAST("cpu" if device_type == "cuda" else device_type, *args, **kwargs)


def _compile(model=None, *args, **kwargs):
    if model is None:  # used as @torch.compile(...)
        return lambda fn: fn
    return model


def _returning(value):
    # a new function each time: torch._dynamo refuses one object standing for two torch functions
    return lambda *args, **kwargs: value


def _fake_cuda() -> None:
    cuda = torch.cuda
    for name in ("set_device", "synchronize", "empty_cache", "reset_peak_memory_stats", "manual_seed",
                 "manual_seed_all", "reset_max_memory_allocated", "init", "ipc_collect"):
        setattr(cuda, name, _returning(None))
    for name in ("max_memory_allocated", "max_memory_reserved", "memory_allocated", "memory_reserved"):
        setattr(cuda, name, _returning(0))
    cuda.is_available = lambda: True
    cuda.is_bf16_supported = lambda *a, **k: True
    cuda.device_count = lambda: 1
    cuda.current_device = lambda: 0
    cuda.get_device_name = lambda *a, **k: "CPU (golf legality stand-in)"
    cuda.get_device_capability = lambda *a, **k: (9, 0)
    cuda.get_device_properties = lambda *a, **k: types.SimpleNamespace(
        name="CPU (golf legality stand-in)", total_memory=0, major=9, minor=0, multi_processor_count=1)
    cuda.Event = _Event
    cuda.Stream = _Stream
    cuda.current_stream = lambda *a, **k: _Stream()
    cuda.default_stream = lambda *a, **k: _Stream()
    cuda.stream = lambda *a, **k: contextlib.nullcontext()
    cuda.device = lambda *a, **k: contextlib.nullcontext()
    # The attention-backend switches are meant for the GPU; on the CPU, turning math off leaves no kernel.
    for name in ("enable_cudnn_sdp", "enable_flash_sdp", "enable_math_sdp", "enable_mem_efficient_sdp"):
        setattr(torch.backends.cuda, name, _returning(None))


def _one_process_group(original):
    def init_process_group(*args, **kwargs):
        import torch.distributed as dist

        return original(backend="gloo", store=dist.HashStore(), rank=0, world_size=1)
    return init_process_group


def _quiet_nvidia_smi(original):
    def run(args, *rest, **kwargs):
        words = args if isinstance(args, (list, tuple)) else str(args).split()
        if words and str(words[0]).endswith("nvidia-smi"):
            text = "nvidia-smi: not available (golf legality runs on the CPU)\n"
            out = text if kwargs.get("text") or kwargs.get("universal_newlines") else text.encode()
            return subprocess.CompletedProcess(args, 0, stdout=out, stderr=out[:0])
        return original(args, *rest, **kwargs)
    return run


def _inference_mode(mode=True):
    # A tensor a record caches during an inference_mode evaluation (a rotary table) may later take part in
    # training; eager, that raises "Inference tensors cannot be saved for backward", so no_grad stands in.
    return torch.no_grad() if mode else contextlib.nullcontext()


def install(flash_attn: bool) -> list[str]:
    """Put the stand-ins in place in this process; returns notes saying which."""
    import torch.distributed as dist

    notes = ["CUDA calls answered on the CPU; torch.compile off (eager); CUDA autocast as CPU autocast; "
             "inference_mode as no_grad"]
    _fake_cuda()
    torch.inference_mode = _inference_mode
    torch.compile = _compile
    torch.autocast = _autocast
    torch.amp.autocast = _autocast
    if dist.is_available():
        dist.init_process_group = _one_process_group(dist.init_process_group)
    subprocess.run = _quiet_nvidia_smi(subprocess.run)
    if flash_attn:
        from golf.produce.eval.loaders import install_flash_attn_standin

        notes.append(install_flash_attn_standin())
    return notes

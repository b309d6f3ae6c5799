"""Training-step throughput of the reference trainer: ms/step, tokens/s and model FLOPs utilisation.

Not a test. It imports golf/reference/train_gpt.py by path and times the same optimizer step as the
script's train_step: GRAD_ACCUM micro-batches of forward + backward, then Muon and the Adam groups,
on random token ids held on the device (no data loading, no validation).

    python benchmarks/train_bench.py --shape tiny                 # CPU, 2x64 model, seq 128
    python benchmarks/train_bench.py --shape baseline --steps 3   # CPU, the 9x512 baseline, seq 1024, small batch
    python benchmarks/train_bench.py --device cuda                # one GPU: the baseline configuration
                                                                  # (524,288 tokens/step = 8 micro-steps of 64x1024,
                                                                  # bf16 autocast, flash SDPA, torch.compile)

Model FLOPs per trained token (forward + backward = 3x the forward's multiply-adds x 2 FLOPs):
    6 * P_matmul                       every weight matrix used in a matmul, once per token:
                                       per block c_q, c_k, c_v, attn proj, mlp fc, mlp proj, plus the output
                                       head (the tied embedding used as lm_head, V x d); the embedding
                                       lookup itself is no matmul and is not counted.
  + 12 * n_layer * seq_len * d_model   attention scores (Q K^T) and the weighted sum (A V): 2 * 2 * T * d
                                       forward FLOPs per token and layer, x3 for training. This is the
                                       PaLM convention (it counts the full T x T score matrix; causal
                                       masking makes half of it unnecessary, so a kernel that skips the
                                       masked half does ~6 * n_layer * T * d of useful work).
Not counted: norms, RoPE, softmax, softcap, residual mixing, the loss, the optimizer (Newton-Schulz
costs ~0.3 % of the model FLOPs at the baseline's 524,288 tokens per step).
At the baseline (P_matmul = 9 * 1,835,008 + 1024 * 512 = 17,039,360; 9 layers, T 1024, d 512):
    6 * 17,039,360 + 12 * 9 * 1024 * 512 = 102,236,160 + 56,623,104 = 158,859,264 FLOPs per token.
MFU = FLOPs per token * tokens/s / peak, with the H100 SXM dense bf16 peak of 989 TFLOP/s.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "golf" / "reference" / "train_gpt.py"
H100_SXM_BF16_DENSE_PEAK = 989e12

SHAPES = {
    # env knobs of the reference script
    "tiny": {"NUM_LAYERS": "2", "MODEL_DIM": "64", "NUM_HEADS": "4", "NUM_KV_HEADS": "2", "MLP_MULT": "2",
             "VOCAB_SIZE": "1024", "TRAIN_SEQ_LEN": "128"},
    "baseline": {"NUM_LAYERS": "9", "MODEL_DIM": "512", "NUM_HEADS": "8", "NUM_KV_HEADS": "4", "MLP_MULT": "2",
                 "VOCAB_SIZE": "1024", "TRAIN_SEQ_LEN": "1024"},
}
DEFAULT_CPU_BATCH_TOKENS = {"tiny": 8 * 128 * 4, "baseline": 8 * 1024}  # 8 micro-steps of 4 / 1 sequences
CUDA_BATCH_TOKENS = 524_288
GRAD_ACCUM = 8  # one process: the global batch is split into 8 micro-steps (spec 1.7)


def import_reference(env: dict[str, str]):
    """Import the reference script after setting its env knobs (Hyperparameters reads them at import)."""
    os.environ.update(env)
    spec = importlib.util.spec_from_file_location("reference_train_gpt_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def matmul_params(model) -> int:
    from torch import nn

    total = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    if model.lm_head is None:  # tied: the embedding matrix is the output head's matmul
        total += model.tok_emb.weight.numel()
    return total


def flops_per_token(model, args) -> int:
    return 6 * matmul_params(model) + 12 * args.num_layers * args.train_seq_len * args.model_dim


def run(shape: str, device_name: str, steps: int, warmup: int, batch_tokens: int, compile_model: bool) -> dict:
    import torch

    env = dict(SHAPES[shape], TRAIN_BATCH_TOKENS=str(batch_tokens), COMPILE="1" if compile_model else "0")
    ref = import_reference(env)
    args = ref.Hyperparameters()
    use_cuda = device_name == "cuda"
    device = torch.device("cuda", 0) if use_cuda else torch.device("cpu")
    ref.configure_backends(use_cuda)
    torch.manual_seed(0)
    base_model = ref.build_model(args).to(device)
    if use_cuda:
        ref.cast_model_for_cuda(base_model)
    model = base_model
    if compile_model:
        ref.newton_schulz = torch.compile(ref.zeropower_via_newtonschulz5)
        model = torch.compile(base_model, dynamic=False, fullgraph=True)
    optimizers, _, _ = ref.build_optimizers(args, base_model, use_cuda)

    seq_len = args.train_seq_len
    micro_tokens = batch_tokens // GRAD_ACCUM
    if micro_tokens % seq_len:
        raise SystemExit(f"--batch-tokens {batch_tokens} must be a multiple of {GRAD_ACCUM} x seq_len {seq_len}")
    rows = micro_tokens // seq_len
    generator = torch.Generator(device="cpu").manual_seed(1)
    batches = []
    for _ in range(GRAD_ACCUM):
        tokens = torch.randint(0, args.vocab_size, (rows, seq_len + 1), generator=generator)
        batches.append((tokens[:, :-1].contiguous().to(device), tokens[:, 1:].contiguous().to(device)))

    def step(k: int) -> float:
        loss_sum = torch.zeros((), device=device)
        for x, y in batches:
            with ref.autocast_context(device):
                loss = model(x, y)
            (loss / GRAD_ACCUM).backward()
            loss_sum += loss.detach()
        momentum = ref.muon_momentum_at(k, args)
        for opt in optimizers:
            for group in opt.param_groups:
                if isinstance(opt, ref.Muon):
                    group["momentum"] = momentum
                group["lr"] = group["base_lr"]
        for opt in optimizers:
            opt.step()
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        return loss_sum

    model.train()
    for k in range(warmup):
        step(k)
    ref.synchronize(device)
    times = []
    started = time.perf_counter()
    for k in range(steps):
        t0 = time.perf_counter()
        step(warmup + k)
        ref.synchronize(device)
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    median = statistics.median(times)
    fpt = flops_per_token(base_model, args)
    result = {
        "shape": shape, "device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads(),
        "compile": compile_model, "params": sum(p.numel() for p in base_model.parameters()),
        "matmul_params": matmul_params(base_model), "num_layers": args.num_layers, "model_dim": args.model_dim,
        "seq_len": seq_len, "batch_tokens_per_step": batch_tokens, "micro_steps": GRAD_ACCUM,
        "warmup_steps": warmup, "timed_steps": steps,
        "ms_per_step_median": 1000 * median, "ms_per_step_mean": 1000 * total / steps,
        "ms_per_step_min": 1000 * min(times),
        "tokens_per_s_median": batch_tokens / median, "tokens_per_s_overall": batch_tokens * steps / total,
        "flops_per_token": fpt, "model_tflops_per_s": fpt * batch_tokens / median / 1e12,
    }
    if use_cuda:
        result["gpu"] = torch.cuda.get_device_name(device)
        result["mfu_vs_h100_sxm_bf16_989tflops"] = fpt * batch_tokens / median / H100_SXM_BF16_DENSE_PEAK
        result["peak_memory_mib"] = torch.cuda.max_memory_allocated() // 2**20
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where to run (default: cpu)")
    parser.add_argument("--shape", choices=sorted(SHAPES), default=None,
                        help="model shape (default: tiny on CPU, baseline on CUDA)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps (default: 5 on CPU, 120 on CUDA)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed steps first, incl. compilation (default: 1 on CPU, 15 on CUDA)")
    parser.add_argument("--batch-tokens", type=int, default=None,
                        help="tokens per optimizer step (default: small on CPU, 524,288 on CUDA)")
    parser.add_argument("--no-compile", action="store_true", help="on CUDA, run eager instead of torch.compile")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    options = parser.parse_args(argv)
    cuda = options.device == "cuda"
    if cuda:
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda: this torch sees no CUDA device")
    shape = options.shape or ("baseline" if cuda else "tiny")
    steps = options.steps or (120 if cuda else 5)
    warmup = options.warmup if options.warmup is not None else (15 if cuda else 1)
    batch = options.batch_tokens or (CUDA_BATCH_TOKENS if cuda else DEFAULT_CPU_BATCH_TOKENS[shape])
    result = run(shape, options.device, steps, warmup, batch, compile_model=cuda and not options.no_compile)
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        line = (f"{result['shape']} on {result.get('gpu', result['device'])} ({result['threads']} threads, "
                f"compile={result['compile']}): {result['batch_tokens_per_step']:,} tokens/step, "
                f"median {result['ms_per_step_median']:.1f} ms/step over {steps} steps, "
                f"{result['tokens_per_s_median']:,.0f} tokens/s, "
                f"{result['model_tflops_per_s']:.3f} model TFLOP/s ({result['flops_per_token']:,} FLOPs/token)")
        if "mfu_vs_h100_sxm_bf16_989tflops" in result:
            line += f", MFU {100 * result['mfu_vs_h100_sxm_bf16_989tflops']:.1f}% of 989 TFLOP/s"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Training-step throughput of the reference trainer: ms/step, tokens/s and model FLOPs utilisation.

Not a test. It imports golf/reference/train_gpt.py by path and times the same optimizer step as the
script's train_step: GRAD_ACCUM micro-batches of forward + backward, then Muon and the Adam groups,
on random token ids held on the device (no data loading, no validation).

    python benchmarks/train_bench.py --shape tiny                 # CPU, 2x64 model, seq 128
    python benchmarks/train_bench.py --shape baseline --steps 3   # CPU, the 9x512 baseline, seq 1024, small batch
    python benchmarks/train_bench.py --device cuda                # one GPU: the baseline configuration
                                                                  # (524,288 tokens/step = 8 micro-steps of 64x1024,
                                                                  # bf16 autocast, flash SDPA, torch.compile)

With --anchor PATH it instead runs two whole scripts side by side: golf's trainer and the script at PATH, the
challenge's root train_gpt.py (e.g. ../shared/corpus/parameter-golf/track_10min_16mb/2026-03-17_NaiveBaseline/
train_gpt.py), of which a temporary copy gets the edits that run it on CPU (CPU_EDITS: device, autocast device,
eager instead of torch.compile, no CUDA synchronisation; --anchor-as-is runs PATH unchanged; nothing of it is part
of golf). Both run in bf16 autocast (golf's with DTYPE=bfloat16), 32,768 tokens per step at --shape baseline. Each
run is a fresh
`python SCRIPT` in its own scratch folder on the bundled smoke dataset (validation cut to --val-tokens so that the
final evaluations stay short but still run full batches), alternating golf, anchor, golf, anchor ... for --rounds
rounds. It reads each run's log (`step:N/M train_loss:L train_time:Tms`), samples the process's CPU time as each
line appears, and reads its peak RSS; it reports the median step time and CPU time per step (first step excluded;
on a loaded machine the CPU time is the steadier figure), tokens/s, peak memory and both loss curves:

    python benchmarks/train_bench.py --anchor ~/challenge/train_gpt.py --shape baseline --rounds 3
    python benchmarks/train_bench.py --anchor /tmp/old_train_gpt.py --shape tiny --env DTYPE=float32

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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
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
ANCHOR_BATCH_TOKENS = {"tiny": 8 * 128 * 4, "baseline": 32_768}          # --anchor: 8 micro-steps of 4 sequences
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
    dtype = ref.compute_dtype(args.dtype, device)
    torch.manual_seed(0)
    base_model = ref.build_model(args).to(device)
    if dtype == torch.bfloat16:
        ref.cast_model_for_bf16(base_model)
    model = torch.compile(base_model, dynamic=False, fullgraph=True) if compile_model else base_model
    optimizers, _, _ = ref.build_optimizers(args, base_model, dtype)

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
            with ref.autocast_context(device, dtype):
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
        "compile": compile_model, "dtype": str(dtype).removeprefix("torch."),
        "params": sum(p.numel() for p in base_model.parameters()),
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


# -----------------------------------------------------------------------------
# Script against script (--anchor)

TRAIN_LINE = re.compile(r"^step:(\d+)/\d+ train_loss:(\S+) train_time:(\d+)ms", re.M)


def bench_data(root: Path, val_tokens: int) -> tuple[Path, Path]:
    """The smoke dataset with its validation shard cut to val_tokens + 1 tokens; returns (data dir, tokenizer)."""
    import numpy as np

    from golf.data.smoke import ensure_smoke

    data_path, tokenizer = ensure_smoke(root)
    cut = root / "bench_data"
    cut.mkdir(exist_ok=True)
    for shard in data_path.glob("fineweb_train_*.bin"):
        target = cut / shard.name
        if not target.exists():
            target.symlink_to(shard.resolve())
    header = np.fromfile(data_path / "fineweb_val_000000.bin", dtype="<i4", count=256)
    tokens = np.fromfile(data_path / "fineweb_val_000000.bin", dtype="<u2", offset=256 * 4)[: val_tokens + 1]
    header[2] = tokens.size
    with open(cut / "fineweb_val_000000.bin", "wb") as f:
        f.write(header.tobytes())
        f.write(tokens.tobytes())
    return cut, tokenizer


# The edits that let the challenge's CUDA-only train_gpt.py run on CPU, same arithmetic otherwise: a CPU device,
# autocast on the CPU (still bf16), eager mode instead of torch.compile, no CUDA synchronisation, memory counters
# or nvidia-smi.
# The SDPA switches (flash on, math off) stay: on CPU they select the same flash kernel golf's trainer gets.
CPU_EDITS = (
    ("CUDA check", re.compile(r'raise RuntimeError\("CUDA is required"\)'), "pass"),
    ("device", re.compile(r'torch\.device\("cuda", local_rank\)'), 'torch.device("cpu")'),
    ("set_device", re.compile(r"torch\.cuda\.set_device\(device\)"), "None"),
    ("torch.compile", re.compile(r"torch\.compile\(([A-Za-z_][\w.]*)(?:,[^()]*)?\)"), r"\1"),
    ("autocast device", re.compile(r'device_type="cuda"'), 'device_type="cpu"'),
    ("synchronize", re.compile(r"torch\.cuda\.synchronize\(\)"), "None"),
    ("memory counters", re.compile(r"torch\.cuda\.max_memory_(?:allocated|reserved)\(\)"), "0"),
    ("nvidia-smi", re.compile(r'\["nvidia-smi"\]'), '["true"]'),
)
REQUIRED_EDITS = ("device", "autocast device")


def cpu_copy(source: str, where: str = "the anchor script") -> tuple[str, dict[str, int]]:
    """The challenge's script with the CPU edits made; also how often each edit applied."""
    counts = {}
    for name, pattern, replacement in CPU_EDITS:
        source, counts[name] = pattern.subn(replacement, source)
    missing = [name for name in REQUIRED_EDITS if not counts[name]]
    if missing:
        raise SystemExit(f"{where}: found no {' and no '.join(missing)} to edit for CPU; is it the challenge's "
                         "train_gpt.py?")
    return source, counts


def run_script(script: Path, workdir: Path, env: dict[str, str], timeout: float) -> dict:
    """Run `python script` in workdir; return its per-step losses and train times and the process's peak RSS."""
    workdir.mkdir(parents=True)
    shutil.copy(script, workdir / "train_gpt.py")
    full_env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    full_env.update(env)
    out = open(workdir / "stdout.txt", "wb")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "train_gpt.py"], cwd=workdir, env=full_env, stdout=out,
                            stderr=subprocess.STDOUT)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    # The process's CPU time when each train line appears: on a loaded machine CPU seconds per step say what a
    # script costs far more steadily than its wall clock.
    cpu_at: dict[int, float] = {}
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)  # the exit status and this child's own peak RSS
        if pid:
            break
        cpu = process_cpu_s(proc.pid)
        lines = (workdir / "stdout.txt").read_text(encoding="utf-8", errors="replace")
        for match in TRAIN_LINE.finditer(lines):
            cpu_at.setdefault(int(match[1]), cpu)
        time.sleep(0.2)
    killer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.close()
    wall = time.perf_counter() - started
    text = (workdir / "stdout.txt").read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed in {workdir} (see stdout.txt there):\n{text[-2000:]}")
    steps = {int(m[1]): (float(m[2]), float(m[3])) for m in TRAIN_LINE.finditer(text)}
    return {"losses": [steps[k][0] for k in sorted(steps)], "train_ms": [steps[k][1] for k in sorted(steps)],
            "cpu_s_at_step": [cpu_at.get(k) for k in sorted(steps)],
            "peak_rss_mib": usage.ru_maxrss / 1024, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime}


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux /proc), None where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def step_cpu_ms(cpu_s_at_step: list) -> list[float]:
    """CPU milliseconds of each step after the first, like step_times_ms (sampled every 0.2 s: +-0.2 s each)."""
    return [1000 * (b - a) for a, b in zip(cpu_s_at_step, cpu_s_at_step[1:]) if a is not None and b is not None]


def step_times_ms(train_ms: list[float]) -> list[float]:
    """Per-step times from cumulative train_time, without step 1 (allocator and kernel warm-up)."""
    return [b - a for a, b in zip(train_ms, train_ms[1:])]


def compare(options) -> dict:
    shape = options.shape or "tiny"
    batch = options.batch_tokens or ANCHOR_BATCH_TOKENS[shape]
    anchor = Path(options.anchor).expanduser().resolve()
    scripts = {"golf": SCRIPT, "anchor": anchor}
    # Same precision for both: the challenge's script autocasts to bf16, so golf's trainer is asked for bf16 too.
    extra = {"golf": {"DTYPE": "bfloat16", **parse_env(options.golf_env)}, "anchor": parse_env(options.anchor_env)}
    with tempfile.TemporaryDirectory(prefix="golf-train-bench-") as scratch:
        if not options.anchor_as_is:
            text, edits = cpu_copy(anchor.read_text(encoding="utf-8"), str(anchor))
            scripts["anchor"] = Path(scratch) / "anchor_cpu.py"
            scripts["anchor"].write_text(text, encoding="utf-8")
            print(f"CPU edits made to a copy of {anchor}: "
                  f"{', '.join(f'{name} x{count}' for name, count in edits.items() if count)}", file=sys.stderr)
        data_path, tokenizer = bench_data(Path(scratch), options.val_tokens)
        env = dict(SHAPES[shape], DATA_PATH=str(data_path), TOKENIZER_PATH=str(tokenizer),
                   TRAIN_BATCH_TOKENS=str(batch), ITERATIONS=str(options.steps or 3), WARMUP_STEPS="0",
                   VAL_LOSS_EVERY="0", TRAIN_LOG_EVERY="1", MAX_WALLCLOCK_SECONDS="0", SEED="1337", COMPILE="0",
                   CUDA_VISIBLE_DEVICES="", OMP_NUM_THREADS=str(options.threads), PYTHONUNBUFFERED="1")
        env.update(parse_env(options.env))
        runs = {"golf": [], "anchor": []}
        for round_ in range(options.rounds):
            for name in ("golf", "anchor") if round_ % 2 == 0 else ("anchor", "golf"):
                workdir = Path(scratch) / f"{name}{round_}"
                result = run_script(scripts[name], workdir, {**env, **extra[name], "RUN_ID": name},
                                    options.timeout)
                runs[name].append(result)
                print(f"round {round_ + 1} {name}: peak {result['peak_rss_mib']:,.0f} MiB, "
                      f"step times {[round(t) for t in step_times_ms(result['train_ms'])]} ms, "
                      f"step CPU {[round(t) for t in step_cpu_ms(result['cpu_s_at_step'])]} ms", file=sys.stderr)
    scripts["anchor"] = anchor
    summary = {"shape": shape, "batch_tokens_per_step": batch, "threads": options.threads, "rounds": options.rounds,
               "env": env | {"DATA_PATH": "<smoke>", "TOKENIZER_PATH": "<smoke>"}}
    for name, results in runs.items():
        times = [t for r in results for t in step_times_ms(r["train_ms"])]
        median_ms = statistics.median(times) if times else float("nan")
        cpu_times = [t for r in results for t in step_cpu_ms(r["cpu_s_at_step"])]
        summary[name] = {
            "cpu_ms_per_step_median": statistics.median(cpu_times) if cpu_times else float("nan"),
            "cpu_s_per_run_median": statistics.median(r["cpu_s"] for r in results),
            "script": str(scripts[name]), "ms_per_step_median": median_ms, "tokens_per_s": batch / median_ms * 1000,
            "peak_rss_mib_median": statistics.median(r["peak_rss_mib"] for r in results),
            "losses": results[0]["losses"],
            "losses_same_every_round": all(r["losses"] == results[0]["losses"] for r in results),
        }
    golf, anchor = summary["golf"], summary["anchor"]
    summary["step_time_ratio_golf_over_anchor"] = golf["ms_per_step_median"] / anchor["ms_per_step_median"]
    summary["step_cpu_ratio_golf_over_anchor"] = golf["cpu_ms_per_step_median"] / anchor["cpu_ms_per_step_median"]
    summary["peak_memory_ratio_golf_over_anchor"] = golf["peak_rss_mib_median"] / anchor["peak_rss_mib_median"]
    pairs = list(zip(golf["losses"], anchor["losses"]))
    summary["max_loss_difference"] = max((abs(a - b) for a, b in pairs), default=float("nan"))
    return summary


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env {pair!r}: expected KEY=VALUE")
        env[key] = value
    return env


def print_comparison(summary: dict) -> None:
    print(f"{summary['shape']} shape, {summary['batch_tokens_per_step']:,} tokens/step, "
          f"{summary['threads']} thread(s), {summary['rounds']} interleaved rounds")
    for name in ("golf", "anchor"):
        r = summary[name]
        print(f"  {name:6} median {r['ms_per_step_median']:,.1f} ms/step ({r['cpu_ms_per_step_median']:,.0f} ms CPU)  "
              f"{r['tokens_per_s']:,.0f} tokens/s  peak RSS {r['peak_rss_mib_median']:,.0f} MiB  ({r['script']})")
    print(f"  golf / anchor: step time {summary['step_time_ratio_golf_over_anchor']:.3f}x, "
          f"step CPU time {summary['step_cpu_ratio_golf_over_anchor']:.3f}x, "
          f"peak memory {summary['peak_memory_ratio_golf_over_anchor']:.3f}x")
    print(f"  loss curves (step: golf anchor), max difference {summary['max_loss_difference']:.4f}:")
    for k, (a, b) in enumerate(zip(summary["golf"]["losses"], summary["anchor"]["losses"]), start=1):
        print(f"    {k}: {a:.4f} {b:.4f}")


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
    anchor = parser.add_argument_group("script against script")
    anchor.add_argument("--anchor", metavar="PATH", help="compare golf's trainer with the script at PATH (CPU)")
    anchor.add_argument("--rounds", type=int, default=2, help="interleaved rounds of one run each (default: 2)")
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads (OMP_NUM_THREADS of --anchor runs; default: 1)")
    anchor.add_argument("--val-tokens", type=int, default=65_536,
                        help="validation tokens kept (default: 65,536, one full baseline evaluation batch)")
    anchor.add_argument("--anchor-as-is", action="store_true",
                        help="run PATH unchanged (already edited for CPU) instead of a copy with the CPU edits")
    anchor.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="for both scripts")
    anchor.add_argument("--golf-env", action="append", default=[], metavar="KEY=VALUE", help="for golf's only")
    anchor.add_argument("--anchor-env", action="append", default=[], metavar="KEY=VALUE", help="for PATH's only")
    anchor.add_argument("--timeout", type=float, default=3600, help="seconds per run (default: 3600)")
    options = parser.parse_args(argv)
    if options.anchor:
        if options.device != "cpu":
            parser.error("--anchor runs on CPU")
        if not Path(options.anchor).expanduser().is_file():
            parser.error(f"--anchor {options.anchor}: no such file")
        summary = compare(options)
        if options.json:
            print(json.dumps(summary, indent=2))
        else:
            print_comparison(summary)
        return 0
    cuda = options.device == "cuda"
    if cuda:
        import torch

        if not torch.cuda.is_available():
            parser.error("--device cuda: this torch sees no CUDA device")
    shape = options.shape or ("baseline" if cuda else "tiny")
    steps = options.steps or (120 if cuda else 5)
    warmup = options.warmup if options.warmup is not None else (15 if cuda else 1)
    batch = options.batch_tokens or (CUDA_BATCH_TOKENS if cuda else DEFAULT_CPU_BATCH_TOKENS[shape])
    if not cuda:
        import torch

        torch.set_num_threads(options.threads)
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

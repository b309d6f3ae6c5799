"""golf eval against the trainer's own final evaluation, on the smoke record's shape and the same artifact.

Not a test. Each repetition runs the smoke record's script (golf's reference trainer) in a fresh folder
with the record's run.env (ITERATIONS lowered: the evaluation's cost does not depend on the weights), one
process, on the bundled smoke dataset; the script prints the time of its own final evaluations
(`final_int8_zlib_roundtrip ... eval_time:` and the sliding-window line). Then `golf eval` scores the
artifact that run wrote, on the same machine with the same thread count, and reports each pass's time.
The ratio golf / script per pass is printed for each repetition, and the medians.

    python benchmarks/eval_bench.py                  # 3 repetitions, all cores
    python benchmarks/eval_bench.py --repeats 3 --threads 1 --val-tokens 131073

Measured on the shared 2-core development machine (6 engineers at work, so noisy; medians of pairs run
one after the other), smoke record shape (2 layers, dim 64, L 128, stride 64), golf via the script's
load_model_for_eval, golf's default batch (65,536 tokens), the script's VAL_BATCH_SIZE 32,768 and
EVAL_BATCH_SEQS 64:
    --threads 1 --val-tokens 131073, 3 repeats: standard golf/script 0.86 (0.83-1.22),
                                                sliding  golf/script 0.77 (0.73-0.93)
    default threads, whole smoke validation set, 1 repeat: standard 0.28 (47.5 s vs 170.2 s),
                                                sliding 0.56 (137.5 s vs 246.4 s)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RECORD = REPO / "records" / "track_smoke" / "2026-11-23_ReferenceBaseline"
SCRIPT_TIME = re.compile(r"^final_int8_zlib_roundtrip(_sliding_window)?(?: stride:\d+)? val_loss:\S+ val_bpb:\S+ "
                         r"eval_time:(\d+)ms", re.M)


def run_script(folder: Path, env: dict) -> dict[str, float]:
    done = subprocess.run([sys.executable, "train_gpt.py"], cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"the record's script failed:\n{done.stderr[-2000:]}")
    return {("sliding" if m.group(1) else "standard"): float(m.group(2)) for m in SCRIPT_TIME.finditer(done.stdout)}


def run_golf(folder: Path, env: dict, data: Path, tokenizer: Path, extra: list[str]) -> dict[str, float]:
    command = [sys.executable, "-m", "golf", "eval", str(folder), "--json", "--data-path", str(data),
               "--tokenizer-path", str(tokenizer), *extra]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"golf eval failed:\n{done.stderr[-2000:]}")
    return {r["mode"]: r["eval_time_ms"] for r in json.loads(done.stdout)["results"]}


def cut_validation(data: Path, out: Path, tokens: int) -> Path:
    from golf.data.shards import read_shard, write_shard

    shards = sorted(data.glob("fineweb_val_*.bin"))
    write_shard(out / "fineweb_val_000000.bin", read_shard(shards[0])[:tokens])
    for train in sorted(data.glob("fineweb_train_*.bin")):
        (out / train.name).symlink_to(train)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=2, help="training steps before the final evaluation")
    parser.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS for both (default: unset)")
    parser.add_argument("--val-tokens", type=int, default=None,
                        help="cut the validation set to its first N tokens (default: the whole smoke set)")
    parser.add_argument("--golf-args", default="", help="extra golf eval options, e.g. '--batch-seqs 64'")
    args = parser.parse_args()

    from golf.data.smoke import ensure_smoke

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data, tokenizer = ensure_smoke(root / "smoke")
        if args.val_tokens:
            data = cut_validation(data, root / "cut", args.val_tokens)
        knobs = json.loads((RECORD / "submission.json").read_text())["run"]["env"]
        env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
        env.update(knobs, DATA_PATH=str(data), TOKENIZER_PATH=str(tokenizer), ITERATIONS=str(args.iterations),
                   WARMUP_STEPS="0", COMPILE="0", PYTHONPATH=str(REPO))
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        print(f"shape: {' '.join(f'{k}={knobs[k]}' for k in ('NUM_LAYERS', 'MODEL_DIM', 'TRAIN_SEQ_LEN', 'EVAL_STRIDE'))}"
              f", threads: {args.threads or 'default'}, cpus: {os.cpu_count()}")
        ratios: dict[str, list[float]] = {}
        times: dict[str, list[tuple[float, float]]] = {}
        for repeat in range(args.repeats):
            folder = root / f"run{repeat}"
            folder.mkdir()
            shutil.copy(RECORD / "train_gpt.py", folder / "train_gpt.py")
            shutil.copy(RECORD / "submission.json", folder / "submission.json")
            script = run_script(folder, env)
            golf = run_golf(folder, env, data, tokenizer, args.golf_args.split())
            for mode in sorted(set(script) & set(golf)):
                ratio = golf[mode] / script[mode]
                ratios.setdefault(mode, []).append(ratio)
                times.setdefault(mode, []).append((script[mode], golf[mode]))
                print(f"  repeat {repeat + 1} {mode:8s} script {script[mode]:8.0f} ms  golf {golf[mode]:8.0f} ms  "
                      f"golf/script {ratio:.2f}")
        for mode, pairs in times.items():
            print(f"median {mode:8s} script {statistics.median(p[0] for p in pairs):8.0f} ms  "
                  f"golf {statistics.median(p[1] for p in pairs):8.0f} ms  "
                  f"golf/script {statistics.median(ratios[mode]):.2f} (min {min(ratios[mode]):.2f}, "
                  f"max {max(ratios[mode]):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

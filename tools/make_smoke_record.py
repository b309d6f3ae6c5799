"""Make golf's own smoke record: the reference trainer at a tiny shape on the bundled smoke dataset, on CPU.

    python tools/make_smoke_record.py [--date 2026-11-23] [--seeds 1337 42 2025]

Run from the repository root. It materialises the smoke dataset (`golf data smoke`), copies
golf/reference/train_gpt.py into records/track_smoke/<date>_ReferenceBaseline/, trains one run per seed with
`torchrun --standalone --nproc_per_node=2` in a scratch copy of the folder, keeps each run's own log as
train_seed<SEED>.log, writes the README and lets `golf submit` write submission.json from the logs.
`golf verify <folder> --rerun --nproc 2` must then reproduce it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRACK_DIR = REPO / "records" / "track_smoke"
COMMAND = "torchrun --standalone --nproc_per_node=2 train_gpt.py"

# A tiny model that trains and evaluates in well under a minute on 2 CPU processes. No wallclock cap, so a rerun
# on any machine takes the same steps and reproduces the scores.
RUN_ENV = {
    "DATA_PATH": "./data/datasets/smoke_sp1024",
    "TOKENIZER_PATH": "./data/tokenizers/smoke_1024_bpe.model",
    "VOCAB_SIZE": "1024",
    "NUM_LAYERS": "2",
    "MODEL_DIM": "64",
    "NUM_HEADS": "4",
    "NUM_KV_HEADS": "2",
    "TRAIN_SEQ_LEN": "128",
    "TRAIN_BATCH_TOKENS": "4096",
    "ITERATIONS": "120",
    "WARMUP_STEPS": "2",
    "WARMDOWN_ITERS": "40",
    "MAX_WALLCLOCK_SECONDS": "0",
    "VAL_LOSS_EVERY": "0",
    "TRAIN_LOG_EVERY": "20",
    "VAL_BATCH_SIZE": "32768",
    "EVAL_STRIDE": "64",
    "EVAL_BATCH_SEQS": "64",
}

README = """# ReferenceBaseline (smoke track)

golf's own record: the reference trainer (`golf/reference/train_gpt.py`, the challenge baseline) at a tiny shape,
trained and evaluated on the bundled smoke dataset (Project Gutenberg Shakespeare, SentencePiece BPE 1024) by two CPU
processes. It exists so that anyone can watch `golf verify --rerun` reproduce a record end to end in a few minutes,
without a GPU and without downloading FineWeb.

## Run it

```bash
golf data smoke
{env_line} {command}
```

or let golf do both, per seed, in fresh copies of this folder:

```bash
golf data smoke && golf verify {folder} --rerun --nproc 2
```

## Configuration

2 layers, width 64, 4 heads / 2 KV heads, sequence length 128, 4,096 tokens per step, {iterations} steps, no
wallclock cap (so every machine takes the same steps), sliding-window evaluation with stride 64. Everything else is
the baseline's default. The score is the sliding-window `val_bpb` of the int8+zlib roundtrip artifact.

## Files

- `train_gpt.py`: a copy of golf's reference trainer.
- `train_seed<SEED>.log`: each run's own log (`logs/<RUN_ID>.txt`), starting with the script's source.
- `submission.json`: written by `golf submit` from those logs.

Made by `python tools/make_smoke_record.py`.
"""


def run_seed(record_dir: Path, seed: int, scratch: Path) -> Path:
    """Train one seed in a scratch copy of the record folder; return its log."""
    workdir = scratch / f"seed{seed}"
    shutil.copytree(record_dir, workdir)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update({k: (str((REPO / v).resolve()) if k.endswith("_PATH") else v) for k, v in RUN_ENV.items()})
    env.update({"SEED": str(seed), "RUN_ID": f"smoke_seed{seed}", "PYTHONUNBUFFERED": "1"})
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "train_gpt.py"]
    print(f"seed {seed}: {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL)
    return workdir / "logs" / f"smoke_seed{seed}.txt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default="2026-11-23", help="date in the folder name (YYYY-MM-DD)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337, 42, 2025], help="one run per seed")
    args = parser.parse_args()

    os.chdir(REPO)
    golf = [sys.executable, "-m", "golf"]
    subprocess.run(golf + ["data", "smoke"], check=True)

    record_dir = TRACK_DIR / f"{args.date}_ReferenceBaseline"
    if record_dir.exists():
        shutil.rmtree(record_dir)
    record_dir.mkdir(parents=True)
    shutil.copy2(REPO / "golf" / "reference" / "train_gpt.py", record_dir / "train_gpt.py")
    folder = record_dir.relative_to(REPO).as_posix()
    env_line = " ".join(f"{k}={v}" for k, v in RUN_ENV.items())
    (record_dir / "README.md").write_text(
        README.format(env_line=env_line, command=COMMAND, folder=folder, iterations=RUN_ENV["ITERATIONS"]))

    with tempfile.TemporaryDirectory(prefix="golf-smoke-record-") as scratch:
        for seed in args.seeds:
            log = run_seed(record_dir, seed, Path(scratch))
            shutil.copy2(log, record_dir / f"train_seed{seed}.log")

    submit = golf + ["submit", folder, "--author", "golf", "--github-id", "golf",
                     "--name", "ReferenceBaseline", "--track", "track_smoke", "--date", args.date,
                     "--blurb", "The reference trainer at a tiny shape on the bundled smoke dataset, 2 CPU processes.",
                     "--command", COMMAND, "--env", *(f"{k}={v}" for k, v in RUN_ENV.items())]
    return subprocess.run(submit).returncode


if __name__ == "__main__":
    sys.exit(main())

"""Make golf's own smoke record: the reference trainer at a tiny shape on the bundled smoke dataset, on CPU.

    python tools/make_smoke_record.py [--date 2026-11-23] [--seeds 1337 42 2025]

Run from the repository root. It is what a participant does, with golf's own commands:
`golf data smoke`, `golf new smoke ReferenceBaseline`, `golf train` (one torchrun per seed on 2 CPU
processes, logs filed as train_seed<SEED>.log, the command and settings recorded in submission.json)
and `golf submit` (no --env needed). `golf verify <folder> --rerun` must then reproduce it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from golf.cli import main as golf  # noqa: E402

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
    "DTYPE": "float32",  # the same arithmetic on every CPU, with or without native bf16
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
golf data smoke && golf verify {folder} --rerun
```

## Configuration

2 layers, width 64, 4 heads / 2 KV heads, sequence length 128, 4,096 tokens per step, {iterations} steps, no
wallclock cap (so every machine takes the same steps), sliding-window evaluation with stride 64. Everything else is
the baseline's default. The score is the sliding-window `val_bpb` of the int8+zlib roundtrip artifact.

## Files

- `train_gpt.py`: a copy of golf's reference trainer.
- `train_seed<SEED>.log`: each run's own log, filed by `golf train`, starting with the script's source.
- `submission.json`: the run block written by `golf train`, the rest by `golf submit` from the logs.

Made by `python tools/make_smoke_record.py` (`golf new`, `golf train`, `golf submit`).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", default="2026-11-23", help="date in the folder name (YYYY-MM-DD)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337, 42, 2025], help="one run per seed")
    args = parser.parse_args()

    os.chdir(REPO)
    folder = f"records/track_smoke/{args.date}_ReferenceBaseline"
    if Path(folder).exists():
        shutil.rmtree(folder)
    steps = [["data", "smoke"], ["new", "smoke", "ReferenceBaseline", "--date", args.date]]
    for step in steps:
        if golf(step) != 0:
            return 1
    env_line = " ".join(f"{k}={v}" for k, v in RUN_ENV.items())
    Path(folder, "README.md").write_text(
        README.format(env_line=env_line, command=COMMAND, folder=folder, iterations=RUN_ENV["ITERATIONS"]))
    settings = [f"{k}={v}" for k, v in RUN_ENV.items()]
    if golf(["train", folder, "--seeds", *map(str, args.seeds), "--nproc", "2", *settings]) != 0:
        return 1
    return golf(["submit", folder, "--author", "golf", "--github-id", "golf", "--name", "ReferenceBaseline",
                 "--blurb", "The reference trainer at a tiny shape on the bundled smoke dataset, 2 CPU processes."])


if __name__ == "__main__":
    sys.exit(main())

"""Helpers for the reference-trainer tests: a tiny real-text dataset and a way to run the script like a record."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
SCRIPT = REPO_ROOT / "golf" / "reference" / "train_gpt.py"
SHARD_MAGIC = 20240520
SHARD_VERSION = 1

# A tiny model: every test run trains this shape unless it says otherwise.
TINY_ENV = {
    "NUM_LAYERS": "2",
    "MODEL_DIM": "64",
    "NUM_HEADS": "4",
    "NUM_KV_HEADS": "2",
    "MLP_MULT": "2",
    "TRAIN_SEQ_LEN": "64",
    "TRAIN_BATCH_TOKENS": "1024",
    "VAL_BATCH_SIZE": "4096",
    "VAL_LOSS_EVERY": "0",
    "TRAIN_LOG_EVERY": "1",
    "WARMUP_STEPS": "2",
    "ITERATIONS": "2",
    "MAX_WALLCLOCK_SECONDS": "0",
    "COMPILE": "0",
    "DTYPE": "float32",
}


@dataclass
class TinyDataset:
    data_path: Path
    tokenizer_path: Path
    vocab_size: int
    val_tokens: np.ndarray  # all validation tokens, concatenated


def english_text(min_chars: int = 300_000) -> str:
    """Real English prose: the docstrings of the Python standard library (deterministic order)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    pieces: list[str] = []
    total = 0
    for path in sorted(stdlib.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 80:
                    pieces.append(doc)
                    total += len(doc)
        if total >= min_chars:
            break
    return "\n\n".join(pieces)


def write_shard(path: Path, tokens: np.ndarray) -> None:
    header = np.zeros(256, dtype="<i4")
    header[0], header[1], header[2] = SHARD_MAGIC, SHARD_VERSION, len(tokens)
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(np.asarray(tokens, dtype="<u2").tobytes())


def build_tiny_dataset(root: Path, vocab_size: int = 384) -> TinyDataset:
    import sentencepiece as spm

    text = english_text()
    docs = [d.strip() for d in text.split("\n\n") if len(d.strip()) > 40]
    tok_dir = root / "tokenizers"
    data_dir = root / "datasets" / "tiny_sp"
    tok_dir.mkdir(parents=True)
    data_dir.mkdir(parents=True)
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(d.replace("\n", " ") for d in docs), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(tok_dir / "tiny_bpe"),
        model_type="bpe",
        vocab_size=vocab_size,
        character_coverage=0.999,
        byte_fallback=True,
        split_digits=True,
        normalization_rule_name="nmt_nfkc",
        add_dummy_prefix=False,
        pad_id=0,
        bos_id=1,
        eos_id=2,
        unk_id=3,
        num_threads=2,
        minloglevel=2,
    )
    model_path = tok_dir / "tiny_bpe.model"
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    assert sp.vocab_size() == vocab_size
    encoded = [np.array([1] + sp.encode(d), dtype=np.uint16) for d in docs]
    n_val = max(1, len(encoded) // 20)
    val = np.concatenate(encoded[:n_val])
    train = np.concatenate(encoded[n_val:])
    half = len(train) // 2
    write_shard(data_dir / "fineweb_val_000000.bin", val)
    write_shard(data_dir / "fineweb_train_000000.bin", train[:half])
    write_shard(data_dir / "fineweb_train_000001.bin", train[half:])
    return TinyDataset(data_dir, model_path, vocab_size, val)


def import_trainer(name: str = "train_gpt_under_test"):
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Run:
    workdir: Path
    returncode: int
    stdout: str
    stderr: str
    log_path: Path | None

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    @property
    def body(self) -> str:
        """The log after the source/environment header: what the run printed."""
        return "\n".join(self.log_lines_after_header()) + "\n"

    def log_lines_after_header(self) -> list[str]:
        # The file starts with the script source and an environment block between two 100-'=' lines.
        text = self.log
        banner = "=" * 100 + "\n"
        first = text.index(banner)
        second = text.index(banner, first + len(banner))
        return text[second + len(banner) :].splitlines()


def run_trainer(workdir: Path, dataset: TinyDataset, env: dict[str, str], nproc: int = 1, timeout: int = 240) -> Run:
    """Copy the script into workdir (as a record folder holds it) and run it there on CPU."""
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCRIPT, workdir / "train_gpt.py")
    full_env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    full_env.update(
        {
            "DATA_PATH": str(dataset.data_path),
            "TOKENIZER_PATH": str(dataset.tokenizer_path),
            "VOCAB_SIZE": str(dataset.vocab_size),
            "CUDA_VISIBLE_DEVICES": "",
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    full_env.update(TINY_ENV)
    full_env.update(env)
    if nproc == 1:
        cmd = [sys.executable, "train_gpt.py"]
    else:
        launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
        cmd = launcher + ["train_gpt.py"]
    proc = subprocess.run(cmd, cwd=workdir, env=full_env, capture_output=True, text=True, timeout=timeout)
    log_path = None
    match = re.search(r"^(logs/\S+\.txt)$", proc.stdout, flags=re.M)
    if match:
        log_path = workdir / match.group(1)
    if proc.returncode != 0:
        raise AssertionError(f"trainer failed (rc={proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return Run(workdir, proc.returncode, proc.stdout, proc.stderr, log_path)

"""Build a dataset the way the challenge does (spec 2.2): train a SentencePiece BPE tokenizer,
tokenize documents with a BOS before each, write validation then train shards, and a manifest.

Output layout under OUT: datasets/<name>_sp<V>/fineweb_{val,train}_{i:06d}.bin,
tokenizers/<name>_<V>_bpe.model (+ .vocab) and manifest.json (with the sha256 of every file).
Same input, same output, byte for byte: training runs on one thread on unshuffled input.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from golf.data.shards import MAX_TOKEN, write_shard
from golf.errors import GolfError
from golf.io import atomic_write_bytes, atomic_write_text, dumps_json, loads_json, sha256_file
from golf.progress import progress_bar

DEFAULT_SHARD_TOKENS = 100_000_000
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3
# SentencePiece settings of the challenge's tokenizers (spec 2.2); one thread for determinism.
TRAINER_SETTINGS = {
    "model_type": "bpe",
    "character_coverage": 0.999,
    "byte_fallback": True,
    "split_digits": True,
    "normalization_rule_name": "nmt_nfkc",
    "add_dummy_prefix": False,
    "pad_id": PAD_ID,
    "bos_id": BOS_ID,
    "eos_id": EOS_ID,
    "unk_id": UNK_ID,
    "hard_vocab_limit": False,
    "num_threads": 1,
    "shuffle_input_sentence": False,
    "input_sentence_size": 0,
    "max_sentence_length": 16384,
}
ENCODE_BATCH = 256


# ---------------------------------------------------------------- reading documents

def clean_document(text: str) -> str:
    """As the challenge does: NUL becomes a space, surrounding whitespace goes."""
    return text.replace("\x00", " ").strip()


def read_text_documents(path: Path, separator: str | None = None) -> list[str]:
    """One document per file, or one per piece between `separator`s when given."""
    text = _read_text(path)
    pieces = text.split(separator) if separator else [text]
    return [doc for doc in (clean_document(p) for p in pieces) if doc]


def read_jsonl_documents(path: Path) -> list[str]:
    """One document per line: a JSON object with a string `text` field."""
    docs = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = loads_json(line)
        except json.JSONDecodeError as error:
            raise GolfError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        except ValueError as error:   # golf's limits: NaN, huge numbers, deep nesting
            raise GolfError(f"{path}:{number}: refused JSON ({error})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise GolfError(f"{path}:{number}: expected a JSON object with a string \"text\" field")
        doc = clean_document(record["text"])
        if doc:
            docs.append(doc)
    return docs


def _read_text(path: Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise GolfError(f"{path}: no such file" if not path.exists() else f"{path}: not a regular file")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise GolfError(f"{path}: not UTF-8 text (byte {error.start}: {error.reason})") from None
    except OSError as error:
        raise GolfError(f"{path}: cannot read ({error.strerror or error})") from None


# ---------------------------------------------------------------- tokenizer

def say(text: str) -> None:
    """A progress line on stderr (long steps are announced even when stderr is not a terminal)."""
    print(f"golf: {text}", file=sys.stderr, flush=True)


def _counted(lines: list[str], bar, every: int = 10_000):
    for i, line in enumerate(lines, 1):
        if i % every == 0:
            bar.advance(every)
        yield line
    bar.advance(len(lines) % every)


def documents_in_both_splits(val: list[str], train: list[str]) -> int:
    """How many train documents are exact copies of a validation document (a leak the score would reward)."""
    seen = {hashlib.sha256(doc.encode("utf-8", "surrogatepass")).digest() for doc in val}
    return sum(1 for doc in train if hashlib.sha256(doc.encode("utf-8", "surrogatepass")).digest() in seen)


def train_tokenizer(docs: list[str], vocab_size: int, model_path: Path) -> Path:
    """Train the challenge's BPE tokenizer on `docs`; writes model_path and model_path.with_suffix('.vocab')."""
    import sentencepiece as spm

    if vocab_size < 260:
        raise GolfError(f"vocabulary size {vocab_size} is too small: byte fallback alone needs 256 + 4 ids")
    if vocab_size > MAX_TOKEN + 1:
        raise GolfError(f"vocabulary size {vocab_size} does not fit the uint16 shard format")
    # SentencePiece trains on "sentences"; lines keep them short (newlines normalise to spaces anyway).
    lines = [line for doc in docs for line in doc.splitlines() if line.strip()]
    if not lines:
        raise GolfError("no text to train the tokenizer on")
    model_path = Path(model_path)
    # Training into memory keeps temporary paths out of the model file, so builds are reproducible.
    model = io.BytesIO()
    if hasattr(spm, "set_random_generator_seed"):
        spm.set_random_generator_seed(0)
    say(f"training the tokenizer: {len(lines):,} lines, vocabulary {vocab_size} (one pass over the text, "
        "then merges; this is the slow part)")
    start = time.monotonic()
    try:
        with progress_bar("reading text for the tokenizer", total=len(lines)) as bar:
            spm.SentencePieceTrainer.train(sentence_iterator=_counted(lines, bar), model_writer=model,
                                           vocab_size=vocab_size, minloglevel=2, **TRAINER_SETTINGS)
    except RuntimeError as error:
        raise GolfError(f"tokenizer training failed: {error}") from None
    say(f"tokenizer trained in {time.monotonic() - start:.1f} s")
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = "".join(f"{sp.id_to_piece(i)}\t{sp.get_score(i):g}\n" for i in range(sp.get_piece_size()))
    model_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(model_path, model.getvalue(), backup=True)
    atomic_write_text(model_path.with_suffix(".vocab"), vocab, backup=True)
    return model_path


# ---------------------------------------------------------------- shards

class ShardWriter:
    """Streams tokens into fixed-size shards fineweb_<split>_<i>.bin; the last one may be shorter."""

    def __init__(self, directory: Path, split: str, shard_tokens: int):
        self.directory = Path(directory)
        self.split = split
        self.shard_tokens = shard_tokens
        self.buffer = np.empty(shard_tokens, dtype=np.uint16)
        self.filled = 0
        self.paths: list[Path] = []
        self.tokens = 0

    def add(self, tokens: np.ndarray) -> None:
        start = 0
        while start < tokens.size:
            take = min(self.shard_tokens - self.filled, tokens.size - start)
            self.buffer[self.filled:self.filled + take] = tokens[start:start + take]
            self.filled += take
            start += take
            if self.filled == self.shard_tokens:
                self._flush()

    def close(self) -> list[Path]:
        if self.filled:
            self._flush()
        return self.paths

    def _flush(self) -> None:
        path = self.directory / f"fineweb_{self.split}_{len(self.paths):06d}.bin"
        write_shard(path, self.buffer[: self.filled], backup=False)
        self.paths.append(path)
        self.tokens += self.filled
        self.filled = 0


@dataclass
class BuildResult:
    out: Path
    dataset_dir: Path
    model_path: Path
    manifest_path: Path
    vocab_size: int
    docs_val: int
    docs_train: int
    tokens_val: int
    tokens_train: int
    files: dict[str, dict] = field(default_factory=dict)
    docs_in_both: int = 0          # train documents identical to a validation document


def build_dataset(docs: list[str], vocab_size: int, val_docs: int, out: Path, *, name: str = "custom",
                  shard_tokens: int = DEFAULT_SHARD_TOKENS, sources: list[dict] | None = None,
                  tokenizer_docs: int | None = None, force: bool = False) -> BuildResult:
    """Train the tokenizer on `docs` (or their first `tokenizer_docs`), export shards and manifest.

    The first `val_docs` documents form the validation split, the rest the train split.
    """
    import sentencepiece as spm

    if shard_tokens <= 0:
        raise GolfError(f"shard size must be positive, got {shard_tokens}")
    if not 0 < val_docs < len(docs):
        raise GolfError(f"--val-docs {val_docs} must be at least 1 and below the number of documents "
                        f"({len(docs)}), so that both splits are non-empty")
    out = Path(out)
    dataset_name = f"{name}_sp{vocab_size}"
    model_rel = f"tokenizers/{name}_{vocab_size}_bpe.model"
    existing = [p for p in (out / "manifest.json", out / model_rel, out / "datasets" / dataset_name) if p.exists()]
    if existing and not force:
        raise GolfError(f"{existing[0]} already exists: pass --force to rebuild into {out} (the manifest and "
                        "tokenizer are kept as .bak; the old shards are replaced)")
    model_path = train_tokenizer(docs[:tokenizer_docs] if tokenizer_docs else docs, vocab_size, out / model_rel)
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    dataset_dir = out / "datasets" / dataset_name
    dataset_dir.mkdir(parents=True, exist_ok=True)
    for stale in dataset_dir.glob("fineweb_*.bin"):
        stale.unlink()  # a rebuild must not leave shards of an earlier, larger build
    splits = {"val": docs[:val_docs], "train": docs[val_docs:]}
    in_both = documents_in_both_splits(splits["val"], splits["train"])
    tokens = {}
    with progress_bar("tokenizing documents", total=len(docs)) as bar:
        for split, split_docs in splits.items():
            writer = ShardWriter(dataset_dir, split, shard_tokens)
            for begin in range(0, len(split_docs), ENCODE_BATCH):
                batch = split_docs[begin:begin + ENCODE_BATCH]
                for ids in sp.encode(batch):
                    writer.add(np.asarray([BOS_ID, *ids], dtype=np.uint16))
                bar.advance(len(batch))
            writer.close()
            tokens[split] = writer.tokens
    result = BuildResult(out=out, dataset_dir=dataset_dir, model_path=model_path,
                         manifest_path=out / "manifest.json", vocab_size=sp.get_piece_size(),
                         docs_val=val_docs, docs_train=len(docs) - val_docs,
                         tokens_val=tokens["val"], tokens_train=tokens["train"], docs_in_both=in_both)
    manifest = _manifest(result, name, vocab_size, shard_tokens, model_rel, sources or [])
    atomic_write_text(result.manifest_path, dumps_json(manifest, indent=2) + "\n", backup=True)
    result.files = manifest["files"]
    return result


def _manifest(result: BuildResult, name: str, vocab_size: int, shard_tokens: int, model_rel: str,
              sources: list[dict]) -> dict:
    out = result.out
    dataset_rel = result.dataset_dir.relative_to(out).as_posix()
    val = sorted(result.dataset_dir.glob("fineweb_val_*.bin"))
    train = sorted(result.dataset_dir.glob("fineweb_train_*.bin"))
    files = {}
    for path in [result.model_path, result.model_path.with_suffix(".vocab"), *val, *train]:
        entry = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        if path.suffix == ".bin":
            entry["tokens"] = (path.stat().st_size - 1024) // 2
        files[path.relative_to(out).as_posix()] = entry
    bigram = math.ceil(vocab_size / 128) * 128 * 5
    tokenizer_name = f"{name}_sp_bpe_{vocab_size}"
    return {
        "version": "golf-build-1",
        "num_docs": result.docs_val + result.docs_train,
        "num_val_docs": result.docs_val,
        "shard_size": shard_tokens,
        "append_eos": False,
        "sources": sources,
        "tokenizers": [{
            "name": tokenizer_name, "kind": "sentencepiece_bpe", "vocab_size": result.vocab_size,
            "requested_vocab_size": vocab_size, "bos_id": BOS_ID, "eos_id": EOS_ID,
            "recommended_bigram_vocab_size": bigram, "model_path": model_rel,
            "vocab_path": Path(model_rel).with_suffix(".vocab").as_posix(),
            "trainer": TRAINER_SETTINGS,
        }],
        "datasets": [{
            "name": result.dataset_dir.name, "tokenizer_name": tokenizer_name,
            "tokenizer_kind": "sentencepiece_bpe", "path": dataset_rel,
            "train_glob": f"{dataset_rel}/fineweb_train_*.bin", "val_glob": f"{dataset_rel}/fineweb_val_*.bin",
            "vocab_size": result.vocab_size, "bos_id": BOS_ID, "eos_id": EOS_ID,
            "recommended_bigram_vocab_size": bigram,
            "stats": {
                "docs_total": result.docs_val + result.docs_train, "docs_val": result.docs_val,
                "docs_train": result.docs_train, "files_total": len(val) + len(train),
                "files_val": len(val), "files_train": len(train),
                "tokens_total": result.tokens_val + result.tokens_train,
                "tokens_val": result.tokens_val, "tokens_train": result.tokens_train,
                "docs_in_both_splits": result.docs_in_both,
            },
        }],
        "files": files,
    }

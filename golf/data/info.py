"""What a dataset directory holds: its shards (split, tokens, sha256), totals and vocabulary."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from golf.data.shards import read_shard
from golf.errors import GolfError
from golf.io import load_json_file, sha256_file
from golf.progress import progress_bar

SHARD_NAME = re.compile(r"fineweb_(train|val|val_bytes)_(\d+)\.bin$")


def find_shards(directory: Path) -> list[Path]:
    """Shards in `directory`, or in directory/datasets/* when it is a data root."""
    shards = sorted(directory.glob("*.bin"))
    if not shards:
        shards = sorted(directory.glob("datasets/*/*.bin"))
    return shards


def find_tokenizer(directory: Path, shards: list[Path]) -> Path | None:
    """The tokenizer model a manifest names for this dataset, else the one model in a tokenizers/ folder."""
    dataset_dir = shards[0].parent
    for root in (directory, dataset_dir.parent.parent, directory.parent):
        manifest = root / "manifest.json"
        model = _tokenizer_from_manifest(manifest, dataset_dir.name) if manifest.is_file() else None
        if model is not None and (root / model).is_file():
            return root / model
    for folder in (directory / "tokenizers", dataset_dir.parent.parent / "tokenizers"):
        models = sorted(folder.glob("*.model")) if folder.is_dir() else []
        match = re.search(r"sp(\d+)", dataset_dir.name)
        if match and len(models) > 1:
            models = [m for m in models if f"_{match.group(1)}_" in m.name]
        if len(models) == 1:
            return models[0]
    return None


def _tokenizer_from_manifest(path: Path, dataset: str) -> str | None:
    try:
        manifest = load_json_file(path)
        entry = next(d for d in manifest["datasets"] if d.get("name") == dataset)
        tokenizer = next(t for t in manifest["tokenizers"] if t.get("name") == entry.get("tokenizer_name"))
        return tokenizer.get("model_path")
    except (OSError, ValueError, KeyError, TypeError, StopIteration, AttributeError):
        return None


def dataset_info(directory: Path, tokenizer: Path | None = None, *, hash_files: bool = True) -> dict:
    """A JSON-ready description of the shards under `directory` (all validated)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise GolfError(f"{directory}: not a directory" if directory.exists() else f"{directory}: no such directory")
    shards = find_shards(directory)
    if not shards:
        raise GolfError(f"{directory}: no shard files (*.bin) here or in {directory / 'datasets'}/*")
    rows = []
    max_id = -1
    with progress_bar("reading shards", total=len(shards)) as bar:
        for path in shards:
            tokens = read_shard(path)
            match = SHARD_NAME.search(path.name)
            if tokens.size and not (match and match.group(1) == "val_bytes"):
                max_id = max(max_id, int(np.max(tokens)))
            rows.append({
                "path": str(path), "dataset": path.parent.name,
                "split": match.group(1) if match else "other", "tokens": int(tokens.size),
                "bytes": path.stat().st_size, "sha256": sha256_file(path) if hash_files else None,
            })
            bar.advance(1)
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["split"]] = totals.get(row["split"], 0) + row["tokens"]
    tokenizer = Path(tokenizer) if tokenizer else find_tokenizer(directory, shards)
    vocab = None
    if tokenizer is not None:
        from golf.data.bytecount import load_processor

        sp = load_processor(tokenizer)
        vocab = {"tokenizer": str(tokenizer), "size": sp.get_piece_size(), "bos_id": sp.bos_id()}
    problems = []
    if vocab and max_id >= vocab["size"]:
        problems.append(f"token id {max_id} is outside the tokenizer's vocabulary of {vocab['size']}")
    return {
        "directory": str(directory), "shards": rows, "tokens_by_split": totals,
        "tokens_total": sum(row["tokens"] for row in rows), "max_token_id": max_id,
        "vocabulary": vocab, "problems": problems,
    }

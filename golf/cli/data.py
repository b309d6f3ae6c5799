"""`golf data fetch|build|smoke|info`: get, make and inspect token shards and tokenizers."""

from __future__ import annotations

import argparse

from golf.cli import options
from golf.cli.types import whole_number, positive_int
from pathlib import Path

BUILD_EPILOG = """\
documents:
  --text FILE     each file is one document; with --doc-separator SEP, each piece of the
                  file between separators is one (e.g. --doc-separator '\\n\\n\\n';
                  the escapes \\n and \\t stand for a newline and a tab).
  --jsonl FILE    one document per line: a JSON object with a string "text" field
                  (the format of the challenge's docs_selected.jsonl).
  Documents are taken in the order given; NUL becomes a space, surrounding whitespace is
  stripped, empty documents are dropped. The first --val-docs documents are the validation
  split, the rest the train split; each document is written as [BOS] + tokens.
output:
  OUT/datasets/<name>_sp<V>/fineweb_{val,train}_<i:06d>.bin, OUT/tokenizers/<name>_<V>_bpe.model
  (+ .vocab), OUT/manifest.json (stats and the sha256 of every file). The same input gives
  byte-identical output.
"""


def register(subparsers) -> None:
    group = subparsers.add_parser(
        "data", help="fetch, build, materialise and inspect token shards",
        description="Token shards and tokenizers: fetch the challenge's data, build your own, "
                    "materialise the bundled smoke set, inspect a dataset.")
    group.set_defaults(group_parser=group)
    commands = group.add_subparsers(dest="data_command", metavar="<subcommand>")

    fetch = commands.add_parser(
        "fetch", help="download the challenge's shards and tokenizer from the Hugging Face hub",
        description="Download the manifest, all validation shards, the first N train shards and the "
                    "tokenizer of a variant (spec 2.1). Repo and prefix come from MATCHED_FINEWEB_REPO_ID "
                    "(default willdepueoai/parameter-golf) and MATCHED_FINEWEB_REMOTE_ROOT_PREFIX (default "
                    "datasets). Complete files are verified and skipped, so an interrupted fetch resumes. "
                    "Needs huggingface_hub: pip install 'golf[fineweb]'.")
    fetch.add_argument("--variant", default="sp1024", help="sp<digits> or byte260 (default: sp1024)")
    fetch.add_argument("--train-shards", type=whole_number, default=80, help="number of train shards to fetch (default: 80)")
    fetch.add_argument("--out", type=Path, default=Path("data"), help="local data directory (default: ./data)")
    fetch.add_argument("--with-docs", action="store_true",
                       help="also fetch docs_selected.jsonl and its source manifest")
    fetch.add_argument("--skip-manifest", action="store_true",
                       help="use the manifest already in --out instead of downloading it")
    fetch.add_argument("--mirror", type=Path, metavar="DIR",
                       help="read from a local directory laid out like the hub repo instead of the hub")
    options.add_format(fetch, "data-fetch")
    fetch.set_defaults(handler=run_fetch)

    build = commands.add_parser(
        "build", help="train a tokenizer on your text and write shards",
        description="Train a SentencePiece BPE tokenizer with the challenge's settings (spec 2.2) on "
                    "the given documents and export them as shards with a manifest.",
        epilog=BUILD_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("--text", type=Path, nargs="+", default=[], metavar="FILE", help="UTF-8 text files")
    build.add_argument("--jsonl", type=Path, nargs="+", default=[], metavar="FILE",
                       help="JSON-lines files with a \"text\" field")
    build.add_argument("--doc-separator", metavar="SEP",
                       help="split each --text file into documents at SEP (default: one document per file)")
    build.add_argument("--vocab-size", type=positive_int, required=True, help="tokenizer vocabulary size (e.g. 1024)")
    build.add_argument("--val-docs", type=positive_int, required=True, help="number of leading documents for validation")
    build.add_argument("--out", type=Path, required=True, help="output directory")
    build.add_argument("--name", default="custom", help="dataset name prefix (default: custom)")
    build.add_argument("--force", action="store_true",
                       help="rebuild over an earlier build in --out (its manifest and tokenizer are kept as .bak)")
    build.add_argument("--shard-tokens", type=positive_int, default=100_000_000,
                       help="tokens per shard (default: 100,000,000)")
    options.add_format(build, "data-build")
    build.set_defaults(handler=run_build)

    smoke = commands.add_parser(
        "smoke", help="materialise the bundled smoke dataset (offline)",
        description="Write the smoke dataset shipped with golf (Project Gutenberg Shakespeare, vocabulary "
                    "1024) to ROOT/data/datasets/smoke_sp1024/ and ROOT/data/tokenizers/smoke_1024_bpe.model. "
                    "Files already correct are left alone; a changed file is replaced and kept as .bak.")
    smoke.add_argument("--root", type=Path, default=None, help="directory to write data/ under (default: cwd)")
    options.add_format(smoke, "data-smoke")
    smoke.set_defaults(handler=run_smoke)

    info = commands.add_parser(
        "info", help="show the shards, token counts and vocabulary of a dataset",
        description="List the shards of a dataset directory (or of every dataset under a data root): "
                    "split, tokens, sha256, totals and the vocabulary of its tokenizer.")
    info.add_argument("directory", type=Path, metavar="DIR", help="dataset directory or data root")
    info.add_argument("--tokenizer", type=Path, help="tokenizer model (default: found beside the data)")
    info.add_argument("--no-hash", action="store_true", help="skip the sha256 of each shard (faster)")
    options.add_format(info, "data-info")
    info.set_defaults(handler=run_info)


def run_fetch(args) -> int:
    from golf.render.formats import show
    from golf.data.fetch import fetch_dataset, mirror_downloader

    download = mirror_downloader(args.mirror) if args.mirror else None
    result = fetch_dataset(args.variant, args.train_shards, args.out, with_docs=args.with_docs,
                           skip_manifest=args.skip_manifest, download=download)
    show("data-fetch", args.format, {"out": str(result.out), "dataset": result.dataset,
                                     "files": [{"path": str(p), "status": s} for p, s in result.files]})
    return 0


def run_build(args) -> int:
    from golf.render.formats import show
    from golf.data.build import build_dataset, read_jsonl_documents, read_text_documents
    from golf.errors import GolfError
    from golf.io import sha256_file

    if not args.text and not args.jsonl:
        raise GolfError("golf data build needs documents: give --text FILE... or --jsonl FILE...")
    separator = args.doc_separator
    if separator is not None:
        separator = separator.replace("\\n", "\n").replace("\\t", "\t")
    docs, sources = [], []
    for path in args.text:
        docs += read_text_documents(path, separator)
        sources.append({"path": path.name, "kind": "text", "sha256": sha256_file(path)})
    for path in args.jsonl:
        docs += read_jsonl_documents(path)
        sources.append({"path": path.name, "kind": "jsonl", "sha256": sha256_file(path)})
    result = build_dataset(docs, args.vocab_size, args.val_docs, args.out, name=args.name,
                           shard_tokens=args.shard_tokens, sources=sources, force=args.force)
    summary = {"out": str(result.out), "dataset": str(result.dataset_dir), "tokenizer": str(result.model_path),
               "manifest": str(result.manifest_path), "vocab_size": result.vocab_size,
               "docs_val": result.docs_val, "docs_train": result.docs_train,
               "tokens_val": result.tokens_val, "tokens_train": result.tokens_train,
               "docs_in_both_splits": result.docs_in_both}
    if result.docs_in_both:
        import sys

        n = result.docs_in_both
        print(f"golf: warning: {n} train document{'s are' if n != 1 else ' is'} identical to a validation "
              "document: the score would reward memorising them; remove the duplicates from your text",
              file=sys.stderr)
    show("data-build", args.format, summary)
    return 0


def run_smoke(args) -> int:
    from golf.render.formats import show
    from golf.data.smoke import materialize_smoke

    result = materialize_smoke(args.root)
    show("data-smoke", args.format, {
        "data_path": str(result.data_path), "tokenizer_path": str(result.tokenizer_path),
        "vocab_size": result.vocab_size,
        "files": [{"path": str(f.path), "status": f.status, "backup": f.backup and str(f.backup), "tokens": f.tokens}
                  for f in result.files]})
    return 0
    from rich.console import Console

    console = Console(soft_wrap=True)
    for item in result.files:
        if item.status == "present":
            line = f"already present  {item.path}"
        elif item.status == "replaced":
            kept = f" (your copy kept as {item.backup})" if item.backup else ""
            line = f"replaced         {item.path}: it did not match the bundle{kept}"
        else:
            line = f"written          {item.path}"
        if item.tokens is not None:
            line += f"  [{item.tokens:,} tokens]"
        console.print(line, highlight=False)
    console.print(f"smoke dataset {result.data_path}, tokenizer {result.tokenizer_path} "
                  f"(vocabulary {result.vocab_size})", highlight=False)
    return 0


def run_info(args) -> int:
    from golf.render.formats import show
    from golf.data.info import dataset_info

    info = dataset_info(args.directory, args.tokenizer, hash_files=not args.no_hash)
    show("data-info", args.format, info)
    return 1 if info["problems"] else 0

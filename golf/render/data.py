"""Text output of `golf data` (fetch, build, smoke, info), `golf new` and `golf train`: each takes the
payload its command prints as JSON."""

from __future__ import annotations

from pathlib import Path


def _console():
    from rich.console import Console

    return Console(soft_wrap=True)


def fetch_text(payload: dict, **_options) -> None:
    console = _console()
    statuses = [f["status"] for f in payload["files"]]
    for f in payload["files"]:
        if f["status"] != "present":
            console.print(f"{f['status']}: {f['path']}", highlight=False)
    console.print(f"{payload['dataset']}: {len(statuses)} files in {payload['out']} "
                  f"({statuses.count('fetched')} fetched, {statuses.count('re-fetched')} re-fetched, "
                  f"{statuses.count('present')} already present)", highlight=False)


def build_text(summary: dict, **_options) -> None:
    console = _console()
    console.print(f"dataset   {summary['dataset']}", highlight=False)
    console.print(f"tokenizer {summary['tokenizer']} (vocabulary {summary['vocab_size']})", highlight=False)
    console.print(f"val       {summary['docs_val']:,} documents, {summary['tokens_val']:,} tokens", highlight=False)
    console.print(f"train     {summary['docs_train']:,} documents, {summary['tokens_train']:,} tokens",
                  highlight=False)
    console.print(f"manifest  {summary['manifest']}", highlight=False)


def smoke_text(payload: dict, **_options) -> None:
    console = _console()
    for item in payload["files"]:
        if item["status"] == "present":
            line = f"already present  {item['path']}"
        elif item["status"] == "replaced":
            kept = f" (your copy kept as {item['backup']})" if item["backup"] else ""
            line = f"replaced         {item['path']}: it did not match the bundle{kept}"
        else:
            line = f"written          {item['path']}"
        if item["tokens"] is not None:
            line += f"  [{item['tokens']:,} tokens]"
        console.print(line, highlight=False)
    console.print(f"smoke dataset {payload['data_path']}, tokenizer {payload['tokenizer_path']} "
                  f"(vocabulary {payload['vocab_size']})", highlight=False)


def info_text(info: dict, **_options) -> None:
    from rich.table import Table

    table = Table(title=f"shards in {info['directory']}")
    for column in ("shard", "split", "tokens", "sha256"):
        table.add_column(column, justify="right" if column == "tokens" else "left", no_wrap=True)
    for row in info["shards"]:
        digest = row["sha256"][:12] + "…" if row["sha256"] else "–"  # the full digest is in --json
        table.add_row(f"{row['dataset']}/{Path(row['path']).name}", row["split"], f"{row['tokens']:,}", digest)
    console = _console()
    console.print(table)
    splits = ", ".join(f"{split} {count:,}" for split, count in sorted(info["tokens_by_split"].items()))
    console.print(f"tokens: {info['tokens_total']:,} ({splits}); largest token id {info['max_token_id']}",
                  highlight=False)
    vocab = info["vocabulary"]
    if vocab:
        console.print(f"vocabulary: {vocab['size']} ({vocab['tokenizer']}, BOS id {vocab['bos_id']})",
                      highlight=False)
    else:
        console.print("vocabulary: unknown (no tokenizer found; pass --tokenizer)", highlight=False)
    for problem in info["problems"]:
        console.print(f"[red]problem:[/red] {problem}")


def new_text(payload: dict, **_options) -> str:
    settings = "" if payload["preset"] else " KEY=VALUE ..."
    return (f"created {payload['record']}/ (train_gpt.py, README.md, .gitignore)\n"
            f"next: golf train {payload['record']} --seeds 1337 42 2025 --nproc {payload['processes']}{settings}\n")


def train_text(payload: dict, **_options) -> str:
    if not payload["ok"]:
        return ""
    n = len(payload["seeds"])
    return (f"{n} seed{'s' if n != 1 else ''} filed; next: golf submit {payload['record']} "
            "--author NAME --github-id USER\n")


def preset_text(preset: dict, *, given=(), **_options) -> None:
    """On stderr: the settings `golf train` takes from the track's preset (those given on the command line win)."""
    import sys

    overridden = sorted(set(preset) & set(given))
    note = f"; given on the command line: {', '.join(overridden)}" if overridden else ""
    print(f"settings of the track's preset: {' '.join(f'{k}={v}' for k, v in preset.items())}{note}",
          file=sys.stderr)


__all__ = ["build_text", "fetch_text", "info_text", "new_text", "preset_text", "smoke_text", "train_text"]

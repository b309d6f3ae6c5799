"""G509-G511: where the runs' evidence and data came from: copied logs, data exports (spec 4.4)."""

from __future__ import annotations

import re

from golf.judge.facts import tokenizer_of, val_tokens_of
from golf.judge.findings import Hit, hit, rule


@rule("G509", "copied-log", "error", "A log copied from another record is not evidence of this record's run.")
def copied_log(ctx):
    """A log of this record is also in another record of the records tree.

    golf compares every log with the logs of the other records under the records root:
    byte-identical files, and runs that printed exactly the same numbers (every periodic
    validation line and every score line). A later record carrying an earlier record's log,
    under any author, shows no run of its own; the maintainers excluded duplicates.

    How to fix: ship the logs your own runs wrote.
    """
    for copy in ctx.copies:
        other = copy.other
        author = f" by {other.author}" if other.author else ""
        how = "byte-identical to" if copy.how == "bytes" else "the same numbers, line for line, as"
        yield hit("{log} is {how} {other_log} of {other_record}{author} ({other_date})", file=copy.log,
                  log=copy.log, how=how, other_log=other.log, other_record=other.record.name, author=author,
                  other_date=other.date or "undated")


_DOUBLED_RE = re.compile(r"datasets[/\\]+datasets")


def _export(ctx, run):
    tokenizer = tokenizer_of(run)
    return tokenizer, ctx.ruleset.data_exports.get(tokenizer or "")


def _shards(run) -> int | None:
    value = (run.config.get("train_shards") or "").strip()
    return int(value) if value.isdigit() else None


def _doubled(run, *, train_side: bool) -> list[str]:
    """Settings holding a doubled datasets/datasets path, on the training side (the train files, or a data
    folder both sides read) or on the validation side only (the validation shards' pattern)."""
    found = []
    for key, value in run.config.items():
        if _DOUBLED_RE.search(value or ""):
            validation = "val" in key.lower() or "fineweb_val" in (value or "").lower()
            if validation is not train_side:
                found.append(key)
    return sorted(found)


@rule("G510", "train-val-overlap", "error",
      "A run whose training data shows a re-export (more train shards than the canonical export, a doubled "
      "datasets/datasets path in the training data) trained on validation documents.")
def train_val_overlap(ctx):
    """The training side of the log's data fingerprint shows validation documents moved into the training data.

    The canonical export of each tokenizer has a known number of train shards (the ruleset's
    [data.tokenizers.*]). A local re-export that holds out fewer validation documents writes the rest
    into train: its logs show more train shards than the canonical export (#2127: `train_shards: 1499`)
    and, written inside the data folder, a doubled `datasets/datasets` path (spec 4.4). Only this
    train-side evidence counts: a run that evaluated a shorter validation set with the canonical train
    shards is G508's business (val-tokens-differ), not evidence of overlap. Tokenizers the ruleset
    does not list are judged by the doubled path alone.

    How to fix: train on the canonical export (train_shards as listed in the ruleset, no re-export).
    """
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None:
            continue
        tokenizer, export = _export(ctx, r.run)
        evidence = []
        shards = _shards(r.run)
        if export is not None and shards is not None and shards > export.train_shards:
            evidence.append(f"train_shards {shards:,}, but the canonical {tokenizer} export has "
                            f"{export.train_shards:,}")
        doubled = _doubled(r.run, train_side=True)
        if doubled:
            evidence.append(f"a doubled datasets/datasets path in the training data ({', '.join(doubled)}): "
                            "a local re-export")
        if evidence:
            yield Hit(f"{r.log}: {'; '.join(evidence)}: validation documents were likely trained on", r.log)


@rule("G511", "nonstandard-data-export", "warning",
      "Scores are comparable only on the canonical data export; a local re-export must be shown to match it.")
def nonstandard_data_export(ctx):
    """The log shows a data export other than the canonical one, without train-side evidence of overlap: a
    doubled `datasets/datasets` path on the validation side only (a local re-export of the validation
    shards), or more validation tokens than the canonical split has for the tokenizer (another validation set).

    A re-export's train side (more train shards, a doubled path in the training data) is G510; a
    shorter validation set is G508.

    How to fix: use the canonical export, or show the re-export is identical to it.
    """
    tolerance = ctx.ruleset.tolerances.val_tokens_relative
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None:
            continue
        notes = []
        doubled = _doubled(r.run, train_side=False)
        if doubled:
            notes.append(f"a doubled datasets/datasets path ({', '.join(doubled)})")
        tokenizer, export = _export(ctx, r.run)
        tokens = val_tokens_of(r.run)
        if export is not None and tokens is not None and all(tokens > c * (1 + tolerance) for c in export.val_tokens):
            notes.append(f"{tokens:,} validation tokens, more than the canonical {tokenizer} split's "
                         f"{', '.join(f'{c:,}' for c in export.val_tokens)}")
        if notes:
            yield Hit(f"{r.log}: {'; '.join(notes)}", r.log)

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


@rule("G510", "train-val-overlap", "error",
      "A run whose data export has more train shards or fewer validation tokens than the canonical one trained "
      "on validation documents.")
def train_val_overlap(ctx):
    """The log's data fingerprint shows validation documents moved into the training data.

    The canonical export of each tokenizer has a known number of train shards and a known
    validation token count (the ruleset's [data.tokenizers.*]). A run that reads more train
    shards than the export has, or evaluates fewer validation tokens than the full split,
    used a re-export whose train set holds validation documents (#2127: `train_shards: 1499`
    and 10,000 instead of 50,000 validation documents). Tokenizers the ruleset does not list
    are not judged.

    How to fix: train and evaluate on the canonical export (train_shards and val_tokens as
    listed in the ruleset).
    """
    tolerance = ctx.ruleset.tolerances.val_tokens_relative
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None:
            continue
        tokenizer, export = _export(ctx, r.run)
        if export is None:
            continue
        evidence = []
        shards = _shards(r.run)
        if shards is not None and shards > export.train_shards:
            evidence.append(f"train_shards {shards:,}, but the canonical {tokenizer} export has "
                            f"{export.train_shards:,}")
        tokens = val_tokens_of(r.run)
        if tokens is not None and all(tokens < c * (1 - tolerance) for c in export.val_tokens):
            evidence.append(f"{tokens:,} validation tokens, fewer than the full split's "
                            f"{', '.join(f'{c:,}' for c in export.val_tokens)}")
        if evidence:
            yield Hit(f"{r.log}: {'; '.join(evidence)}: validation documents were likely trained on", r.log)


@rule("G511", "nonstandard-data-export", "warning",
      "Scores are comparable only on the canonical data export; a local re-export must be shown to match it.")
def nonstandard_data_export(ctx):
    """The log shows a data export other than the canonical one, without proof of overlap.

    Signs: a doubled `datasets/datasets` path (a local re-export written inside the data
    folder, as in #2127), or more validation tokens than the canonical split has for the
    tokenizer (another validation set).

    How to fix: use the canonical export, or show the re-export is identical to it.
    """
    tolerance = ctx.ruleset.tolerances.val_tokens_relative
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None:
            continue
        notes = []
        doubled = sorted({k for k, v in r.run.config.items() if _DOUBLED_RE.search(v or "")})
        if doubled:
            notes.append(f"a doubled datasets/datasets path ({', '.join(doubled)})")
        tokenizer, export = _export(ctx, r.run)
        tokens = val_tokens_of(r.run)
        if export is not None and tokens is not None and all(tokens > c * (1 + tolerance) for c in export.val_tokens):
            notes.append(f"{tokens:,} validation tokens, more than the canonical {tokenizer} split's "
                         f"{', '.join(f'{c:,}' for c in export.val_tokens)}")
        if notes:
            yield Hit(f"{r.log}: {'; '.join(notes)}", r.log)

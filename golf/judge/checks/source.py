"""G4xx: the source each log embeds against the shipped script (spec 5.7)."""

from __future__ import annotations

from pathlib import Path

from golf.judge.facts import script_digests
from golf.judge.findings import Hit, rule


@rule("G401", "source-mismatch", "error",
      "The logs must come from the shipped script: the source a log embeds must be the script's exact text.")
def source_mismatch(ctx):
    """The source a log embeds is not the shipped script.

    Why: the logs must come from the shipped code, or the record cannot be reproduced.
    How to fix: ship the script that ran, or rerun with the shipped one.
    """
    digests = script_digests(ctx)
    if not digests:
        return
    shipped = ctx.static_runs if ctx.reruns is not None else []
    for r in [*shipped, *ctx.runs]:  # on a rerun, the shipped logs and the new ones
        if r.duplicate_of is not None:
            continue
        for source in r.sources:
            if source.sha256 not in digests:
                where = f" (line {source.first_line})" if source.first_line else ""
                size = f", {source.bytes:,} bytes" if source.bytes is not None else ""
                yield Hit(f"{r.log}: the embedded source{where} (sha256 {source.sha256[:12]}{size}) is not the "
                          f"shipped {ctx.script_name} (sha256 {ctx.script_sha256[:12]}, {ctx.script_size:,} bytes)",
                          r.log, source.first_line)


@rule("G402", "source-differs-between-logs", "warning",
      "Runs pooled into one claim should come from one script.")
def source_differs_between_logs(ctx):
    """The logs embed different sources.

    Why: pooled runs must come from the same code.
    How to fix: rerun every seed with one script.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for r in ctx.runs:
        if r.duplicate_of is not None or not r.counted:
            continue
        for source in r.sources:
            groups.setdefault((source.where, source.sha256), []).append(r.log)
    for where in ("log", "omitted"):
        variants = {sha: logs for (w, sha), logs in groups.items() if w == where}
        if len(variants) > 1:
            parts = [f"{sha[:12]} in {', '.join(sorted(set(logs)))}" for sha, logs in sorted(variants.items())]
            yield Hit(f"the logs embed {len(variants)} different sources: {'; '.join(parts)}")


@rule("G403", "source-not-embedded", "info",
      "A log without the script's source (a stdout capture) cannot show which code produced it.")
def source_not_embedded(ctx):
    """No log embeds its source, so the code that ran cannot be compared with the shipped script.

    Why: the baseline's logger embeds the source for exactly this check.
    How to fix: keep the source-logging of the baseline script.
    """
    for r in ctx.runs:
        if r.duplicate_of is None and r.run is not None and not r.sources:
            yield Hit(f"{r.log}: no embedded source, so the script that wrote it cannot be compared", r.log)


def _legality(ctx):
    """The legality findings of the record's script, read once per record for the three rules below."""
    from golf.judge.legality import SOURCE_LIMIT

    if ctx.script_text is None or ctx.script_name is None or len(ctx.script_text) > SOURCE_LIMIT:
        return []
    if ctx.legality is None:
        ctx.legality = _analysed(ctx, [log.path for log in ctx.record.logs])
    return ctx.legality


def _analysed(ctx, logs: list[str]):
    """golf.judge.legality.analyse, remembered (golf.cache) by every input it reads: the script, the logs
    (their flags decide what ran) and the folder's other Python files (wrappers' and exec'd code)."""
    from dataclasses import asdict

    from golf.cache import cached, digest
    from golf.judge.legality import analyse
    from golf.judge.legality.flow import Finding

    root = Path(ctx.root)
    parts = [ctx.script_name, ctx.script_sha256 or ""]
    parts += [f"{log.path}:{log.sha256}" for log in ctx.record.logs]
    for name in ctx.record.scripts or []:
        try:
            parts.append(f"{name}:{digest((root / name).read_bytes())}")
        except OSError:
            parts.append(f"{name}:unreadable")
    key = "\0".join(parts).encode("utf-8", "surrogateescape")
    rows = cached("legality", key, lambda: [asdict(f) for f in analyse(ctx.script_name, ctx.script_text, root, logs)])
    return [Finding(**{**row, "train_lines": tuple(row["train_lines"]), "score_lines": tuple(row["score_lines"])})
            for row in rows]


def _legality_hits(ctx, kinds: set[str]):
    for finding in _legality(ctx):
        if finding.kind in kinds:
            yield Hit(f"{finding.file}: {finding.message}", finding.file.removesuffix(" (unpacked)"),
                      None if finding.file.endswith("(unpacked)") else finding.line)


@rule("G404", "val-trained-before-scored", "error",
      "Validation tokens may be learnt from only after they are scored (score-first test-time training).")
def val_trained_before_scored(ctx):
    """An evaluation function trains on validation tokens before it adds them to the reported score.

    golf reads the code that runs (the script, a wrapper's decoded code, files it execs; never
    running any of it) and follows the data: the score sums are what the function returns or logs
    as the score (a training-loss monitor is not), and each gradient step is judged by the
    outermost loop that both scores and trains. Within one iteration the tokens must be scored
    before any step: a step first is SLOT-style optimisation against the targets it then scores;
    an inner loop that repeats the same tokens (`for epoch in range(ttt_epochs)` around
    score-then-train) scores them again after training on them, so only one pass may run.
    Paths the run disabled (the logged hyperparameters, log lines that never appear) are skipped.
    The finding names the function, the training and scoring lines, and why; a reviewer confirms.

    How to fix: score each chunk (under `torch.no_grad()`) and add it to the sums first, then
    train on it; never fit anything to a window's targets before scoring them; run one epoch.
    """
    yield from _legality_hits(ctx, {"update-before-score", "rescored-after-training", "trained-before-scored"})


@rule("G405", "val-trained-before-evaluation", "error",
      "Training on validation data outside a score-first loop (pre-quantization TTT) leaks it into the score.")
def val_trained_before_evaluation(ctx):
    """A function takes gradient steps on validation data outside any score-first loop.

    golf follows a training function to its call sites: called inside a scoring loop after that
    iteration's score (phased global SGD on the scored prefix), it trains on scored tokens; called
    on validation data from anywhere else (after training and before quantization, or on the
    dequantized model before the final evaluation), the model learns the validation tokens before
    they are scored. The maintainers excluded such records (pre-quantization TTT,
    multi-epoch full-validation TTT). Disabled paths (the logged flags) are skipped.

    How to fix: remove the adaptation on validation data, or make it score-first test-time
    training inside the evaluation loop.
    """
    yield from _legality_hits(ctx, {"trained-before-evaluation"})


@rule("G406", "legality-not-followed", "warning",
      "Where golf cannot follow the code that runs, the score-first question is open: a reviewer reads it.")
def legality_not_followed(ctx):
    """golf could not follow part of the code that runs, so its legality is not judged there.

    Examples: a script neither golf's Python nor libcst can parse, a wrapper whose literal golf
    cannot decode, `exec` of code built at run time, a training function passed as a value, a
    score-then-train loop over the same tokens whose repeat count is neither logged nor in the code.

    How to fix: ship the readable script (golf packs it for the size), log the hyperparameters.
    """
    yield from _legality_hits(ctx, {"unfollowed"})

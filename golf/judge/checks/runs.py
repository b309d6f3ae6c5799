"""G5xx: run identity: duplicated logs, seeds, world size, hardware (spec 5.3)."""

from __future__ import annotations


from golf.judge.findings import Hit, rule
from golf.judge.facts import tokenizer_of, tokenizers_of, val_tokens_by_tokenizer, val_tokens_of

_SOURCE_NAMES = {"log": "the log", "filename": "the file name", "json": "submission.json", "rerun": "the rerun"}


@rule("G501", "duplicate-log", "warning", "A byte-identical copy of a log is one run, not two.")
def duplicate_log(ctx):
    """Two logs are byte-identical copies; the run is counted once.

    Why: a copied log is one run, not two.
    How to fix: remove the copy, or ship the other run's real log.
    """
    for r in ctx.runs:
        if r.duplicate_of is not None:
            yield Hit(f"{r.log} is a byte-identical copy of {r.duplicate_of}; counted once", r.log)


@rule("G513", "not-a-run", "info",
      "Logs that are not runs of the record (autosaves, eval-only re-scorings, diagnostics, other declared groups) "
      "are listed, never averaged.")
def not_a_run(ctx):
    """A log in the folder is not one of the record's runs, so it is left out of the mean, the seeds and the
    time checks: a copy in a hidden or checkpoint folder (`.ipynb_checkpoints/train-checkpoint.log`), a
    re-scoring of a saved model (`TTT_EVAL_ONLY=1`, "skipping training", a loaded checkpoint and no
    training), a run whose settings call it diagnostic or ablation, a log outside the logs or seeds
    submission.json lists, or a group of runs submission.json declares beside the claimed one.

    Why: the claim is the mean of the record's runs; pooling other logs into it misjudges the record.
    How to fix: nothing, if the reason is right; otherwise list the log in submission.json (or rename the setting).
    """
    for r in ctx.set_aside:
        yield Hit(f"{r.log}: not counted as a run: {r.set_aside}", r.log)
    for group in ctx.groups:
        mean = f", mean val_bpb {group.mean:.5f}" if group.mean is not None else ""
        role = "judged as the record's runs" if group.claimed else "listed, not averaged with the claimed group"
        yield Hit(f"submission.json declares group {group.name!r} ({', '.join(group.logs)}{mean}): {role}")


@rule("G502", "seed-mismatch", "error", "The seed of a run must be the same wherever it is stated.")
def seed_mismatch(ctx):
    """A run's seed differs between the log, its file name and submission.json, or a claimed seed has no log.

    Why: seeds identify runs; disagreement means a log or a claim is not what it says.
    How to fix: make the file names and submission.json say the seed the log ran.
    """
    ran = [r.seed for r in ctx.runs if r.duplicate_of is None and r.seed is not None]
    for r in ctx.runs:
        if r.duplicate_of is not None:
            continue
        values = set(r.seed_sources.values())
        if len(values) > 1:
            said = ", ".join(f"{_SOURCE_NAMES.get(k, k)} says {v}" for k, v in r.seed_sources.items())
            # Only a label is off when the log's own seed is known and no other run ran it.
            label_only = r.seed_sources.get("log") == r.seed and r.seed is not None and ran.count(r.seed) == 1
            yield Hit(f"{r.log}: {said}", r.log, paperwork="seed-label" if label_only else None)


@rule("G211", "seeds-claim-mismatch", "error",
      "The seeds submission.json lists must be the seeds its scored logs ran.", group="claim")
def seeds_claim_mismatch(ctx):
    """submission.json's `seeds` must name only seeds that a scored log ran.

    A listed seed with no log behind it is a run nobody can check. Fix: list the seeds of the
    logs in the folder (`golf submit` writes them from the logs), or add the missing log.
    """
    submission = ctx.submission
    if submission is None or not submission.seeds:
        return
    ran = {r.seed for r in ctx.logged_counted if r.seed is not None}
    stated = set()
    for r in ctx.logged_counted:
        stated.update(r.seed_sources.values())
    claimed = set(submission.seeds)
    missing = sorted(s for s in claimed if s not in stated)
    if missing:
        yield Hit(f"{submission.path} lists seeds {sorted(claimed)} but no scored log ran "
                  f"{', '.join(map(str, missing))} (the logs ran {sorted(ran)})", submission.path)


@rule("G503", "seeds-not-distinct", "error",
      "Runs pooled for a significance test must use different seeds, or they are not independent.")
def seeds_not_distinct(ctx):
    """Pooled runs of a record share a seed, or several runs state no seed.

    Why: runs with the same seed are not independent samples for a t test. A single run
    without a stated seed is not reported (it clashes with nothing).
    How to fix: run distinct seeds and let the logs print them.
    """
    if not ctx.is_record_track:
        return
    by_seed: dict[int, list[str]] = {}
    for r in ctx.counted:
        if r.seed is not None:
            by_seed.setdefault(r.seed, []).append(r.log)
    for seed, logs in sorted(by_seed.items()):
        if len(logs) > 1:
            yield Hit(f"{len(logs)} runs used seed {seed}: {', '.join(logs)}")
    unknown = [r.log for r in ctx.counted if r.seed is None]
    if unknown and len(ctx.counted) > 1:  # one run is distinct from nothing
        yield Hit(f"no seed stated for {', '.join(unknown)}: distinct seeds cannot be confirmed")


@rule("G504", "nonstandard-world-size", "warning",
      "A record track's time budget is defined for its standard number of processes.")
def nonstandard_world_size(ctx):
    """A run used another number of processes than the track's.

    Why: the time budget is defined for the track's hardware (8 GPUs).
    How to fix: rerun with torchrun --nproc_per_node set to the track's processes.
    """
    if not ctx.is_record_track:
        return
    for r in ctx.runs:
        if r.duplicate_of is None and r.run is not None and r.run.world_size is not None \
                and r.run.world_size != ctx.track.processes:
            yield Hit(f"{r.log}: world_size {r.run.world_size}, but the track runs {ctx.track.processes} "
                      f"processes ({ctx.track.hardware})", r.log)


@rule("G505", "nonstandard-wallclock", "warning",
      "A run whose wallclock cap was raised or disabled and that trained past the limit ignored the time budget.")
def nonstandard_wallclock(ctx):
    """A run raised or disabled the wallclock cap and trained past the limit.

    Why: the training budget is 10 minutes.
    How to fix: keep MAX_WALLCLOCK_SECONDS at the track's limit.
    """
    limit = ctx.track.train_time_limit_ms if ctx.track is not None else None
    if limit is None:
        return
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None:
            continue
        raw = r.run.config.get("max_wallclock_seconds")
        try:
            seconds = float(raw) if raw is not None else None
        except ValueError:
            continue
        within = r.train_time_ms is not None and r.train_time_ms <= limit
        if seconds is not None and (seconds <= 0 or seconds * 1000 > limit) and not within:
            what = "disabled" if seconds <= 0 else f"{seconds:g} s"
            took = f"; it trained {r.train_time_ms:,.0f} ms" if r.train_time_ms is not None else ""
            yield Hit(f"{r.log}: max_wallclock_seconds {what}, above the track's {limit / 1000:g} s{took}", r.log)


@rule("G506", "nonstandard-hardware", "warning", "A record track's budget is defined on its reference hardware.")
def nonstandard_hardware(ctx):
    """A run's GPUs are not the track's reference hardware.

    Why: the time budget is defined on 8xH100 SXM.
    How to fix: rerun on the reference hardware, or submit to the non-record track.
    """
    pattern = ctx.track.hardware_pattern if ctx.is_record_track else None
    if not pattern:
        return
    for r in ctx.runs:
        if r.duplicate_of is not None or r.run is None or not r.run.gpus:
            continue
        others = sorted({g for g in r.run.gpus if pattern.lower() not in g.lower()})
        if others:
            yield Hit(f"{r.log}: ran on {', '.join(others)}, not the track's {ctx.track.hardware}", r.log)
        elif len(r.run.gpus) < ctx.track.processes:
            yield Hit(f"{r.log}: lists {len(r.run.gpus)} GPU(s); the track runs on {ctx.track.hardware}", r.log)


@rule("G507", "tokenizer-changed", "warning",
      "A record that changes the tokenizer or dataset must prove its val_bpb byte accounting (extra scrutiny).")
def tokenizer_changed(ctx):
    """The runs use another tokenizer or dataset than the SOTA record.

    Why: bits per byte across tokenizers are only comparable when the byte counting is right;
    such records get extra scrutiny.
    How to fix: show the val_bpb computation is correct (byte counts re-derived, full validation split).
    """
    if not ctx.is_record_track or ctx.sota is None or not ctx.sota.tokenizers:
        return
    mine = tokenizers_of(ctx.counted)
    new = sorted(mine - ctx.sota.tokenizers)
    if new:
        yield Hit(f"the runs use tokenizer/dataset {', '.join(new)}; the SOTA record used "
                  f"{', '.join(sorted(ctx.sota.tokenizers))}: the val_bpb computation must be shown correct "
                  "for the new tokenizer (byte counts re-derived, full validation split)")


def _differ(a: int, b: int, tolerance: float) -> bool:
    return abs(a - b) > tolerance * max(a, b)


@rule("G508", "val-tokens-differ", "warning",
      "Scores are comparable only on the full, same validation split (e.g. 50k documents, not 10k).")
def val_tokens_differ(ctx):
    """The runs evaluated different validation sets (token counts differ beyond the ruleset's tolerance),
    or fewer validation tokens than the canonical split of their tokenizer (a truncated validation set,
    e.g. 262,144 tokens; the ruleset's [data.tokenizers.*] val_tokens).

    Why: scores are comparable only on the same, full validation split.
    How to fix: evaluate every run on the full validation split.
    """
    tolerance = ctx.ruleset.tolerances.val_tokens_relative
    for r in ctx.counted:
        tokenizer, tokens = tokenizer_of(r.run), val_tokens_of(r.run)
        export = ctx.ruleset.data_exports.get(tokenizer or "")
        if export is not None and tokens is not None and all(tokens < c * (1 - tolerance) for c in export.val_tokens):
            yield Hit(f"{r.log}: evaluated {tokens:,} validation tokens, fewer than the full {tokenizer} split's "
                      f"{', '.join(f'{c:,}' for c in export.val_tokens)}: a truncated validation set", r.log)
    mine = val_tokens_by_tokenizer(ctx.counted)
    for tokenizer, counts in sorted(mine.items()):
        low, high = min(counts), max(counts)
        if _differ(low, high, tolerance):
            yield Hit(f"the runs evaluated different validation sets ({tokenizer}): {low:,} to {high:,} tokens")
    if ctx.sota is None:
        return
    for tokenizer, counts in sorted(mine.items()):
        theirs = ctx.sota.val_tokens.get(tokenizer)
        if theirs and all(_differ(a, b, tolerance) for a in counts for b in theirs):
            yield Hit(f"the runs evaluated {', '.join(f'{c:,}' for c in sorted(counts))} validation tokens "
                      f"({tokenizer}); the SOTA record evaluated {', '.join(f'{c:,}' for c in sorted(theirs))}")

"""G4xx: the source each log embeds against the shipped script (spec 5.7)."""

from __future__ import annotations

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


@rule("G404", "val-trained-before-scored", "error",
      "Validation tokens may be learnt from only after they are scored (score-first test-time training).")
def val_trained_before_scored(ctx):
    """The shipped script updates the model on validation data before scoring it.

    golf reads the script's syntax tree (`ast`; nothing runs) and checks every loop over
    validation data, and every loop of a test-time-training function: a gradient step
    (`.backward()`, `autograd.grad`, an optimizer's `.step()`) must come after the tokens
    are scored (accumulated into the loss/bits totals, or evaluated under `no_grad`). A loop
    that takes gradient steps on validation data and scores nothing is pre-scoring training
    on validation data (pre-quantization TTT). The maintainers excluded records for both.
    This is a reading of the code, not a proof: the finding names the lines to review.

    How to fix: score each chunk under `torch.no_grad()` first, then train on it; never
    train on validation tokens before the evaluation that scores them.
    """
    from golf.cache import cached

    if ctx.script_text is None or ctx.script_name is None or len(ctx.script_text) > 4_000_000:
        return
    text = ctx.script_text

    def reading() -> list[dict]:
        from dataclasses import asdict

        from golf.judge.legality import check_source

        return [asdict(problem) for problem in check_source(text)]

    for problem in cached("legality", text.encode("utf-8", "surrogatepass"), reading):
        yield Hit(f"{ctx.script_name}: {problem['detail']}", ctx.script_name, problem["line"])

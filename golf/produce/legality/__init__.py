"""Legality by running it (`golf legality`): the prefix-invariance test of a record's evaluation.

A legal evaluation scores every validation token before anything learns from it, and a causal
model's loss on a token depends only on the tokens before it. So the record's own script is run
twice at a tiny shape on the CPU (run.py, worker.py, standins.py), with validation streams that
differ only from position P on; every loss computation is recorded per token in the child
(capture.py), and every score of a target before P must be the same in both runs (compare.py).
"""

# The static reading's findings (golf.judge.checks.source): trained before scored, trained before the
# evaluation, and code it could not follow. The dynamic result stands beside them in `golf verify --legality`.
STATIC_CODES = ("G404", "G405", "G406")


def deciding(result, precedence: str) -> str:
    """Which legality reading counts: the dynamic verdict ("pass" or "leak") where the test ran and the
    ruleset's [legality] precedence is "dynamic", else "static" (the findings of STATIC_CODES)."""
    return result.verdict if precedence == "dynamic" and result.verdict in ("pass", "leak") else "static"

"""Evaluation phases a log times outside its score lines (spec 5.8).

Scripts time their scoring evaluations on the score lines (`eval_time:<ms>ms`) and,
in new logs, as `total_eval_time:<s>s`. Phases that adapt the model on validation data
before scoring (pre-quantization test-time training, `prequant_ttt` epochs) print their
own progress lines, e.g. `prequant_ttt:epoch 3/8 loss:2.71 elapsed:196.2s`, and are missing
from both. This module reads those lines: for each phase (the label before the first ':'
or space) whose name matches one of the given globs, the largest `elapsed`/`time`/
`total_time` figure (they are cumulative) is the phase's duration.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

_TIME_RE = re.compile(r"\b(?:elapsed|total_time|time)\s*[:=]\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\b")
_LABEL_RE = re.compile(r"^(?:[0-9.]+\s+)?([A-Za-z][\w.\-]*)")
MAX_LINE = 4096


def phase_times(path: Path, globs: list[str]) -> dict[str, float]:
    """Milliseconds per matching phase, from a log file; empty when it cannot be read."""
    found: dict[str, float] = {}
    if not globs:
        return found
    try:
        with open(path, "rb") as handle:
            for raw in handle:
                line = raw[:MAX_LINE].decode("utf-8", "replace").strip()
                match = _LABEL_RE.match(line)
                if match is None:
                    continue
                label = match.group(1).split(":", 1)[0]
                if not any(fnmatchcase(label, g) for g in globs):
                    continue
                timing = _TIME_RE.search(line)
                if timing is None:
                    continue
                ms = float(timing.group(1)) * (1 if timing.group(2) == "ms" else 1000)
                found[label] = max(found.get(label, 0.0), ms)
    except OSError:
        return {}
    return found


__all__ = ["phase_times"]

"""Training curves from a log: train_loss and val_bpb against the step, for pictures (the verify report).

The step lines of the challenge's trainers (`step:40/120 train_loss:4.3886 ...` and
`step:120/120 val_loss:4.5633 val_bpb:2.7198 ...`). Only numerals match, so the f-string templates
inside an embedded source never do. When a log holds several runs (the step count falls back), the
curves are those of the last one. Long curves are thinned to at most MAX_POINTS points.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

MAX_POINTS = 120
MAX_LINE = 4096

_TRAIN = re.compile(r"(?:^|\s)step:(\d+)/\d+ train_loss:(\d+(?:\.\d+)?)\b")
_VAL = re.compile(r"(?:^|\s)step:(\d+)/\d+ val_loss:\d+(?:\.\d+)? val_bpb:(\d+(?:\.\d+)?)\b")


@dataclass
class Curves:
    train_loss: list[tuple[int, float]] = field(default_factory=list)
    val_bpb: list[tuple[int, float]] = field(default_factory=list)


def read_curves(path: str | os.PathLike) -> Curves:
    """The curves of the last run in the log at `path` (empty when it cannot be read)."""
    curves = Curves()
    try:
        handle = open(path, "rb")
    except OSError:
        return curves
    with handle:
        for raw in handle:
            if b"step:" not in raw:
                continue
            line = raw[:MAX_LINE].decode("utf-8", "replace")
            if match := _TRAIN.search(line):
                step = int(match.group(1))
                if curves.train_loss and step < curves.train_loss[-1][0]:
                    curves = Curves()  # a new run starts
                curves.train_loss.append((step, float(match.group(2))))
            elif match := _VAL.search(line):
                curves.val_bpb.append((int(match.group(1)), float(match.group(2))))
    return Curves(thin(curves.train_loss), thin(curves.val_bpb))


def thin(points: list[tuple[int, float]], limit: int = MAX_POINTS) -> list[tuple[int, float]]:
    """At most `limit` points, evenly spread, the first and last always kept."""
    if len(points) <= limit:
        return points
    stride = (len(points) - 1) / (limit - 1)
    return [points[round(i * stride)] for i in range(limit)]


__all__ = ["Curves", "MAX_POINTS", "read_curves", "thin"]

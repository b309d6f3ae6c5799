"""Align the loss calls of the two runs and find the first one that saw the validation tail.

Run A scores the validation stream as it is, run B the same stream with every (ordinary) token
from position P on changed. The runs share code, paths, seeds and training data, so their calls
line up one to one. An element whose target, and the few targets before it, are the same in both
runs is a target before P (every changed token differs; the tokenizer's control tokens, kept in
place so document boundaries stay where they are, are left out); its loss must be the same in both
runs, to the tolerance. Where it is not, the tokens after P reached that loss.

The verdict: a leak when such a difference reaches a loss that counts as a score (computed without
grad, or computed with grad and accumulated without it, see capture.py) or when the runs stop making
the same calls; a pass otherwise.
Test-time training on tokens already scored changes later *training* losses of the chunk that
holds P, which is legal and not a leak. The first differing call, grad or not, is named as the
place the tail got in; its phase is read from where it sits against the training loop and the
final evaluation (see `phase_of`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PHASE_TRAINING = "training"
PHASE_BEFORE = "before the score"
PHASE_DURING = "during the score"


@dataclass
class Call:
    file: str
    line: int
    chain: tuple[tuple[str, int], ...]
    grad: bool
    kind: str
    losses: np.ndarray
    targets: np.ndarray
    ignored: np.ndarray
    scored: np.ndarray | None = None   # bool [n]: elements golf saw added to other tensors without grad

    def counting(self) -> np.ndarray:
        """The elements that are scores: those added to the score's sums without grad when golf saw any
        (a window scores only its new targets); else all of a call without grad, none of a call with it."""
        if self.scored is not None and self.scored.any():
            return self.scored
        return np.full(self.losses.shape[0], not self.grad)

    @property
    def counts(self) -> bool:
        return bool(self.counting().any())

    @property
    def function(self) -> str:
        return self.chain[-1][0] if self.chain else ""

    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Difference:
    index: int           # position of the call in the run
    call: Call
    elements: int        # elements before P whose loss differs
    compared: int        # elements before P in the call
    largest: float | None  # the largest finite absolute difference
    changed: int = 0       # elements of the call whose target is after P (0: the call saw only earlier targets)
    scores: int = 0        # differing elements that are scores (see Call.counting)

    @property
    def counts(self) -> bool:
        return self.scores > 0


@dataclass
class Comparison:
    calls: int
    compared_elements: int
    differences: list[Difference] = field(default_factory=list)
    diverged_at: int | None = None        # first call index where the runs made different calls
    divergence: str | None = None
    train_chain: tuple | None = None
    score_chain: tuple | None = None

    @property
    def leak(self) -> bool:
        return self.diverged_at is not None or any(d.counts for d in self.differences)


def load_calls(out_dir: Path) -> list[Call]:
    """The calls a worker wrote (JSON and a pickle-free npz: the worker ran untrusted code)."""
    meta = json.loads((out_dir / "calls.json").read_text())
    with np.load(out_dir / "calls.npz", allow_pickle=False) as arrays:
        return [Call(m["file"], int(m["line"]), tuple((str(f), int(n)) for f, n in m["chain"]), bool(m["grad"]),
                     m["kind"], arrays[f"l{i}"], arrays[f"t{i}"], arrays[f"i{i}"],
                     arrays[f"s{i}"] if f"s{i}" in arrays else None)
                for i, m in enumerate(meta)]


CONTEXT = 8  # an element is compared when its target and the CONTEXT targets before it agree


def _same_targets(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.ndim == 1:
        return a == b
    return np.all(a == b, axis=tuple(range(1, a.ndim)))


def _settled(same: np.ndarray) -> np.ndarray:
    """Elements whose target and the CONTEXT targets before it (in the call) agree between the runs: a
    target that agrees only by chance (a kept control token after P, data the runs drew differently)
    is not a target before P."""
    index = np.arange(same.size)
    last_differing = np.maximum.accumulate(np.where(same, -(CONTEXT + 1), index)) if same.size else index
    return same & (index - last_differing > CONTEXT)


def compare_runs(a: list[Call], b: list[Call], *, tolerance: float, special_ids=()) -> Comparison:
    result = Comparison(calls=min(len(a), len(b)), compared_elements=0)
    special = np.asarray(sorted(special_ids), dtype=np.int64)
    for index, (x, y) in enumerate(zip(a, b)):
        if (x.file, x.line, x.kind) != (y.file, y.line, y.kind) or x.losses.shape != y.losses.shape \
                or x.targets.shape != y.targets.shape:
            result.diverged_at = index
            result.divergence = (f"call {index + 1}: {x.where()} ({x.losses.size} losses) in the unchanged run, "
                                 f"{y.where()} ({y.losses.size} losses) in the changed one")
            break
        before = _settled(_same_targets(x.targets, y.targets)) & ~x.ignored & ~y.ignored
        if x.targets.ndim == 1 and special.size:
            before &= ~np.isin(x.targets, special)
        compared = int(before.sum())
        result.compared_elements += compared
        changed = int((~_same_targets(x.targets, y.targets)).sum())
        gap = np.abs(x.losses - y.losses)
        bad = before & ~(gap <= tolerance * (1.0 + np.abs(x.losses)))  # NaN in one run only counts too
        if bad.any():
            finite = gap[bad][np.isfinite(gap[bad])]
            largest = float(finite.max()) if finite.size else None  # None: NaN or infinity in one run
            scores = int((bad & x.counting() & y.counting()).sum())
            result.differences.append(Difference(index, x, int(bad.sum()), compared, largest, changed, scores))
    if result.diverged_at is None and len(a) != len(b):
        result.diverged_at = result.calls
        result.divergence = (f"the unchanged run computed {len(a)} losses, the changed one {len(b)}: "
                             f"the script's control flow depends on the tokens after P")
    result.train_chain = next((c.chain for c in a if c.grad), None)
    result.score_chain = next((c.chain for c in reversed(a) if c.counts), None)
    return result


def _common(x: tuple, y: tuple) -> int:
    n = 0
    while n < min(len(x), len(y)) and x[n] == y[n]:
        n += 1
    return n


def phase_of(chain: tuple, train_chain: tuple | None, score_chain: tuple | None) -> str:
    """Training, before the score or during the score, from where the call's chain of record frames
    leaves the path the training loop and the final evaluation share: a call on the final evaluation's
    branch is during the score, one on the first training step's branch is training, any other (a
    pre-quantization adaptation, a cache built from the validation set) is before the score."""
    if score_chain and train_chain:
        k = _common(train_chain, score_chain)
        if chain[:k + 1] == score_chain[:k + 1]:
            return PHASE_DURING
        if chain[:k + 1] == train_chain[:k + 1]:
            return PHASE_TRAINING
        return PHASE_BEFORE
    if score_chain:
        return PHASE_DURING if chain[:1] == score_chain[:1] else PHASE_BEFORE
    return PHASE_TRAINING if train_chain and chain[:1] == train_chain[:1] else PHASE_BEFORE

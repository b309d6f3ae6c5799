"""The trusted evaluator: val_loss and val_bpb for any function from token ids to logits.

`logits_fn` maps a LongTensor [B, T] of input ids to logits [B, T, V]. Every target's
negative log-likelihood comes from float32 logits, and the sums are float64. Bytes
follow spec 1.9 (golf.data.bytecount), with the previous token of a target being the
input at the same position.

Two modes over the validation tokens (truncated as in spec 1.8, N = len(tokens) - 1
targets, target i = tokens[i + 1]):
- standard (spec 1.9): N / L non-overlapping sequences of length L, each scored in full;
- sliding window (stride S): see `plan_windows`; every target is scored once, each with
  the longest context its window allows.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from golf.errors import GolfError

# progress(done_units, total_units); called once with done=0 before the first batch.
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class EvalResult:
    val_loss: float
    val_bpb: float
    targets: int
    bytes: int
    mode: str            # "standard" or "sliding"
    stride: int | None
    seq_len: int
    eval_time_ms: float
    conventions: dict = field(default_factory=dict)  # name -> scores under another evaluator's windows

    @property
    def tokens(self) -> int:
        return self.targets

    def to_dict(self) -> dict:
        return {**self.__dict__, "conventions": dict(self.conventions)}


@dataclass(frozen=True)
class Window:
    """Inputs tokens[start:end], targets tokens[start+1:end+1]; scores targets [score_start, end)."""
    start: int
    end: int
    score_start: int


def plan_windows(num_targets: int, seq_len: int, stride: int) -> Iterator[Window]:
    """The sliding windows over `num_targets` targets (the trainer's definition, exactly).

    Windows start at 0, S, 2S, ... and end at min(start + L, N). Each scores the targets
    from the end of the previous window to its own end; the last is the first to reach N.
    """
    if seq_len <= 0:
        raise GolfError(f"sequence length must be positive, got {seq_len}")
    if not 0 < stride <= seq_len:
        raise GolfError(f"stride must satisfy 0 < stride <= seq_len ({seq_len}), got {stride}")
    if num_targets <= 0:
        return
    start, scored_end = 0, 0
    while True:
        end = min(start + seq_len, num_targets)
        yield Window(start, end, scored_end)
        if end == num_targets:
            return
        scored_end = end
        start += stride


def count_windows(num_targets: int, seq_len: int, stride: int) -> int:
    if num_targets <= seq_len:
        return 1 if num_targets > 0 else 0
    return math.ceil((num_targets - seq_len) / stride) + 1


class _Totals:
    def __init__(self):
        self.nll = 0.0       # python float is float64
        self.targets = 0
        self.bytes = 0

    def add(self, nll: np.ndarray, counted: np.ndarray, mask: np.ndarray) -> None:
        self.nll += float(nll[mask].sum())
        self.targets += int(mask.sum())
        self.bytes += int(counted[mask].sum())


def _score(logits_fn, x_np: np.ndarray, y_np: np.ndarray, tables, device) -> tuple[np.ndarray, np.ndarray]:
    """Per-target NLL (float64, from float32 logits) and byte counts for inputs x and targets y [B, T]."""
    import torch
    import torch.nn.functional as F

    from golf.data.bytecount import target_bytes

    x = torch.from_numpy(x_np.astype(np.int64)).to(device)
    y = torch.from_numpy(y_np.astype(np.int64)).to(device)
    logits = logits_fn(x)
    if logits.ndim != 3 or tuple(logits.shape[:2]) != tuple(x.shape):
        raise GolfError(f"the logits function returned shape {tuple(logits.shape)} for inputs "
                        f"{tuple(x.shape)}; expected [B, T, V]")
    logits = logits.float()
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none")
    nll = nll.reshape(y.shape).double().cpu().numpy()
    return nll, target_bytes(tables, x_np, y_np).astype(np.int64)


def _result(totals: _Totals, mode: str, stride, seq_len: int, started: float, conventions=None) -> EvalResult:
    if totals.targets == 0 or totals.bytes <= 0:
        raise GolfError(f"nothing to score: {totals.targets} targets, {totals.bytes} bytes")
    val_loss, val_bpb = _scores(totals)
    return EvalResult(val_loss, val_bpb, totals.targets, totals.bytes, mode, stride, seq_len,
                      (time.perf_counter() - started) * 1000.0, conventions or {})


def _scores(totals: _Totals) -> tuple[float, float]:
    val_loss = totals.nll / totals.targets
    return val_loss, val_loss / math.log(2.0) * (totals.targets / totals.bytes)


def _check_tokens(tokens, seq_len: int) -> np.ndarray:
    tokens = np.asarray(tokens)
    if tokens.ndim != 1 or tokens.size < 2:
        raise GolfError(f"validation tokens must be a 1-D array of at least 2 tokens, got shape {tokens.shape}")
    if seq_len <= 0:
        raise GolfError(f"sequence length must be positive, got {seq_len}")
    return tokens


def evaluate_standard(logits_fn, tokens, tables, seq_len: int, batch_seqs: int, *, device="cpu",
                      progress: bool | ProgressFn = True) -> EvalResult:
    """Spec 1.9: the (len(tokens)-1)//seq_len non-overlapping sequences, `batch_seqs` at a time."""
    import torch

    tokens = _check_tokens(tokens, seq_len)
    total_seqs = (tokens.size - 1) // seq_len
    if total_seqs < 1:
        raise GolfError(f"{tokens.size} validation tokens are too few for one sequence of {seq_len}")
    batch_seqs = max(1, int(batch_seqs))
    totals, started = _Totals(), time.perf_counter()
    with _Progress(progress, "eval standard", total_seqs) as advance, torch.inference_mode():
        for first in range(0, total_seqs, batch_seqs):
            last = min(first + batch_seqs, total_seqs)
            chunk = tokens[first * seq_len: last * seq_len + 1]
            x = chunk[:-1].reshape(-1, seq_len)
            y = chunk[1:].reshape(-1, seq_len)
            nll, counted = _score(logits_fn, x, y, tables, device)
            totals.add(nll, counted, np.ones(nll.shape, dtype=bool))
            advance(last - first)
    return _result(totals, "standard", None, seq_len, started)


def window_arrays(num_targets: int, seq_len: int, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """plan_windows as arrays: starts, ends and score starts."""
    count = count_windows(num_targets, seq_len, stride)
    starts = np.arange(count, dtype=np.int64) * stride
    ends = np.minimum(starts + seq_len, num_targets)
    score_starts = np.concatenate([[0], ends[:-1]]) if count else ends
    return starts, ends, score_starts


def _gather(tokens: np.ndarray, starts: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    index = starts[:, None] + np.arange(length)[None, :]
    return tokens[index], tokens[index + 1]


# The window conventions of other evaluators, as differences from golf's plan (where every target is
# scored once, with the longest context its window allows):
#   head_skipped: every window scores only its last `stride` targets, the first included, so the first
#                 L - S targets are never scored;
#   tail_twice:   one more full window ends at N and scores its last `stride` targets again (windows at
#                 0, S, ... up to N - L, plus a final one at N - L that repeats the last when S divides N - L).
CONVENTIONS = {"head_skipped": "the first L - S targets are not scored",
               "tail_twice": "the last window's S targets are scored twice"}


def evaluate_sliding(logits_fn, tokens, tables, seq_len: int, stride: int, batch_seqs: int, *,
                     device="cpu", progress: bool | ProgressFn = True) -> EvalResult:
    """Sliding-window scores: windows of `seq_len` every `stride` tokens, each target scored once.

    Also scores the known conventions of other evaluators (CONVENTIONS) from the same forward passes,
    plus one extra window for `tail_twice`.
    """
    import torch

    tokens = _check_tokens(tokens, seq_len)
    num_targets = tokens.size - 1
    if not 0 < stride <= seq_len:
        raise GolfError(f"stride must satisfy 0 < stride <= seq_len ({seq_len}), got {stride}")
    starts, ends, score_starts = window_arrays(num_targets, seq_len, stride)
    total = starts.size
    batch_seqs = max(1, int(batch_seqs))
    totals, head, tail = _Totals(), _Totals(), _Totals()
    started = time.perf_counter()
    positions = None
    with _Progress(progress, f"eval sliding stride {stride}", total) as advance, torch.inference_mode():
        full = int(np.count_nonzero(ends - starts == seq_len))
        groups = [(i, min(i + batch_seqs, full), seq_len) for i in range(0, full, batch_seqs)]
        groups += [(i, i + 1, int(ends[i] - starts[i])) for i in range(full, total)]  # a short last window
        for first, last, length in groups:
            x, y = _gather(tokens, starts[first:last], length)
            nll, counted = _score(logits_fn, x, y, tables, device)
            positions = np.arange(length)[None, :]
            totals.add(nll, counted, positions >= (score_starts[first:last] - starts[first:last])[:, None])
            if first == 0 and num_targets > seq_len:
                head_mask = np.zeros(nll.shape, dtype=bool)
                head_mask[0, : seq_len - stride] = True
                head.add(nll, counted, head_mask)
            advance(last - first)
        conventions = {}
        if num_targets > seq_len:
            x, y = _gather(tokens, np.array([num_targets - seq_len]), seq_len)
            nll, counted = _score(logits_fn, x, y, tables, device)
            tail.add(nll, counted, np.arange(seq_len)[None, :] >= seq_len - stride)
            conventions = {"head_skipped": _convention(totals, head, -1), "tail_twice": _convention(totals, tail, 1)}
    return _result(totals, "sliding", stride, seq_len, started, conventions)


def _convention(totals: _Totals, part: _Totals, sign: int) -> dict:
    changed = _Totals()
    changed.nll = totals.nll + sign * part.nll
    changed.targets = totals.targets + sign * part.targets
    changed.bytes = totals.bytes + sign * part.bytes
    val_loss, val_bpb = _scores(changed)
    return {"val_loss": val_loss, "val_bpb": val_bpb, "targets": changed.targets, "bytes": changed.bytes}


def evaluate(logits_fn, tokens, tables, seq_len: int, batch_seqs: int, stride: int | None = None, *,
             device="cpu", progress: bool | ProgressFn = True) -> EvalResult:
    """Standard scores when `stride` is None, else sliding-window scores with that stride."""
    if stride is None:
        return evaluate_standard(logits_fn, tokens, tables, seq_len, batch_seqs, device=device, progress=progress)
    return evaluate_sliding(logits_fn, tokens, tables, seq_len, stride, batch_seqs, device=device,
                            progress=progress)


class _Progress:
    """A golf progress bar, or a caller's callback (the eval worker reports to its parent so)."""

    def __init__(self, progress: bool | ProgressFn, description: str, total: int):
        self._progress, self._description, self._total = progress, description, total
        self._context = None

    def __enter__(self) -> Callable[[int], None]:
        if callable(self._progress):
            done = [0]
            report = self._progress
            report(0, self._total)

            def advance(n: int) -> None:
                done[0] += n
                report(done[0], self._total)
            return advance
        if not self._progress:
            return lambda n: None
        from golf.progress import progress_bar

        self._context = progress_bar(self._description, total=self._total)
        bar = self._context.__enter__()
        return bar.advance

    def __exit__(self, *exc):
        if self._context is not None:
            return self._context.__exit__(*exc)
        return False

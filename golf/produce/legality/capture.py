"""Inside the child process: record the per-token value of every loss the record's script computes.

A torch function mode sees every torch call the script makes. For each loss computation it keeps
the per-token losses (computed again with `reduction="none"` from the detached inputs, so a `mean`
or `sum` is recorded as the values it reduces), the targets, whether the call ran under grad, and
where in the record's code it was made (the innermost frame in the record's files, and the chain
of record frames that led there). The loss forms the challenge's scripts use:
- `F.cross_entropy` (also what `nn.CrossEntropyLoss` calls), `F.nll_loss`;
- `log_softmax(...)` followed by `.gather(-1, targets)` or `take_along_dim` (the value is -gathered).

A loss computed under grad may still be a score: per-document LoRA TTT computes the per-token loss
of a window with grad, adds the chunk's part of it to the score's sums under `no_grad`, then trains
on it. So every tensor computed from a loss carries which of the call's elements it holds, and the
elements written into another tensor (an in-place add, `acc[i] = ...`) while grad is off are marked
`scored` (see `_follow`).

The same mode moves every CUDA device argument to the CPU (see standins.py).
"""

from __future__ import annotations

import sys
import weakref
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

_CROSS_ENTROPY = {F.cross_entropy}
_NLL = {F.nll_loss}
_LOG_SOFTMAX = {F.log_softmax, torch.log_softmax, torch.Tensor.log_softmax, torch.nn.functional.log_softmax}
_GATHER = {torch.gather, torch.Tensor.gather, torch.take_along_dim, torch.Tensor.take_along_dim}
_WRITES = {"__iadd__", "__isub__", "__setitem__"}
_SHAPE_OPS = {"__getitem__", "reshape", "view", "flatten", "squeeze", "unsqueeze", "narrow", "select", "transpose",
              "permute", "t", "split", "chunk", "unbind", "movedim", "view_as", "reshape_as", "index_select",
              "masked_select", "take", "expand", "expand_as", "contiguous", "clone", "detach"}
_PRUNE_AT = 50_000


@dataclass
class LossCall:
    site: tuple[str, int]               # (file relative to the run folder, line)
    chain: tuple[tuple[str, int], ...]  # record frames from the outermost: (function, line)
    grad: bool
    kind: str                           # "cross_entropy", "nll_loss" or "log_softmax+gather"
    losses: np.ndarray                  # float64 [n]
    targets: np.ndarray                 # int64 [n], or float32 [n, C] for probability targets
    ignored: np.ndarray                 # bool [n]: ignore_index targets
    scored: np.ndarray | None = None    # bool [n]: elements accumulated into another tensor without grad


class LossRecorder(TorchFunctionMode):
    """Records loss computations made from the files under `root`; moves CUDA arguments to the CPU
    when `to_cpu`."""

    def __init__(self, root: str, to_cpu: bool = True):
        super().__init__()
        self.root = root.rstrip("/") + "/"
        self.to_cpu = to_cpu
        self.calls: list[LossCall] = []
        self._log_probs: dict[int, weakref.ref] = {}
        self._taint: dict[int, tuple[weakref.ref, dict]] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if self.to_cpu:
            from golf.produce.legality.standins import cpu_arguments

            moved = cpu_arguments(func, args, kwargs)
            if moved is None:
                return args[0]  # .cuda() / .pin_memory(): already where it belongs
            args, kwargs = moved
        recorded = self._record_loss(func, args, kwargs) if func in _CROSS_ENTROPY or func in _NLL else None
        out = func(*args, **kwargs)
        if self._taint:
            self._follow(func, args, kwargs, out)
        if func in _LOG_SOFTMAX and isinstance(out, torch.Tensor):
            self._log_probs[id(out)] = weakref.ref(out)
        elif func in _GATHER and isinstance(out, torch.Tensor):
            recorded = self._record_gather(args, kwargs, out)
        if recorded is not None and isinstance(out, torch.Tensor):
            n = self.calls[recorded].losses.shape[0]
            held = torch.arange(n).reshape(out.shape) if out.numel() == n else np.ones(n, dtype=bool)
            self._mark(out, {recorded: held})
        return out

    # -- which loss values reach a score -----------------------------------------------------------
    #
    # A tensor computed from a loss carries, per call, which of the call's elements it holds: a tensor
    # of positions shaped like it (through slicing, reshaping, dtype moves and same-shaped elementwise
    # ops), or a mask of the call's elements once values were combined (a sum). Written into another
    # tensor without grad (`acc += x`, `acc[i] = x`), those elements are marked scored.

    def _sources(self, values) -> list[tuple[torch.Tensor, dict]]:
        found = []
        for value in values:
            items = value if isinstance(value, (list, tuple)) else (value,)
            for item in items:
                if isinstance(item, torch.Tensor):
                    entry = self._taint.get(id(item))
                    if entry is not None and entry[0]() is item:
                        found.append((item, entry[1]))
        return found

    def _mark(self, out, taint: dict) -> None:
        if len(self._taint) > _PRUNE_AT:
            self._taint = {k: v for k, v in self._taint.items() if v[0]() is not None}
            self._log_probs = {k: v for k, v in self._log_probs.items() if v() is not None}
        if isinstance(out, torch.Tensor) and taint:
            self._taint[id(out)] = (weakref.ref(out), taint)

    def _mask(self, call: int, held) -> np.ndarray:
        if isinstance(held, np.ndarray):
            return held
        mask = np.zeros(self.calls[call].losses.shape[0], dtype=bool)
        mask[held.reshape(-1).numpy()] = True
        return mask

    def _follow(self, func, args, kwargs, out) -> None:
        name = getattr(func, "__name__", "")
        if name in _WRITES or (name.endswith("_") and not name.startswith("_")):
            if not torch.is_grad_enabled():
                for _, taint in self._sources([*args[1:], *kwargs.values()]):
                    for call, held in taint.items():
                        self.calls[call].scored |= self._mask(call, held)
            return
        sources = self._sources([*args, *kwargs.values()])
        if not sources:
            return
        if len(sources) == 1 and sources[0][0] is (args[0] if args else None):
            first, taint = sources[0]
            moved = self._moved_positions(func, name, first, taint, args, kwargs, out)
            if moved is not None:
                for tensor, held in moved:
                    self._mark(tensor, held)
                return
        combined: dict = {}
        for _, taint in sources:
            for call, held in taint.items():
                combined[call] = combined.get(call, False) | self._mask(call, held)
        for tensor in (out if isinstance(out, (list, tuple)) else (out,)):
            self._mark(tensor, dict(combined))

    def _moved_positions(self, func, name, first, taint, args, kwargs, out):
        """[(output tensor, taint)] when the op keeps track of which elements are where; else None."""
        outs = out if isinstance(out, (list, tuple)) else (out,)
        if not all(isinstance(t, torch.Tensor) for t in outs):
            return None
        result = []
        for index, tensor in enumerate(outs):
            held_out = {}
            for call, held in taint.items():
                if isinstance(held, np.ndarray):
                    held_out[call] = held
                elif name in _SHAPE_OPS:
                    try:
                        moved = func(held, *args[1:], **kwargs)
                    except Exception:  # noqa: BLE001 - an op positions cannot follow: fall back to a mask
                        return None
                    moved = moved[index] if isinstance(moved, (list, tuple)) else moved
                    if not isinstance(moved, torch.Tensor) or moved.shape != tensor.shape:
                        return None
                    held_out[call] = moved
                elif tensor.shape == first.shape:
                    held_out[call] = held  # a dtype move or an elementwise op: every element stays in place
                else:
                    return None
            result.append((tensor, held_out))
        return result

    # -- where -------------------------------------------------------------------------------------

    def _where(self) -> tuple[tuple[str, int], tuple[tuple[str, int], ...]] | None:
        frame = sys._getframe(2)
        frames = []
        while frame is not None:
            name = frame.f_code.co_filename
            if name.startswith(self.root):
                frames.append((name[len(self.root):], frame.f_code.co_name, frame.f_lineno))
            frame = frame.f_back
        if not frames:
            return None  # a loss computed by a library on its own (never the record's)
        file, _, line = frames[0]
        return (file, line), tuple((function, line) for _, function, line in reversed(frames))

    # -- the two loss forms ------------------------------------------------------------------------

    def _record_loss(self, func, args, kwargs) -> int | None:
        where = self._where()
        if where is None:
            return None
        names = ("input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction")
        bound = dict(zip(names, args))
        bound.update(kwargs)
        logits, target = bound["input"], bound["target"]
        extra = {k: bound[k] for k in ("weight", "ignore_index", "label_smoothing") if k in bound}
        with torch.no_grad(), torch.autocast("cpu", enabled=False):
            values = func(logits.detach().float(), target, reduction="none", **extra)
        ignore = bound.get("ignore_index", -100)
        if target.dtype.is_floating_point:  # class probabilities [N, C, ...]
            targets = target.detach().float().movedim(1, -1).reshape(-1, target.shape[1]).cpu().numpy()
            ignored = np.zeros(targets.shape[0], dtype=bool)
        else:
            targets = target.detach().reshape(-1).long().cpu().numpy()
            ignored = targets == ignore
        kind = "cross_entropy" if func in _CROSS_ENTROPY else "nll_loss"
        return self._add(where, kind, grad=torch.is_grad_enabled() and logits.requires_grad, values=values,
                  targets=targets, ignored=ignored)

    def _record_gather(self, args, kwargs, out) -> int | None:
        source = args[0] if args else kwargs.get("input")
        ref = self._log_probs.get(id(source)) if isinstance(source, torch.Tensor) else None
        if ref is None or ref() is not source:
            return None
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        if dim is None or dim not in (-1, source.ndim - 1):
            return None
        index = args[2] if len(args) > 2 else kwargs.get("index", kwargs.get("indices"))
        where = self._where()
        if where is None or not isinstance(index, torch.Tensor):
            return None
        targets = index.detach().reshape(-1).long().cpu().numpy()
        return self._add(where, "log_softmax+gather", grad=torch.is_grad_enabled() and out.requires_grad,
                  values=-out.detach(), targets=targets, ignored=np.zeros(targets.shape, dtype=bool))

    def _add(self, where, kind, *, grad, values, targets, ignored) -> int | None:
        site, chain = where
        losses = values.detach().double().reshape(-1).cpu().numpy()
        if losses.shape[0] != targets.shape[0]:
            return None  # a shape this recorder does not understand: never compared, never guessed
        self.calls.append(LossCall(site, chain, bool(grad), kind, losses, targets, ignored,
                                   np.zeros(losses.shape[0], dtype=bool)))
        return len(self.calls) - 1


def save_calls(calls: list[LossCall], out_dir) -> None:
    """The calls as calls.json (metadata) and calls.npz (arrays), so the parent loads them without pickle."""
    import json
    from pathlib import Path

    out_dir = Path(out_dir)
    meta, arrays = [], {}
    for i, call in enumerate(calls):
        meta.append({"file": call.site[0], "line": call.site[1], "chain": [list(c) for c in call.chain],
                     "grad": call.grad, "kind": call.kind})
        arrays[f"l{i}"], arrays[f"t{i}"], arrays[f"i{i}"] = call.losses, call.targets, call.ignored
        arrays[f"s{i}"] = call.scored
    np.savez(out_dir / "calls.npz", **arrays)
    (out_dir / "calls.json").write_text(json.dumps(meta))

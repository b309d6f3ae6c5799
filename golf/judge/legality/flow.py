"""The data flow of one parsed script: score sums, gradient steps, training functions and their callers.

Built on golf.judge.legality.code's per-function reading; golf.judge.legality.ran says which of these
paths ran and golf.judge.legality.judge gives the verdicts.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from golf.judge.legality.code import (Function, Step, base_name, env_defaults, first_word, identifiers,
                                      is_val_data, read_functions)
from golf.judge.legality.runlog import RunLog


@dataclass(frozen=True)
class Finding:
    kind: str                 # update-before-score | rescored-after-training | trained-before-scored |
    #                           trained-before-evaluation | unfollowed
    file: str
    function: str | None
    line: int | None
    message: str
    train_lines: tuple[int, ...] = ()
    score_lines: tuple[int, ...] = ()


@dataclass
class Update:
    step: Step
    lines: tuple[int, ...]       # where the gradient steps are (in this function or the callee)
    callee: str | None = None


class Flow:
    """One script's functions: what each scores, what each trains on, who calls whom."""

    def __init__(self, tree: ast.Module, file: str, run: RunLog):
        self.file = file
        self.run = run
        self.functions = read_functions(tree)
        self.module = self.functions["<module>"][0]
        self.defaults = env_defaults(tree, [f for fns in self.functions.values() for f in fns])
        self.callers: dict[str, list[tuple[Function, Step]]] = {}
        for fns in self.functions.values():
            for fn in fns:
                for name, step in fn.calls:
                    self.callers.setdefault(name, []).append((fn, step))
        self.scorers = {id(fn) for fns in self.functions.values() for fn in fns if self.score_steps(fn)}
        self.trainers = self._trainers()
        self.printers: dict[str, list[ast.AST]] = {}   # word -> the log calls that print it
        for fn in self.all_functions():
            for call in fn.log_calls:
                word = first_word(call.node)
                if word:
                    self.printers.setdefault(word, []).append(call.node)
        self.findings: list[Finding] = []
        self._ran: dict[int, bool] = {}
        self._logs_match: bool | None = None

    # ---- what functions do -------------------------------------------------------------------

    def resolve(self, name: str | None) -> Function | None:
        fns = self.functions.get(name or "", [])
        return fns[0] if len(fns) == 1 else None

    def all_functions(self):
        for fns in self.functions.values():
            yield from fns

    def score_steps(self, fn: Function) -> list[Step]:
        """Where `fn` adds to the sums it returns: `s += ...` or a helper adding to its parameter `s`."""
        steps = [step for name, step in fn.accumulations if name in fn.returned]
        for name, step in fn.calls:
            helper = self.resolve(name)
            if helper is None or helper is fn:
                continue
            positions = helper.accumulated_params()
            args = step.node.args
            if any(i < len(args) and base_name(args[i]) in fn.returned for i in positions):
                steps.append(step)
            elif any(k.arg in helper.params and helper.params.index(k.arg) in positions
                     and base_name(k.value) in fn.returned for k in step.node.keywords):
                steps.append(step)
        return sorted(steps, key=lambda s: s.pos)

    def is_scorer(self, fn: Function) -> bool:
        return id(fn) in self.scorers

    def throwaway(self, fn: Function, step: Step) -> bool:
        """An optimizer step on a scratch object deleted afterwards (a compile warm-up's adapter):
        `wo = AdamW(wl.parameters()); ...; wo.step(); del wl, wo`. Nothing it learns reaches a score."""
        func = step.node.func
        owner = base_name(func.value) if isinstance(func, ast.Attribute) else None
        if owner is None or owner not in fn.deleted:
            return False
        return bool(fn.deps.get(owner, set()) & fn.deleted)

    def live_backwards(self, fn: Function) -> list[tuple[Step, set[str]]]:
        """Backward passes whose gradients an optimizer keeps: not those of a loop that only steps scratch objects."""
        scratch = [s for s in fn.steps if self.throwaway(fn, s)]
        if not scratch:
            return fn.backwards
        kept = []
        for step, ids in fn.backwards:
            loops = step.loops()
            inner = loops[-1] if loops else None
            steps_here = [s for s in fn.steps if inner is not None and s.inside(inner)]
            if steps_here and all(s in scratch for s in steps_here):
                continue
            kept.append((step, ids))
        return kept

    def data_of_backwards(self, fn: Function) -> set[str]:
        out: set[str] = set()
        for _, ids in self.live_backwards(fn):
            out |= fn.closure(ids)
        return out

    def trains_on_val(self, fn: Function) -> bool:
        return any(is_val_data(i) for i in self.data_of_backwards(fn))

    def trains_on_params(self, fn: Function) -> set[str]:
        """Parameters holding the tokens a function trains on: reached by its gradient steps and indexed
        (`tokens[i:j]`); a device or a settings object is not data."""
        reached = self.data_of_backwards(fn) & set(fn.params)
        if not reached or not hasattr(fn.node, "body"):
            return set()
        indexed = {n.value.id for stmt in fn.node.body for n in ast.walk(stmt)
                   if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name)}
        return reached & indexed

    def _trainers(self) -> set[int]:
        """Functions that take gradient steps and do not score, directly or through other such functions."""
        trainers = {id(fn) for fn in self.all_functions()
                    if not self.is_scorer(fn) and fn.name != "<module>" and (fn.backwards or fn.steps)}
        changed = True
        while changed:
            changed = False
            for fn in self.all_functions():
                if id(fn) in trainers or self.is_scorer(fn) or fn.name == "<module>":
                    continue
                if any(id(callee) in trainers for callee in self._callees(fn)):
                    trainers.add(id(fn))
                    changed = True
        return trainers

    def _callees(self, fn: Function):
        for name, _ in fn.calls:
            callee = self.resolve(name)
            if callee is not None and callee is not fn:
                yield callee

    def site_on_val(self, callee: Function, caller: Function, step: Step) -> bool:
        """The call passes validation data to what the callee trains on (or the callee reads it itself)."""
        if self.trains_on_val(callee) or (not callee.backwards and callee.steps and
                                          any(is_val_data(i) for i in callee.identifiers)):
            return True
        wanted = self.trains_on_params(callee)
        ids: set[str] = set()
        for i, arg in enumerate(step.node.args):
            if isinstance(arg, ast.Starred) or (i < len(callee.params) and callee.params[i] in wanted):
                ids |= identifiers(arg)
        for keyword in step.node.keywords:
            if keyword.arg is None or keyword.arg in wanted:
                ids |= identifiers(keyword.value)
        if any(is_val_data(i) for i in caller.closure(ids)):
            return True
        # a function that trains only through the functions it calls: on validation data it reads itself
        return any(self.site_on_val(c, callee, s) for n, s in callee.calls
                   if (c := self.resolve(n)) is not None and c is not callee and id(c) in self.trainers
                   and id(c) != id(caller))

    def step_data(self, fn: Function, step: Step) -> set[str] | None:
        """What an optimizer step learns from: the backward passes of its innermost loop (or just before it)."""
        if not fn.backwards:
            return None
        loops = step.loops()
        inner = loops[-1] if loops else None
        same = [ids for b, ids in fn.backwards if inner is not None and b.inside(inner)]
        if not same:
            before = [(b, ids) for b, ids in fn.backwards if b.pos < step.pos]
            same = [max(before, key=lambda x: x[0].pos)[1]] if before else [fn.backwards[0][1]]
        return fn.closure(set().union(*same))

    def updates(self, fn: Function, on_val_only: bool) -> list[Update]:
        """Gradient steps taken in `fn`, its own or through calls of training functions."""
        out = []
        for step, ids in self.live_backwards(fn):
            if not on_val_only or any(is_val_data(i) for i in fn.closure(ids)):
                out.append(Update(step, (step.line,)))
        for step in fn.steps:
            if self.throwaway(fn, step):
                continue
            data = self.step_data(fn, step)
            val = any(is_val_data(i) for i in (data if data is not None else fn.identifiers))
            if not on_val_only or val:
                out.append(Update(step, (step.line,)))
        for name, step in fn.calls:
            callee = self.resolve(name)
            if callee is None or callee is fn or id(callee) not in self.trainers:
                continue
            if self.site_on_val(callee, fn, step):
                out.append(Update(step, self.train_lines(callee), callee.name))
        return sorted(out, key=lambda u: u.step.pos)

    def train_lines(self, fn: Function, seen: frozenset = frozenset()) -> tuple[int, ...]:
        lines = [s.line for s, _ in fn.backwards] + [s.line for s in fn.steps]
        for callee in self._callees(fn):
            if id(callee) in self.trainers and id(callee) not in seen:
                lines += self.train_lines(callee, seen | {id(fn)})
        return tuple(sorted(set(lines)))


__all__ = ["Finding", "Flow", "Update"]

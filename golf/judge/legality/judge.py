"""Score-first legality of one parsed script, judged path by path (spec 4.5).

Scoring functions (a function with score sums, golf.judge.legality.code) are judged by the
**outermost loop** that both scores and trains: within one of its iterations the tokens must be
added to the score sums before any gradient step (P1 chunks, P2 document chunks, P3 phases).
Inner loops inherit that order; an inner loop that repeats the same tokens (an epoch loop whose
variable the data does not depend on) scores them again after training on them, so only one pass
may run (`TTT_EPOCHS=1`). A gradient step before the first score of its loop (SLOT: a delta fitted
to the window's targets, then scored) or before any score of the function is a finding.

A function that trains without scoring is judged at its call sites: inside a scoring loop after
that iteration's score it trains on scored tokens (P3's global SGD helper); called on validation
data from anywhere else (pre-quantization TTT, full-validation TTT after quantization), it trains
before the evaluation scores. Paths the run disabled (a flag the logs print off, or off by the
code's default and never printed on; log lines that appear in no log) are skipped.
"""

from __future__ import annotations

import ast

from golf.judge.legality.code import Function, Step, call_name, identifiers
from golf.judge.legality.flow import Finding, Update
from golf.judge.legality.ran import WhatRan


def _lines(lines) -> str:
    lines = sorted(set(lines))
    return ", ".join(str(n) for n in lines[:6]) + (" ..." if len(lines) > 6 else "")


class Program(WhatRan):
    """One script's functions, with the run's logs, judged for score-first order."""

    # ---- verdicts -----------------------------------------------------------------------------

    def judge(self) -> list[Finding]:
        for fn in self.all_functions():
            if fn.name != "<module>" and len(self.functions[fn.name]) > 1:
                self.ambiguous(fn)
                continue
            if self.is_scorer(fn):
                self.judge_scorer(fn)
            elif self.live_backwards(fn) or [s for s in fn.steps if not self.throwaway(fn, s)]:
                self.judge_trainer(fn)
        self.unreadable_execs()
        return self.findings

    def ambiguous(self, fn: Function) -> None:
        """Several functions share the name: golf cannot tell which one a call runs, and says so."""
        if fn is not self.functions[fn.name][0]:
            return
        training = [f for f in self.functions[fn.name] if self.updates(f, on_val_only=True)]
        if training:
            lines = ", ".join(str(getattr(f.node, "lineno", "?")) for f in self.functions[fn.name])
            self.findings.append(Finding(
                "unfollowed", self.file, fn.name, getattr(training[0].node, "lineno", None),
                f"{len(self.functions[fn.name])} functions are named {fn.name}() (lines {lines}) and one takes "
                "gradient steps on validation data: golf cannot tell which one each call runs, so their "
                "score-first order is not judged"))

    def judge_scorer(self, fn: Function) -> None:
        if not self.ran(fn):
            return
        scores = [s for s in self.score_steps(fn) if self.site_enabled(fn, s)]
        groups: dict[tuple, list[Update]] = {}
        for update in self.updates(fn, on_val_only=True):
            if not self.site_enabled(fn, update.step):
                continue
            loop = next((lp for lp in update.step.loops() if any(s.inside(lp) for s in scores)), None)
            if loop is None:
                if update.callee is not None:
                    self.report_pre_score(self.resolve(update.callee), update.lines, fn, update.step)
                    continue
                later = [s for s in scores if s.pos > update.step.pos]
                if later:
                    groups.setdefault(("trained-before-scored", None, id(later[0].node)), []).append(update)
                continue
            first = min((s for s in scores if s.inside(loop)), key=lambda s: s.pos)
            if update.step.pos < first.pos:
                groups.setdefault(("update-before-score", loop, id(first.node)), []).append(update)
            else:
                self.judge_repeats(fn, update, loop, [s for s in scores if s.inside(loop)])
        for (kind, loop, _), updates in groups.items():
            what = _what(updates)
            if kind == "trained-before-scored":
                later = [s for s in scores if s.pos > updates[0].step.pos]
                self.add(kind, fn, updates, later[:1],
                         f"{fn.name}() {what} on validation data before it adds them to the score sums "
                         f"(line {later[0].line}), outside any score-first loop: the reported score is computed "
                         "on tokens the model already trained on")
            else:
                first = min((s for s in scores if s.inside(loop)), key=lambda s: s.pos)
                self.add(kind, fn, updates, [first],
                         f"{fn.name}() {what} before the same iteration of the loop at line {loop.lineno} adds "
                         f"the window's targets to the score sums (line {first.line}): each score has been "
                         "fitted to its own tokens (SLOT-style optimisation); score first, then train")

    def judge_repeats(self, fn: Function, update: Update, outer: ast.AST, scores: list[Step]) -> None:
        """An inner loop that scores and then trains on the same tokens again: only one pass may run."""
        for loop in update.step.loops():
            if loop is not outer and not _encloses(outer, loop):
                continue
            if loop is outer or not isinstance(loop, (ast.For, ast.AsyncFor)):
                continue
            before = [s for s in scores if s.inside(loop) and s.pos < update.step.pos]
            if not before:
                continue
            variables = identifiers(loop.target)
            used = set()
            for s in before:
                used |= fn.closure(_step_data(s.node))
            used |= fn.closure(_update_data(fn, update))
            if variables & used:
                continue
            if all(_first_pass_only(s, loop, variables) for s in before):
                continue   # `if epoch == 0:` counts the pass before any training
            if any(f.line == loop.lineno and f.function == fn.name for f in self.findings):
                continue   # one finding per repeating loop
            count, name = self.iterations(loop)
            updates = [u for u in self.updates(fn, on_val_only=True) if u.step.inside(loop)
                       and u.step.pos > before[0].pos]
            what = _what(updates)
            if count is None:
                self.findings.append(Finding(
                    "unfollowed", self.file, fn.name, loop.lineno,
                    f"{fn.name}(): the loop at line {loop.lineno} scores tokens (line {before[0].line}) and then "
                    f"trains on them ({what}) and repeats over the same tokens; golf cannot tell how many times "
                    f"it ran ({name or 'no count'} is not in the logs or the code): more than once, the later "
                    "passes score tokens already trained on", tuple(u.step.line for u in updates),
                    (before[0].line,)))
            elif count > 1:
                self.findings.append(Finding(
                    "rescored-after-training", self.file, fn.name, loop.lineno,
                         f"{fn.name}(): the loop at line {loop.lineno} ran {count} times over the same tokens "
                         f"({name}={count}); each pass scores them (line {before[0].line}) and then trains on them "
                         f"({what}), so the sums that count come from a pass over tokens already trained on",
                    tuple(sorted({n for u in updates for n in u.lines})), tuple(s.line for s in before)))

    def judge_trainer(self, fn: Function) -> None:
        """A function that trains and does not score: judged where it is called from."""
        if fn.name == "<module>":
            for update in self.updates(fn, on_val_only=True):
                if self.site_enabled(fn, update.step):
                    self.report_pre_score(fn, update.lines, fn, update.step)
            return
        if not (self.trains_on_val(fn) or self.trains_on_params(fn) or
                (fn.steps and not fn.backwards)):
            return
        evidence = self.printed_evidence(fn)
        if evidence is False:
            return
        self.climb(fn, fn, frozenset(), (), proven=bool(evidence))

    def climb(self, origin: Function, fn: Function, seen: frozenset, chain: tuple, proven: bool) -> None:
        if id(fn) in seen:
            return
        sites = [(c, s) for c, s in self.callers.get(fn.name, []) if self.resolve(fn.name) is fn]
        if not sites:
            lines = [line for f in self.all_functions() for name, line in f.references if name == fn.name]
            if lines and (self.trains_on_val(origin) or origin is not fn):
                self.findings.append(Finding(
                    "unfollowed", self.file, fn.name, lines[0],
                    f"{fn.name}() takes gradient steps (lines {_lines(self.train_lines(fn))}) and is passed as a "
                    f"value at line {lines[0]} rather than called: golf cannot follow which tokens it trains on"))
            return
        for caller, step in sites:
            if not proven and not self.site_enabled(caller, step):
                continue
            if fn is origin and not self.site_on_val(fn, caller, step):
                continue
            if self.is_scorer(caller):
                continue   # judged with the scoring loop around the call
            if caller.name == "<module>" or not self.callers.get(caller.name):
                if caller.name != "<module>" and not proven and not self.ran(caller):
                    continue
                sites = [*chain, (caller, step)]
                outer = [site for site in sites[1:] if site[0].name != "<module>"]
                self.report_pre_score(origin, self.train_lines(origin), *sites[0], via=outer[-1] if outer else None)
            else:
                if not proven and self.printed_evidence(caller) is False:
                    continue
                self.climb(origin, caller, seen | {id(fn)}, (*chain, (caller, step)), proven)

    def report_pre_score(self, origin: Function, lines: tuple[int, ...], caller: Function, step: Step,
                         via: tuple[Function, Step] | None = None) -> None:
        later = self.scored_after(caller, step) or (self.scored_after(*via) if via else [])
        where = f"called at line {step.line}" + (f" of {caller.name}()" if caller.name != "<module>" else "")
        if origin is caller:
            where = f"at line {step.line}"
        if via is not None and via[0].name != "<module>":
            where += f", reached from line {via[1].line} of {via[0].name}()"
        scored = f"; validation is scored afterwards by {later[-1][1]}() at line {later[-1][0]}" if later else ""
        self.findings.append(Finding(
            "trained-before-evaluation", self.file, origin.name, step.line,
            f"{origin.name}() takes gradient steps on validation data (lines {_lines(lines)}), {where}, outside "
            f"any score-first loop{scored}: the model trains on validation tokens before they are scored "
            "(pre-quantization or full-validation test-time training)",
            lines, tuple(line for line, _ in later[-1:])))

    def scored_after(self, caller: Function, step: Step) -> list[tuple[int, str]]:
        """(line, scoring function) for the enabled calls of scoring functions after `step` in `caller`."""
        return [(s.line, name) for name, s in caller.calls
                 if s.pos > step.pos and self.site_enabled(caller, s)
                 for name in [name, *[a.id for a in s.node.args if isinstance(a, ast.Name)]]
                 if (callee := self.resolve(name)) is not None and self.is_scorer(callee)]

    def add(self, kind: str, fn: Function, updates: list[Update], scores: list[Step], message: str) -> None:
        lines = tuple(sorted({n for u in updates for n in u.lines}))
        self.findings.append(Finding(kind, self.file, fn.name, updates[0].step.line, message,
                                     lines, tuple(s.line for s in scores)))

    def unreadable_execs(self) -> None:
        for fn in self.all_functions():
            for step in fn.execs:
                args = step.node.args
                if args and not _literal_exec(args[0]):
                    where = f"{fn.name}()" if fn.name != "<module>" else "the module"
                    self.findings.append(Finding(
                        "unfollowed", self.file, None if fn.name == "<module>" else fn.name, step.line,
                        f"{where} execs code built at run time (line {step.line}): golf reads only the code it "
                        "can see, so whatever that code does with validation data is not judged"))


def _what(updates: list[Update]) -> str:
    """How a group of updates is described: own gradient steps, or a call of a training function."""
    parts = []
    own = sorted({u.step.line for u in updates if u.callee is None})
    if own:
        parts.append(f"takes gradient steps (line{'s' if len(own) > 1 else ''} {_lines(own)})")
    for u in updates:
        if u.callee is not None:
            parts.append(f"calls {u.callee}() (gradient steps at lines {_lines(u.lines)}) at line {u.step.line}")
    return " and ".join(parts)


def _first_pass_only(score: Step, loop: ast.AST, variables: set[str]) -> bool:
    """The score sits under `if <loop variable> == 0:` inside the loop: only the untrained first pass counts."""
    inside = False
    for ancestor, branch in score.path:
        if ancestor is loop:
            inside = True
            continue
        if not inside or not isinstance(ancestor, ast.If) or branch != "body":
            continue
        test = ancestor.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
            sides = [test.left, test.comparators[0]]
            if any(isinstance(x, ast.Name) and x.id in variables for x in sides) and any(
                    isinstance(x, ast.Constant) and x.value == 0 for x in sides):
                return True
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name) \
                and test.operand.id in variables:
            return True
    return False


def _encloses(outer: ast.AST, inner: ast.AST) -> bool:
    return any(node is inner for node in ast.walk(outer))


def _step_data(node: ast.AST) -> set[str]:
    if isinstance(node, ast.AugAssign):
        return identifiers(node.value)
    if isinstance(node, ast.Call):
        return {i for a in node.args for i in identifiers(a)}
    return identifiers(node)


def _update_data(fn: Function, update: Update) -> set[str]:
    for step, ids in fn.backwards:
        if step is update.step:
            return ids
    if isinstance(update.step.node, ast.Call) and update.callee:
        return {i for a in update.step.node.args for i in identifiers(a)}
    out: set[str] = set()
    for _, ids in fn.backwards:
        out |= ids
    return out


def _literal_exec(node: ast.AST) -> bool:
    """exec of text golf reads anyway: a literal, a wrapper's decompress, or a file of the folder."""
    if isinstance(node, ast.Constant):
        return True
    names = {call_name(c) for c in ast.walk(node) if isinstance(c, ast.Call)}
    if "decompress" in names:
        return True
    return any(isinstance(c, ast.Constant) and isinstance(c.value, str) for c in ast.walk(node)) and bool(
        names & {"open", "read", "read_text", "Path"})


__all__ = ["Finding", "Program"]

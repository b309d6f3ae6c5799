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
from dataclasses import dataclass

from golf.judge.legality.code import (LOOPS, Function, Step, base_name, call_name, identifiers, is_val_data,
                                      read_functions)
from golf.judge.legality.runlog import RunLog, meaning


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


def _lines(lines) -> str:
    lines = sorted(set(lines))
    return ", ".join(str(n) for n in lines[:6]) + (" ..." if len(lines) > 6 else "")


class Program:
    """One script's functions, with the run's logs, judged for score-first order."""

    def __init__(self, tree: ast.Module, file: str, run: RunLog):
        self.file = file
        self.run = run
        self.functions = read_functions(tree)
        self.module = self.functions["<module>"][0]
        self.defaults = _env_defaults(tree, [f for fns in self.functions.values() for f in fns])
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
                word = _first_word(call.node)
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

    # ---- what ran ------------------------------------------------------------------------------

    def own_words(self, calls: list[Step]) -> list[str]:
        """Words only these log calls print: seeing one in a log shows that this code ran."""
        mine = {id(c.node) for c in calls}
        words = {_first_word(c.node) for c in calls} - {None}
        return sorted(w for w in words if all(id(n) in mine for n in self.printers.get(w, [])))

    @property
    def logs_match(self) -> bool:
        """The logs print some line of this script: only then does a line they lack say a path did not run."""
        if self._logs_match is None:
            self._logs_match = self.run.has_logs and any(self.run.printed(w) for w in self.printers)
        return self._logs_match

    def printed_evidence(self, fn: Function) -> bool | None:
        """True when a log shows one of `fn`'s own log lines, False when the logs show none of them."""
        words = self.own_words(fn.log_calls)
        if not words or not self.logs_match:
            return None
        if any(c.name == "<module>" for c, _ in self.callers.get(fn.name, [])):
            return True if any(self.run.printed(word) for word in words) else None   # an entry point ran
        return any(self.run.printed(word) for word in words)

    def flag_value(self, node: ast.AST) -> bool | None:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            value = self.flag_value(node.operand)
            return None if value is None else not value
        if isinstance(node, ast.Call) and call_name(node) in ("bool", "int") and len(node.args) == 1:
            return self.flag_value(node.args[0])
        env = _environ_get(node)
        if env is not None:
            key, default = env
            logged = self.run.flag(key)
            return logged if logged is not None else meaning(default)
        key = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
        if key is None or (isinstance(node, ast.Name) and key.lower() not in self.defaults):
            return None   # a local variable, not a setting of the run
        env_key, default = self.defaults.get(key.lower(), (None, None))
        logged = self.run.flag(key, *( [env_key] if env_key else []))
        if logged is not None:
            return logged
        return meaning(default) if self.run.has_logs or default is not None else None

    def site_enabled(self, fn: Function, step: Step) -> bool:
        """False when an `if` around the call is off for the run and nothing it prints was logged."""
        for ancestor, branch in step.path:
            if not isinstance(ancestor, ast.If):
                continue
            if self._block_printed(fn, ancestor, branch):
                continue
            conjuncts = ancestor.test.values if isinstance(ancestor.test, ast.BoolOp) and isinstance(
                ancestor.test.op, ast.And) else [ancestor.test]
            values = [self.flag_value(c) for c in conjuncts]
            if branch == "body" and any(v is False for v in values):
                return False
            if branch == "orelse" and len(values) == 1 and values[0] is True:
                return False
        return True

    def _block_printed(self, fn: Function, block: ast.AST, branch: str) -> bool:
        calls = [c for c in fn.log_calls if any(a is block and b == branch for a, b in c.path)]
        return self.logs_match and any(self.run.printed(word) for word in self.own_words(calls))

    def ran(self, fn: Function, seen: frozenset = frozenset()) -> bool:
        """The function can have run: reachable from the module through enabled calls."""
        if fn.name == "<module>":
            return True
        if id(fn) in self._ran:
            return self._ran[id(fn)]
        evidence = self.printed_evidence(fn)
        if evidence is not None:
            self._ran[id(fn)] = evidence
            return evidence
        if id(fn) in seen:
            return False
        result = any(self.site_enabled(caller, step) and self.ran(caller, seen | {id(fn)})
                     for caller, step in self.callers.get(fn.name, []) if self.resolve(fn.name) is fn)
        if not self.callers.get(fn.name) and any(name == fn.name for f in self.all_functions()
                                                 for name, _ in f.references):
            result = True   # used as a value (a callback): assume it runs
        self._ran[id(fn)] = result
        return result

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

    def iterations(self, loop: ast.AST) -> tuple[int | None, str | None]:
        """How many times a `for _ in range(N)` ran: a literal, the logs' value of N, or the code's default."""
        it = loop.iter
        if not (isinstance(it, ast.Call) and call_name(it) == "range" and it.args):
            return None, None
        bound = it.args[0] if len(it.args) == 1 else it.args[1]
        if isinstance(bound, ast.Constant) and isinstance(bound.value, int):
            start = 0 if len(it.args) == 1 else it.args[0]
            if isinstance(start, int) or (isinstance(start, ast.Constant) and isinstance(start.value, int)):
                return bound.value - (start if isinstance(start, int) else start.value), str(bound.value)
        key = bound.id if isinstance(bound, ast.Name) else bound.attr if isinstance(bound, ast.Attribute) else None
        if key is None:
            return None, ast.unparse(bound)
        env_key, default = self.defaults.get(key.lower(), (None, None))
        keys = [key] + ([env_key] if env_key else [])
        count = self.run.number(*keys)
        if count is None and "_" in key:
            count = self.run.number(key.rsplit("_", 1)[-1])   # ttt_epochs printed as "epochs=5"
        if count is None and default is not None:
            try:
                count = int(float(default))
            except ValueError:
                count = None
        return count, key

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


def _first_word(call: ast.Call) -> str | None:
    from golf.judge.legality.code import _leading_word

    return _leading_word(call.args[0]) if call.args else None


def _literal_exec(node: ast.AST) -> bool:
    """exec of text golf reads anyway: a literal, a wrapper's decompress, or a file of the folder."""
    if isinstance(node, ast.Constant):
        return True
    names = {call_name(c) for c in ast.walk(node) if isinstance(c, ast.Call)}
    if "decompress" in names:
        return True
    return any(isinstance(c, ast.Constant) and isinstance(c.value, str) for c in ast.walk(node)) and bool(
        names & {"open", "read", "read_text", "Path"})


def _environ_get(node: ast.AST) -> tuple[str, str | None] | None:
    """("NAME", default text) for `os.environ.get("NAME", d)`, `os.getenv("NAME", d)`, `os.environ["NAME"]`."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and call_name(sub) in ("get", "getenv") and sub.args and isinstance(
                sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str) and (
                call_name(sub) == "getenv" or "environ" in identifiers(sub.func)):
            default = sub.args[1] if len(sub.args) > 1 else None
            text = str(default.value) if isinstance(default, ast.Constant) else None
            return sub.args[0].value, text
    return None


def _env_defaults(tree: ast.Module, functions: list[Function]) -> dict[str, tuple[str | None, str | None]]:
    """Setting name (lower case) -> (environment variable, default text): `x = ...environ.get("X", d)...`
    anywhere, and `x = True`/`x = 3` at module or class level."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for fn in functions:
        for names, value in fn.settings:
            env = _environ_get(value)
            if env is None:
                continue
            for name in names:
                out.setdefault(name.lower(), env)
            out.setdefault(env[0].lower(), env)
    bodies = [tree.body] + [c.body for c in tree.body if isinstance(c, ast.ClassDef)]
    for body in bodies:
        for node in body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Constant) and \
                    isinstance(node.value.value, (bool, int)):
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                    if isinstance(target, ast.Name):
                        out.setdefault(target.id.lower(), (None, str(node.value.value)))
    return out


__all__ = ["Finding", "Program"]

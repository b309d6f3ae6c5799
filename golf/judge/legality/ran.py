"""Which paths of a script ran, from the run's logs (M4): flags printed off, log lines never printed.

A call under an `if` whose flag the logs print off (`ttt_enabled: False`), or that is off by the code's
`os.environ.get` default and never printed on, did not run; nor did a function whose own log lines
appear in no log. Log lines a path prints and the logs show prove it ran, whatever the defaults say.
"""

from __future__ import annotations

import ast

from golf.judge.legality.code import Function, Step, call_name, environ_get, first_word
from golf.judge.legality.flow import Flow
from golf.judge.legality.runlog import meaning


class WhatRan(Flow):
    """The flow of a script, with the run's logs saying which paths ran."""


    def own_words(self, calls: list[Step]) -> list[str]:
        """Words only these log calls print: seeing one in a log shows that this code ran."""
        mine = {id(c.node) for c in calls}
        words = {first_word(c.node) for c in calls} - {None}
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
        env = environ_get(node)
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


__all__ = ["WhatRan"]

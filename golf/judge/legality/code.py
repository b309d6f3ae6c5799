"""What each function of a script does with data, read from its `ast` (nothing runs).

For every function (and the module body) golf records:

- **dependencies**: for each local name, the identifiers its assignments read (`x = f(a, b.c)` makes
  x depend on a, b and c; `x[i] = y`, `x.copy_(y)` and `for x in y` too). Flow-insensitive: all
  assignments of a name count.
- **score sums**: names added to in place (`s += ...`, `s.add_(...)`, or passed to a helper that
  adds to that parameter) that flow into what the function returns. A training-loss monitor
  (`train_loss += loss.item()` that is only logged) is not a score sum.
- **updates**: `.backward()`, `torch.autograd.grad(...)`, an optimizer's `.step()`, and calls of
  functions that take such steps; each with the identifiers its data depends on.
- **events** in source order with their enclosing loops and `if`s, so a later pass can judge an
  update against the scoring of the outermost loop around it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

# Identifiers that name validation data (val_tokens, val_data.val_tokens, validation_docs), not its metrics
# or settings (val_loss, val_bpb, val_batch_size, val_loss_every).
_VAL_RE = re.compile(r"(^|_)val(_|$)|validation", re.IGNORECASE)
_NOT_DATA_RE = re.compile(r"loss|bpb|bits|nll|every|size|steps|interval|freq|time|stride|frac|max|min|batch|len"
                          r"|lut|count|enabled|lr|_ms$", re.IGNORECASE)
_OPTIMIZER_RE = re.compile(r"opt|muon|adam|sgd|lbfgs", re.IGNORECASE)
_IN_PLACE_ADD = {"add_", "index_add_", "scatter_add_", "addcmul_"}
_IN_PLACE_FLOW = {"copy_", "append", "extend", "add_", "index_add_", "scatter_add_", "index_copy_", "fill_",
                  "addcmul_", "mul_", "div_"}
LOOPS = (ast.For, ast.AsyncFor, ast.While)


def is_val_data(name: str) -> bool:
    return bool(_VAL_RE.search(name)) and not _NOT_DATA_RE.search(name)


def identifiers(node: ast.AST | None) -> set[str]:
    """Names and attribute names an expression reads: `a.b[c]` -> b, c; `a.f(c)` -> a, f, c.

    The object of a plain attribute read is left out: `h.ttt_epochs` is a setting of `h`, and the
    data a gradient step depends on should not reach every function that takes `h`.
    """
    out: set[str] = set()
    if node is not None:
        _collect(node, out)
    return out


def _collect(node: ast.AST, out: set[str]) -> None:
    if isinstance(node, ast.Name):
        out.add(node.id)
        return
    if isinstance(node, ast.Attribute):
        out.add(node.attr)
        if not isinstance(node.value, ast.Name):
            _collect(node.value, out)
        return
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):   # a method call: its object is read
            out.add(func.attr)
            _collect(func.value, out)
        else:
            _collect(func, out)
        for arg in node.args:
            _collect(arg, out)
        for keyword in node.keywords:
            _collect(keyword.value, out)
        return
    for child in ast.iter_child_nodes(node):
        _collect(child, out)


def call_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def base_name(target: ast.AST) -> str | None:
    """The local a target writes into: `x`, `x[i]`, `x[i].y` -> x (attributes of self are skipped)."""
    while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        target = target.value
    if isinstance(target, ast.Name) and target.id != "self":
        return target.id
    return None


@dataclass
class Step:
    """One node of interest with the loops/ifs/withs around it inside its function."""

    node: ast.AST
    path: tuple[tuple[ast.AST, str], ...]   # (ancestor, "body" | "orelse"), outermost first

    @property
    def line(self) -> int:
        return getattr(self.node, "lineno", 0)

    @property
    def pos(self) -> tuple[int, int]:
        return getattr(self.node, "lineno", 0), getattr(self.node, "col_offset", 0)

    def loops(self) -> list[ast.AST]:
        return [a for a, _ in self.path if isinstance(a, LOOPS)]

    def inside(self, node: ast.AST) -> bool:
        return any(a is node for a, _ in self.path)


@dataclass
class Function:
    name: str
    node: ast.AST
    params: list[str] = field(default_factory=list)
    deps: dict[str, set[str]] = field(default_factory=dict)
    returned: set[str] = field(default_factory=set)          # identifiers flowing into returns or score logs
    accumulations: list[tuple[str, Step]] = field(default_factory=list)   # (name, where) for `name += ...`
    calls: list[tuple[str, Step]] = field(default_factory=list)           # (callee name, where)
    backwards: list[tuple[Step, set[str]]] = field(default_factory=list)  # (where, data identifiers)
    steps: list[Step] = field(default_factory=list)                       # optimizer .step() calls
    references: list[tuple[str, int]] = field(default_factory=list)       # function names used as values
    printed: list[str] = field(default_factory=list)                      # leading words of its log lines
    log_calls: list[Step] = field(default_factory=list)
    logged_scores: set[str] = field(default_factory=set)   # identifiers a log line prints as a score
    execs: list[Step] = field(default_factory=list)                       # exec(...) calls
    deleted: set[str] = field(default_factory=set)                        # names of `del x`
    settings: list[tuple[list[str], ast.AST]] = field(default_factory=list)  # (targets, value) reading environ
    _identifiers: set[str] | None = None

    @property
    def identifiers(self) -> set[str]:
        """Every identifier the function's own body reads (computed when first asked)."""
        if self._identifiers is None:
            body = self.node.body if hasattr(self.node, "body") else []
            self._identifiers = {i for n in body for i in identifiers(n)}
        return self._identifiers

    def closure(self, names: set[str]) -> set[str]:
        """The identifiers `names` depend on through this function's assignments."""
        seen = set(names)
        todo = list(names)
        while todo:
            for dep in self.deps.get(todo.pop(), ()):
                if dep not in seen:
                    seen.add(dep)
                    todo.append(dep)
        return seen

    def accumulated_params(self) -> set[int]:
        """Positions of parameters the function adds to in place (an accumulation helper)."""
        names = {name for name, _ in self.accumulations}
        return {i for i, p in enumerate(self.params) if p in names}


class _Reader:
    """Walks one function body in source order, recording what `Function` holds."""

    def __init__(self, fn: Function, nested: list):
        self.fn = fn
        self.nested = nested

    def depend(self, name: str | None, sources: set[str]) -> None:
        if name:
            self.fn.deps.setdefault(name, set()).update(sources)

    def assign_targets(self, target: ast.AST, sources: set[str]) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.assign_targets(element, sources)
            return
        name = base_name(target)
        extra = identifiers(target.slice) if isinstance(target, ast.Subscript) else set()
        self.depend(name, sources | extra)

    def walk(self, nodes: list[ast.AST], path: tuple) -> None:
        for node in nodes:
            self.visit(node, path)

    def visit(self, node: ast.AST, path: tuple) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.nested.append(node)   # read as a function (or class body) of its own
            return
        if isinstance(node, ast.Lambda):
            return
        step = Step(node, path)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            value_ids = identifiers(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                self.assign_targets(target, value_ids)
            if "environ" in value_ids or "getenv" in value_ids:
                names = [t.id if isinstance(t, ast.Name) else t.attr for t in targets
                         if isinstance(t, (ast.Name, ast.Attribute))]
                self.fn.settings.append((names, node.value))
        elif isinstance(node, ast.AugAssign):
            name = base_name(node.target)
            self.depend(name, identifiers(node.value))
            if name and isinstance(node.op, (ast.Add, ast.Sub)):
                self.fn.accumulations.append((name, step))
        elif isinstance(node, ast.NamedExpr):
            self.depend(node.target.id, identifiers(node.value))
        elif isinstance(node, ast.Delete):
            self.fn.deleted |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.Return) and node.value is not None:
            self.fn.returned |= identifiers(node.value)
        elif isinstance(node, ast.Call):
            self.call(node, step)
        if isinstance(node, (ast.For, ast.AsyncFor)):
            self.assign_targets(node.target, identifiers(node.iter))
            self.visit(node.iter, path)
            self.walk(node.body, path + ((node, "body"),))
            self.walk(node.orelse, path + ((node, "orelse"),))
            return
        if isinstance(node, ast.While):
            self.visit(node.test, path)
            self.walk(node.body, path + ((node, "body"),))
            self.walk(node.orelse, path + ((node, "orelse"),))
            return
        if isinstance(node, ast.If):
            self.visit(node.test, path)
            self.walk(node.body, path + ((node, "body"),))
            self.walk(node.orelse, path + ((node, "orelse"),))
            return
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.visit(item.context_expr, path)
                if item.optional_vars is not None:
                    self.assign_targets(item.optional_vars, identifiers(item.context_expr))
            self.walk(node.body, path + ((node, "body"),))
            return
        if isinstance(node, ast.Try):
            for block in (node.body, *[h.body for h in node.handlers], node.orelse, node.finalbody):
                self.walk(block, path)
            return
        if isinstance(node, ast.Call):
            # the callee itself is not a reference of a function as a value
            self.walk([a for a in ast.iter_child_nodes(node) if a is not node.func], path)
            if isinstance(node.func, ast.Attribute):
                self.visit(node.func.value, path)
            return
        for child in ast.iter_child_nodes(node):
            self.visit(child, path)

    def call(self, node: ast.Call, step: Step) -> None:
        name = call_name(node)
        func = node.func
        if name == "backward" and isinstance(func, ast.Attribute):
            self.fn.backwards.append((step, self.fn_ids(func.value)))
        elif name == "grad" and isinstance(func, ast.Attribute) and "autograd" in identifiers(func.value):
            self.fn.backwards.append((step, self.fn_ids(node.args[0] if node.args else None)))
        elif name == "step" and isinstance(func, ast.Attribute) and self.is_optimizer(func.value):
            self.fn.steps.append(step)
        if name in _IN_PLACE_ADD and isinstance(func, ast.Attribute):
            target = base_name(func.value)
            if target:
                self.fn.accumulations.append((target, step))
        if name in _IN_PLACE_FLOW and isinstance(func, ast.Attribute):
            self.depend(base_name(func.value), {i for a in node.args for i in identifiers(a)})
        for arg in [*node.args, *[k.value for k in node.keywords]]:
            if isinstance(arg, ast.Name):   # a function passed as a value (a callback), kept if it is one
                self.fn.references.append((arg.id, arg.lineno))
        if name == "exec" and isinstance(func, ast.Name):
            self.fn.execs.append(step)
        if isinstance(func, ast.Name) or (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                                          and func.value.id == "self"):
            self.fn.calls.append((name, step))
        if name and ("log" in name.lower() or name in ("print", "print0")) and node.args:
            self.fn.log_calls.append(step)
            word = _leading_word(node.args[0])
            if word:
                self.fn.printed.append(word)
            self.fn.logged_scores |= _score_names(node)

    def is_optimizer(self, node: ast.AST) -> bool:
        """`opt.step()`, or `wo.step()` where `wo = torch.optim.AdamW(...)` (not a scheduler's step)."""
        owner = identifiers(node)
        built = {i for name in owner for i in self.fn.deps.get(name, ())}
        if any("sched" in i.lower() or i.endswith("LR") for i in owner | built):
            return False
        return bool(_OPTIMIZER_RE.search(" ".join(sorted(owner | built))))

    def fn_ids(self, node: ast.AST | None) -> set[str]:
        return identifiers(node)


def _leading_word(node: ast.AST) -> str | None:
    """The first word a log call prints when it starts with literal text ("ttt_sliding:start", "ttp:")."""
    text = None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        text = str(node.values[0].value)
    elif isinstance(node, ast.BinOp):
        return _leading_word(node.left)
    if not text:
        return None
    words = text.split()
    word = words[0] if words else ""
    if len(word) >= 4 and re.search(r"[:_]", word) and re.match(r"[A-Za-z]", word):
        return word
    return None


_SCORE_NAME_RE = re.compile(r"bpb|loss|nll", re.IGNORECASE)


def _score_names(call: ast.Call) -> set[str]:
    """Identifiers a log call prints as a score: when it prints a bpb, its *bpb/*loss values (not train_*)."""
    texts = [str(c.value) for c in ast.walk(call) if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    names = {i for a in [*call.args, *[k.value for k in call.keywords]] for i in identifiers(a)}
    if not any("bpb" in t.lower() for t in texts) and not any("bpb" in n.lower() for n in names):
        return set()
    return {n for n in names if _SCORE_NAME_RE.search(n) and "train" not in n.lower()}


def read_functions(tree: ast.Module) -> dict[str, list[Function]]:
    """Every function of the module (and `<module>` for its body), by simple name."""
    out: dict[str, list[Function]] = {}
    todo: list[ast.AST] = []
    module = Function("<module>", tree)
    _Reader(module, todo).walk(tree.body, ())
    while todo:
        node = todo.pop()
        if isinstance(node, ast.ClassDef):   # class bodies (a Hyperparameters class) hold settings too
            holder = Function(node.name, node)
            _Reader(holder, todo).walk(node.body, ())
            module.settings.extend(holder.settings)
            continue
        args = node.args
        params = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
        fn = Function(node.name, node, params=params)
        _Reader(fn, todo).walk(node.body, ())
        fn.returned = fn.closure(fn.returned | fn.logged_scores)
        out.setdefault(node.name, []).append(fn)
    module.returned = module.closure(module.logged_scores)
    out["<module>"] = [module]
    for fns in out.values():
        fns.sort(key=lambda f: getattr(f.node, "lineno", 0))
        for fn in fns:
            fn.references = [(name, line) for name, line in fn.references if name in out]
    return out


def first_word(call: ast.Call) -> str | None:
    return _leading_word(call.args[0]) if call.args else None


def environ_get(node: ast.AST) -> tuple[str, str | None] | None:
    """("NAME", default text) for `os.environ.get("NAME", d)`, `os.getenv("NAME", d)`, `os.environ["NAME"]`."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and call_name(sub) in ("get", "getenv") and sub.args and isinstance(
                sub.args[0], ast.Constant) and isinstance(sub.args[0].value, str) and (
                call_name(sub) == "getenv" or "environ" in identifiers(sub.func)):
            default = sub.args[1] if len(sub.args) > 1 else None
            text = str(default.value) if isinstance(default, ast.Constant) else None
            return sub.args[0].value, text
    return None


def env_defaults(tree: ast.Module, functions: list[Function]) -> dict[str, tuple[str | None, str | None]]:
    """Setting name (lower case) -> (environment variable, default text): `x = ...environ.get("X", d)...`
    anywhere, and `x = True`/`x = 3` at module or class level."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for fn in functions:
        for names, value in fn.settings:
            env = environ_get(value)
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


__all__ = ["Function", "LOOPS", "Step", "base_name", "call_name", "env_defaults", "environ_get", "first_word",
           "identifiers", "is_val_data", "read_functions"]

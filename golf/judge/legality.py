"""Static legality of the evaluation, by `ast` alone (spec 4.1, 4.4): is validation data
scored before the model learns from it?

Test-time training is allowed only on validation tokens already scored. golf reads the
shipped script's syntax tree (never runs it) and looks at every loop that walks validation
data (a loop whose iterable or target names something with `val`, or any loop inside a
function whose name says test-time training):

- an **update** is a call of `.backward()`, `torch.autograd.grad(...)` or an optimizer's
  `.step()`;
- a **score** is an accumulation (`+=`) into a loss/nll/bits/bytes total, anything done
  under `torch.no_grad()`/`torch.inference_mode()`, or a call of a function whose name says
  it scores or evaluates.

A loop whose first update comes before its first score adapts on tokens before they are
scored. A loop that updates and never scores trains on validation data before the
evaluation scores it (pre-quantization TTT, training on validation data). Both are reported
with the line of the loop. It is a reading of the code, not a proof: a reviewer confirms.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

_VAL_RE = re.compile(r"(^|_)val(_|$|id)|validation", re.IGNORECASE)
_TTT_FN_RE = re.compile(r"ttt|test_time|pre_?quant", re.IGNORECASE)
_ACCUMULATOR_RE = re.compile(r"loss|nll|bits|bpb|bytes|tokens|count|total", re.IGNORECASE)
_SCORING_CALL_RE = re.compile(r"score|eval", re.IGNORECASE)


@dataclass(frozen=True)
class Problem:
    kind: str        # "update-before-score" or "update-without-score"
    line: int
    function: str | None
    detail: str


def _names(node: ast.AST) -> list[str]:
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            out.append(sub.id)
        elif isinstance(sub, ast.Attribute):
            out.append(sub.attr)
    return out


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _is_update(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    name = _call_name(node)
    if name == "backward":
        return True
    if name == "grad" and isinstance(node.func, ast.Attribute) and "autograd" in _names(node.func.value):
        return True
    if name == "step" and isinstance(node.func, ast.Attribute):
        owner = " ".join(_names(node.func.value)).lower()
        return "opt" in owner or "muon" in owner or "adam" in owner or "sgd" in owner
    return False


def _is_no_grad_with(node: ast.AST) -> bool:
    if not isinstance(node, (ast.With, ast.AsyncWith)):
        return False
    return any(isinstance(item.context_expr, ast.Call)
               and _call_name(item.context_expr) in ("no_grad", "inference_mode") for item in node.items)


def _is_score(node: ast.AST) -> bool:
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
        return any(_ACCUMULATOR_RE.search(n) for n in _names(node.target))
    if _is_no_grad_with(node):
        return True
    if isinstance(node, ast.Call) and _SCORING_CALL_RE.search(_call_name(node)):
        return True
    return False


def _ordered(body: list[ast.stmt]):
    """Nodes of a loop body in source order, not entering nested function or class definitions."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        children = list(ast.iter_child_nodes(node))
        stack.extend(reversed(children))


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _walks_validation(loop: ast.For | ast.While) -> bool:
    parts = [loop.iter, loop.target] if isinstance(loop, ast.For) else [loop.test]
    return any(_VAL_RE.search(name) for part in parts for name in _names(part))


def _functions(tree: ast.Module):
    """(function name or None, loops directly in it) for the module and every function."""
    scopes = [(None, tree)] + [(n.name, n) for n in ast.walk(tree)
                               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for name, scope in scopes:
        loops = [n for n in _ordered(list(getattr(scope, "body", []))) if isinstance(n, (ast.For, ast.While))]
        yield name, loops


def check_source(source: str) -> list[Problem]:
    """The evaluation-legality problems the script's syntax tree shows (empty when it cannot be parsed)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    problems: list[Problem] = []
    seen: set[int] = set()
    for function, loops in _functions(tree):
        in_ttt = bool(function and _TTT_FN_RE.search(function))
        for loop in loops:
            if id(loop) in seen or not (in_ttt or _walks_validation(loop)):
                continue
            seen.add(id(loop))
            first_update = first_score = None
            for node in _ordered(loop.body):
                if first_update is None and _is_update(node):
                    first_update = node
                if first_score is None and _is_score(node):
                    first_score = node
            if first_update is None:
                continue
            where = f" in {function}()" if function else ""
            if first_score is None:
                if any(isinstance(n, (ast.For, ast.While)) and n is not loop and _walks_validation(n)
                       for n in _ordered(loop.body)):
                    continue  # an outer epoch loop: the inner validation loop is judged on its own
                problems.append(Problem("update-without-score", loop.lineno, function,
                                        f"the loop at line {loop.lineno}{where} takes gradient steps on validation "
                                        f"data (line {first_update.lineno}) and scores nothing: the model learns "
                                        "validation tokens before the evaluation scores them"))
            elif _position(first_update) < _position(first_score):
                problems.append(Problem("update-before-score", loop.lineno, function,
                                        f"the loop at line {loop.lineno}{where} updates the model (line "
                                        f"{first_update.lineno}) before it scores the tokens (line "
                                        f"{first_score.lineno}): test-time training must score first"))
    return problems


__all__ = ["Problem", "check_source"]

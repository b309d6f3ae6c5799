"""Parse a script of any recent Python into golf's own `ast`, never running it.

golf runs on Python 3.11, whose `ast` rejects Python 3.12 f-strings (PEP 701: quotes of the
same kind nested inside an f-string, `f"{d["k"]}"`), which late records use. When `ast.parse`
refuses a script, libcst (a parser that accepts the 3.12+ grammar) reads it and each f-string
is rewritten as a call `__fstring__(<its expressions>)` on the same lines; the rewritten text
is then parsed by `ast`. The expressions (and so the names an f-string logs) and every line
number outside the f-strings stay as they were.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class Parsed:
    """A syntax tree, how it was obtained, or why there is none."""

    tree: ast.Module | None
    lowered: bool = False          # True when the 3.12 f-strings were rewritten first
    problem: str | None = None


def parse(source: str) -> Parsed:
    """The script's `ast`, through libcst when golf's Python is older than the script's grammar."""
    try:
        return Parsed(ast.parse(source))
    except (SyntaxError, ValueError) as error:
        first = _describe(error)
    except RecursionError:
        return Parsed(None, problem="the script nests too deeply to parse")
    try:
        lowered = lower_fstrings(source)
    except ImportError:
        return Parsed(None, problem=f"{first}; libcst, which reads newer Python, is not installed")
    except Exception as error:  # libcst's ParserSyntaxError and friends: the script is not Python 3.12+ either
        return Parsed(None, problem=f"{first}; libcst cannot parse it either: {str(error).splitlines()[0]}")
    try:
        return Parsed(ast.parse(lowered), lowered=True)
    except (SyntaxError, ValueError, RecursionError) as error:
        return Parsed(None, problem=f"{first}; still not parseable with its f-strings rewritten: {_describe(error)}")


def _describe(error: Exception) -> str:
    if isinstance(error, SyntaxError):
        return f"syntax error at line {error.lineno}: {error.msg}"
    return f"{type(error).__name__}: {error}"


def lower_fstrings(source: str) -> str:
    """The source with every f-string replaced by `__fstring__(expr, ...)`, keeping the line count."""
    import libcst as cst

    module = cst.parse_module(source)

    class Lower(cst.CSTTransformer):
        def as_call(self, original, pieces):
            exprs = [e.visit(Lower()) for piece in pieces for e in _fstring_expressions(piece)]
            call = cst.Call(func=cst.Name("__fstring__"), args=[cst.Arg(e) for e in exprs])
            missing = module.code_for_node(original).count("\n") - cst.Module([]).code_for_node(call).count("\n")
            if missing > 0:
                call = call.with_changes(whitespace_before_args=cst.ParenthesizedWhitespace(
                    first_line=cst.TrailingWhitespace(), empty_lines=[cst.EmptyLine()] * (missing - 1),
                    indent=False, last_line=cst.SimpleWhitespace("")))
            return call.with_changes(lpar=original.lpar, rpar=original.rpar)

        def visit_FormattedString(self, node):
            return False   # its expressions are lowered in as_call

        def leave_FormattedString(self, original, updated):
            return self.as_call(original, [original])

        def visit_ConcatenatedString(self, node):
            return False   # "a" f"b{x}" (implicit concatenation) becomes one call

        def leave_ConcatenatedString(self, original, updated):
            pieces = _pieces(original)
            if not any(isinstance(p, cst.FormattedString) for p in pieces):
                return updated
            return self.as_call(original, [p for p in pieces if isinstance(p, cst.FormattedString)])

    return module.visit(Lower()).code


def _pieces(node) -> list:
    import libcst as cst

    if isinstance(node, cst.ConcatenatedString):
        return _pieces(node.left) + _pieces(node.right)
    return [node]


def _fstring_expressions(node) -> list:
    import libcst as cst

    out = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringExpression):
            out.append(part.expression)
            if part.format_spec:
                for spec in part.format_spec:
                    if isinstance(spec, cst.FormattedStringExpression):
                        out.append(spec.expression)
    return out


__all__ = ["Parsed", "lower_fstrings", "parse"]

"""What golf learns about a record's script by reading it, before any of it runs (no torch here).

- A self-extracting wrapper (`import lzma as L,base64 as B` + `exec(L.decompress(B.b85decode("...")))`)
  is unpacked as data by golf.read.packed.unpack (bounded output); the inner source is what is checked
  and what the worker imports. Nothing is `exec`-ed to unpack it.
- `check_import_safety` refuses a script whose top level does work at import time: only imports,
  definitions, constant assignments, environment reads and the `if __name__ == "__main__":` guard may
  stand there (class bodies, such as `Hyperparameters`, follow the same rule).
- `describe_script` names what the built-in loaders will look for (the interface, `forward_logits`, a
  `Hyperparameters` class, a GPT module, dequantization functions, the environment names the script
  reads, and whether it imports FlashAttention 3's `flash_attn_interface`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError

FLASH_ATTN_MODULES = ("flash_attn_interface",)

# Calls allowed where the top level runs: pure conversions and environment reads.
_SAFE_CALLS = {"int", "float", "bool", "str", "tuple", "list", "dict", "set", "frozenset", "len", "max", "min",
               "abs", "round", "sorted", "range", "enumerate", "zip", "getenv", "get", "Path", "uuid4", "isinstance",
               "getattr", "hasattr", "sqrt", "log", "log2", "exp", "pow", "ceil", "floor", "dtype", "device",
               "compile", "is_available", "device_count", "cpu_count", "get_device_capability", "get_device_name",
               "is_bf16_supported",  # re.compile; torch.compile decorators; device queries
               "ThreadPoolExecutor",  # starts no thread until work is submitted
               "now"}  # datetime.now() in a default run id
# Decorator factories that only wrap what they decorate.
_SAFE_DECORATORS = {"no_grad", "inference_mode", "enable_grad", "compile", "lru_cache", "cache", "dataclass", "jit",
                    "script", "autocast", "wraps", "custom_op", "register_fake", "dynamo_disable", "disable"}
_SAFE_METHODS = {"split", "strip", "lstrip", "rstrip", "lower", "upper", "replace", "startswith", "endswith",
                 "encode", "decode", "format", "join", "partition", "rpartition", "items", "keys", "values",
                 "hex", "removeprefix", "removesuffix", "strftime"}


@dataclass
class ScriptInfo:
    path: Path
    source: str
    wrapped: bool                     # the shipped file was a self-extracting wrapper
    has_interface: bool               # a top-level load_model_for_eval
    has_forward_logits: bool
    classes: list[str] = field(default_factory=list)
    dequantizers: list[str] = field(default_factory=list)
    env_names: list[str] = field(default_factory=list)
    flash_attn: bool = False

    def to_dict(self) -> dict:
        return {"script": str(self.path), "wrapped": self.wrapped, "has_interface": self.has_interface,
                "has_forward_logits": self.has_forward_logits, "env_names": self.env_names,
                "flash_attn": self.flash_attn}


def read_source(path: Path) -> tuple[str, bool]:
    """The script's source, unpacked when the file is a self-extracting lzma+base85 wrapper."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as error:
        raise GolfError(f"{path}: cannot read the script ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise GolfError(f"{path}: the script is not UTF-8 text") from None
    if not _is_wrapper_module(_parse(text, path)):
        return text, False
    from golf.read.packed import unpack

    unpacked = unpack(text)
    if unpacked.text is None:
        raise GolfError(f"{path}: the self-extracting wrapper cannot be unpacked: {unpacked.problem}")
    return unpacked.text, True


def _parse(text: str, path: Path, what: str = "the script") -> ast.Module:
    try:
        return ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise GolfError(f"{path}: cannot evaluate: {what} does not parse (line {error.lineno}: {error.msg})") from None
    except ValueError as error:
        raise GolfError(f"{path}: cannot evaluate: {what} does not parse ({error})") from None


def _is_wrapper_module(tree: ast.Module) -> bool:
    """The script is only a self-extracting wrapper: imports, constants and one `exec(<lzma>.decompress(...))`.
    (golf.read.packed.unpack decodes it; anything else beside the exec makes it an ordinary script.)"""
    calls = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            calls.append(node.value)
        elif not isinstance(node, (ast.Import, ast.Assign)) \
                and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            return False
    return (len(calls) == 1 and isinstance(calls[0].func, ast.Name) and calls[0].func.id == "exec"
            and len(calls[0].args) == 1 and isinstance(calls[0].args[0], ast.Call)
            and isinstance(calls[0].args[0].func, ast.Attribute) and calls[0].args[0].func.attr == "decompress")


# ---------------------------------------------------------------------------
# Import safety
# ---------------------------------------------------------------------------

def _call_name(func) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _unsafe_expression(node) -> ast.AST | None:
    """The first call in `node` that could do work, else None. Lambdas are not run, so not looked into."""
    if node is None:
        return None
    for child in _walk_skipping_lambdas(node):
        if isinstance(child, ast.Call):
            name = _call_name(child.func)
            if isinstance(child.func, ast.Attribute) and name in _SAFE_METHODS:
                continue
            if name not in _SAFE_CALLS:
                return child
        elif isinstance(child, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return child
    return None


def _walk_skipping_lambdas(node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, ast.Lambda):
                stack.append(child)


def _unsafe_decorator(decorators: list[ast.expr]) -> ast.AST | None:
    for decorator in decorators:
        if isinstance(decorator, ast.Call) and _call_name(decorator.func) in _SAFE_DECORATORS:
            arguments = [*decorator.args, *(k.value for k in decorator.keywords)]
            bad = next((b for b in map(_unsafe_expression, arguments) if b is not None), None)
        else:
            bad = _unsafe_expression(decorator)
        if bad is not None:
            return bad
    return None


def _is_main_guard(node: ast.If) -> bool:
    test = node.test
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    consts = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(consts) == 1


def _problem(node: ast.stmt, *, in_class: bool = False) -> tuple[ast.AST, str] | None:
    """Why `node`, at the top level (or in a class body), would do work at import; None when it is inert."""
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass, ast.Global, ast.Nonlocal)):
        return None
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return None  # a docstring
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bad = _unsafe_decorator(node.decorator_list)
        if bad is not None:
            return bad, "a call in a decorator"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for expr in [*node.args.defaults, *node.args.kw_defaults]:
            bad = _unsafe_expression(expr)
            if bad is not None:
                return bad, "a call in a function's defaults"
        return None
    if isinstance(node, ast.ClassDef):
        for expr in [*node.bases, *(k.value for k in node.keywords)]:
            bad = _unsafe_expression(expr)
            if bad is not None:
                return bad, "a call in a class header"
        for statement in node.body:
            found = _problem(statement, in_class=True)
            if found is not None:
                return found
        return None
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        bad = _unsafe_expression(node.value)
        return None if bad is None else (bad, "a call in an assignment")
    if isinstance(node, ast.If) and not in_class and _is_main_guard(node):
        return None
    if isinstance(node, ast.If):
        bad = _unsafe_expression(node.test)
        if bad is not None:
            return bad, "a call in an `if` test"
        for statement in [*node.body, *node.orelse]:
            found = _problem(statement, in_class=in_class)
            if found is not None:
                return found
        return None
    if isinstance(node, ast.Try):  # `try: import flash_attn_interface` / `except ImportError: ...`
        for statement in [*node.body, *node.orelse, *node.finalbody,
                          *(s for handler in node.handlers for s in handler.body)]:
            found = _problem(statement, in_class=in_class)
            if found is not None:
                return found
        return None
    if isinstance(node, ast.Raise) and _inert_raise(node):
        return None
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return node, "a call"
    if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
        return node, "a loop"
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return node, "a `with` block"
    return node, f"a {type(node).__name__} statement"


# `raise ImportError("...")` in a top-level try (to choose an attention fallback) stops the import and runs
# nothing, as long as the name is Python's own exception (check_import_safety refuses a script rebinding it).
_INERT_EXCEPTIONS = {"ImportError", "ModuleNotFoundError", "RuntimeError"}


def _inert_raise(node: ast.Raise) -> bool:
    exc = node.exc
    return (isinstance(exc, ast.Call) and isinstance(exc.func, ast.Name) and exc.func.id in _INERT_EXCEPTIONS
            and not exc.keywords and all(isinstance(a, ast.Constant) for a in exc.args) and node.cause is None)


def _module_level(nodes):
    """Every node outside function bodies (the code that runs at import)."""
    for node in nodes:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield from _module_level(ast.iter_child_nodes(node))


def _rebinds_exception(tree: ast.Module) -> ast.AST | None:
    for node in _module_level(tree.body):
        names = []
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names = [node.name]
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names = [node.id]
        elif isinstance(node, ast.alias):
            names = [node.asname or node.name]
        if any(name in _INERT_EXCEPTIONS for name in names):
            return node
    return None


def check_import_safety(tree: ast.Module, path: Path) -> None:
    """Refuse a script that does work when imported, naming the line. Nothing is run."""
    rebound = _rebinds_exception(tree)
    if rebound is not None:
        raise GolfError(f"{path}: refusing to evaluate: line {getattr(rebound, 'lineno', '?')} rebinds one of "
                        f"{', '.join(sorted(_INERT_EXCEPTIONS))}, which a top-level raise may use. Nothing was run.")
    for node in tree.body:
        found = _problem(node)
        if found is None:
            continue
        where, what = found
        line = getattr(where, "lineno", node.lineno)
        text = (ast.unparse(where).splitlines() or [""])[0][:80]
        raise GolfError(f"{path}: refusing to evaluate: line {line} does work at import time ({what}: {text}); "
                        f"only imports, definitions, constant assignments, environment reads and the "
                        f"`if __name__ == \"__main__\":` guard may stand at the top level. Nothing was run.")


# ---------------------------------------------------------------------------
# What the loaders will look for
# ---------------------------------------------------------------------------

def _env_names(tree: ast.Module) -> list[str]:
    """Names read with os.environ.get("X"), os.getenv("X") or os.environ["X"], in order of appearance."""
    names: list[str] = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and _call_name(node.func) in ("get", "getenv") and node.args:
            target = node.func.value if isinstance(node.func, ast.Attribute) else None
            is_env = (isinstance(target, ast.Attribute) and target.attr == "environ") or \
                     (isinstance(target, ast.Name) and target.id in ("os", "environ")) or \
                     _call_name(node.func) == "getenv"
            if is_env:
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "environ":
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value not in names:
            names.append(key.value)
    return names


def _imports_flash_attn(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] in FLASH_ATTN_MODULES for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in FLASH_ATTN_MODULES:
            return True
    return False


def describe_script(path: Path) -> ScriptInfo:
    """Read, unpack and check the script; what the worker's loaders will find in it."""
    source, wrapped = read_source(path)
    tree = _parse(source, path, "the unpacked script" if wrapped else "the script")
    check_import_safety(tree, path)
    top_functions = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    imported = {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
    methods = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    dequantizers = sorted(name for name in top_functions if name.startswith("dequantize"))
    return ScriptInfo(path, source, wrapped, "load_model_for_eval" in top_functions | imported,
                      "forward_logits" in methods, classes, dequantizers, _env_names(tree),
                      _imports_flash_attn(tree))


def loadable_problem(info: ScriptInfo) -> str | None:
    """One line naming what the built-in loaders need and the script lacks; None when it looks loadable."""
    if info.has_interface:
        return None
    if "Hyperparameters" in info.classes:
        return None
    return (f"{info.path}: cannot load the model: the script defines neither load_model_for_eval(artifact_path, "
            f"device) nor a Hyperparameters class for golf's built-in loaders. Nothing was run.")

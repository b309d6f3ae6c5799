"""Packed code bytes: the size of a training script as the late records counted it (spec 3.4, 4.4).

From 2026-04-10 records ship a readable train_gpt.py but count their code as a
self-extracting wrapper, computed in the script and printed as `Code size (compressed)`:
the source minified with `pyminify --no-rename-locals --no-hoist-literals
--remove-literal-statements -` (package python-minifier), compressed with
`lzma.compress` (default preset), encoded with `base64.b85encode` and put inside

    import lzma as L,base64 as B
    exec(L.decompress(B.b85decode("...")))

golf builds the same wrapper itself. Minifying parses the source (python-minifier works
on the `ast`); nothing from the record is imported or executed.

Also here: which other files of the folder a script reads, execs or imports, found with
`ast` (an exec stub and its decode file are counted together), and `unpack`, which reads the
code a wrapper runs by decoding its literal (never by running it).
"""

from __future__ import annotations

import ast
import base64
import bz2
import lzma
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

WRAPPER_HEAD = b'import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("'
WRAPPER_TAIL = b'")))\n'
# A shipped script that already is such a wrapper (any compressor, any encoding).
_WRAPPER_RE = re.compile(rb"\A\s*import [\w ,]+\s*\n\s*exec\(\w+\.decompress\(\w+\.b(?:85|64|32)decode\(",
                         re.ASCII)


@dataclass(frozen=True)
class Packed:
    """The packed form of one script: its size, or why it could not be built."""

    bytes: int | None
    minified_bytes: int | None = None
    problem: str | None = None


def minify(source: str) -> str:
    """The source as `pyminify --no-rename-locals --no-hoist-literals --remove-literal-statements` writes it."""
    import python_minifier

    return python_minifier.minify(source, remove_literal_statements=True, hoist_literals=False,
                                  rename_locals=False)


def wrap(minified: str) -> bytes:
    """The self-extracting wrapper around already minified source."""
    return WRAPPER_HEAD + base64.b85encode(lzma.compress(minified.encode("utf-8"))) + WRAPPER_TAIL


def pack(source: str) -> Packed:
    """The packed size of `source`; a source golf's Python cannot parse gives a problem, not an error."""
    try:
        minified = minify(source)
    except SyntaxError as error:
        return Packed(None, problem=f"cannot be minified: syntax error at line {error.lineno}: {error.msg}")
    except (ValueError, RecursionError) as error:  # python-minifier's own refusals
        return Packed(None, problem=f"cannot be minified: {type(error).__name__}: {error}")
    return Packed(len(wrap(minified)), len(minified.encode("utf-8")))


# The most a wrapper's literal may decompress to: no real script is near it, a small bomb cannot fill the memory.
UNPACK_LIMIT = 16_000_000
_DECODERS = {"b85decode": base64.b85decode, "b64decode": base64.b64decode, "b32decode": base64.b32decode,
             "a85decode": base64.a85decode}
_COMPRESSORS = ("lzma", "zlib", "bz2", "gzip")


@dataclass(frozen=True)
class Unpacked:
    """The code a wrapper `exec`s, or why it could not be read."""

    text: str | None
    compressor: str | None = None
    problem: str | None = None


def unpack(source: str) -> Unpacked:
    """The source a self-extracting wrapper runs: `exec(<mod>.decompress(<b85|b64|b32>decode("...")...))`.

    Only the literal is decoded (the decompressor's `format=`/`filters=` keywords are read from the
    wrapper's own syntax tree); nothing of the wrapper runs.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError) as error:
        return Unpacked(None, problem=f"the wrapper does not parse: {error}")
    aliases = _import_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node.func) == "exec" and node.args:
            found = _decompress_call(node.args[0], aliases)
            if found is not None:
                return _decode(*found, aliases)
    return Unpacked(None, problem="no exec(<module>.decompress(<base64 decode>(literal))) call was found")


def _import_aliases(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name
    return aliases


def _decompress_call(node: ast.expr, aliases: dict[str, str]):
    """(decompress call, compressor module) inside an exec argument, through `.decode()` chains."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "decode":
        node = node.func.value
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "decompress"):
        return None
    owner = node.func.value
    module = aliases.get(owner.id, owner.id) if isinstance(owner, ast.Name) else None
    return (node, module) if module in _COMPRESSORS else None


def _decode(call: ast.Call, module: str, aliases: dict[str, str]) -> Unpacked:
    inner = call.args[0] if call.args else None
    if not (isinstance(inner, ast.Call) and _call_name(inner.func) in _DECODERS and inner.args
            and isinstance(inner.args[0], ast.Constant) and isinstance(inner.args[0].value, (str, bytes))):
        return Unpacked(None, module, "the decompressed data is not a base64-family decode of a literal")
    literal = inner.args[0].value
    try:
        raw = _DECODERS[_call_name(inner.func)](literal.encode("ascii") if isinstance(literal, str) else literal)
        data = _decompress(raw, module, {k.arg: k.value for k in call.keywords if k.arg})
        return Unpacked(data.decode("utf-8"), module)
    except (ValueError, LookupError, OSError, lzma.LZMAError, zlib.error, UnicodeDecodeError) as error:
        return Unpacked(None, module, f"its {module} literal cannot be decoded: {error}")


def _decompress(raw: bytes, module: str, keywords: dict[str, ast.expr]) -> bytes:
    """Decompress at most UNPACK_LIMIT bytes with the wrapper's own settings."""
    if module == "lzma":
        fmt = _lzma_constant(keywords.get("format"), lzma.FORMAT_AUTO)
        filters = None
        if "filters" in keywords:
            filters = ast.literal_eval(_constants_inlined(keywords["filters"]))
        engine = lzma.LZMADecompressor(format=fmt, filters=filters)
    elif module == "bz2":
        engine = bz2.BZ2Decompressor()
    else:
        engine = zlib.decompressobj(zlib.MAX_WBITS | (16 if module == "gzip" else 0))
    if module in ("lzma", "bz2"):
        out = engine.decompress(raw, max_length=UNPACK_LIMIT + 1)
    else:
        out = engine.decompress(raw, UNPACK_LIMIT + 1)
    if len(out) > UNPACK_LIMIT:
        raise ValueError(f"decompresses to more than {UNPACK_LIMIT:,} bytes")
    return out


def _lzma_constant(node: ast.expr | None, default: int) -> int:
    if node is None:
        return default
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    if name is None or not hasattr(lzma, name):
        raise ValueError(f"unknown lzma setting {ast.unparse(node)}")
    return getattr(lzma, name)


def _constants_inlined(node: ast.expr) -> ast.expr:
    """`[{"id": L.FILTER_LZMA2}]` with the lzma constants replaced by their values, for literal_eval."""

    class Inline(ast.NodeTransformer):
        def visit_Attribute(self, attr):
            return ast.copy_location(ast.Constant(_lzma_constant(attr, 0)), attr)

    return Inline().visit(ast.parse(ast.unparse(node), mode="eval").body)


def is_wrapper(data: bytes) -> bool:
    """True when the script already is a self-extracting wrapper (2 lines that exec decoded data)."""
    return bool(_WRAPPER_RE.match(data)) and data.count(b"\n") <= 3


# Calls whose string arguments name a file the script reads or runs.
_FILE_CALLS = {"open", "exec", "execfile", "run_path", "read_text", "read_bytes", "Path", "import_module",
               "spec_from_file_location", "load_source", "compile"}


def files_used(source: str, folder: Path, script: str) -> list[str]:
    """Other files of `folder` the script reads, execs or imports, by `ast` alone.

    Counted: string literals naming a file of the folder when passed to open/exec/Path/runpy/
    importlib-style calls, and `import X` / `from X import` of a module X.py in the folder.
    """
    # A file the script names appears in its text: most scripts name none, and need no parsing.
    present = {name for name in _other_files(folder, script)
               if name in source or (name.endswith(".py") and name[:-3] in source)}
    if not present:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    used = _named_in_calls(tree, present, _FILE_CALLS)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            used.update(f"{a.name}.py" for a in node.names if f"{a.name}.py" in present)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if f"{node.module}.py" in present:
                used.add(f"{node.module}.py")
    return sorted(used)


_EXEC_CALLS = {"exec", "execfile", "run_path", "compile"}


def exec_files(source: str, folder: Path, script: str, tree: ast.Module | None = None) -> list[str]:
    """Files of `folder` whose code the script runs: a literal file name inside `exec(...)`, `compile(...)`
    or `runpy.run_path(...)` (e.g. `exec(open("train_gpt_decode.py").read())`). `tree`: the source's
    syntax tree when the caller already has it."""
    if "exec" not in source and "run_path" not in source:
        return []
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            return []
    return sorted(_named_in_calls(tree, _other_files(folder, script), _EXEC_CALLS))


def _other_files(folder: Path, script: str) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file() and p.name != script} if folder.is_dir() else set()


def _named_in_calls(tree: ast.Module, present: set[str], calls: set[str]) -> set[str]:
    """The files of `present` a string literal names anywhere inside a call of one of `calls`."""
    named: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node.func) in calls:
            for arg in ast.walk(node):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    name = _folder_file(arg.value)
                    if name in present:
                        named.add(name)
    return named


def _folder_file(literal: str) -> str:
    """A literal naming a file beside the script: "x.py", "./x.py", or "/x.py" joined to the script's folder."""
    return literal.strip().removeprefix("./").lstrip("/")


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


__all__ = ["Packed", "Unpacked", "exec_files", "files_used", "is_wrapper", "minify", "pack", "unpack", "wrap"]

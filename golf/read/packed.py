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
`ast` (an exec stub and its decode file are counted together).
"""

from __future__ import annotations

import ast
import base64
import lzma
import re
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
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    present = {p.name for p in folder.iterdir() if p.is_file() and p.name != script} if folder.is_dir() else set()
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node.func) in _FILE_CALLS:
            for arg in ast.walk(node):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    name = arg.value.strip().removeprefix("./")
                    if name in present:
                        used.add(name)
        elif isinstance(node, ast.Import):
            used.update(f"{a.name}.py" for a in node.names if f"{a.name}.py" in present)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if f"{node.module}.py" in present:
                used.add(f"{node.module}.py")
    return sorted(used)


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


__all__ = ["Packed", "files_used", "is_wrapper", "minify", "pack", "wrap"]

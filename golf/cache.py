"""A cache of what golf derives from a file's bytes alone (packed size, compile check, legality reading).

Each result is keyed by the sha256 of the bytes it was derived from, the kind of result, and
golf's version (with a fingerprint of golf's own source files, so an edited checkout never reads
results of older code). Results live in memory for the process and, like ruff's and pytest's
caches, in `.golf_cache/` under the current folder: created on first write with its own
`.gitignore` and `CACHEDIR.TAG`, never inside a record folder (the caller says which folders are
records), and silently skipped when it cannot be written. `--no-cache` (or GOLF_NO_CACHE=1) skips
the folder; GOLF_CACHE_DIR moves it.

Values are JSON, never pickles: the cache is read back, not executed. It trusts its folder, so a
cache that came with a pull request must not be used to judge it (`golf ci` never reads it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

CACHE_DIR_NAME = ".golf_cache"
_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
        "# This folder is a cache made by golf (the Parameter Golf toolkit); it can be deleted.\n")

_memo: dict[tuple[str, str], Any] = {}
_state: dict[str, Any] = {"enabled": None, "folder": None, "version": None}


def configure(*, enabled: bool = True, avoid=()) -> None:
    """Use the cache folder (or not) for the rest of this process; it is never put inside `avoid`
    (the record folders or trees being judged) nor where a folder cannot be written."""
    folder = _folder()
    if folder is not None and any(_inside(folder, Path(p)) for p in avoid):
        folder = None
    _state["enabled"] = enabled and folder is not None and not os.environ.get("GOLF_NO_CACHE")
    _state["folder"] = folder


def folder() -> Path | None:
    """The cache folder in use, or None when results are kept in memory only."""
    if _state["enabled"] is None:
        configure()
    return _state["folder"] if _state["enabled"] else None


def digest(data: bytes) -> str:
    """sha256 of `data` (a tenth of a millisecond for a 100 KB script: what is derived from it is what is
    remembered, not the digest)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def cached(kind: str, data: bytes, compute: Callable[[], Any]) -> Any:
    """`compute()`, a JSON value derived from `data` alone, remembered under (kind, sha256 of data)."""
    key = (kind, digest(data))
    if key in _memo:
        return _memo[key]
    path = _entry(kind, key[1])
    value = _load(path) if path is not None else _MISSING
    if value is _MISSING:
        value = compute()
        if path is not None:
            _store(path, value)
    _memo[key] = value
    return value


def clear_memory() -> None:
    """Forget what this process remembered (tests that change how a result is computed)."""
    _memo.clear()


_MISSING = object()


def _folder() -> Path | None:
    base = os.environ.get("GOLF_CACHE_DIR")
    try:
        return Path(base) if base else Path.cwd() / CACHE_DIR_NAME
    except OSError:  # the current folder was removed
        return None


def _inside(path: Path, other: Path) -> bool:
    try:
        path, other = path.resolve(), other.resolve()
    except OSError:
        return True
    return path == other or other in path.parents


def _version() -> str:
    """golf's version and a fingerprint (names, sizes, times) of its source files."""
    if _state["version"] is None:
        import hashlib

        import golf

        package = Path(golf.__file__).parent
        marks = hashlib.sha256()
        for path in sorted(package.rglob("*.py")):
            try:
                info = path.stat()
            except OSError:
                continue
            marks.update(f"{path.relative_to(package)} {info.st_size} {info.st_mtime_ns}\n".encode())
        implementation = f"{sys.implementation.name}{sys.version_info[0]}{sys.version_info[1]}"
        _state["version"] = f"{golf.__version__}-{implementation}-{marks.hexdigest()[:12]}"
    return _state["version"]


def _entry(kind: str, sha: str) -> Path | None:
    base = folder()
    if base is None:
        return None
    return base / _version() / kind / f"{sha}.json"


def _load(path: Path) -> Any:
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)["value"]
    except (OSError, ValueError, KeyError, TypeError):
        return _MISSING


def _store(path: Path, value: Any) -> None:
    """Write one entry atomically; any failure turns the cache folder off for this process."""
    import json

    try:
        _make_folder(path.parent)
        text = json.dumps({"value": value}, allow_nan=False)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except (OSError, ValueError, TypeError):
        _state["enabled"] = False


def _make_folder(entry_folder: Path) -> None:
    base = _state["folder"]
    if not base.is_dir():
        base.mkdir(parents=True, exist_ok=True)
        (base / ".gitignore").write_text("# made by golf: the cache is never committed\n*\n", encoding="utf-8")
        (base / "CACHEDIR.TAG").write_text(_TAG, encoding="utf-8")
    entry_folder.mkdir(parents=True, exist_ok=True)


__all__ = ["CACHE_DIR_NAME", "cached", "clear_memory", "configure", "digest", "folder"]

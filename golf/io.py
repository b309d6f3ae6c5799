"""Small file helpers: hashing, and atomic writes that never lose what a person wrote."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks so any size works in bounded memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def backup_path(path: Path) -> Path:
    """A fresh name beside `path` for a copy of its current content: NAME.bak, else NAME.<time>.bak."""
    candidate = path.with_name(path.name + ".bak")
    if not candidate.exists():
        return candidate
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.{stamp}.bak")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{stamp}-{n}.bak")
        n += 1
    return candidate


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, backup: bool = True) -> Path | None:
    """Write `data` to `path` through a temporary file and a rename.

    When the file exists with different content and `backup` is true, the old
    content is kept as a .bak copy first. Returns the backup path, if one was made.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    if path.exists():
        if path.read_bytes() == data:
            return None
        if backup:
            kept = backup_path(path)
            shutil.copy2(path, kept)
    mode = path.stat().st_mode & 0o777 if path.exists() else _default_mode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)  # mkstemp makes 0600; keep the mode a plain open() would give
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return kept


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike, text: str, *, backup: bool = True) -> Path | None:
    return atomic_write_bytes(path, text.encode("utf-8"), backup=backup)

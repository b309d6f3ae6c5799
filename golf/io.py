"""File helpers with golf's reliability contract built in.

Reading: only regular files, opened without blocking (a FIFO or device is refused, never waited
on), with a size cap; JSON with depth, number-length and finiteness limits.
Writing: atomic (temporary file and rename), never through a symbolic link (the target, its
backup and every folder below an optional root are checked), and the previous content kept as
a .bak copy that is either complete or absent.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import stat
import time
from pathlib import Path

CHUNK = 1 << 20
# Default cap for files read whole (submission.json, manifests, READMEs, scripts).
READ_LIMIT = 64_000_000
JSON_READ_LIMIT = 10_000_000
# A JSON number longer than this (sign, digits, point and exponent) is refused: no real field needs it,
# and Python cannot convert an int of more than 4300 digits.
JSON_MAX_NUMBER_CHARS = 100

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class UnsafeFile(OSError):
    """A file golf will not read or write as asked: not regular, too large, or behind a symbolic link."""

    def __init__(self, path, problem: str) -> None:
        super().__init__(problem)
        self.path = os.fspath(path)
        self.strerror = problem
        self.filename = self.path

    def __str__(self) -> str:
        return f"{self.path}: {self.strerror}"


def kind_of(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike, limit: int | None = READ_LIMIT, *, follow: bool = True):
    """A binary file object for `path`, which must be a regular file of at most `limit` bytes.

    The file is opened with O_NONBLOCK so that a FIFO cannot make the open wait, then checked with
    fstat on the opened descriptor (no race with a swapped path). `follow=False` refuses a symbolic link.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if not follow and error.errno == errno.ELOOP:
            raise UnsafeFile(path, "is a symbolic link (not followed)") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(path, f"is {kind_of(info.st_mode)}, not a regular file")
        if limit is not None and info.st_size > limit:
            raise UnsafeFile(path, f"is {info.st_size:,} bytes, more than the {limit:,} golf reads")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str | os.PathLike, limit: int | None = READ_LIMIT, *, follow: bool = True) -> bytes:
    """The content of a regular file, refusing one larger than `limit` (also if it grows while read)."""
    with open_regular(path, limit, follow=follow) as handle:
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise UnsafeFile(path, f"is more than the {limit:,} bytes golf reads")
    return data


def read_text(path: str | os.PathLike, limit: int | None = READ_LIMIT, *, errors: str = "strict",
              follow: bool = True) -> str:
    return read_bytes(path, limit, follow=follow).decode("utf-8", errors)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a regular file, read in chunks so any size works in bounded memory."""
    digest = hashlib.sha256()
    with open_regular(path, None) as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# JSON in and out
# ---------------------------------------------------------------------------

class JSONInputError(ValueError):
    """JSON golf will not load; the message says where and why."""


def _long_number_at(text: str) -> str:
    match = re.search(r"[0-9]{%d}" % JSON_MAX_NUMBER_CHARS, text)
    return f" at {_where(text, match.start())}" if match else ""


def _where(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    return f"line {line} column {index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def _refuse_constant(name: str):
    raise JSONInputError(f"non-finite number {name} (JSON has no NaN or Infinity)")


def loads_json(text: str, *, allow_nan: bool = False, **kwargs):
    """json.loads with golf's limits: no number longer than JSON_MAX_NUMBER_CHARS and no nesting deeper
    than the interpreter can hold; NaN, Infinity and overflowing numbers (1e999) are refused unless
    `allow_nan` (records in the wild hold them: the reader then reports the field). Raises
    JSONInputError (a ValueError) or json.JSONDecodeError (also a ValueError); time stays linear."""
    parse_float = kwargs.pop("parse_float", float)
    parse_int = kwargs.pop("parse_int", int)

    def checked(convert):
        def parse(token: str):
            if len(token) > JSON_MAX_NUMBER_CHARS:
                raise JSONInputError(f"number longer than {JSON_MAX_NUMBER_CHARS} characters"
                                     + _long_number_at(text))
            value = convert(token)
            if not allow_nan and isinstance(value, float) and not math.isfinite(value):
                raise JSONInputError(f"number {token} is out of range (not a finite float)")
            return value
        return parse

    if not allow_nan:
        kwargs["parse_constant"] = _refuse_constant
    try:
        return json.loads(text, parse_float=checked(parse_float), parse_int=checked(parse_int), **kwargs)
    except RecursionError:
        raise JSONInputError("nested too deeply") from None


def load_json_file(path: str | os.PathLike, limit: int = JSON_READ_LIMIT):
    """A JSON file read with the regular-file checks and loaded with loads_json; errors name the file."""
    try:
        text = read_text(path, limit)
    except UnicodeDecodeError as error:
        raise JSONInputError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        return loads_json(text)
    except json.JSONDecodeError as error:
        raise JSONInputError(f"{path}: invalid JSON: {error.msg} at line {error.lineno} column {error.colno}") \
            from None
    except JSONInputError as error:
        raise JSONInputError(f"{path}: {error}") from None


def finite_json(value):
    """`value` with every non-finite float replaced by None (JSON has no NaN or Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(item) for item in value]
    return value


def dumps_json(value, *, indent: int | None = 2, **kwargs) -> str:
    """Strict JSON: non-finite floats become null, and json itself is told never to write NaN."""
    kwargs.pop("allow_nan", None)   # always strict, whatever a caller asks
    return json.dumps(finite_json(value), indent=indent, allow_nan=False, **kwargs)


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

def _lexists(path: Path) -> bool:
    return os.path.lexists(path)


def backup_path(path: Path) -> Path:
    """A fresh name beside `path` for a copy of its current content: NAME.bak, else NAME.<time>.bak.
    A name taken by anything, a dangling symbolic link included, is never chosen."""
    candidate = path.with_name(path.name + ".bak")
    if not _lexists(candidate):
        return candidate
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.{stamp}.bak")
    n = 1
    while _lexists(candidate):
        candidate = path.with_name(f"{path.name}.{stamp}-{n}.bak")
        n += 1
    return candidate


def check_no_symlinks(path: Path, root: Path) -> None:
    """Refuse `path` when it or a folder between `root` and it is a symbolic link, or it leaves `root`."""
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        raise UnsafeFile(path, f"is outside {root}; golf writes only inside it") from None
    current = Path(os.path.abspath(root))
    for part in rel.parts:
        if part == "..":
            raise UnsafeFile(path, f"leaves {root} through '..'")
        current = current / part
        if current.is_symlink():
            raise UnsafeFile(path, f"{current} is a symbolic link; golf does not write through links")


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create `path` (which must not exist, not even as a link) holding `data`; on any failure nothing is left."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, backup: bool = True,
                       root: str | os.PathLike | None = None) -> Path | None:
    """Write `data` to `path` through a temporary file and a rename.

    When the file exists with different content and `backup` is true, the old content is kept as a
    .bak copy first (a complete copy or none). `path` must not be a symbolic link nor anything but a
    regular file; with `root`, no folder between `root` and `path` may be one either. Returns the
    backup path, if one was made.
    """
    path = Path(path)
    if root is not None:
        check_no_symlinks(path, Path(root))
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = None
    mode = _default_mode()
    if path.is_symlink():
        raise UnsafeFile(path, "is a symbolic link; golf does not write through links")
    if _lexists(path):
        old = read_bytes(path, None, follow=False)
        if old == data:
            return None
        mode = os.stat(path, follow_symlinks=False).st_mode & 0o777
        if backup:
            kept = backup_path(path)
            _write_new(kept, old, mode)
    import tempfile  # only writers need it (and shutil, bz2, lzma behind it)

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


def atomic_write_text(path: str | os.PathLike, text: str, *, backup: bool = True,
                      root: str | os.PathLike | None = None) -> Path | None:
    # A file name that is not UTF-8 reaches text as surrogates: written as \udcff escapes, the file stays UTF-8.
    return atomic_write_bytes(path, text.encode("utf-8", "backslashreplace"), backup=backup, root=root)

"""The token shard format of the challenge (spec 1.8).

A shard is a header of 256 little-endian int32 (magic, version, token count, then zeros)
followed by the tokens as little-endian uint16. Every read validates the header against the
file size, so a truncated or foreign file is a clear ShardError, never a numpy traceback.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np

from golf.errors import GolfError
from golf.io import atomic_write_bytes, open_regular

MAGIC = 20240520
VERSION = 1
HEADER_INTS = 256
HEADER_BYTES = HEADER_INTS * 4
TOKEN_DTYPE = np.dtype("<u2")
MAX_TOKEN = np.iinfo(np.uint16).max


class ShardError(GolfError):
    """A shard file that is missing, unreadable or not in the shard format."""


def _read_header(path: Path) -> np.ndarray:
    if not path.exists():
        raise ShardError(f"{path}: no such shard file")
    if path.is_dir():
        raise ShardError(f"{path}: is a directory, not a shard file")
    try:
        with open_regular(path, None) as f:   # a FIFO or device is refused, never waited on
            raw = f.read(HEADER_BYTES)
    except OSError as error:
        raise ShardError(f"{path}: cannot read shard: {error.strerror or error}") from None
    if not raw:
        raise ShardError(f"{path}: empty file, not a shard")
    if len(raw) < HEADER_BYTES:
        raise ShardError(f"{path}: truncated header ({len(raw)} of {HEADER_BYTES} bytes)")
    return np.frombuffer(raw, dtype="<i4")


def shard_token_count(path: str | os.PathLike) -> int:
    """The number of tokens in a shard, after checking magic, version and the file size."""
    path = Path(path)
    header = _read_header(path)
    if int(header[0]) != MAGIC:
        raise ShardError(f"{path}: wrong magic number {int(header[0])} (expected {MAGIC}); not a token shard")
    if int(header[1]) != VERSION:
        raise ShardError(f"{path}: unsupported shard version {int(header[1])} (expected {VERSION})")
    count = int(header[2])
    if count < 0:
        raise ShardError(f"{path}: negative token count {count} in the header")
    expected = HEADER_BYTES + 2 * count
    actual = path.stat().st_size
    if actual != expected:
        raise ShardError(
            f"{path}: size {actual} bytes does not match the header "
            f"({count} tokens need {expected} bytes); the file is truncated or corrupt")
    return count


def read_shard(path: str | os.PathLike) -> np.ndarray:
    """The tokens of a shard as a read-only memory-mapped uint16 array (validated first)."""
    path = Path(path)
    count = shard_token_count(path)
    if count == 0:
        return np.zeros(0, dtype=np.uint16)
    return np.memmap(path, dtype=TOKEN_DTYPE, mode="r", offset=HEADER_BYTES, shape=(count,))


def shard_bytes(tokens) -> bytes:
    """The bytes of a shard file holding `tokens` (values must fit in uint16)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 1:
        raise ShardError(f"shard tokens must be one-dimensional, got shape {tokens.shape}")
    if tokens.size and tokens.dtype != np.uint16:
        if not np.issubdtype(tokens.dtype, np.integer):
            raise ShardError(f"shard tokens must be integers, got {tokens.dtype}")
        low, high = int(tokens.min()), int(tokens.max())
        if low < 0 or high > MAX_TOKEN:
            raise ShardError(f"token ids must lie in [0, {MAX_TOKEN}], got range [{low}, {high}]")
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[0], header[1], header[2] = MAGIC, VERSION, tokens.size
    return header.tobytes() + tokens.astype(TOKEN_DTYPE, copy=False).tobytes()


def write_shard(path: str | os.PathLike, tokens, *, backup: bool = True) -> Path:
    """Write `tokens` as a shard (atomically; an existing different file is kept as .bak)."""
    path = Path(path)
    atomic_write_bytes(path, shard_bytes(tokens), backup=backup)
    return path


def validate_shard(path: str | os.PathLike) -> str | None:
    """None when the file is a valid shard, else the problem as a message."""
    try:
        shard_token_count(path)
    except ShardError as error:
        return str(error)
    return None


def load_validation_tokens(pattern: str, seq_len: int) -> np.ndarray:
    """All shards matching `pattern` (sorted) concatenated and cut to usable + 1 tokens (spec 1.8).

    usable = ((N - 1) // seq_len) * seq_len, so the result feeds usable/seq_len full sequences.
    """
    if seq_len <= 0:
        raise ShardError(f"sequence length must be positive, got {seq_len}")
    files = sorted(glob.glob(str(pattern)))
    if not files:
        raise ShardError(f"no validation shards match {pattern}")
    tokens = np.concatenate([read_shard(f) for f in files])
    usable = ((tokens.size - 1) // seq_len) * seq_len
    if usable <= 0:
        raise ShardError(
            f"validation shards {pattern} hold {tokens.size} tokens, too few for one sequence of "
            f"{seq_len} (need at least {seq_len + 1})")
    return np.ascontiguousarray(tokens[: usable + 1])

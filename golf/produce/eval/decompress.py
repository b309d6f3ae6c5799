"""Artifact bytes to the object inside, for every compressor the records use, with the output bounded.

zlib (the baseline), lzma (xz or raw "alone" streams), zstd and brotli. The format is told by the
first bytes; brotli has no magic number, so it is tried last. Decompression stops at
MAX_DECOMPRESSED_BYTES: an artifact is at most 16 MB, and a bomb must not fill the worker's memory.
No torch here; `load_object` (torch.load, weights only) is the one call that needs it.
"""

from __future__ import annotations

import io
import lzma
import zlib

from golf.errors import GolfError

MAX_DECOMPRESSED_BYTES = 1 << 30   # 1 GiB: 60x a 16 MB artifact
_CHUNK = 1 << 20


def _too_big(where: str, name: str) -> GolfError:
    return GolfError(f"{where}: the {name} stream decompresses to more than {MAX_DECOMPRESSED_BYTES:,} bytes; "
                     f"refusing it")


def _zlib(data: bytes, where: str, limit: int) -> bytes:
    stream = zlib.decompressobj()
    out = stream.decompress(data, limit + 1)
    if len(out) > limit or stream.unconsumed_tail:
        raise _too_big(where, "zlib")
    out += stream.flush()
    if not stream.eof:
        raise GolfError(f"{where}: truncated zlib data; corrupt or not an artifact")
    return out


def _lzma(data: bytes, where: str, limit: int) -> bytes:
    stream = lzma.LZMADecompressor()
    out = stream.decompress(data, max_length=limit + 1)
    if len(out) > limit or not stream.eof and not stream.needs_input:
        raise _too_big(where, "lzma")
    if not stream.eof:
        raise GolfError(f"{where}: truncated lzma data; corrupt or not an artifact")
    return out


def _zstd(data: bytes, where: str, limit: int) -> bytes:
    try:
        import zstandard
    except ImportError:
        raise GolfError(f"{where}: a zstd artifact needs the zstandard package "
                        f"(pip install 'golf[eval]')") from None
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
    out = reader.read(limit + 1)
    chunks = [out]
    while out and sum(map(len, chunks)) <= limit:
        out = reader.read(limit + 1 - sum(map(len, chunks)))
        chunks.append(out)
    joined = b"".join(chunks)
    if len(joined) > limit:
        raise _too_big(where, "zstd")
    return joined


def _brotli(data: bytes, where: str, limit: int) -> bytes:
    try:
        import brotli
    except ImportError:
        raise GolfError(f"{where}: not zlib, lzma or zstd data; a brotli artifact needs the brotli package "
                        f"(pip install 'golf[eval]')") from None
    stream = brotli.Decompressor()
    chunks, size = [], 0
    piece = stream.process(data, output_buffer_limit=_CHUNK)
    while True:
        chunks.append(piece)
        size += len(piece)
        if size > limit:
            raise _too_big(where, "brotli")
        if stream.is_finished() or not piece and stream.can_accept_more_data():
            break
        piece = stream.process(b"", output_buffer_limit=_CHUNK)
    if not stream.is_finished():
        raise GolfError(f"{where}: truncated brotli data")
    return b"".join(chunks)


def detect(data: bytes) -> str:
    if data[:6] == b"\xfd7zXZ\x00" or data[:3] == b"\x5d\x00\x00":
        return "lzma"
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0:
        return "zlib"
    return "brotli"


_DECODERS = {"zlib": _zlib, "lzma": _lzma, "zstd": _zstd, "brotli": _brotli}


def decompress(data: bytes, where: str, limit: int = MAX_DECOMPRESSED_BYTES) -> tuple[bytes, str]:
    """The decompressed bytes and the name of the compressor."""
    kind = detect(data)
    try:
        return _DECODERS[kind](data, where, limit), kind
    except GolfError:
        raise
    except Exception as error:  # zlib.error, lzma.LZMAError, brotli.error, zstd errors
        raise GolfError(f"{where}: not valid {kind} data ({error}); corrupt or not an artifact") from None


def load_object(data: bytes, where: str):
    """The torch object inside decompressed artifact bytes: tensors and plain containers only."""
    import torch

    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types here; all mean "not a torch file we will load"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GolfError(f"{where}: the decompressed artifact is not a loadable torch file ({first})") from None

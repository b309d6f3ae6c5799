"""Reading the reference artifact format (spec 1.10).

An artifact is a state dict quantized to int8 (per row for large matrices, per
tensor otherwise, small tensors kept as floats), saved with torch.save and
compressed with zlib at level 9. The record's script writes it; golf reads and
dequantizes it, refusing anything but plain tensors. torch is imported inside
the functions that need it.
"""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path

from golf.errors import GolfError
from golf.io import read_bytes

QUANT_FORMAT = "int8_clean_per_row_v1"
ARTIFACT_NAME = "final_model.int8.ptz"
ZLIB_LEVEL = 9
CONTAINER_KEYS = ("quantized", "scales", "dtypes", "passthrough")
# An artifact file is read only up to this size, and decompressed only up to DECOMPRESSED_LIMIT bytes.
ARTIFACT_READ_LIMIT = 1_000_000_000
DECOMPRESSED_LIMIT = 2_000_000_000


def _torch_dtype(name: str, where: str):
    import torch

    dtype = getattr(torch, str(name), None)
    if not isinstance(dtype, torch.dtype):
        raise GolfError(f"{where}: unknown dtype {name!r} in the artifact")
    return dtype


def dequantize_state_dict(container: dict, where: str = "artifact") -> dict:
    """The float state dict a reference container stands for (dtypes restored)."""
    import torch

    check_container(container, where)
    qmeta = container.get("qmeta", {})
    orig_dtypes = container.get("passthrough_orig_dtypes", {})
    out = {}
    for name, q in container["quantized"].items():
        if name not in container["scales"] or name not in container["dtypes"]:
            raise GolfError(f"{where}: quantized tensor {name!r} has no scale or dtype")
        scale = container["scales"][name].to(torch.float32)
        dtype = _torch_dtype(container["dtypes"][name], where)
        per_row = qmeta.get(name, {}).get("scheme") == "per_row" or scale.ndim > 0
        if per_row:
            values = q.float() * scale.view(q.shape[0], *([1] * (q.ndim - 1)))
        else:
            values = q.float() * float(scale.item())
        out[name] = values.to(dtype).contiguous()
    for name, t in container["passthrough"].items():
        kept = t.detach().to("cpu").contiguous()
        if name in orig_dtypes:
            kept = kept.to(_torch_dtype(orig_dtypes[name], where))
        out[name] = kept
    return out


def check_container(container, where: str = "artifact") -> None:
    if not isinstance(container, dict) or "__quant_format__" not in container:
        raise GolfError(f"{where}: not a quantized artifact (no __quant_format__ key)")
    found = container["__quant_format__"]
    if found != QUANT_FORMAT:
        raise GolfError(f"{where}: artifact format {found!r} is not {QUANT_FORMAT!r}; "
                        f"golf reads only the reference format")
    for key in CONTAINER_KEYS:
        if not isinstance(container.get(key), dict):
            raise GolfError(f"{where}: artifact has no {key!r} table")


def compress(container: dict) -> bytes:
    """torch.save into memory, then zlib level 9: the bytes of an artifact file."""
    import torch

    buffer = io.BytesIO()
    torch.save(container, buffer)
    return zlib.compress(buffer.getvalue(), level=ZLIB_LEVEL)


def bounded_decompress(data: bytes, where: str = "artifact", limit: int | None = None) -> bytes:
    """zlib-decompress at most `limit` bytes (DECOMPRESSED_LIMIT): a small bomb cannot fill the memory."""
    limit = DECOMPRESSED_LIMIT if limit is None else limit
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise GolfError(f"{where}: not zlib-compressed data ({error}); corrupt or not an artifact") from None
    if len(raw) > limit or inflater.unconsumed_tail:
        raise GolfError(f"{where}: decompresses to more than {limit:,} bytes; refused (no real artifact is "
                        "that large)")
    return raw


def decompress(data: bytes, where: str = "artifact"):
    """The object inside artifact bytes. Loads tensors and plain containers only (no pickled code)."""
    import torch

    raw = bounded_decompress(data, where)
    try:
        return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types here; all mean "not a torch file"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GolfError(f"{where}: decompressed data is not a loadable torch file ({first})") from None


def load_artifact(path: str | os.PathLike) -> dict:
    """The dequantized state dict stored in an artifact file."""
    path = Path(path)
    if not path.is_file():
        raise GolfError(f"{path}: no such artifact file")
    try:
        data = read_bytes(path, ARTIFACT_READ_LIMIT)
    except OSError as error:
        raise GolfError(f"{path}: cannot read artifact: {error.strerror or error}") from None
    if not data:
        raise GolfError(f"{path}: empty file, not an artifact")
    return dequantize_state_dict(decompress(data, str(path)), str(path))



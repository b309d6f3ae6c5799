"""Code bytes of a record under the ruleset's policy: the shipped script, or its packed wrapper.

"shipped_script" (the written rules): code bytes = the bytes of train_gpt.py as shipped.
"packed" (the practice): code bytes = the smaller of the shipped script and the packed
wrapper golf builds from it (golf.read.packed), plus the bytes of every other file of the
folder the script reads, execs or imports (so an exec stub is counted with the file it runs).
A Python file the script execs is code like the script: it counts packed too (the smaller of
its shipped bytes and its wrapper), as HessianSDClip's 74-byte stub and readable decode file.
Without a shipped script, the log's own `Code size (compressed)` is used and the size is marked as
the log's word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CodeCount:
    """The script's shipped and packed sizes side by side, and what the policy counts."""

    shipped: int | None
    packed: int | None = None
    packed_problem: str | None = None
    already_packed: bool = False
    extra_files: dict[str, int] = field(default_factory=dict)   # other files the script uses: name -> bytes
    extra_packed: dict[str, int] = field(default_factory=dict)  # the Python files it execs, packed: name -> bytes

    @property
    def counted(self) -> int | None:
        """Code bytes under the packed policy."""
        if self.shipped is None:
            return None
        script = self.shipped if self.packed is None else min(self.shipped, self.packed)
        return script + sum(min(size, self.extra_packed.get(name, size)) for name, size in self.extra_files.items())

    def to_dict(self) -> dict:
        return {"shipped": self.shipped, "packed": self.packed, "packed_problem": self.packed_problem,
                "already_packed": self.already_packed, "extra_files": dict(self.extra_files),
                "extra_files_packed": dict(self.extra_packed), "counted": self.counted}


def needs_packing(ctx) -> bool:
    """Packing costs about a second per 50 KB: done under the packed policy, or when a log prints a packed size."""
    if ctx.ruleset.code_bytes_policy.policy == "packed":
        return True
    return any(s.kind == "code_compressed" for log in ctx.record.logs if log.run is not None for s in log.run.sizes)


def count_code(ctx, verdict_only: bool = False, pack: bool = True) -> CodeCount | None:
    """Measure the shipped script's packed form (never runs it). `verdict_only`: leave it unpacked when the
    shipped bytes already fit the cap in every log (packing can only lower the count, not the verdict);
    `pack=False`: leave it unpacked (the count is then the shipped bytes)."""
    from golf.cache import cached
    from golf.read.packed import exec_files, is_wrapper, pack as packed_form

    if ctx.script_size is None or ctx.script_text is None:
        return None
    count = CodeCount(shipped=ctx.script_size)
    data = ctx.script_text.encode("utf-8")
    root = Path(ctx.root)
    if is_wrapper(data):
        count.already_packed = True
        count.packed = ctx.script_size
    for name in _files_used(ctx.script_text, data, root, ctx.script_name or ""):
        try:
            count.extra_files[name] = (root / name).stat().st_size
        except OSError:
            continue
    if pack and ctx.ruleset.code_bytes_policy.policy == "packed":
        for name in exec_files(ctx.script_text, root, ctx.script_name or ""):
            packed = _packed_file(root / name, count.extra_files.get(name))
            if packed is not None:
                count.extra_packed[name] = packed
    if pack and not count.already_packed and needs_packing(ctx) and not (verdict_only and _fits_unpacked(ctx, count)):
        packed = cached(f"packed-{minifier_version()}", data, lambda: _packed(packed_form(ctx.script_text)))
        count.packed, count.packed_problem = packed["bytes"], packed["problem"]
    return count


def _packed_file(path: Path, size: int | None) -> int | None:
    """The packed size of a Python file a script execs (itself, when it already is a wrapper)."""
    from golf.cache import cached
    from golf.read.packed import is_wrapper, pack

    if size is None or size > 4_000_000:
        return None
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if is_wrapper(data):
        return len(data)
    return cached(f"packed-{minifier_version()}", data, lambda: _packed(pack(text)))["bytes"]


def _fits_unpacked(ctx, count: CodeCount) -> bool:
    """Every log's model bytes plus the shipped script and the files it uses fit the track's cap."""
    cap = ctx.track.byte_cap if ctx.track is not None else None
    if cap is None:
        return False
    code = count.shipped + sum(count.extra_files.values())
    return all(log.run is None or log.run.model_bytes is None or log.run.model_bytes + code <= cap
               for log in ctx.record.logs)


def _packed(packed) -> dict:
    return {"bytes": packed.bytes, "problem": packed.problem}


def minifier_version() -> str:
    """The installed python-minifier's version, read from its metadata folder without importing it
    (another version packs differently, so cached packed sizes are kept per version)."""
    import importlib.util

    spec = importlib.util.find_spec("python_minifier")
    if spec is None or not spec.origin:
        return "none"
    site = Path(spec.origin).parent.parent
    found = sorted(site.glob("python_minifier-*.dist-info"))
    return found[-1].name[len("python_minifier-"):-len(".dist-info")] if found else "unknown"


def _files_used(text: str, data: bytes, folder: Path, script: str) -> list[str]:
    """golf.read.packed.files_used, remembered by the script's bytes and the names of the folder's files."""
    from golf.cache import cached
    from golf.read.packed import files_used

    try:
        names = sorted(p.name for p in folder.iterdir() if p.is_file())
    except OSError:
        names = []
    key = data + b"\0" + "\0".join([script, *names]).encode("utf-8", "surrogateescape")
    return cached("files-used", key, lambda: files_used(text, folder, script))


def packed_sizes(ctx, f, run) -> None:
    """Fill a run's counted code and total bytes under the packed policy."""
    if run is not None:
        f.bytes_model = run.model_bytes
        f.bytes_code_logged = run.code_bytes
        f.bytes_total_logged = run.total_bytes
    count = ctx.code_count
    if count is not None and count.counted is not None and f.bytes_model is not None:
        f.bytes_code = count.counted
        f.bytes_total = f.bytes_model + count.counted
        f.size_basis = "packed" if count.packed is not None else "shipped"
        return
    logged_packed = logged_packed_size(run)
    if f.bytes_model is not None and logged_packed is not None:
        f.bytes_code = logged_packed
        f.bytes_total = f.bytes_model + logged_packed
        f.size_basis = "logged-packed"
    elif f.bytes_total_logged is not None or f.bytes_model is not None:
        from golf.judge.facts import use_logged_sizes

        use_logged_sizes(f)


def logged_packed_size(run) -> int | None:
    """The last `Code size (compressed)` figure a run printed."""
    if run is None:
        return None
    figures = [s.bytes for s in run.sizes if s.kind == "code_compressed"]
    return figures[-1] if figures else None


__all__ = ["CodeCount", "count_code", "logged_packed_size", "needs_packing", "packed_sizes"]

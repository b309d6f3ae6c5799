"""Logs copied from another record of the same records tree (spec 4.4: duplicates were excluded).

Two logs are copies when their bytes are identical, or when their runs printed the same
numbers: every periodic validation line and every score line (step, val_loss, val_bpb and
label) equal. Independent runs never agree on all of those; a log edited only in its
header or paths still does.

golf's own rerun work directories are never searched: a rerun that reproduces a record
exactly is the goal, not a copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

# A run with fewer numbered lines than this is too short to call a copy by its numbers.
MIN_NUMBERED_LINES = 3


def run_fingerprint(run) -> str | None:
    """A hash of the numbers a run printed, or None when it printed too few."""
    if run is None:
        return None
    items = [f"v {p.step}/{p.total_steps} {p.val_loss!r} {p.val_bpb!r}" for p in run.periodic]
    items += [f"s {s.label} {s.val_loss!r} {s.val_bpb!r}" for s in run.scores]
    if len(items) < MIN_NUMBERED_LINES:
        return None
    return hashlib.sha256("\n".join(items).encode()).hexdigest()


@dataclass(frozen=True)
class LogEntry:
    record: Path
    log: str
    date: str | None
    author: str | None


@dataclass
class CopyIndex:
    by_bytes: dict[str, list[LogEntry]] = field(default_factory=dict)
    by_numbers: dict[str, list[LogEntry]] = field(default_factory=dict)


@dataclass(frozen=True)
class Copy:
    log: str
    other: LogEntry
    how: str          # "bytes" or "numbers"


def build_index(tree: Path) -> CopyIndex:
    """Every log of every record folder below `tree`, by its bytes and by its numbers."""
    from golf.errors import GolfError
    from golf.judge.facts import record_date
    from golf.read.records import find_record_dirs, load_record
    from golf.read.workdirs import is_rerun_copy

    index = CopyIndex()
    try:
        folders = find_record_dirs(tree)
    except (GolfError, OSError):
        return index
    for folder in folders:
        if is_rerun_copy(folder, tree):
            continue  # a rerun's logs reproduce the record: evidence, never a copy
        try:
            record = load_record(folder)
        except (GolfError, OSError):
            continue
        author = getattr(record.submission, "github_id", None) or getattr(record.submission, "author", None) \
            if record.submission is not None else None
        for log in record.logs:
            entry = LogEntry(Path(folder).resolve(), log.path, record_date(record, Path(folder)), author)
            if log.sha256:
                index.by_bytes.setdefault(log.sha256, []).append(entry)
            fingerprint = run_fingerprint(log.run)
            if fingerprint:
                index.by_numbers.setdefault(fingerprint, []).append(entry)
    return index


def copies_in(ctx, index: CopyIndex) -> list[Copy]:
    """This record's logs found in another record of the tree (dated the same day or earlier)."""
    from golf.judge.facts import record_date

    mine = Path(ctx.root).resolve()
    date = record_date(ctx.record, Path(ctx.root))
    found: list[Copy] = []
    for log in ctx.record.logs:
        seen = set()
        candidates = [(e, "bytes") for e in index.by_bytes.get(log.sha256 or "", [])]
        fingerprint = run_fingerprint(log.run)
        if fingerprint:
            candidates += [(e, "numbers") for e in index.by_numbers.get(fingerprint, [])]
        for entry, how in candidates:
            if entry.record == mine or entry.record in seen:
                continue
            if date is not None and entry.date is not None and entry.date > date:
                continue  # the other record is the later one: it copied, not this one
            seen.add(entry.record)
            found.append(Copy(log.path, entry, how))
    return found


__all__ = ["Copy", "CopyIndex", "LogEntry", "build_index", "copies_in", "run_fingerprint"]

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
    pending: list = field(default_factory=list, repr=False)  # (date or None, folder) not read yet, by date


@dataclass(frozen=True)
class Copy:
    log: str
    other: LogEntry
    how: str          # "bytes" or "numbers"


def build_index(tree: Path, until: str | None = None, load=None) -> CopyIndex:
    """Every log of every record folder below `tree` (or, `until`, of those dated then or earlier,
    all a record of that date can have copied from), by its bytes and by its numbers."""
    index = start_index(tree)
    grow_index(index, until, load)
    return index


def start_index(tree: Path) -> CopyIndex:
    """An index with no folder read yet: the record folders below `tree` wait in date order."""
    from golf.errors import GolfError
    from golf.judge.frontier import folder_date
    from golf.read.records import find_record_dirs
    from golf.read.workdirs import is_rerun_copy

    index = CopyIndex()
    try:
        folders = find_record_dirs(tree)
    except (GolfError, OSError):
        return index
    # A rerun's copies of a record are evidence of reproduction, never the original of a copied log.
    folders = [f for f in folders if not is_rerun_copy(f, tree)]
    # A folder whose name has no date is read first: only its submission.json can date it.
    index.pending = sorted(((folder_date(Path(f)), f) for f in folders), key=lambda item: item[0] or "")
    return index


def grow_index(index: CopyIndex, until: str | None = None, load=None) -> None:
    """Read the waiting folders dated `until` or earlier (all of them when `until` is None)."""
    from golf.errors import GolfError
    from golf.judge.facts import record_date
    from golf.read.records import load_record

    load = load or load_record
    while index.pending and (until is None or index.pending[0][0] is None or index.pending[0][0] <= until):
        _, folder = index.pending.pop(0)
        try:
            record = load(folder)
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


__all__ = ["Copy", "CopyIndex", "LogEntry", "build_index", "copies_in", "grow_index", "run_fingerprint",
           "start_index"]

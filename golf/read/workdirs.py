"""Names that mark golf's own rerun work directories (written by golf.produce.rerun).

A rerun copies the record folder once per seed into `<workdir>/seed<SEED>/` and leaves a
marker file there; the default workdir is `./.golf-rerun/<record>/`. Those copies look like
record folders, and their logs reproduce the record's: readers that search a records tree
(the copy check, SOTA lookups) leave them out.
"""

from __future__ import annotations

from pathlib import Path

WORKDIR_NAME = ".golf-rerun"
MARKER_NAME = ".golf-rerun-seed"


def is_rerun_copy(folder: Path, tree: Path | None = None) -> bool:
    """Whether `folder` is a rerun's per-seed copy, or lies inside a rerun work directory below `tree`."""
    folder = Path(folder)
    if (folder / MARKER_NAME).exists():
        return True
    try:
        parts = folder.resolve().relative_to(Path(tree).resolve()).parts if tree is not None else folder.parts
    except ValueError:
        parts = folder.parts
    return WORKDIR_NAME in parts


__all__ = ["MARKER_NAME", "WORKDIR_NAME", "is_rerun_copy"]

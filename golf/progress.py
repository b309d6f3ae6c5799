"""Progress display for long work: a rich bar on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator


class _Bar:
    def __init__(self, progress, task):
        self._progress = progress
        self._task = task

    def advance(self, amount: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def update(self, **fields) -> None:
        if self._progress is not None:
            self._progress.update(self._task, **fields)


@contextmanager
def progress_bar(description: str, total: float | None = None, *, enabled: bool | None = None) -> Iterator[_Bar]:
    """Show a progress bar on stderr while the block runs.

    Disabled when stderr is not a terminal (CI logs, pipes) unless `enabled` says otherwise.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield _Bar(None, None)
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=total)
        yield _Bar(progress, task)


__all__ = ["progress_bar"]

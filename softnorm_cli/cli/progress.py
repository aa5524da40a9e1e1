"""Progress on stderr for long runs: a Rich bar that appears after a second of work."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class _Bar:
    """A Rich progress display that may never have started; stopped on close."""

    _progress: Progress | None = None

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BatchProgress(_Bar):
    """Called after each batch with the stage's name; reads how far the source has come.

    Short runs finish before the bar would appear, so they print nothing.
    """

    def __init__(self, source, console: Console, delay: float = 1.0):
        self._source = source
        self._console = console
        self._start = time.monotonic()
        self._delay = delay
        self._progress: Progress | None = None
        self._tasks: dict[str, int] = {}

    def __call__(self, stage: str) -> None:
        if self._progress is None:
            if time.monotonic() - self._start < self._delay:
                return
            self._progress = self._make(self._source.position[2])
            self._progress.start()
        done, total, _ = self._source.position
        if stage not in self._tasks:
            for task in self._tasks.values():
                self._progress.update(task, completed=self._progress.tasks[task].total or done)
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done, total=total)

    def _make(self, unit: str) -> Progress:
        if unit == "bytes":
            columns = [
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
            ]
        else:  # rows, total known (Parquet) or not (a pipe)
            columns = [
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,.0f} rows"),
                TimeElapsedColumn(),
            ]
        return Progress(*columns, console=self._console, transient=True)



class PartProgress(_Bar):
    """Called after each part of a dataset with the stage, the parts done and their number;
    like :class:`BatchProgress`, it appears only after a second of work."""

    def __init__(self, console: Console, delay: float = 1.0):
        self._console = console
        self._start = time.monotonic()
        self._delay = delay
        self._progress: Progress | None = None
        self._tasks: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._progress is None:
            if time.monotonic() - self._start < self._delay:
                return
            columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total} parts"), TimeElapsedColumn()]
            self._progress = Progress(*columns, console=self._console, transient=True)
            self._progress.start()
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(self._tasks[stage], completed=done)

"""Progress on stderr for long runs: a Rich bar that appears after a second of work."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text


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


class _Amount(ProgressColumn):
    """How far a stage has come, in the unit its source counts: bytes of a known total
    (a file, or standard input kept aside for a second pass), or rows (a pipe)."""

    def __init__(self):
        super().__init__()
        self._share, self._bytes, self._speed = TaskProgressColumn(), DownloadColumn(), TransferSpeedColumn()

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "bytes" and task.total:
            return Text.assemble(self._share.render(task), " ", self._bytes.render(task), " ", self._speed.render(task))
        return Text(f"{task.completed:,.0f} rows")


class _Time(ProgressColumn):
    """The time left when the total is known, else the time so far."""

    def __init__(self):
        super().__init__()
        self._left, self._so_far = TimeRemainingColumn(), TimeElapsedColumn()

    def render(self, task: Task) -> Text:
        return (self._left if task.fields.get("unit") == "bytes" and task.total else self._so_far).render(task)


class BatchProgress(_Bar):
    """Called after each batch with the stage's name; reads how far the source has come.

    The bar appears a second into the run, by a timer: a slow pipe may take
    far longer than that to fill its first batch, or even the first rows
    that open it (``source`` may be None until then, see :meth:`follow`).
    Short runs finish before, so they print nothing.
    """

    #: What the bar says before the first batch names its stage.
    FIRST = "reading"

    def __init__(self, source, console: Console, delay: float = 1.0):
        self._source = source
        self._console = console
        self._start = time.monotonic()
        self._delay = delay
        self._progress: Progress | None = None
        self._tasks: dict[str, int] = {}
        self._stage: str | None = None
        self._closed = False
        self._lock = threading.Lock()  # the timer's thread and the batches' calls
        self._timer = threading.Timer(delay, self._appear)
        self._timer.daemon = True
        self._timer.start()

    def follow(self, source) -> None:
        """Count the progress of ``source``, now open."""
        with self._lock:
            self._source = source

    def __call__(self, stage: str) -> None:
        with self._lock:
            self._stage = stage
            if self._progress is None and time.monotonic() - self._start >= self._delay:
                self._start_bar()
            if self._progress is not None:
                self._update()

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._closed = True
            super().close()

    def _appear(self) -> None:
        with self._lock:
            if self._progress is None and not self._closed:
                self._start_bar()
                self._update()

    def _start_bar(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), _Amount(), _Time(), console=self._console, transient=True
        )
        self._progress.start()

    def _update(self) -> None:
        done, total, unit = (0, None, "rows") if self._source is None else self._source.position
        stage = self._stage or self.FIRST
        if stage not in self._tasks:
            if list(self._tasks) == [self.FIRST]:  # the first batch names the stage shown so far
                task = self._tasks.pop(self.FIRST)
                self._progress.update(task, description=stage)
                self._tasks[stage] = task
            else:
                for task in self._tasks.values():  # ended: full, at the count it reached in its own unit
                    end = self._progress.tasks[task].total or self._progress.tasks[task].completed
                    self._progress.update(task, completed=end, total=end)
                self._tasks[stage] = self._progress.add_task(stage, total=total, unit=unit)
        self._progress.update(self._tasks[stage], completed=done, total=total, unit=unit)


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

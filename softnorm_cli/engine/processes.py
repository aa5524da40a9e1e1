"""The local engine on many cores: the partitions' work (:mod:`~softnorm_cli.engine.parts`) in worker processes.

``--jobs N`` processes of this machine each take a partition at a time: a
partition's fit or its writing, read and written by the worker alone, with
the memory bound of one run. Merges are small and run here, in the order
the fixed trees give, so the figures do not depend on which worker was
fastest. Workers are started only when there are two partitions or more,
with polars' threads shared out among them, and never see Ctrl-C: softnorm
gets it and stops them.

A worker that dies (killed, out of memory) breaks the pool: its
partitions, and those not yet done, are given once more to a new pool, as
Dask retries a task whose worker died; the parts are written under
temporary names and renamed, so a partition written twice is written
whole. A second death ends the run with one line.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from softnorm_cli.engine.parts import LocalExecutor
from softnorm_cli.errors import SoftnormError

#: How often a partition is tried in a new pool after its worker died.
RETRIES = 1


def available_cores() -> int:
    """The cores this process may run on (its affinity, which a container or ``taskset`` narrows)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: Without --jobs, one file written to one file is split only on this many cores or more: its parts
#: are joined by copying them once more, and fewer cores are used by polars' own threads as well as by
#: workers (on 2 cores, 100M rows of CSV took 255 s with two workers, 220 s in one process; 64 Parquet
#: parts to a directory, with no join, 49 s against 68 s).
SPLIT_ONE_FILE_CORES = 4


def splits_one_file(jobs_given: bool) -> bool:
    """Whether one large file written to one file is read as partitions by workers."""
    return jobs_given or available_cores() >= SPLIT_ONE_FILE_CORES


class ProcessExecutor(LocalExecutor):
    """Runs each partition's task in one of ``jobs`` worker processes; a context manager that stops them.
    Merges, and a stage of one task, run here, as on the local executor."""

    def __init__(self, jobs: int, on_part=None):
        super().__init__(on_part)
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        self.workers = 1

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            self._stop(now=exc_type is not None)

    def map(self, fn: Callable, items: Sequence, stage: str, *args) -> list:
        if len(items) < 2 or self.jobs < 2:
            return super().map(fn, items, stage, *args)
        results: dict[int, Any] = {}
        for attempt in range(RETRIES + 1):
            pool = self._started(len(items))
            futures = {}
            try:  # a worker that died while the pool was idle breaks it too: submitting says so
                for i, item in enumerate(items):
                    if i not in results:
                        futures[i] = pool.submit(fn, *args, item)
                for i, future in futures.items():
                    results[i] = future.result()
                    if self.on_part is not None:
                        self.on_part(stage, len(results), len(items))
                break
            except BrokenProcessPool:
                self._stop(now=True)
                for i, future in futures.items():  # what finished before the pool broke is kept
                    if i not in results and future.done() and not future.cancelled() and future.exception() is None:
                        results[i] = future.result()
                if attempt == RETRIES:
                    raise SoftnormError(
                        f"a worker process died while {stage} ({len(items) - len(results)} of {len(items)} "
                        f"partitions not done, after {RETRIES + 1} tries): killed, or out of memory? Try fewer --jobs"
                    ) from None
        return [results[i] for i in range(len(items))]

    def describe(self, parts: int) -> dict:
        return {**super().describe(parts), "workers": self.workers}

    def _started(self, partitions: int) -> ProcessPoolExecutor:
        if self._pool is None:
            self.workers = max(self.workers, min(self.jobs, partitions))
            threads = max(1, available_cores() // self.workers)
            # Spawned, not forked: polars' and numpy's threads do not survive a fork.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_start, initargs=(threads,))
        return self._pool

    def _stop(self, now: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if now:  # an error or Ctrl-C: the partitions in hand are not waited for
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _worker_start(threads: int) -> None:
    """In each worker, before it imports polars: its share of the threads; Ctrl-C is for softnorm."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("POLARS_MAX_THREADS", str(threads))

"""The Dask engine: the parts' work (:mod:`softnorm_cli.engine.parts`) as tasks on a Dask cluster.

With a scheduler address it joins that cluster; without one it starts a
``distributed.LocalCluster`` on this machine, bound to the loopback
interface, and stops it afterwards. Tasks are not pure (each reads or writes
a file), and Dask retries a task whose worker died, so a part is written by
whichever attempt finishes: each part file is written under a temporary name
and renamed, so a retried part replaces a half-written one cleanly.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from softnorm_cli.errors import SoftnormError, install_hint

#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT = 30


class DaskExecutor:
    """Runs tasks on a cluster; a context manager that connects, or starts and stops a local cluster."""

    def __init__(self, scheduler: str | None = None, progress: bool = False):
        self.scheduler = scheduler
        self.progress = progress
        self.client = None
        self._cluster = None
        self._submitted: list = []

    def __enter__(self) -> DaskExecutor:
        try:
            import distributed
        except ImportError:
            raise SoftnormError(f"--engine dask needs Dask: {install_hint('dask', 'dask[distributed]')}") from None
        try:
            if self.scheduler:
                self.client = distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            else:
                # One single-threaded process per core: polars and numpy bring their own threads.
                # Everything, the scheduler's HTTP server included, listens on the loopback interface only.
                self._cluster = distributed.LocalCluster(
                    threads_per_worker=1, processes=True,
                    host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50,
                )
                self.client = distributed.Client(self._cluster, set_as_default=False)
        except OSError as e:
            self.__exit__(None, None, None)
            raise SoftnormError(f"cannot reach the Dask scheduler {self.scheduler or 'on this machine'}: {e}") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def share(self, value: Any) -> Any:
        return self.client.scatter(value, broadcast=True, hash=False)

    def map(self, fn: Callable, items: Sequence, stage: str, *args) -> list:
        return [self.submit(fn, *args, item) for item in items]

    def submit(self, fn: Callable, *args) -> Any:
        future = self.client.submit(fn, *args, pure=False)
        self._submitted.append(future)
        return future

    def gather(self, handles: list, stage: str) -> list:
        submitted, self._submitted = self._submitted, []
        if self.progress:
            from distributed import progress

            # Dask draws its bar on stdout; stdout may carry data, stderr is for people.
            with contextlib.redirect_stdout(sys.stderr):
                print(f"{stage}:")
                # Every task since the last gather: the parts, then the merges.
                progress(submitted, notebook=False, scheduler=self.client.scheduler.address)
        return self.client.gather(handles)

    def describe(self, parts: int) -> dict:
        info = {"name": "dask", "workers": len(self.client.nthreads()), "partitions": parts}
        info["scheduler"] = self.scheduler or "local cluster"
        return info

"""The Dask engine: the parts' work (:mod:`softnorm_cli.engine.parts`) as tasks on a Dask cluster.

With a scheduler address it joins that cluster; without one it starts a
``distributed.LocalCluster`` on this machine, bound to the loopback
interface, and stops it afterwards. Tasks are not pure (each reads or writes
a file), and Dask retries a task whose worker died, so a part is written by
whichever attempt finishes: each part file is written under a temporary name
and renamed, so a retried part replaces a half-written one cleanly.

A local cluster is softnorm's alone: its workers keep their files in a
temporary directory of the run, removed with the cluster, and leave Ctrl-C
to softnorm, which stops them.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
import threading
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
        self._scratch: str | None = None
        self._submitted: list = []

    def __enter__(self) -> DaskExecutor:
        try:
            import dask
            import distributed
        except ImportError:
            raise SoftnormError(f"--engine dask needs Dask: {install_hint('dask', 'dask[distributed]')}") from None
        try:
            if self.scheduler:
                self.client = distributed.Client(self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
            else:
                self._scratch = tempfile.mkdtemp(prefix="softnorm-dask-")
                # The scheduler and every worker keep their files under the scratch directory, not in
                # a dask-scratch-space/ of the temporary directory that outlives the run.
                with dask.config.set({"temporary-directory": self._scratch}), _workers_deaf_to_ctrl_c():
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
        except BaseException:  # a signal while the cluster starts: it is stopped all the same
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self.client is not None:
                self.client.close()
            if self._cluster is not None:
                self._cluster.close()
        finally:
            if self._scratch is not None:
                shutil.rmtree(self._scratch, ignore_errors=True)

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


@contextlib.contextmanager
def _workers_deaf_to_ctrl_c():
    """Start the local cluster's processes with SIGINT blocked, and softnorm's own Ctrl-C held until they are up.

    Ctrl-C goes to every process of the terminal's foreground group, so each
    worker process would stop with a traceback of its own. A thread or a
    process inherits the signals blocked where it starts, across exec too. The
    cluster's event-loop thread starts here, so it and every worker process it
    starts (now, or later in place of one that died) never see SIGINT:
    softnorm gets it and stops the cluster. A Ctrl-C while the cluster starts
    is kept, and delivered once it is up and can be stopped.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    from multiprocessing import resource_tracker

    # Its first start unblocks SIGINT in the thread that starts it, which would be the event loop's.
    resource_tracker.ensure_running()
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # one that waited is handled here, and caught
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)

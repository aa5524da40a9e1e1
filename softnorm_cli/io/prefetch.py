"""Items made one ahead in a background thread, so that reading overlaps with what uses them.

polars parses and numpy computes without holding the GIL: while the caller
transforms one batch, the next is read and parsed beside it, and both cores
stay busy.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()
_POLL = 0.1  # seconds between looks at whether the consumer has gone
#: How long a consumer that stops early waits for the producer to see it.
_STOP_SECONDS = 2.0


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items``, produced up to ``depth`` ahead in a background thread.

    An exception in the producer is raised in the consumer, at the item it
    would have been; a consumer that stops early (an error, a signal) stops
    the producer, which closes ``items`` so that its ``finally`` blocks run.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as error:  # handed to the consumer, raised there
            put((False, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="softnorm-reader", daemon=True)
    worker.start()
    try:
        while True:
            try:
                # With a timeout: a wait that never returns would keep a signal's
                # handler, which runs between bytecodes, from ever running.
                ok, item = ready.get(timeout=_POLL)
            except queue.Empty:
                continue
            if not ok:
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        # A producer parsing a block sees ``stop`` in a moment; one blocked reading
        # a pipe that sends nothing may never: it is a daemon, left to the exit.
        # An abandoned generator is closed where it is collected, which may be
        # the producer itself: a thread cannot wait for itself.
        if worker is not threading.current_thread():
            worker.join(_STOP_SECONDS)

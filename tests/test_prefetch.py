"""The read-ahead thread: a generator collected anywhere, its own producer thread included, stops cleanly."""

from __future__ import annotations

import sys
import threading

from softnorm_cli.io.prefetch import prefetched


def test_a_prefetch_dropped_in_its_own_producer_thread_closes_without_an_error(monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    holder: dict = {}
    released, dropped = threading.Event(), threading.Event()

    def items():
        yield 1
        released.wait(5)
        holder.clear()  # the last reference to the consumer's generator: it is collected here, in the producer
        dropped.set()
        yield 2

    holder["batches"] = prefetched(items())
    assert next(holder["batches"]) == 1
    released.set()
    assert dropped.wait(5)
    assert unraisable == []


def test_a_consumer_that_stops_early_closes_the_items():
    closed = threading.Event()

    def items():
        try:
            yield from range(1000)
        finally:
            closed.set()

    batches = prefetched(items())
    assert next(batches) == 0
    batches.close()
    assert closed.wait(5)

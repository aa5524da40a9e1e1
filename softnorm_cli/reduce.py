"""Statistics of rows that arrive in blocks of any size, the same to the last bit.

Floating-point sums depend on their order, so merging the statistics of
whatever batches the reader produced would make the results depend on the
batch size, the format, or how fast a pipe delivered. A :class:`Reduction`
instead fits fixed chunks of ``CHUNK_ROWS`` rows, counted from the first row,
and merges them left to right: the same rows give the same statistics, bit
for bit, whether they came as one batch or as many.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

#: Rows per chunk: enough that the per-chunk cost vanishes, small enough that
#: a chunk being assembled from small batches stays small. Wide blocks get
#: fewer rows, so that a chunk holds about CHUNK_BYTES of values; the number
#: depends on the width alone, never on the batches.
CHUNK_ROWS = 1 << 16
CHUNK_BYTES = 4 << 20
MIN_CHUNK_ROWS = 1 << 10


def chunk_rows(width: int) -> int:
    """Rows per chunk for blocks of ``width`` columns: a power of two."""
    rows = CHUNK_ROWS
    while rows > MIN_CHUNK_ROWS and rows * width * 8 > CHUNK_BYTES:
        rows //= 2
    return rows

Stats = TypeVar("Stats")


class Reduction(Generic[Stats]):
    """``fit`` over fixed chunks of rows, merged in order with ``merge`` (by default ``Stats.merge``)."""

    def __init__(
        self,
        fit: Callable[[np.ndarray], Stats],
        merge: Callable[[Stats, Stats], Stats] | None = None,
        rows: int | None = None,
    ):
        self._fit = fit
        self._merge_two = merge or (lambda a, b: a.merge(b))
        self._rows = rows  # by default chosen from the width of the first block
        self._pending: list[np.ndarray] = []  # the rows of an unfinished chunk
        self._pending_rows = 0
        self._width: int | None = None
        self._total: Stats | None = None

    def add(self, values: np.ndarray) -> None:
        """Take the next rows (a 2-D block)."""
        self._width = values.shape[1]
        if self._rows is None:
            self._rows = chunk_rows(self._width)
        start = 0
        if self._pending:
            start = min(len(values), self._rows - self._pending_rows)
            self._keep(values[:start])
            if self._pending_rows == self._rows:
                self._merge(_stacked(self._pending, self._width))
                self._pending, self._pending_rows = [], 0
        while len(values) - start >= self._rows:
            self._merge(values[start : start + self._rows])
            start += self._rows
        if start < len(values):
            self._keep(values[start:])

    def _keep(self, rows: np.ndarray) -> None:
        if len(rows):
            self._pending.append(rows)  # a view: copied once, when the chunk is complete
            self._pending_rows += len(rows)

    def _merge(self, chunk: np.ndarray) -> None:
        stats = self._fit(chunk)
        self._total = stats if self._total is None else self._merge_two(self._total, stats)

    def result(self) -> Stats:
        """The statistics of all rows taken (of no rows, if none came)."""
        if self._pending or self._total is None:
            self._merge(_stacked(self._pending, self._width or 0))
            self._pending, self._pending_rows = [], 0
        return self._total


def _stacked(pieces: list[np.ndarray], width: int) -> np.ndarray:
    rows = sum(len(piece) for piece in pieces)
    out = np.empty((rows, width), order="F")
    if pieces:
        np.concatenate(pieces, axis=0, out=out)
    return out

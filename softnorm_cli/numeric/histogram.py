"""Histogram counts over fixed edges, per column: integers, so merging is adding.

Counts of the same rows are the same whatever the batches or parts they came
in, and whatever the order they are added in.
"""

from __future__ import annotations

import numpy as np

#: Bins counted: a power of two, so that a picture of fewer bins sums neighbours.
BINS = 64


def bin_counts(values: np.ndarray, low, high, bins: int = BINS) -> np.ndarray:
    """Counts of each column's values in ``bins`` equal bins from ``low`` to ``high``: ``(columns, bins)``.

    ``values`` is ``(rows, columns)``; ``low`` and ``high`` hold one edge per
    column (or one for all). As in ``np.histogram``, the last bin includes
    ``high``. Missing values are not counted, nor values below ``low``; values
    above ``high`` count in the last bin (the edges come from the data's own
    minimum and maximum, so only rounding puts a value there). A column whose
    edges are equal (a constant) counts its values in the first bin.

    Examples
    --------
    >>> bin_counts(np.array([[0.0], [0.5], [1.0], [np.nan]]), np.array([0.0]), np.array([1.0]), 4).tolist()
    [[1, 0, 1, 1]]
    """
    histogram = Histogram(low, high, values.shape[1], bins)
    histogram.add(values)
    return histogram.counts


class Histogram:
    """:func:`bin_counts` added up over blocks of rows: ``counts``, ``(columns, bins)``.

    Each block costs a few passes over its values, in scratch arrays kept
    from block to block (allocating them anew costs as much as the passes).
    """

    def __init__(self, low, high, columns: int, bins: int = BINS):
        self.bins = bins
        self.low = np.array(np.broadcast_to(np.asarray(low, dtype=np.float64), (columns,)))
        width = np.broadcast_to(np.asarray(high, dtype=np.float64), (columns,)) - self.low
        self.scale = np.divide(bins, width, out=np.zeros(columns), where=np.isfinite(width) & (width > 0))
        # Each column's bins follow a bin of its own for what is not counted, cut off in ``counts``.
        self._first = np.arange(1, columns * (bins + 1), bins + 1, dtype=np.float64)
        self._total = np.zeros(columns * (bins + 1), dtype=np.int64)
        self._scratch: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def counts(self) -> np.ndarray:
        return self._total.reshape(-1, self.bins + 1)[:, 1:]

    def add(self, values: np.ndarray) -> None:
        position, index = self._buffers(values)
        with np.errstate(invalid="ignore", over="ignore"):  # NaN, and infinities times a zero scale, are dropped below
            np.subtract(values, self.low, out=position)
            position *= self.scale
        position += self._first
        np.minimum(position, self._first + (self.bins - 1), out=position)
        np.fmax(position, self._first - 1, out=position)  # NaN, and below low: the bin not counted
        np.copyto(index, position, casting="unsafe")  # positive: truncation is the floor
        # Not bincount: it makes an array of every bin of every column, however few the rows.
        np.add.at(self._total, index.ravel(order="K"), 1)

    def merge(self, other: Histogram) -> Histogram:
        merged = Histogram.__new__(Histogram)
        merged.__dict__.update(self.__dict__, _total=self._total + other._total, _scratch=None)
        return merged

    def _buffers(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        order = "F" if values.flags.f_contiguous else "C"
        scratch = self._scratch
        if scratch is None or scratch[0].shape != values.shape or not scratch[0].flags[f"{order}_CONTIGUOUS"]:
            scratch = np.empty(values.shape, order=order), np.empty(values.shape, dtype=np.intp, order=order)
            self._scratch = scratch
        return scratch

    def __getstate__(self) -> dict:
        # What travels between processes (a cluster's tasks) is the counts, not the scratch.
        return {**self.__dict__, "_scratch": None}

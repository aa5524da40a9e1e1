"""Histogram counts over fixed edges, per column: integers, so merging is adding.

Counts of the same rows are the same whatever the batches or parts they came
in, and whatever the order they are added in.
"""

from __future__ import annotations

import numpy as np

#: Bins counted: a power of two, so that a picture of fewer bins sums neighbours.
BINS = 64


def bin_counts(values: np.ndarray, low: np.ndarray, high: np.ndarray, bins: int = BINS) -> np.ndarray:
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
    rows, columns = values.shape
    low = np.broadcast_to(np.asarray(low, dtype=np.float64), (columns,))
    width = np.broadcast_to(np.asarray(high, dtype=np.float64), (columns,)) - low
    scale = np.divide(bins, width, out=np.zeros(columns), where=np.isfinite(width) & (width > 0))
    with np.errstate(invalid="ignore", over="ignore"):  # NaN, and infinities times a zero scale, are dropped below
        position = values - low
        position *= scale
    # Bin -1 takes what is not counted (NaN and values below low); it is cut off at the end.
    np.minimum(position, bins - 1, out=position)
    np.fmax(position, -1.0, out=position)
    index = position.astype(np.intp)
    index += np.arange(1, columns * (bins + 1), bins + 1)
    counts = np.bincount(index.ravel(order="K"), minlength=columns * (bins + 1))
    return counts.reshape(columns, bins + 1)[:, 1:]

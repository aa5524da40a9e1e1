"""numpy's linear percentile in pieces: the ranks it reads, its interpolation, and keys that sort as floats do.

:mod:`~softnorm_cli.numeric.quantiles` finds the order statistics by the bits
of their keys, in passes; these are the pieces that make its figures those of
``np.nanpercentile`` to the bit: the ranks and weights of ``_quantile`` (in
``numpy/lib/_function_base_impl.py``) and its ``_lerp``, operation for
operation. :func:`row_percentiles` puts them together for many short rows
held in memory. Pure numpy.
"""

from __future__ import annotations

import numpy as np

_SIGN = np.uint64(1 << 63)


def to_keys(values: np.ndarray) -> np.ndarray:
    """Order-preserving uint64 keys of float64 ``values``: the sign bit set for positives, all bits flipped for negatives."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    # Negatives (sign bit set) flip every bit, positives only the sign: one mask, made by the arithmetic shift.
    mask = bits.view(np.int64) >> 63
    mask = mask.view(np.uint64)
    mask |= _SIGN
    mask ^= bits
    return mask


def from_keys(keys: np.ndarray) -> np.ndarray:
    keys = np.asarray(keys, dtype=np.uint64)
    return np.where(keys & _SIGN, keys & ~_SIGN, ~keys).view(np.float64)


def ranks_needed(count, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's linear method on ``count`` values: the ranks below and above each ``q`` (0 to 100), and the weight.

    As ``_quantile`` computes them: the index ``(n - 1) * q / 100``; past the
    last index both ranks are the last, and the weight is taken from -1.
    ``count`` may be an array of counts (one per row): then a row of ranks each.
    """
    quantiles = np.true_divide(np.asarray(q, dtype=np.float64), 100)
    counts = np.asarray(count)
    if counts.ndim:
        counts = counts[..., None]
    virtual = (counts - 1) * quantiles
    past, before = virtual >= counts - 1, virtual < 0
    below = np.floor(virtual)
    above = np.where(past, -1, np.where(before, 0, below + 1)).astype(np.intp)
    below = np.where(past, -1, np.where(before, 0, below)).astype(np.intp)
    gamma = np.asanyarray(virtual - below, dtype=virtual.dtype)
    size = np.maximum(counts, 1)
    return below % size, above % size, gamma


def row_percentiles(x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.nanpercentile(x, q, axis=1)`` bit for bit, as ``(rows, len(q))``, for many short rows at once
    (numpy goes through them one by one when some hold NaN): each row sorted, NaN last."""
    ordered = np.sort(x, axis=1)
    counts = (~np.isnan(x)).sum(axis=1)
    below, above, gamma = ranks_needed(counts, q)
    out = lerp(np.take_along_axis(ordered, below, axis=1), np.take_along_axis(ordered, above, axis=1), gamma)
    out[counts == 0] = np.nan
    return out


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's ``_lerp``, operation for operation, so that the result is the same to the bit (inf - inf is NaN there too)."""
    with np.errstate(invalid="ignore"):
        diff = b - a
        result = np.add(a, diff * t)
        np.subtract(b, diff * (1 - t), out=result, where=t >= 0.5)
    return result

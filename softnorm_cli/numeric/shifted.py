"""``(x - m) / T`` as two doubles, and its exponential to within an ulp.

``exp`` magnifies an absolute error in its argument into the same relative
error in its result: rounding ``x - m`` (off by up to ``ulp(x - m) / 2``)
and then dividing by ``T`` leaves ``exp((x - m) / T)`` off by hundreds of
ulps once ``(x - m) / T`` reaches the hundreds. So the argument is carried
as ``q + r``: ``q`` the rounded quotient and ``r`` what rounding lost, made
by error-free transformations (Knuth's TwoSum for the difference, Dekker's
splitting and TwoProduct for the remainder of the division, no FMA needed),
and ``exp(q + r) = exp(q) * exp(r) ~ exp(q) * (1 + r)``, since ``|r|`` is
about ``1e-16 * |q|``.

Pure numpy, elementwise; ``m`` broadcasts against ``x``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["exp_shifted", "shifted", "two_product"]

# Dekker's splitting constant, 2**27 + 1: splits a double into two halves of
# 26 bits whose products are exact.
_SPLIT = 134217729.0
# Quotients are clamped here before splitting so that no intermediate overflows;
# exp of anything below is 0 whatever the correction.
_LOWEST = -1.0e4
# Corrections are below 1e-12 where exp is not 0; the clamp only silences the
# NaN and inf of differences that overflowed (exp 0 there as well).
_BOUND = 1.0e-10
# Temperatures whose halves (and products with quotients) stay normal doubles.
_EXACT_T = (2.0**-900, 2.0**900)


def shifted(x: np.ndarray, m: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """``(q, r)``: ``q = fl((x - m) / T)`` and the small ``r`` with ``q + r`` equal to it within ``2**-100 |q|``.

    ``r`` is clamped to a tiny bound, so that where ``x - m`` overflowed (its
    exponential 0) it is finite, not NaN.
    """
    if not _tiled(x):
        return _shifted(x, m, temperature)
    q, r = np.empty_like(x), np.empty_like(x)
    for rows in _tiles(x):
        q[rows], r[rows] = _shifted(x[rows], _rows_of(m, rows, x), temperature)
    return q, r


def exp_shifted(x: np.ndarray, m: np.ndarray, temperature: float) -> np.ndarray:
    """``exp((x - m) / T)``, within about an ulp of the exact value (a new array)."""
    if not _tiled(x):
        return _exp_shifted(x, m, temperature)
    out = np.empty_like(x)
    for rows in _tiles(x):
        _exp_shifted(x[rows], _rows_of(m, rows, x), temperature, out[rows])
    return out


# The dozen elementwise steps run over tiles of rows that stay in the cache:
# over a whole block each would be a trip through memory. Elementwise, so the
# results do not depend on the tiles.
_TILE = 1 << 14  # values


def _tiled(x: np.ndarray) -> bool:
    return x.ndim == 2 and x.size > 2 * _TILE


def _tiles(x: np.ndarray):
    step = max(1, _TILE // max(1, x.shape[1]))
    return (slice(start, start + step) for start in range(0, x.shape[0], step))


def _rows_of(m: np.ndarray, rows: slice, x: np.ndarray) -> np.ndarray:
    """The rows of a figure that broadcasts against ``x`` (all of it when it has one row)."""
    return m[rows] if np.ndim(m) == 2 and m.shape[0] == x.shape[0] else m


def _shifted(x: np.ndarray, m: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    # TwoSum: x - m == d + lo exactly.
    d = np.subtract(x, m)
    back = np.subtract(d, x)
    lo = np.subtract(d, back)
    np.subtract(x, lo, out=lo)
    np.subtract(-m, back, out=back)
    lo += back
    del back
    if temperature == 1.0:
        if d.size and d.min() > -np.inf:
            return d, lo  # no difference overflowed: the correction is finite
        q, r = d, lo
    else:
        q = d / temperature
        if _EXACT_T[0] < temperature < _EXACT_T[1]:
            # d - q T exactly: q T == p + err (TwoProduct), and d - p is exact (p is close to d).
            qc = np.maximum(q, _LOWEST)
            q_hi, q_lo = _split(qc)
            t_hi, t_lo = _split(np.float64(temperature))
            p = qc * temperature
            err = q_hi * t_hi - p
            err += q_hi * t_lo
            err += q_lo * t_hi
            err += q_lo * t_lo
            r = d - p
            r -= err
            r += lo
            r /= temperature
        else:
            r = lo / temperature
    np.fmin(r, _BOUND, out=r)
    np.fmax(r, -_BOUND, out=r)
    return q, r


def _exp_shifted(x: np.ndarray, m: np.ndarray, temperature: float, out: np.ndarray | None = None) -> np.ndarray:
    q, r = _shifted(x, m, temperature)
    out = np.exp(q, out=q if out is None else out)
    r *= out
    out += r
    return out


def two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a * b`` as ``(p, err)`` with ``p = fl(a b)`` and ``p + err == a b`` exactly (Dekker), for moderate magnitudes."""
    p = a * b
    a_hi, a_lo = _split(a)
    b_hi, b_lo = _split(b)
    err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    return p, err


def _split(a):
    """``a == hi + lo`` with ``hi`` and ``lo`` of 26 bits each (Dekker)."""
    c = a * _SPLIT
    hi = c - (c - a)
    return hi, a - hi

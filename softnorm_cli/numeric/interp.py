"""``np.interp`` with a table per group: every value interpolated in its own group's table, all at once.

The quantile transform maps each value through its group's table (each row's,
on the row axis); a loop of ``np.interp`` over thousands of groups costs more
than the arithmetic. :func:`interp` finds every value's place in its table by
one sort of the tables and the values together (a table's entry before a
value equal to it, as numpy's binary search lands on the last entry not above
the value), then computes each result as numpy's ``arr_interp`` does
(``numpy/_core/src/multiarray/compiled_base.c``): the same operations, so the
same bits. Pure numpy.
"""

from __future__ import annotations

import numpy as np

from softnorm_cli.numeric.kernels import quiet

__all__ = ["interp"]


def interp(x: np.ndarray, codes: np.ndarray | None, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``np.interp(x[i], xp[codes[i]], fp[codes[i]])`` for every ``i``.

    ``xp`` and ``fp`` are ``(groups, n)``: each row of ``xp`` ascending, with NaN
    after the row's own length (a row of NaN is a group without a table, whose
    values map to NaN). ``codes`` None: every value is of the one group. NaN
    values stay NaN.
    """
    fp = np.broadcast_to(fp, xp.shape)
    out = np.full(x.shape, np.nan)
    if codes is None:
        valid = ~np.isnan(xp[0])
        present = ~np.isnan(x)  # not given to np.interp: a table of one entry maps NaN to it
        if valid.any():
            out[present] = np.interp(x[present], xp[0][valid], fp[0][valid])
        return out
    valid = ~np.isnan(xp)
    lengths = valid.sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    table_x, table_y = xp[valid], fp[valid]
    present = ~np.isnan(x) & (lengths[codes] > 0)
    values, groups = x[present], codes[present]
    if not values.size:
        return out
    # Tables and values sorted together by group, then value, a table's entry first on a tie: the entries
    # of its table before a value are the ones not above it.
    table_g = np.repeat(np.arange(xp.shape[0]), lengths)
    kind = np.concatenate([np.zeros(table_x.size, np.int8), np.ones(values.size, np.int8)])
    order = np.lexsort((kind, np.concatenate([table_x, values]), np.concatenate([table_g, groups])))
    entries = np.cumsum(kind[order] == 0)
    place = np.empty(values.size, dtype=np.intp)
    is_value = kind[order] == 1
    place[order[is_value] - table_x.size] = np.flatnonzero(is_value)
    j = entries[place] - starts[groups] - 1  # the last entry not above the value; -1 below the table
    out[present] = _arr_interp(values, j, starts[groups], lengths[groups], table_x, table_y)
    return out


def _arr_interp(x: np.ndarray, j: np.ndarray, start: np.ndarray, n: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """numpy's result for each value, given where its binary search lands (``j``) in its table (``n`` entries from ``start``)."""
    inner = start + np.maximum(np.minimum(j, n - 2), 0)
    following = np.minimum(inner + 1, start + n - 1)
    x0, x1, y0, y1 = xp[inner], xp[following], fp[inner], fp[following]
    with quiet():
        slope = (y1 - y0) / (x1 - x0)
        out = slope * (x - x0) + y0
        # As numpy: NaN from one end, try the other; a flat stretch is its value.
        out = np.where(np.isnan(out), slope * (x - x1) + y1, out)
        out = np.where(np.isnan(out) & (y0 == y1), y0, out)
    out = np.where(x0 == x, y0, out)
    return np.where(j < 0, fp[start], np.where(j >= n - 1, fp[start + n - 1], out))

"""Robust scaling and the quantile transform: the scalers fitted on order statistics, as scikit-learn's
``RobustScaler`` and ``QuantileTransformer(subsample=None)``.

Their fit needs percentiles of every group, which no single pass can give in
bounded memory. So ``fit`` gathers what one pass can (count, missing count,
extremes), :meth:`~Robust.percentiles` says which percentiles the rest needs,
and ``finish`` takes a :class:`Ranked`: the extremes with those percentiles,
found exactly by the further reads of :mod:`~softnorm_cli.numeric.quantiles`
(or, for a block in memory, by ``np.nanpercentile`` itself, which they equal
bit for bit). Pure numpy, no I/O.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from softnorm_cli.numeric import normal, parameters
from softnorm_cli.numeric.kernels import Extremes, quiet
from softnorm_cli.numeric.methods import Method, PerRow, Stats
from softnorm_cli.numeric.quantiles import row_percentiles

__all__ = ["Quantile", "Ranked", "Robust"]

#: How far inside (0, 1) the normal output keeps its probabilities, as scikit-learn's ``BOUNDS_THRESHOLD``.
BOUNDS = 1e-7
#: A range between percentiles below this is zero, as scikit-learn's ``_handle_zeros_in_scale`` decides.
ZERO_RANGE = 10 * np.finfo(np.float64).eps


@dataclass
class Ranked:
    """What ``finish`` takes: the extremes of each group, and its percentiles ``(groups, targets, len(q))``."""

    extremes: Extremes
    table: np.ndarray


class _RankedMethod(Method):
    """What robust and quantile share: a fit of extremes and percentiles."""

    needs_percentiles = True

    def fit(self, x: np.ndarray, axis: int | None) -> Extremes:
        return Extremes.of(x, axis)

    def percentiles(self, values: int) -> np.ndarray:
        """The percentiles (0 to 100) to find in a group of ``values`` cells (present or missing)."""
        raise NotImplementedError

    def fit_transform(self, x: np.ndarray, axis: int | None) -> tuple[np.ndarray, Stats]:
        stats = self.finish(ranked_in_memory(self, x, axis))
        return self.transform(x, stats), stats


def ranked_in_memory(method: _RankedMethod, x: np.ndarray, axis: int | None) -> Ranked:
    """The fit of a block held whole: its extremes, and its percentiles as ``np.nanpercentile`` gives them."""
    extremes = method.fit(x, axis)
    values = x.size if axis is None else x.shape[axis]
    q = method.percentiles(values)
    if not x.size:  # no values: nothing to find, in the shape of the groups
        return Ranked(extremes, np.full((*extremes.count.shape, q.size), np.nan))
    with quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing group: NaN, as wanted
        if axis is None:
            table = np.nanpercentile(x, q).reshape(1, 1, -1)
        elif axis == 1:
            table = row_percentiles(x, q)[:, None, :]
        else:
            table = np.moveaxis(np.nanpercentile(x, q, axis=axis, keepdims=True), 0, -1)
    return Ranked(extremes, table)


@dataclass(frozen=True)
class Robust(_RankedMethod):
    r"""Centre on the median and divide by the distance between two percentiles.

    .. math:: y = \frac{x - \mathrm{median}(x)}{P_{hi}(x) - P_{lo}(x)}

    as scikit-learn's ``RobustScaler``, percentiles by numpy's linear
    interpolation. ``unit_variance`` divides the scale by
    :math:`\Phi^{-1}(hi) - \Phi^{-1}(lo)`, so that normal data gets a standard
    deviation of 1. A range below ten times the float epsilon counts as zero:
    those values are only centred (scale 1), as scikit-learn's
    ``_handle_zeros_in_scale``. The statistics are ``center``, ``spread``
    (the distance between the percentiles) and ``scale`` (what values are
    divided by) beside the count, missing count and extremes.
    """

    lo: float = 25.0
    hi: float = 75.0
    center: bool = True
    scale: bool = True
    unit_variance: bool = False
    nan: str = "omit"
    inf: str = "error"

    name = "robust"
    constraints = parameters.ROBUST
    figures = ("count", "missing", "min", "max", "center", "spread", "scale")
    invertible = True

    def __post_init__(self) -> None:
        super().__post_init__()
        parameters.QUANTILE_RANGE.check("quantile_range", (self.lo, self.hi))

    def percentiles(self, values: int) -> np.ndarray:
        return np.array([50.0, self.lo, self.hi])

    def finish(self, ranked: Ranked) -> Stats:
        table = ranked.table
        stats = ranked.extremes.stats()
        with quiet():
            stats["center"] = table[..., 0] if self.center else np.zeros_like(table[..., 0])
            stats["spread"] = table[..., 2] - table[..., 1]
            scale = np.where(stats["spread"] < ZERO_RANGE, 1.0, stats["spread"])
            if self.unit_variance:
                scale = scale / float(normal.ppf(self.hi / 100) - normal.ppf(self.lo / 100))
            stats["scale"] = scale if self.scale else np.ones_like(scale)
        return stats

    def transform(self, x: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        with quiet():
            out = (x - at(stats["center"])) / at(stats["scale"])
        return self._propagated(out, stats, at)

    def inverse(self, y: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        with quiet():
            return y * at(stats["scale"]) + at(stats["center"])

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        if not self.scale:
            return []
        zero = (stats["count"] > 0) & (stats["spread"] < ZERO_RANGE)
        return [(zero, f"zero range between percentiles {self.lo:g} and {self.hi:g}; values only centred")]


@dataclass(frozen=True)
class Quantile(_RankedMethod):
    r"""Map each group through its own distribution function onto ``uniform`` [0, 1] or a standard ``normal``.

    As scikit-learn's ``QuantileTransformer(subsample=None)``: the table holds
    the percentiles at ``n`` evenly spaced references from 0 to 1, where ``n``
    is ``n_quantiles`` or the group's number of rows if fewer (the rest of
    its table is NaN, as a saved record shows it); a value maps to the
    mean of its interpolations up the table and down it (so repeated values
    map to the middle of their run), and for the normal output the
    probabilities are kept ``1e-7`` inside (0, 1) before the inverse CDF. The
    statistics are ``quantiles``, one table per group, beside the count,
    missing count and extremes.
    """

    n_quantiles: int = 1000
    distribution: str = "uniform"
    nan: str = "omit"
    inf: str = "error"

    name = "quantile"
    constraints = parameters.QUANTILE
    figures = ("count", "missing", "min", "max", "quantiles")
    invertible = True

    def percentiles(self, values: int) -> np.ndarray:
        return np.linspace(0, 1, max(1, min(self.n_quantiles, values)), endpoint=True) * 100

    def finish(self, ranked: Ranked) -> Stats:
        # Made monotone, as older scikit-learn does: interpolation needs it, and numpy's is already.
        return {**ranked.extremes.stats(), "quantiles": np.maximum.accumulate(ranked.table, axis=-1)}

    def transform(self, x: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        out = _by_table(x, stats["quantiles"], groups, lambda v, table, interp=np.interp: _forward(v, table, self.distribution, interp))
        return self._propagated(out, stats, PerRow(groups))

    def inverse(self, y: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        return _by_table(y, stats["quantiles"], groups, lambda v, table, interp=np.interp: _backward(v, table, self.distribution, interp))

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        # A constant group's values all sit at the bottom of its table, as in scikit-learn.
        bottom = "0" if self.distribution == "uniform" else f"{float(_normal_bounds()[0]):.4g}"
        return [((stats["count"] > 0) & (stats["min"] == stats["max"]), f"constant; results set to {bottom}")]


def _by_table(x: np.ndarray, tables: np.ndarray, groups: np.ndarray | None, fn) -> np.ndarray:
    """``fn(values, table)`` for the values of each group and column, each with its own table."""
    out = np.empty_like(x, dtype=np.float64)
    if not x.size:
        return out
    whole = tables.shape[1] == 1 and x.shape[1] != 1  # one table for the whole block
    if groups is None and tables.shape[0] > 1:  # the row axis: each row has its own, all of one size
        return fn(x, tables[:, 0, :], _interp_rows)
    if groups is None:
        runs = [(slice(None), 0)]
    else:
        order = np.argsort(groups, kind="stable")
        codes, starts = np.unique(groups[order], return_index=True)
        runs = list(zip(np.split(order, starts[1:]), codes.tolist()))
    for rows, code in runs:
        block, table = x[rows], tables[code]
        if whole:
            out[rows] = fn(block.ravel(), table[0]).reshape(block.shape)
            continue
        result = np.empty_like(block, dtype=np.float64)
        for c in range(block.shape[1]):
            result[:, c] = fn(block[:, c], table[c])
        out[rows] = result
    return out


def _normal_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Where the normal output is clipped: about ±5.2, so that the inverse maps back consistently."""
    return normal.ppf(np.float64(BOUNDS - np.spacing(1))), normal.ppf(np.float64(1 - (BOUNDS - np.spacing(1))))


def _table(quantiles: np.ndarray) -> np.ndarray | None:
    """A group's table without the NaN after it (a group of fewer values than ``n_quantiles``), or None for a group without values."""
    present = ~np.isnan(quantiles)
    return quantiles[present] if present.any() else None


def _forward(x: np.ndarray, quantiles: np.ndarray, distribution: str, interp=np.interp) -> np.ndarray:
    """scikit-learn's ``_transform_col``, operation for operation, so that results agree to the last bits.

    ``quantiles`` is a table, or with ``interp=_interp_rows`` a table per row of ``x``.
    """
    if quantiles.ndim == 1:
        quantiles = _table(quantiles)
        if quantiles is None:
            return np.full(x.shape, np.nan)
    references = np.linspace(0, 1, quantiles.shape[-1], endpoint=True)
    with quiet():
        if distribution == "normal":
            low, high = x - BOUNDS < quantiles[..., :1], x + BOUNDS > quantiles[..., -1:]
        else:
            low, high = x == quantiles[..., :1], x == quantiles[..., -1:]
        # Up the table and down it, halved: repeated values (repeated quantiles) map to the middle of their run.
        # NaN stays NaN through both.
        out = 0.5 * (interp(x, quantiles, references) - interp(-x, -quantiles[..., ::-1], -references[::-1]))
        out[high] = 1
        out[low] = 0
        if distribution == "normal":
            out = normal.ppf(out)
            out = np.clip(out, *_normal_bounds())
    return out


def _backward(y: np.ndarray, quantiles: np.ndarray, distribution: str, interp=np.interp) -> np.ndarray:
    """scikit-learn's ``_transform_col`` with ``inverse=True``."""
    quantiles = _table(quantiles)
    if quantiles is None:
        return np.full(y.shape, np.nan)
    references = np.linspace(0, 1, quantiles.size, endpoint=True)
    with quiet():
        if distribution == "normal":
            y = normal.cdf(y)
            low, high = y - BOUNDS < 0, y + BOUNDS > 1
        else:
            low, high = y == 0, y == 1
        out = interp(y, references, quantiles)
        out[high] = quantiles[-1]
        out[low] = quantiles[0]
    return out


#: Comparisons one block of :func:`_interp_rows` makes at most (rows x values x table).
_INTERP_BLOCK = 1 << 22


def _interp_rows(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``np.interp(x[r], xp[r], fp[r])`` for every row ``r`` at once (``xp``, ``fp``: a row each, or one for all),
    as numpy's ``arr_interp`` computes each value: the quantile transform of many short rows.
    """
    rows, n = x.shape[0], xp.shape[-1]
    xp, fp = np.broadcast_to(xp, (rows, n)), np.broadcast_to(fp, (rows, n))
    out = np.empty(x.shape)
    step = max(1, _INTERP_BLOCK // max(x.shape[1] * n, 1))
    for start in range(0, rows, step):
        r = slice(start, start + step)
        out[r] = _interp_block(x[r], xp[r], fp[r])
    return out


def _interp_block(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    n = xp.shape[1]
    if n == 1:
        return np.where(np.isnan(x), np.nan, fp[:, :1])
    # The last j with xp[j] <= x (-1 below the table): where numpy's binary search lands.
    j = (xp[:, None, :] <= x[:, :, None]).sum(axis=2) - 1
    inner = np.clip(j, 0, n - 2)
    x0, x1 = np.take_along_axis(xp, inner, axis=1), np.take_along_axis(xp, inner + 1, axis=1)
    y0, y1 = np.take_along_axis(fp, inner, axis=1), np.take_along_axis(fp, inner + 1, axis=1)
    with quiet():
        slope = (y1 - y0) / (x1 - x0)
        out = slope * (x - x0) + y0
        # As numpy: NaN from one end, try the other; a flat stretch is its value.
        out = np.where(np.isnan(out), slope * (x - x1) + y1, out)
        out = np.where(np.isnan(out) & (y0 == y1), y0, out)
    out = np.where(x0 == x, y0, out)
    out = np.where(j < 0, fp[:, :1], np.where(j >= n - 1, fp[:, -1:], out))
    return np.where(np.isnan(x), np.nan, out)

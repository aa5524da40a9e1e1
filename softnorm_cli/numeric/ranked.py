"""Robust scaling and the quantile transform: the scalers fitted on order statistics, as scikit-learn's
``RobustScaler`` and ``QuantileTransformer(subsample=None)``.

Their fit needs percentiles of every group, which no single pass can give in
bounded memory. So ``fit`` gathers what one pass can (count, missing count,
extremes), :meth:`~Robust.percentiles` says which percentiles the rest needs,
and ``finish`` takes a :class:`Ranked`: the extremes with those percentiles,
found exactly by the further reads of :mod:`~softnorm_cli.numeric.quantiles`
(or, for a block in memory, by ``np.nanpercentile``, or for its rows by
:func:`~softnorm_cli.numeric.percentile.row_percentiles`; the figures are the
same to the bit). Values are mapped through the quantile tables by
:mod:`~softnorm_cli.numeric.interp`. Pure numpy, no I/O.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from softnorm_cli.numeric import normal, parameters
from softnorm_cli.numeric.interp import interp
from softnorm_cli.numeric.kernels import Extremes, quiet
from softnorm_cli.numeric.methods import ByExtremes, PerRow, Stats
from softnorm_cli.numeric.percentile import row_percentiles

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


class _RankedMethod(ByExtremes):
    """What robust and quantile share: a fit of extremes and percentiles."""

    needs_percentiles = True

    def percentiles(self, values: int) -> np.ndarray:
        """The percentiles (0 to 100) to find in a group of ``values`` cells (present or missing)."""
        raise NotImplementedError

    def fit_transform(self, x: np.ndarray, axis: int | None) -> tuple[np.ndarray, Stats]:
        stats = self.finish(ranked_in_memory(self, x, axis))
        return self.transform(x, stats), stats


def ranked_in_memory(method: _RankedMethod, x: np.ndarray, axis: int | None) -> Ranked:
    """The fit of a block held whole: its extremes, and its percentiles as ``np.nanpercentile`` gives them
    (each row's from one sort of them all: numpy goes row by row where rows hold NaN)."""
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
        out = _by_column(x, stats["quantiles"], groups, lambda v, codes, table: _forward(v, codes, table, self.distribution))
        return self._propagated(out, stats, PerRow(groups))

    def inverse(self, y: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        return _by_column(y, stats["quantiles"], groups, lambda v, codes, table: _backward(v, codes, table, self.distribution))

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        # A constant group's values all sit at the bottom of its table, as in scikit-learn.
        bottom = "0" if self.distribution == "uniform" else f"{float(_normal_bounds()[0]):.4g}"
        return [((stats["count"] > 0) & (stats["min"] == stats["max"]), f"constant; results set to {bottom}")]


def _by_column(x: np.ndarray, tables: np.ndarray, groups: np.ndarray | None, fn) -> np.ndarray:
    """``fn(values, codes, tables)`` for each column of ``x`` with its groups' tables ``(groups, n)``; ``codes``:
    the group of each value, None for one group (each row is a group of its own on the row axis)."""
    if not x.size:
        return np.empty(x.shape)
    if groups is None and tables.shape[0] > 1:
        groups = np.arange(x.shape[0])
    if tables.shape[1] == 1 and x.shape[1] != 1:  # the whole block: one table per group
        codes = None if groups is None else np.broadcast_to(groups[:, None], x.shape).reshape(-1)
        return fn(x.reshape(-1), codes, tables[:, 0, :]).reshape(x.shape)
    out = np.empty(x.shape)
    for c in range(x.shape[1]):
        out[:, c] = fn(x[:, c], groups, tables[:, c, :])
    return out


def _normal_bounds() -> tuple[np.ndarray, np.ndarray]:
    """Where the normal output is clipped: about ±5.2, so that the inverse maps back consistently."""
    return normal.ppf(np.float64(BOUNDS - np.spacing(1))), normal.ppf(np.float64(1 - (BOUNDS - np.spacing(1))))


def _references(tables: np.ndarray) -> np.ndarray:
    """Each table's ranks from 0 to 1, ``np.linspace(0, 1, n)`` for its own length ``n`` (NaN after it)."""
    lengths = (~np.isnan(tables)).sum(axis=1)
    out = np.full(tables.shape, np.nan)
    for n in np.unique(lengths).tolist():
        if n:
            out[lengths == n, :n] = np.linspace(0, 1, n, endpoint=True)
    return out


def _ends(tables: np.ndarray, codes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The first and last entry of each value's table."""
    lengths = (~np.isnan(tables)).sum(axis=1)
    first, last = tables[:, 0], tables[np.arange(len(tables)), np.maximum(lengths - 1, 0)]
    return (first[0], last[0]) if codes is None else (first[codes], last[codes])


def _reversed(tables: np.ndarray) -> np.ndarray:
    """Each table negated and backwards, its NaN first (:func:`~softnorm_cli.numeric.interp.interp` skips them)."""
    return -tables[:, ::-1]


def _forward(x: np.ndarray, codes: np.ndarray | None, tables: np.ndarray, distribution: str) -> np.ndarray:
    """scikit-learn's ``_transform_col``, operation for operation, so that results agree to the last bits."""
    references = _references(tables)
    lowest, highest = _ends(tables, codes)
    with quiet():
        if distribution == "normal":
            low, high = x - BOUNDS < lowest, x + BOUNDS > highest
        else:
            low, high = x == lowest, x == highest
        # Up the table and down it, halved: repeated values (repeated quantiles) map to the middle of their run.
        up = interp(x, codes, tables, references)
        out = 0.5 * (up - interp(-x, codes, _reversed(tables), _reversed(references)))
        out[high] = 1
        out[low] = 0
        if distribution == "normal":
            out = normal.ppf(out)
            out = np.clip(out, *_normal_bounds())
    return out


def _backward(y: np.ndarray, codes: np.ndarray | None, tables: np.ndarray, distribution: str) -> np.ndarray:
    """scikit-learn's ``_transform_col`` with ``inverse=True``."""
    lowest, highest = _ends(tables, codes)
    with quiet():
        if distribution == "normal":
            y = normal.cdf(y)
            low, high = y - BOUNDS < 0, y + BOUNDS > 1
        else:
            low, high = y == 0, y == 1
        out = interp(y, codes, _references(tables), tables)
        out[high] = np.broadcast_to(highest, out.shape)[high]
        out[low] = np.broadcast_to(lowest, out.shape)[low]
    return out

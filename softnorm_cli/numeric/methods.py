"""Softmax, min-max and z-score as one small protocol, from a block's statistics to results and back.

* ``fit(x, axis)``: the partial statistics of one block (:mod:`~softnorm_cli.numeric.kernels`);
* ``merge(a, b)``: the partial statistics of both blocks;
* ``finish(partial)``: the figures a transform needs, as arrays that broadcast
  against the block (``count``, ``min``, ``mean``, ``sum_exp``, ...);
* ``transform(x, stats, groups)``: the results; ``inverse(y, stats, groups)``:
  the values back, for min-max and z-score. ``groups`` is None when the
  statistics broadcast against the block, or the row of the statistics
  (the group) of each row of the block;
* ``problems(stats)``: the groups without a proper result, and why.

As in scikit-learn's scalers, what was chosen and what was learned never
mix: options (temperature, range, ddof, the NaN policy, clipping) are the
method's fields, statistics hold only figures of the data, and how missing
values spread or results are clipped is decided in ``transform``. Pure numpy,
no I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from softnorm_cli.numeric import parameters
from softnorm_cli.numeric.kernels import ExpSums, Extremes, Moments, finite_or_zero, quiet, unit
from softnorm_cli.numeric.shifted import exp_shifted, shifted

__all__ = ["ByExtremes", "Method", "MinMax", "NoInverseError", "PerRow", "Softmax", "Stats", "ZScore", "normalize"]

#: Finished statistics: name -> array, each broadcasting against the block.
Stats = dict[str, np.ndarray]


class NoInverseError(ValueError):
    """The method forgets something about its input, so its results cannot be mapped back."""


class Method:
    """What the methods share; each is a frozen dataclass of its options, checked when it is made."""

    name: ClassVar[str]
    #: What values each option takes (see :mod:`~softnorm_cli.numeric.parameters`).
    constraints: ClassVar[dict[str, parameters.Constraint]]
    #: The names of the finished statistics, as ``finish`` returns them.
    figures: ClassVar[tuple[str, ...]]
    #: Whether ``inverse`` maps results back to the values.
    invertible: ClassVar[bool] = False
    #: Whether the fit also needs percentiles, found in further reads: ``finish`` then takes a
    #: :class:`~softnorm_cli.numeric.ranked.Ranked` (see :mod:`~softnorm_cli.numeric.ranked`).
    needs_percentiles: ClassVar[bool] = False
    #: Figures that records saved by earlier versions lack, and how to make them from the others.
    derived: ClassVar[dict[str, Any]] = {}

    def __post_init__(self) -> None:
        for name, value in parameters.checked(self.constraints, self.options()).items():
            object.__setattr__(self, name, value)

    def fit(self, x: np.ndarray, axis: int | None):
        raise NotImplementedError

    def merge(self, a, b):
        return a.merge(b)

    def finish(self, partial) -> Stats:
        raise NotImplementedError

    def transform(self, x: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError

    def inverse(self, y: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        raise NoInverseError(f"{self.name} has no inverse")

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        return []

    def fit_transform(self, x: np.ndarray, axis: int | None) -> tuple[np.ndarray, Stats]:
        """Fit on ``x`` and transform it: the results and the statistics."""
        stats = self.finish(self.fit(x, axis))
        return self.transform(x, stats), stats

    def options(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def _propagated(self, out: np.ndarray, stats: Stats, at: PerRow) -> np.ndarray:
        """With ``nan="propagate"``, blank whole groups that had a missing value, as numpy and scipy do."""
        if self.nan == "propagate" and stats["missing"].any():
            out = np.where(at(stats["missing"] > 0), np.nan, out)
        return out


class PerRow:
    """A group's figure for each row of a block: the figure itself when it broadcasts
    (``groups`` is None), else its rows gathered by ``groups``, laid out like the block.

    Transforms decide what they can per group first (which groups are
    constant, say), so that only the few figures the arithmetic needs are
    gathered to the size of the block.
    """

    def __init__(self, groups: np.ndarray | None):
        self.groups = groups

    def __call__(self, figure: np.ndarray) -> np.ndarray:
        if self.groups is None:
            return figure
        # Taken along the contiguous rows of the transposed figure, then
        # transposed back: column-major, like the values.
        return np.take(np.ascontiguousarray(figure.T), self.groups, axis=1).T


@dataclass(frozen=True)
class Softmax(Method):
    r"""Softmax (or log-softmax) with temperature.

    .. math:: y_i = \frac{e^{(x_i - m)/T}}{S}, \quad
              S = \sum_j e^{(x_j - m)/T}, \quad m = \max_j x_j

    The statistics are ``max``, ``sum_exp`` (S) and ``log_sum_exp``
    (:math:`\log S`, kept apart because S rounds to 1 when the maximum takes
    nearly all the mass; the log-sum-exp of x / T is ``max / T +
    log_sum_exp``). ``log=True`` gives :math:`(x_i - m)/T - \log S`
    directly, never ``log(softmax)``, which underflows to -inf. The exponent
    :math:`(x_i - m)/T` is carried as two doubles
    (:mod:`~softnorm_cli.numeric.shifted`), so results are within a few ulps
    of the exact ones at any temperature. +inf entries share the mass
    equally (the limit); a group of only -inf has no softmax (NaN).
    """

    temperature: float = 1.0
    log: bool = False
    nan: str = "omit"
    inf: str = "limit"

    name = "softmax"
    constraints = parameters.SOFTMAX
    figures = ("count", "missing", "max", "sum_exp", "log_sum_exp", "posinf")
    derived = {"log_sum_exp": lambda stats: _log(stats["sum_exp"])}

    def fit(self, x: np.ndarray, axis: int | None) -> ExpSums:
        return ExpSums.of(x, axis, self.temperature)

    def merge(self, a: ExpSums, b: ExpSums) -> ExpSums:
        return a.merge(b, self.temperature)

    def finish(self, sums: ExpSums) -> Stats:
        return {
            "count": sums.count,
            "missing": sums.missing,
            "max": sums.maximum,
            "sum_exp": sums.sumexp,  # sum of exp((x - max) / T)
            "log_sum_exp": sums.log_sumexp,
            "posinf": sums.posinf,
        }

    def fit_transform(self, x: np.ndarray, axis: int | None) -> tuple[np.ndarray, Stats]:
        sums, exponentials = ExpSums.with_exponentials(x, axis, self.temperature)
        stats = self.finish(sums)
        if exponentials is None or self.log:
            return self.transform(x, stats), stats
        # Finite input: no limits or gaps to handle, and the very operations of
        # transform, so that a row's result does not depend on its neighbours.
        exponentials /= sums.sumexp
        return exponentials, stats

    def transform(self, x: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        with quiet():
            shift = at(finite_or_zero(stats["max"]))
            if self.log:
                q, r = shifted(x, shift, self.temperature)
                out = q - at(stats["log_sum_exp"])
                out += r
            else:
                out = exp_shifted(x, shift, self.temperature)
                out /= at(stats["sum_exp"])
            posinf = stats["posinf"]
            if posinf.any():
                # The limit as the +inf entries grow: they share the mass equally.
                on_inf = -np.log(posinf) if self.log else 1.0 / posinf
                off_inf = -np.inf if self.log else 0.0
                limit = np.where(x == np.inf, at(on_inf), np.where(np.isnan(x), np.nan, off_inf))
                out = np.where(at(posinf > 0), limit, out)
        undefined = _undefined(stats)
        if undefined.any():
            out = np.where(at(undefined), np.nan, out)
        return self._propagated(out, stats, at)

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        undefined = _undefined(stats)
        # A group of one value is all the mass: its result says nothing about
        # the value (a row over a single column, say), as a constant z-score.
        alone = (stats["count"] == 1) & ~undefined
        return [
            (undefined, "only -inf values; results missing"),
            (alone, f"one value; results set to {0 if self.log else 1}"),
        ]


def _log(a: np.ndarray) -> np.ndarray:
    with quiet():
        return np.log(a)


def _undefined(stats: Stats) -> np.ndarray:
    """Groups with values but none above -inf: softmax has no limit there."""
    return (stats["count"] > 0) & (stats["posinf"] == 0) & (stats["max"] == -np.inf)


class ByExtremes(Method):
    """A method fitted on each group's count, missing count, minimum and maximum (:class:`Extremes`)."""

    def fit(self, x: np.ndarray, axis: int | None) -> Extremes:
        return Extremes.of(x, axis)

    def finish(self, extremes: Extremes) -> Stats:
        return extremes.stats()


@dataclass(frozen=True)
class MinMax(ByExtremes):
    r"""Min-max scaling to ``[lo, hi]``.

    .. math:: y = lo + \frac{x - \min x}{\max x - \min x} (hi - lo)

    A constant group maps to ``lo``, as scikit-learn's ``MinMaxScaler``
    does. Values inside the fitted range land inside ``[lo, hi]`` (rounding
    is clipped away); values outside it, from new data, extrapolate unless
    ``clip``.
    """

    lo: float = 0.0
    hi: float = 1.0
    clip: bool = False
    nan: str = "omit"
    inf: str = "error"

    name = "minmax"
    constraints = parameters.MINMAX
    figures = ("count", "missing", "min", "max")
    invertible = True

    def __post_init__(self) -> None:
        super().__post_init__()
        parameters.FEATURE_RANGE.check("feature_range", (self.lo, self.hi))

    def transform(self, x: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        minimum, maximum = stats["min"], stats["max"]
        with quiet():
            span = maximum - minimum
            halve = bool(np.isinf(span[np.isfinite(minimum) & np.isfinite(maximum)]).any())
            if halve:  # max - min overflows past 1.8e308: halve everything, exactly
                x, minimum, span = x * 0.5, minimum * 0.5, maximum * 0.5 - minimum * 0.5
            # Dividing before scaling maps the maximum to exactly hi on [0, 1].
            fraction = (x - at(minimum)) / at(np.where(_constant(stats), 1.0, span))
            if np.isfinite(self.hi - self.lo):
                out = self.lo + fraction * (self.hi - self.lo)
            else:  # a range wider than 1.8e308 (-1e308,1e308): in halves, exactly scaled back
                out = (self.lo * 0.5 + fraction * (self.hi * 0.5 - self.lo * 0.5)) * 2.0
        clipped = np.clip(out, self.lo, self.hi)
        if not self.clip:
            # Rounding may step a hair outside [lo, hi]; for the data the range
            # came from, the range is a promise.
            clipped = np.where((fraction >= 0) & (fraction <= 1), clipped, out)
        return self._propagated(clipped, stats, at)

    def inverse(self, y: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        minimum, maximum = stats["min"], stats["max"]
        with quiet():
            fraction = (y - self.lo) / (self.hi - self.lo)
            if not np.isfinite(self.hi - self.lo):
                fraction = (y * 0.5 - self.lo * 0.5) / (self.hi * 0.5 - self.lo * 0.5)
            span = maximum - minimum
            if np.isinf(span[np.isfinite(minimum) & np.isfinite(maximum)]).any():
                out = (at(minimum * 0.5) + fraction * at(maximum * 0.5 - minimum * 0.5)) * 2.0
            else:
                out = at(minimum) + fraction * at(span)
        return np.where(np.isnan(y), np.nan, out)

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        return [(_constant(stats), f"constant; results set to {self.lo:g}")]


def _constant(stats: Stats) -> np.ndarray:
    """Groups whose values are all equal, decided exactly (min == max)."""
    return (stats["count"] > 0) & (stats["min"] == stats["max"])


@dataclass(frozen=True)
class ZScore(Method):
    r"""Standard score with ``ddof`` delta degrees of freedom.

    .. math:: y = \frac{x - \bar x}{\sqrt{\sum (x - \bar x)^2 / (n - ddof)}}

    computed as ``((x - mean) - mean_lo) / std``: the mean is the unevaluated
    sum ``mean + mean_lo`` of two doubles, exact for data far from zero. For
    values near the ends of the float64 range, ``mean``, ``mean_lo`` and
    ``std`` are in units of ``scale`` (a power of two); otherwise ``scale``
    is 1. A constant group maps to 0 and is only centred, as in
    scikit-learn's ``StandardScaler``; a group of ``ddof`` values or fewer
    has no standard deviation and maps to NaN.
    """

    ddof: int = 0
    nan: str = "omit"
    inf: str = "error"

    name = "zscore"
    constraints = parameters.ZSCORE
    figures = ("count", "missing", "min", "max", "mean", "mean_lo", "std", "scale")
    invertible = True

    def fit(self, x: np.ndarray, axis: int | None) -> Moments:
        return Moments.of(x, axis)

    def finish(self, m: Moments) -> Stats:
        return {
            "count": m.count,
            "missing": m.missing,
            "min": m.minimum,
            "max": m.maximum,
            "mean": m.mean_hi,
            "mean_lo": m.mean_lo,
            "std": m.scaled_std(self.ddof),
            "scale": unit(m.scale),
        }

    def transform(self, x: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        original = x
        with quiet():
            scale = stats["scale"]
            if (scale != 1.0).any():
                x = x / at(scale)
            out = ((x - at(stats["mean"])) - at(stats["mean_lo"])) / at(self._divisor(stats))
        constant = self._constant(stats)
        if constant.any():
            # Decided from min == max: the computed std of [-0.087] * 3 is
            # 1.4e-17, not 0, and dividing by it would make noise look large.
            # The group's own values become exactly 0; others (new data,
            # with saved parameters) their distance from it, as in
            # scikit-learn's StandardScaler.
            out = np.where(at(constant) & (original == at(stats["min"])), 0.0, out)
        return self._propagated(out, stats, at)

    def inverse(self, y: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        with quiet():
            return ((y * at(self._divisor(stats)) + at(stats["mean_lo"])) + at(stats["mean"])) * at(stats["scale"])

    def _constant(self, stats: Stats) -> np.ndarray:
        return _constant(stats) & (stats["count"] > self.ddof)

    def _divisor(self, stats: Stats) -> np.ndarray:
        """The std, or for a constant group 1 (in plain units: scale is a power of two)."""
        return np.where(self._constant(stats), 1.0 / stats["scale"], stats["std"])

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        too_few = (stats["count"] > 0) & (stats["count"] <= self.ddof)
        return [
            (_constant(stats) & ~too_few, "constant (zero std); results set to 0"),
            (too_few, f"no more values than ddof={self.ddof}; results missing"),
        ]


def normalize(method: Method, x: np.ndarray, axis: int | None) -> np.ndarray:
    """Fit ``method`` on the 2-D block ``x`` and transform it: one batch of the streaming path."""
    return method.fit_transform(x, axis)[0]

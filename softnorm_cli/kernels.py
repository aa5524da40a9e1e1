"""Numeric kernels: softmax, min-max and z-score on float64 arrays.

Pure numpy, no I/O. NaN marks a missing value. Every method is split in two
steps so that one code path serves an array in memory and a table streamed in
batches:

* ``fit(x, axis)`` reduces a block to per-group statistics (:class:`Moments`
  or :class:`SoftmaxNormalizer`). Statistics of two blocks merge exactly,
  so a column can be summarized batch by batch;
* ``transform(x, stats)`` maps values with finished statistics.

Groups follow numpy's ``axis``: ``1`` normalizes each row, ``0`` each column,
``None`` the whole block. Statistics keep the reduced axes (``keepdims``) so
they broadcast against the block they came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["MinMax", "Moments", "Softmax", "SoftmaxNormalizer", "ZScore", "normalize"]

# Shifting by the group maximum makes overflow impossible, but subtracting
# -1e308 from 1e308 still overflows to inf on the way, and empty or constant
# groups divide by zero; those cases are handled explicitly, so numpy's
# floating point warnings would only be noise.
def _quiet() -> np.errstate:
    return np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore")


@dataclass
class Moments:
    """Mergeable per-group statistics: count, missing, min, max, mean, M2, sum.

    ``mean`` and ``m2`` (the sum of squared deviations) come from the
    corrected two-pass algorithm inside a block (Chan, Golub and LeVeque's
    ``sum(d**2) - sum(d)**2 / n``) and are merged across blocks with their
    parallel update, so data such as ``1e9 + noise`` keeps its variance where
    the textbook ``E[x^2] - E[x]^2`` loses it all.

    The mean is kept as an unevaluated sum of two doubles, ``mean_hi +
    mean_lo`` (made exact by Knuth's TwoSum), because one double cannot
    hold the mean of epoch microseconds (1.7e15) to better than a quarter,
    which is far from the spread of such data. z-scores are then
    ``((x - mean_hi) - mean_lo) / std``, whose first subtraction is exact for
    values near the mean.

    Squares of values near the ends of the float64 range overflow or
    underflow, so such groups are computed on ``x / scale``, with ``scale`` a
    power of two (exact) near their largest magnitude: the mean and ``m2``
    are kept in units of ``scale`` and ``scale**2``. Ordinary data has
    ``scale == 1``; a group that is empty or all zeros has ``scale == 0``, so
    merging takes the other side's scale.

    Sums run along memory (numpy's pairwise summation), whatever the layout
    of the block, so equal blocks give equal statistics bit for bit.

    An empty group has ``count == 0``, ``min == +inf`` and ``max == -inf``.
    """

    count: np.ndarray
    missing: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    mean_hi: np.ndarray
    mean_lo: np.ndarray
    m2: np.ndarray
    total: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, axis: int | None) -> Moments:
        """Statistics of each group of the 2-D block ``x`` along ``axis``."""
        x, axis = _along_memory(x, axis)
        kw = {"axis": axis, "keepdims": True}
        missing_mask = np.isnan(x)
        gaps = missing_mask.any()
        with _quiet():
            if gaps:
                present = ~missing_mask
                count = present.sum(**kw)
                minimum = np.fmin.reduce(x, initial=np.inf, **kw)
                maximum = np.fmax.reduce(x, initial=-np.inf, **kw)
            else:
                count = _full_count(x, axis)
                minimum = x.min(initial=np.inf, **kw)
                maximum = x.max(initial=-np.inf, **kw)
            magnitude = np.maximum(np.abs(minimum), np.abs(maximum))
            scale = np.where((count > 0) & (magnitude > 0), _power_of_two_scale(magnitude), 0.0)
            unit = _unit(scale)
            scaled = x / unit if (unit != 1.0).any() else x
            total = np.nansum(scaled, **kw) if gaps else scaled.sum(**kw)
            first = total / count
            deviation = scaled - first
            if gaps:
                deviation = np.where(present, deviation, 0.0)
            correction = deviation.sum(**kw)
            m2 = np.sum(deviation * deviation, **kw) - correction * correction / count
            mean_hi, mean_lo = _two_sum(first, correction / count)
            total = total * unit
        return cls(
            count=count,
            missing=missing_mask.sum(**kw),
            minimum=minimum,
            maximum=maximum,
            mean_hi=mean_hi,
            mean_lo=mean_lo,
            m2=np.where(count > 0, np.maximum(m2, 0.0), 0.0),
            total=total,
            scale=scale,
        )

    def merge(self, other: Moments) -> Moments:
        """Statistics of the union of both blocks' groups."""
        n = self.count + other.count
        scale = np.maximum(self.scale, other.scale)
        ra, rb = self.scale / _unit(scale), other.scale / _unit(scale)
        with _quiet():
            hi_a, lo_a = self.mean_hi * ra, self.mean_lo * ra  # powers of two: exact
            hi_b, lo_b = other.mean_hi * rb, other.mean_lo * rb
            delta = (hi_b - hi_a) + (lo_b - lo_a)
            mean_hi, mean_lo = _two_sum(hi_a, lo_a + delta * (other.count / n))
            m2 = self.m2 * ra * ra + other.m2 * rb * rb + delta * delta * (self.count * other.count / n)
        # An empty side has a NaN mean; take the other side's figures as they are.
        a_empty, b_empty = self.count == 0, other.count == 0
        mean_hi = np.where(a_empty, hi_b, np.where(b_empty, hi_a, mean_hi))
        mean_lo = np.where(a_empty, lo_b, np.where(b_empty, lo_a, mean_lo))
        m2 = np.where(a_empty, other.m2 * rb * rb, np.where(b_empty, self.m2 * ra * ra, m2))
        with _quiet():
            total = self.total + other.total  # inf + -inf is an honest NaN here
        return Moments(
            count=n,
            missing=self.missing + other.missing,
            minimum=np.minimum(self.minimum, other.minimum),
            maximum=np.maximum(self.maximum, other.maximum),
            mean_hi=mean_hi,
            mean_lo=mean_lo,
            m2=m2,
            total=total,
            scale=scale,
        )

    @property
    def mean(self) -> np.ndarray:
        with _quiet():
            return (self.mean_hi + self.mean_lo) * _unit(self.scale)

    def std(self, ddof: int = 0) -> np.ndarray:
        """Standard deviation with ``ddof`` delta degrees of freedom (NaN if undefined)."""
        return self._scaled_std(ddof) * _unit(self.scale)

    def _scaled_std(self, ddof: int) -> np.ndarray:
        with _quiet():
            return np.where(self.count > ddof, np.sqrt(self.m2 / (self.count - ddof)), np.nan)

    def standardize(self, x: np.ndarray, ddof: int = 0) -> np.ndarray:
        """``((x - mean_hi) - mean_lo) / std``, in units of ``scale`` so that nothing overflows on the way."""
        with _quiet():
            unit = _unit(self.scale)
            if (unit != 1.0).any():
                x = x / unit
            return ((x - self.mean_hi) - self.mean_lo) / self._scaled_std(ddof)

    @property
    def constant(self) -> np.ndarray:
        """Groups whose values are all equal, decided exactly (min == max)."""
        return (self.count > 0) & (self.minimum == self.maximum)


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a + b`` as ``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, np.where(np.isfinite(s), e, 0.0)


def _along_memory(x: np.ndarray, axis: int | None) -> tuple[np.ndarray, int]:
    """``x`` laid out so that each group's values are contiguous, and the axis to reduce.

    numpy sums a contiguous run pairwise but a strided one in a running
    total; the same values must give the same sums however the array that
    holds them was cut or copied. The whole block (``axis=None``) becomes
    one column.
    """
    size = x.itemsize
    if axis is None:
        return x.reshape(-1, 1, order="F"), 0
    if x.strides[axis] != size and x.shape[axis] > 1:
        x = np.asfortranarray(x) if axis == 0 else np.ascontiguousarray(x)
    return x, axis


def _full_count(x: np.ndarray, axis: int | None) -> np.ndarray:
    """The number of values in each group of a block without gaps, shaped like a keepdims reduction."""
    shape = (1, 1) if axis is None else tuple(1 if i == axis else n for i, n in enumerate(x.shape))
    return np.full(shape, x.size if axis is None else x.shape[axis], dtype=np.int64)


def _unit(scale: np.ndarray) -> np.ndarray:
    """The scale to compute with: a group without magnitude (scale 0) is in plain units."""
    return np.where(scale == 0.0, 1.0, scale)


def _power_of_two_scale(magnitude: np.ndarray) -> np.ndarray:
    """1 for ordinary magnitudes; a power of two near the magnitude where squares would overflow or underflow."""
    extreme = np.isfinite(magnitude) & (magnitude > 0) & ((magnitude > 2.0**500) | (magnitude < 2.0**-500))
    if not extreme.any():
        return np.ones_like(magnitude)
    # frexp puts the magnitude in [2**(e-1), 2**e); dividing by 2**(e-1) keeps it in [1, 2).
    return np.where(extreme, np.ldexp(1.0, np.frexp(np.where(extreme, magnitude, 1.0))[1] - 1), 1.0)


@dataclass
class SoftmaxNormalizer:
    """Mergeable softmax denominator of each group (the "online softmax").

    ``maximum`` is the largest value below +inf and ``sumexp`` is
    ``sum(exp((x - maximum) / T))`` over those values. When a later block
    raises the maximum, the old sum is rescaled by ``exp((old - new) / T)``
    (Milakov and Gimelshein, 2018), so no exponential ever overflows.
    ``posinf`` counts +inf entries, which take the whole mass between them.
    """

    maximum: np.ndarray
    sumexp: np.ndarray
    posinf: np.ndarray
    count: np.ndarray
    missing: np.ndarray
    temperature: float

    @classmethod
    def of(cls, x: np.ndarray, axis: int | None, temperature: float = 1.0) -> SoftmaxNormalizer:
        """The denominators of each group of the 2-D block ``x`` along ``axis``."""
        return cls.with_exponentials(x, axis, temperature)[0]

    @classmethod
    def with_exponentials(
        cls, x: np.ndarray, axis: int | None, temperature: float = 1.0
    ) -> tuple[SoftmaxNormalizer, np.ndarray | None]:
        """The denominators, and ``exp((x - max) / T)`` when all of ``x`` is finite (else None).

        Fitting and transforming the same block can then share the exponentials.
        """
        shape = x.shape
        x, axis = _along_memory(x, axis)
        kw = {"axis": axis, "keepdims": True}
        exponentials = None
        with _quiet():
            if np.isfinite(x).all():
                maximum = x.max(initial=-np.inf, **kw)
                exponentials = x - maximum
                if temperature != 1.0:
                    exponentials /= temperature
                np.exp(exponentials, out=exponentials)
                sumexp = exponentials.sum(**kw)
                posinf = missing = np.zeros_like(maximum, dtype=np.int64)
                count = _full_count(x, axis)
            else:
                missing_mask = np.isnan(x)
                posinf_mask = x == np.inf
                finite_or_neginf = np.where(missing_mask | posinf_mask, -np.inf, x)
                maximum = finite_or_neginf.max(initial=-np.inf, **kw)
                sumexp = np.exp((finite_or_neginf - _finite_or_zero(maximum)) / temperature).sum(**kw)
                posinf = posinf_mask.sum(**kw)
                missing = missing_mask.sum(**kw)
                count = (~missing_mask).sum(**kw)
        if exponentials is not None and exponentials.shape != shape:
            exponentials = exponentials.reshape(shape, order="F")  # the whole block was one column
        return cls(maximum, sumexp, posinf, count, missing, temperature), exponentials

    def merge(self, other: SoftmaxNormalizer) -> SoftmaxNormalizer:
        maximum = np.maximum(self.maximum, other.maximum)
        shift = _finite_or_zero(maximum)
        with _quiet():
            # A side whose maximum is -inf has sumexp 0 and exp(-inf) == 0.
            sumexp = self.sumexp * np.exp((self.maximum - shift) / self.temperature) + other.sumexp * np.exp(
                (other.maximum - shift) / self.temperature
            )
        return SoftmaxNormalizer(
            maximum=maximum,
            sumexp=sumexp,
            posinf=self.posinf + other.posinf,
            count=self.count + other.count,
            missing=self.missing + other.missing,
            temperature=self.temperature,
        )

    @property
    def undefined(self) -> np.ndarray:
        """Groups with values but none above -inf: softmax has no limit there."""
        return (self.count > 0) & (self.posinf == 0) & (self.maximum == -np.inf)


def _finite_or_zero(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, 0.0)


def _propagate(out: np.ndarray, missing: np.ndarray, propagate: bool) -> np.ndarray:
    """Blank whole groups that had a missing value, as numpy and scipy would."""
    if propagate and missing.any():
        out = np.where(missing > 0, np.nan, out)
    return out


class _Method:
    """What the three methods share: ``fit``, ``transform``, and both on one block."""

    def fit_transform(self, x: np.ndarray, axis: int | None):
        """Fit on ``x`` and transform it: the results and the statistics."""
        stats = self.fit(x, axis)
        return self.transform(x, stats), stats


@dataclass(frozen=True)
class Softmax(_Method):
    r"""Softmax (or log-softmax) with temperature.

    .. math:: y_i = \frac{e^{(x_i - m)/T}}{\sum_j e^{(x_j - m)/T}}, \quad m = \max_j x_j

    ``log=True`` computes :math:`(x_i - m)/T - \log\sum_j e^{(x_j - m)/T}`
    directly, never ``log(softmax)``, which underflows to -inf.
    """

    temperature: float = 1.0
    log: bool = False
    propagate: bool = False

    name = "softmax"

    def fit(self, x: np.ndarray, axis: int | None) -> SoftmaxNormalizer:
        return SoftmaxNormalizer.of(x, axis, self.temperature)

    def fit_transform(self, x: np.ndarray, axis: int | None) -> tuple[np.ndarray, SoftmaxNormalizer]:
        norm, exponentials = SoftmaxNormalizer.with_exponentials(x, axis, self.temperature)
        if exponentials is None or self.log:
            return self.transform(x, norm), norm
        exponentials /= norm.sumexp  # finite input: no limits or gaps to handle
        return exponentials, norm

    def transform(self, x: np.ndarray, norm: SoftmaxNormalizer) -> np.ndarray:
        with _quiet():
            shifted = x - _finite_or_zero(norm.maximum)
            if self.log:
                out = shifted / self.temperature - np.log(norm.sumexp)
            else:
                out = np.exp(shifted / self.temperature) / norm.sumexp
            if norm.posinf.any():
                # The limit as the +inf entries grow: they share the mass equally.
                k = norm.posinf
                on_inf = -np.log(k) if self.log else 1.0 / k
                off_inf = -np.inf if self.log else 0.0
                limit = np.where(x == np.inf, on_inf, np.where(np.isnan(x), np.nan, off_inf))
                out = np.where(k > 0, limit, out)
        undefined = norm.undefined
        if undefined.any():
            out = np.where(undefined, np.nan, out)
        return _propagate(out, norm.missing, self.propagate)

    def problems(self, norm: SoftmaxNormalizer) -> list[tuple[np.ndarray, str]]:
        return [(norm.undefined, "only -inf values; results missing")]


@dataclass(frozen=True)
class MinMax(_Method):
    r"""Min-max scaling to ``[lo, hi]``.

    .. math:: y = lo + (x - \min x) \frac{hi - lo}{\max x - \min x}

    A constant group maps to ``lo``, as scikit-learn's ``MinMaxScaler`` does.
    """

    lo: float = 0.0
    hi: float = 1.0
    propagate: bool = False

    name = "minmax"

    def fit(self, x: np.ndarray, axis: int | None) -> Moments:
        return Moments.of(x, axis)

    def transform(self, x: np.ndarray, m: Moments) -> np.ndarray:
        minimum, maximum = m.minimum, m.maximum
        with _quiet():
            span = maximum - minimum
            if np.isinf(span[np.isfinite(minimum) & np.isfinite(maximum)]).any():
                # max - min overflows past 1.8e308: halve everything, exactly.
                x, minimum, span = x * 0.5, minimum * 0.5, maximum * 0.5 - minimum * 0.5
            # Dividing before scaling maps the maximum to exactly hi on [0, 1].
            span = np.where(m.constant, 1.0, span)
            unit = (x - minimum) / span
            if np.isfinite(self.hi - self.lo):
                out = self.lo + unit * (self.hi - self.lo)
            else:  # a range wider than 1.8e308 (-1e308,1e308): in halves, exactly scaled back
                out = (self.lo * 0.5 + unit * (self.hi * 0.5 - self.lo * 0.5)) * 2.0
        # Rounding may step a hair outside [lo, hi]; the range is a promise.
        np.clip(out, self.lo, self.hi, out=out)
        return _propagate(out, m.missing, self.propagate)

    def problems(self, m: Moments) -> list[tuple[np.ndarray, str]]:
        return [
            (m.constant, f"constant; results set to {self.lo:g}"),
        ]


@dataclass(frozen=True)
class ZScore(_Method):
    r"""Standard score with ``ddof`` delta degrees of freedom.

    .. math:: y = \frac{x - \bar x}{\sqrt{\sum (x - \bar x)^2 / (n - ddof)}}

    A constant group maps to 0, as scikit-learn's ``StandardScaler`` does; a
    group of ``ddof`` values or fewer has no standard deviation and maps to NaN.
    """

    ddof: int = 0
    propagate: bool = False

    name = "zscore"

    def fit(self, x: np.ndarray, axis: int | None) -> Moments:
        return Moments.of(x, axis)

    def transform(self, x: np.ndarray, m: Moments) -> np.ndarray:
        out = m.standardize(x, self.ddof)
        constant = m.constant & (m.count > self.ddof)
        if constant.any():
            # Decided from min == max: the computed std of [-0.087] * 3 is
            # 1.4e-17, not 0, and dividing by it would make noise look large.
            out = np.where(constant, np.where(np.isnan(x), np.nan, 0.0), out)
        return _propagate(out, m.missing, self.propagate)

    def problems(self, m: Moments) -> list[tuple[np.ndarray, str]]:
        too_few = (m.count > 0) & (m.count <= self.ddof)
        return [
            (m.constant & ~too_few, "constant (zero std); results set to 0"),
            (too_few, f"no more values than ddof={self.ddof}; results missing"),
        ]


def normalize(method: Softmax | MinMax | ZScore, x: np.ndarray, axis: int | None) -> np.ndarray:
    """Fit ``method`` on the 2-D block ``x`` and transform it: one batch of the streaming path."""
    return method.fit_transform(x, axis)[0]

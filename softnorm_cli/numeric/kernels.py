"""Numeric kernels: mergeable statistics of float64 blocks, in pure numpy, no I/O.

NaN marks a missing value. A block's statistics (:class:`Moments` for min-max
and z-score, :class:`ExpSums` for softmax) merge exactly with another
block's, so a column can be summarized batch by batch, or partition by
partition on a cluster. The methods that use them are in
:mod:`softnorm_cli.numeric.methods`.

Groups follow numpy's ``axis``: ``1`` each row, ``0`` each column, ``None``
the whole block; statistics keep the reduced axes (``keepdims``) so they
broadcast against the block they came from. Or they are runs of rows sorted
by key (:class:`~softnorm_cli.numeric.segments.Segments`): statistics then have one
row per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from softnorm_cli.numeric.segments import Segments, along
from softnorm_cli.numeric.shifted import exp_shifted, shifted, two_product

#: The groups of a block: a numpy axis, or rows sorted by key.
Groups = int | None | Segments

__all__ = ["ExpSums", "Extremes", "Moments", "finite_or_zero", "quiet", "unit"]

# Shifting by the group maximum makes overflow impossible, but subtracting
# -1e308 from 1e308 still overflows to inf on the way, and empty or constant
# groups divide by zero; those cases are handled explicitly, so numpy's
# floating point warnings would only be noise.
def quiet() -> np.errstate:
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
    def of(cls, x: np.ndarray, groups: Groups) -> Moments:
        """Statistics of each group of the 2-D block ``x`` (see :func:`~softnorm_cli.numeric.segments.along`)."""
        cut = along(x, groups)
        x = cut.x
        with quiet():
            # A NaN makes its group's minimum NaN: only then look for the gaps.
            minimum = cut.reduce(np.minimum, x, np.inf)
            gaps = bool(np.isnan(minimum).any())
            if gaps:
                present = ~np.isnan(x)
                count = cut.count(present)
                missing = cut.count() - count
                minimum = cut.reduce(np.fmin, x, np.inf)
                maximum = cut.reduce(np.fmax, x, -np.inf)
            else:
                count = cut.count()
                missing = np.zeros_like(count)
                maximum = cut.reduce(np.maximum, x, -np.inf)
            magnitude = np.maximum(np.abs(minimum), np.abs(maximum))
            scale = np.where((count > 0) & (magnitude > 0), power_of_two_scale(magnitude), 0.0)
            size = unit(scale)
            scaled = x / cut.spread(size) if (size != 1.0).any() else x
            total = cut.reduce(np.add, np.where(present, scaled, 0.0) if gaps else scaled, 0.0)
            first = total / count
            deviation = scaled - cut.spread(first)
            if gaps:
                deviation = np.where(present, deviation, 0.0)
            correction = cut.reduce(np.add, deviation, 0.0)
            np.multiply(deviation, deviation, out=deviation)  # squared in place: no second block
            m2 = cut.reduce(np.add, deviation, 0.0) - correction * correction / count
            mean_hi, mean_lo = _two_sum(first, correction / count)
            total = total * size
        return cls(
            count=count,
            missing=missing,
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
        ra, rb = self.scale / unit(scale), other.scale / unit(scale)
        with quiet():
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
        with quiet():
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
        with quiet():
            return (self.mean_hi + self.mean_lo) * unit(self.scale)

    def std(self, ddof: int = 0) -> np.ndarray:
        """Standard deviation with ``ddof`` delta degrees of freedom (NaN if undefined)."""
        return self.scaled_std(ddof) * unit(self.scale)

    def scaled_std(self, ddof: int) -> np.ndarray:
        """The standard deviation in units of ``scale``."""
        with quiet():
            return np.where(self.count > ddof, np.sqrt(self.m2 / (self.count - ddof)), np.nan)

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


def unit(scale: np.ndarray) -> np.ndarray:
    """The scale to compute with: a group without magnitude (scale 0) is in plain units."""
    return np.where(scale == 0.0, 1.0, scale)


def power_of_two_scale(magnitude: np.ndarray) -> np.ndarray:
    """1 for ordinary magnitudes; a power of two near the magnitude where squares would overflow or underflow."""
    extreme = np.isfinite(magnitude) & (magnitude > 0) & ((magnitude > 2.0**500) | (magnitude < 2.0**-500))
    if not extreme.any():
        return np.ones_like(magnitude)
    # frexp puts the magnitude in [2**(e-1), 2**e); dividing by 2**(e-1) keeps it in [1, 2).
    return np.where(extreme, np.ldexp(1.0, np.frexp(np.where(extreme, magnitude, 1.0))[1] - 1), 1.0)


@dataclass
class Extremes:
    """Mergeable count, missing count, minimum and maximum of each group: all that min-max needs.

    An empty group has ``count == 0``, ``min == +inf`` and ``max == -inf``.
    """

    count: np.ndarray
    missing: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, groups: Groups) -> Extremes:
        return cls.of_cut(along(x, groups))

    @classmethod
    def of_cut(cls, cut) -> Extremes:
        """The extremes of a block already cut into its groups (what other statistics build on)."""
        x = cut.x
        missing = np.isnan(x)
        if missing.any():
            minimum = cut.reduce(np.fmin, x, np.inf)
            maximum = cut.reduce(np.fmax, x, -np.inf)
            missing_count = cut.count(missing)
            count = cut.count() - missing_count
        else:
            minimum = cut.reduce(np.minimum, x, np.inf)
            maximum = cut.reduce(np.maximum, x, -np.inf)
            count = cut.count()
            missing_count = np.zeros_like(count)
        return cls(count, missing_count, minimum, maximum)

    def stats(self) -> dict[str, np.ndarray]:
        """The finished figures of the methods built on extremes (min-max, max-abs, unit norm)."""
        return {"count": self.count, "missing": self.missing, "min": self.minimum, "max": self.maximum}

    def merge(self, other: Extremes) -> Extremes:
        return Extremes(
            self.count + other.count,
            self.missing + other.missing,
            np.minimum(self.minimum, other.minimum),
            np.maximum(self.maximum, other.maximum),
        )


@dataclass
class ExpSums:
    """Mergeable softmax denominators of each group (the "online softmax").

    ``maximum`` is the largest value below +inf, and the denominator is
    ``S = sum(exp((x - maximum) / T))`` over those values. It is kept as
    ``rest = S - 1``, the sum without one of the maxima (whose term is 1),
    so that ``log S = log1p(rest)`` keeps its precision when the maximum
    takes almost all the mass (``S`` rounds to 1 there, and log-softmax
    would lose every digit); a group without values has ``rest == -1``.
    Merging adds a block's sum to another's, so ``rest_lo`` keeps what those
    additions rounded away (TwoSum): a column merged over thousands of
    chunks keeps its sum to the last bit or so.
    When a later block raises the maximum, the old sum is rescaled by
    ``exp((old - new) / T)`` (Milakov and Gimelshein, 2018), so no
    exponential ever overflows; exponentials are taken to within an ulp
    (:mod:`~softnorm_cli.numeric.shifted`). The temperature ``T`` is the
    method's option: it is given to :meth:`of` and :meth:`merge`, not kept
    here. ``posinf`` counts +inf entries, which take the whole mass between
    them.
    """

    maximum: np.ndarray
    rest: np.ndarray
    rest_lo: np.ndarray
    posinf: np.ndarray
    count: np.ndarray
    missing: np.ndarray

    @property
    def sumexp(self) -> np.ndarray:
        """``S``, the denominator (0 for a group without values)."""
        return (1.0 + self.rest) + self.rest_lo

    @property
    def log_sumexp(self) -> np.ndarray:
        """``log S``, to full precision when ``S`` is near 1 (-inf for a group without values)."""
        with quiet():
            return np.log1p(self.rest + self.rest_lo)

    @classmethod
    def of(cls, x: np.ndarray, groups: Groups, temperature: float = 1.0) -> ExpSums:
        """The denominators of each group of the 2-D block ``x``."""
        return cls.with_exponentials(x, groups, temperature)[0]

    @classmethod
    def with_exponentials(
        cls, x: np.ndarray, groups: Groups, temperature: float = 1.0
    ) -> tuple[ExpSums, np.ndarray | None]:
        """The denominators, and ``exp((x - max) / T)`` when all of ``x`` is finite (else None),
        laid out as ``x`` (for numpy's groups; rows sorted by group for segments).

        Fitting and transforming the same block can then share the exponentials.
        """
        shape = x.shape
        cut = along(x, groups)
        x = cut.x
        exponentials = None
        with quiet():
            if np.isfinite(x).all():
                maximum = cut.reduce(np.maximum, x, -np.inf)
                count = cut.count()
                posinf = missing = np.zeros_like(count)
                values, shift = x, cut.spread(maximum)
            else:
                missing_mask = np.isnan(x)
                posinf_mask = x == np.inf
                values = np.where(missing_mask | posinf_mask, -np.inf, x)
                maximum = cut.reduce(np.maximum, values, -np.inf)
                shift = cut.spread(finite_or_zero(maximum))
                posinf = cut.count(posinf_mask)
                missing = cut.count(missing_mask)
                count = cut.count(~missing_mask)
            exps = exp_shifted(values, shift, temperature)
            total, rest_lo = cut.sum_two(exps)
            if rest_lo is not None or ((total >= 8.0) | (total == 0.0)).all():
                rest_lo = np.zeros_like(total) if rest_lo is None else rest_lo
                # A maximum's term is exactly 1: with the sum compensated, or
                # far above 1 (its rounding error then hardly grows in S - 1),
                # the rest is S - 1, made exact by Fast2Sum (S >= 1, or S == 0).
                rest = total - 1.0
                rest_lo -= 1.0 + (rest - total)
            else:
                # Summed without compensation, S near 1 has lost the rest:
                # take the maxima's terms out, then put back all but one.
                top = values == cut.spread(maximum)
                rest, rest_lo = _split_sum(cut, exps - top)
                rest, rounded = _two_sum(rest, cut.count(top) - 1.0)
                rest_lo += rounded
            if values is x:
                exponentials = exps
        if exponentials is not None and exponentials.shape != shape:
            exponentials = exponentials.reshape(shape, order="F")  # the whole block was one column
        return cls(maximum, rest, rest_lo, posinf, count, missing), exponentials

    def merge(self, other: ExpSums, temperature: float = 1.0) -> ExpSums:
        maximum = np.maximum(self.maximum, other.maximum)
        shift = finite_or_zero(maximum)
        first = self.maximum >= other.maximum
        # The side holding the maximum keeps its rest; the other's whole sum is
        # rescaled onto it. A side whose maximum is -inf has S = 0 and exp(-inf) == 0.
        kept_rest, kept_lo = np.where(first, self.rest, other.rest), np.where(first, self.rest_lo, other.rest_lo)
        moved_max = np.where(first, other.maximum, self.maximum)
        moved_rest, moved_lo = np.where(first, other.rest, self.rest), np.where(first, other.rest_lo, self.rest_lo)
        with quiet():
            # exp((m' - m) / T) * (1 + rest') to the last bit but exp's own:
            # exp(q) (1 + r) (s_hi + s_lo), its products made exact (TwoProduct).
            q, r = shifted(moved_max, shift, temperature)
            factor = np.exp(q)
            s_hi, s_lo = _two_sum(np.ones_like(moved_rest), moved_rest)
            s_lo += moved_lo
            scaled, low = two_product(factor, s_hi)
            low += factor * s_lo + scaled * r
            rest, rounded = _two_sum(kept_rest, scaled)
            rest_lo = kept_lo + rounded + np.where(factor > 0, low, 0.0)
        return ExpSums(
            maximum=maximum,
            rest=rest,
            rest_lo=rest_lo,
            posinf=self.posinf + other.posinf,
            count=self.count + other.count,
            missing=self.missing + other.missing,
        )


def _split_sum(cut, terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sums of non-negative ``terms`` in each group as ``hi + lo``, all but exact.

    Each term is cut at the grid of ``ulp(sigma)``, with ``sigma`` a power of
    two above the group's count times its largest term: the high parts are
    multiples of that ulp below ``sigma``, so they add up exactly in any
    order, and the low parts are too small for their rounding to matter
    (Rump, Ogita and Oishi's error-free extraction).
    """
    largest = cut.reduce(np.maximum, terms, 0.0)
    sigma = cut.spread(np.ldexp(1.0, np.frexp(largest * (2.0 * cut.count() + 2.0))[1]))
    high = terms + sigma
    high -= sigma
    low = terms - high
    return cut.reduce(np.add, high, 0.0), cut.reduce(np.add, low, 0.0)


def finite_or_zero(a: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(a), a, 0.0)

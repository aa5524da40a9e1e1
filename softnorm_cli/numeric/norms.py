"""Mergeable vector norms of each group: l2, l1 and max, in pure numpy, no I/O.

:class:`Norms` is the statistic of :class:`~softnorm_cli.numeric.scalers.UnitNorm`,
beside the kernels of :mod:`~softnorm_cli.numeric.kernels` and cut into groups
the same way (:func:`~softnorm_cli.numeric.segments.along`).

Sums of ``|x|`` or ``x**2`` have no cancellation: every term is
non-negative, so numpy's pairwise sum of a chunk is accurate to a few units
in the last place times ``log2(n)``, and merging a few chunk totals left to
right keeps it so; no compensation is needed. What can go wrong is range:
the square of 1e200 overflows and that of 1e-200 underflows, as the sum of
two 1e308 does. Such groups are summed in units of ``scale``, a power of two
near their largest magnitude (exact divisions), as :class:`~softnorm_cli.numeric.kernels.Moments`
does; ordinary data has ``scale == 1`` and is never divided.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from softnorm_cli.numeric.kernels import Extremes, Groups, power_of_two_scale, quiet, unit
from softnorm_cli.numeric.segments import along

__all__ = ["POWERS", "Norms"]

#: The power of each norm's terms: ``sum(|x|**p)``; the max norm sums nothing.
POWERS = {"l2": 2, "l1": 1, "max": 0}


@dataclass
class Norms:
    """The group's :class:`~softnorm_cli.numeric.kernels.Extremes`, ``scale`` and ``total``, the sum of ``|x / scale|**p``.

    The largest magnitude is ``max(-minimum, maximum)``: the max norm, and
    what ``scale`` is chosen from. A group that is empty or all zeros has
    ``scale == 0`` (merging takes the other side's); an empty group has
    ``count == 0``, ``min == +inf`` and ``max == -inf``.
    """

    ends: Extremes
    scale: np.ndarray
    total: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, groups: Groups, power: int) -> Norms:
        cut = along(x, groups)
        ends = Extremes.of_cut(cut)
        x = cut.x
        with quiet():
            magnitude = np.maximum(-ends.minimum, ends.maximum)
            scale = np.where((ends.count > 0) & (magnitude > 0), power_of_two_scale(magnitude), 0.0)
            if power:
                size = unit(scale)
                terms = x / cut.spread(size) if (size != 1.0).any() else x
                terms = np.abs(terms) if power == 1 else terms * terms  # a new array either way
                if ends.missing.any():
                    terms[np.isnan(x)] = 0.0
                total = cut.reduce(np.add, terms, 0.0)
            else:
                total = np.zeros(scale.shape)
        return cls(ends, scale, total)

    def merge(self, other: Norms, power: int) -> Norms:
        scale = np.maximum(self.scale, other.scale)
        # Powers of two: exact, unless a side is so much smaller that it underflows, and is then negligible.
        ra, rb = (self.scale / unit(scale)) ** power, (other.scale / unit(scale)) ** power
        return Norms(self.ends.merge(other.ends), scale, self.total * ra + other.total * rb)

    def norm(self, power: int) -> np.ndarray:
        """Each group's norm in units of ``unit(scale)``: 0 for a group without values or of zeros."""
        with quiet():
            if power == 2:
                return np.sqrt(self.total)
            if power == 1:
                return self.total.copy()
            ends = self.ends
            return np.where(ends.count > 0, np.maximum(-ends.minimum, ends.maximum) / unit(self.scale), 0.0)

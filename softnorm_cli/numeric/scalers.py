"""Max-abs scaling and unit norms: the protocol of :mod:`~softnorm_cli.numeric.methods`, for two
scalers of scikit-learn's that only divide.

* :class:`MaxAbs` divides each group by its largest magnitude, as
  ``sklearn.preprocessing.MaxAbsScaler``: results in ``[-1, 1]``, zeros
  stay zeros (sparse data stays sparse), signs are kept.
* :class:`UnitNorm` divides each group by its l2, l1 or max norm, as
  ``sklearn.preprocessing.normalize``; by default each row (a sample) becomes
  a unit vector.

A group of zeros has nothing to divide by and is left as it is (scale 1, as
scikit-learn's ``_handle_zeros_in_scale``). Missing values follow ``nan``:
``omit`` fits on the values present and keeps the missing cells missing (as
``MaxAbsScaler`` does; ``normalize`` refuses NaN), ``propagate`` blanks the
whole group, ``raise`` stops. Pure numpy, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from softnorm_cli.numeric import parameters
from softnorm_cli.numeric.kernels import quiet, unit
from softnorm_cli.numeric.methods import ByExtremes, Method, PerRow, Stats
from softnorm_cli.numeric.norms import POWERS, Norms

__all__ = ["MaxAbs", "UnitNorm"]


@dataclass(frozen=True)
class MaxAbs(ByExtremes):
    r"""Scale each group by its largest magnitude.

    .. math:: y = \frac{x}{\max |x|}

    The statistics are min-max's (``count``, ``missing``, ``min``, ``max``);
    ``max |x|`` is ``max(-min, max)``, so ±1e308 divide without overflow. A
    group of zeros keeps its values (scale 1), as scikit-learn's
    ``MaxAbsScaler`` does.
    """

    nan: str = "omit"
    inf: str = "error"

    name = "maxabs"
    constraints = parameters.MAXABS
    figures = ("count", "missing", "min", "max")
    invertible = True

    def transform(self, x: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        with quiet():
            out = x / at(_max_abs_scale(stats))
        return self._propagated(out, stats, at)

    def inverse(self, y: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        with quiet():
            return y * PerRow(groups)(_max_abs_scale(stats))

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        return [(_zeros(stats), "all zeros; results left as they are")]


def _max_abs_scale(stats: Stats) -> np.ndarray:
    """What each group is divided by: its largest magnitude, or 1 for a group of zeros or without values."""
    magnitude = np.maximum(-stats["min"], stats["max"])
    return np.where(magnitude > 0, magnitude, 1.0)


def _zeros(stats: Stats) -> np.ndarray:
    return (stats["count"] > 0) & (stats["min"] == 0) & (stats["max"] == 0)


@dataclass(frozen=True)
class UnitNorm(Method):
    r"""Divide each group by its norm: ``l2`` (Euclidean), ``l1`` (sum of magnitudes) or ``max``.

    .. math:: y = \frac{x}{\lVert x \rVert_p}

    The statistics are the count, the missing count, the extremes, and
    ``norm``, in units of ``scale`` (a power of two, 1 for ordinary data;
    see :mod:`~softnorm_cli.numeric.norms`), so that norms beyond 1.8e308 or
    squares below the smallest float are no trouble: ``y = (x / scale) /
    norm``. A group of zeros stays zeros. Along the row axis each row is
    fitted where it stands, in one pass; along columns the norms are
    fitted statistics, which ``inverse`` multiplies back.
    """

    norm: str = "l2"
    nan: str = "omit"
    inf: str = "error"

    name = "unitnorm"
    constraints = parameters.UNITNORM
    figures = ("count", "missing", "min", "max", "scale", "norm")
    invertible = True  # along columns or the whole block; each row's norm is not kept

    @property
    def power(self) -> int:
        return POWERS[self.norm]

    def fit(self, x: np.ndarray, axis: int | None) -> Norms:
        return Norms.of(x, axis, self.power)

    def merge(self, a: Norms, b: Norms) -> Norms:
        return a.merge(b, self.power)

    def finish(self, norms: Norms) -> Stats:
        return {**norms.ends.stats(), "scale": unit(norms.scale), "norm": norms.norm(self.power)}

    def transform(self, x: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        with quiet():
            scale = stats["scale"]
            if (scale != 1.0).any():
                x = x / at(scale)
            out = x / at(_divisor(stats))
        return self._propagated(out, stats, at)

    def inverse(self, y: np.ndarray, stats: Stats, groups: np.ndarray | None = None) -> np.ndarray:
        at = PerRow(groups)
        with quiet():
            out = y * at(_divisor(stats))
            scale = stats["scale"]
            return out * at(scale) if (scale != 1.0).any() else out

    def problems(self, stats: Stats) -> list[tuple[np.ndarray, str]]:
        return [((stats["count"] > 0) & (stats["norm"] == 0), "all zeros; results left as they are")]


def _divisor(stats: Stats) -> np.ndarray:
    norm = stats["norm"]
    return np.where(norm > 0, norm, 1.0)

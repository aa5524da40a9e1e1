"""The Python API: the command line's methods on arrays and DataFrames.

Each function takes what ``numpy.asarray`` takes, or a pandas ``DataFrame`` or
``Series`` (which come back as the same type with the same index and columns),
and the same options as the command of the same name. A 1-D input is one group
whatever the axis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from softnorm_cli.numeric import parameters
from softnorm_cli.numeric.methods import Method, MinMax, Softmax, ZScore
from softnorm_cli.numeric.parameters import canonical_axis
from softnorm_cli.numeric.ranked import Quantile, Robust
from softnorm_cli.numeric.scalers import MaxAbs, UnitNorm

__all__ = ["softmax", "minmax", "zscore", "maxabs", "unitnorm", "robust", "quantile"]


def softmax(x, axis="row", temperature: float = 1.0, log: bool = False, nan: str = "omit", inf: str = "limit"):
    """Softmax (or log-softmax) of each group: by default each row becomes a distribution.

    Parameters
    ----------
    x : array_like, pandas.DataFrame or pandas.Series
        Values; NaN is missing.
    axis : {"row", "column", "all"} or 1, 0, None
        The groups: each row, each column, or the whole block.
    temperature : float
        ``T > 0``; values are divided by it after the shift by the maximum.
    log : bool
        Return log-softmax, computed without forming ``log(softmax)``.
    nan : {"omit", "propagate", "raise"}
        Missing values are skipped, blank their whole group, or raise ``ValueError``.
    inf : {"limit", "missing"}
        Infinities take their limits (+inf entries share the mass), or are missing values.

    Notes
    -----
    ``y_i = exp((x_i - m) / T) / sum_j exp((x_j - m) / T)`` with ``m`` the group
    maximum. +inf entries share the mass equally; a group of only -inf is NaN.

    Examples
    --------
    >>> softmax([[0.0, 0.0], [1000.0, 0.0]]).round(6).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    return _normalize(Softmax(temperature, log, nan, inf), x, axis)


def minmax(x, axis="column", feature_range: Sequence[float] = (0.0, 1.0), nan: str = "omit", inf: str = "error"):
    """Scale each group linearly onto ``feature_range`` (``lo < hi``).

    ``y = lo + (x - min) * (hi - lo) / (max - min)``; a constant group maps to
    ``lo``, as scikit-learn's ``MinMaxScaler`` does. An infinite value raises
    ``ValueError`` (``inf="missing"`` treats it as missing). Other parameters
    as for :func:`softmax`; the default axis scales each column.

    Examples
    --------
    >>> minmax([[1.0], [2.0], [3.0]]).ravel().tolist()
    [0.0, 0.5, 1.0]
    """
    lo, hi = parameters.FEATURE_RANGE.check("feature_range", feature_range)
    return _normalize(MinMax(lo, hi, nan=nan, inf=inf), x, axis)


def zscore(x, axis="column", ddof: int = 0, nan: str = "omit", inf: str = "error"):
    """Standard score of each group: ``(x - mean) / std`` with ``ddof``.

    A constant group maps to 0, as scikit-learn's ``StandardScaler`` does; a
    group with no more values than ``ddof`` maps to NaN. An infinite value
    raises ``ValueError`` (``inf="missing"`` treats it as missing). Other
    parameters as for :func:`softmax`; the default axis scales each column.

    Examples
    --------
    >>> zscore([1.0, 2.0, 3.0]).round(6).tolist()
    [-1.224745, 0.0, 1.224745]
    """
    return _normalize(ZScore(ddof, nan, inf), x, axis)


def maxabs(x, axis="column", nan: str = "omit", inf: str = "error"):
    """Divide each group by its largest magnitude, as scikit-learn's ``MaxAbsScaler``: results in ``[-1, 1]``.

    A group of zeros is left as it is. Missing values are left out of the
    fit and stay missing (``nan="omit"``). Other parameters as for
    :func:`minmax`.

    Examples
    --------
    >>> maxabs([[-4.0], [2.0], [0.0]]).ravel().tolist()
    [-1.0, 0.5, 0.0]
    """
    return _normalize(MaxAbs(nan, inf), x, axis)


def unitnorm(x, axis="row", norm: str = "l2", nan: str = "omit", inf: str = "error"):
    """Divide each group by its norm, as scikit-learn's ``normalize``: by default each row becomes a unit vector.

    ``norm`` is ``"l2"`` (Euclidean), ``"l1"`` (sum of magnitudes) or
    ``"max"`` (largest magnitude). A group of zeros stays zeros. Unlike
    ``normalize``, missing values are allowed: with ``nan="omit"`` the norm
    is over the values present and the missing ones stay missing. Other
    parameters as for :func:`softmax`.

    Examples
    --------
    >>> unitnorm([[3.0, 4.0], [0.0, 0.0]]).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    return _normalize(UnitNorm(norm, nan, inf), x, axis)


def robust(
    x, axis="column", quantile_range: Sequence[float] = (25.0, 75.0), center: bool = True, scale: bool = True,
    unit_variance: bool = False, nan: str = "omit", inf: str = "error",
):
    """Centre each group on its median and divide it by the distance between two percentiles, as scikit-learn's ``RobustScaler``.

    ``y = (x - median) / (P_hi - P_lo)`` with ``quantile_range = (lo, hi)``
    percentiles (0 to 100, linear interpolation, as ``np.nanpercentile``).
    ``unit_variance`` divides the scale by ``Φ⁻¹(hi) - Φ⁻¹(lo)``; ``center``
    and ``scale`` turn either step off. A group whose percentiles coincide
    is only centred. Other parameters as for :func:`minmax`.

    Examples
    --------
    >>> robust([[1.0], [2.0], [3.0], [4.0], [100.0]]).ravel().tolist()
    [-1.0, -0.5, 0.0, 0.5, 48.5]
    """
    lo, hi = parameters.QUANTILE_RANGE.check("quantile_range", quantile_range)
    return _normalize(Robust(lo, hi, center, scale, unit_variance, nan, inf), x, axis)


def quantile(x, axis="column", n_quantiles: int = 1000, output_distribution: str = "uniform", nan: str = "omit", inf: str = "error"):
    """Map each group through its own distribution function, as scikit-learn's ``QuantileTransformer(subsample=None)``.

    The function is interpolated through ``n_quantiles`` exact percentiles
    (fewer when the group has fewer values); ``output_distribution`` is
    ``"uniform"`` (results from 0 to 1) or ``"normal"`` (a standard normal,
    clipped at about ±5.2). Other parameters as for :func:`minmax`.

    Examples
    --------
    >>> quantile([[10.0], [20.0], [30.0], [1000.0]]).ravel().tolist()
    [0.0, 0.3333333333333334, 0.6666666666666666, 1.0]
    """
    return _normalize(Quantile(n_quantiles, output_distribution, nan, inf), x, axis)


def _normalize(method: Method, x, axis):
    """Run ``method`` through the engine, with the array as a table of one batch in memory."""
    import polars as pl

    from softnorm_cli.engine import local
    from softnorm_cli.engine.job import Job
    from softnorm_cli.io.memory import FrameSink, FrameSource

    axis = canonical_axis(axis)
    wrap = _pandas_wrapper(x)
    values = np.asarray(x.to_numpy() if wrap else x, dtype=np.float64)
    if values.ndim > 2:
        raise ValueError(f"expected a 1-D or 2-D array, got {values.ndim} dimensions")
    _check_values(values, method.nan, method.inf)
    block = values.reshape(1, -1) if values.ndim < 2 else values
    names = [str(i) for i in range(block.shape[1])]
    job = Job(method, "all" if values.ndim < 2 else axis, names)
    source, sink = FrameSource(pl.from_numpy(block, schema=names, orient="row")), FrameSink()
    local.fit_apply(job, source, sink)
    result = sink.frame.to_numpy().astype(np.float64, copy=False).reshape(values.shape)
    return wrap(result) if wrap else result


def _check_values(values: np.ndarray, nan: str, inf: str) -> None:
    for mask, policy, what in ((np.isnan(values), nan == "raise", "missing value"), (np.isinf(values), inf == "error", "infinite value")):
        if policy and mask.any():
            index = np.unravel_index(np.flatnonzero(mask)[0], values.shape)
            raise ValueError(f"{what} at index {tuple(int(i) for i in index)}")


def _pandas_wrapper(x):
    """A function that rebuilds ``x``'s pandas type around new values, or None.

    Duck-typed so that pandas is never imported for numpy users.
    """
    if type(x).__module__.split(".")[0] != "pandas":
        return None
    if hasattr(x, "columns"):
        return lambda values: type(x)(values, index=x.index, columns=x.columns)
    return lambda values: type(x)(values, index=x.index, name=getattr(x, "name", None))

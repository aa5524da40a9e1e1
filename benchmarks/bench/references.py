"""The robust suite's references, computed with numpy alone from the whole of each column: what
scikit-learn's RobustScaler, QuantileTransformer, MaxAbsScaler and Normalizer give, without
importing it (the tests compare these with scikit-learn where it is installed).

Part of ``bench.checks``, which runs in a process of its own.
"""

from __future__ import annotations

from .tables import QUANTILES


def robust(x):
    """RobustScaler: ``(x - median) / (q75 - q25)`` per column, the percentiles numpy's linear ones
    over the values present; a range of 0 divides by 1, as scikit-learn's ``_handle_zeros_in_scale``."""
    import numpy as np

    q25, median, q75 = np.nanpercentile(x, [25, 50, 75], axis=0)
    scale = q75 - q25
    scale[scale == 0] = 1.0
    return (x - median) / scale


def quantile_uniform(x, n_quantiles: int = QUANTILES):
    """QuantileTransformer(n_quantiles, subsample=None), uniform output, per column: the
    percentiles at ``linspace(0, 1, n)`` (n at most the rows), then the mean of the interpolation up the quantiles and
    down them (which splits a run of equal quantiles), the column's extremes made exactly 0 and 1."""
    import numpy as np

    y = np.array(x, dtype=np.float64, copy=True)
    # At most one quantile a row: the rows, missing values included, as scikit-learn counts them.
    refs = np.linspace(0, 1, max(1, min(n_quantiles, y.shape[0])), endpoint=True)
    for j in range(y.shape[1]):
        col = y[:, j]
        present = ~np.isnan(col)
        q = np.nanpercentile(col, refs * 100)
        lower, upper = col == q[0], col == q[-1]
        v = col[present]
        col[present] = 0.5 * (np.interp(v, q, refs) - np.interp(-v, -q[::-1], -refs[::-1]))
        col[upper] = 1.0
        col[lower] = 0.0
    return y


def maxabs(x):
    """MaxAbsScaler: each column over its largest magnitude (a column of zeros left as it is)."""
    import numpy as np

    scale = np.nanmax(np.abs(x), axis=0)
    scale[scale == 0] = 1.0
    return x / scale


def unitnorm(x):
    """Normalizer(norm="l2"): each row over its Euclidean length (a row of zeros left as it is)."""
    import numpy as np

    norm = np.sqrt((x * x).sum(axis=1, keepdims=True))
    norm[norm == 0] = 1.0
    return x / norm

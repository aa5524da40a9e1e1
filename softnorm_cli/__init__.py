"""softnorm: softmax, min-max, z-score, max-abs, unit-norm, robust and quantile normalization of tabular data.

The command line lives in :mod:`softnorm_cli.cli`; the functions re-exported
here work on numpy arrays and pandas objects::

    >>> from softnorm_cli import softmax
    >>> softmax([[1.0, 1.0]]).tolist()
    [[0.5, 0.5]]
"""

from softnorm_cli.version import __version__

__all__ = ["softmax", "minmax", "zscore", "maxabs", "unitnorm", "robust", "quantile", "__version__"]


def __getattr__(name):
    # Imported on first use so that `softnorm --help` does not pay for numpy.
    if name in ("softmax", "minmax", "zscore", "maxabs", "unitnorm", "robust", "quantile"):
        from softnorm_cli import api

        return getattr(api, name)
    raise AttributeError(f"module 'softnorm_cli' has no attribute {name!r}")

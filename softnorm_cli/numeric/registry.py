"""The methods by name: what a command, or a saved parameters file, calls each one.

Apart from the methods themselves, so that modules of methods
(:mod:`~softnorm_cli.numeric.methods`, :mod:`~softnorm_cli.numeric.scalers`)
need not import each other.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from softnorm_cli.numeric.methods import Method, MinMax, Softmax, ZScore
from softnorm_cli.numeric.ranked import Quantile, Robust
from softnorm_cli.numeric.scalers import MaxAbs, UnitNorm

__all__ = ["METHODS", "method_from"]

METHODS: dict[str, type[Method]] = {
    "softmax": Softmax, "minmax": MinMax, "zscore": ZScore, "maxabs": MaxAbs, "unitnorm": UnitNorm,
    "robust": Robust, "quantile": Quantile,
}


def method_from(name: str, options: dict[str, Any]) -> Method:
    """The method ``name`` with ``options`` (as :meth:`Method.options` gives them)."""
    cls = METHODS[name]
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in options.items() if k in known})

"""The parameters of the methods and of a job, and what values each takes: one table for each.

A method checks its parameters against its table when it is made
(``Softmax(temperature=0)`` raises ``ValueError``), and the command line
builds its option types from the same tables, so ``--temperature 0`` is
refused in the same words: a constraint is written once. As scikit-learn's
``_parameter_constraints``, but each entry also converts (``2`` to ``2.0``).

Pure Python: the command line reads these tables before numpy loads.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Constraint:
    """What values one parameter takes: :meth:`check` returns the value converted, or raises ``ValueError``."""

    def check(self, name: str, value: Any) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def _refuse(self, name: str, value: Any):
        raise ValueError(f"{name} must be {self.describe()}, got {_shown(value)}")


def _shown(value: Any) -> str:
    """A refused value as the message shows it: numbers alike however they came (``0``, ``0.0``), pairs as ``2,1``."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value:g}"
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        return ",".join(f"{v:g}" for v in value)
    return repr(value)


@dataclass(frozen=True)
class Interval(Constraint):
    """A number (``integer``: a whole one) within bounds; None leaves a side open. Never NaN or infinite."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"  # which bounds belong to the interval: both, left, right or neither
    integer: bool = False

    def check(self, name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            self._refuse(name, value)
        if self.integer:
            if value != int(value):
                self._refuse(name, value)
            value = int(value)
        else:
            value = float(value)
        low_ok = self.low is None or value > self.low or (value == self.low and self.closed in ("both", "left"))
        high_ok = self.high is None or value < self.high or (value == self.high and self.closed in ("both", "right"))
        if not (low_ok and high_ok):
            self._refuse(name, value)
        return value

    def describe(self) -> str:
        kind = "a whole number" if self.integer else "a finite number"
        bounds = []
        if self.low is not None:
            bounds.append(f"{'>=' if self.closed in ('both', 'left') else '>'} {self.low:g}")
        if self.high is not None:
            bounds.append(f"{'<=' if self.closed in ('both', 'right') else '<'} {self.high:g}")
        return kind + (" " + " and ".join(bounds) if bounds else "")


@dataclass(frozen=True)
class OneOf(Constraint):
    """One of some words; ``spellings`` maps other accepted spellings to them."""

    choices: tuple[str, ...]
    spellings: Mapping[str, str] | None = None

    def check(self, name: str, value: Any) -> Any:
        text = str(value).strip().lower() if self.spellings else value
        if self.spellings and text in self.spellings:
            return self.spellings[text]
        if text not in self.choices:
            self._refuse(name, value)
        return text

    def describe(self) -> str:
        return "one of " + ", ".join(self.accepted())

    def accepted(self) -> tuple[str, ...]:
        return (*self.choices, *(s for s in (self.spellings or {}) if s not in self.choices))


@dataclass(frozen=True)
class Flag(Constraint):
    """True or False."""

    def check(self, name: str, value: Any) -> Any:
        if value not in (True, False):  # 0 and 1 too, as numpy's booleans
            self._refuse(name, value)
        return bool(value)

    def describe(self) -> str:
        return "True or False"


@dataclass(frozen=True)
class Range(Constraint):
    """Two finite numbers ``(lo, hi)`` with ``lo < hi``, both within ``bounds`` when given."""

    bounds: tuple[float, float] | None = None

    def check(self, name: str, value: Any) -> Any:
        within = Interval(*self.bounds) if self.bounds else Interval()
        try:
            lo, hi = (within.check(name, v) for v in value)
        except (TypeError, ValueError):
            self._refuse(name, value)
        if not lo < hi:
            self._refuse(name, value)
        return lo, hi

    def describe(self) -> str:
        if self.bounds:
            return f"two numbers LO,HI from {self.bounds[0]:g} to {self.bounds[1]:g} with LO < HI"
        return "two finite numbers LO,HI with LO < HI"


def checked(table: Mapping[str, Constraint], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with each one checked against its entry in ``table``, and converted."""
    return {name: table[name].check(name, value) for name, value in values.items()}


#: Canonical axis names and the spellings accepted for each.
AXES = {
    "row": ("row", "rows", "1"),
    "column": ("column", "columns", "0"),
    "all": ("all", "none"),
}
AXIS = OneOf(tuple(AXES), {spelling: name for name, spellings in AXES.items() for spelling in spellings})
NAN = OneOf(("omit", "propagate", "raise"))
NAN_POLICIES = NAN.choices

#: The parameters of each method, as its fields name them.
SOFTMAX = {
    "temperature": Interval(0, None, closed="neither"),
    "log": Flag(),
    "nan": NAN,
    "inf": OneOf(("limit", "missing")),  # +inf entries share the mass (the limit), or are missing values
}
MINMAX = {
    "lo": Interval(),
    "hi": Interval(),
    "clip": Flag(),
    "nan": NAN,
    "inf": OneOf(("error", "missing")),
}
#: What MinMax's ``lo`` and ``hi`` make together.
FEATURE_RANGE = Range()
ZSCORE = {
    "ddof": Interval(0, None, integer=True),
    "nan": NAN,
    "inf": OneOf(("error", "missing")),
}
MAXABS = {
    "nan": NAN,
    "inf": OneOf(("error", "missing")),
}
UNITNORM = {
    "norm": OneOf(("l2", "l1", "max")),  # as scikit-learn's normalize: Euclidean, sum of magnitudes, largest magnitude
    "nan": NAN,
    "inf": OneOf(("error", "missing")),
}

ROBUST = {
    "lo": Interval(0, 100),  # the percentiles whose distance is the scale: scikit-learn's quantile_range
    "hi": Interval(0, 100),
    "center": Flag(),
    "scale": Flag(),
    "unit_variance": Flag(),
    "nan": NAN,
    "inf": OneOf(("error", "missing")),
}
#: What Robust's ``lo`` and ``hi`` make together: percentiles, ``lo < hi``.
QUANTILE_RANGE = Range((0, 100))
QUANTILE = {
    "n_quantiles": Interval(1, None, integer=True),
    "distribution": OneOf(("uniform", "normal")),
    "nan": NAN,
    "inf": OneOf(("error", "missing")),
}

#: The parameters of a job besides its method's.
JOB = {
    "axis": AXIS,
    "unseen": OneOf(("error", "nan")),  # a group the statistics lack: an error, or missing results
    "decimals": Interval(0, None, integer=True),
}


def canonical_axis(axis: str | int | None) -> str:
    """``'row'``, ``'column'`` or ``'all'`` for any accepted spelling (None is the whole block, as in numpy)."""
    return "all" if axis is None else AXIS.check("axis", axis)


def numpy_axis(axis: str) -> int | None:
    """The numpy ``axis`` argument of a canonical axis name."""
    return {"row": 1, "column": 0, "all": None}[axis]

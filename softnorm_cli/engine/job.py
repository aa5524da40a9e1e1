"""A job: what to normalize and how, as the engine takes it, checked when it is made."""

from __future__ import annotations

from dataclasses import dataclass

from softnorm_cli.engine.values import Numbers
from softnorm_cli.numeric import parameters
from softnorm_cli.numeric.methods import Method


@dataclass(frozen=True)
class Job:
    """The method with its options, the axis, the columns, and how values are read and written.

    Checked as the command line checks its options (:data:`~softnorm_cli.numeric.parameters.JOB`):
    ``Job(method, "columns")`` is the column axis, and a value that is no axis
    is a ``ValueError`` that names the parameter.
    """

    method: Method
    axis: str = "column"  # any spelling; kept canonical: "row", "column" or "all"
    columns: tuple[str, ...] = ()  # names, comma lists or globs; empty: every numeric column
    exclude: tuple[str, ...] = ()
    numbers: Numbers = Numbers()
    suffix: str | None = None  # keep the originals and append the results as {column}{suffix}
    decimals: int | None = None
    figures: bool = False  # gather before/after figures for the summary
    group_by: tuple[str, ...] = ()  # key columns: statistics per group of rows (column and all axes)
    unseen: str = "error"  # a group the statistics do not know: an error, or missing results
    inverse: bool = False  # map results back to the values they came from

    def __post_init__(self) -> None:
        if not isinstance(self.method, Method):
            raise ValueError(f"method must be a Softmax, MinMax, ZScore, MaxAbs, UnitNorm, Robust or Quantile, got {self.method!r}")
        given = {"axis": self.axis, "unseen": self.unseen}
        if self.decimals is not None:
            given["decimals"] = self.decimals
        for name, value in parameters.checked(parameters.JOB, given).items():
            object.__setattr__(self, name, value)
        for name in ("columns", "exclude", "group_by"):
            names = getattr(self, name)
            object.__setattr__(self, name, (names,) if isinstance(names, str) else tuple(names))
        if self.suffix == "":
            raise ValueError("suffix must not be empty: the results would replace the originals' names")
        if self.inverse and not self.method.invertible:
            raise ValueError(f"{self.method.name} has no inverse: it forgets a constant per group")
        if self.group_by and self.axis == "row":
            raise ValueError("group_by needs axis 'column' or 'all': with axis 'row' each row is a group of its own")

"""The summary of a run, as figures: what was read and written, each column before and after, warnings.

The engine gathers the figures (:class:`Figures`, merged across batches and
parts as :class:`Totals`, with the bin counts of :mod:`~softnorm_cli.engine.pictures`),
applying records what it found (:class:`Applied`),
and :func:`summarize` makes one :class:`Summary` of it all. The summary is
data: the command line renders it for people (``softnorm_cli.cli.render``),
:meth:`Summary.to_json` gives it to programs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from softnorm_cli.engine.diagnostics import Problems
from softnorm_cli.engine.pictures import Bins, Picture, sizes_picture
from softnorm_cli.numeric.kernels import Moments
from softnorm_cli.numeric.reduce import Reduction

if TYPE_CHECKING:
    from softnorm_cli.engine.fitted import Fitted

#: The figures of each column, in the order they are shown.
FIGURES = ("count", "missing", "min", "max", "mean", "std", "sum")


@dataclass
class Summary:
    command: str
    axis: str | None
    rows: int
    before: dict[str, dict[str, float]]
    after: dict[str, dict[str, float]] | None = None
    row_sums: tuple[float, float] | None = None
    row_sums_label: str = "row sums"
    warnings: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # columns not normalized, and why
    input: str | None = None
    output: str | None = None
    elapsed: float | None = None  # seconds
    #: With --group-by: the key columns, how many groups, the smallest and largest by rows;
    #: for ``stats``, each group's key, rows and figures (``figures``).
    groups: dict | None = None
    #: The parameters file read (--params) or written (--save-params).
    parameters: dict[str, str] = field(default_factory=dict)
    #: A dataset of parts: the engine that ran it, its workers and the partitions (None for one file).
    engine: dict | None = None
    #: Per column, its distribution by stage ("before", "after"); see :mod:`~softnorm_cli.engine.pictures`.
    pictures: dict[str, dict[str, Picture]] = field(default_factory=dict)
    row_max: Picture | None = None  # --axis row softmax: each row's largest probability
    group_sizes: Picture | None = None  # with --group-by: rows per group

    def to_json(self) -> dict:
        """The figures as strict JSON data: NaN and infinities become null."""
        columns = {
            name: {
                "before": _strict(figures),
                "after": _strict(self.after[name]),
                "bins": {stage: p.to_json() for stage, p in self.pictures.get(name, {}).items()},
            }
            for name, figures in self.before.items()
        }
        groups = self.groups
        if groups is not None and self.group_sizes is not None:
            groups = {**groups, "size_bins": self.group_sizes.to_json()}
        return {
            "command": self.command,
            "axis": self.axis,
            "input": self.input,
            "output": self.output,
            "rows": self.rows,
            "elapsed": self.elapsed,
            "columns": columns,
            "skipped": dict(self.skipped),
            "groups": groups,
            "parameters": dict(self.parameters),
            "engine": self.engine,
            "row_sums": None if self.row_sums is None else _strict(dict(zip(("min", "max"), self.row_sums))),
            "row_max_bins": None if self.row_max is None else self.row_max.to_json(),
            "warnings": list(self.warnings),
        }

    def stats_json(self) -> dict:
        """What ``softnorm stats --json`` prints: the rows, each column's figures, the columns left out;
        with group keys, the groups and each one's rows and figures."""
        data = {
            "rows": self.rows,
            "columns": {name: _strict(f) for name, f in self.before.items()},
            "skipped": dict(self.skipped),
        }
        if self.groups is not None:
            figures = [
                {**group, "columns": {name: _strict(f) for name, f in group["columns"].items()}}
                for group in self.groups["figures"]
            ]
            data["groups"] = {**self.groups, "figures": figures}
        return data


def _strict(figures: dict[str, float]) -> dict:
    return {k: (v if isinstance(v, int) or math.isfinite(v) else None) for k, v in figures.items()}


class Figures:
    """Running before/after figures per column, the same whatever the batches; ``bins``: counted too."""

    def __init__(self, bins: Bins | None = None) -> None:
        self.before = Reduction(_column_moments)
        self.after = Reduction(_column_moments)
        self.row_sums = (np.inf, -np.inf)
        self.bins = bins
        self._after = False

    def add(
        self, before: np.ndarray, after: np.ndarray | None = None, row_sums: np.ndarray | None = None,
        probabilities: np.ndarray | None = None,
    ) -> None:
        """``probabilities``: of the row softmax, when ``after`` holds their logarithms."""
        self.before.add(before)
        if after is not None:
            self._after = True
            self.after.add(after)
            if self.bins is not None:
                self.bins.add(before, after, probabilities)
        if row_sums is not None and row_sums.size:
            self.row_sums = (min(self.row_sums[0], row_sums.min()), max(self.row_sums[1], row_sums.max()))

    def totals(self) -> Totals:
        return Totals(self.before.result(), self.after.result() if self._after else None, self.row_sums, self.bins)


@dataclass
class Totals:
    """The figures of some rows, before and after: merged with another part's by :meth:`merge`."""

    before: Moments
    after: Moments | None
    row_sums: tuple[float, float]
    bins: Bins | None = None

    def merge(self, other: Totals) -> Totals:
        return Totals(
            self.before.merge(other.before),
            None if self.after is None else self.after.merge(other.after),
            (min(self.row_sums[0], other.row_sums[0]), max(self.row_sums[1], other.row_sums[1])),
            None if self.bins is None else self.bins.merge(other.bins),
        )

    def fill(self, summary: Summary, columns: list[str], log: bool = False) -> None:
        """Put the figures into ``summary``; ``log``: the row sums are of exp(result)."""
        summary.before = column_figures(self.before, columns)
        if self.after is not None:
            summary.after = column_figures(self.after, columns)
        if np.isfinite(self.row_sums[0]):
            summary.row_sums = self.row_sums
            summary.row_sums_label = "row sums of exp(result)" if log else "row sums"
        if self.bins is not None:
            summary.pictures = self.bins.pictures(columns)
            summary.row_max = self.bins.row_max_picture()


def _column_moments(values: np.ndarray) -> Moments:
    return Moments.of(values, 0)


def column_figures(moments: Moments, columns: list[str]) -> dict[str, dict[str, float]]:
    """Per-column figures from column-axis :class:`Moments`; ``std`` is the population std."""
    flat = {
        "count": moments.count,
        "missing": moments.missing,
        "min": np.where(moments.count > 0, moments.minimum, np.nan),
        "max": np.where(moments.count > 0, moments.maximum, np.nan),
        "mean": moments.mean,
        "std": moments.std(0),
        "sum": moments.total,
    }
    flat = {key: np.ravel(value) for key, value in flat.items()}
    return {
        name: {key: (int(flat[key][i]) if key in ("count", "missing") else float(flat[key][i])) for key in FIGURES}
        for i, name in enumerate(columns)
    }


@dataclass
class Applied:
    """What transforming some rows found, for the summary: merged with another part's by :meth:`merge`."""

    rows: int
    figures: Totals | None = None  # before and after, with job.figures
    row_problems: list[str] = field(default_factory=list)  # --axis row: the rows without a proper result
    group_rows: np.ndarray | None = None  # rows per group
    unseen_rows: int = 0  # rows in groups the statistics lack (--unseen nan)
    input_warnings: list[str] = field(default_factory=list)  # what reading the input found (its encoding)

    def merge(self, other: Applied) -> Applied:
        return Applied(
            self.rows + other.rows,
            None if self.figures is None else self.figures.merge(other.figures),
            self.row_problems + other.row_problems,
            None if self.group_rows is None else self.group_rows + other.group_rows,
            self.unseen_rows + other.unseen_rows,
            self.input_warnings + other.input_warnings,
        )


def summarize(fitted: Fitted, applied: Applied) -> Summary:
    """The summary of applying ``fitted``: the figures, and warnings about the selection and the statistics."""
    selection = fitted.selection
    problems = Problems(fitted.axis, fitted.columns, fitted.group_by, fitted.keys)
    if fitted.statistics is not None:
        problems.add(fitted.method, fitted.statistics)
    summary = Summary(
        fitted.command,
        fitted.axis,
        applied.rows,
        {},
        warnings=[
            *applied.input_warnings, *(selection.warnings if selection else []), *problems.finish(), *applied.row_problems
        ],
        skipped=selection.skipped if selection else {},
        groups=None if applied.group_rows is None else _groups(fitted, applied),
        group_sizes=None if applied.group_rows is None else sizes_picture(applied.group_rows[applied.group_rows > 0]),
    )
    if applied.figures is not None:
        applied.figures.fill(summary, fitted.columns, fitted.axis == "row" and getattr(fitted.method, "log", False))
    return summary


def summarize_fit(fitted: Fitted, input_warnings: Sequence[str] = ()) -> Summary:
    """What a fit without apply tells: the rows and groups it saw, and the groups without a proper result."""
    summary = summarize(fitted, Applied(fitted.rows, input_warnings=list(input_warnings)))
    if fitted.group_by:
        summary.groups = {"by": list(fitted.group_by), "count": len(fitted.keys)}
    return summary


def _groups(fitted: Fitted, applied: Applied) -> dict:
    """How many groups, and the smallest and largest by rows, for the summary."""
    rows = applied.group_rows
    seen = np.flatnonzero(rows)
    info = {"by": list(fitted.group_by), "count": len(rows), "with_rows": int(seen.size)}
    if seen.size:
        small, large = seen[np.argmin(rows[seen])], seen[np.argmax(rows[seen])]
        info["smallest"] = {"key": list(fitted.keys[small]), "rows": int(rows[small])}
        info["largest"] = {"key": list(fitted.keys[large]), "rows": int(rows[large])}
    if applied.unseen_rows:
        info["unseen_rows"] = applied.unseen_rows
    return info

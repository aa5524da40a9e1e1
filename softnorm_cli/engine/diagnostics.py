"""What a run tells besides its output: groups without a proper result, and before/after figures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from softnorm_cli.engine.keys import describe
from softnorm_cli.engine.summary import Summary, column_figures
from softnorm_cli.numeric.kernels import Moments
from softnorm_cli.numeric.methods import Method, Stats
from softnorm_cli.numeric.reduce import Reduction


class Problems:
    """Collects the groups a method could not normalize, as one line each."""

    def __init__(self, axis: str, columns: list[str], group_by: list[str] = (), keys: list[tuple] = ((),)):
        self.axis = axis
        self.columns = columns
        self.group_by = list(group_by)
        self.keys = keys
        self._rows: dict[str, list[int]] = {}  # message -> [count, first row]
        self.lines: list[str] = []

    def add(self, method: Method, stats: Stats, first_row: int = 1) -> None:
        found = method.problems(stats) + [(stats["count"] == 0, "no values; results missing")]
        for mask, what in found:
            if not mask.any():
                continue
            if self.axis == "row":
                hits = np.flatnonzero(np.ravel(mask))
                seen = self._rows.setdefault(what, [0, first_row + int(hits[0])])
                seen[0] += hits.size
                continue
            targets = [f"column {name!r}" for name in self.columns]
            if self.axis == "all":
                targets = [f"columns {_names(self.columns)} (one block)"]
            for target, hits in zip(targets, mask.T):
                if not self.group_by:
                    if hits[0]:
                        self.lines.append(f"{target}: {what}")
                elif hits.any():
                    self.lines.append(f"{target}: {self._groups(np.flatnonzero(hits))}: {what}")

    def _groups(self, hits: np.ndarray, shown: int = 5) -> str:
        named = ", ".join(describe(self.group_by, self.keys[i]) for i in hits[:shown])
        if hits.size == 1:
            return f"group {named}"
        more = f" and {hits.size - shown:,} more" if hits.size > shown else ""
        return f"{hits.size:,} groups ({named}{more})"

    def finish(self) -> list[str]:
        for what, (count, first) in self._rows.items():
            rows = f"row {first}" if count == 1 else f"{count:,} rows (first: row {first})"
            self.lines.append(f"{rows} over columns {_names(self.columns)}: {what}")
        return self.lines


def _names(columns: list[str]) -> str:
    return ", ".join(repr(c) for c in columns)


class Figures:
    """Running before/after figures per column, the same whatever the batches."""

    def __init__(self) -> None:
        self.before = Reduction(_column_moments)
        self.after = Reduction(_column_moments)
        self.row_sums = (np.inf, -np.inf)
        self._after = False

    def add(self, before: np.ndarray, after: np.ndarray | None = None, row_sums: np.ndarray | None = None) -> None:
        self.before.add(before)
        if after is not None:
            self._after = True
            self.after.add(after)
        if row_sums is not None and row_sums.size:
            self.row_sums = (min(self.row_sums[0], row_sums.min()), max(self.row_sums[1], row_sums.max()))

    def totals(self) -> Totals:
        return Totals(self.before.result(), self.after.result() if self._after else None, self.row_sums)

    def fill(self, summary: Summary, columns: list[str], log: bool = False) -> None:
        self.totals().fill(summary, columns, log)


@dataclass
class Totals:
    """The figures of some rows, before and after: merged with another part's by :meth:`merge`."""

    before: Moments
    after: Moments | None
    row_sums: tuple[float, float]

    def merge(self, other: Totals) -> Totals:
        return Totals(
            self.before.merge(other.before),
            None if self.after is None else self.after.merge(other.after),
            (min(self.row_sums[0], other.row_sums[0]), max(self.row_sums[1], other.row_sums[1])),
        )

    def fill(self, summary: Summary, columns: list[str], log: bool = False) -> None:
        """Put the figures into ``summary``; ``log``: the row sums are of exp(result)."""
        summary.before = column_figures(self.before, columns)
        if self.after is not None:
            summary.after = column_figures(self.after, columns)
        if np.isfinite(self.row_sums[0]):
            summary.row_sums = self.row_sums
            summary.row_sums_label = "row sums of exp(result)" if log else "row sums"


def _column_moments(values: np.ndarray) -> Moments:
    return Moments.of(values, 0)

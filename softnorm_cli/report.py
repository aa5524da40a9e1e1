"""What a run tells besides its output: groups without a proper result, and before/after figures."""

from __future__ import annotations

import numpy as np

from softnorm_cli.kernels import Moments
from softnorm_cli.methods import Method, Stats
from softnorm_cli.reduce import Reduction
from softnorm_cli.summary import Summary, column_figures


class Problems:
    """Collects the groups a method could not normalize, as one line each."""

    def __init__(self, axis: str, columns: list[str]):
        self.axis = axis
        self.columns = columns
        self._rows: dict[str, list[int]] = {}  # message -> [count, first row]
        self.lines: list[str] = []

    def add(self, method: Method, stats: Stats, first_row: int = 1) -> None:
        found = method.problems(stats) + [(stats["count"] == 0, "no values; results missing")]
        for mask, what in found:
            hits = np.flatnonzero(np.ravel(mask))
            if not hits.size:
                continue
            if self.axis == "row":
                seen = self._rows.setdefault(what, [0, first_row + int(hits[0])])
                seen[0] += hits.size
            elif self.axis == "column":
                self.lines.extend(f"column {self.columns[i]!r}: {what}" for i in hits)
            else:
                self.lines.append(f"columns {_names(self.columns)} (one block): {what}")

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

    def fill(self, summary: Summary, columns: list[str], log: bool = False) -> None:
        """Put the figures into ``summary``; ``log``: the row sums are of exp(result)."""
        summary.before = column_figures(self.before.result(), columns)
        if self._after:
            summary.after = column_figures(self.after.result(), columns)
        if np.isfinite(self.row_sums[0]):
            summary.row_sums = self.row_sums
            summary.row_sums_label = "row sums of exp(result)" if log else "row sums"


def _column_moments(values: np.ndarray) -> Moments:
    return Moments.of(values, 0)

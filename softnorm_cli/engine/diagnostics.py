"""Warnings found while fitting and applying: the groups a method could not normalize, one line each."""

from __future__ import annotations

import numpy as np

from softnorm_cli.engine.keys import describe
from softnorm_cli.numeric.methods import Method, Stats


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

"""Running a method over a table, batch by batch.

``--axis row`` needs one pass: every batch is fitted and transformed on its
own. ``column`` and ``all`` need the statistics of the whole table first:
pass 1 merges each batch's statistics, pass 2 transforms and writes. A table
that arrives as a single batch is parsed once and kept for pass 2, so the
in-memory case is the streaming case with one batch, not a second path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from softnorm_cli.errors import SoftnormError
from softnorm_cli.choices import numpy_axis
from softnorm_cli.kernels import MinMax, Moments, Softmax, ZScore
from softnorm_cli.summary import Summary, column_figures
from softnorm_cli.tableio import Sink, Source
from softnorm_cli.transform import select_columns, to_matrix, with_results

Method = Softmax | MinMax | ZScore


@dataclass(frozen=True)
class Job:
    """One normalization request, as the command line states it."""

    method: Method
    axis: str  # canonical: "row", "column" or "all"
    columns: Sequence[str] = ()  # names, comma lists or globs; empty: every numeric column
    nan: str = "omit"
    suffix: str | None = None
    decimals: int | None = None


@dataclass
class _Batch:
    frame: pl.DataFrame
    values: np.ndarray
    first_row: int  # 1-based number of its first data row


class _Problems:
    """Collects the groups a method could not normalize, as one line each."""

    def __init__(self, axis: str, columns: list[str]):
        self.axis = axis
        self.columns = columns
        self._rows: dict[str, list[int]] = {}  # message -> [count, first row]
        self.lines: list[str] = []

    def add(self, method: Method, stats, first_row: int = 1) -> None:
        found = method.problems(stats) + [(stats.count == 0, "no values; results missing")]
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


class _Figures:
    """Running before/after figures per column, merged batch by batch."""

    def __init__(self) -> None:
        self.before: Moments | None = None
        self.after: Moments | None = None
        self.row_sums = (np.inf, -np.inf)

    def add(self, before: np.ndarray, after: np.ndarray | None = None, row_sums: np.ndarray | None = None) -> None:
        self.before = _merged(self.before, Moments.of(before, 0))
        if after is not None:
            self.after = _merged(self.after, Moments.of(after, 0))
        if row_sums is not None and row_sums.size:
            self.row_sums = (min(self.row_sums[0], row_sums.min()), max(self.row_sums[1], row_sums.max()))


def _merged(total: Moments | None, part: Moments) -> Moments:
    return part if total is None else total.merge(part)


def _read(source: Source, columns: list[str] | None, patterns: Sequence[str], nan: str):
    """Yield ``(columns, batch)`` with the selected values parsed; columns are chosen on the first batch."""
    first_row = 1
    for frame in source.batches():
        if columns is None:
            columns = select_columns(frame, patterns)
            if not columns and frame.height:
                raise SoftnormError(f"{source.name}: no numeric column to normalize; name columns with -c")
        yield columns, _Batch(frame, to_matrix(frame, columns, first_row, nan), first_row)
        first_row += frame.height


def run(job: Job, source: Source, sink: Sink, figures: bool = False) -> Summary:
    """Normalize ``source`` into ``sink``; gather before/after figures if ``figures``."""
    method, axis = job.method, numpy_axis(job.axis)
    tally = _Figures() if figures else None
    batches = _read(source, None, job.columns, job.nan)
    columns, first = next(batches)
    problems = _Problems(job.axis, columns)
    rows = 0

    if job.axis == "row" or not columns:
        work = ((batch, method.fit(batch.values, axis)) for batch in _chain(first, (b for _, b in batches)))
    else:
        stats, more = method.fit(first.values, axis), False
        for _, batch in batches:
            stats, more = stats.merge(method.fit(batch.values, axis)), True
        problems.add(method, stats)
        # A table that came as one batch is still parsed; larger ones are read again.
        again = (b for _, b in _read(source, columns, job.columns, job.nan)) if more else [first]
        work = ((batch, stats) for batch in again)

    for batch, stats in work:
        out = method.transform(batch.values, stats)
        if job.axis == "row":
            problems.add(method, stats, batch.first_row)
        if tally is not None:
            tally.add(batch.values, out, _row_sums(method, out) if job.axis == "row" else None)
        sink.write(with_results(batch.frame, columns, out, job.suffix, job.decimals))
        rows += batch.frame.height

    summary = Summary(method.name, job.axis, rows, {}, warnings=problems.finish())
    if tally is not None and columns:
        summary.before = column_figures(tally.before, columns)
        summary.after = column_figures(tally.after, columns)
        if job.axis == "row":
            summary.row_sums = tally.row_sums if np.isfinite(tally.row_sums[0]) else None
            summary.row_sums_label = "row sums of exp(result)" if getattr(method, "log", False) else "row sums"
    return summary


def _chain(first, rest: Iterator):
    yield first
    yield from rest


def _row_sums(method: Method, out: np.ndarray) -> np.ndarray:
    """Sums of each row's results, over rows with any result (exp first for log-softmax)."""
    values = np.exp(out) if getattr(method, "log", False) else out
    present = ~np.isnan(values).all(axis=1)
    return np.nansum(values[present], axis=1)


def describe(source: Source, patterns: Sequence[str]) -> tuple[int, dict[str, dict[str, float]]]:
    """Rows and per-column figures of the selected columns, for ``softnorm stats``."""
    tally, rows, columns = _Figures(), 0, []
    for columns, batch in _read(source, None, patterns, "omit"):
        if columns:
            tally.add(batch.values)
        rows += batch.frame.height
    return rows, (column_figures(tally.before, columns) if columns else {})

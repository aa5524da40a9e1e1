"""Running a method over a table, batch by batch.

``--axis row`` needs one pass: every batch is fitted and transformed on its
own. ``column`` and ``all`` need the statistics of the whole table first:
pass 1 merges each batch's statistics, pass 2 transforms and writes. A file
known to fit in KEEP_BYTES once parsed keeps its batches from pass 1 for pass
2 and is read once. The in-memory case is the streaming case with one batch,
not a second path.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from softnorm_cli.choices import numpy_axis
from softnorm_cli.errors import SoftnormError
from softnorm_cli.io.infer import TypeInference
from softnorm_cli.io.sink import Sink
from softnorm_cli.kernels import MinMax, Moments, Softmax, ZScore
from softnorm_cli.reduce import Reduction
from softnorm_cli.selection import Selection, select
from softnorm_cli.summary import Summary, column_figures
from softnorm_cli.values import Numbers, to_matrix, with_results

Method = Softmax | MinMax | ZScore

#: Parsed batches up to this size are kept from pass 1 for pass 2 instead of
#: being read again: small and medium tables are read once, large ones stream.
KEEP_BYTES = 128 << 20


@dataclass(frozen=True)
class Job:
    """One normalization request, as the command line states it."""

    method: Method
    axis: str  # canonical: "row", "column" or "all"
    columns: Sequence[str] = ()  # names, comma lists or globs; empty: every numeric column
    nan: str = "omit"
    inf: str = "keep"  # infinities: keep (softmax's limits), missing, or error
    exclude: Sequence[str] = ()
    numbers: Numbers = Numbers()
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
    """Running before/after figures per column."""

    def __init__(self) -> None:
        self.before = Reduction(_column_moments)
        self.after = Reduction(_column_moments)
        self.row_sums = (np.inf, -np.inf)

    def add(self, before: np.ndarray, after: np.ndarray | None = None, row_sums: np.ndarray | None = None) -> None:
        self.before.add(before)
        if after is not None:
            self.after.add(after)
        if row_sums is not None and row_sums.size:
            self.row_sums = (min(self.row_sums[0], row_sums.min()), max(self.row_sums[1], row_sums.max()))


def _column_moments(values: np.ndarray) -> Moments:
    return Moments.of(values, 0)


def choose_columns(source, patterns: Sequence[str], exclude: Sequence[str] = (), numbers: Numbers = Numbers()) -> Selection:
    """The columns to normalize in ``source``, chosen from its first rows."""
    sample = source.sample()
    selection = select(sample, patterns, exclude, numbers, typed=source.format == "parquet", labels=source.labels)
    if not selection.columns and sample.height:
        skipped = "; ".join(f"{name}: {why}" for name, why in list(selection.skipped.items())[:5])
        raise SoftnormError(
            f"{source.name}: no numeric column to normalize; name columns with -c"
            + (f" (left out: {skipped})" if skipped else "")
        )
    return selection


def _read(
    source, job: Job, columns: list[str], replay: bool = False, as_text: bool = False, only: bool = False
) -> Iterator[_Batch]:
    """The batches with the selected columns' values parsed.

    The reader parses the selected columns straight to numbers unless their
    text is written out again (``as_text``, for ``--suffix``); with ``only``
    it reads no other column.
    """
    for batch in source.batches(() if as_text else columns, columns if only else None, replay):
        values = to_matrix(batch.frame, columns, batch.first_row, job.numbers, job.nan, job.inf)
        yield _Batch(batch.frame, values, batch.first_row)


def run(job: Job, source, sink: Sink, figures: bool = False, on_batch=None) -> Summary:
    """Normalize ``source`` into ``sink``; gather before/after figures if ``figures``.

    ``on_batch(stage)`` is called after each batch, for progress.
    """
    method, axis = job.method, numpy_axis(job.axis)
    tally = _Figures() if figures else None
    selection = choose_columns(source, job.columns, job.exclude, job.numbers)
    columns = selection.columns
    problems = _Problems(job.axis, columns)
    two_pass = job.axis != "row" and bool(columns)
    notify = on_batch or (lambda stage: None)
    rows = 0

    def read(replay: bool = False, only: bool = False) -> Iterator[_Batch]:
        return _read(source, job, columns, replay, as_text=bool(job.suffix), only=only)

    types = None
    if sink.format == "parquet" and source.format != "parquet":
        # CSV to Parquet: the text columns written back get the narrowest type
        # that loses nothing, which must hold for every batch.
        selected = set() if job.suffix else set(columns)
        types = TypeInference([c for c in source.columns if c not in selected], job.numbers.na_values)

    if two_pass:
        # Keeping batches for pass 2 pays only when they are sure to fit; a
        # larger table would hold KEEP_BYTES in vain before it is read again.
        size = source.size_in_memory()
        keep = size is not None and size <= KEEP_BYTES
        # Without keeping, pass 1 needs the selected columns alone.
        batches = _typed(read(replay=True, only=not keep and types is None), types)
        stats, kept = _fit_all(method, batches, axis, keep, lambda: notify("pass 1/2: statistics"))
        problems.add(method, stats)
        batches, stage = (kept if kept is not None else read()), "pass 2/2: writing"
    else:
        if types is not None:
            for batch in source.batches(replay=True):
                types.add(batch.frame)
        batches, stage = read(), "writing"

    for batch in batches:
        if two_pass:
            out = method.transform(batch.values, stats)
        else:  # each row is a group of its own: every batch is fitted alone
            out, row_stats = method.fit_transform(batch.values, axis)
            problems.add(method, row_stats, batch.first_row)
        if tally is not None:
            tally.add(batch.values, out, _row_sums(method, out) if job.axis == "row" else None)
        frame = with_results(batch.frame, columns, out, job.suffix, job.decimals)
        sink.write(frame if types is None else types.apply(frame))
        rows += batch.frame.height
        notify(stage)

    summary = Summary(
        method.name, job.axis, rows, {}, warnings=selection.warnings + problems.finish(), skipped=selection.skipped
    )
    if tally is not None and columns:
        summary.before = column_figures(tally.before.result(), columns)
        summary.after = column_figures(tally.after.result(), columns)
        if job.axis == "row":
            summary.row_sums = tally.row_sums if np.isfinite(tally.row_sums[0]) else None
            summary.row_sums_label = "row sums of exp(result)" if getattr(method, "log", False) else "row sums"
    return summary


def _typed(batches: Iterator[_Batch], types: TypeInference | None) -> Iterator[_Batch]:
    """The batches, each also shown to ``types``."""
    for batch in batches:
        if types is not None:
            types.add(batch.frame)
        yield batch


def _fit_all(
    method: Method, batches: Iterator[_Batch], axis: int | None, keep: bool, notify
) -> tuple[object, list[_Batch] | None]:
    """Pass 1: the merged statistics of all batches, and with ``keep`` the batches too while they fit in KEEP_BYTES."""
    reduction, kept, size = Reduction(lambda values: method.fit(values, axis)), ([] if keep else None), 0
    for batch in batches:
        reduction.add(batch.values)
        if kept is not None:
            size += batch.frame.estimated_size() + batch.values.nbytes
            if size <= KEEP_BYTES:
                kept.append(batch)
            else:
                kept = None  # larger than estimated: pass 2 reads again
        notify()
    return reduction.result(), kept


def _row_sums(method: Method, out: np.ndarray) -> np.ndarray:
    """Sums of each row's results, over rows with any result (exp first for log-softmax)."""
    values = np.exp(out) if getattr(method, "log", False) else out
    present = ~np.isnan(values).all(axis=1)
    return np.nansum(values[present], axis=1)


def describe(source, job: Job, on_batch=None) -> Summary:
    """Rows and per-column figures of the columns ``job`` selects, for ``softnorm stats``."""
    selection = choose_columns(source, job.columns, job.exclude, job.numbers)
    columns = selection.columns
    tally, rows = _Figures(), 0
    for batch in _read(source, job, columns, only=True):
        if columns:
            tally.add(batch.values)
        rows += batch.frame.height
        if on_batch:
            on_batch("reading")
    figures = column_figures(tally.before.result(), columns) if columns else {}
    return Summary("stats", None, rows, figures, warnings=selection.warnings, skipped=selection.skipped)

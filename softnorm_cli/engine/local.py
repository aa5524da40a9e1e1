"""The local engine: ``fit`` a job's statistics from a source, ``apply`` them to a source into a sink.

These two calls are the whole boundary between the command line (or the
Python API) and the work. ``fit`` chooses the columns and reduces the
batches to a :class:`~softnorm_cli.engine.fitted.Fitted` record; ``apply``
transforms each batch with it and writes it. The row axis fits nothing:
each row is its own group, fitted and transformed where it stands, so it
streams in one pass. The in-memory case is the streaming case with one
batch. A second engine (a cluster) implements the same two calls with the
same methods: partial statistics per partition, merged, then transform
mapped over partitions.

A table known to fit in KEEP_BYTES once parsed is kept by the reader between
``fit`` and ``apply`` and read once; larger ones stream twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from softnorm_cli import __version__
from softnorm_cli.engine.diagnostics import Figures, Problems, Totals
from softnorm_cli.engine.fitted import Fitted
from softnorm_cli.engine.keys import KeptCodes, KeyIndex, RowGroups, union
from softnorm_cli.engine.selection import Selection, matching, select
from softnorm_cli.engine.summary import Summary
from softnorm_cli.engine.values import Numbers, to_matrix, with_results
from softnorm_cli.errors import ColumnNotFoundError, SoftnormError
from softnorm_cli.io.base import ReadAgain
from softnorm_cli.io.delimited.types import TypeInference
from softnorm_cli.numeric.methods import Method
from softnorm_cli.numeric.parameters import numpy_axis
from softnorm_cli.numeric.reduce import ByGroup, PerGroup, Reduction, take_rows

#: Parsed batches up to this size are kept from fit for apply instead of
#: being read again: small and medium tables are read once, large ones stream.
#: A streaming run itself takes up to about 200 MiB (libraries, buffers, the
#: writer): with this on top, the process stays under 300 MiB.
KEEP_BYTES = 100 << 20
#: The group codes of the rows, up to this size, are kept from fit for apply
#: (16M rows of 2-byte codes): finding a row's group costs more than keeping it.
KEEP_CODES_BYTES = 32 << 20

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    """One request: the method with its options, the axis, the columns, and how values are read and written."""

    method: Method
    axis: str  # canonical: "row", "column" or "all"
    columns: Sequence[str] = ()  # names, comma lists or globs; empty: every numeric column
    exclude: Sequence[str] = ()
    numbers: Numbers = Numbers()
    inf: str = "keep"  # infinities: keep (softmax's limits), missing, or error
    suffix: str | None = None
    decimals: int | None = None
    figures: bool = False  # gather before/after figures for the summary
    group_by: Sequence[str] = ()  # key columns: statistics per group of rows (column and all axes)
    unseen: str = "error"  # a group the statistics do not know: an error, or missing results
    inverse: bool = False  # map results back to the values they came from


def fit(job: Job, source, on_batch=None) -> Fitted:
    """Choose the columns and fit the method's statistics over every batch of ``source``."""
    fitted = plan(job, source)
    if fitted.axis == "row" or not fitted.columns:
        return fitted
    part = fit_part(job, fitted, source, on_batch, read_again=True)
    if part.row_codes is not None:
        fitted.row_codes = (source, part.row_codes)
    return finish(fitted, part)


def plan(job: Job, source) -> Fitted:
    """The record a fit fills in: the columns and keys, chosen from the first rows of ``source``."""
    group_by = matching(source.columns, job.group_by) if job.group_by else []
    selection = choose_columns(source, job.columns, job.exclude, job.numbers, group_by)
    options = {**job.method.options(), "inf": job.inf}
    return Fitted(job.method.name, options, job.axis, selection.columns, group_by=group_by, version=__version__, selection=selection)


@dataclass
class Partial:
    """The statistics of some rows, not yet finished: those of one source, or of several merged.

    ``statistics`` is the method's partial statistics, with one row per key
    of ``keys`` when rows are grouped.
    """

    statistics: Any
    rows: int
    keys: list[tuple] | None = None
    row_codes: np.ndarray | None = None  # each row's group, kept for a second pass over the same rows


def fit_part(job: Job, fitted: Fitted, source, on_batch=None, read_again: bool = False) -> Partial:
    """The partial statistics of the columns ``fitted`` chose, over every batch of ``source``.

    ``read_again``: the same source is read again to apply the statistics, so
    a table that fits is kept in memory, and so are the rows' group codes.
    """
    method, axis, columns, group_by = job.method, numpy_axis(fitted.axis), fitted.columns, fitted.group_by
    _require(source, [*columns, *group_by], "is not in")  # chosen from this source's first rows, or another part's
    # Keeping batches for apply pays only when they are sure to fit; a larger
    # table would hold KEEP_BYTES in vain before it is read again.
    size = None if source.typed or not read_again else source.size_in_memory(columns)
    keep = KEEP_BYTES if size is not None and size <= KEEP_BYTES else 0
    # Without keeping, a typed reader needs the selected columns (and keys) alone.
    only = [*columns, *group_by] if not keep and _checks_without_every_column(source) else None

    def read() -> Partial:
        keys = KeyIndex(group_by, job.numbers.na_values) if group_by else None
        row_codes = KeptCodes(KEEP_CODES_BYTES if read_again else 0)
        rows = 0
        if keys is None:
            reduction = Reduction(lambda values: method.fit(values, axis), method.merge)
        else:
            per_group = PerGroup(method, whole_block=axis is None)
            reduction = Reduction(per_group.fit, per_group.merge)
        for batch, values in _values(source, job, columns, only=only, replay=True, keep=keep, tentative=True):
            if keys is None:
                reduction.add(values)
            else:
                codes = keys.codes(batch.frame)
                reduction.add(values, codes)
                row_codes.add(codes)
            rows += batch.frame.height
            _notify(on_batch, "pass 1/2: statistics")
        if keys is None:
            return Partial(reduction.result(), rows)
        return Partial(per_group.table(reduction.result(), len(keys)), rows, keys.keys(), row_codes.result())

    return _from_the_start(read)


def merge(fitted: Fitted, a: Partial, b: Partial) -> Partial:
    """The partial statistics of the rows of both, ``a``'s first: groups keep their order of first appearance."""
    method = fitted.method
    if a.keys is None:
        return Partial(method.merge(a.statistics, b.statistics), a.rows + b.rows)
    keys, codes = union(fitted.group_by, a.keys, b.keys)
    per_group = PerGroup(method, whole_block=fitted.axis == "all")
    order = np.argsort(codes, kind="stable")
    total = per_group.merge(ByGroup(np.arange(len(a.keys)), a.statistics), ByGroup(codes[order], take_rows(b.statistics, order)))
    return Partial(per_group.table(total, len(keys)), a.rows + b.rows, keys)


def finish(fitted: Fitted, part: Partial) -> Fitted:
    """``fitted`` with the finished statistics of ``part``."""
    fitted.statistics = fitted.method.finish(part.statistics)
    if part.keys is not None:
        fitted.keys = part.keys
    fitted.rows = part.rows
    return fitted


def fit_summary(fitted: Fitted) -> Summary:
    """What a fit without apply tells: the rows and groups it saw, and the groups without a proper result."""
    summary = summarize(fitted, Applied(fitted.rows))
    if fitted.group_by:
        summary.groups = {"by": list(fitted.group_by), "count": len(fitted.keys)}
    return summary


def apply(job: Job, fitted: Fitted, source, sink, on_batch=None) -> Summary:
    """Transform every batch of ``source`` with ``fitted`` (or map it back, with ``job.inverse``) and write it to ``sink``."""
    return summarize(fitted, apply_part(job, fitted, source, sink, on_batch))


@dataclass
class Applied:
    """What transforming some rows found, for the summary: merged with another part's by :meth:`merge`."""

    rows: int
    figures: Totals | None = None  # before and after, with job.figures
    row_problems: list[str] = field(default_factory=list)  # --axis row: the rows without a proper result
    group_rows: np.ndarray | None = None  # rows per group
    unseen_rows: int = 0  # rows in groups the statistics lack (--unseen nan)

    def merge(self, other: Applied) -> Applied:
        return Applied(
            self.rows + other.rows,
            None if self.figures is None else self.figures.merge(other.figures),
            self.row_problems + other.row_problems,
            None if self.group_rows is None else self.group_rows + other.group_rows,
            self.unseen_rows + other.unseen_rows,
        )


def apply_part(job: Job, fitted: Fitted, source, sink, on_batch=None) -> Applied:
    """:func:`apply` without the summary: what it found, to merge with other parts'."""
    method, columns = fitted.method, fitted.columns
    _require(source, [*columns, *fitted.group_by], "of the parameters is not in")
    two_pass = fitted.statistics is not None
    problems = Problems(fitted.axis, columns) if not two_pass else None
    figures = Figures() if job.figures and columns else None
    groups = None
    if fitted.group_by and two_pass:
        kept = fitted.row_codes[1] if fitted.row_codes and fitted.row_codes[0] is source else None
        groups = RowGroups(fitted.group_by, fitted.keys, job.numbers.na_values, kept)
    types = _output_types(job, source, sink, columns)
    stage = "pass 2/2: writing" if two_pass else "writing"
    rows = 0
    for batch, values in _values(source, job, columns, as_text=bool(job.suffix)):
        if not two_pass:  # each row is a group of its own: every batch is fitted alone
            out, row_stats = method.fit_transform(values, numpy_axis(fitted.axis))
            problems.add(method, row_stats, batch.first_row)
        else:
            codes, unseen = (None, None) if groups is None else groups.of(batch, job.unseen)
            apply_method = method.inverse if job.inverse else method.transform
            out = apply_method(values, fitted.statistics, codes)
            if unseen is not None:
                out[unseen] = np.nan
        if figures is not None:
            figures.add(values, out, _row_sums(method, out) if fitted.axis == "row" else None)
        frame = with_results(batch.frame, columns, out, job.suffix, job.decimals)
        sink.write(frame if types is None else types.apply(frame))
        rows += batch.frame.height
        _notify(on_batch, stage)
    return Applied(
        rows,
        None if figures is None else figures.totals(),
        [] if problems is None else problems.finish(),
        None if groups is None else groups.rows,
        0 if groups is None else groups.unseen_rows,
    )


def summarize(fitted: Fitted, applied: Applied) -> Summary:
    """The summary of applying ``fitted``: the figures, and warnings about the selection and the statistics."""
    selection: Selection | None = fitted.selection
    problems = Problems(fitted.axis, fitted.columns, fitted.group_by, fitted.keys)
    if fitted.statistics is not None:
        problems.add(fitted.method, fitted.statistics)
    summary = Summary(
        fitted.command,
        fitted.axis,
        applied.rows,
        {},
        warnings=(selection.warnings if selection else []) + problems.finish() + applied.row_problems,
        skipped=selection.skipped if selection else {},
        groups=None if applied.group_rows is None else _groups(fitted, applied),
    )
    if applied.figures is not None:
        applied.figures.fill(summary, fitted.columns, fitted.axis == "row" and getattr(fitted.method, "log", False))
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


def describe(job: Job, source, on_batch=None) -> Summary:
    """The figures of the columns ``job`` selects, for ``softnorm stats``: a fit with no method."""
    selection = choose_columns(source, job.columns, job.exclude, job.numbers)
    columns = selection.columns
    only = columns if _checks_without_every_column(source) else None

    def read() -> tuple[Figures, int]:
        figures, rows = Figures(), 0
        for batch, values in _values(source, job, columns, only=only, tentative=True):
            if columns:
                figures.add(values)
            rows += batch.frame.height
            _notify(on_batch, "reading")
        return figures, rows

    figures, rows = _from_the_start(read)
    summary = Summary("stats", None, rows, {}, warnings=selection.warnings, skipped=selection.skipped)
    if columns:
        figures.fill(summary, columns)
    return summary


def choose_columns(
    source, patterns: Sequence[str], exclude: Sequence[str] = (), numbers: Numbers = Numbers(), keys: Sequence[str] = ()
) -> Selection:
    """The columns to normalize in ``source``, chosen from its first rows; group ``keys`` never are."""
    sample = source.sample()
    for name in keys:
        if name not in sample.columns:
            raise ColumnNotFoundError(name, sample.columns)
    selection = select(sample, patterns, exclude, numbers, typed=source.typed, labels=source.labels, keys=keys)
    if not selection.columns and sample.height:
        skipped = "; ".join(f"{name}: {why}" for name, why in list(selection.skipped.items())[:5])
        raise SoftnormError(
            f"{source.name}: no numeric column to normalize; name columns with -c"
            + (f" (left out: {skipped})" if skipped else "")
        )
    return selection


def _values(
    source,
    job: Job,
    columns: list[str],
    only: list[str] | None = None,
    replay: bool = False,
    keep: int = 0,
    as_text: bool = False,
    tentative: bool = False,
) -> Iterator[tuple]:
    """Each batch with the selected columns' values as a float array.

    The reader parses the selected columns straight to numbers unless their
    text is written out again (``as_text``, for ``--suffix``); given ``only``
    it reads no other column; ``replay`` lets standard input be read again,
    ``keep`` asks the reader to hold the batches for the next read.
    """
    numeric = () if as_text else columns
    for batch in source.batches(numeric, only, replay, keep, tentative):
        values = to_matrix(batch.frame, columns, batch.first_row, job.numbers, job.method.nan, job.inf)
        yield batch, values


def _from_the_start(read: Callable[[], T]) -> T:
    """``read()``, a tentative read of a source, done again from the start as often as the reader asks."""
    while True:
        try:
            return read()
        except ReadAgain:
            continue


def _require(source, names: list[str], what: str) -> None:
    for name in names:
        if name not in source.columns:
            raise ColumnNotFoundError(name, source.columns, f"{what} {source.name}")


def _checks_without_every_column(source) -> bool:
    """Whether reading only some columns still checks the whole input: for typed
    formats. polars does not notice a CSV row with too many fields when it is
    asked for some columns, so a first read of text parses them all."""
    return source.typed


def _output_types(job: Job, source, sink, columns: list[str]) -> TypeInference | None:
    """CSV to Parquet: the narrowest lossless type of each text column written back, over the whole input."""
    if sink.format != "parquet" or source.typed:
        return None
    selected = set() if job.suffix else set(columns)
    types = TypeInference([c for c in source.columns if c not in selected], job.numbers.na_values)
    for batch in source.batches(replay=True):
        types.add(batch.frame)
    return types


def _row_sums(method: Method, out: np.ndarray) -> np.ndarray:
    """Sums of each row's results, over rows with any result (exp first for log-softmax)."""
    values = np.exp(out) if getattr(method, "log", False) else out
    present = ~np.isnan(values).all(axis=1)
    return np.nansum(values[present], axis=1)


def _notify(on_batch, stage: str) -> None:
    if on_batch is not None:
        on_batch(stage)

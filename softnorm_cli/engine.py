"""The local engine: ``fit`` a job's statistics from a source, ``apply`` them to a source into a sink.

These two calls are the whole boundary between the command line (or the
Python API) and the work. ``fit`` chooses the columns and reduces the
batches to a :class:`~softnorm_cli.fitted.Fitted` record; ``apply``
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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from softnorm_cli import __version__
from softnorm_cli.choices import numpy_axis
from softnorm_cli.errors import SoftnormError
from softnorm_cli.fitted import Fitted
from softnorm_cli.io.infer import TypeInference
from softnorm_cli.io.source import ReadAgain
from softnorm_cli.methods import Method
from softnorm_cli.reduce import Reduction
from softnorm_cli.report import Figures, Problems
from softnorm_cli.selection import Selection, select
from softnorm_cli.summary import Summary
from softnorm_cli.values import Numbers, to_matrix, with_results

#: Parsed batches up to this size are kept from fit for apply instead of
#: being read again: small and medium tables are read once, large ones stream.
KEEP_BYTES = 128 << 20


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


def fit(job: Job, source, on_batch=None) -> Fitted:
    """Choose the columns and fit the method's statistics over every batch of ``source``."""
    selection = choose_columns(source, job.columns, job.exclude, job.numbers)
    columns = selection.columns
    options = {**job.method.options(), "inf": job.inf}
    fitted = Fitted(job.method.name, options, job.axis, columns, version=__version__, selection=selection)
    if job.axis == "row" or not columns:
        return fitted
    method, axis = job.method, numpy_axis(job.axis)
    # Keeping batches for apply pays only when they are sure to fit; a larger
    # table would hold KEEP_BYTES in vain before it is read again.
    size = None if source.typed else source.size_in_memory()
    keep = KEEP_BYTES if size is not None and size <= KEEP_BYTES else 0
    # Without keeping, a typed reader needs the selected columns alone.
    only = not keep and _checks_without_every_column(source)
    while True:  # a tentative read may ask to start over
        reduction = Reduction(lambda values: method.fit(values, axis), method.merge)
        try:
            for _, values in _values(source, job, columns, only=only, replay=True, keep=keep, tentative=True):
                reduction.add(values)
                _notify(on_batch, "pass 1/2: statistics")
            break
        except ReadAgain:
            continue
    fitted.statistics = method.finish(reduction.result())
    return fitted


def apply(job: Job, fitted: Fitted, source, sink, on_batch=None) -> Summary:
    """Transform every batch of ``source`` with ``fitted`` and write it to ``sink``."""
    method, columns = fitted.method, fitted.columns
    two_pass = fitted.statistics is not None
    stats = fitted.stats_of(0)
    selection: Selection | None = fitted.selection
    problems = Problems(fitted.axis, columns)
    if two_pass:
        problems.add(method, stats)
    figures = Figures() if job.figures and columns else None
    types = _output_types(job, source, sink, columns)
    stage = "pass 2/2: writing" if two_pass else "writing"
    rows = 0
    for batch, values in _values(source, job, columns, as_text=bool(job.suffix)):
        if two_pass:
            out = method.transform(values, stats)
        else:  # each row is a group of its own: every batch is fitted alone
            out, row_stats = method.fit_transform(values, numpy_axis(fitted.axis))
            problems.add(method, row_stats, batch.first_row)
        if figures is not None:
            figures.add(values, out, _row_sums(method, out) if fitted.axis == "row" else None)
        frame = with_results(batch.frame, columns, out, job.suffix, job.decimals)
        sink.write(frame if types is None else types.apply(frame))
        rows += batch.frame.height
        _notify(on_batch, stage)
    summary = Summary(
        method.name,
        fitted.axis,
        rows,
        {},
        warnings=(selection.warnings if selection else []) + problems.finish(),
        skipped=selection.skipped if selection else {},
    )
    if figures is not None:
        figures.fill(summary, columns, fitted.axis == "row" and getattr(method, "log", False))
    return summary


def describe(job: Job, source, on_batch=None) -> Summary:
    """The figures of the columns ``job`` selects, for ``softnorm stats``: a fit with no method."""
    selection = choose_columns(source, job.columns, job.exclude, job.numbers)
    columns = selection.columns
    while True:  # a tentative read may ask to start over
        figures, rows = Figures(), 0
        try:
            for batch, values in _values(source, job, columns, only=_checks_without_every_column(source), tentative=True):
                if columns:
                    figures.add(values)
                rows += batch.frame.height
                _notify(on_batch, "reading")
            break
        except ReadAgain:
            continue
    summary = Summary("stats", None, rows, {}, warnings=selection.warnings, skipped=selection.skipped)
    if columns:
        figures.fill(summary, columns)
    return summary


def choose_columns(source, patterns: Sequence[str], exclude: Sequence[str] = (), numbers: Numbers = Numbers()) -> Selection:
    """The columns to normalize in ``source``, chosen from its first rows."""
    sample = source.sample()
    selection = select(sample, patterns, exclude, numbers, typed=source.typed, labels=source.labels)
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
    only: bool = False,
    replay: bool = False,
    keep: int = 0,
    as_text: bool = False,
    tentative: bool = False,
) -> Iterator[tuple]:
    """Each batch with the selected columns' values as a float array.

    The reader parses the selected columns straight to numbers unless their
    text is written out again (``as_text``, for ``--suffix``); with ``only``
    it reads no other column; ``replay`` lets standard input be read again,
    ``keep`` asks the reader to hold the batches for the next read.
    """
    numeric = () if as_text else columns
    for batch in source.batches(numeric, columns if only else None, replay, keep, tentative):
        values = to_matrix(batch.frame, columns, batch.first_row, job.numbers, job.method.nan, job.inf)
        yield batch, values


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

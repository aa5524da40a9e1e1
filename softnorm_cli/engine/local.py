"""The local engine: ``fit`` a job's statistics from a source, ``apply`` them to a source into a sink.

These calls are the whole boundary between the command line (or the Python
API) and the work. ``fit`` chooses the columns and reduces the batches to a
:class:`~softnorm_cli.engine.fitted.Fitted` record; ``apply`` transforms
each batch with it and writes it; ``fit_apply`` does both over one source,
keeping what fits in memory between the two passes
(:mod:`~softnorm_cli.engine.memory`). The row axis fits nothing: each row is
its own group, fitted and transformed where it stands, so it streams in one
pass. The in-memory case is the streaming case with one batch.

A fit is :func:`plan` (the columns), :func:`fit_part` (the partial
statistics of one source), :func:`joined` (of the partitions of one file)
and :func:`settled`, :func:`merge` (of files) and :func:`finish`; an apply is
:func:`apply_part` (what it found, mergeable) and a summary of it. A dataset
of parts (:mod:`~softnorm_cli.engine.parts`) makes the same calls per part,
here or on a cluster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from softnorm_cli.engine import ranks
from softnorm_cli.engine.diagnostics import Problems
from softnorm_cli.engine.fitted import Fitted
from softnorm_cli.engine.integers import as_integers, scales, whole, written_as_integers
from softnorm_cli.engine.job import Job
from softnorm_cli.engine.keys import KeyIndex, RowGroups, union
from softnorm_cli.engine.memory import Kept, KeptValues
from softnorm_cli.engine.pictures import Bins, Edges, edges_for
from softnorm_cli.engine.selection import choose_columns, matching
from softnorm_cli.engine.summary import Applied, Figures, Summary, summarize
from softnorm_cli.engine.values import to_matrix, with_results
from softnorm_cli.errors import ColumnNotFoundError
from softnorm_cli.io import formats
from softnorm_cli.io.base import Batch, Reader
from softnorm_cli.io.delimited.grouping import with_groups
from softnorm_cli.io.delimited.types import TypeInference, lossless_types
from softnorm_cli.io.json.values import numbers_as_raw
from softnorm_cli.numeric import reduce
from softnorm_cli.numeric.methods import Method
from softnorm_cli.numeric.parameters import numpy_axis
from softnorm_cli.numeric.probes import QuantilePass
from softnorm_cli.numeric.quantiles import QuantilePlan
from softnorm_cli.numeric.reduce import ByGroup, Node, PerGroup, Reduction, take_rows
from softnorm_cli.version import __version__


def fit(job: Job, source: Reader, on_batch=None) -> Fitted:
    """Choose the columns and fit the method's statistics over every batch of ``source``."""
    return _fitted(job, plan(job, source), source, on_batch, None)


def apply(job: Job, fitted: Fitted, source: Reader, sink, on_batch=None) -> Summary:
    """Transform every batch of ``source`` with ``fitted`` (or map it back, with ``job.inverse``) and write it to ``sink``."""
    return summarize(fitted, apply_part(job, fitted, source, sink, on_batch, edges=bin_edges(job, fitted, own_fit=False)))


def fit_apply(job: Job, source: Reader, sink, on_batch=None) -> tuple[Fitted, Summary]:
    """:func:`fit` on ``source``, then :func:`apply` to it: a table that fits is parsed once for both."""
    fitted = plan(job, source)
    two_pass = fitted.axis != "row" and fitted.columns
    # With --suffix the apply reads the selected columns as text, to write them back: no batches to share.
    kept = Kept.for_source(source, fitted.columns, batches=not job.suffix) if two_pass else None
    fitted = _fitted(job, fitted, source, on_batch, kept)
    return fitted, summarize(fitted, apply_part(job, fitted, source, sink, on_batch, kept, bin_edges(job, fitted, own_fit=True)))


def _fitted(job: Job, fitted: Fitted, source: Reader, on_batch, kept: Kept | None) -> Fitted:
    """``fitted``, as planned, with the statistics of ``source`` (the row axis has none)."""
    if fitted.axis == "row" or not fitted.columns:
        return fitted
    # A text table is parsed once for all the percentiles' reads: its values are kept (Parquet reads faster again).
    with KeptValues() as kept_values:
        keeping = kept_values if ranks.needs_ranks(fitted) and not source.typed else None
        part = settled(fitted, fit_part(job, fitted, source, on_batch, kept, keeping))
        order = ranks.plan(fitted, part.statistics, part.ranks)
        while order is not None and not order.done:
            order.finish(rank_part(job, fitted, order, part.keys, source, on_batch, kept, keeping))
    return finish(fitted, part, order)


def plan(job: Job, source: Reader) -> Fitted:
    """The record a fit fills in: the columns and keys, chosen from the first rows of ``source``."""
    group_by = matching(source.columns, job.group_by) if job.group_by else []
    selection = choose_columns(source, job.columns, job.exclude, job.numbers, group_by)
    return Fitted(
        job.method.name, job.method.options(), job.axis, selection.columns, group_by=group_by, version=__version__,
        selection=selection,
    )


@dataclass
class Partial:
    """The statistics of some rows, not yet finished: those of one source, or of several merged.

    ``statistics`` is the method's partial statistics, with one row per key
    of ``keys`` when rows are grouped; until :func:`settled`, they are
    ``nodes`` of the chunks' tree (:mod:`~softnorm_cli.numeric.reduce`), to be
    joined with those of the file's next partition.
    """

    statistics: Any
    rows: int
    keys: list[tuple] | None = None
    #: Per column: whether it held integers in every source so far.
    integers: np.ndarray | None = None
    #: The first pass of the percentiles, for the methods that need them (:mod:`~softnorm_cli.engine.ranks`).
    ranks: QuantilePass | None = None
    nodes: list[Node] | None = None


def fit_part(
    job: Job, fitted: Fitted, source: Reader, on_batch=None, kept: Kept | None = None, kept_values: KeptValues | None = None
) -> Partial:
    """The partial statistics of the columns ``fitted`` chose, over every batch of ``source``.

    ``kept``: the same source is read again to apply the statistics; what
    fits of this read is kept there for it. ``kept_values``: where to keep
    the values read, for the percentiles' further reads.
    """
    method, axis, columns, group_by = job.method, numpy_axis(fitted.axis), fitted.columns, fitted.group_by
    require_columns(source, [*columns, *group_by], "is not in")  # chosen from this source's first rows, or another part's
    keys = KeyIndex(group_by, job.numbers.na_values) if group_by else None
    if keys is None:
        reduction = Reduction(lambda values: method.fit(values, axis), method.merge, first_row=source.first_row)
    else:
        per_group = PerGroup(method, whole_block=axis is None)
        reduction = Reduction(per_group.fit, per_group.merge, first_row=source.first_row)
    # Batches kept for the apply need every column; otherwise the fit needs only these.
    needed = None if kept is not None and kept.holds_batches else [*columns, *group_by]
    first = ranks.first_pass(fitted)
    stage = "first read: statistics" if ranks.needs_ranks(fitted) else "pass 1/2: statistics"
    # Read again for the apply, or for the percentiles.
    batches = source.batches(columns, needed=needed, replay=kept is not None or ranks.needs_ranks(fitted))
    rows = 0
    # How numbers are written is seen in the file's first rows, as for the file read whole.
    integers = written_as_integers(source.sample(), columns, job.numbers, source.typed or source.first_row > 0)
    for batch, values in _values(job, columns, batches if kept is None else kept.recording(batches)):
        if integers.any():
            integers &= whole(values)
        if first is not None:
            ranks.add(first, fitted, values, None)
        codes = None
        if keys is None:
            reduction.add(values)
        else:
            codes = keys.codes(batch.frame)
            reduction.add(values, codes)
            if kept is not None:
                kept.add_codes(codes)
        if kept_values is not None:
            kept_values.add(values, codes)
        rows += batch.frame.height
        _notify(on_batch, stage)
    return Partial(None, rows, None if keys is None else keys.keys(), integers, first, reduction.nodes())


def joined(fitted: Fitted, a: Partial, b: Partial) -> Partial:
    """The unsettled statistics of two partitions of a file, ``b``'s rows right after ``a``'s."""
    merge = _node_merge(fitted)
    integers = a.integers & b.integers
    first = None if a.ranks is None else a.ranks.merge(b.ranks)
    if a.keys is None:
        return Partial(None, a.rows + b.rows, None, integers, first, reduce.joined(a.nodes, b.nodes, merge))
    keys, codes = union(fitted.group_by, a.keys, b.keys)
    renumbered = [dataclasses.replace(node, stats=_renumbered(node.stats, codes)) for node in b.nodes]
    return Partial(None, a.rows + b.rows, keys, integers, first, reduce.joined(a.nodes, renumbered, merge))


def settled(fitted: Fitted, part: Partial) -> Partial:
    """``part`` with the statistics of its nodes, merged: the file it is of is complete."""
    if part.nodes is None:
        return part
    total = reduce.folded(part.nodes, _node_merge(fitted))
    if part.keys is not None:
        total = PerGroup(fitted.method, whole_block=fitted.axis == "all").table(total, len(part.keys))
    return dataclasses.replace(part, statistics=total, nodes=None)


def _node_merge(fitted: Fitted):
    if not fitted.group_by:
        return fitted.method.merge
    return PerGroup(fitted.method, whole_block=fitted.axis == "all").merge


def _renumbered(stats: ByGroup, codes: np.ndarray) -> ByGroup:
    """Groups numbered in one partition as numbered in it and those before it (``codes``: the new number of each)."""
    new = codes[stats.codes]
    order = np.argsort(new, kind="stable")
    return ByGroup(new[order], take_rows(stats.stats, order))


def rank_part(
    job: Job, fitted: Fitted, order: QuantilePlan, keys: list[tuple] | None, source: Reader, on_batch=None,
    kept: Kept | None = None, kept_values: KeptValues | None = None,
) -> QuantilePass:
    """The next pass of ``order`` over the rows of ``source``, read again (or from what ``kept`` or
    ``kept_values`` holds of it); ``keys``: the groups of the whole fit, in the order of its statistics."""
    columns, group_by = fitted.columns, fitted.group_by
    work = order.start()
    if kept_values is not None and kept_values.complete:
        width = 1 if fitted.axis == "all" else len(columns)
        reads = None if fitted.axis == "all" else work.reads(width)
        for values, codes in kept_values.blocks(reads):
            ranks.add(work, fitted, values, codes)
            _notify(on_batch, "reading again for the percentiles")
        return work
    groups = None
    if group_by:
        groups = RowGroups(group_by, keys, job.numbers.na_values, None if kept is None else kept.codes)
    held = None if kept is None else kept.batches
    batches = iter(held) if held is not None else source.batches(columns, needed=[*columns, *group_by], replay=True)
    for batch, values in _values(job, columns, batches):
        ranks.add(work, fitted, values, None if groups is None else groups.of(batch, "error")[0])
        _notify(on_batch, "reading again for the percentiles")
    return work


def merge(fitted: Fitted, a: Partial, b: Partial) -> Partial:
    """The partial statistics of the rows of both, ``a``'s first: groups keep their order of first appearance."""
    method = fitted.method
    integers = a.integers & b.integers
    if a.keys is None:
        first = None if a.ranks is None else a.ranks.merge(b.ranks)
        return Partial(method.merge(a.statistics, b.statistics), a.rows + b.rows, integers=integers, ranks=first)
    keys, codes = union(fitted.group_by, a.keys, b.keys)
    per_group = PerGroup(method, whole_block=fitted.axis == "all")
    order = np.argsort(codes, kind="stable")
    total = per_group.merge(ByGroup(np.arange(len(a.keys)), a.statistics), ByGroup(codes[order], take_rows(b.statistics, order)))
    return Partial(per_group.table(total, len(keys)), a.rows + b.rows, keys, integers)


def finish(fitted: Fitted, part: Partial, order: QuantilePlan | None = None) -> Fitted:
    """``fitted`` with the finished statistics of ``part`` (and the percentiles ``order`` found, for the methods that need them)."""
    fitted.statistics = fitted.method.finish(ranks.ranked(fitted, part.statistics, order))
    fitted.integers = [name for name, held in zip(fitted.columns, part.integers) if held]
    if part.keys is not None:
        fitted.keys = part.keys
    fitted.rows = part.rows
    return fitted


def bin_edges(job: Job, fitted: Fitted, own_fit: bool) -> Edges | None:
    """Where the summary's pictures count their bins; ``own_fit``: ``fitted`` was fitted on the rows it is applied to."""
    if not job.figures or not fitted.columns:
        return None
    return edges_for(fitted.method, fitted.axis, fitted.statistics, len(fitted.columns), own_fit, job.inverse)


def apply_part(
    job: Job, fitted: Fitted, source: Reader, sink, on_batch=None, kept: Kept | None = None, edges: Edges | None = None
) -> Applied:
    """:func:`apply` without the summary: what it found, to merge with other parts'.

    ``kept``: what the fit of this very source kept of it; ``edges``: the
    pictures' bins (:func:`bin_edges`), None for no pictures.
    """
    method, columns = fitted.method, fitted.columns
    require_columns(source, [*columns, *fitted.group_by], "of the parameters is not in")
    two_pass = fitted.statistics is not None
    problems = Problems(fitted.axis, columns) if not two_pass else None
    figures = Figures(None if edges is None else Bins(edges, len(columns))) if job.figures and columns else None
    groups = None
    if fitted.group_by and two_pass:
        groups = RowGroups(fitted.group_by, fitted.keys, job.numbers.na_values, None if kept is None else kept.codes)
    held = None if kept is None else kept.batches

    def read() -> Iterator[Batch]:
        return iter(held) if held is not None else source.batches(() if job.suffix else columns)

    types = _output_types(job, source, sink, columns, read, replay=held is None)
    to_integers = _integer_writer(job, fitted, sink) if job.inverse else None
    # Text output may group the results' thousands (only CSV and TSV take the option); the untouched columns are written as they came.
    thousands = sink.layout.thousands
    result_names = [f"{name}{job.suffix or ''}" for name in columns]
    stage = ("last read: writing" if ranks.needs_ranks(fitted) else "pass 2/2: writing") if two_pass else "writing"
    rows = 0
    for batch, values in _values(job, columns, read()):
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
            row_sums, probabilities = _row_sums(method, out) if fitted.axis == "row" else (None, None)
            figures.add(values, out, row_sums, probabilities)
        frame = with_results(batch.frame, columns, out, job.suffix, job.decimals)
        if to_integers is not None:
            frame = to_integers(frame, out, batch.first_row)
        if thousands is not None:
            frame = with_groups(frame, result_names, thousands, sink.layout.decimal_comma)
        sink.write(frame if types is None else types.apply(frame))
        rows += batch.frame.height
        _notify(on_batch, stage)
    return Applied(
        rows,
        None if figures is None else figures.totals(),
        [] if problems is None else problems.finish(),
        None if groups is None else groups.rows,
        0 if groups is None else groups.unseen_rows,
        list(source.warnings),
    )


def _values(job: Job, columns: list[str], batches: Iterator[Batch]) -> Iterator[tuple[Batch, np.ndarray]]:
    """Each batch with the selected columns' values as a float array."""
    for batch in batches:
        yield batch, to_matrix(batch.frame, columns, batch.first_row, job.numbers, job.method.nan, job.method.inf)


def require_columns(source: Reader, names: Sequence[str], what: str) -> None:
    """An error naming the first of ``names`` that ``source`` lacks."""
    present = set(source.columns)
    for name in names:
        if name not in present:
            raise ColumnNotFoundError(name, source.columns, f"{what} {source.name}")


def _output_types(job: Job, source: Reader, sink, columns: list[str], read, replay: bool) -> TypeInference | None:
    """Text to a typed format (Parquet, Arrow, JSON, Excel): the narrowest lossless type of each text
    column written back, over the whole input.

    Read before the first batch is written (``replay``: from the source, which the apply then reads again).
    """
    if sink.format not in formats.TYPED or source.typed:
        return None
    selected = set() if job.suffix else set(columns)
    names = [c for c in source.columns if c not in selected]
    batches = source.batches(replay=True) if replay else read()
    return lossless_types(batches, names, job.numbers.na_values, job.numbers.decimal_comma, job.numbers.thousands)


def _integer_writer(job: Job, fitted: Fitted, sink):
    """What writes the results of the columns that held integers as integers
    (see :mod:`~softnorm_cli.engine.integers`), or None when no column did."""
    held = set(fitted.integers)
    at = [j for j, name in enumerate(fitted.columns) if name in held]
    if not at:
        return None
    names = [f"{fitted.columns[j]}{job.suffix or ''}" for j in at]
    scale = scales(fitted.statistics, len(fitted.columns))[at]
    # JSON holds integers and decimals in one key: each result is written as what it is.
    json = sink.format in ("jsonl", "json")
    keep_type = sink.format in formats.TYPED and not json

    def write(frame: pl.DataFrame, out: np.ndarray, first_row: int) -> pl.DataFrame:
        values = out[:, at] if job.decimals is None else np.round(out[:, at], job.decimals)
        frame = as_integers(frame, names, values, scale, keep_type, first_row, job.numbers.decimal_comma and not json)
        return numbers_as_raw(frame, names) if json else frame

    return write


def _row_sums(method: Method, out: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Sums of each row's results, over rows with any result (exp first for log-softmax), and those exps."""
    values = np.exp(out) if getattr(method, "log", False) else out
    present = ~np.isnan(values).all(axis=1)
    return np.nansum(values[present], axis=1), values if values is not out else None


def _notify(on_batch, stage: str) -> None:
    if on_batch is not None:
        on_batch(stage)

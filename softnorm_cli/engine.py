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
from softnorm_cli.errors import ColumnNotFoundError, SoftnormError
from softnorm_cli.fitted import Fitted
from softnorm_cli.io.infer import TypeInference
from softnorm_cli.io.source import ReadAgain
from softnorm_cli.keys import UNSEEN, KeyIndex, UnseenGroupError
from softnorm_cli.methods import Method
from softnorm_cli.reduce import PerGroup, Reduction
from softnorm_cli.report import Figures, Problems
from softnorm_cli.selection import Selection, matching, select
from softnorm_cli.summary import Summary
from softnorm_cli.values import Numbers, to_matrix, with_results

#: Parsed batches up to this size are kept from fit for apply instead of
#: being read again: small and medium tables are read once, large ones stream.
KEEP_BYTES = 128 << 20
#: The group codes of the rows, up to this size, are kept from fit for apply
#: (16M rows of 2-byte codes): finding a row's group costs more than keeping it.
KEEP_CODES_BYTES = 32 << 20


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
    group_by = matching(source.columns, job.group_by) if job.group_by else []
    selection = choose_columns(source, job.columns, job.exclude, job.numbers, group_by)
    columns = selection.columns
    options = {**job.method.options(), "inf": job.inf}
    fitted = Fitted(job.method.name, options, job.axis, columns, group_by=group_by, version=__version__, selection=selection)
    if job.axis == "row" or not columns:
        return fitted
    method, axis = job.method, numpy_axis(job.axis)
    # Keeping batches for apply pays only when they are sure to fit; a larger
    # table would hold KEEP_BYTES in vain before it is read again.
    size = None if source.typed else source.size_in_memory()
    keep = KEEP_BYTES if size is not None and size <= KEEP_BYTES else 0
    # Without keeping, a typed reader needs the selected columns (and keys) alone.
    only = [*columns, *group_by] if not keep and _checks_without_every_column(source) else None
    while True:  # a tentative read may ask to start over
        keys = KeyIndex(group_by, job.numbers.na_values) if group_by else None
        row_codes = KeptCodes() if keys is not None else None
        rows = 0
        if keys is None:
            reduction = Reduction(lambda values: method.fit(values, axis), method.merge)
        else:
            per_group = PerGroup(method, whole_block=axis is None)
            reduction = Reduction(per_group.fit, per_group.merge)
        try:
            for batch, values in _values(source, job, columns, only=only, replay=True, keep=keep, tentative=True):
                if keys is None:
                    reduction.add(values)
                else:
                    codes = keys.codes(batch.frame, batch.first_row)
                    reduction.add(values, codes)
                    row_codes.add(codes)
                rows += batch.frame.height
                _notify(on_batch, "pass 1/2: statistics")
            break
        except ReadAgain:
            continue
    if keys is None:
        fitted.statistics = method.finish(reduction.result())
    else:
        fitted.statistics = method.finish(per_group.table(reduction.result(), len(keys)))
        fitted.keys = keys.keys()
        codes = row_codes.result()
        fitted.row_codes = None if codes is None else (source, codes)
    fitted.rows = rows
    return fitted


def fit_summary(fitted: Fitted) -> Summary:
    """What a fit without apply tells: the rows and groups it saw, and the groups without a proper result."""
    problems = Problems(fitted.axis, fitted.columns, fitted.group_by, fitted.keys)
    if fitted.statistics is not None:
        problems.add(fitted.method, fitted.statistics)
    selection = fitted.selection
    groups = None
    if fitted.group_by:
        groups = {"by": list(fitted.group_by), "count": len(fitted.keys)}
    return Summary(
        fitted.command,
        fitted.axis,
        fitted.rows,
        {},
        warnings=(selection.warnings if selection else []) + problems.finish(),
        skipped=selection.skipped if selection else {},
        groups=groups,
    )


def apply(job: Job, fitted: Fitted, source, sink, on_batch=None) -> Summary:
    """Transform every batch of ``source`` with ``fitted`` (or map it back, with ``job.inverse``) and write it to ``sink``."""
    method, columns = fitted.method, fitted.columns
    for name in [*columns, *fitted.group_by]:
        if name not in source.columns:
            raise ColumnNotFoundError(name, source.columns, f"of the parameters is not in {source.name}")
    two_pass = fitted.statistics is not None
    selection: Selection | None = fitted.selection
    problems = Problems(fitted.axis, columns, fitted.group_by, fitted.keys)
    if two_pass:
        problems.add(method, fitted.statistics)
    figures = Figures() if job.figures and columns else None
    groups = Groups(fitted, source, job.numbers.na_values) if fitted.group_by and two_pass else None
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
    summary = Summary(
        method.name,
        fitted.axis,
        rows,
        {},
        warnings=(selection.warnings if selection else []) + problems.finish(),
        skipped=selection.skipped if selection else {},
        groups=None if groups is None else groups.summary(),
    )
    if figures is not None:
        figures.fill(summary, columns, fitted.axis == "row" and getattr(method, "log", False))
    return summary


class KeptCodes:
    """The group code of each row of a fit, while they take at most KEEP_CODES_BYTES."""

    def __init__(self):
        self._parts: list[np.ndarray] | None = []
        self._bytes = 0

    def add(self, codes: np.ndarray) -> None:
        if self._parts is None:
            return
        part = codes.astype(np.uint16 if not len(codes) or codes.max() < 1 << 16 else np.int32)
        self._bytes += part.nbytes
        if self._bytes <= KEEP_CODES_BYTES:
            self._parts.append(part)
        else:
            self._parts = None

    def result(self) -> np.ndarray | None:
        if self._parts is None:
            return None
        return np.concatenate(self._parts) if self._parts else np.empty(0, np.uint16)


class Groups:
    """The groups of the rows being transformed: each row's group, and how many rows each group has."""

    def __init__(self, fitted: Fitted, source, na_values: Sequence[str]):
        self.fitted = fitted
        self.keys = KeyIndex(fitted.group_by, na_values, keys=fitted.keys)
        self.rows = np.zeros(len(fitted.keys), dtype=np.int64)
        self.unseen_rows = 0
        # The codes the fit found, when it read the same source.
        self.kept = fitted.row_codes[1] if fitted.row_codes and fitted.row_codes[0] is source else None

    def of(self, batch, unseen: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The group of each row of ``batch``, and which rows are in groups the statistics lack (or None)."""
        start, height = batch.first_row - 1, batch.frame.height
        if self.kept is not None and start + height <= len(self.kept):
            codes = self.kept[start : start + height].astype(np.intp)
        else:
            codes = self.keys.codes(batch.frame, batch.first_row)
        missing = codes == UNSEEN
        if missing.any():
            first = int(np.argmax(missing))
            if unseen == "error":
                raise UnseenGroupError(self.keys.names, self.keys.key_of(batch.frame, first), batch.first_row + first)
            self.unseen_rows += int(missing.sum())
            codes = np.where(missing, 0, codes)
        self.rows += np.bincount(codes[~missing] if missing.any() else codes, minlength=len(self.rows))
        return codes, (missing if missing.any() else None)

    def summary(self) -> dict:
        """How many groups, and the smallest and largest by rows, for the summary."""
        seen = np.flatnonzero(self.rows)
        info = {"by": list(self.fitted.group_by), "count": len(self.rows), "with_rows": int(seen.size)}
        if seen.size:
            keys = self.fitted.keys
            small, large = seen[np.argmin(self.rows[seen])], seen[np.argmax(self.rows[seen])]
            info["smallest"] = {"key": list(keys[small]), "rows": int(self.rows[small])}
            info["largest"] = {"key": list(keys[large]), "rows": int(self.rows[large])}
        if self.unseen_rows:
            info["unseen_rows"] = self.unseen_rows
        return info


def describe(job: Job, source, on_batch=None) -> Summary:
    """The figures of the columns ``job`` selects, for ``softnorm stats``: a fit with no method."""
    selection = choose_columns(source, job.columns, job.exclude, job.numbers)
    columns = selection.columns
    while True:  # a tentative read may ask to start over
        figures, rows = Figures(), 0
        try:
            only = columns if _checks_without_every_column(source) else None
            for batch, values in _values(source, job, columns, only=only, tentative=True):
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

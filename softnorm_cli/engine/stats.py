"""``softnorm stats``: the figures of the columns a job would normalize, and why the others are left out.

The input is one file or the parts of a dataset, read in turn (the columns
and keys are chosen from the first). With group keys the figures are also
given per group, the groups in order of first appearance.

With ``quantiles`` the input is read more than once: the first read gathers
the figures and counts the values by the top bits of their keys, each further
read collects (or counts more finely) the values near the wanted ranks
(:mod:`~softnorm_cli.numeric.quantiles`); two reads for most data. A text
table's values are kept from the first read for the others
(:class:`~softnorm_cli.engine.memory.KeptValues`); standard input is copied
aside as it is first read, for when they are not.
Quantiles are of the whole table, not of each group: counts per group would
grow with the groups.
"""

from __future__ import annotations

import numpy as np

from softnorm_cli.engine.job import Job
from softnorm_cli.engine.keys import KeyIndex
from softnorm_cli.engine.local import require_columns
from softnorm_cli.engine.memory import KeptValues
from softnorm_cli.engine.parts import naming_part
from softnorm_cli.engine.selection import choose_columns, matching
from softnorm_cli.engine.summary import Figures, Summary, column_figures
from softnorm_cli.engine.values import to_matrix
from softnorm_cli.io.base import Reader
from softnorm_cli.io.dataset import Dataset
from softnorm_cli.numeric.kernels import Moments
from softnorm_cli.numeric.quantiles import QuantilePlan
from softnorm_cli.numeric.reduce import PerGroup, Reduction, take_rows


def describe(job: Job, source: Reader, on_batch=None, quantiles=()) -> Summary:
    """A fit with no method: count, missing, min, max, mean, std and sum of each selected column
    (infinities count as values; ``job``'s method is not used); ``quantiles``: also these
    percentiles (0 to 100), as ``np.nanpercentile`` gives them."""
    with KeptValues() as kept:
        tally = _Tally(job, source, quantiles, kept)
        tally.read(source, on_batch)
        while tally.quantiles is not None and not tally.quantiles.done:
            tally.read_again(lambda: [source], on_batch)
    return tally.summary()


def describe_dataset(job: Job, dataset: Dataset, on_batch=None, quantiles=()) -> Summary:
    """:func:`describe` over the parts of ``dataset`` in turn, as one table; an error names its part."""
    tally: _Tally | None = None
    with KeptValues() as kept:
        for index in range(len(dataset.parts)):
            with naming_part(dataset, index), dataset.open(index) as source:
                if tally is None:  # the first part decides the columns and keys
                    tally = _Tally(job, source, quantiles, kept)
                else:
                    tally.require(source)
                tally.read(source, on_batch)

        def parts():
            for index in range(len(dataset.parts)):
                with naming_part(dataset, index), dataset.open(index) as source:
                    yield source

        while tally.quantiles is not None and not tally.quantiles.done:
            tally.read_again(parts, on_batch)
    return tally.summary()


class _Tally:
    """The figures of the rows seen so far: of the whole, and of each group when there are keys."""

    def __init__(self, job: Job, source: Reader, quantiles=(), kept: KeptValues | None = None):
        self.job = job
        self.keys = matching(source.columns, job.group_by) if job.group_by else []
        self.selection = choose_columns(source, job.columns, job.exclude, job.numbers, self.keys, required=False)
        self.columns = self.selection.columns
        self.rows = 0
        self.figures = Figures()
        self.index = KeyIndex(self.keys, job.numbers.na_values) if self.keys else None
        self.per_group = PerGroup(_MomentsFit())
        self.by_group = Reduction(self.per_group.fit, self.per_group.merge)
        self.group_rows = np.zeros(0, dtype=np.int64)
        self.read_warnings: list[str] = []  # what reading found (encodings, a workbook's mixed columns)
        self.quantiles = QuantilePlan(quantiles, len(self.columns)) if len(quantiles) and self.columns else None
        self.passing = self.quantiles.start() if self.quantiles is not None else None
        # The values read, for the quantiles' further reads: a text table is parsed once (Parquet reads faster again).
        self.kept = kept if self.quantiles is not None else None

    def require(self, source: Reader) -> None:
        require_columns(source, [*self.columns, *self.keys], "is not in")

    def read(self, source: Reader, on_batch=None) -> None:
        replay = self.quantiles is not None  # another read follows
        if self.kept is not None and source.typed:
            self.kept.give_up()
        for batch in source.batches(self.columns, needed=self.columns + self.keys, replay=replay):
            self._add(batch)
            if on_batch is not None:
                on_batch("reading")
        self.read_warnings += [line for line in source.warnings if line not in self.read_warnings]

    def read_again(self, sources, on_batch=None) -> None:
        """Finish the quantiles' pass, and make one more over ``sources()``, the readers read before."""
        self.quantiles.finish(self.passing)
        if self.quantiles.done:
            return
        self.passing = self.quantiles.start()
        if self.kept is not None and self.kept.complete:
            for values, _ in self.kept.blocks(self.passing.reads(len(self.columns))):
                self.passing.add(values)
                if on_batch is not None:
                    on_batch("reading again for the quantiles")
            return
        for source in sources():
            for batch in source.batches(self.columns, needed=self.columns, replay=True):
                values = to_matrix(batch.frame, self.columns, batch.first_row, self.job.numbers, nan="omit", inf="limit")
                self.passing.add(values)
                if on_batch is not None:
                    on_batch("reading again for the quantiles")

    def _add(self, batch) -> None:
        frame = batch.frame
        self.rows += frame.height
        if self.index is not None:
            codes = self.index.codes(frame)
            counts = np.bincount(codes, minlength=len(self.index))
            counts[: len(self.group_rows)] += self.group_rows
            self.group_rows = counts
        if not self.columns:
            return
        values = to_matrix(frame, self.columns, batch.first_row, self.job.numbers, nan="omit", inf="limit")
        self.figures.add(values)
        if self.passing is not None:
            self.passing.add(values)
            if self.kept is not None:
                self.kept.add(values)
        if self.index is not None:
            self.by_group.add(values, codes)

    def summary(self) -> Summary:
        selection = self.selection
        warnings = [*selection.warnings, *self.read_warnings]
        summary = Summary("stats", None, self.rows, {}, warnings=warnings, skipped=selection.skipped)
        if self.columns:
            self.figures.totals().fill(summary, self.columns)
        if self.quantiles is not None:
            table = self.quantiles.result()
            names = [quantile_name(q) for q in self.quantiles.q]
            for i, column in enumerate(self.columns):
                summary.before[column].update(zip(names, table[i].tolist()))
        if self.index is not None:
            summary.groups = {"by": list(self.keys), "count": len(self.index), "figures": self._group_figures()}
        return summary

    def _group_figures(self) -> list[dict]:
        keys = self.index.keys()
        table = self.per_group.table(self.by_group.result(), len(keys)) if self.columns and keys else None
        return [
            {
                "key": list(key),
                "rows": int(self.group_rows[code]),
                "columns": {} if table is None else column_figures(take_rows(table, [code]), self.columns),
            }
            for code, key in enumerate(keys)
        ]


def quantile_name(q: float) -> str:
    """The figure of percentile ``q``: ``p50``, ``p99.9``."""
    return f"p{float(q):g}"


class _MomentsFit:
    """Moments as the method :class:`~softnorm_cli.numeric.reduce.PerGroup` fits group by group."""

    @staticmethod
    def fit(values: np.ndarray, groups) -> Moments:
        return Moments.of(values, groups)

    @staticmethod
    def merge(a: Moments, b: Moments) -> Moments:
        return a.merge(b)

"""``softnorm stats``: the figures of the columns a job would normalize, and why the others are left out."""

from __future__ import annotations

from softnorm_cli.engine.job import Job
from softnorm_cli.engine.selection import choose_columns
from softnorm_cli.engine.summary import Figures, Summary
from softnorm_cli.engine.values import to_matrix
from softnorm_cli.io.base import Reader


def describe(job: Job, source: Reader, on_batch=None) -> Summary:
    """A fit with no method: count, missing, min, max, mean, std and sum of each selected column
    (infinities count as values; ``job``'s method is not used)."""
    selection = choose_columns(source, job.columns, job.exclude, job.numbers)
    columns = selection.columns
    figures, rows = Figures(), 0
    for batch in source.batches(columns, needed=columns):
        if columns:
            figures.add(to_matrix(batch.frame, columns, batch.first_row, job.numbers, nan="omit", inf="limit"))
        rows += batch.frame.height
        if on_batch is not None:
            on_batch("reading")
    summary = Summary("stats", None, rows, {}, warnings=selection.warnings, skipped=selection.skipped)
    if columns:
        figures.totals().fill(summary, columns)
    return summary

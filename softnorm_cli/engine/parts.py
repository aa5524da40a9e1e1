"""A table in many parts: fit every part, merge, apply to every part; here or on a cluster.

The work on one part is the local engine's (:func:`~softnorm_cli.engine.local.fit_part`,
:func:`~softnorm_cli.engine.local.apply_part`), reading and writing that part alone. An
:class:`Executor` decides where it runs: :class:`LocalExecutor` one part
after another in this process, the Dask executor
(:mod:`softnorm_cli.engine.dask`) as tasks on a cluster. Partial
statistics are merged in a fixed binary tree over the parts, in their order,
so both give the same figures to the last bit and the groups keep their order
of first appearance. Group statistics travel as one small record per part and
come back to every task with the fitted record (a broadcast join): the rows
never move between parts.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from softnorm_cli.engine import local, ranks
from softnorm_cli.engine.fitted import Fitted
from softnorm_cli.engine.job import Job
from softnorm_cli.engine.summary import Applied, Summary, summarize
from softnorm_cli.errors import SoftnormError, is_user_error, one_line
from softnorm_cli.io.dataset import Dataset, PartsOutput
from softnorm_cli.io.joined import JoinedOutput
from softnorm_cli.numeric.probes import QuantilePass
from softnorm_cli.numeric.quantiles import QuantilePlan


class Executor(Protocol):
    """Where the parts' work runs. Handles are results (local) or futures (a cluster)."""

    def share(self, value: Any) -> Any:
        """``value`` for every task: sent once (a cluster), not with each."""
        ...

    def map(self, fn: Callable, items: Sequence, stage: str, *args) -> list:
        """``fn(*args, item)`` for each item; ``args`` may be shared values."""
        ...

    def submit(self, fn: Callable, *args) -> Any: ...

    def gather(self, handles: list, stage: str) -> list: ...

    def describe(self, parts: int) -> dict: ...


class LocalExecutor:
    """Each part in turn, in this process; a progress bar over the parts when ``on_part`` is given
    (a context manager, closed with the executor)."""

    def __init__(self, on_part=None):
        self.on_part = on_part

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        if self.on_part is not None:
            self.on_part.close()

    def share(self, value: Any) -> Any:
        return value

    def map(self, fn: Callable, items: Sequence, stage: str, *args) -> list:
        results = []
        for done, item in enumerate(items):
            results.append(fn(*args, item))
            if self.on_part is not None:
                self.on_part(stage, done + 1, len(items))
        return results

    def submit(self, fn: Callable, *args) -> Any:
        return fn(*args)

    def gather(self, handles: list, stage: str) -> list:
        return handles

    def describe(self, parts: int) -> dict:
        return {"name": "local", "workers": 1, "partitions": parts}


def fit(job: Job, fitted: Fitted, dataset: Dataset, executor: Executor) -> Fitted:
    """``fitted``, as :func:`~softnorm_cli.engine.local.plan` made it from the first part, with the statistics of every part, merged.

    The partitions of a file are joined in the tree of its chunks
    (:mod:`~softnorm_cli.numeric.reduce`), so a file gives the same figures
    however it was partitioned; files are merged in a binary tree over them.
    """
    if fitted.axis == "row" or not fitted.columns:
        return fitted
    shipped = _shipped(fitted)
    pieces = range(len(dataset.pieces))
    partials = executor.map(functools.partial(_fit_part, job, shipped, dataset), pieces, "statistics")
    files = [
        executor.submit(local.settled, shipped, _tree(executor, [partials[i] for i in of_file], functools.partial(local.joined, shipped)))
        for of_file in _by_file(dataset)
    ]
    (total,) = executor.gather([_tree(executor, files, functools.partial(local.merge, shipped))], "statistics")
    # The percentiles, for the methods that need them: a pass over every part at a time, merged the same way.
    order = ranks.plan(shipped, total.statistics, total.ranks)
    while order is not None and not order.done:
        task = functools.partial(_rank_part, job, shipped, dataset, total.keys)
        passes = executor.map(task, pieces, "percentiles", executor.share(order))
        (found,) = executor.gather([_tree(executor, passes, QuantilePass.merge)], "percentiles")
        order.finish(found)
    return local.finish(fitted, total, order)


def _by_file(dataset: Dataset) -> list[list[int]]:
    """The numbers of each file's partitions, file by file."""
    files: dict[int, list[int]] = {}
    for i, piece in enumerate(dataset.pieces):
        files.setdefault(piece.part, []).append(i)
    return list(files.values())


def _tree(executor: Executor, handles: list, merge: Callable):
    """The handles' results merged in a binary tree over them, in order: a handle of the total."""
    while len(handles) > 1:
        pairs = [executor.submit(merge, a, b) for a, b in zip(handles[0::2], handles[1::2])]
        handles = pairs + handles[len(pairs) * 2 :]
    return handles[0]


def apply(
    job: Job, fitted: Fitted, dataset: Dataset, output: PartsOutput | JoinedOutput, executor: Executor, own_fit: bool = False
) -> Summary:
    """Every part transformed with ``fitted`` into a part of ``output`` (a directory of parts, or
    one file they are joined into); one summary of them all.

    ``own_fit``: ``fitted`` was fitted on this dataset (its pictures' bins are known).
    """
    # The statistics (a row per group) go to the workers once, not with every part.
    shipped = executor.share(_shipped(fitted))
    task = functools.partial(_apply_part, job, dataset, output, local.bin_edges(job, fitted, own_fit))
    applied = executor.gather(executor.map(task, range(len(dataset.pieces)), "writing", shipped), "writing")
    summary = summarize(fitted, functools.reduce(Applied.merge, applied))
    summary.engine = describe(executor, dataset)
    return summary


def describe(executor: Executor, dataset: Dataset) -> dict:
    """The engine's part of the summary: where it ran, on how many partitions, and why a large file was read whole."""
    info = executor.describe(len(dataset.pieces))
    if dataset.whole_because:
        info["read whole"] = "; ".join(dataset.whole_because)
    return info


def _shipped(fitted: Fitted) -> Fitted:
    # What tasks need of the record: not how the columns were chosen (the sample's reasons and warnings).
    return dataclasses.replace(fitted, selection=None)


def _fit_part(job: Job, fitted: Fitted, dataset: Dataset, index: int) -> local.Partial:
    with naming_part(dataset, index), _opened(dataset, index) as source:
        return local.fit_part(job, fitted, source)


def _rank_part(
    job: Job, fitted: Fitted, dataset: Dataset, keys: list[tuple] | None, order: QuantilePlan, index: int
) -> QuantilePass:
    with naming_part(dataset, index), _opened(dataset, index) as source:
        return local.rank_part(job, fitted, order, keys, source)


def _apply_part(job: Job, dataset: Dataset, output: PartsOutput | JoinedOutput, edges, fitted: Fitted, index: int) -> Applied:
    piece = dataset.pieces[index]
    with naming_part(dataset, index), _opened(dataset, index) as source, output.sink(index, piece.part) as sink:
        applied = local.apply_part(job, fitted, source, sink, edges=edges)
    name = _named(dataset, piece.part)
    if name is not None:  # row numbers in these lines count from the part's first row
        applied.row_problems = [f"{name}: {line}" for line in applied.row_problems]
    return applied


def _opened(dataset: Dataset, index: int):
    piece = dataset.pieces[index]
    return dataset.open(piece.part, piece)


def _named(dataset: Dataset, part: int) -> str | None:
    """How lines about a part name it: not at all when the input is that one file, as when it is read whole."""
    return None if dataset.parts == (dataset.name,) else dataset.parts[part]


class naming_part:
    """An error in a part's work as one SoftnormError naming the part: plain enough to
    travel back from a worker process, and the same line on every engine."""

    def __init__(self, dataset: Dataset, index: int):
        self.part = _named(dataset, dataset.pieces[index].part)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or not is_user_error(exc):
            return False
        message = one_line(exc)
        if self.part is not None and self.part not in message:
            message = f"{self.part}: {message}"
        raise SoftnormError(message) from None

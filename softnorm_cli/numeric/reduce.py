"""Statistics of rows that arrive in blocks of any size, the same to the last bit.

Floating-point sums depend on their order, so merging the statistics of
whatever batches the reader produced would make the results depend on the
batch size, the format, or how fast a pipe delivered. A :class:`Reduction`
instead fits fixed chunks of ``CHUNK_ROWS`` rows, counted from the first row,
and merges them in a fixed binary tree over the chunks' numbers: chunks
``2k`` and ``2k + 1`` make a node, two such nodes the node above, and the
nodes left over (the binary digits of the number of chunks) are merged left
to right at the end. The same rows give the same statistics, bit for bit,
whether they came as one batch or as many; and since every node is a fixed
set of chunks, a reduction of rows ``a .. b`` and one of the rows after it
(each started at its first chunk's number) give nodes that :func:`joined`
makes into those of one reduction of them all: a file read as partitions,
on any number of processes, gives the figures of one read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from softnorm_cli.numeric.segments import Segments

#: Rows per chunk: enough that the per-chunk cost vanishes, small enough that
#: a chunk being assembled from small batches stays small. Wide blocks get
#: fewer rows, so that a chunk holds about CHUNK_BYTES of values; the number
#: depends on the width alone, never on the batches.
CHUNK_ROWS = 1 << 16
CHUNK_BYTES = 4 << 20
MIN_CHUNK_ROWS = 1 << 10


def chunk_rows(width: int) -> int:
    """Rows per chunk for blocks of ``width`` columns: a power of two."""
    rows = CHUNK_ROWS
    while rows > MIN_CHUNK_ROWS and rows * width * 8 > CHUNK_BYTES:
        rows //= 2
    return rows

Stats = TypeVar("Stats")


@dataclass
class Node(Generic[Stats]):
    """The statistics of chunks ``start .. start + size - 1``: ``size`` is a power of two that divides ``start``."""

    start: int
    size: int
    stats: Stats


def joined(left: list[Node], right: list[Node], merge: Callable[[Stats, Stats], Stats]) -> list[Node]:
    """The nodes of the chunks of both (``left``'s come first), two halves of a node merged into it.

    Which nodes there are depends on the chunks alone, not on where they
    were split between ``left`` and ``right``: the halves of a node are
    always next to each other, so merging the last two while they are halves
    finds every one.
    """
    nodes = list(left)
    for node in right:
        nodes.append(node)
        while len(nodes) > 1 and _halves(nodes[-2], nodes[-1]):
            second, first = nodes.pop(), nodes.pop()
            nodes.append(Node(first.start, 2 * first.size, merge(first.stats, second.stats)))
    return nodes


def folded(nodes: list[Node], merge: Callable[[Stats, Stats], Stats]) -> Stats:
    """The statistics of all the nodes' chunks: the nodes merged left to right."""
    total = nodes[0].stats
    for node in nodes[1:]:
        total = merge(total, node.stats)
    return total


def _halves(a: Node, b: Node) -> bool:
    return a.size == b.size and a.start + a.size == b.start and a.start % (2 * a.size) == 0


class Reduction(Generic[Stats]):
    """``fit`` over fixed chunks of rows, merged in order with ``merge`` (by default ``Stats.merge``).

    Each call of :meth:`add` takes a 2-D block of values and, optionally,
    arrays aligned with its rows (the group code of each row); ``fit`` gets a
    chunk of each. ``first_row`` (counted from 0) is where these rows stand
    in all of them, for a reduction of one partition: a multiple of
    ``CHUNK_ROWS``, so that its chunks are those of one reduction of all.
    """

    def __init__(
        self,
        fit: Callable[..., Stats],
        merge: Callable[[Stats, Stats], Stats] | None = None,
        rows: int | None = None,
        first_row: int = 0,
    ):
        self._fit = fit
        self._merge_two = merge or (lambda a, b: a.merge(b))
        self._rows = rows  # by default chosen from the width of the first block
        self._first_row = first_row
        self._pending: list[tuple[np.ndarray, ...]] = []  # the rows of an unfinished chunk
        self._pending_rows = 0
        self._empty: tuple[np.ndarray, ...] | None = None  # arrays of no rows, shaped as the blocks
        self._nodes: list[Node] = []
        self._next = 0  # the number of the next chunk

    def add(self, values: np.ndarray, *aligned: np.ndarray) -> None:
        """Take the next rows: a 2-D block, and arrays with one entry per row."""
        arrays = (values, *aligned)
        if self._empty is None:
            self._empty = tuple(a[:0] for a in arrays)
            self._rows = self._rows or chunk_rows(values.shape[1])
            self._next = self._first_row // self._rows
        start = 0
        if self._pending:
            start = min(len(values), self._rows - self._pending_rows)
            self._keep(arrays, 0, start)
            if self._pending_rows == self._rows:
                self._merge(self._stacked())
        while len(values) - start >= self._rows:
            self._merge(tuple(a[start : start + self._rows] for a in arrays))
            start += self._rows
        if start < len(values):
            self._keep(arrays, start, len(values))

    def _keep(self, arrays: tuple[np.ndarray, ...], start: int, stop: int) -> None:
        if stop > start:
            self._pending.append(tuple(a[start:stop] for a in arrays))  # views: copied once, when the chunk is complete
            self._pending_rows += stop - start

    def _merge(self, chunk: tuple[np.ndarray, ...]) -> None:
        node = Node(self._next, 1, self._fit(*chunk))
        self._next += 1
        self._nodes = joined(self._nodes, [node], self._merge_two)

    def nodes(self) -> list[Node]:
        """The nodes of all rows taken (a chunk of no rows, if none came), to join with another reduction's."""
        if self._pending or not self._nodes:
            self._merge(self._stacked())
        return self._nodes

    def result(self) -> Stats:
        """The statistics of all rows taken (of no rows, if none came)."""
        return folded(self.nodes(), self._merge_two)

    def _stacked(self) -> tuple[np.ndarray, ...]:
        pieces, self._pending, self._pending_rows = self._pending, [], 0
        if self._empty is None:  # nothing ever came
            return (np.empty((0, 0), order="F"),)
        return tuple(_stacked([piece[i] for piece in pieces], empty) for i, empty in enumerate(self._empty))


def _stacked(pieces: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
    rows = sum(len(piece) for piece in pieces)
    out = np.empty((rows, *empty.shape[1:]), dtype=empty.dtype, order="F")
    if pieces:
        np.concatenate(pieces, axis=0, out=out)
    return out


@dataclass
class ByGroup(Generic[Stats]):
    """Partial statistics of some groups: one row of ``stats`` for each of ``codes`` (ascending)."""

    codes: np.ndarray
    stats: Stats


class PerGroup:
    """A method fitted group by group: the ``fit`` and ``merge`` a :class:`Reduction` takes,
    for blocks whose rows come with group codes (0, 1, ... in order of appearance).

    A chunk's rows are sorted by group and reduced run by run; merging
    grows a table of every group's statistics, one row per code, and merges
    the chunk's groups into their rows. Memory grows with the groups, not
    the rows.
    """

    def __init__(self, method, whole_block: bool = False):
        self.method = method
        self.whole_block = whole_block  # axis "all": a group is every value of its rows

    def fit(self, values: np.ndarray, codes: np.ndarray) -> ByGroup:
        ordered, segments, run_codes = Segments.sort(values, codes, self.whole_block)
        return ByGroup(run_codes, self.method.fit(ordered, segments))

    def merge(self, total: ByGroup, part: ByGroup) -> ByGroup:
        total = self._grown(total, int(part.codes[-1]) + 1 if len(part.codes) else 0, part)
        rows = part.codes
        merged = self.method.merge(_map(lambda a: a[rows], total.stats), part.stats)
        for name, value in _fields(merged):
            getattr(total.stats, name)[rows] = value
        return total

    def table(self, total: ByGroup, groups: int) -> Stats:
        """The statistics of groups ``0 .. groups - 1``, one row each."""
        return self._grown(total, groups, total).stats

    def _grown(self, total: ByGroup, groups: int, like: ByGroup) -> ByGroup:
        """``total`` as a table of at least ``groups`` rows, a row for every code below."""
        have = len(total.codes)
        dense = not have or int(total.codes[-1]) == have - 1
        if dense and have >= groups:
            return total
        size = max(groups, int(total.codes[-1]) + 1 if have else 0)
        width = _width(like.stats)
        table = _map(lambda a: np.repeat(a, size, axis=0), self.method.fit(np.empty((0, width)), 0))
        for name, value in _fields(total.stats):
            getattr(table, name)[total.codes] = value
        return ByGroup(np.arange(size), table)


def take_rows(stats: Stats, rows: np.ndarray) -> Stats:
    """The rows ``rows`` of each figure of partial statistics (a group's figures are a row)."""
    return _map(lambda a: a[rows], stats)


def _fields(stats) -> list[tuple[str, np.ndarray]]:
    return [(f.name, getattr(stats, f.name)) for f in dataclasses.fields(stats)]


def _map(fn, stats):
    return type(stats)(**{name: fn(value) for name, value in _fields(stats)})


def _width(stats) -> int:
    return _fields(stats)[0][1].shape[1]

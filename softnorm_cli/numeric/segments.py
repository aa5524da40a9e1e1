"""How the kernels cut a block of values into groups: along a numpy axis, or by key.

A kernel (:mod:`~softnorm_cli.numeric.kernels`) reduces each group of a 2-D float
block to a few figures. The groups are numpy's (``axis=0`` each column,
``1`` each row, ``None`` the whole block) or runs of rows that share a key
(:class:`Segments`: the block's rows sorted by group, each column of a run a
group of its own, or the whole run one group for ``axis="all"``). Either
way the kernel sees one :class:`Along`, which reduces, counts and spreads a
group's figure back over its values, so there is one kernel for both.
Pure numpy, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["Along", "Segments", "along"]


@dataclass(frozen=True)
class Segments:
    """A block whose rows are sorted by group: where each group's run of rows starts.

    ``whole_block``: a group is every value of its rows (``axis="all"``);
    otherwise each column of a run is a group of its own.
    """

    starts: np.ndarray  # the first row of each run, ascending
    rows: int
    whole_block: bool = False

    @classmethod
    def sort(cls, x: np.ndarray, codes: np.ndarray, whole_block: bool = False) -> tuple[np.ndarray, Segments, np.ndarray]:
        """``x``'s rows sorted by ``codes`` (stably: rows keep their order within a group),
        column-major; the runs; and the code of each run."""
        order = _stable_order(codes)
        ordered = codes[order]
        sorted_x = np.empty(x.shape, order="F")
        for j in range(x.shape[1]):  # a column at a time: several times faster than x[order]
            np.take(x[:, j], order, out=sorted_x[:, j])
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if len(codes) else np.empty(0, int)
        return sorted_x, cls(starts, len(codes), whole_block), ordered[starts]

    @cached_property
    def sizes(self) -> np.ndarray:
        return np.diff(np.append(self.starts, self.rows))


def _stable_order(codes: np.ndarray) -> np.ndarray:
    # numpy sorts 16-bit integers by radix, about ten times faster than
    # merging; a chunk of reduce.CHUNK_ROWS rows has at most that many groups.
    if len(codes) and codes.max() < 1 << 16 and codes.min() >= 0:
        codes = codes.astype(np.uint16)
    return np.argsort(codes, kind="stable")


class Along:
    """A block (``x``, laid out for reducing) and its groups; figures have one row per group
    (one per row for ``axis=1``), and one column per group column (one for a whole block)."""

    x: np.ndarray

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, initial: float) -> np.ndarray:
        """``ufunc`` over each group of ``values`` (laid out as ``x``), in an order fixed by the data alone."""
        raise NotImplementedError

    def count(self, mask: np.ndarray | None = None) -> np.ndarray:
        """The number of values in each group, or of true entries of ``mask``."""
        raise NotImplementedError

    def sum_two(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The sum of each group as ``hi + lo``, ``lo`` what a running total rounded away.

        Runs down a column are summed pairwise, whose error grows with the
        logarithm of their length; only running totals (across rows) are
        compensated, else ``lo`` is None.
        """
        return self.reduce(np.add, values, 0.0), None

    def spread(self, figure: np.ndarray) -> np.ndarray:
        """A figure per group, shaped to broadcast against ``x``."""
        raise NotImplementedError


def along(x: np.ndarray, groups: int | None | Segments) -> Along:
    """The groups of ``x``: a numpy axis, or the :class:`Segments` of rows sorted by group."""
    if isinstance(groups, Segments):
        return _BySegments(x, groups)
    return _ByAxis(x, groups)


class _ByAxis(Along):
    def __init__(self, x: np.ndarray, axis: int | None):
        self.x, self.axis = _along_memory(x, axis)

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, initial: float) -> np.ndarray:
        return _reduce(ufunc, values, self.axis, initial)

    def count(self, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is not None:
            return mask.sum(axis=self.axis, keepdims=True)
        shape = tuple(1 if i == self.axis else n for i, n in enumerate(self.x.shape))
        return np.full(shape, self.x.shape[self.axis], dtype=np.int64)

    def sum_two(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self.axis != 1:
            return super().sum_two(values)
        if values.shape[1] < 2:
            return self.reduce(np.add, values, 0.0), np.zeros((values.shape[0], 1))
        # A running total over the columns, each addition made exact by TwoSum (Knuth).
        hi, lo = np.empty((values.shape[0], 1)), np.empty((values.shape[0], 1))
        step = 1 << 13  # rows: the steps of a tile stay in the cache
        for start in range(0, values.shape[0], step):
            rows = slice(start, start + step)
            hi[rows], lo[rows] = _sum_two_across(values[rows])
        return hi, lo

    def spread(self, figure: np.ndarray) -> np.ndarray:
        return figure  # kept dimensions broadcast


class _BySegments(Along):
    def __init__(self, x: np.ndarray, segments: Segments):
        self.x, self.segments = x, segments

    def reduce(self, ufunc: np.ufunc, values: np.ndarray, initial: float, dtype=None) -> np.ndarray:
        starts = self.segments.starts
        if not len(starts):
            return np.full((0, 1 if self.segments.whole_block else values.shape[1]), initial, dtype=dtype)
        # Each run of a column-major block is contiguous: numpy reduces it pairwise.
        out = ufunc.reduceat(values, starts, axis=0, dtype=dtype)
        if self.segments.whole_block:
            out = _reduce(ufunc, out, 1, initial)
        return out

    def count(self, mask: np.ndarray | None = None) -> np.ndarray:
        if mask is not None:
            return self.reduce(np.add, mask, 0, dtype=np.int64)
        sizes = self.segments.sizes[:, None]
        width = self.x.shape[1]
        return sizes * width if self.segments.whole_block else np.repeat(sizes, width, axis=1)

    def spread(self, figure: np.ndarray) -> np.ndarray:
        # Repeated along the contiguous rows of the transposed figure, then
        # transposed back: column-major like the block, and several times
        # faster than gathering rows by index.
        return np.repeat(np.ascontiguousarray(figure.T), self.segments.sizes, axis=1).T


def _sum_two_across(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    hi, lo = values[:, :1].copy(), np.zeros((values.shape[0], 1))
    total, back, error = np.empty_like(hi), np.empty_like(hi), np.empty_like(hi)
    for j in range(1, values.shape[1]):
        term = values[:, j : j + 1]
        np.add(hi, term, out=total)
        np.subtract(total, hi, out=back)
        np.subtract(total, back, out=error)
        np.subtract(hi, error, out=error)
        lo += error
        np.subtract(term, back, out=back)
        lo += back
        hi, total = total, hi
    return hi, lo


def _along_memory(x: np.ndarray, axis: int | None) -> tuple[np.ndarray, int]:
    """``x`` laid out so that each column's values are contiguous, and the axis to reduce.

    numpy sums a contiguous run pairwise but a strided one in a running
    total; the same values must give the same sums however the array that
    holds them was cut or copied. The whole block (``axis=None``) becomes
    one column; rows are reduced column by column (see :func:`_reduce`).
    """
    if axis is None:
        return x.reshape(-1, 1, order="F"), 0
    if axis == 0 and x.strides[0] != x.itemsize and x.shape[0] > 1:
        x = np.asfortranarray(x)
    return x, axis


def _reduce(ufunc: np.ufunc, x: np.ndarray, axis: int, initial: float) -> np.ndarray:
    """``ufunc`` reduced along ``axis`` (keeping it), in an order fixed by the data alone.

    Down a column numpy reduces the contiguous run pairwise. Across a row
    the columns are combined one after another, one vectorized step per
    column: numpy's own reduction would sum a lone row (a batch of one)
    pairwise and every other row in a running total, so a row's result
    would depend on the rows read with it. This is also far faster for
    the few columns rows usually have.
    """
    if axis != 1:
        return ufunc.reduce(x, axis=axis, keepdims=True, initial=initial)
    if x.shape[1] == 0:
        return np.full((x.shape[0], 1), initial)
    out = x[:, :1].copy()
    for j in range(1, x.shape[1]):
        ufunc(out, x[:, j : j + 1], out=out)
    return out

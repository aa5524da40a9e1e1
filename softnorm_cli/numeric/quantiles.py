"""Exact percentiles of columns read in passes, in memory that does not grow with the rows.

Each float64 maps to a uint64 *key* whose unsigned order is the order of the
numbers (``-inf < ... < -0.0 < 0.0 < ... < inf``). A :class:`QuantilePlan`
looks for the order statistics numpy's linear method needs by the bits of
their keys: the first pass counts each column's values by the top bits of
their keys; a bucket holding a wanted rank is, in the next pass, either
collected whole (when it is small enough) or counted again by the next bits.
Each pass is a :class:`QuantilePass`, whose counts add and whose collected
values concatenate, so parts and batches give the same figures in any order.

Memory is bounded by :data:`COUNTS` counts and :data:`COLLECTED` values a
pass, whatever the rows; how many passes it takes depends on how crowded the
wanted buckets are: two for most data, one more each time a wanted bucket holds
more than its share of a pass and is counted again by its next bits.

The figures are those of ``np.nanpercentile(column, q)`` bit for bit: NaN is
left out, infinities are values, and the interpolation is numpy's own
(``_lerp`` in ``numpy/lib/_function_base_impl.py``). One exception: numpy's
partition does not order ``-0.0`` and ``0.0``, which compare equal, so where
both zeros are among a column's values a zero result may carry either sign.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Counts held by one pass, over all columns (8 bytes each).
COUNTS = 1 << 22
#: Values collected by one pass, over all columns (8 bytes each).
COLLECTED = 1 << 22
#: Most bits a count looks at in one pass.
BITS = 16

_SIGN = np.uint64(1 << 63)


def to_keys(values: np.ndarray) -> np.ndarray:
    """Order-preserving uint64 keys of float64 ``values``: the sign bit set for positives, all bits flipped for negatives."""
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


def from_keys(keys: np.ndarray) -> np.ndarray:
    keys = np.asarray(keys, dtype=np.uint64)
    return np.where(keys & _SIGN, keys & ~_SIGN, ~keys).view(np.float64)


def ranks_needed(count: int, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """numpy's linear method on ``count`` values: the ranks below and above each ``q`` (0 to 100), and the weight.

    As ``_quantile`` computes them: the index ``(n - 1) * q / 100``; past the
    last index both ranks are the last, and the weight is taken from -1.
    """
    quantiles = np.true_divide(np.asarray(q, dtype=np.float64), 100)
    virtual = (count - 1) * quantiles
    below = np.floor(virtual)
    above = below + 1
    past = virtual >= count - 1
    below[past], above[past] = -1, -1
    before = virtual < 0
    below[before], above[before] = 0, 0
    below, above = below.astype(np.intp), above.astype(np.intp)
    gamma = np.asanyarray(virtual - below, dtype=virtual.dtype)
    return below % max(count, 1), above % max(count, 1), gamma


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """numpy's ``_lerp``, operation for operation, so that the result is the same to the bit (inf - inf is NaN there too)."""
    with np.errstate(invalid="ignore"):
        diff = b - a
        result = np.add(a, diff * t)
        np.subtract(b, diff * (1 - t), out=result, where=t >= 0.5)
    return result


@dataclass
class _Probe:
    """Keys from ``low`` to ``high`` of one column, holding the wanted ranks ``ranks`` (within the probe)."""

    column: int
    low: int
    depth: int  # leading bits fixed
    ranks: list[int]
    bits: int = 0  # counted by the next ``bits``; 0: collected whole
    base: int = 0  # the rank of its first key in the column

    @property
    def high(self) -> int:
        return self.low + (1 << (64 - self.depth)) - 1


@dataclass
class QuantilePass:
    """One pass of a :class:`QuantilePlan` over some rows: counts by probe, and the keys collected. Merge adds them."""

    probes: list[_Probe]
    counts: np.ndarray  # the counts of each counting probe, one after the other; pass 1: also the non-missing
    collected: list[list[np.ndarray]] = field(default_factory=list)
    offsets: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        if not self.collected:
            self.collected = [[] for _ in self.probes]
        sizes = [1 << p.bits if p.bits else 0 for p in self.probes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)

    def add(self, values: np.ndarray) -> None:
        """Count or collect the keys of ``values`` (``(rows, columns)``) in this pass's probes; NaN is left out."""
        if all(p.depth == 0 for p in self.probes):  # the first pass: each column whole, by its top bits
            self._count_top(values)
            return
        for column, slots in self._by_column().items():
            self._add_column(values[:, column], slots)

    def _count_top(self, values: np.ndarray) -> None:
        size = 1 << self.probes[0].bits
        buckets = (to_keys(values) >> np.uint64(64 - self.probes[0].bits)).astype(np.intp)
        buckets += np.arange(values.shape[1], dtype=np.intp) * size
        buckets[np.isnan(values)] = self.counts.size  # a bin of its own, cut off
        self.counts += np.bincount(buckets.ravel(), minlength=self.counts.size + 1)[:-1]

    def _add_column(self, numbers: np.ndarray, slots: np.ndarray) -> None:
        """The keys of one column into its probes ``slots`` (in the order of their keys)."""
        probes = [self.probes[i] for i in slots]
        lows = np.array([p.low for p in probes], dtype=np.uint64)
        highs = np.array([p.high for p in probes], dtype=np.uint64)
        keys = to_keys(numbers[~np.isnan(numbers)])
        where = np.maximum(np.searchsorted(lows, keys, side="right") - 1, 0)
        inside = (keys >= lows[where]) & (keys <= highs[where])
        keys, where = keys[inside], where[inside]
        bits = np.array([p.bits for p in probes])
        counted = bits[where] > 0
        if counted.any():
            # The column's probes are neighbours in ``counts``: one bincount over their stretch.
            shifts = np.array([64 - p.depth - p.bits for p in probes], dtype=np.uint64)
            offsets = self.offsets[slots]
            first, last = int(offsets.min()), int(self.offsets[slots.max() + 1])
            mine, at = keys[counted], where[counted]
            bins = offsets[at] - first + ((mine - lows[at]) >> shifts[at]).astype(np.int64)
            self.counts[first:last] += np.bincount(bins, minlength=last - first)
        if not counted.all():
            mine, at = keys[~counted], where[~counted]
            order = np.argsort(at, kind="stable")
            pieces = np.split(mine[order], np.cumsum(np.bincount(at, minlength=len(probes)))[:-1])
            for slot, piece in zip(slots, pieces):
                if piece.size:
                    self.collected[slot].append(piece)

    def _by_column(self) -> dict[int, np.ndarray]:
        """Each column's probes, in the order of their keys."""
        by_column: dict[int, list[int]] = {}
        for index in sorted(range(len(self.probes)), key=lambda i: (self.probes[i].column, self.probes[i].low)):
            by_column.setdefault(self.probes[index].column, []).append(index)
        return {column: np.array(slots, dtype=np.intp) for column, slots in by_column.items()}

    def merge(self, other: QuantilePass) -> QuantilePass:
        return QuantilePass(
            self.probes, self.counts + other.counts, [a + b for a, b in zip(self.collected, other.collected)]
        )


class QuantilePlan:
    """Percentiles ``q`` of ``columns`` columns, found pass by pass: :meth:`start` each pass, :meth:`finish` it.

    >>> plan = QuantilePlan([0, 50, 100], 1)
    >>> while not plan.done:
    ...     work = plan.start()
    ...     work.add(np.array([[3.0], [1.0], [np.nan], [2.0]]))
    ...     plan.finish(work)
    >>> plan.result().tolist()
    [[1.0, 2.0, 3.0]]
    """

    def __init__(self, q, columns: int):
        self.q = np.atleast_1d(np.asarray(q, dtype=np.float64))
        if self.q.size and not ((self.q >= 0) & (self.q <= 100)).all():
            raise ValueError("percentiles must be from 0 to 100")
        self.columns = columns
        self.counts: np.ndarray | None = None  # non-missing values per column, after the first pass
        self.found: list[dict[int, int]] = [{} for _ in range(columns)]  # rank -> key
        self.passes = 0
        self._probes = [_Probe(c, 0, 0, []) for c in range(columns)]
        self.done = not columns or not self.q.size

    def start(self) -> QuantilePass:
        probes = self._probes
        bits = _bits(len(probes))
        for probe in probes:
            # Counted when the probe may hold more than its share of what a pass collects.
            if self.counts is None or probe.bits:
                probe.bits = min(bits, 64 - probe.depth)
        size = sum(1 << p.bits if p.bits else 0 for p in probes)
        return QuantilePass(probes, np.zeros(size, dtype=np.int64))

    def finish(self, work: QuantilePass) -> None:
        """Take in a pass over all the rows (its parts merged): the ranks it settles, and the probes of the next."""
        self.passes += 1
        if self.counts is None:
            self.counts = work.counts.reshape(self.columns, -1).sum(axis=1)
            for probe in self._probes:
                below, above, _ = ranks_needed(int(self.counts[probe.column]), self.q)
                probe.ranks = sorted(set(below.tolist() + above.tolist())) if self.counts[probe.column] else []
        following: list[tuple[_Probe, int]] = []
        for index, probe in enumerate(self._probes):
            if not probe.bits:
                keys = np.sort(np.concatenate(work.collected[index]))
                for rank in probe.ranks:
                    self.found[probe.column][probe.base + rank] = int(keys[rank])
                continue
            start = work.offsets[index]
            counts = work.counts[start : start + (1 << probe.bits)]
            ends = np.cumsum(counts)
            by_bucket: dict[int, list[int]] = {}
            for rank in probe.ranks:
                by_bucket.setdefault(int(np.searchsorted(ends, rank, side="right")), []).append(rank)
            for bucket, ranks in by_bucket.items():
                before = int(ends[bucket] - counts[bucket])
                depth = probe.depth + probe.bits
                low = probe.low + (bucket << (64 - depth))
                if depth == 64:  # every key in the bucket is this one
                    for rank in ranks:
                        self.found[probe.column][probe.base + rank] = low
                    continue
                child = _Probe(probe.column, low, depth, [r - before for r in ranks], base=probe.base + before)
                following.append((child, int(counts[bucket])))
        # A bucket is collected whole when it fits its share of a pass; else counted by its next bits.
        share = COLLECTED // max(len(following), 1)
        for child, size in following:
            child.bits = 0 if size <= share else BITS
        self._probes = [child for child, _ in following]
        self.done = not following

    def result(self) -> np.ndarray:
        """``(columns, len(q))``: each column's percentiles, NaN for a column without values."""
        out = np.full((self.columns, self.q.size), np.nan)
        for column in range(self.columns):
            count = int(self.counts[column]) if self.counts is not None else 0
            if not count:
                continue
            below, above, gamma = ranks_needed(count, self.q)
            keys = self.found[column]
            a = from_keys(np.array([keys[r] for r in below.tolist()], dtype=np.uint64))
            b = from_keys(np.array([keys[r] for r in above.tolist()], dtype=np.uint64))
            out[column] = lerp(a, b, gamma)
        return out


def _bits(probes: int) -> int:
    """Bits each probe counts by in a pass of ``probes``, so that the pass holds at most :data:`COUNTS` counts."""
    return int(max(1, min(BITS, int(np.log2(max(COUNTS // max(probes, 1), 2))))))


def percentiles(batches, q, columns: int) -> np.ndarray:
    """``(columns, len(q))`` percentiles of the blocks ``batches()`` gives, called once a pass."""
    plan = QuantilePlan(q, columns)
    while not plan.done:
        work = plan.start()
        for values in batches():
            work.add(values)
        plan.finish(work)
    return plan.result()

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
        probes = self.probes
        self._top_bits = probes[0].bits if probes and all(p.depth == 0 for p in probes) else 0
        self._lows = np.array([p.low for p in probes], dtype=np.uint64)
        self._highs = np.array([p.high for p in probes], dtype=np.uint64)
        self._bits = np.array([p.bits for p in probes], dtype=np.intp)
        self._shifts = np.array([64 - p.depth - p.bits for p in probes], dtype=np.uint64)
        # The probes by column, then key: each column's probes are a stretch of ``_order``.
        self._order = np.array(sorted(range(len(probes)), key=lambda i: (probes[i].column, probes[i].low)), dtype=np.intp)
        columns = np.array([p.column for p in probes], dtype=np.intp)[self._order]
        width = int(columns.max()) + 1 if columns.size else 0
        self._first = np.searchsorted(columns, np.arange(width)).astype(np.intp)
        self._number = np.bincount(columns, minlength=width).astype(np.intp)

    def add(self, values: np.ndarray, codes: np.ndarray | None = None) -> None:
        """Count or collect the keys of ``values`` (``(rows, columns)``) in this pass's probes; NaN is left out.

        The plan's columns are the block's columns or, with ``codes`` (the
        group of each row, 0, 1, ...), each group's columns in turn: group
        ``g``'s column ``c`` is the plan's column ``g * columns + c``.
        """
        present = ~np.isnan(values)
        keys = to_keys(values[present])
        columns = np.arange(values.shape[1], dtype=np.intp)
        targets = columns if codes is None else codes.astype(np.intp)[:, None] * values.shape[1] + columns
        targets = np.broadcast_to(targets, values.shape)[present]
        if self._top_bits:  # the first pass: each column whole, by the top bits of its keys
            bins = targets * (1 << self._top_bits) + (keys >> np.uint64(64 - self._top_bits)).astype(np.intp)
            self._count(bins)
            return
        at = self._probe_of(keys, targets)
        inside = at >= 0
        keys, at = keys[inside], at[inside]
        counted = self._bits[at] > 0
        if counted.any():
            mine, where = keys[counted], at[counted]
            self._count(self.offsets[where] + ((mine - self._lows[where]) >> self._shifts[where]).astype(np.int64))
        if not counted.all():
            mine, where = keys[~counted], at[~counted]
            order = np.argsort(where, kind="stable")
            mine, where = mine[order], where[order]
            slots, starts = np.unique(where, return_index=True)
            for slot, piece in zip(slots.tolist(), np.split(mine, starts[1:])):
                self.collected[slot].append(piece)

    def _count(self, bins: np.ndarray) -> None:
        """Add one to ``counts`` at each of ``bins``, counting only over the stretch they span."""
        if bins.size:
            first, last = int(bins.min()), int(bins.max()) + 1
            self.counts[first:last] += np.bincount(bins - first, minlength=last - first)

    def _probe_of(self, keys: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """The probe holding each key of its column, or -1: a binary search, for every key at once, among its column's probes."""
        order = self._order
        if not order.size:
            return np.full(keys.size, -1, dtype=np.intp)
        known = targets < self._first.size  # a column without probes: its ranks are all found
        targets = np.where(known, targets, 0)
        start, size = self._first[targets], np.where(known, self._number[targets], 0)
        while (size > 1).any():  # the probe is among order[start : start + size]
            half = size // 2
            right = self._lows[order[np.minimum(start + half, order.size - 1)]] <= keys
            right &= size > 1
            start = np.where(right, start + half, start)
            size = np.where(right, size - half, np.where(size > 1, half, size))
        at = order[np.minimum(start, order.size - 1)]
        inside = (size > 0) & (keys >= self._lows[at]) & (keys <= self._highs[at])
        return np.where(inside, at, -1)

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

    ``q`` is the percentiles of every column, or a list of them per column
    (the quantile transform's tables of groups of different sizes).
    """

    def __init__(self, q, columns: int):
        per_column = isinstance(q, list) and any(np.ndim(item) for item in q)
        self.q = [_percentiles(item) for item in q] if per_column else _percentiles(q)
        self._of_column = self.q if per_column else [self.q] * columns
        self.columns = columns
        self.counts: np.ndarray | None = None  # non-missing values per column, after the first pass
        self.found: list[dict[int, int]] = [{} for _ in range(columns)]  # rank -> key
        self.passes = 0
        self._probes = [_Probe(c, 0, 0, []) for c in range(columns)]
        self.done = not columns or not any(item.size for item in self._of_column)

    @staticmethod
    def first_pass(columns: int) -> QuantilePass:
        """The first pass over ``columns`` columns, which counts by the top bits of the keys and needs no
        percentiles yet: read where they are not known, and finished by the plan that knows them."""
        return QuantilePlan((), columns).start()

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
            for probe in work.probes:
                below, above, _ = ranks_needed(int(self.counts[probe.column]), self._of_column[probe.column])
                probe.ranks = sorted(set(below.tolist() + above.tolist())) if self.counts[probe.column] else []
        following: list[tuple[_Probe, int]] = []
        # The pass's own probes: a plan made afresh (where the parts' passes are merged) finishes the first pass too.
        for index, probe in enumerate(work.probes):
            if not probe.bits:
                keys = np.sort(np.concatenate(work.collected[index]))
                for rank in probe.ranks:
                    self.found[probe.column][probe.base + rank] = int(keys[rank])
                continue
            start = work.offsets[index]
            counts = work.counts[start : start + (1 << probe.bits)]
            ends = np.cumsum(counts)
            ranks = np.asarray(probe.ranks, dtype=np.int64)  # ascending, so their buckets are too
            buckets = np.searchsorted(ends, ranks, side="right")
            firsts, starts = np.unique(buckets, return_index=True)
            depth = probe.depth + probe.bits
            for bucket, mine in zip(firsts.tolist(), np.split(ranks, starts[1:])):
                before = int(ends[bucket] - counts[bucket])
                low = probe.low + (bucket << (64 - depth))
                if depth == 64:  # every key in the bucket is this one
                    for rank in mine.tolist():
                        self.found[probe.column][probe.base + rank] = low
                    continue
                child = _Probe(probe.column, low, depth, (mine - before).tolist(), base=probe.base + before)
                following.append((child, int(counts[bucket])))
        # A bucket is collected whole when it fits its share of a pass; else counted by its next bits.
        share = COLLECTED // max(len(following), 1)
        for child, size in following:
            child.bits = 0 if size <= share else BITS
        self._probes = [child for child, _ in following]
        self.done = not following

    def result(self) -> np.ndarray:
        """``(columns, len(q))``: each column's percentiles, NaN for a column without values (and after a shorter list of its own)."""
        out = np.full((self.columns, max((item.size for item in self._of_column), default=0)), np.nan)
        for column in range(self.columns):
            count = int(self.counts[column]) if self.counts is not None else 0
            if not count:
                continue
            q = self._of_column[column]
            below, above, gamma = ranks_needed(count, q)
            keys = self.found[column]
            a = from_keys(np.array([keys[r] for r in below.tolist()], dtype=np.uint64))
            b = from_keys(np.array([keys[r] for r in above.tolist()], dtype=np.uint64))
            out[column, : q.size] = lerp(a, b, gamma)
        return out


def _percentiles(q) -> np.ndarray:
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if q.size and not ((q >= 0) & (q <= 100)).all():
        raise ValueError("percentiles must be from 0 to 100")
    return q


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

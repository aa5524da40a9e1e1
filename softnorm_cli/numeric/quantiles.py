"""Exact percentiles of columns read in passes, in memory that does not grow with the rows.

Each float64 maps to a uint64 *key* whose unsigned order is the order of the
numbers (``-inf < ... < -0.0 < 0.0 < ... < inf``). A :class:`QuantilePlan`
looks for the order statistics numpy's linear method needs by the bits of
their keys: the first pass counts each column's values by the top bits of
their keys; a bucket holding a wanted rank is, in the next pass, either
collected whole (when it is small enough) or counted again by the next bits.
Each pass is a :class:`~softnorm_cli.numeric.probes.QuantilePass`, whose
counts add and whose collected values concatenate, so parts and batches give
the same figures in any order.

Memory is bounded by :data:`COUNTS` counts and :data:`COLLECTED` values a
pass, whatever the rows; how many passes it takes depends on how crowded the
wanted buckets are: two for most data, one more each time the wanted buckets
hold more than a pass collects (the smallest are collected, the rest counted
again by their next bits), as with a thousand percentiles of a million values.

The figures are those of ``np.nanpercentile(column, q)`` bit for bit: NaN is
left out, infinities are values, and the interpolation is numpy's own
(``_lerp`` in ``numpy/lib/_function_base_impl.py``). One exception: numpy's
partition does not order ``-0.0`` and ``0.0``, which compare equal, so where
both zeros are among a column's values a zero result may carry either sign.
"""

from __future__ import annotations

import numpy as np

from softnorm_cli.numeric.percentile import from_keys, lerp, ranks_needed, to_keys
from softnorm_cli.numeric.probes import Probe, QuantilePass

#: Counts held by one pass, over all columns (8 bytes each).
COUNTS = 1 << 22
#: Values collected by one pass, over all columns (8 bytes each).
COLLECTED = 1 << 22
#: Most bits a count looks at in one pass.
BITS = 16
#: A bucket is cut to its column's extremes when that fixes at least this many more leading bits.
_NARROWER = 8
#: Up to this many collecting probes, each one's ranks are selected apart; more are sorted all at once.
_FEW = 64

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
    ``counts``, the values of each column when known beforehand (the groups
    of a fit, counted in its first read), lets the first pass collect the
    smallest columns whole instead of counting them: many small groups then
    take one pass.
    """

    def __init__(self, q, columns: int, counts: np.ndarray | None = None, bounds: tuple[np.ndarray, np.ndarray] | None = None):
        per_column = isinstance(q, list) and any(np.ndim(item) for item in q)
        if per_column:
            made: dict[int, np.ndarray] = {}  # columns sharing a list share its array
            self.q = [made.setdefault(id(item), _percentiles(item)) for item in q]
        else:
            self.q = _percentiles(q)
        self._of_column = self.q if per_column else [self.q] * columns
        self.columns = columns
        self.counts: np.ndarray | None = None  # non-missing values per column, after the first pass
        self.passes = 0
        self._found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # columns, ranks and keys found
        self._probes = [Probe(c, 0, 0, []) for c in range(columns)]
        self.done = not columns or not any(item.size for item in self._of_column)
        self._bounds = None if bounds is None else _key_bounds(*bounds)
        if counts is not None and not self.done:
            self._known(np.asarray(counts, dtype=np.int64))

    def _known(self, counts: np.ndarray) -> None:
        """Counted beforehand: the ranks of every column, and the smallest columns (as many as a pass
        collects) collected whole in the first pass; the others are counted by their top bits."""
        self.counts = counts
        small = _smallest(counts)
        ranks = self._ranks_of(counts)
        self._probes = []
        for c in range(self.columns):
            if ranks[c]:
                low, depth = self._narrowed(c, 0, 0)
                self._probes.append(Probe(c, low, depth, ranks[c], bits=0 if small[c] else BITS))
        self.done = not self._probes

    def _narrowed(self, column: int, low: int, depth: int) -> tuple[int, int]:
        """A bucket of ``column`` from ``low`` (``depth`` leading bits fixed), cut to the column's extremes when
        that fixes many more bits: a column of close values (1e9 + noise, timestamps) shares its leading bits, and
        counting only the span of its values saves a pass. Such a bucket no longer starts on its bits."""
        if self._bounds is None or self._bounds[column] is None:
            return low, depth
        least, most = self._bounds[column]
        lo, hi = max(low, least), min(low + (1 << (64 - depth)) - 1, most)
        if lo > hi:
            return low, depth
        narrowed = 64 - (hi - lo).bit_length()
        return (lo, narrowed) if narrowed - depth >= _NARROWER else (low, depth)

    def _ranks_of(self, counts: np.ndarray) -> list[list[int]]:
        """The ranks numpy's linear method reads in each column, given its count of values."""
        ranks: list[list[int]] = [[] for _ in range(self.columns)]
        sharing: dict[int, list[int]] = {}
        for column, q in enumerate(self._of_column):
            sharing.setdefault(id(q), []).append(column)
        for members in sharing.values():
            members = np.array(members)
            below, above, _ = ranks_needed(counts[members], self._of_column[members[0]])
            both = np.concatenate([below, above], axis=1).tolist()
            for column, row, count in zip(members.tolist(), both, counts[members].tolist()):
                if count:
                    ranks[column] = sorted(set(row))
        return ranks

    @staticmethod
    def first_pass(columns: int) -> QuantilePass:
        """The first pass over ``columns`` columns, which counts by the top bits of the keys and needs no
        percentiles yet: read where they are not known, and finished by the plan that knows them."""
        return QuantilePlan((), columns).start()

    def start(self) -> QuantilePass:
        probes = self._probes
        bits = _bits(len(probes))
        for probe in probes:
            # The first pass counts every column; later ones the probes too large to collect.
            if self.counts is None or probe.bits:
                probe.bits = min(bits, 64 - probe.depth)
        size = sum(1 << p.bits if p.bits else 0 for p in probes)
        return QuantilePass(probes, np.zeros(size, dtype=np.int64))

    def finish(self, work: QuantilePass) -> None:
        """Take in a pass over all the rows (its parts merged): the ranks it settles, and the probes of the next."""
        self.passes += 1
        if self.counts is None:
            self.counts = work.counts.reshape(self.columns, -1).sum(axis=1)
            # The pass's own probes: a plan made afresh (where the parts' passes are merged) finishes the first pass too.
            for probe, ranks in zip(work.probes, self._ranks_of(self.counts)):
                probe.ranks = ranks
        self._collect(work)
        following: list[tuple[Probe, int]] = []
        for index, probe in enumerate(work.probes):
            if not probe.bits or not probe.ranks:
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
                low, child_depth = self._narrowed(probe.column, probe.low + (bucket << (64 - depth)), depth)
                if child_depth == 64:  # every key in the bucket is this one
                    self._found.append((np.full(mine.size, probe.column), probe.base + mine, np.full(mine.size, low, np.uint64)))
                    continue
                child = Probe(probe.column, low, child_depth, (mine - before).tolist(), base=probe.base + before)
                following.append((child, int(counts[bucket])))
        # The smallest buckets are collected whole, as many as a pass holds; the others are counted by their next bits.
        collect = _smallest(np.array([size for _, size in following], dtype=np.int64))
        for (child, _), whole in zip(following, collect.tolist()):
            child.bits = 0 if whole else BITS
        self._probes = [child for child, _ in following]
        self.done = not following

    def _collect(self, work: QuantilePass) -> None:
        """The ranks the pass's collecting probes hold: their keys grouped by probe, then each probe's
        ranks selected (a few large probes) or every probe's keys sorted at once (many small ones)."""
        wanted = [i for i, p in enumerate(work.probes) if not p.bits and p.ranks]
        if not wanted or not work.collected:
            return
        keys = np.concatenate([k for k, _ in work.collected])
        owners = np.concatenate([o for _, o in work.collected])
        work.collected = []  # taken in: the chunks go before the copies below
        probes = [work.probes[i] for i in wanted]
        sizes = [len(p.ranks) for p in probes]
        owner = np.repeat(np.array(wanted), sizes)
        ranks = np.fromiter((r for p in probes for r in p.ranks), dtype=np.int64, count=sum(sizes))
        columns = np.repeat(np.array([p.column for p in probes]), sizes)
        bases = np.repeat(np.array([p.base for p in probes], dtype=np.int64), sizes)
        if len(wanted) <= _FEW:
            order = np.argsort(owners, kind="stable")  # a radix sort of small integers
            keys, owners = keys[order], owners[order]
            del order
            firsts = np.searchsorted(owners, np.arange(len(work.probes), dtype=owners.dtype))
            lasts = np.searchsorted(owners, np.arange(len(work.probes), dtype=owners.dtype), side="right")
            found = np.empty(ranks.size, dtype=np.uint64)
            at = 0
            for index, probe in zip(wanted, probes):
                mine = keys[firsts[index] : lasts[index]]
                mine.partition(probe.ranks)  # in place, in linear time: each wanted rank where sorting would put it
                found[at : at + len(probe.ranks)] = mine[probe.ranks]
                at += len(probe.ranks)
        else:
            order = np.lexsort((keys, owners))
            keys = keys[order]
            owners = owners[order]
            del order
            firsts = np.searchsorted(owners, np.arange(len(work.probes), dtype=owners.dtype))
            found = keys[firsts[owner] + ranks]
        self._found.append((columns, bases + ranks, found))

    def result(self) -> np.ndarray:
        """``(columns, len(q))``: each column's percentiles, NaN for a column without values (and after a shorter list of its own)."""
        out = np.full((self.columns, max((item.size for item in self._of_column), default=0)), np.nan)
        if self.counts is None or not self._found:
            return out
        columns, ranks, keys = (np.concatenate(parts) for parts in zip(*self._found))
        # Each found key by (column, rank), as one sorted number.
        stride = int(self.counts.max()) + 1
        index = columns.astype(np.int64) * stride + ranks
        order = np.argsort(index)
        index, keys = index[order], keys[order]

        def found(members: np.ndarray, wanted: np.ndarray) -> np.ndarray:
            at = np.searchsorted(index, members[:, None] * stride + wanted)
            return from_keys(keys[np.minimum(at, index.size - 1)])

        sharing: dict[int, list[int]] = {}
        for column, q in enumerate(self._of_column):
            sharing.setdefault(id(q), []).append(column)
        for members in sharing.values():
            members = np.array(members, dtype=np.int64)
            q = self._of_column[members[0]]
            if not q.size:
                continue
            counts = self.counts[members]
            below, above, gamma = ranks_needed(counts, q)
            values = lerp(found(members, below), found(members, above), gamma)
            values[counts == 0] = np.nan
            out[members, : q.size] = values
        return out


def _key_bounds(minimum: np.ndarray, maximum: np.ndarray) -> list[tuple[int, int] | None]:
    """Each column's lowest and highest key, from its extremes (None without values); a zero extreme stands
    for both zeros, as ``min`` and ``max`` may give either sign."""
    minimum, maximum = np.asarray(minimum, dtype=np.float64), np.asarray(maximum, dtype=np.float64)
    lows = to_keys(np.where(minimum == 0, -0.0, minimum)).tolist()
    highs = to_keys(np.where(maximum == 0, 0.0, maximum)).tolist()
    empty = np.isnan(minimum) | np.isnan(maximum) | (minimum > maximum)
    return [None if e else (lo, hi) for e, lo, hi in zip(empty.tolist(), lows, highs)]


def _smallest(sizes: np.ndarray) -> np.ndarray:
    """Which probes of ``sizes`` keys to collect whole: the smallest, as many as :data:`COLLECTED` keys; a
    quarter as many when they are more than a few, as sorting them all at once takes about four times the
    memory of selecting each one's ranks apart (a thousand percentiles of 1M rows of CSV: 269 MiB, not 301)."""
    order = np.argsort(sizes, kind="stable")
    ends = np.cumsum(sizes[order])
    chosen = ends <= COLLECTED
    if chosen.sum() > _FEW:
        chosen = ends <= COLLECTED // 4
    out = np.zeros(sizes.size, dtype=bool)
    out[order[chosen]] = True
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

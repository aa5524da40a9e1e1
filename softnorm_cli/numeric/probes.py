"""One pass of a :class:`~softnorm_cli.numeric.quantiles.QuantilePlan`: the keys of every batch counted or
collected in the probes (stretches of keys) that hold the wanted ranks.

A probe covers the keys from ``low`` to ``high`` of one of the plan's columns
and either counts them by their next ``bits`` or collects them whole. A pass
adds a block column by column, finds each key's probe (a table of leading
bits, a binary search among a column's few probes, or for groups one binary
search for every key at once), and merges with other passes by adding counts
and concatenating what was collected. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from softnorm_cli.numeric.percentile import to_keys

__all__ = ["Probe", "QuantilePass"]

#: Probes of one depth up to this are found by a table of their leading bits (2**20 entries at most).
_TABLE_BITS = 20


@dataclass
class Probe:
    """Keys from ``low`` to ``high`` of one column, holding the wanted ranks ``ranks`` (within the probe)."""

    column: int
    low: int
    depth: int  # leading bits fixed
    ranks: list[int]
    bits: int = 0  # counted by the next ``bits``; 0: collected whole
    base: int = 0  # the rank of its first key in the column

    @property
    def high(self) -> int:
        # A probe cut to its column's extremes may start anywhere: its end stays a key.
        return min(self.low + (1 << (64 - self.depth)) - 1, (1 << 64) - 1)


@dataclass
class QuantilePass:
    """One pass of a :class:`QuantilePlan` over some rows: counts by probe, and the keys collected. Merge adds them."""

    probes: list[Probe]
    counts: np.ndarray  # the counts of each counting probe, one after the other; pass 1: also the non-missing
    #: The keys collected, in chunks as they came, each with the probe of every key.
    collected: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    offsets: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        sizes = [1 << p.bits if p.bits else 0 for p in self.probes]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        probes = self.probes
        self._top_bits = probes[0].bits if probes and all(p.depth == 0 and p.bits for p in probes) else 0
        self._lows = np.array([p.low for p in probes], dtype=np.uint64)
        self._highs = np.array([p.high for p in probes], dtype=np.uint64)
        self._bits = np.array([p.bits for p in probes], dtype=np.intp)
        self._shifts = np.array([64 - p.depth - p.bits for p in probes], dtype=np.uint64)
        self._depths = np.array([p.depth for p in probes], dtype=np.intp)
        # The probes by column, then key: each column's probes are a stretch of ``_order``.
        self._order = np.array(sorted(range(len(probes)), key=lambda i: (probes[i].column, probes[i].low)), dtype=np.intp)
        columns = np.array([p.column for p in probes], dtype=np.intp)[self._order]
        self._targets = np.unique(columns)  # the plan's columns with probes
        width = int(columns.max()) + 1 if columns.size else 0
        self._first = np.searchsorted(columns, np.arange(width)).astype(np.intp)
        self._number = np.bincount(columns, minlength=width).astype(np.intp)
        # Per column, from its first probe's low to its last probe's high (empty, 1 to 0, without probes).
        self._span_low = np.ones(width, dtype=np.uint64)
        self._span_high = np.zeros(width, dtype=np.uint64)
        having = self._number > 0
        self._span_low[having] = self._lows[self._order[self._first[having]]]
        self._span_high[having] = self._highs[self._order[self._first[having] + self._number[having] - 1]]

    def add(self, values: np.ndarray, codes: np.ndarray | None = None) -> None:
        """Count or collect the keys of ``values`` (``(rows, columns)``) in this pass's probes; NaN is left out.

        The plan's columns are the block's columns or, with ``codes`` (the
        group of each row, 0, 1, ...), each group's columns in turn: group
        ``g``'s column ``c`` is the plan's column ``g * columns + c``.
        """
        width = values.shape[1]
        firsts = None if codes is None else codes.astype(np.intp) * width
        for c in self.reads(width):
            column = values[:, c]
            present = ~np.isnan(column)
            whole = bool(present.all())
            keys = to_keys(column if whole else column[present])
            if firsts is None:
                self._add_keys(keys, c)
            else:
                self._add_keys(keys, (firsts if whole else firsts[present]) + c)

    def reads(self, width: int) -> list[int]:
        """The columns of blocks ``width`` wide this pass reads: those with probes left (a column whose ranks
        are all found is not read again)."""
        return np.unique(self._targets % max(width, 1)).tolist()

    def _add_keys(self, keys: np.ndarray, targets: int | np.ndarray) -> None:
        """Count or collect ``keys``, of the plan's column ``targets`` (one for all, or one each)."""
        if self._top_bits:  # the first pass: each column whole, by the top bits of its keys
            self._count(targets * (1 << self._top_bits) + (keys >> np.uint64(64 - self._top_bits)).astype(np.intp))
            return
        if np.ndim(targets) == 0:
            at = self._probe_in(keys, targets)
        else:
            # Most keys lie outside every probe of their column: dropped first, by the span of its probes.
            lows, highs = self._span(targets)
            near = (keys >= lows) & (keys <= highs)
            keys, targets = keys[near], targets[near]
            at = self._probe_of(keys, targets)
        inside = at >= 0
        keys, at = keys[inside], at[inside]
        counted = self._bits[at] > 0
        if counted.any():
            mine, where = keys[counted], at[counted]
            self._count(self.offsets[where] + ((mine - self._lows[where]) >> self._shifts[where]).astype(np.int64))
        if not counted.all():
            self.collected.append((keys[~counted], at[~counted].astype(np.int32)))

    def _probe_in(self, keys: np.ndarray, column: int) -> np.ndarray:
        """The probe of ``column`` holding each of its keys, or -1."""
        if column >= self._first.size or not self._number[column]:
            return np.full(keys.size, -1, dtype=np.intp)
        probes = self._order[self._first[column] : self._first[column] + self._number[column]]
        depths = self._depths[probes]
        shift = np.uint64(64 - int(depths[0]))
        aligned = bool(((self._lows[probes] >> shift) << shift == self._lows[probes]).all()) if depths[0] else False
        if aligned and depths[0] <= _TABLE_BITS and (depths == depths[0]).all():
            # Probes of one depth that start on their bits are buckets of the same leading bits: found by those bits, in a table.
            table = np.full(1 << int(depths[0]), -1, dtype=np.intp)
            table[(self._lows[probes] >> shift).astype(np.intp)] = probes
            return table[(keys >> shift).astype(np.intp)]
        at = probes[np.maximum(np.searchsorted(self._lows[probes], keys, side="right") - 1, 0)]
        return np.where((keys >= self._lows[at]) & (keys <= self._highs[at]), at, -1)

    def _span(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The lowest and highest key of the probes of each of ``targets`` (an empty span for a column without probes)."""
        known = targets < self._first.size
        at = np.where(known, targets, 0)
        return np.where(known, self._span_low[at], np.uint64(1)), np.where(known, self._span_high[at], np.uint64(0))

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
        return QuantilePass(self.probes, self.counts + other.counts, self.collected + other.collected)

"""The distributions the summary draws: each column's values before and after, counted in bins
while the rows stream, and each row's largest probability for the row softmax.

Bins need their edges before the first row is counted. A two-pass job (min-max,
z-score, column softmax) fitted on this very input knows them from its fit:
each column's minimum and maximum before, and their images through the
transform after (every method is increasing in each value, so the images of
a group's extremes are the extremes of its results). A job whose statistics
came from elsewhere (``--params``, ``--inverse``) has no such edges and no
pictures. The row axis fits nothing ahead: its inputs get no picture, its
probabilities lie in [0, 1] and so do the row maxima.

Counts are integers, merged by adding: every engine, batch size and order of
parts gives the same counts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from softnorm_cli.numeric.histogram import Histogram, bin_counts
from softnorm_cli.numeric.methods import Method

Range = tuple[np.ndarray, np.ndarray]  # the low and the high edge of each column


@dataclass
class Picture:
    """A distribution as the summary has it: counts in equal bins from ``low`` to ``high``."""

    low: float
    high: float
    counts: list[int]

    def to_json(self) -> dict:
        return {"low": self.low, "high": self.high, "counts": list(self.counts)}


def picture_of(counts: np.ndarray, low: float, high: float) -> Picture:
    return Picture(float(low), float(high), counts.tolist())


@dataclass(frozen=True)
class Edges:
    """Where the bins of each column are, before and after; None: that picture is not drawn.

    ``same``: the results are each column's values moved by one increasing
    linear map, which moves the edges with them: the after counts are the
    before counts, and are not counted twice.
    """

    before: Range | None = None
    after: Range | None = None
    same: bool = False
    row_max: bool = False  # the row softmax: the largest probability of each row


def edges_for(method: Method, axis: str, statistics, columns: int, own_fit: bool, inverse: bool = False) -> Edges | None:
    """The bins of a job's pictures; ``own_fit``: ``statistics`` were fitted on the rows being transformed."""
    if axis == "row":
        if method.name != "softmax":
            return None
        log = getattr(method, "log", False)
        unit = (np.zeros(columns), np.ones(columns))
        return Edges(after=None if log else unit, row_max=True)
    if statistics is None or not own_fit or inverse:
        return None
    per_group = statistics["max"].shape[0]
    groups = None if per_group == 1 else np.arange(per_group)
    if "min" not in statistics:  # softmax: from 0 to each group's largest probability, that of its maximum
        if getattr(method, "log", False):
            return None
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            largest = method.transform(_wide(statistics["max"], columns), statistics, groups)
        return Edges(after=(np.zeros(columns), _column_max(largest)))
    extremes = _wide(np.concatenate([statistics["min"], statistics["max"]]), columns)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # groups without values have no extremes
        images = method.transform(extremes, statistics, None if groups is None else np.tile(groups, 2))
    before = (_column_min(extremes[:per_group]), _column_max(extremes[per_group:]))
    after = (_column_min(images[:per_group]), _column_max(images[per_group:]))
    return Edges(before, after, same=groups is None)


def _wide(figure: np.ndarray, columns: int) -> np.ndarray:
    # --axis all has one figure for the whole block: each column's bins span it.
    return np.ascontiguousarray(np.broadcast_to(figure, (figure.shape[0], columns)), dtype=np.float64)


def _column_min(values: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(values), values, np.inf)
    return finite.min(axis=0)


def _column_max(values: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(values), values, -np.inf)
    return finite.max(axis=0)


class Bins:
    """Running bin counts of each column before and after, and of the row maxima."""

    def __init__(self, edges: Edges, columns: int):
        self.edges = edges
        self.before = Histogram(*edges.before, columns) if edges.before else None
        self.after = Histogram(*edges.after, columns) if edges.after and not edges.same else None
        self.row_max = Histogram(0.0, 1.0, 1) if edges.row_max else None

    def add(self, before: np.ndarray, after: np.ndarray, probabilities=None) -> None:
        if self.before is not None:
            self.before.add(before)
        if self.after is not None:
            self.after.add(after)
        if self.row_max is not None:
            self.row_max.add(np.fmax.reduce(after if probabilities is None else probabilities, axis=1)[:, None])

    def merge(self, other: Bins) -> Bins:
        merged = copy.copy(self)
        for name in ("before", "after", "row_max"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(merged, name, None if mine is None else mine.merge(theirs))
        return merged

    def pictures(self, columns: list[str]) -> dict[str, dict[str, Picture]]:
        """Each column's pictures, by stage."""
        after = self.before if self.edges.same else self.after
        out: dict[str, dict[str, Picture]] = {name: {} for name in columns}
        for stage, histogram, edges in (("before", self.before, self.edges.before), ("after", after, self.edges.after)):
            if histogram is None:
                continue
            # Lists, not arrays: 100,000 columns are 100,000 pictures.
            for name, counts, low, high in zip(columns, histogram.counts.tolist(), edges[0].tolist(), edges[1].tolist()):
                out[name][stage] = Picture(low, high, counts)
        return out

    def row_max_picture(self) -> Picture | None:
        return None if self.row_max is None else picture_of(self.row_max.counts[0], 0.0, 1.0)


def sizes_picture(sizes: np.ndarray) -> Picture | None:
    """The spread of group sizes (rows per group, of the groups with rows)."""
    if not sizes.size:
        return None
    low, high = float(sizes.min()), float(sizes.max())
    return picture_of(bin_counts(sizes.astype(np.float64)[:, None], low, high)[0], low, high)

"""The percentiles of a fit on order statistics (``robust``, ``quantile``), read in passes over its rows.

The first read of such a fit is the ordinary one (count, missing count and
extremes per group); without groups it also makes the first pass of the
:class:`~softnorm_cli.numeric.quantiles.QuantilePlan`, counting the values by
the top bits of their keys. Each further read is one more pass, over every
source of the fit (one file, or every part of a dataset, merged), until each
wanted rank is found: two reads in all for most data, one more with groups,
whose first pass must wait until the groups are known. Memory holds the
counts and collected values of one pass, whatever the rows.

The plan's columns are the targets of each group in turn: the selected
columns on the column axis, the whole block (one) on the ``all`` axis.
"""

from __future__ import annotations

import numpy as np

from softnorm_cli.engine.fitted import Fitted
from softnorm_cli.numeric.probes import QuantilePass
from softnorm_cli.numeric.quantiles import QuantilePlan
from softnorm_cli.numeric.ranked import Ranked


def needs_ranks(fitted: Fitted) -> bool:
    """Whether ``fitted``'s method needs percentiles beyond one pass: not on the row axis, where each row is fitted where it stands."""
    return fitted.method.needs_percentiles and fitted.axis != "row" and bool(fitted.columns)


def first_pass(fitted: Fitted) -> QuantilePass | None:
    """The plan's first pass, read with the fit's own read: only without groups (their number is not known yet)."""
    if not needs_ranks(fitted) or fitted.group_by:
        return None
    return QuantilePlan.first_pass(_targets(fitted))


def plan(fitted: Fitted, extremes, first: QuantilePass | None) -> QuantilePlan | None:
    """The plan of the percentiles ``fitted``'s method needs, given the merged first read: its
    ``extremes`` (one row per group) and its ``first`` pass, if it made one."""
    if not needs_ranks(fitted):
        return None
    # Each group's own percentiles: the quantile transform's table is shorter for a group of fewer values.
    cells = (extremes.count + extremes.missing).ravel().tolist()
    wanted = {n: fitted.method.percentiles(n) for n in set(cells)}
    # The extremes cut the buckets of columns of close values to the span of their values.
    bounds = (extremes.minimum.ravel(), extremes.maximum.ravel())
    if first is not None:
        order = QuantilePlan([wanted[n] for n in cells], len(cells), bounds=bounds)
        order.finish(first)
        return order
    # Groups: their values were counted in the first read, so the small ones are collected whole at once.
    return QuantilePlan([wanted[n] for n in cells], len(cells), counts=extremes.count.ravel(), bounds=bounds)


def add(work: QuantilePass, fitted: Fitted, values: np.ndarray, codes: np.ndarray | None) -> None:
    """The values of a batch into ``work``; ``codes``: the group of each row, None without groups."""
    if fitted.axis == "all":  # the block's values are one column of the plan (per group)
        values = values.reshape(-1, 1, order="F")
        codes = None if codes is None else np.tile(codes, values.shape[0] // max(len(codes), 1))
    work.add(values, codes)


def ranked(fitted: Fitted, extremes, order: QuantilePlan | None) -> object:
    """What the method's ``finish`` takes: ``extremes`` alone, or with the percentiles ``order`` found."""
    if order is None:
        return extremes
    table = order.result().reshape(extremes.count.shape[0], _targets(fitted), -1)
    return Ranked(extremes, table)


def _targets(fitted: Fitted) -> int:
    return 1 if fitted.axis == "all" else len(fitted.columns)

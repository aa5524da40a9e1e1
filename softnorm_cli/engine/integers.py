"""Integer columns: which selected columns held integers when fitted, and results written back as integers.

A column held integers when its type is an integer type (Parquet, a frame),
or when its first rows (the sample) write every number as a plain integer
(``41``, not ``41.0``), and every value the fit saw is a whole number
float64 holds exactly (at most 2**53). ``--inverse`` then writes a result
within rounding of an integer as that integer, so that fit, apply and
inverse give back an integer column's text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from softnorm_cli.engine.values import PLAIN_INTEGER, Numbers, parsed, plain
from softnorm_cli.errors import SoftnormError

#: The largest integer up to which every integer is a float64.
_EXACT = 2.0**53
#: A result this close to an integer, relative to the column's scale, is that integer:
#: thousands of roundings, far below any difference data would hold.
_ROUNDING = 2.0**-40


def written_as_integers(sample: pl.DataFrame, columns: Sequence[str], numbers: Numbers, typed: bool) -> np.ndarray:
    """Per column of ``columns``: whether ``sample`` holds it as integers (by type, or by text)."""
    schema = sample.schema  # built afresh at each look: once, for a table of 100,000 columns
    if not typed:
        text = [name for name in columns if schema[name] == pl.String]
        spelled = dict.fromkeys(columns, False)
        if text:
            cells = sample[text].unpivot(variable_name="column", value_name="cell")
            values, _ = parsed(pl.col("cell"), numbers)
            number = values.is_not_null() & values.is_not_nan()
            figures = cells.group_by("column").agg((number & ~plain(pl.col("cell"), numbers)[0].str.contains(PLAIN_INTEGER)).sum().alias("other"))
            spelled.update((name, other == 0) for name, other in figures.iter_rows())
        return np.array([spelled[name] for name in columns], dtype=bool)
    return np.array([schema[name].is_integer() for name in columns], dtype=bool)


def whole(values: np.ndarray) -> np.ndarray:
    """Per column of a (rows, columns) block: whether every present value is an exact integer."""
    with np.errstate(invalid="ignore"):
        exact = np.isnan(values) | ((values == np.rint(values)) & (np.abs(values) <= _EXACT))
    return exact.all(axis=0)


def scales(statistics: dict[str, np.ndarray], width: int) -> np.ndarray:
    """Per column: the largest magnitude the fit saw, over every group (1 for none)."""
    present = statistics["count"] > 0
    ends = np.where(present, np.maximum(np.abs(statistics["min"]), np.abs(statistics["max"])), 0.0)
    ends = np.where(np.isfinite(ends), ends, 0.0)
    return np.broadcast_to(np.maximum(ends.max(axis=0, initial=0.0), 1.0), (width,))


def as_integers(
    frame: pl.DataFrame,
    names: Sequence[str],
    results: np.ndarray,
    scale: np.ndarray,
    keep_type: bool,
    first_row: int = 1,
    decimal_comma: bool = False,
) -> pl.DataFrame:
    """``frame`` with the result columns ``names`` (``results``'s, in order) written as integers.

    A result within rounding of an integer becomes it; when every result
    of a column is, the column is Int64. Otherwise text (CSV) mixes the
    integers with the other results as floats are written; a ``keep_type``
    output (Parquet: one type a column) cannot, and stops at the first
    result that is not an integer.
    """
    with np.errstate(invalid="ignore"):
        rounded = np.rint(results)
        near = np.isnan(results) | (np.abs(results - rounded) <= _ROUNDING * np.maximum(scale, np.abs(results)))
    columns = []
    for j, name in enumerate(names):
        integers = pl.Series(name, rounded[:, j], dtype=pl.Float64, nan_to_null=True).cast(pl.Int64, strict=False)
        if near[:, j].all():
            columns.append(integers)
            continue
        row = int(np.argmin(near[:, j]))
        if keep_type:
            raise SoftnormError(
                f"column {name!r}, row {first_row + row}: {float(results[row, j])!r} is not an integer, though the column "
                "held integers when fitted, and Parquet keeps one type a column; write CSV (--to csv) to keep its decimals"
            )
        floats = pl.Series(name, results[:, j], dtype=pl.Float64, nan_to_null=True).cast(pl.String)
        if decimal_comma:
            floats = floats.str.replace(".", ",", literal=True)
        columns.append(integers.cast(pl.String).zip_with(pl.Series(near[:, j]), floats))
    return frame.with_columns(columns)

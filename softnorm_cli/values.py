"""Between table columns and float arrays: how text spells numbers, the values a method
gets, and the results put back.

A CSV cell is missing when it is empty or a missing-value marker (``NA``,
``NULL``, ...); any other cell of a selected column must be a number, or the
run stops at it with its column, row and text. Parquet columns come typed:
numbers (integers, floats, decimals) are used as they are, and other types
are refused by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from softnorm_cli.errors import InfiniteValueError, MissingValueError, NotNumericError, SoftnormError
from softnorm_cli.io.source import NA_VALUES


@dataclass(frozen=True)
class Numbers:
    """How text spells numbers and missing values."""

    na_values: tuple[str, ...] = NA_VALUES
    decimal_comma: bool = False

    @property
    def text_markers(self) -> list[str]:
        return [v for v in self.na_values if _as_number(v) is None]

    @property
    def numeric_markers(self) -> list[float]:
        """Markers that are numbers themselves (``-999``): they match by value, so ``-999.0`` too."""
        return [n for n in map(_as_number, self.na_values) if n is not None]


def _as_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return None if np.isnan(value) or "_" in text else value


def parse_text(column: pl.Series, numbers: Numbers) -> tuple[pl.Series, pl.Series]:
    """A text column as float64 (null or NaN where a cell is missing), and which cells are not numbers."""
    text = column.str.strip_chars()
    missing = text.is_null() | (text == "")
    markers = numbers.text_markers
    if markers:
        missing = missing | text.is_in(markers)
    if numbers.decimal_comma:
        text = text.str.replace(",", ".", literal=True)
    # A text marker does not parse, or parses as NaN: either way it is missing.
    values = text.cast(pl.Float64, strict=False)
    return values, values.is_null() & ~missing


def is_number_type(dtype: pl.DataType) -> bool:
    """Types that are numbers (an all-null column has type Null); any other type is refused when selected."""
    return dtype.is_numeric() or dtype == pl.Null


def to_matrix(
    df: pl.DataFrame,
    columns: Sequence[str],
    first_row: int = 1,
    numbers: Numbers = Numbers(),
    nan: str = "omit",
    inf: str = "keep",
) -> np.ndarray:
    """The selected columns as a float64 array, NaN where a value is missing.

    ``first_row`` is the 1-based number of the batch's first row, for
    messages. ``inf``: ``keep`` infinities, make them ``missing``, or stop
    with an ``error``; ``nan``: ``raise`` stops at the first missing value.
    """
    schema = df.schema
    block = []
    for name in columns:
        dtype, column = schema[name], df.get_column(name)
        if dtype == pl.String:
            column, failed = parse_text(column, numbers)
            if failed.any():
                index = failed.arg_true()[0]
                raise NotNumericError(name, first_row + index, df.get_column(name)[index])
        elif not is_number_type(dtype):
            raise SoftnormError(f"column {name!r} has type {dtype}, not numbers; leave it out of -c")
        block.append(column)
    matrix = pl.DataFrame(block).to_numpy().astype(np.float64, copy=False).reshape(df.height, len(columns))
    if numbers.numeric_markers:
        matrix = np.where(np.isin(matrix, numbers.numeric_markers), np.nan, matrix)
    if inf != "keep":
        infinite = np.isinf(matrix)
        if infinite.any():
            if inf == "error":
                row, col = np.argwhere(infinite)[0]
                raise InfiniteValueError(columns[col], first_row + int(row), float(matrix[row, col]))
            matrix = np.where(infinite, np.nan, matrix)
    if nan == "raise":
        missing = np.isnan(matrix)
        if missing.any():
            row, col = np.argwhere(missing)[0]  # row-major: the first row with a gap
            raise MissingValueError(columns[col], first_row + int(row))
    return matrix


def with_results(
    df: pl.DataFrame,
    columns: Sequence[str],
    results: np.ndarray,
    suffix: str | None = None,
    decimals: int | None = None,
) -> pl.DataFrame:
    """``df`` with the results in place of the selected columns, or appended as ``{col}{suffix}``.

    NaN results become nulls: empty cells in CSV, nulls in Parquet.
    """
    if decimals is not None:
        results = np.round(results, decimals)  # half to even
    names = [f"{name}{suffix}" for name in columns] if suffix else list(columns)
    if suffix:
        present = set(df.columns)
        clash = next((n for n in names if n in present), None)
        if clash:
            raise SoftnormError(f"column {clash!r} already exists; choose another --suffix")
    return df.with_columns(
        pl.Series(name, results[:, i], dtype=pl.Float64, nan_to_null=True) for i, name in enumerate(names)
    )

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
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from softnorm_cli.errors import (
    InfiniteValueError,
    MissingValueError,
    NotNumericError,
    SoftnormError,
)
from softnorm_cli.io.base import NA_VALUES, Dialect
from softnorm_cli.io.delimited.grouping import ungrouped

#: A cell that writes its number as a plain integer (``41``, not ``41.0``; zero-padded ones too).
PLAIN_INTEGER = r"^\s*[+-]?[0-9]+\s*$"


@dataclass(frozen=True)
class Numbers:
    """How text spells numbers and missing values."""

    na_values: tuple[str, ...] = NA_VALUES
    decimal_comma: bool = False
    thousands: str | None = None  # a separator between groups of thousands (--thousands)
    text_markers: list[str] = field(init=False, repr=False, compare=False)
    numeric_markers: list[float] = field(init=False, repr=False, compare=False)

    @classmethod
    def of(cls, dialect: Dialect) -> Numbers:
        """How the text of a table read with ``dialect`` spells them."""
        return cls(dialect.na_values, dialect.decimal_comma, dialect.thousands)

    def __post_init__(self) -> None:
        numeric = [(v, _as_number(v)) for v in self.na_values]
        object.__setattr__(self, "text_markers", [v for v, n in numeric if n is None])
        # Markers that are numbers themselves (-999) match by value, so -999.0 too.
        object.__setattr__(self, "numeric_markers", [n for _, n in numeric if n is not None])


def _as_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return None if np.isnan(value) or "_" in text else value


def plain(text: pl.Expr, numbers: Numbers) -> tuple[pl.Expr, pl.Expr]:
    """Stripped cells without their thousands separators (see :mod:`~softnorm_cli.io.delimited.grouping`),
    and which cells hold a separator badly (null in the first)."""
    text = text.str.strip_chars()
    if numbers.thousands is None:
        return text, pl.lit(False)
    return ungrouped(text, numbers.thousands, numbers.decimal_comma)


def parsed(column: pl.Expr, numbers: Numbers) -> tuple[pl.Expr, pl.Expr]:
    """A text column as float64 (null or NaN where a cell is missing), and which cells are not numbers.

    With decimal commas a point is not a decimal separator: ``1.500`` may
    mean fifteen hundred, so it is refused rather than read as 1.5 (unless
    ``--thousands .`` says that it groups thousands).
    """
    text = column.str.strip_chars()
    missing = text.is_null() | (text == "")
    if numbers.text_markers:
        missing = missing | text.is_in(numbers.text_markers)
    text, malformed = plain(text, numbers)
    if numbers.decimal_comma:
        wrong_point = text.str.contains(".", literal=True)
        text = text.str.replace(",", ".", literal=True)
    # A text marker does not parse, or parses as NaN: either way it is missing.
    values = text.cast(pl.Float64, strict=False)
    failed = values.is_null() | malformed
    if numbers.decimal_comma:
        failed = failed | wrong_point
    return values, failed & ~missing


def is_number_type(dtype: pl.DataType) -> bool:
    """Types that are numbers (an all-null column has type Null); any other type is refused when selected."""
    return dtype.is_numeric() or dtype == pl.Null


def type_name(dtype: pl.DataType) -> str:
    """A type as people say it: ``datetime``, not ``Datetime(time_unit='us', time_zone=None)``."""
    from softnorm_cli.io.jsonvalues import RAW

    if dtype == RAW:
        return "JSON (objects, arrays, or values of several kinds)"
    return dtype.base_type().__name__.lower()


def to_matrix(
    df: pl.DataFrame,
    columns: Sequence[str],
    first_row: int = 1,
    numbers: Numbers = Numbers(),
    nan: str = "omit",
    inf: str = "limit",
) -> np.ndarray:
    """The selected columns as a float64 array (column-major), NaN where a value is missing.

    ``first_row`` is the 1-based number of the batch's first row, for
    messages. ``inf``: keep infinities as values (softmax takes their
    ``limit``), make them ``missing``, or stop with an ``error``; ``nan``:
    ``raise`` stops at the first missing value.
    Text columns are parsed as one long column, so that a table of 100,000
    columns costs about as much as one of its cells times their number.
    """
    selected = df[list(columns)]  # by name, in Rust: a select would plan a query per column
    kind_of: dict[pl.DataType, str] = {}  # a table has few types, however many columns
    kinds: dict[str, list[int]] = {"float": [], "cast": [], "text": []}
    for i, dtype in enumerate(selected.dtypes):
        kind = kind_of.get(dtype)
        if kind is None:
            kind = kind_of[dtype] = "text" if dtype == pl.String else "float" if dtype == pl.Float64 else "cast" if is_number_type(dtype) else ""
        if not kind:
            raise SoftnormError(f"column {columns[i]!r} has type {type_name(dtype)}, not numbers; leave it out of -c")
        kinds[kind].append(i)
    if not columns:
        matrix = np.empty((df.height, 0), order="F")
    elif len(kinds["float"]) == len(columns):
        matrix = selected.to_numpy()  # already numbers: column-major, nulls as NaN
    elif len(kinds["text"]) == len(columns):
        matrix = _parsed_block(selected, list(columns), first_row, numbers)
    else:
        matrix = np.empty((df.height, len(columns)), order="F")
        names = [columns[i] for i in kinds["float"]]
        if names:
            matrix[:, kinds["float"]] = df[names].to_numpy()
        for i in kinds["cast"]:
            matrix[:, i] = df.get_column(columns[i]).cast(pl.Float64).to_numpy()
        if kinds["text"]:
            names = [columns[i] for i in kinds["text"]]
            matrix[:, kinds["text"]] = _parsed_block(df[names], names, first_row, numbers)
    matrix = np.asarray(matrix, dtype=np.float64).reshape(df.height, len(columns))
    # polars may hand over its own buffer, read-only: replace by copying.
    if numbers.numeric_markers:
        matrix = np.where(np.isin(matrix, numbers.numeric_markers), np.nan, matrix)
    if inf != "limit":
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


def _parsed_block(df: pl.DataFrame, names: list[str], first_row: int, numbers: Numbers) -> np.ndarray:
    """The text columns ``names`` (all of ``df``'s) parsed as numbers, as a (rows, columns) array;
    the first cell that is not a number is an error."""
    cells = df.unpivot(value_name="cell").get_column("cell")  # column after column
    values, failed = parsed(pl.col("cell"), numbers)
    out = cells.to_frame().select(values.alias("value"), failed.alias("failed"))
    failures = out.get_column("failed")
    if failures.any():
        at = int(failures.arg_true()[0])
        column, row = divmod(at, df.height)
        raise NotNumericError(names[column], first_row + row, cells[at])
    return out.get_column("value").to_numpy().reshape(len(names), df.height).T


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
    block = _frame(results, names)
    if suffix:
        return pl.concat([df, block], how="horizontal")
    return _replaced(df, block, columns)


def _frame(results: np.ndarray, names: list[str]) -> pl.DataFrame:
    """The results as columns ``names``, NaN as null.

    A batch is one long column cut into the result columns, cheap per
    value; a batch of very few rows and many columns (a wide table) is
    reshaped into them instead, cheap per column.
    """
    height, width = results.shape
    if height < 256 < width:
        values = pl.Series(np.ravel(results, order="C"), dtype=pl.Float64, nan_to_null=True)
        block = values.reshape((height, width)).arr.to_struct().struct.unnest()
        block.columns = names
        return block
    values = pl.Series(np.ravel(results, order="F"), dtype=pl.Float64, nan_to_null=True)
    return pl.DataFrame([values.slice(i * height, height).alias(name) for i, name in enumerate(names)])


def _replaced(df: pl.DataFrame, block: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """``df`` with ``block``'s columns in place of ``columns``: runs of untouched and of result
    columns, each taken by position, put side by side in ``df``'s order."""
    at = {name: j for j, name in enumerate(columns)}
    names = df.columns
    pieces, i = [], 0
    while i < len(names):
        j = at.get(names[i])
        k = i + 1
        if j is None:
            while k < len(names) and names[k] not in at:
                k += 1
            pieces.append(df[names[i:k]])  # by name: by position, polars takes each column in Python
        else:
            while k < len(names) and at.get(names[k]) == j + k - i:
                k += 1
            pieces.append(block[block.columns[j : j + k - i]])
        i = k
    out = pl.concat(pieces, how="horizontal") if len(pieces) > 1 else pieces[0]
    out.columns = names  # the results' names are the columns'; an unnamed first column stays unnamed
    return out

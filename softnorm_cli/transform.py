"""Between tables and arrays: which columns to use, their values, and the results put back."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

import numpy as np
import polars as pl

from softnorm_cli.errors import ColumnNotFoundError, MissingValueError, NotNumericError, SoftnormError

# Integers written with leading zeros (zip codes, ids such as 007) are labels.
_LEADING_ZERO = r"^\s*[+-]?0[0-9]+\s*$"


def select_columns(df: pl.DataFrame, patterns: Sequence[str]) -> list[str]:
    """The columns named by ``patterns`` (names, comma lists or globs), in order, once each.

    Without patterns, every numeric column: numeric by type, or text whose
    non-empty cells all parse as numbers and are not zero-padded integers.
    """
    names = df.columns
    if not patterns:
        return [name for name in names if _looks_numeric(df.get_column(name))]
    chosen: list[str] = []
    # A whole -c value that is a column name wins, so names with commas still work.
    specs = [[spec] if spec in names else [p.strip() for p in spec.split(",")] for spec in patterns]
    for pattern in (p for parts in specs for p in parts):
        if not pattern:
            continue
        if pattern in names:
            matches = [pattern]
        elif any(ch in pattern for ch in "*?["):
            matches = fnmatch.filter(names, pattern)
            if not matches:
                raise SoftnormError(f"no column matches {pattern!r} (columns are: {', '.join(names)})")
        else:
            raise ColumnNotFoundError(pattern, names)
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def _looks_numeric(column: pl.Series) -> bool:
    if column.dtype.is_numeric():
        return True
    if column.dtype != pl.String:
        return False
    text = column.str.strip_chars()
    present = text.filter(text.is_not_null() & (text != ""))
    if present.is_empty():
        return False
    parsed = present.cast(pl.Float64, strict=False)
    return parsed.null_count() == 0 and not present.str.contains(_LEADING_ZERO).any()


def to_matrix(df: pl.DataFrame, columns: Sequence[str], first_row: int = 1, nan: str = "omit") -> np.ndarray:
    """The selected columns as a float64 array, NaN where a value is missing.

    ``first_row`` is the 1-based number of the batch's first data row, for messages.
    """
    block = df.select(_as_float(df, name) for name in columns)
    for name in columns:
        _check_parsed(df.get_column(name), block.get_column(name), first_row)
    matrix = block.to_numpy().astype(np.float64, copy=False).reshape(df.height, len(columns))
    if nan == "raise":
        missing = np.isnan(matrix)
        if missing.any():
            row, col = np.argwhere(missing)[0]  # row-major: the first row with a gap
            raise MissingValueError(columns[col], first_row + int(row))
    return matrix


def _as_float(df: pl.DataFrame, name: str) -> pl.Expr:
    column = pl.col(name)
    if df.schema[name] == pl.String:
        column = column.str.strip_chars()
    return column.cast(pl.Float64, strict=False)


def _check_parsed(raw: pl.Series, parsed: pl.Series, first_row: int) -> None:
    if parsed.null_count() == raw.null_count():
        return
    if raw.dtype != pl.String:
        raise SoftnormError(f"column {raw.name!r} of type {raw.dtype} is not numeric")
    failed = (parsed.is_null() & raw.is_not_null() & (raw.str.strip_chars() != "")).arg_true()
    if failed.len():
        index = failed[0]
        raise NotNumericError(raw.name, first_row + index, raw[index])


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
        clash = next((n for n in names if n in df.columns), None)
        if clash:
            raise SoftnormError(f"column {clash!r} already exists; choose another --suffix")
    return df.with_columns(
        pl.Series(name, results[:, i], dtype=pl.Float64, nan_to_null=True) for i, name in enumerate(names)
    )

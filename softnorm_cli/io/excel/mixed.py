"""Columns of numbers with other cells among them: which cells are missing values, and which make the column text.

fastexcel gives a column one type from all its cells. A column of numbers
with a few cells of another kind comes in one of two ways: typed as numbers,
those cells dropped (it says which: a formula's error, or text it takes for
a missing value, such as ``NA``), or typed as text, the numbers written as
their shortest round-trip text. Either way it is settled here, as CSV
settles a column, looking at the cells that are not numbers:

* a formula's error (``#DIV/0!``) has no value: missing, with a warning;
* an empty or whitespace cell, or a missing-value marker (``NA``, ``n/a``,
  ``--na-values``), is missing, as in CSV;
* any other cell (a word, a boolean, a date) makes the column text, its
  numbers as their text, so that nothing is lost; if most of its cells are
  numbers a warning names the first that is not, and ``-c`` on the column
  stops there with the column, row and value, as CSV does.

The columns in question are read again (the one extra pass over the sheet,
only when a column needs it), with the type that shows their other cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

#: A column left text although at least this share of its cells are numbers is warned about (as CSV's are).
MOSTLY_NUMBERS = 0.5

#: Reads the named columns again with the given fastexcel types: the frame and its cells' errors.
Reload = Callable[[dict[str, str]], tuple[pl.DataFrame, list]]


def settle(
    frame: pl.DataFrame, errors: Sequence, names: Sequence[str], reload: Reload, na_values: Sequence[str], where: str
) -> tuple[pl.DataFrame, list[str]]:
    """``frame`` (fastexcel's, whose columns fastexcel calls ``names``) with its mixed columns settled, and the
    warnings that go with it; ``errors``: the cells fastexcel dropped from ``frame``."""
    dropped = _rows_by_column(errors)
    texts = [
        i for i, (column, dtype) in enumerate(frame.schema.items())
        if dtype == pl.String and i not in dropped and _may_hold_number_cells(frame.get_column(column))
    ]
    if not dropped and not texts:
        return frame, []
    # The dropped cells as text; and text columns as dates, which a number cell is too (its serial) but no text is.
    again, again_errors = reload({names[i]: "string" for i in dropped} | {names[i]: "datetime" for i in texts})
    not_dates = _rows_by_column(again_errors)
    columns, warnings = [], []
    for i in sorted([*dropped, *texts]):
        name = frame.columns[i]
        if i in dropped:
            rows, text, numbers = dropped[i], again.get_column(names[i]), frame.get_column(name)
        else:
            text = frame.get_column(name)
            numbers = _numbers(text, na_values)
            cells = again.get_column(names[i]).is_not_null() & numbers.is_not_null()
            if not cells.any():
                continue  # text throughout, numbers stored as text (zip codes) too: it stays text
            rows = sorted({*not_dates.get(i, []), *(text.is_not_null() & ~cells).arg_true().to_list()})
        verdict = _verdict(text.gather(pl.Series(rows, dtype=pl.Int64)), na_values)
        if verdict.other is not None:
            columns.append(text.alias(name))
            row, value = rows[verdict.other], text[rows[verdict.other]]
            if numbers.count() / max(1, numbers.count() + verdict.others) >= MOSTLY_NUMBERS:
                warnings.append(f"{where}: column {name!r} is read as text: row {row + 1} holds {value!r}, not a number like most of its cells")
            continue
        columns.append(numbers.alias(name))
        if verdict.errors:
            count = len(verdict.errors)
            warnings.append(
                f"{where}: column {name!r} has {count} formula error{'s' if count != 1 else ''} (#DIV/0!, #N/A, ...), "
                f"read as missing values; the first at row {rows[verdict.errors[0]] + 1}"
            )
    return frame.with_columns(columns), warnings


@dataclass
class _Verdict:
    """Of a column's cells that are not plain numbers: the formula errors, and the first of the others (and their count)."""

    errors: list[int]
    other: int | None
    others: int


def _verdict(cells: pl.Series, na_values: Sequence[str]) -> _Verdict:
    missing = _missing(cells, na_values)
    numbers = cells.str.strip_chars().cast(pl.Float64, strict=False).is_not_null()
    other = (cells.is_not_null() & ~missing & ~numbers).to_list()
    errors = cells.is_null().arg_true().to_list()
    return _Verdict(errors, other.index(True) if any(other) else None, sum(other))


#: How fastexcel writes a number cell in a column of text: no sign but minus, no leading or
#: trailing zero, no exponent (``123``, ``-3``, ``0.0000001``). Text that is not so (``007``,
#: ``1.50``, ``1e3``) is a text cell, and a column of nothing else needs no second read.
_NUMBER_CELL = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$"


def _may_hold_number_cells(text: pl.Series) -> bool:
    """Whether a column read as text may hold number cells (written as their text), to be read again to tell."""
    return bool(text.str.contains(_NUMBER_CELL).any())


def _numbers(text: pl.Series, na_values: Sequence[str]) -> pl.Series:
    """A text column's cells as numbers: missing where blank or a marker, or not a number."""
    values = text.str.strip_chars().cast(pl.Float64, strict=False)
    return pl.Series(text.name, values).set(_missing(text, na_values), None)


def _missing(cells: pl.Series, na_values: Sequence[str]) -> pl.Series:
    stripped = cells.str.strip_chars()
    return ((stripped == "") | stripped.is_in(list(na_values))).fill_null(False)


def _rows_by_column(errors: Sequence) -> dict[int, list[int]]:
    """The data rows (0-based) of the cells in ``errors``, by the position of their column."""
    rows: dict[int, list[int]] = {}
    for error in errors:
        row, column = error.offset_position
        rows.setdefault(column, []).append(row)
    return rows

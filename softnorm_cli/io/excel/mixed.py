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

import polars as pl

#: A column left text although at least this share of its cells are numbers is warned about (as CSV's are).
MOSTLY_NUMBERS = 0.5

#: Reads the named columns again with the given fastexcel types: the frame and its cells' errors.
Reload = Callable[[dict[str, str]], tuple[pl.DataFrame, list]]


def settle(
    frame: pl.DataFrame, errors: Sequence, names: Sequence[str], reload: Reload, na_values: Sequence[str], where: str
) -> tuple[pl.DataFrame, list[str]]:
    """``frame`` (fastexcel's, named ``names`` by fastexcel) with its mixed columns settled, and the warnings that go with it.

    ``errors``: the cells fastexcel dropped from ``frame``.
    """
    dropped = _rows_by_column(errors)
    schema = frame.schema
    numeric_text = [
        i for i, (column, dtype) in enumerate(schema.items())
        if dtype == pl.String and i not in dropped and _has_numbers(frame.get_column(column))
    ]
    if not dropped and not numeric_text:
        return frame, []
    types = {names[i]: "string" for i in dropped} | {names[i]: "float" for i in numeric_text}
    again, again_errors = reload(types)
    not_numbers = _rows_by_column(again_errors)
    markers = list(na_values)
    columns, warnings = [], []
    for i in sorted([*dropped, *numeric_text]):
        name = frame.columns[i]
        if i in dropped:  # the text of the cells fastexcel dropped
            rows = dropped[i]
            text, numbers = again.get_column(names[i]), frame.get_column(name)
        else:  # the cells of a text column that are not numbers
            rows = not_numbers.get(i, [])
            text, numbers = frame.get_column(name), again.get_column(names[i])
        cells = text.gather(pl.Series(rows, dtype=pl.Int64))
        stripped = cells.str.strip_chars()
        other = (cells.is_not_null() & (stripped != "") & ~stripped.is_in(markers)).to_list()
        if any(other):
            first = other.index(True)
            columns.append(text.alias(name))
            if numbers.count() / max(1, numbers.count() + sum(other)) >= MOSTLY_NUMBERS:
                warnings.append(
                    f"{where}: column {name!r} is read as text: row {rows[first] + 1} holds {cells[first]!r}, "
                    "not a number like most of its cells"
                )
            continue
        columns.append(numbers.alias(name))
        errors_at = [row for row, cell in zip(rows, cells.to_list()) if cell is None]
        if errors_at:
            count = len(errors_at)
            warnings.append(
                f"{where}: column {name!r} has {count} formula error{'s' if count != 1 else ''} (#DIV/0!, #N/A, ...), "
                f"read as missing values; the first at row {errors_at[0] + 1}"
            )
    return frame.with_columns(columns), warnings


def _rows_by_column(errors: Sequence) -> dict[int, list[int]]:
    """The data rows (0-based) of the cells in ``errors``, by the position of their column."""
    rows: dict[int, list[int]] = {}
    for error in errors:
        row, column = error.offset_position
        rows.setdefault(column, []).append(row)
    return rows


def _has_numbers(column: pl.Series) -> bool:
    return column.str.strip_chars().cast(pl.Float64, strict=False).is_not_null().any()

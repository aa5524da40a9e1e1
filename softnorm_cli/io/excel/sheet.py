"""One sheet of a workbook as a polars frame, with fastexcel: which sheet, its header, and its columns' types.

calamine types every cell (number, text, boolean, date, duration, error),
and fastexcel gives each column the type of its cells, looking at all of
them; a column of numbers with other cells among them is settled by
:mod:`~softnorm_cli.io.excel.mixed`. Then, as a Parquet file would have them:

* numbers that are all whole (and within 2**53) are Int64, so identifiers,
  codes, and ``--inverse`` giving back integers are judged as for integer
  columns elsewhere;
* dates and times at midnight only are dates, times on Excel's day 0 times of day; a
  column without values is Null.

Rows in messages are counted from the first row under the header, as in CSV
and Parquet (the spreadsheet's row number is that plus the rows above).
``--skip-rows N`` puts the header on the sheet's row N + 1; without it the
header is the first row that holds anything.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

import polars as pl

from softnorm_cli.errors import MalformedInputError, SoftnormError
from softnorm_cli.io.base import Dialect
from softnorm_cli.io.excel.book import header_options, open_book, readable, sheet_index
from softnorm_cli.io.excel.mixed import settle

#: Integers up to this magnitude are exact in a double, which is what a workbook stores.
EXACT = 2**53


@dataclass
class Sheet:
    """A sheet read whole: its name, its table, and what reading it found that may surprise."""

    name: str
    frame: pl.DataFrame
    warnings: list[str] = field(default_factory=list)


def load(path: str, name: str, dialect: Dialect) -> Sheet:
    """The sheet ``dialect.sheet`` (default: the first) of the workbook at ``path``, called ``name`` in messages."""
    book = open_book(path, name)
    with readable(name):
        index = sheet_index(book.sheet_names, dialect.sheet, name)
        sheet_name = book.sheet_names[index]
        where = f"{name} [{sheet_name}]"
        # Every cell decides its column's type (schema_sample_rows=None): the sheet is loaded whole anyway.
        options = {**header_options(dialect), "schema_sample_rows": None}
        sheet = book.load_sheet(index, **options)
        table, errors = sheet.to_arrow_with_errors()
        frame = pl.from_arrow(table)
        if frame.width == 0:
            if dialect.skip_rows:
                raise SoftnormError(f"{where}: --skip-rows {dialect.skip_rows} skips past the end of the sheet")
            raise SoftnormError(f"{where}: the sheet is empty")
        found = list(frame.columns)  # fastexcel's names, by which columns are read again
        frame.columns = _names(sheet, book, index, dialect, where)

        def reload(types: dict[str, str]) -> tuple[pl.DataFrame, list]:
            table, errors = book.load_sheet(index, **options, use_columns=list(types), dtypes=types).to_arrow_with_errors()
            return pl.from_arrow(table), [] if errors is None else errors.errors

        frame, warnings = settle(frame, [] if errors is None else errors.errors, found, reload, dialect.na_values, where)
    return Sheet(sheet_name, typed(frame), warnings)


def typed(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with whole numbers as Int64, dates at midnight as dates, and columns without values as Null."""
    schema = frame.schema
    floats = [name for name, dtype in schema.items() if dtype == pl.Float64]
    stamps = [name for name, dtype in schema.items() if isinstance(dtype, pl.Datetime)]
    checks = [((pl.col(n) == pl.col(n).round()) & (pl.col(n).abs() <= EXACT)).all().alias(n) for n in floats]
    checks += [(pl.col(n) == pl.col(n).dt.truncate("1d")).all().alias(n) for n in stamps]
    # A time of day is a date and time on day 0 of Excel's calendar, 1899-12-31 (LibreOffice's 1899-12-30).
    checks += [(pl.col(n) < datetime.datetime(1900, 1, 1)).all().alias(f"\1{n}") for n in stamps]
    checks += [pl.col(n).is_null().all().alias(f"\0{n}") for n in frame.columns]  # a prefix no column has
    if not frame.height:
        return frame
    verdicts = frame.select(checks).row(0, named=True)
    casts = []
    for name, dtype in schema.items():
        if verdicts[f"\0{name}"]:
            casts.append(pl.lit(None, dtype=pl.Null).alias(name))
        elif verdicts.get(name):
            casts.append(pl.col(name).cast(pl.Int64 if dtype == pl.Float64 else pl.Date))
        elif verdicts.get(f"\1{name}"):
            casts.append(pl.col(name).dt.time())
    return frame.with_columns(casts) if casts else frame


def _names(sheet, book, index: int, dialect: Dialect, where: str) -> list[str]:
    """The columns' names: the header's cells (an empty one names its column ""), or 1, 2, 3, ... as CSV has them."""
    columns = sheet.available_columns()
    if not dialect.header:
        return [str(i) for i in range(1, len(columns) + 1)]
    names = ["" if c.column_name_from == "generated" else c.name for c in columns]
    if len(names) > 1 and names[0] and not any(names[1:]):
        header = _header_below_title(book, index)
        if header is not None:  # a title above the header, not a header of one name
            raise SoftnormError(
                f"{where}: the header row holds only {names[0]!r}; if the rows above the header are a title, "
                f"skip them with --skip-rows {header}"
            )
    cells = names
    present = set(names)
    if any(m and m.group(1) in present for m in map(_RENAMED.fullmatch, names)):
        # fastexcel renames a repeated name ("a", "a_1"): only then is the header row read as it is, to tell.
        header = book.load_sheet(index, header_row=None, skip_rows=dialect.skip_rows or None, n_rows=1, dtypes="string")
        cells = ["" if cell is None else cell for cell in header.to_polars().row(0)]
    seen: set[str] = set()
    for cell in cells:
        if cell in seen:
            raise MalformedInputError(f"{where}: column name {cell!r} appears more than once in the header")
        seen.add(cell)
    return names


def _header_below_title(book, index: int) -> int | None:
    """The 0-based row of the sheet's first row of more than one cell, near its top (the error path only)."""
    top = book.load_sheet(index, header_row=None, skip_rows=0, n_rows=TITLE_ROWS, dtypes="string").to_polars()
    filled = top.select(pl.sum_horizontal(pl.all().is_not_null())).to_series()
    return next((i for i, count in enumerate(filled) if count > 1), None)


#: Rows at the top of a sheet looked through for its header below a title.
TITLE_ROWS = 20
#: How fastexcel renames the second "a" of a header.
_RENAMED = re.compile(r"(.*)_[0-9]+")

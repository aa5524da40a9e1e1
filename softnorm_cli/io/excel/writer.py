"""Writing one xlsx worksheet with xlsxwriter, row by row as the batches come, and joining a dataset's xlsx parts.

xlsxwriter's constant_memory mode writes each row to a temporary file as
the next begins, so memory holds a row, not the sheet; the workbook is a
zip made when it closes, from that file, and then copied to the output
stream (which may be a pipe, or compressed). Numbers are numbers, text is
text (never a formula or a link, whatever it starts with), booleans are
booleans, dates and times carry a format Excel shows them with, and nulls
are empty cells. Excel's bounds are errors, not truncations.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator

import polars as pl

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io.base import Layout
from softnorm_cli.io.excel.sheet import EXACT

#: What one worksheet holds, the header's row included.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
#: The characters of text one cell holds.
MAX_TEXT = 32_767
#: The sheet's name when the input's cannot be one (Excel allows 31 characters, without []:*?/\).
DEFAULT_SHEET = "softnorm"
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_FORMATS = {
    pl.Date: "yyyy-mm-dd",
    pl.Datetime: "yyyy-mm-dd hh:mm:ss",
    pl.Time: "hh:mm:ss",
    pl.Duration: "[h]:mm:ss",
}
_BEYOND = "write CSV or Parquet instead (--to)"


def write_table(batches: Iterator[pl.DataFrame], schema: pl.Schema, stream, layout: Layout) -> None:
    """The batches as the one worksheet of an xlsx workbook, under the header's row (if any)."""
    import xlsxwriter

    if len(schema) > MAX_COLUMNS:
        raise SoftnormError(f"the table has {len(schema):,} columns, and an Excel worksheet holds {MAX_COLUMNS:,}; {_BEYOND}")
    # The workbook and xlsxwriter's file of rows, in a directory of their own that goes whatever happens.
    scratch = tempfile.mkdtemp(prefix="softnorm-xlsx-")
    path = os.path.join(scratch, "book.xlsx")
    try:
        book = xlsxwriter.Workbook(path, {
            "constant_memory": True,
            "tmpdir": scratch,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,  # NaN as #NUM!, infinities as #DIV/0!: Excel has no such numbers
            "remove_timezone": True,  # Excel's dates have no zone: the clock time is kept
        })
        sheet = book.add_worksheet(_sheet_name(layout.sheet))
        formats = {dtype: book.add_format({"num_format": spec}) for dtype, spec in _FORMATS.items()}
        row = 0
        if layout.header:
            for column, name in enumerate(schema.names()):
                if name:
                    sheet.write_string(0, column, name)
            row = 1
        for frame in batches:
            if row + frame.height > MAX_ROWS:
                raise SoftnormError(
                    f"the table has more than {MAX_ROWS - layout.header:,} rows, and an Excel worksheet holds "
                    f"{MAX_ROWS:,} with its header; {_BEYOND}"
                )
            _write_rows(sheet, frame, row, row - layout.header + 1, formats)
            row += frame.height
        try:
            book.close()
        except xlsxwriter.exceptions.XlsxWriterException as e:
            raise SoftnormError(f"cannot write the workbook: {e}") from e
        with open(path, "rb") as workbook:
            shutil.copyfileobj(workbook, stream, 1 << 20)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def join_parts(parts: list[tuple[str, str]], stream, layout: Layout) -> None:
    """A dataset's xlsx parts as one worksheet: each part read back in turn (a part is one input part's rows)."""
    from softnorm_cli.io.base import Dialect
    from softnorm_cli.io.excel.sheet import load
    from softnorm_cli.io.parts_schema import other_columns

    dialect = Dialect(header=layout.header)
    first = load(parts[0][0], parts[0][1], dialect).frame if parts else pl.DataFrame()

    def frames() -> Iterator[pl.DataFrame]:
        yield first
        for path, source in parts[1:]:
            frame = load(path, source, dialect).frame
            if frame.columns != first.columns:
                raise other_columns(source, parts[0][1])
            yield frame

    write_table(frames(), first.schema, stream, layout)


def _write_rows(sheet, frame: pl.DataFrame, start: int, first_row: int, formats: dict) -> None:
    """The rows of ``frame`` from the sheet's row ``start`` on (0-based), row by row (constant_memory takes
    them in order); ``first_row`` is the 1-based number of the first under the header, for messages."""
    writers = []
    columns = []
    for name, series in frame.to_dict().items():
        write, values = _column_writer(sheet, name, series, formats, first_row - start)
        writers.append(write)
        columns.append(values)
    for offset, cells in enumerate(zip(*columns)):
        row = start + offset
        for column, (write, value) in enumerate(zip(writers, cells)):
            if value is not None:
                write(row, column, value)


def _column_writer(sheet, name: str, series: pl.Series, formats: dict, row_shift: int):
    """How to write the cells of a column, and its values as Python objects (None: an empty cell);
    ``row_shift`` turns a row of the sheet into the row of the table, for messages."""
    dtype = series.dtype
    if dtype == pl.Null:
        return None, [None] * series.len()
    if dtype == pl.Boolean:
        return sheet.write_boolean, series.to_list()
    if dtype.is_integer():
        # Integers a double holds exactly are numbers; larger ones (ids) text, which keeps their digits.
        large = (series.abs() > EXACT).fill_null(False)
        if large.any():
            return _text_writer(sheet, name, row_shift), series.cast(pl.String).to_list()
        return sheet.write_number, series.to_list()
    if dtype.is_numeric():
        return sheet.write_number, [None if v is None else _Exact(v) for v in series.cast(pl.Float64).to_list()]
    base = dtype.base_type()
    if base in _FORMATS:
        number_format = formats[base]
        return lambda row, column, value: sheet.write_datetime(row, column, value, number_format), series.to_list()
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return _text_writer(sheet, name, row_shift), series.cast(pl.String).replace("", None).to_list()
    raise SoftnormError(f"column {name!r} has type {base.__name__.lower()}, which a worksheet cell cannot hold; write Parquet or JSON (--to)")


def _text_writer(sheet, name: str, row_shift: int):
    def write(row: int, column: int, text: str) -> None:
        if sheet.write_string(row, column, text) == -2:
            raise SoftnormError(
                f"column {name!r}, row {row + row_shift}: {len(text):,} characters of text, and an Excel cell holds {MAX_TEXT:,}"
            )

    return write


class _Exact(float):
    """A float written with the digits that give it back: xlsxwriter writes 16 significant digits,
    one short of what some doubles need (0.30000000000000004); Excel itself writes 17."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        text = repr(float(self)).upper()
        return text[:-2] if text.endswith(".0") else text


def _sheet_name(name: str | None) -> str:
    if not name or len(name) > 31 or _NOT_IN_SHEET_NAMES.search(name) or name.startswith("'") or name.endswith("'"):
        return DEFAULT_SHEET
    return name

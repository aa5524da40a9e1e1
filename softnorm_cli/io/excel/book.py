"""Opening a workbook with fastexcel and finding the sheet asked for; without a table library,
so that shell completion can tell a sheet's column names cheaply."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from softnorm_cli.errors import MalformedInputError, SoftnormError
from softnorm_cli.io.base import Dialect


@contextmanager
def readable(name: str):
    """fastexcel's errors about the workbook ``name`` as one line each."""
    import fastexcel

    try:
        yield
    except fastexcel.FastExcelError as e:
        raise MalformedInputError(f"{name}: not a readable workbook ({_first_line(e)})") from e


def open_book(path: str, name: str):
    """The workbook at ``path`` (a fastexcel reader)."""
    import fastexcel

    # fastexcel logs a note on each column it cannot type (an empty one): stderr is for softnorm's own lines.
    logging.getLogger("fastexcel").setLevel(logging.ERROR)
    with readable(name):
        return fastexcel.read_excel(path)


def sheet_index(names: list[str], wanted: str | int | None, name: str) -> int:
    """The 0-based index of the sheet ``wanted`` (a name, or a 1-based number), or an error listing the sheets."""
    listed = ", ".join(repr(n) for n in names)
    if not names:
        raise MalformedInputError(f"{name}: the workbook has no sheets")
    if wanted is None:
        return 0
    if isinstance(wanted, int):
        if wanted <= len(names):
            return wanted - 1
        if str(wanted) in names:  # a sheet named "2024"
            return names.index(str(wanted))
        count = f"{len(names)} sheet{'s' if len(names) != 1 else ''}"
        raise SoftnormError(f"{name}: no sheet {wanted} (it has {count}: {listed})")
    if wanted in names:
        return names.index(wanted)
    raise SoftnormError(f"{name}: no sheet {wanted!r} (its sheets: {listed})")


def header_options(dialect: Dialect) -> dict:
    """fastexcel's options for where the header is: on the sheet's row ``skip_rows`` + 1, else on its first row that holds anything."""
    options: dict = {"header_row": dialect.skip_rows if dialect.header else None}
    if not dialect.header and dialect.skip_rows:
        options["skip_rows"] = dialect.skip_rows
    return options


def column_names(path: str, dialect: Dialect = Dialect()) -> list[str]:
    """The column names of the sheet ``dialect`` asks for (an empty header cell names its column "")."""
    book = open_book(path, path)
    with readable(path):
        index = sheet_index(book.sheet_names, dialect.sheet, path)
        columns = book.load_sheet(index, **header_options(dialect), n_rows=1).available_columns()
    if not dialect.header:
        return [str(i) for i in range(1, len(columns) + 1)]
    return ["" if c.column_name_from == "generated" else c.name for c in columns]


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].removeprefix("calamine error: ") if lines else type(error).__name__

"""Workbooks: a sheet of xlsx, xlsm, xlsb, xls or ods read with fastexcel (calamine), and xlsx written with xlsxwriter.

``book`` (opening a workbook, choosing its sheet) loads no table library, for
shell completion; the reader and the writer load polars, and fastexcel and
xlsxwriter load only when a workbook is read or written.
"""

from __future__ import annotations

__all__ = ["ExcelReader", "join_parts", "write_table"]


def __getattr__(name: str):
    # The reader and the writer are loaded when asked for: importing the package for ``book`` loads neither.
    if name == "ExcelReader":
        from softnorm_cli.io.excel.reader import ExcelReader

        return ExcelReader
    if name in ("join_parts", "write_table"):
        from softnorm_cli.io.excel import writer

        return getattr(writer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Workbooks: reading a sheet of xlsx, xlsm, xls or ods, and writing xlsx. (To be built.)"""

from __future__ import annotations

from softnorm_cli.errors import SoftnormError


class ExcelReader:
    def __init__(self, path: str, name: str, dialect, batch, temporary: bool = False) -> None:
        raise SoftnormError(f"{name}: reading workbooks is not built yet")


def write_table(batches, schema, stream, layout) -> None:
    raise SoftnormError("writing workbooks is not built yet")


def join_parts(parts, stream, layout) -> None:
    raise SoftnormError("joining workbook parts is not built yet")

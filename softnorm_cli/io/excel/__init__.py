"""Workbooks: a sheet of xlsx, xlsm, xlsb, xls or ods read with fastexcel (calamine), and xlsx written with xlsxwriter.

fastexcel and xlsxwriter load only when a workbook is read or written.
"""

from softnorm_cli.io.excel.reader import ExcelReader
from softnorm_cli.io.excel.writer import join_parts, write_table

__all__ = ["ExcelReader", "join_parts", "write_table"]

"""Reading one sheet of a workbook, in batches like any other table.

calamine reads a sheet whole (its cells, then one Arrow table: there is no
streaming a zip of XML by rows), so the sheet is loaded once, when the
reader opens, and handed out in slices of about a batch's bytes: what
follows is the one path every table takes. Measured: a sheet of 200,000
rows by 10 columns of floats (26 MB of xlsx) loads in 0.7 s, at a peak of
about 190 MB above the process's own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import polars as pl

from softnorm_cli.io.base import Batch, BatchSize, Closing, Dialect
from softnorm_cli.io.excel.sheet import load

#: Rows of the sheet that selection looks at, as for Parquet.
SAMPLE_ROWS = 10_000


class ExcelReader(Closing):
    """A sheet of a workbook (standard input is copied to a ``temporary`` file first: a zip is read by its directory)."""

    format = "excel"
    delimiter = None
    typed = True  # cells come with their types
    metadata: dict[str, str] = {}

    def __init__(self, path: str, name: str, dialect: Dialect, batch: BatchSize, temporary: bool = False):
        self.batch = batch
        self._path = path
        self._temporary = temporary
        try:
            sheet = load(path, name, dialect)
        finally:
            self.close()  # the sheet is in memory now: a copy of standard input is not needed
        self.sheet = sheet.name
        self.name = f"{name} [{sheet.name}]"
        self.warnings = sheet.warnings
        self._frame = sheet.frame
        self.columns = list(self._frame.columns)
        # pandas' to_excel() writes its row labels as a first column without a name, as its to_csv() does.
        self.labels = {""} if dialect.header and self.columns[:1] == [""] else set()
        self.position: tuple[int, int | None, str] = (0, self._frame.height, "rows")

    def close(self) -> None:
        if self._temporary and os.path.exists(self._path):
            os.unlink(self._path)
            self._temporary = False

    def sample(self) -> pl.DataFrame:
        return self._frame.head(SAMPLE_ROWS)

    def size_in_memory(self, numeric: Sequence[str] = ()) -> int:
        return self._frame.estimated_size()

    def batches(self, numeric: Sequence[str] = (), needed: Sequence[str] | None = None, replay: bool = False) -> Iterator[Batch]:
        """The sheet in slices of about a batch's bytes (cells come typed: ``numeric`` changes nothing; the
        sheet is in memory, so it can be read again as it is)."""
        frame = self._frame if needed is None else self._frame.select(needed)
        rows = self.batch.rows or _rows_per_batch(frame, self.batch.bytes)
        height = frame.height
        for offset in range(0, max(height, 1), rows):  # a sheet of a header alone is one empty batch
            yield Batch(frame.slice(offset, rows), offset + 1)
            self.position = (min(offset + rows, height), height, "rows")


def _rows_per_batch(frame: pl.DataFrame, size: int) -> int:
    """Rows in about ``size`` bytes of ``frame``: a power of two, so that batches line up with
    the fixed chunks statistics are reduced over (as Parquet's do)."""
    width = max(1, frame.estimated_size() // max(1, frame.height))
    return 1 << max(10, (size // width).bit_length() - 1)

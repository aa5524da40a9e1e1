"""What every reader offers, and the types a read is described by.

A reader is a table from one input, read in :class:`Batch` es as often as
asked (see :class:`Reader`). It checks what it reads: a problem in the input
is a :class:`~softnorm_cli.errors.SoftnormError` that names where it is, not
something for the caller to look for.

Kept free of polars at import: the command line takes :data:`STDIO` and the
defaults from here before any table library loads.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import polars as pl

#: A path that means standard input or output.
STDIO = "-"

#: Bytes of input per batch: large enough that per-batch costs vanish, small
#: enough that a batch, its numbers and its output fit well under 300 MB.
DEFAULT_BATCH_BYTES = 8 << 20

#: Cells that mean "no value", as pandas users know them.
NA_VALUES = ("NA", "N/A", "n/a", "NaN", "nan", "-nan", "NULL", "null", "None", "<NA>", "#N/A")


@dataclass(frozen=True)
class Dialect:
    """How a delimited text is laid out and spells its numbers (a workbook: which sheet); Parquet needs none of it."""

    delimiter: str | None = None  # None: tab for TSV, else sniffed
    header: bool = True
    encoding: str | None = None  # None: UTF-8, or what a byte-order mark declares
    decimal_comma: bool = False
    skip_rows: int = 0
    na_values: tuple[str, ...] = NA_VALUES  # besides the empty cell, always missing
    thousands: str | None = None  # a thousands separator within numbers (1.234,50)
    sheet: str | int | None = None  # a workbook's sheet, by name or 1-based number; None: the first


@dataclass(frozen=True)
class Layout:
    """How the output is written: its format, and the conventions of the formats that have them."""

    format: str = "csv"
    delimiter: str = ","  # of CSV and TSV
    header: bool = True
    decimal_comma: bool = False
    metadata: dict[str, str] = field(default_factory=dict)  # Parquet's and Arrow's key-value metadata to keep
    compression: str = "snappy"  # of Parquet output; of Arrow's buffers if zstd or lz4
    line_terminator: str = "\n"  # of text output
    encoding: str = "utf-8"  # of text output
    thousands: str | None = None  # a thousands separator written within numbers, when asked for
    stream: bool = False  # Arrow IPC: the stream format (standard output, .arrows), not the file format
    sheet: str | None = None  # the name of a workbook's worksheet (the input's sheet, when it was one)


@dataclass(frozen=True)
class BatchSize:
    """How much to read at a time: bytes of input, and at most ``rows`` rows if given."""

    bytes: int = DEFAULT_BATCH_BYTES
    rows: int | None = None


@dataclass
class Batch:
    """Consecutive rows of a table; ``first_row`` is the 1-based number of the first."""

    frame: pl.DataFrame
    first_row: int


class Reader(Protocol):
    """A table from one input.

    * ``name`` (for messages), ``format`` (``csv``, ``tsv``, ``parquet``, or
      ``memory``), ``columns``; ``typed``: whether columns come with their
      types (Parquet) or are text to be parsed (CSV); ``labels``: columns
      holding row labels (an index); ``metadata``: a Parquet file's
      key-value metadata; ``delimiter``: a text table's; ``warnings``: what
      reading found that may surprise (one line each; read after reading);
    * ``position``: ``(done, total or None, "bytes" or "rows")``, for progress;
    * ``first_row``: the rows of its file before this reader's first, for a
      partition of a file (0 for a whole one); its batches' rows are
      numbered in the file;
    * :meth:`sample`, :meth:`batches`, :meth:`size_in_memory`, :meth:`close`.
    """

    name: str
    format: str
    columns: list[str]
    typed: bool
    labels: set[str]
    metadata: dict[str, str]
    delimiter: str | None
    warnings: Sequence[str]
    position: tuple[int, int | None, str]
    first_row: int

    def sample(self) -> pl.DataFrame:
        """The first rows, enough to see the columns and choose among them."""
        ...

    def batches(
        self, numeric: Sequence[str] = (), needed: Sequence[str] | None = None, replay: bool = False
    ) -> Iterator[Batch]:
        """The whole table, checked, in batches, read anew at each call.

        ``numeric`` columns are parsed as float64 where the format leaves
        that to the reader (a cell that is not a number leaves its column
        text, for the caller to report); ``needed``: the caller uses only
        these columns, so a reader may leave out the others where that
        checks no less; ``replay``: another read follows, so input that can
        be read only once (a pipe) is copied aside as it is read.
        """
        ...

    def size_in_memory(self, numeric: Sequence[str] = ()) -> int | None:
        """The parsed size of the whole table, with ``numeric`` columns as numbers, if it can be told beforehand."""
        ...

    def close(self) -> None:
        """Remove whatever the reader put aside (a copy of standard input)."""
        ...


class Closing:
    """A reader as a context manager: leaving the ``with`` block closes it."""

    first_row = 0  # of a whole file

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass

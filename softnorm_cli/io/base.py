"""What every reader offers, and the types a read is described by.

Every reader offers the same small interface:

* ``name`` (for messages), ``format`` (``csv``, ``tsv`` or ``parquet``),
  ``columns`` and ``schema`` (CSV columns are text), ``metadata`` (a
  Parquet file's key-value metadata), ``delimiter`` (CSV);
* ``sample()``: the first rows, to choose columns;
* ``batches(numeric, only, replay, keep)``: the table as :class:`Batch` es,
  ``numeric`` columns parsed as float64 where the format leaves that to the
  reader, only the ``only`` columns if given; ``replay`` asks that the input
  can be read again afterwards (standard input is copied aside), ``keep``
  (a byte budget) that the batches be held in memory for the next read;
* ``position``: ``(done, total or None, "bytes" or "rows")``, for progress;
  ``size_in_memory(numeric)``: the parsed size, with ``numeric`` columns as numbers, if it can be told beforehand;
* ``close()``: remove whatever the reader put aside.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    """How a delimited text is laid out and spells its numbers; Parquet needs none of it."""

    delimiter: str | None = None  # None: tab for TSV, else sniffed
    header: bool = True
    encoding: str | None = None  # None: UTF-8, or what a byte-order mark declares
    decimal_comma: bool = False
    skip_rows: int = 0
    na_values: tuple[str, ...] = NA_VALUES  # besides the empty cell, always missing


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


class ReadAgain(Exception):
    """A tentative read met something its fast way does not check: what it passed on
    must be dropped, and the table read again (the careful way, this time)."""


class Reader:
    """What the readers share: holding the batches of one read for the next.

    A reader reads its input anew for each call of :meth:`batches` (standard
    input from the copy a first pass made with ``replay``). With ``keep``, a
    byte budget, the batches of this read are held while their parsed size
    stays within it, and the next read with the same request gets them from
    memory: a table that fits is parsed once for both passes.
    """

    _kept: tuple[tuple, list[Batch]] | None = None

    @property
    def kept(self) -> bool:
        return self._kept is not None

    def batches(
        self,
        numeric: Sequence[str] = (),
        only: Sequence[str] | None = None,
        replay: bool = False,
        keep: int = 0,
        tentative: bool = False,
    ) -> Iterator[Batch]:
        """The table in batches (see the module's docstring).

        ``tentative``: the caller can start over (it only gathers statistics),
        so the reader may try a faster way that can raise :class:`ReadAgain`.
        """
        request = (tuple(numeric), None if only is None else tuple(only))
        if self._kept is not None and self._kept[0] == request:
            held = self._kept[1]
            if not keep:
                self._kept = None
            yield from held
            return
        held, size = ([] if keep else None), 0
        for batch in self._batches(numeric, only, replay or bool(keep), tentative):
            if held is not None:
                size += batch.frame.estimated_size()
                # Larger than estimated, or the process near its memory bound: read again.
                held = held if size <= keep and resident_bytes() <= RESIDENT_LIMIT else None
                if held is not None:
                    held.append(batch)
            yield batch
        if keep:
            self._kept = None if held is None else (request, held)

    def _batches(
        self, numeric: Sequence[str], only: Sequence[str] | None, replay: bool, tentative: bool = False
    ) -> Iterator[Batch]:
        raise NotImplementedError


#: Batches are kept for the next read only while the whole process stays
#: below this: what a run needs besides them (libraries, buffers, text passed
#: through) varies with the table, so it is measured, not estimated.
RESIDENT_LIMIT = 256 << 20


def resident_bytes() -> int:
    """The process's resident memory now (0 where the system does not tell)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0



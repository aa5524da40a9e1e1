"""What a fit keeps for applying to the same source, under the memory bound.

A job that fits and then applies reads its source twice. A text table that
is sure to fit is parsed once instead: the fit keeps its batches and the
apply reads them from memory. The group codes of the rows are kept too, up
to a bound of their own, since finding a row's group costs more than
keeping it. Parquet is never kept: reading it again costs less than holding
it, and the fit reads only the chosen columns.

The bounds keep the whole process under 300 MB: a streaming run takes up to
about 200 MiB itself (libraries, buffers, the writer).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from softnorm_cli.io.base import Batch, Reader

#: Parsed batches up to this size are kept from the fit for the apply.
KEEP_BYTES = 100 << 20
#: Batches are kept only while the whole process stays below this: what a run
#: needs besides them (libraries, buffers, text passed through) varies with
#: the table, so it is measured, not estimated.
RESIDENT_LIMIT = 256 << 20
#: The group codes of the rows, up to this size (16M rows of 2-byte codes).
KEEP_CODES_BYTES = 32 << 20


class Kept:
    """The batches and group codes of one fit, for the apply that follows it on the same source.

    :meth:`recording` passes a read's batches through and holds them while
    they fit; :attr:`batches` is what was held, or None when the read went
    past the bound (the apply then reads the source again).
    """

    def __init__(self, budget: int, codes_budget: int | None = None):
        codes_budget = KEEP_CODES_BYTES if codes_budget is None else codes_budget
        self._budget = budget
        self._held: list[Batch] | None = [] if budget else None
        self._size = 0
        self._codes: list[np.ndarray] | None = [] if codes_budget else None
        self._codes_size = 0
        self._codes_budget = codes_budget

    @classmethod
    def for_source(cls, source: Reader, numeric: Sequence[str], batches: bool = True) -> Kept:
        """What to keep of ``source``: its batches (if ``batches``) only when their parsed size is
        known to fit (a larger table would hold KEEP_BYTES in vain before it is read again)."""
        size = None if source.typed or not batches else source.size_in_memory(numeric)
        return cls(KEEP_BYTES if size is not None and size <= KEEP_BYTES else 0)

    @property
    def holds_batches(self) -> bool:
        """Whether this read's batches are being held (so far)."""
        return self._held is not None

    def recording(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        for batch in batches:
            if self._held is not None:
                self._size += batch.frame.estimated_size()
                # Larger than estimated, or the process near its memory bound: read again.
                if self._size <= self._budget and resident_bytes() <= RESIDENT_LIMIT:
                    self._held.append(batch)
                else:
                    self._held = None
            yield batch

    @property
    def batches(self) -> list[Batch] | None:
        return self._held

    def add_codes(self, codes: np.ndarray) -> None:
        if self._codes is None:
            return
        part = codes.astype(np.uint16 if not len(codes) or codes.max() < 1 << 16 else np.int32)
        self._codes_size += part.nbytes
        if self._codes_size <= self._codes_budget:
            self._codes.append(part)
        else:
            self._codes = None

    @property
    def codes(self) -> np.ndarray | None:
        """The group code of every row of the fit, in order, or None if they went past their bound."""
        if self._codes is None:
            return None
        return np.concatenate(self._codes) if self._codes else np.empty(0, np.uint16)


def resident_bytes() -> int:
    """The process's resident memory now (0 where the system does not tell)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0


#: The values a fit on percentiles keeps in memory for its further reads, before they go to a temporary file.
VALUES_BYTES = 32 << 20
#: The most the temporary file holds; a larger fit reads its source again instead.
SPILL_BYTES = 4 << 30


class KeptValues:
    """The selected columns' values (and the rows' group codes) of a fit's first read, for the further reads of
    its percentiles: a text table is parsed once, not once a pass.

    Held in memory up to :data:`VALUES_BYTES`, then written, as raw float64, to
    a temporary file that goes when the fit ends; past :data:`SPILL_BYTES` it
    gives up (:attr:`complete` is False) and the source is read again. A
    context manager: leaving it removes the file.
    """

    def __init__(self, memory: int | None = None, spill: int | None = None):
        self._memory = VALUES_BYTES if memory is None else memory
        self._spill = SPILL_BYTES if spill is None else spill
        self._chunks: list[tuple[np.ndarray, np.ndarray | None]] = []  # in memory, or shapes and codes once spilled
        self._file = None
        self._size = 0
        self.complete = True

    def __enter__(self) -> KeptValues:
        return self

    def __exit__(self, *exc) -> None:
        if self._file is not None:
            self._file.close()
        self._chunks = []

    def add(self, values: np.ndarray, codes: np.ndarray | None = None) -> None:
        if not self.complete:
            return
        self._size += values.nbytes + (0 if codes is None else codes.nbytes)
        if self._size > self._spill:
            self.give_up()
            return
        if self._file is None and self._size > self._memory:
            import tempfile

            self._file = tempfile.TemporaryFile(prefix="softnorm-values-")
            held, self._chunks = self._chunks, []
            for block, block_codes in held:
                self._write(block, block_codes)
        if self._file is None:
            self._chunks.append((values, codes))
        else:
            self._write(values, codes)

    def give_up(self) -> None:
        """Keep nothing more, and drop what was kept: the source will be read again."""
        self.complete, self._chunks = False, []
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, values: np.ndarray, codes: np.ndarray | None) -> None:
        # Column after column (the transposed block's rows), as the passes read them.
        np.ascontiguousarray(values.T).tofile(self._file)
        self._chunks.append((np.array(values.shape), codes))

    def blocks(self, columns: list[int] | None = None) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Each block of values, as added, with its codes; ``columns``: only these are read back from the
        file (the others are left unset)."""
        if self._file is None:
            yield from self._chunks
            return
        self._file.seek(0)
        position = 0
        for shape, codes in self._chunks:
            rows, width = (int(n) for n in shape)
            block = np.empty((width, rows))
            for c in range(width) if columns is None else columns:
                self._file.seek(position + c * rows * 8)
                block[c] = np.fromfile(self._file, dtype=np.float64, count=rows)
            position += rows * width * 8
            yield block.T, codes

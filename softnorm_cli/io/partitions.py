"""One large file as many partitions, each read alone: by any process, in any order.

A Parquet file is split by its row groups, grouped to about the partition
size of decoded data; a plain CSV or TSV file by byte ranges of about that
size, cut at record boundaries (:mod:`~softnorm_cli.io.delimited.cuts`).
Every partition starts at a row that is a multiple of :data:`ALIGN_ROWS`, so
that it holds whole chunks of the statistics' reduction and the figures are
those of the file read whole, to the last bit. A partition is read with the
file's own reader, limited to its rows (Parquet) or bytes (text): the same
dialect, checks and messages, with rows and lines numbered in the file.

Text that cannot be read from the middle (compressed, in another encoding,
standard input) and the formats that are not split stay one partition,
with the reason kept for the summary.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from softnorm_cli.io import sniff
from softnorm_cli.io.row_groups import row_group_sizes

#: Partitions start at multiples of this row: a multiple of the reduction's chunk rows.
ALIGN_ROWS = 1 << 16


@dataclass(frozen=True)
class Partition:
    """Rows of one part of a dataset: ``start .. stop`` (rows of Parquet, bytes of text; None: the whole part).

    ``first_row``: the part's rows before it; ``first_line``: the text line it
    starts on; ``names`` and ``delimiter``: the text's header and delimiter,
    which a partition after the first does not hold.
    """

    part: int
    start: int | None = None
    stop: int | None = None
    first_row: int = 0
    first_line: int = 1
    names: tuple[str, ...] | None = None
    delimiter: str | None = None

    @property
    def whole(self) -> bool:
        return self.start is None and self.stop is None


def holds_partitions(path: str, size: int, joined_as: str | None) -> bool:
    """Whether one local file holds two partitions of ``size`` or more: worth the start of workers for
    (a file of one partition and a bit would gain little).

    ``joined_as``: the format of the one file the partitions' output is joined into ("" for the input's;
    None when they are not joined). A Parquet file joined into one Parquet file is not worth it: its
    row groups would be decoded and encoded again, on one core, which costs more than the workers save.
    """
    with open(path, "rb") as f:
        parquet = sniff.is_parquet(f.read(4))
    if not parquet:
        return os.path.getsize(path) >= 2 * size
    if joined_as in ("", "parquet"):
        return False
    try:
        sizes = row_group_sizes(path)
    except (OSError, ValueError):
        return False  # its reader says what is wrong with it
    return len(sizes) > 1 and sum(sizes) >= 2 * size


def whole_parts(count: int) -> tuple[Partition, ...]:
    return tuple(Partition(i) for i in range(count))


def split(paths: Sequence[str], opened: Callable, size: int, run: Callable[[Callable, list], list]) -> tuple[list[Partition], list[str]]:
    """The partitions of the parts at ``paths``, and why any large part is read whole.

    ``opened(part)`` gives the reader of a part (a context manager), opened
    only for a large text; ``run(fn, items)`` gives ``[fn(item) for item in
    items]``, perhaps in parallel: the text's ranges are looked at that way.
    """
    found: list[Partition] = []
    reasons: list[str] = []
    for part, path in enumerate(paths):
        with open(path, "rb") as f:
            parquet = sniff.is_parquet(f.read(4))
        if parquet:
            found.extend(_parquet(part, path, size))
        elif os.path.getsize(path) <= size:
            found.append(Partition(part))
        else:
            with opened(part) as reader:
                found.extend(_text_partitions(part, reader, size, run, reasons))
    return found, reasons


def _text_partitions(part: int, reader, size: int, run, reasons: list[str]) -> list[Partition]:
    if reader.format not in ("csv", "tsv"):
        return [Partition(part)]
    text = reader.text
    if text.splittable:
        return _text(part, reader, size, run)
    why = "compressed" if text.codec else f"in {text.encoding}"
    reasons.append(f"{reader.name} is read whole ({why}: it cannot be read from the middle)")
    return [Partition(part)]


def _parquet(part: int, path: str, size: int) -> list[Partition]:
    """Row groups, grouped to about ``size`` bytes decoded; each partition starts at an aligned row."""
    try:
        if sum(row_group_sizes(path)) <= size:
            return [Partition(part)]
    except (OSError, ValueError):
        return [Partition(part)]  # its reader says what is wrong with it
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    starts, bytes_since, row = [0], 0, 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        if bytes_since >= size:
            cut = row - row % ALIGN_ROWS
            if cut > starts[-1]:
                starts.append(cut)
                bytes_since = 0
        bytes_since += group.total_byte_size
        row += group.num_rows
    if len(starts) == 1:
        return [Partition(part)]
    stops = [*starts[1:], row]
    return [Partition(part, a, b, first_row=a) for a, b in zip(starts, stops)]


def _text(part: int, reader, size: int, run) -> list[Partition]:
    from softnorm_cli.io.delimited.cuts import cuts

    text = reader.text
    start, end = text.data_start, text.size
    bounds = list(range(start, end, size)) + [end]
    look = partial(_scan, text.path, keep=2 * ALIGN_ROWS + 64, blank_is_row=len(reader.columns) == 1)
    scans = run(look, list(zip(bounds[:-1], bounds[1:])))
    found = cuts(scans, ALIGN_ROWS, reader.dialect.header, text.first_line)
    if not found:
        return [Partition(part)]
    names, delimiter = tuple(reader.columns), reader.delimiter
    partitions = [Partition(part, None, found[0].byte)]  # from the start: the byte-order mark, skipped lines, header
    for cut, stop in zip(found, [c.byte for c in found[1:]] + [end]):
        partitions.append(Partition(part, cut.byte, stop, cut.row, cut.line, names, delimiter))
    return partitions


def _scan(path: str, bounds: tuple[int, int], keep: int, blank_is_row: bool):
    from softnorm_cli.io.delimited.cuts import scan

    return scan(path, bounds[0], bounds[1], keep, blank_is_row)

"""Parquet: reading in batches of rows, and writing row groups of one file, with polars."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import polars as pl

from softnorm_cli.errors import MalformedInputError
from softnorm_cli.io.base import Batch, BatchSize, Closing, Layout
from softnorm_cli.io.prefetch import prefetched
from softnorm_cli.io.row_groups import row_group_sizes


class ParquetReader(Closing):
    """A Parquet file (standard input is copied to a ``temporary`` file first: Parquet's index is at its end)."""

    format = "parquet"
    delimiter = None
    typed = True  # columns come with their types
    warnings: tuple[str, ...] = ()

    def __init__(self, path: str, name: str, batch: BatchSize, temporary: bool = False, rows: tuple[int, int] | None = None):
        # ``rows``: a partition of the file, its rows ``start .. stop``.
        self.name = name
        self.batch = batch
        self._path = path
        self._temporary = temporary
        self._rows = rows
        self.first_row = 0 if rows is None else rows[0]
        try:
            self._scan = pl.scan_parquet(path, low_memory=True, glob=False)  # a name with [ ] * ? is a file, not a pattern
            if rows is not None:
                self._scan = self._scan.slice(rows[0], rows[1] - rows[0])  # polars reads only the row groups it needs
            self.schema = self._scan.collect_schema()
            self.metadata = pl.read_parquet_metadata(path)
        except pl.exceptions.PolarsError as e:
            self.close()
            raise MalformedInputError(f"{name}: not a readable Parquet file ({first_line(e)})") from e
        except BaseException:
            self.close()
            raise
        self.columns = list(self.schema.names())
        self._row_groups_large: bool | None = None
        self.labels = pandas_index(self.metadata)
        self.position: tuple[int, int | None, str] = (0, None, "rows")
        self._sample: pl.DataFrame | None = None

    def close(self) -> None:
        if self._temporary and os.path.exists(self._path):
            os.unlink(self._path)
            self._temporary = False

    def sample(self) -> pl.DataFrame:
        """The first rows, enough to see the columns and their types."""
        if self._sample is None:
            try:
                # A query of its own: a batched read started only for its first batch costs several times more.
                self._sample = self._scan.head(10_000).collect()
            except pl.exceptions.PolarsError as e:
                raise MalformedInputError(f"{self.name}: not a readable Parquet file ({first_line(e)})") from e
        return self._sample

    def size_in_memory(self, numeric: Sequence[str] = ()) -> int:
        return self._scan.select(pl.len()).collect().item() * row_width(self.schema)

    def batches(
        self,
        numeric: Sequence[str] = (),
        needed: Sequence[str] | None = None,
        replay: bool = False,
    ) -> Iterator[Batch]:
        """The table in batches of rows, only the ``needed`` columns if given (Parquet
        columns come typed: ``numeric`` changes nothing; a file can be read again as it is)."""
        scan = self._scan if needed is None else self._scan.select(needed)
        try:
            total = scan.select(pl.len()).collect().item()
            rows = self.batch.rows
            if rows is None:
                # Rows per batch from the width of a row in memory, halved:
                # polars' Parquet scan and sink each buffer about a batch more
                # (measured at 5M rows: 8 MB batches peak near 320 MiB, 4 MB
                # near 270 MiB); a power of two, so that batches line up with
                # the fixed chunks statistics are reduced over.
                rows = 1 << max(10, (self.batch.bytes // (2 * row_width(scan.collect_schema()))).bit_length() - 1)
            done = 0
            # pyarrow decodes pages without the GIL: the next batch is decoded while this one is used.
            frames = prefetched(self._paged(needed, rows)) if self._large_row_groups() else scan.collect_batches(chunk_size=rows)
            for frame in frames:
                yield Batch(frame, self.first_row + done + 1)
                done += frame.height
                self.position = (done, total, "rows")
            if total == 0:
                yield Batch(scan.head(0).collect(), 1)
        except pl.exceptions.PolarsError as e:
            raise MalformedInputError(f"{self.name}: not a readable Parquet file ({first_line(e)})") from e

    def _large_row_groups(self) -> bool:
        """Whether a row group would take more than LARGE_ROW_GROUP bytes decoded (pyarrow and
        pandas write 1,048,576 rows a group); files too small to hold one are not opened to see."""
        if self._row_groups_large is None:
            self._row_groups_large = os.path.getsize(self._path) > LARGE_ROW_GROUP and any(
                size > LARGE_ROW_GROUP for size in self._row_group_sizes()
            )
        return self._row_groups_large

    def _row_group_sizes(self) -> list[int]:
        if self._rows is None:
            return row_group_sizes(self._path)
        # A partition is of a large file, whose footer pyarrow parses in C++ in a few milliseconds:
        # the footer of a thousand row groups takes the reader of row_groups a third of a second, each partition.
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(self._path).metadata
        return [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]

    def _paged(self, needed: Sequence[str] | None, rows: int) -> Iterator[pl.DataFrame]:
        """Batches read page by page, one column chunk's pages at a time, without threads:
        polars decodes a whole row group at once, and several of 1,048,576 rows go past
        any memory bound."""
        import pyarrow.parquet as pq

        reader = pq.ParquetFile(self._path, pre_buffer=False, buffer_size=1 << 20)
        columns = None if needed is None else list(needed)
        if self._rows is None:
            for batch in reader.iter_batches(batch_size=rows, columns=columns, use_threads=False):
                yield pl.from_arrow(batch)
            return
        # A partition: the row groups that hold its rows, less what lies outside it.
        start, stop = self._rows
        meta, at, groups = reader.metadata, 0, []
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            if at < stop and at + n > start:
                if not groups:
                    first = at
                groups.append(i)
            at += n
        if not groups:
            return
        at = first
        for batch in reader.iter_batches(batch_size=rows, row_groups=groups, columns=columns, use_threads=False):
            lo, hi = max(start - at, 0), min(stop - at, batch.num_rows)
            at += batch.num_rows
            if hi > lo:
                yield pl.from_arrow(batch.slice(lo, hi - lo))


#: A row group larger than this, decoded, is read page by page.
LARGE_ROW_GROUP = 32 << 20


def pandas_index(metadata: dict[str, str]) -> set[str]:
    """The columns that hold a pandas index: pandas names them in its schema metadata."""
    import json

    try:
        index = json.loads(metadata["pandas"])["index_columns"]
    except (KeyError, TypeError, ValueError):
        return set()
    # A RangeIndex is stored as a description, not a column.
    return {name for name in index if isinstance(name, str)}


def row_width(schema: pl.Schema) -> int:
    return max(1, sum(_DTYPE_BYTES.get(dtype, 16) for dtype in schema.dtypes()))


# Bytes per value of fixed-width types; text and nested types count as 16.
_DTYPE_BYTES = {pl.Float64: 8, pl.Int64: 8, pl.UInt64: 8, pl.Float32: 4, pl.Int32: 4, pl.UInt32: 4, pl.Boolean: 1}


def first_line(error: Exception) -> str:
    """The first line of a library's error, for a message of one line."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


#: Output compression: snappy is the default of pyarrow, pandas, Spark and DuckDB,
#: and writes about twice as fast as zstd for about 15% more bytes of floats.
COMPRESSIONS = ("snappy", "zstd", "lz4", "gzip", "brotli", "uncompressed")
DEFAULT_COMPRESSION = "snappy"


def write_table(batches: Iterator[pl.DataFrame], schema: pl.Schema, stream, layout: Layout) -> None:
    """The batches as one Parquet file, with the input's key-value metadata but its stored Arrow schema."""
    metadata = {k: v for k, v in layout.metadata.items() if k != "ARROW:schema"}
    sink_parquet(batches, schema, stream, metadata, layout.compression)


def sink_parquet(
    batches: Iterator[pl.DataFrame],
    schema: pl.Schema,
    stream,
    metadata: dict[str, str] | None,
    compression: str = DEFAULT_COMPRESSION,
) -> None:
    """Write ``batches`` as the row groups of one Parquet file on ``stream``, with key-value ``metadata``.

    Parquet has no appending: polars' streaming sink pulls the batches as
    they come and writes each as it arrives.
    """
    from polars.io.plugins import register_io_source

    def source(with_columns, predicate, n_rows, batch_size) -> Iterator[pl.DataFrame]:
        yield from batches

    arrow_schema = None
    if metadata:
        # Readers such as pandas take their metadata from the stored Arrow
        # schema (pandas: its index and dtypes), not from the file's key-value pairs.
        arrow_schema = pl.DataFrame(schema=schema).to_arrow().schema.with_metadata(metadata)
    register_io_source(source, schema=schema).sink_parquet(stream, compression=compression, arrow_schema=arrow_schema)

"""Reading Arrow IPC, a file or a stream, by record batch (see :mod:`softnorm_cli.io.arrow`)."""

from __future__ import annotations

import base64
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from functools import partial

import polars as pl
import pyarrow as pa

from softnorm_cli.errors import MalformedInputError, SoftnormError
from softnorm_cli.io.base import Batch, BatchSize, Closing
from softnorm_cli.io.parquet import first_line, pandas_index, row_width
from softnorm_cli.io.prefetch import prefetched

#: The metadata key under which Parquet (and softnorm, between Arrow input and output) keeps an Arrow schema.
SCHEMA_KEY = "ARROW:schema"
#: Rows in the sample: enough to see the columns and their types.
SAMPLE_ROWS = 10_000
ERRORS = (pa.ArrowException, OSError, pl.exceptions.PolarsError)


class ArrowReader(Closing):
    """An Arrow IPC file or stream (``kind``), at a path (``codec``: compressed with it) or on
    standard input (a :class:`~softnorm_cli.io.streams.Peekable` at its start)."""

    format = "arrow"
    delimiter = None
    typed = True  # columns come with their types
    warnings: tuple[str, ...] = ()

    def __init__(self, source, kind: str, name: str, batch: BatchSize, codec: str | None = None, temporary: bool = False):
        self.name = name
        self.kind = kind
        self.batch = batch
        self._path = source if isinstance(source, str) else None
        self._codec = codec
        self._temporary = temporary  # the path is a copy, removed on closing
        self._live: _Copied | None = None  # standard input, until a pass has read it
        self._copy: str | None = None  # standard input copied aside, for later passes
        self._reader = None  # standard input's, opened once
        self._pending: list[pa.RecordBatch] = []  # standard input's batches read for the sample
        self._sample: pl.DataFrame | None = None
        try:
            if self._path is None:
                self._live = _Copied(source)
            reader = self._check(self._open)
            schema = self._arrow_schema = reader.schema
            self.schema = _polars_schema(schema, name)
            self._total = None
            if kind == "file":
                self._total = self._check(lambda: sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches)))
            if self._live is not None:  # the sample is read now: the first pass goes on from it
                self._reader, self._pending = reader, self._check(lambda: _first_batches(reader))
                self.sample()
        except BaseException:
            self.close()
            raise
        self.columns = list(schema.names)
        self.metadata = {k.decode("utf-8", "replace"): v.decode("utf-8", "replace") for k, v in (schema.metadata or {}).items()}
        # What Parquet stores and Arrow output restores: the types the columns were read with.
        self.metadata[SCHEMA_KEY] = base64.b64encode(schema.remove_metadata().serialize()).decode("ascii")
        self.labels = pandas_index(self.metadata)
        self.position: tuple[int, int | None, str] = (0, self._total, "rows")

    def close(self) -> None:
        for path in (self._path if self._temporary else None, self._copy):
            if path is not None and os.path.exists(path):
                os.unlink(path)
        self._temporary, self._copy = False, None
        if self._live is not None:
            self._live.discard()

    def sample(self) -> pl.DataFrame:
        """The first rows, enough to see the columns and their types."""
        if self._sample is None:
            batches = self._pending if self._path is None else self._check(lambda: _first_batches(self._open()))
            table = pa.Table.from_batches(batches, self._arrow_schema).slice(0, SAMPLE_ROWS)
            self._sample = self._check(lambda: pl.from_arrow(table))
        return self._sample

    def size_in_memory(self, numeric: Sequence[str] = ()) -> int | None:
        return None if self._total is None else self._total * row_width(self.schema)

    def batches(self, numeric: Sequence[str] = (), needed: Sequence[str] | None = None, replay: bool = False) -> Iterator[Batch]:
        """The table in batches, only the ``needed`` columns if given (Arrow columns come
        typed: ``numeric`` changes nothing); ``replay`` copies standard input aside."""
        done = 0
        for table in prefetched(self._tables(needed, replay)):
            frame = self._check(partial(pl.from_arrow, table))
            yield Batch(frame, done + 1)
            done += frame.height
            self.position = (done, self._total, "rows")
        if done == 0:
            empty = _empty(self._arrow_schema)
            yield Batch(pl.from_arrow(empty if needed is None else empty.select(list(needed))), 1)

    def _tables(self, needed: Sequence[str] | None, replay: bool) -> Iterator[pa.Table]:
        live, first = self._live, self._pending
        reader = self._reader if live is not None else self._check(self._open)
        self._live, self._reader, self._pending = None, None, []
        if live is not None:
            live.copy_to(self._spool() if replay else None)
        try:
            for table in self._check_all(_rebatched(record_batches(reader, first), self._arrow_schema, self.batch)):
                yield table if needed is None else table.select(list(needed))
            if live is not None:
                self._copy = live.finish()
        finally:
            if live is not None:
                live.discard()

    def _open(self):
        """A pyarrow reader of the input from its start (standard input: the only one)."""
        if self._live is not None:
            # pyarrow takes a short read for the end of the input: a buffered reader reads whole messages.
            source = io.BufferedReader(self._live, 1 << 16)
        elif self._path is None and self._copy is None:
            raise SoftnormError(f"{self.name}: standard input was read already")  # a bug: replay copies it
        elif self._copy is not None or self._codec is None:
            source = pa.memory_map(self._copy or self._path)
        else:
            source = pa.input_stream(self._path, compression=self._codec)
        return pa.ipc.open_file(source) if self.kind == "file" else pa.ipc.open_stream(source)

    def _spool(self):
        fd, path = tempfile.mkstemp(prefix="softnorm-", suffix=".spool")
        return os.fdopen(fd, "wb"), path

    def _check(self, read):
        try:
            return read()
        except ERRORS as e:
            raise self._unreadable(e) from e

    def _check_all(self, items: Iterator):
        try:
            yield from items
        except ERRORS as e:
            raise self._unreadable(e) from e

    def _unreadable(self, error: Exception) -> MalformedInputError:
        what = "file" if self.kind == "file" else "stream"
        return MalformedInputError(f"{self.name}: not a readable Arrow IPC {what}, cut short or damaged ({first_line(error)})")


class _Copied(io.RawIOBase):
    """Standard input as pyarrow reads it, every byte kept: in memory until the first pass
    says whether to copy it aside, then in the copy, or nowhere."""

    def __init__(self, raw):
        self._raw = raw
        self._kept: bytearray | None = bytearray()
        self._copy = None
        self._copy_path: str | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, view) -> int:
        n = self._raw.readinto(view)
        if self._kept is not None:
            self._kept += view[:n]
        elif self._copy is not None:
            self._copy.write(view[:n])
        return n

    def copy_to(self, spool) -> None:
        """Copy from here on into ``spool`` (a file and its path), the bytes read so far first; None: keep nothing."""
        if spool is not None:
            self._copy, self._copy_path = spool
            self._copy.write(self._kept)
        self._kept = None

    def finish(self) -> str | None:
        """The path of the complete copy, if one was made."""
        if self._copy is not None:
            self._copy.write(self._raw.read())  # what follows the end-of-stream marker: the copy is the whole input
        path, self._copy_path = self._copy_path, None
        self.discard()
        return path

    def discard(self) -> None:
        self._kept = None
        if self._copy is not None:
            self._copy.close()
            self._copy = None
        if self._copy_path is not None and os.path.exists(self._copy_path):
            os.unlink(self._copy_path)
        self._copy_path = None


def _first_batches(reader) -> list[pa.RecordBatch]:
    """Record batches from the start until SAMPLE_ROWS rows (or the end)."""
    batches, rows = [], 0
    for batch in record_batches(reader, []):
        batches.append(batch)
        rows += batch.num_rows
        if rows >= SAMPLE_ROWS:
            break
    return batches


def record_batches(reader, first: list[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``first`` (already read from ``reader``), then the rest of ``reader``'s record batches."""
    yield from first
    if isinstance(reader, pa.ipc.RecordBatchFileReader):
        for i in range(reader.num_record_batches):
            yield reader.get_batch(i)
        return
    while True:
        try:
            yield reader.read_next_batch()
        except StopIteration:
            return


def _rebatched(batches: Iterator[pa.RecordBatch], schema: pa.Schema, size: BatchSize) -> Iterator[pa.Table]:
    """Record batches joined or cut into tables of about ``size`` (slices: nothing is copied)."""
    pending: list[pa.RecordBatch] = []
    rows, target = 0, size.rows
    for batch in batches:
        if batch.num_rows == 0:
            continue
        if target is None:
            # A power of two, as Parquet's: batches line up with the fixed chunks statistics are reduced over.
            width = max(1, batch.nbytes // batch.num_rows)
            target = 1 << max(10, (size.bytes // width).bit_length() - 1)
        pending.append(batch)
        rows += batch.num_rows
        while rows >= target:
            table = pa.Table.from_batches(pending, schema)
            yield table.slice(0, target)
            rest = table.slice(target)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield pa.Table.from_batches(pending, schema)


def _empty(schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` without rows (``Schema.empty_table`` would import pandas, a sixth of a second)."""
    return pa.Table.from_batches([], schema)


def polars_type(field: pa.Field):
    """The polars type of a column of Arrow type ``field.type``; None if polars holds no such column."""
    if pa.types.is_interval(field.type):
        return None  # polars panics on it
    try:
        return pl.from_arrow(_empty(pa.schema([field]))).schema[field.name]
    except ERRORS:
        return None


def _polars_schema(schema: pa.Schema, name: str) -> pl.Schema:
    """The polars schema of an Arrow one, or an error naming the first column polars cannot hold."""
    seen = set()
    for field in schema:
        if field.name in seen:
            raise MalformedInputError(f"{name}: column name {field.name!r} appears more than once in the schema")
        seen.add(field.name)
    if not any(pa.types.is_interval(field.type) for field in schema):
        try:
            return pl.from_arrow(_empty(schema)).schema  # every column at once; one by one only to find the culprit
        except ERRORS:
            pass
    for field in schema:
        if polars_type(field) is None:
            raise MalformedInputError(f"{name}: column {field.name!r} is of Arrow type {field.type}, which softnorm does not read")
    # Every column alone is readable, but not all of them together.
    raise MalformedInputError(f"{name}: its schema is not one softnorm reads ({schema})")



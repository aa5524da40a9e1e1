"""Reading and writing tables: CSV, TSV and Parquet, files or standard streams.

Tables travel as polars DataFrames, one batch at a time, so memory stays
bounded whatever the input size. CSV is read in large blocks of bytes, each
cut after its last complete record, and parsed by polars; the columns being
normalized are parsed as numbers, every other field as text, so a column
softnorm does not transform is written back exactly as it came.
"""

from __future__ import annotations

import functools
import io
import os
import queue
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from softnorm_cli.csvblocks import StdinStream, blocks, more_within, record_end
from softnorm_cli.errors import MalformedInputError, SoftnormError

FORMATS = ("csv", "tsv", "parquet")
STDIO = "-"
PARQUET_MAGIC = b"PAR1"
#: Bytes of input per batch: large enough that per-batch costs vanish, small
#: enough that a batch, its numbers and its output fit well under 300 MB.
DEFAULT_BATCH_BYTES = 8 << 20
#: How much of the input is looked at to choose the numeric columns.
SAMPLE_BYTES = 1 << 20

_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}
# Compressed inputs pyarrow recognises by their extension.
_COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4", ".br": "brotli"}


def format_from_path(path: str) -> str | None:
    """The format a file name implies (``data.csv.gz`` is CSV), or None."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in _COMPRESSIONS:
        suffixes.pop()
    return _EXTENSIONS.get(suffixes[-1]) if suffixes else None


def _compression(path: str) -> str | None:
    return _COMPRESSIONS.get(Path(path).suffix.lower())


@dataclass(frozen=True)
class Dialect:
    """How a delimited file is laid out; Parquet ignores it."""

    delimiter: str | None = None
    header: bool = True

    def separator(self, fmt: str) -> str:
        return self.delimiter or ("\t" if fmt == "tsv" else ",")


@dataclass(frozen=True)
class BatchSize:
    """How much to read at a time: bytes of input, and at most ``rows`` rows if given."""

    bytes: int = DEFAULT_BATCH_BYTES
    rows: int | None = None


class Source:
    """A table to read: a file, or standard input when the path is ``-``.

    :meth:`frames` yields the table batch by batch and may be called again
    for a second pass; standard input cannot be read twice, so a first pass
    with ``replay=True`` copies it to a temporary file (deleted by
    :meth:`close`, also after an error or Ctrl-C).
    """

    def __init__(self, path: str, fmt: str | None = None, dialect: Dialect = Dialect(), batch: BatchSize = BatchSize()):
        self.path = path
        self.dialect = dialect
        self.batch = batch
        if path != STDIO:
            if os.path.isdir(path):
                raise SoftnormError(f"{path}: is a directory")
            if not os.path.exists(path):
                raise SoftnormError(f"{path}: no such file")
        self._head = b""  # bytes of stdin already read, to sniff and sample
        self._stdin_done = False
        self._spool: str | None = None  # a complete copy of stdin
        self._spool_partial: str | None = None  # one being written
        self._position = (0, None, "bytes")  # done, total, unit: for progress
        self.format = fmt or self._sniff_format()
        self._separator = dialect.separator(self.format)
        self._names: list[str] | None = None
        self._sample: pl.DataFrame | None = None

    # -- life cycle -----------------------------------------------------------

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for path in (self._spool, self._spool_partial):
            if path is not None and os.path.exists(path):
                os.unlink(path)
        self._spool = self._spool_partial = None

    @property
    def name(self) -> str:
        return "standard input" if self.path == STDIO else self.path

    def size_in_memory(self) -> int | None:
        """About how many bytes the whole table takes once parsed, if that can be known before reading it."""
        if self.path == STDIO:
            return None
        if self.format == "parquet":
            scan = pl.scan_parquet(self.path)
            return scan.select(pl.len()).collect().item() * _row_width(scan)
        # Parsed CSV takes about 0.8 times its text (numbers as float64, text
        # as polars string views); compressed text is of unknown size.
        return None if _compression(self.path) else os.path.getsize(self.path) * 4 // 5

    @property
    def position(self) -> tuple[int, int | None, str]:
        """How far reading has come: ``(done, total or None, "bytes" or "rows")``."""
        return self._position

    # -- reading --------------------------------------------------------------

    def _peek(self, n: int) -> bytes:
        """The first ``n`` bytes (fewer if the input is shorter), without consuming stdin."""
        if self._spool is None and self.path == STDIO:
            # Stop early when a pipe pauses after a complete record: a slow,
            # endless pipe must not wait for a megabyte before its first row.
            while len(self._head) < n and not self._stdin_done:
                chunk = sys.stdin.buffer.read1(n - len(self._head))
                self._stdin_done = not chunk
                self._head += chunk
                if b"\n" in chunk and not more_within(sys.stdin.buffer, 0.1):
                    break
            return self._head[:n]
        with self._open() as stream:
            return stream.read(n)

    def _open(self) -> BinaryIO:
        """A binary stream of the whole input, decompressed."""
        if self._spool is not None:
            return open(self._spool, "rb")
        if self.path == STDIO:
            return StdinStream(self._head, self._stdin_done)
        raw = open(self.path, "rb")
        if _compression(self.path):
            import pyarrow as pa

            return _CountingStream(pa.CompressedInputStream(raw, _compression(self.path)), raw)
        return raw

    def _sniff_format(self) -> str:
        if self.path != STDIO and format_from_path(self.path):
            return format_from_path(self.path)
        return "parquet" if self._peek(4) == PARQUET_MAGIC else "csv"

    def _spool_stdin(self) -> None:
        """Copy all of standard input to a temporary file: Parquet keeps its index at the end."""
        fd, self._spool_partial = tempfile.mkstemp(prefix="softnorm-", suffix=".spool")
        with os.fdopen(fd, "wb") as out, self._open() as stream:
            shutil.copyfileobj(stream, out, 1 << 20)
        self._spool, self._spool_partial = self._spool_partial, None

    def columns(self) -> list[str]:
        """The column names."""
        if self._names is None:
            self._names = self.sample().columns
        return self._names

    def sample(self) -> pl.DataFrame:
        """The first rows (about a megabyte), with every CSV field as text: enough to choose columns."""
        if self._sample is None:
            self._sample = self._read_sample()
        return self._sample

    def _read_sample(self) -> pl.DataFrame:
        if self.format == "parquet":
            return next(self._parquet_frames(rows=10_000), None)
        head = self._peek(SAMPLE_BYTES)
        if not head:
            raise SoftnormError(f"{self.name}: input is empty")
        if len(head) == SAMPLE_BYTES:
            end = record_end(head, len(head))
            head = head[:end] if end > 0 else head
        return self._parse(head, first=True, numeric=(), line=1)

    def frames(
        self, numeric: Sequence[str] = (), replay: bool = False, only: Sequence[str] | None = None
    ) -> Iterator[pl.DataFrame]:
        """The table in batches; ``numeric`` columns of a CSV are parsed as float64.

        A CSV block in which a ``numeric`` column does not parse is returned
        with that column as text, for the caller to report or convert.
        ``replay`` makes standard input readable again afterwards. ``only``
        reads just those columns, for a pass that needs no other.
        """
        if self.format == "parquet":
            frames = self._parquet_frames(self.batch.rows, only)
        else:
            names = self.columns()
            positions = None if only is None else [names.index(name) for name in only]
            frames = self._csv_frames(set(numeric), replay and self.path == STDIO and self._spool is None, positions)
        rows = self.batch.rows
        for frame in frames:
            if rows is None or frame.height <= rows:
                yield frame
            else:
                yield from frame.iter_slices(rows)

    def _csv_frames(self, numeric: set[str], spool: bool, positions: list[int] | None) -> Iterator[pl.DataFrame]:
        total = None if self.path == STDIO and self._spool is None else os.path.getsize(self._spool or self.path)
        first, line, rows = True, 1, 0
        copy = None
        if spool:
            # Standard input is copied aside while it is read, for the second pass.
            fd, path = tempfile.mkstemp(prefix="softnorm-", suffix=".spool")
            copy, self._spool_partial = os.fdopen(fd, "wb"), path
        try:
            with self._open() as stream:
                for block in blocks(stream, self.batch.bytes):
                    if copy is not None:
                        copy.write(block)
                    frame = self._parse(block, first, numeric, line, positions)
                    # Without quotes every record is one line: no need to count them.
                    lines = block.count(b"\n") if b'"' in block else frame.height + (first and self.dialect.header)
                    first, line, rows = False, line + lines, rows + frame.height
                    self._position = (rows, None, "rows") if total is None else (_tell(stream), total, "bytes")
                    yield frame
            if copy is not None:
                copy.close()
                self._spool, self._spool_partial = self._spool_partial, None
        finally:
            if copy is not None and not copy.closed:
                copy.close()
        if first:
            raise SoftnormError(f"{self.name}: input is empty")

    def _parse(
        self, block: bytes, first: bool, numeric: Sequence[str], line: int, positions: list[int] | None = None
    ) -> pl.DataFrame:
        """Parse one block of whole records; ``line`` is the file line it starts on.

        ``positions`` limits the result to the columns at those positions.
        """
        header = first and self.dialect.header
        names = self._names
        schema = None
        if names is not None:
            schema = {n: (pl.Float64 if n in numeric else pl.String) for n in names}
        try:
            try:
                df = pl.read_csv(
                    block, has_header=header, separator=self._separator, schema=schema, infer_schema=False, columns=positions
                )
            except pl.exceptions.ComputeError:
                if not numeric:
                    raise
                # A value that is not a number: read the block as text and let the caller say where.
                return self._parse(block, first, (), line, positions)
        except pl.exceptions.PolarsError as e:
            raise MalformedInputError(
                _describe_csv_error(block, self.name, self._separator, e, line, None if header else names)
            ) from e
        if names is None:
            if not self.dialect.header:
                df.columns = [str(i) for i in range(1, df.width + 1)]
            _check_unique(df.columns, self.name)
        return df

    def _parquet_frames(self, rows: int | None, only: Sequence[str] | None = None) -> Iterator[pl.DataFrame]:
        if self.path == STDIO and self._spool is None:
            self._spool_stdin()
        path = self._spool or self.path
        try:
            scan = pl.scan_parquet(path, low_memory=True)
            if only is not None:
                scan = scan.select(only)
            total = scan.select(pl.len()).collect().item()
            if rows is None:
                # Rows per batch from the width of a row in memory, halved:
                # polars' Parquet scan and sink each buffer about a batch more
                # (measured at 5M rows: 8 MB batches peak near 320 MiB, 4 MB
                # near 270 MiB).
                rows = max(1024, self.batch.bytes // (2 * _row_width(scan)))
            done = 0
            for frame in scan.collect_batches(chunk_size=rows):
                done += frame.height
                self._position = (done, total, "rows")
                yield frame
            if total == 0:
                yield scan.head(0).collect()
        except pl.exceptions.PolarsError as e:
            raise MalformedInputError(f"{self.name}: not a readable Parquet file ({_first_line(e)})") from e


def _row_width(scan: pl.LazyFrame) -> int:
    return max(1, sum(_DTYPE_BYTES.get(dtype, 16) for dtype in scan.collect_schema().dtypes()))


# Bytes per value of fixed-width types; text and nested types count as 16.
_DTYPE_BYTES = {pl.Float64: 8, pl.Int64: 8, pl.UInt64: 8, pl.Float32: 4, pl.Int32: 4, pl.UInt32: 4, pl.Boolean: 1}


class _CountingStream:
    """A decompressing stream whose ``tell`` is the position in the compressed file, for progress."""

    def __init__(self, stream, raw: BinaryIO):
        self._stream, self._raw = stream, raw

    def read(self, n: int = -1) -> bytes:
        return self._stream.read(n)

    def tell(self) -> int:
        return self._raw.tell()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._stream.close()
        self._raw.close()


def _tell(stream) -> int:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0


def _check_unique(names: list[str], source: str) -> None:
    # polars renames a repeated name; writing that back would change the header.
    for name in names:
        base = name.rpartition("_duplicated_")[0]
        if base and base in names:
            raise MalformedInputError(f"{source}: column name {base!r} appears more than once in the header")


def _describe_csv_error(
    block: bytes, name: str, separator: str, error: Exception, line: int, names: list[str] | None
) -> str:
    """Find the line polars choked on, re-reading the block with the csv module (error path only)."""
    import csv

    text = block.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    width = len(names) if names else None
    try:
        for record in reader:
            width = len(record) if width is None else width
            if len(record) > width:
                return f"{name}, line {line + reader.line_num - 1}: {len(record)} fields, expected {width}"
    except csv.Error as e:
        return f"{name}, line {line + reader.line_num - 1}: malformed CSV ({e})"
    if "\x00" in text or "\ufffd" in text:
        return f"{name}: not UTF-8 text"
    return f"{name}: malformed CSV ({_first_line(error)})"


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class Sink:
    """Where the result goes: a file, written atomically, or standard output.

    A file is written to a temporary file beside it and renamed into place on
    success, so a failed run leaves neither a partial file nor a damaged old one.

    Batches are written by a background thread (polars and pyarrow write
    without holding the GIL), so writing one batch overlaps with reading and
    computing the next; at most one batch waits in between.
    """

    def __init__(self, path: str, fmt: str, dialect: Dialect = Dialect()):
        self.path = path
        self.format = fmt
        self.dialect = dialect
        self._stream: BinaryIO | None = None
        self._tmp: str | None = None
        self._wrote_header = False
        self._queue: queue.Queue | None = None
        self._writer: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._ended = False  # the writer has taken the end of the queue

    def __enter__(self) -> Sink:
        if self.path == STDIO:
            if self.format == "parquet" and sys.stdout.isatty():
                raise SoftnormError("refusing to write binary Parquet to a terminal; use -o FILE or a pipe")
            self._stream = sys.stdout.buffer
        else:
            target = Path(self.path)
            fd, self._tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            self._stream = os.fdopen(fd, "wb")
            if _compression(self.path):
                import pyarrow as pa

                self._stream = pa.CompressedOutputStream(self._stream, _compression(self.path))
        return self

    def write(self, df: pl.DataFrame) -> None:
        """Queue ``df`` to be written after the batches before it."""
        if self._writer is None:
            self._queue = queue.Queue(maxsize=1)
            target = functools.partial(self._sink_parquet, df.schema) if self.format == "parquet" else self._sink_csv
            self._writer = threading.Thread(target=target, name="softnorm-writer", daemon=True)
            self._writer.start()
        self._raise_failure()
        self._queue.put(df)

    def _queued(self) -> Iterator[pl.DataFrame]:
        while (df := self._queue.get()) is not None:
            yield df
        self._ended = True

    def _guarded(self, write) -> None:
        """Run ``write`` in the writer thread; a failure is handed to the main thread."""
        try:
            write()
        except BaseException as e:
            self._failure = e
            if not self._ended:  # a sink may fail after the last batch, closing its file
                for _ in self._queued():  # unblock the main thread until it notices
                    pass

    def _sink_csv(self) -> None:
        def write() -> None:
            for df in self._queued():
                df.write_csv(
                    self._stream,
                    include_header=self.dialect.header and not self._wrote_header,
                    separator=self.dialect.separator(self.format),
                )
                self._wrote_header = True
                self._stream.flush()  # rows of an endless pipe go out as they are made

        self._guarded(write)

    def _sink_parquet(self, schema) -> None:
        # Parquet has no appending: polars' streaming sink pulls the batches as
        # they are queued and writes them as row groups of one file.
        from polars.io.plugins import register_io_source

        def batches(with_columns, predicate, n_rows, batch_size) -> Iterator[pl.DataFrame]:
            yield from self._queued()

        self._guarded(lambda: register_io_source(batches, schema=schema).sink_parquet(self._stream))

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def _finish_writes(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            self._writer.join()
            self._writer = None

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._finish_writes()
            if exc_type is None:
                self._raise_failure()
            if self._tmp is None:
                self._stream.flush()
                return
            self._stream.close()
            if exc_type is None:
                if os.path.exists(self.path):
                    # Keep the permissions of a file that is being replaced.
                    os.chmod(self._tmp, os.stat(self.path).st_mode & 0o7777)
                else:
                    os.chmod(self._tmp, 0o666 & ~_umask())
                os.replace(self._tmp, self.path)
                self._tmp = None
        finally:
            if self._tmp is not None and os.path.exists(self._tmp):
                os.unlink(self._tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Where the result goes: a file, written atomically (:mod:`~softnorm_cli.io.atomic`), or standard output.

Batches are written by a background thread (polars and pyarrow write without
holding the GIL), so writing one batch overlaps with reading and computing
the next; at most one batch waits in between.

Neither side ever waits on the other without a way out: the writer takes
batches with a timeout and stops when the run is abandoned (an error, a
signal), and the main thread hands a batch over with a timeout and stops
when the writer has failed. So an interrupted run ends at once, whatever
either thread was doing.
"""

from __future__ import annotations

import errno
import queue
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import polars as pl

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import parquet, sniff
from softnorm_cli.io.atomic import AtomicFile
from softnorm_cli.io.base import STDIO
from softnorm_cli.io.delimited import writer

#: Seconds between looks at whether the other side has gone.
_POLL = 0.05
#: How long an abandoned run waits for the writer to finish the batch in hand.
_ABANDON_SECONDS = 2.0
_END = object()


@dataclass(frozen=True)
class Layout:
    """How the output is written: its format, and for CSV/TSV its delimiter and conventions."""

    format: str = "csv"
    delimiter: str = ","
    header: bool = True
    decimal_comma: bool = False
    metadata: dict[str, str] = field(default_factory=dict)  # Parquet key-value metadata to keep
    compression: str = parquet.DEFAULT_COMPRESSION  # of Parquet output


class _Stdout:
    """Standard output as polars and pyarrow write to it, remembering whether its reader went away.

    polars turns the ``BrokenPipeError`` of a write into an error of its own
    without the error number (``OSError: Broken pipe (os error 32)``, or a
    ``ComputeError`` for Parquet); what is remembered here tells a closed pipe
    from any other failure without reading messages.
    """

    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self.reader_gone = False

    def write(self, data) -> int:
        try:
            return self._raw.write(data)
        except BrokenPipeError:
            self.reader_gone = True
            raise

    def flush(self) -> None:
        try:
            self._raw.flush()
        except BrokenPipeError:
            self.reader_gone = True
            raise


class Sink:
    """The output of a run: ``write`` batches, then leave the ``with`` block to commit."""

    def __init__(self, path: str, layout: Layout = Layout()):
        self.path = path
        self.layout = layout
        self.format = layout.format
        self._file: AtomicFile | None = None
        self._stream: BinaryIO | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._writer: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._abandoned = threading.Event()

    @property
    def name(self) -> str:
        return "standard output" if self.path == STDIO else self.path

    def __enter__(self) -> Sink:
        if self.path == STDIO:
            if self.format == "parquet" and sys.stdout.isatty():
                raise SoftnormError("refusing to write binary Parquet to a terminal; use -o FILE or a pipe")
            self._stream = _Stdout(sys.stdout.buffer)
            return self
        self._file = AtomicFile(self.path)
        self._stream = self._file.stream
        codec = sniff.compression_from_path(self.path)
        if codec:
            import pyarrow as pa

            self._stream = pa.CompressedOutputStream(self._stream, codec)
        return self

    def write(self, df: pl.DataFrame) -> None:
        """Hand ``df`` to the writer, to be written after the batches before it."""
        if self._writer is None:
            write = self._write_parquet if self.format == "parquet" else self._write_csv
            self._writer = threading.Thread(target=self._run, args=(write, df.schema), name="softnorm-writer", daemon=True)
            self._writer.start()
        self._hand_over(df)

    def _hand_over(self, item) -> None:
        while True:
            if self._failure is not None or not self._writer.is_alive():
                self._raise_failure()
                raise SoftnormError(f"{self.name}: the writer stopped")  # a bug: it ended without the end
            try:
                self._queue.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def _batches(self) -> Iterator[pl.DataFrame]:
        """What the main thread hands over, until the end or until the run is abandoned."""
        while not self._abandoned.is_set():
            try:
                item = self._queue.get(timeout=_POLL)
            except queue.Empty:
                continue
            if item is _END:
                return
            yield item

    def _run(self, write, schema: pl.Schema) -> None:
        """The writer thread: a failure is kept for the main thread to raise."""
        try:
            write(schema)
        except BaseException as e:
            self._failure = e

    def _write_csv(self, schema: pl.Schema) -> None:
        layout = self.layout
        if layout.header:
            self._stream.write(writer.header_line(schema.names(), layout.delimiter))
        for df in self._batches():
            writer.write_rows(df, self._stream, layout.delimiter, layout.decimal_comma)
            self._stream.flush()  # rows of an endless pipe go out as they are made

    def _write_parquet(self, schema: pl.Schema) -> None:
        metadata = {k: v for k, v in self.layout.metadata.items() if k != "ARROW:schema"}
        parquet.sink_parquet(self._batches(), schema, self._stream, metadata, self.layout.compression)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            failure, self._failure = self._failure, None
            if isinstance(self._stream, _Stdout) and self._stream.reader_gone:
                raise BrokenPipeError(errno.EPIPE, "standard output was closed by its reader") from failure
            raise failure

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                if self._writer is not None:
                    self._hand_over(_END)
                    while self._writer.is_alive():
                        self._writer.join(_POLL)  # in steps: a signal's handler runs between them
                    self._raise_failure()
                if self._file is None:
                    self._stream.flush()
                else:
                    self._stream.close()
                    self._file.commit()
            else:
                self._abandon()
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        """Stop the writer and drop the file: the run failed or was interrupted."""
        self._abandoned.set()
        if self._writer is not None:
            self._writer.join(_ABANDON_SECONDS)  # a write in hand ends; a stalled pipe is left to the daemon thread
        if self._file is not None:
            self._file.discard()

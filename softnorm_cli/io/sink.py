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
from collections.abc import Iterator, Sequence
from typing import BinaryIO

import polars as pl

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import formats, sniff
from softnorm_cli.io.atomic import AtomicFile
from softnorm_cli.io.base import STDIO, Layout

#: Seconds between looks at whether the other side has gone.
_POLL = 0.05
#: How long an abandoned run waits for the writer to finish the batch in hand.
_ABANDON_SECONDS = 2.0
_END = object()


def table_writer(fmt: str):
    """The function that writes a table of format ``fmt``: ``write(batches, schema, stream, layout)``,
    pulling ``batches`` as they come and writing each before taking the next."""
    if fmt in ("csv", "tsv"):
        from softnorm_cli.io.delimited.writer import write_table
    elif fmt == "parquet":
        from softnorm_cli.io.parquet import write_table
    elif fmt == "arrow":
        from softnorm_cli.io.arrow import write_table
    elif fmt in ("jsonl", "json"):
        from softnorm_cli.io.json import write_table
    elif fmt == "excel":
        from softnorm_cli.io.excel import write_table
    else:
        raise ValueError(f"no writer for {fmt!r}")
    return write_table


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

    @property
    def closed(self) -> bool:  # pyarrow looks before writing
        return self._raw.closed

    def flush(self) -> None:
        try:
            self._raw.flush()
        except BrokenPipeError:
            self.reader_gone = True
            raise


class Sink:
    """The output of a run: ``write`` batches, then leave the ``with`` block to commit."""

    def __init__(self, path: str, layout: Layout = Layout(), dropped: Sequence[str] = ()):
        self.path = path
        self.layout = layout
        self.dropped = list(dropped)  # columns not written (a Hive-style part's keys, which its folders hold)
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
            refuse_terminal(self.format)
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
        if self.dropped:
            df = df.drop(self.dropped)
        if self._writer is None:
            self._writer = threading.Thread(target=self._run, args=(df.schema,), name="softnorm-writer", daemon=True)
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

    def _run(self, schema: pl.Schema) -> None:
        """The writer thread: a failure is kept for the main thread to raise."""
        try:
            batches = self._batches()
            if self.format not in ("jsonl", "json"):
                from softnorm_cli.io.json.values import RAW, as_plain

                if RAW in schema.dtypes():  # JSON values, read as such: as their text
                    batches, schema = map(as_plain, batches), as_plain(pl.DataFrame(schema=schema)).schema
            table_writer(self.format)(batches, schema, self._stream, self.layout)
        except BaseException as e:
            self._failure = e

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


def refuse_terminal(fmt: str) -> None:
    """A binary format is not for a terminal: it would fill the screen with bytes."""
    if fmt in formats.BINARY and sys.stdout.isatty():
        raise SoftnormError(f"refusing to write binary {formats.NAMES[fmt]} to a terminal; use -o FILE or a pipe")

"""Where the result goes: a file, written atomically, or standard output.

A file is written to a temporary file beside it and renamed into place on
success, so a failed run leaves neither a partial file nor a damaged old one.

Batches are written by a background thread (polars and pyarrow write without
holding the GIL), so writing one batch overlaps with reading and computing
the next; at most one batch waits in between.
"""

from __future__ import annotations

import os
import queue
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import polars as pl

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import parquet, sniff
from softnorm_cli.io.atomic import umask
from softnorm_cli.io.base import STDIO
from softnorm_cli.io.delimited import writer


@dataclass(frozen=True)
class Layout:
    """How the output is written: its format, and for CSV/TSV its delimiter and conventions."""

    format: str = "csv"
    delimiter: str = ","
    header: bool = True
    decimal_comma: bool = False
    metadata: dict[str, str] = field(default_factory=dict)  # Parquet key-value metadata to keep
    compression: str = parquet.DEFAULT_COMPRESSION  # of Parquet output


class Sink:
    """The output of a run: ``write`` batches, then leave the ``with`` block to commit."""

    def __init__(self, path: str, layout: Layout = Layout()):
        self.path = path
        self.layout = layout
        self.format = layout.format
        self._stream: BinaryIO | None = None
        self._tmp: str | None = None
        self._queue: queue.Queue | None = None
        self._writer: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._ended = False  # the writer has taken the end of the queue

    @property
    def name(self) -> str:
        return "standard output" if self.path == STDIO else self.path

    def __enter__(self) -> Sink:
        if self.path == STDIO:
            if self.format == "parquet" and sys.stdout.isatty():
                raise SoftnormError("refusing to write binary Parquet to a terminal; use -o FILE or a pipe")
            self._stream = sys.stdout.buffer
            return self
        target = Path(self.path)
        try:
            fd, self._tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        except OSError as e:
            raise OSError(e.errno, e.strerror, self.path) from None  # the user's path, not the temporary one
        self._stream = os.fdopen(fd, "wb")
        codec = sniff.compression_from_path(self.path)
        if codec:
            import pyarrow as pa

            self._stream = pa.CompressedOutputStream(self._stream, codec)
        return self

    def write(self, df: pl.DataFrame) -> None:
        """Queue ``df`` to be written after the batches before it."""
        if self._writer is None:
            self._queue = queue.Queue(maxsize=1)
            write = self._sink_parquet if self.format == "parquet" else self._sink_csv
            self._writer = threading.Thread(target=self._guarded, args=(write, df.schema), name="softnorm-writer", daemon=True)
            self._writer.start()
        self._raise_failure()
        self._queue.put(df)

    def _queued(self) -> Iterator[pl.DataFrame]:
        while (df := self._queue.get()) is not None:
            yield df
        self._ended = True

    def _guarded(self, write, schema) -> None:
        """Run ``write`` in the writer thread; a failure is handed to the main thread."""
        try:
            write(schema)
        except BaseException as e:
            self._failure = e
            if not self._ended:  # a sink may fail after the last batch, closing its file
                for _ in self._queued():  # unblock the main thread until it notices
                    pass

    def _sink_csv(self, schema: pl.Schema) -> None:
        layout = self.layout
        if layout.header:
            self._stream.write(writer.header_line(schema.names(), layout.delimiter))
        for df in self._queued():
            writer.write_rows(df, self._stream, layout.delimiter, layout.decimal_comma)
            self._stream.flush()  # rows of an endless pipe go out as they are made

    def _sink_parquet(self, schema: pl.Schema) -> None:
        metadata = {k: v for k, v in self.layout.metadata.items() if k != "ARROW:schema"}
        parquet.sink_parquet(self._queued(), schema, self._stream, metadata, self.layout.compression)

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
                self._commit()
        finally:
            if self._tmp is not None and os.path.exists(self._tmp):
                os.unlink(self._tmp)

    def _commit(self) -> None:
        try:
            if os.path.exists(self.path):
                # Keep the permissions of a file that is being replaced.
                os.chmod(self._tmp, os.stat(self.path).st_mode & 0o7777)
            else:
                os.chmod(self._tmp, 0o666 & ~umask())
            os.replace(self._tmp, self.path)
        except OSError as e:
            raise OSError(e.errno, e.strerror, self.path) from None
        self._tmp = None

"""A dataset's result as one file or one stream: its parts written apart, then joined in their order.

Each part is written by a task of its own, which may run in another process
(a Dask worker), so every part goes to a file of its own in a scratch
directory and no task waits for another. Once all are written they are
joined: CSV and TSV byte for byte (only the first part has the header),
Parquet row group by row group, each part's row groups in turn, so the file
holds at least one row group per part that has rows. The file is thus the
directory of parts' output in one piece, the same bytes on every engine.

The file itself is written atomically (:class:`~softnorm_cli.io.atomic.AtomicFile`);
the scratch directory goes whatever happens.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from typing import BinaryIO

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import atomic, sniff
from softnorm_cli.io.base import STDIO
from softnorm_cli.io.dataset import EXTENSIONS, PART, PART_NAME
from softnorm_cli.io.sink import Layout, Sink

_COPY_BYTES = 1 << 20


class JoinedOutput:
    """One file (or standard output, ``-``) made of parts written by :meth:`sink`, joined on leaving the ``with`` block.

    ``scratch`` is where the parts of standard output are written (None: the
    temporary directory); the parts of a file are written beside it, where
    they can be joined without crossing file systems.
    """

    def __init__(self, path: str, layout: Layout, scratch: str | None = None):
        self.path = path
        self.layout = layout
        self.scratch = scratch
        self.tmp: str | None = None

    @property
    def name(self) -> str:
        return "standard output" if self.path == STDIO else self.path

    def __enter__(self) -> JoinedOutput:
        if self.path == STDIO:
            if self.layout.format == "parquet" and sys.stdout.isatty():
                raise SoftnormError("refusing to write binary Parquet to a terminal; use -o FILE or a pipe")
            self.tmp = tempfile.mkdtemp(prefix=".softnorm-parts-", dir=self.scratch)
        else:
            atomic.check_writable(self.path)
            self.tmp = atomic.temporary_directory(self.path)
        return self

    def sink(self, index: int) -> Sink:
        """Where part ``index`` is written."""
        layout = self.layout if index == 0 else dataclasses.replace(self.layout, header=False)
        return Sink(os.path.join(self.tmp, PART.format(index, EXTENSIONS[self.layout.format])), layout)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._join(self._parts())
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _parts(self) -> list[str]:
        # Other names are what a killed attempt at a part left behind.
        found = [(int(m.group(1)), name) for name in os.listdir(self.tmp) if (m := PART_NAME.fullmatch(name))]
        return [os.path.join(self.tmp, name) for _, name in sorted(found)]

    def _join(self, parts: list[str]) -> None:
        with self._target() as stream:
            if self.layout.format == "parquet":
                _join_parquet(parts, stream, self.layout.compression)
            else:
                for part in parts:
                    with open(part, "rb") as f:
                        shutil.copyfileobj(f, stream, _COPY_BYTES)

    @contextmanager
    def _target(self):
        """The stream of the output: standard output, or the file (compressed as its name says), committed on success."""
        if self.path == STDIO:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
            return
        with atomic.AtomicFile(self.path) as stream:
            codec = sniff.compression_from_path(self.path)
            if codec is None:
                yield stream
                return
            import pyarrow as pa

            with pa.CompressedOutputStream(stream, codec) as compressed:
                yield compressed


def _join_parquet(parts: list[str], stream: BinaryIO, compression: str) -> None:
    """Every row group of ``parts``, in order, as the row groups of one Parquet file."""
    import pyarrow.parquet as pq

    writer = None
    for part in parts:
        f = pq.ParquetFile(part)
        if writer is None:  # the first part's schema carries the metadata kept from the input
            codec = "none" if compression == "uncompressed" else compression
            writer = pq.ParquetWriter(stream, f.schema_arrow, compression=codec)
        for i in range(f.num_row_groups):
            table = f.read_row_group(i)
            writer.write_table(table, row_group_size=max(1, table.num_rows))
    if writer is not None:
        writer.close()

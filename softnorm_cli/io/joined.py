"""A dataset's result as one file or one stream: its parts written apart, then joined in their order.

Each part is written by a task of its own, which may run in another process
(a Dask worker), so every part goes to a file of its own in a scratch
directory and no task waits for another. Once all are written they are
joined: CSV and TSV byte for byte under the first part's header, Parquet
row group by row group, each part's row groups in turn, so the file holds at
least one row group per part that has rows. The file is thus the directory
of parts' output in one piece, the same bytes on every engine.

Parts must agree on their columns to make one table; a column whose parts'
types differ gets one type that holds them all (:mod:`~softnorm_cli.io.parts_schema`).

The file itself is written atomically (:class:`~softnorm_cli.io.atomic.AtomicFile`);
the scratch directory goes whatever happens.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from contextlib import contextmanager
from typing import BinaryIO

from softnorm_cli.io import atomic, formats, sniff
from softnorm_cli.io.base import STDIO, Layout
from softnorm_cli.io.dataset import PART, PART_NAME
from softnorm_cli.io.delimited import writer
from softnorm_cli.io.parts_schema import common_schema, other_columns
from softnorm_cli.io.sink import Sink, refuse_terminal

_COPY_BYTES = 1 << 20


class JoinedOutput:
    """One file (or standard output, ``-``) made of parts written by :meth:`sink`, joined on leaving the ``with`` block.

    ``scratch`` is where the parts of standard output are written (None: the
    temporary directory); the parts of a file are written beside it, where
    they can be joined without crossing file systems.
    """

    def __init__(self, path: str, layout: Layout, sources: Sequence[str], scratch: str | None = None):
        self.path = path
        self.layout = layout
        self.sources = sources  # the input part of each output part, for messages
        self.scratch = scratch
        self.tmp: str | None = None

    @property
    def name(self) -> str:
        return "standard output" if self.path == STDIO else self.path

    def __enter__(self) -> JoinedOutput:
        if self.path == STDIO:
            refuse_terminal(self.layout.format)
            self.tmp = tempfile.mkdtemp(prefix=".softnorm-parts-", dir=self.scratch)
        elif atomic.is_special(self.path):  # /dev/null: its folder is no place for scratch files
            self.tmp = tempfile.mkdtemp(prefix=".softnorm-parts-", dir=self.scratch)
        else:
            atomic.check_writable(self.path)
            self.tmp = atomic.temporary_directory(self.path)
        return self

    def sink(self, index: int, part: int | None = None) -> Sink:
        """Where output part ``index`` is written (of input part ``part``, or of a partition of it)."""
        return Sink(os.path.join(self.tmp, PART.format(index, formats.PART_EXTENSIONS[self.layout.format])), self.layout)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._join(self._parts())
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _parts(self) -> list[tuple[str, str]]:
        """Each part written, with the input part it comes from, in order."""
        # Other names are what a killed attempt at a part left behind.
        found = [(int(m.group(1)), name) for name in os.listdir(self.tmp) if (m := PART_NAME.fullmatch(name))]
        return [(os.path.join(self.tmp, name), self.sources[index]) for index, name in sorted(found)]

    def _join(self, parts: list[tuple[str, str]]) -> None:
        with self._target() as stream:
            fmt = self.layout.format
            if fmt == "parquet":
                _join_parquet(parts, stream, self.layout.compression)
            elif fmt in formats.CONCATENATED:
                _join_text(parts, stream, self.layout, header=self.layout.header and fmt in ("csv", "tsv"))
            else:
                _joiner(fmt)(parts, stream, self.layout)

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


def _joiner(fmt: str):
    """The function that joins parts of ``fmt`` into one table: ``join(parts, stream, layout)``."""
    if fmt == "arrow":
        from softnorm_cli.io.arrow import join_parts
    elif fmt == "json":
        from softnorm_cli.io.json import join_parts
    elif fmt == "excel":
        from softnorm_cli.io.excel import join_parts
    else:
        raise ValueError(f"no way to join parts of {fmt!r}")
    return join_parts


def _join_text(parts: list[tuple[str, str]], stream: BinaryIO, layout: Layout, header: bool) -> None:
    """The parts' bytes one after the other, under the first part's header if they have one (each the same one),
    and the encoding's byte-order mark, which starts each part, once at the start."""
    mark, encoding = writer.text_encoding(layout.encoding)
    stream.write(mark)
    first = None
    for path, source in parts:
        with open(path, "rb") as f:
            if f.read(len(mark)) != mark:
                f.seek(0)
            if header:
                line = _header(f, layout, encoding)
                if first is None:
                    first = (line, source)
                    stream.write(line)
                elif line and line != first[0]:
                    raise other_columns(source, first[1])
            shutil.copyfileobj(f, stream, _COPY_BYTES)


def _header(f: BinaryIO, layout: Layout, encoding: str) -> bytes:
    """The header record where ``f`` is (a part this module had written, past its mark), leaving ``f`` after it."""
    start = f.tell()
    text = io.TextIOWrapper(f, encoding=encoding, newline="")
    names = next(csv.reader(text, delimiter=layout.delimiter), None)
    text.detach()
    # The writer's own header for these names: its bytes are the record's, quoted names and all.
    header = b"" if names is None else writer.header_line(names, layout.delimiter, layout.line_terminator, encoding)
    f.seek(start + len(header))
    return header


def _join_parquet(parts: list[tuple[str, str]], stream: BinaryIO, compression: str) -> None:
    """Every row group of ``parts``, in order, as the row groups of one Parquet file."""
    import pyarrow.parquet as pq

    schemas = [pq.read_schema(path) for path, _ in parts]
    for schema, (_, source) in zip(schemas[1:], parts[1:]):
        if schema.names != schemas[0].names:
            raise other_columns(source, parts[0][1])
    # The first part's schema carries the metadata kept from the input.
    schema = common_schema(schemas).with_metadata(schemas[0].metadata)
    codec = "none" if compression == "uncompressed" else compression
    with pq.ParquetWriter(stream, schema, compression=codec) as out:
        for path, _ in parts:
            f = pq.ParquetFile(path)
            for i in range(f.num_row_groups):
                table = f.read_row_group(i)
                if not table.schema.equals(schema, check_metadata=False):
                    table = table.cast(schema)
                out.write_table(table, row_group_size=max(1, table.num_rows))

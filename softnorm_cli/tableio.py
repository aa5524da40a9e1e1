"""Reading and writing tables: CSV, TSV and Parquet, files or standard streams.

Tables travel as polars DataFrames, one batch at a time. CSV fields are read as
text, so a column softnorm does not transform is written back as it came.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import polars as pl

from softnorm_cli.errors import MalformedInputError, SoftnormError

FORMATS = ("csv", "tsv", "parquet")
STDIO = "-"
PARQUET_MAGIC = b"PAR1"

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


class Source:
    """A table to read: a file, or standard input when the path is ``-``.

    :meth:`batches` may be called more than once (two-pass methods read the
    input twice); standard input is kept in memory for that.
    """

    def __init__(self, path: str, fmt: str | None = None, dialect: Dialect = Dialect()):
        self.path = path
        self.dialect = dialect
        self._data: bytes | None = None
        if path != STDIO:
            if os.path.isdir(path):
                raise SoftnormError(f"{path}: is a directory")
            if not os.path.exists(path):
                raise SoftnormError(f"{path}: no such file")
        self.format = fmt or self._sniff_format()

    @property
    def name(self) -> str:
        return "standard input" if self.path == STDIO else self.path

    def _bytes(self) -> bytes:
        if self._data is None:
            if self.path == STDIO:
                self._data = sys.stdin.buffer.read()
            elif _compression(self.path):
                import pyarrow as pa

                with pa.input_stream(self.path, compression=_compression(self.path)) as stream:
                    self._data = stream.read()
            else:
                self._data = Path(self.path).read_bytes()
        return self._data

    def _sniff_format(self) -> str:
        if self.path != STDIO and format_from_path(self.path):
            return format_from_path(self.path)
        return "parquet" if self._bytes()[:4] == PARQUET_MAGIC else "csv"

    def batches(self) -> Iterator[pl.DataFrame]:
        """The table as DataFrames, in order."""
        data = self._bytes()
        if not data:
            raise SoftnormError(f"{self.name}: input is empty")
        if self.format == "parquet":
            yield _read_parquet(data, self.name)
        else:
            yield _read_csv(data, self.name, self.dialect.separator(self.format), self.dialect.header)


def _read_parquet(data: bytes, name: str) -> pl.DataFrame:
    try:
        return pl.read_parquet(io.BytesIO(data))
    except pl.exceptions.PolarsError as e:
        raise MalformedInputError(f"{name}: not a readable Parquet file ({_first_line(e)})") from e


def _read_csv(data: bytes, name: str, separator: str, header: bool) -> pl.DataFrame:
    try:
        df = pl.read_csv(data, infer_schema=False, separator=separator, has_header=header)
    except pl.exceptions.PolarsError as e:
        raise MalformedInputError(_describe_csv_error(data, name, separator, e)) from e
    if not header:
        df.columns = [str(i) for i in range(1, df.width + 1)]
    elif any(name.rpartition("_duplicated_")[0] in df.columns for name in df.columns):
        # polars renames a repeated name; writing that back would change the header.
        seen = next(n.rpartition("_duplicated_")[0] for n in df.columns if n.rpartition("_duplicated_")[0] in df.columns)
        raise MalformedInputError(f"{name}: column name {seen!r} appears more than once in the header")
    return df


def _describe_csv_error(data: bytes, name: str, separator: str, error: Exception) -> str:
    """Find the line polars choked on, re-reading with the csv module (error path only)."""
    import csv

    text = data.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    width = None
    try:
        for record in reader:
            width = len(record) if width is None else width
            if len(record) > width:
                return f"{name}, line {reader.line_num}: {len(record)} fields, expected {width}"
    except csv.Error as e:
        return f"{name}, line {reader.line_num}: malformed CSV ({e})"
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
    """

    def __init__(self, path: str, fmt: str, dialect: Dialect = Dialect()):
        self.path = path
        self.format = fmt
        self.dialect = dialect
        self._stream: BinaryIO | None = None
        self._tmp: str | None = None
        self._parquet_writer = None
        self._wrote_header = False

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
        if self.format == "parquet":
            self._write_parquet(df)
        else:
            df.write_csv(
                self._stream,
                include_header=self.dialect.header and not self._wrote_header,
                separator=self.dialect.separator(self.format),
            )
            self._wrote_header = True

    def _write_parquet(self, df: pl.DataFrame) -> None:
        import pyarrow.parquet as pq

        table = df.to_arrow()
        if self._parquet_writer is None:
            self._parquet_writer = pq.ParquetWriter(self._stream, table.schema)
        self._parquet_writer.write_table(table)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self._parquet_writer is not None:
                self._parquet_writer.close()
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

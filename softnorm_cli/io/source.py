"""Opening an input: which reader, from what the bytes are rather than what the name says."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import sniff
from softnorm_cli.io.base import STDIO, BatchSize, Dialect
from softnorm_cli.io.delimited.decode import SAMPLE_LINES, TextInput, open_stdin
from softnorm_cli.io.streams import Peekable, decompressed

#: Bytes of a zip on standard input looked through for the names of its members.
ZIP_HEAD = 1 << 16
#: Bytes of a file looked at to tell JSON from delimited text (a pipe's first 8, which a peek
#: that waits for no more than has come gives).
JSON_HEAD = 256


def open_source(
    path: str, fmt: str | None = None, dialect: Dialect = Dialect(), batch: BatchSize = BatchSize(), name: str | None = None
):
    """The reader for ``path`` (``-``: standard input), called ``name`` in messages (default: the path).

    Parquet, Arrow, workbooks and compressed streams are recognised by
    their magic bytes; ``fmt`` (or else the extension) chooses among the text
    formats, and a binary ``fmt`` on something that is not of it is an error.
    """
    from softnorm_cli.io.delimited.reader import CsvReader
    from softnorm_cli.io.parquet import ParquetReader

    name = name or ("standard input" if path == STDIO else path)
    if path != STDIO:
        if os.path.isdir(path):
            raise SoftnormError(f"{name}: is a directory")
        if not os.path.exists(path):
            raise SoftnormError(f"{name}: no such file")
    stdin = open_stdin() if path == STDIO else None
    head = stdin.peek(8) if stdin else _read_head(path)  # a file's first bytes tell JSON from text too
    if sniff.is_parquet(head):
        return ParquetReader(path, name, batch) if stdin is None else ParquetReader(_spooled(stdin), name, batch, temporary=True)
    arrow = sniff.arrow_kind(head)
    if arrow is not None:
        return _arrow(path if stdin is None else stdin, arrow, name, batch)
    if head.startswith(sniff.FEATHER_V1_MAGIC):
        raise SoftnormError(f"{name}: is a Feather version 1 file, which softnorm does not read; "
                            "write it as Feather version 2 (Arrow IPC), e.g. pyarrow.feather.write_feather(pyarrow.feather.read_table(path), new_path)")
    if head.startswith(sniff.ZIP_MAGIC) and stdin is not None:
        head = stdin.peek(ZIP_HEAD)  # on a pipe, the members' names are seen only in the first bytes
    if sniff.workbook(head, name, None if stdin else path):
        from softnorm_cli.io.excel import ExcelReader

        # A workbook is a zip (or an OLE2 file) read by its directory: standard input is copied aside.
        return ExcelReader(path, name, dialect, batch) if stdin is None else ExcelReader(_spooled(stdin), name, dialect, batch, temporary=True)
    codec = sniff.compression(head, None if stdin else path)
    if codec:
        inner = Peekable(decompressed(stdin or open(path, "rb"), codec), count=stdin.tell if stdin else None)
        head = inner.peek(8 if stdin else JSON_HEAD)
        if sniff.is_parquet(head):  # compressed Parquet: decompressed aside
            return ParquetReader(_spooled(inner), name, batch, temporary=True)
        arrow = sniff.arrow_kind(head)
        if arrow is not None:
            if stdin is None and arrow == "stream":
                inner.close()  # a file is opened again for each pass
                return _arrow(path, arrow, name, batch, codec)
            return _arrow(inner, arrow, name, batch)
        if stdin is None:
            inner.close()  # a file is opened again for each pass
        else:
            stdin = inner
    if stdin is not None and head[:1].isspace():
        head = stdin.peek(JSON_HEAD)  # blank lines or indentation before a JSON array: seen past them
    text_format = fmt or (sniff.format_from_path(path) if stdin is None else None)
    if text_format in _BINARY_CHECKS:
        raise SoftnormError(f"{name}: {_BINARY_CHECKS[text_format]}")
    json_start = sniff.json_start(head)
    if text_format in ("jsonl", "json") or json_start:
        from softnorm_cli.io.json import JsonReader

        # JSON Lines or an array, whichever the content is (a name or --from may call either JSON).
        lines = 0 if json_start == "array" else SAMPLE_LINES
        return JsonReader(TextInput(path, codec, dialect.encoding, dialect.skip_rows, stdin, name, lines), batch)
    text = TextInput(path, codec, dialect.encoding, dialect.skip_rows, stdin, name)
    return CsvReader(text, text_format or "csv", dialect, batch)


def open_partition(path: str, fmt: str | None, dialect: Dialect, batch: BatchSize, name: str, partition):
    """The reader of one partition of a file (:mod:`~softnorm_cli.io.partitions`), called ``name``."""
    from softnorm_cli.io.delimited.reader import CsvReader
    from softnorm_cli.io.parquet import ParquetReader

    if partition.whole:
        return open_source(path, fmt, dialect, batch, name)
    if sniff.is_parquet(_read_head(path)):
        return ParquetReader(path, name, batch, rows=(partition.start, partition.stop))
    text_format = fmt or sniff.format_from_path(path) or "csv"
    if partition.start is None:  # the first: from the file's start, its header and all
        text = TextInput(path, None, dialect.encoding, dialect.skip_rows, None, name, stop=partition.stop)
        return CsvReader(text, text_format, dialect, batch)
    text = TextInput(path, None, "utf-8", 0, None, name, start=partition.start, stop=partition.stop, first_line=partition.first_line)
    dialect = dataclasses.replace(dialect, delimiter=partition.delimiter)
    return CsvReader(text, text_format, dialect, batch, names=partition.names, first_row=partition.first_row)


#: What a binary format's input lacks when it is not of that format.
_BINARY_CHECKS = {
    "parquet": "not a readable Parquet file (it does not start with PAR1)",
    "arrow": "not a readable Arrow IPC file or stream (it starts with neither ARROW1 nor a stream's marker)",
    "excel": "not a readable workbook (neither an xlsx/ods zip nor an xls file)",
}


def _arrow(source, kind: str, name: str, batch: BatchSize, codec: str | None = None):
    """The reader of an Arrow IPC file or stream at ``source`` (a path, or a stream at its start).

    A stream is read as it comes; a file's index is at its end, so a file
    that is not a plain file (standard input, compressed) is copied aside.
    """
    from softnorm_cli.io.arrow import ArrowReader

    if kind == "file" and not isinstance(source, str):
        return ArrowReader(_spooled(source), kind, name, batch, temporary=True)
    return ArrowReader(source, kind, name, batch, codec)


def _read_head(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(JSON_HEAD)


def _spooled(stream) -> str:
    """Copy a stream to a temporary file (Parquet and Arrow files keep their index at the end); its path."""
    fd, path = tempfile.mkstemp(prefix="softnorm-", suffix=".spool")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
    except BaseException:
        os.unlink(path)
        raise
    return path

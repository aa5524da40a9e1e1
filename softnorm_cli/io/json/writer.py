"""Writing JSON Lines (one object a line) and JSON (one array of objects), batch by batch.

Keys come in column order; numbers as numbers (integers as integers), and
NaN and infinite results as null, for JSON has neither. JSON values read as
such (:data:`~softnorm_cli.io.json.values.RAW`) go back as they came. Binary
values, which JSON cannot hold, are written as base64 text. An array is written one item a
line (``[``, the items, ``]``), so that the parts of a dataset join by their lines.

JSON text is UTF-8; another ``--output-encoding`` is honoured, with the
characters it cannot hold written as ``\\u`` escapes (they can only be in strings).
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator

import polars as pl

from softnorm_cli.io.base import Layout
from softnorm_cli.io.json.values import RAW, RAW_FIELD

_COPY_CHARS = 1 << 20
_ESCAPE = "softnorm.json-escape"


def write_table(batches: Iterator[pl.DataFrame], schema: pl.Schema, stream, layout: Layout) -> None:
    """Each batch's objects as it comes, flushed: rows of an endless pipe go out as they are made."""
    out = _Text(stream, layout)
    array = layout.format == "json"
    wrote = False
    if array:
        out.write(b"[")
    term = layout.line_terminator
    for df in batches:
        lines = _lines_of(df)
        if not lines.height:
            continue
        if array:  # each item after the line break (and comma) before it
            first = pl.int_range(pl.len()) == 0
            before = pl.when(first).then(pl.lit(("," if wrote else "") + term)).otherwise(pl.lit("," + term))
            lines = lines.select(pl.concat_str([before, pl.col("line")]))
        out.write_lines(lines, "" if array else term)
        wrote = True
        stream.flush()
    if array:
        out.write(b"\n]\n" if wrote else b"]\n")
    out.finish()


def _lines_of(df: pl.DataFrame) -> pl.DataFrame:
    """Each row of ``df`` as the text of its JSON object, in one column (polars' encoding of each value)."""
    binary = [name for name, dtype in df.schema.items() if dtype == pl.Binary]
    if binary:
        df = df.with_columns(pl.col(binary).bin.encode("base64"))
    if RAW not in df.schema.dtypes():
        return df.select(pl.struct(pl.all()).struct.json_encode().alias("line"))
    members, run = [], []
    for name, dtype in [*df.schema.items(), (None, RAW)]:
        if dtype != RAW:
            run.append(name)
            continue
        if run:  # polars' own encoding of the values between, as the members of an object of their keys
            members.append(pl.struct(run).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}"))
            run = []
        if name is not None:
            members.append(pl.lit(json.dumps(name, ensure_ascii=False) + ":") + pl.col(name).struct.field(RAW_FIELD).fill_null("null"))
    return df.select(pl.concat_str([pl.lit("{"), pl.concat_str(members, separator=","), pl.lit("}")]).alias("line"))


def join_parts(parts: list[tuple[str, str]], stream, layout: Layout) -> None:
    """The items of each part's array, in order, as one array (parts need not have the same keys)."""
    out = _Text(stream, layout)
    wrote = False
    out.write(b"[")
    for path, _ in parts:
        for i, piece in enumerate(_items(path, layout)):
            if i == 0:
                out.write(b",\n" if wrote else b"\n")
                wrote = True
            out.write_text(piece)
    out.write(b"\n]\n" if wrote else b"]\n")
    out.finish()


def _items(path: str, layout: Layout) -> Iterator[str]:
    """The text between a part's brackets (its items, as written), in pieces; nothing for an empty array."""
    term = layout.line_terminator
    closing = term + "]" + term
    with open(path, encoding=layout.encoding, newline="") as f:
        if f.read(1 + len(term)) != "[" + term:
            return  # "[]": no items
        tail = ""
        while piece := f.read(_COPY_CHARS):
            text = tail + piece
            tail = text[-len(closing) :]
            if len(text) > len(closing):
                yield text[: -len(closing)]


class _Text:
    """The output stream, in the layout's line terminator and encoding (UTF-8 bytes in)."""

    def __init__(self, stream, layout: Layout):
        self._stream = stream
        self._term = layout.line_terminator.encode("ascii")
        utf8 = codecs.lookup(layout.encoding).name == "utf-8"
        self._encoder = None if utf8 else codecs.getincrementalencoder(layout.encoding)(_ESCAPE)

    def write(self, data: bytes) -> None:
        if self._term != b"\n":
            data = data.replace(b"\n", self._term)  # JSON text holds no line break but between lines
        self._stream.write(data if self._encoder is None else self._encoder.encode(data.decode("utf-8")))

    def write_lines(self, lines: pl.DataFrame, terminator: str) -> None:
        """A column of JSON text, a line each, each ended by ``terminator``: by polars straight to a UTF-8 stream."""
        if self._encoder is None:
            lines.write_csv(self._stream, include_header=False, quote_style="never", line_terminator=terminator)
            return
        buf = io.BytesIO()
        lines.write_csv(buf, include_header=False, quote_style="never", line_terminator=terminator)
        self.write_text(buf.getvalue().decode("utf-8"))

    def write_text(self, text: str) -> None:
        """Text already in the layout's line terminator."""
        self._stream.write(text.encode("utf-8") if self._encoder is None else self._encoder.encode(text))

    def finish(self) -> None:
        if self._encoder is not None:
            self._stream.write(self._encoder.encode("", final=True))


def _escaped(error: UnicodeEncodeError) -> tuple[str, int]:
    """Characters an encoding cannot hold, as JSON escapes (UTF-16 code units)."""
    units = []
    for ch in error.object[error.start : error.end]:
        data = ch.encode("utf-16-be")
        units += [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    return "".join(f"\\u{unit:04x}" for unit in units), error.end


codecs.register_error(_ESCAPE, _escaped)

"""Writing CSV and TSV: the header as it came, and rows with polars, in the output's encoding and line ends.

Only fields that need it are quoted, so a column softnorm did not touch is
written back with the text it was read with.

polars writes UTF-8: another encoding is the same text transcoded, batch by
batch, and a character the encoding cannot hold stops the run at its column
and row (looked for only then). An encoding with a byte-order mark
(``utf-8-sig``, ``utf-16``, ``utf-32``) has it once, at the start of the
file, and its text in little-endian order on every machine.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator, Sequence

import polars as pl

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io.base import Layout

#: Encodings that start with a byte-order mark: the mark, and the encoding of the text after it.
_MARKED = {
    "utf-8-sig": (codecs.BOM_UTF8, "utf-8"),
    "utf-16": (codecs.BOM_UTF16_LE, "utf-16-le"),
    "utf-32": (codecs.BOM_UTF32_LE, "utf-32-le"),
}


def text_encoding(encoding: str) -> tuple[bytes, str]:
    """The byte-order mark an output in ``encoding`` starts with (or none), and the encoding of its text."""
    return _MARKED.get(codecs.lookup(encoding).name, (b"", encoding))


def write_table(batches: Iterator[pl.DataFrame], schema: pl.Schema, stream, layout: Layout) -> None:
    """The header, then each batch's rows as it comes, flushed: rows of an endless pipe go out as they are made."""
    mark, encoding = text_encoding(layout.encoding)
    stream.write(mark)
    if layout.header:
        stream.write(header_line(schema.names(), layout.delimiter, layout.line_terminator, encoding))
    rows = 0
    for df in batches:
        write_rows(df, stream, layout, encoding, rows)
        rows += df.height
        stream.flush()


def header_line(names: Sequence[str], separator: str, line_terminator: str = "\n", encoding: str = "utf-8") -> bytes:
    """The header as it went in: names quoted only where CSV needs it (an empty name stays empty)."""
    cells = [_quoted(name, separator) for name in names]
    if cells == [""]:
        cells = ['""']  # a lone empty name would be a blank line
    try:
        return (separator.join(cells) + line_terminator).encode(encoding)
    except UnicodeEncodeError:
        name = next(name for name in names if not _encodable(name, encoding))
        raise _unwritable(f"the header: column name {name!r}", encoding) from None


def _quoted(text: str, separator: str) -> str:
    if any(ch in text for ch in (separator, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_rows(df: pl.DataFrame, stream, layout: Layout = Layout(), encoding: str = "utf-8", rows_before: int = 0) -> None:
    """Write the rows of ``df`` (no header), in ``encoding``; ``rows_before``: rows written before them, for messages.

    With one column a missing value is written as ``""``: an empty line
    would be skipped by most readers, and the row lost.
    """
    # With decimal commas and a comma delimiter polars quotes every float
    # cell, the empty ones too; a null value of "" would then be quoted again.
    floats_quoted = layout.decimal_comma and layout.delimiter == ","
    if any(isinstance(dtype, pl.Duration) for dtype in df.dtypes):
        # polars writes no durations to CSV: ISO 8601's text of them (PT1H30M), as a workbook's or Parquet's come.
        df = df.with_columns(pl.col(pl.Duration).dt.to_string("iso"))
    transcoded = codecs.lookup(encoding).name != "utf-8"
    out = io.BytesIO() if transcoded else stream
    df.write_csv(
        out,
        include_header=False,
        separator=layout.delimiter,
        line_terminator=layout.line_terminator,
        decimal_comma=layout.decimal_comma,
        null_value='""' if df.width == 1 and not floats_quoted else None,
    )
    if transcoded:
        data = out.getvalue()
        if not (data.isascii() and _ascii_compatible(encoding)):
            try:
                data = data.decode("utf-8").encode(encoding)
            except UnicodeEncodeError:
                raise _unencodable(df, encoding, rows_before) from None
        stream.write(data)


def _ascii_compatible(encoding: str) -> bool:
    return "a\n".encode(encoding) == b"a\n"


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _unencodable(df: pl.DataFrame, encoding: str, rows_before: int) -> SoftnormError:
    """The error naming the first cell of ``df`` (by row, then column) that ``encoding`` cannot hold.

    Only cells with a character beyond ASCII are tried, each distinct one once.
    """
    first = None
    for name, dtype in df.schema.items():
        if dtype != pl.String:
            continue
        cells = df.get_column(name)
        wide = cells.filter(~cells.str.contains(r"^[\x00-\x7f]*$")).unique()
        bad = [text for text in wide if not _encodable(text, encoding)]
        if bad:
            row = int(cells.is_in(bad).arg_true()[0])
            if first is None or row < first[0]:
                first = (row, name, cells[row])
    if first is None:
        return _unwritable("a character of the output", encoding)
    row, name, text = first
    return _unwritable(f"column {name!r}, row {rows_before + row + 1}: {text!r}", encoding)


def _unwritable(what: str, encoding: str) -> SoftnormError:
    return SoftnormError(f"{what} cannot be written in {encoding} (choose another --output-encoding, such as utf-8)")

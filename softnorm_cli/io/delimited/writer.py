"""Writing CSV and TSV: the header as it came, and rows with polars.

Only fields that need it are quoted, so a column softnorm did not touch is
written back with the text it was read with.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import polars as pl

from softnorm_cli.io.base import Layout


def write_table(batches: Iterator[pl.DataFrame], schema: pl.Schema, stream, layout: Layout) -> None:
    """The header, then each batch's rows as it comes, flushed: rows of an endless pipe go out as they are made."""
    if layout.header:
        stream.write(header_line(schema.names(), layout.delimiter))
    for df in batches:
        write_rows(df, stream, layout.delimiter, layout.decimal_comma)
        stream.flush()


def header_line(names: Sequence[str], separator: str) -> bytes:
    """The header as it went in: names quoted only where CSV needs it (an empty name stays empty)."""
    cells = [_quoted(name, separator) for name in names]
    if cells == [""]:
        cells = ['""']  # a lone empty name would be a blank line
    return (separator.join(cells) + "\n").encode("utf-8")


def _quoted(text: str, separator: str) -> str:
    if any(ch in text for ch in (separator, '"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_rows(df: pl.DataFrame, stream, separator: str, decimal_comma: bool = False) -> None:
    """Write the rows of ``df`` (no header). With one column a missing value is written
    as ``""``: an empty line would be skipped by most readers, and the row lost."""
    # With decimal commas and a comma delimiter polars quotes every float
    # cell, the empty ones too; a null value of "" would then be quoted again.
    floats_quoted = decimal_comma and separator == ","
    df.write_csv(
        stream,
        include_header=False,
        separator=separator,
        decimal_comma=decimal_comma,
        null_value='""' if df.width == 1 and not floats_quoted else None,
    )

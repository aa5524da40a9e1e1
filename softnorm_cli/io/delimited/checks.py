"""Checking blocks of CSV records: the text, the fields of each record, the header, and where a parse failed.

These run on the bytes of a block, beside the parser: a check that finds
nothing costs a pass of memchr at most, and the work to say exactly where a
problem is (a line number) is done only when there is one.
"""

from __future__ import annotations

import io
import re

import numpy as np

from softnorm_cli.errors import DECIMAL_COMMA, DECIMAL_COMMA_HINT, MalformedInputError, SoftnormError
from softnorm_cli.io.delimited.dialect import TITLE_LINES

_QUOTE = ord('"')
_NEWLINE = ord("\n")


def records(block: bytes, delimiter: str) -> tuple[np.ndarray, np.ndarray]:
    """Where each record of ``block`` starts and how many fields it has (0 for a blank line)."""
    data = np.frombuffer(block, dtype=np.uint8)
    ends_mask = data == _NEWLINE
    separators = data == ord(delimiter)
    quotes = data == _QUOTE
    if quotes.any():
        # A newline or delimiter is a real one when an even number of quotes precede it.
        # A uint8 running count wraps at 256, which keeps its parity.
        outside = (np.cumsum(quotes, dtype=np.uint8) & 1) == 0
        ends_mask &= outside
        separators &= outside
    ends = np.flatnonzero(ends_mask)
    if len(block) and block[-1] != _NEWLINE:
        ends = np.append(ends, len(block))  # the last record, without a final newline
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    positions = np.flatnonzero(separators)
    fields = np.searchsorted(positions, ends) - np.searchsorted(positions, starts) + 1
    length = ends - starts
    carriage = length == 1
    carriage[carriage] = data[starts[carriage]] == ord("\r")
    fields[(length == 0) | carriage] = 0
    return starts, fields


def check_encoding(block: bytes, name: str, line: int) -> None:
    """Refuse binary data and invalid UTF-8, naming the line, instead of parsing garbage."""
    if b"\x00" in block:
        at = line + block.count(b"\n", 0, block.index(b"\x00"))
        raise SoftnormError(f"{name}, line {at}: not text (it holds binary data)")
    if block.isascii():
        return
    try:
        block.decode("utf-8")
    except UnicodeDecodeError as e:
        at = line + block.count(b"\n", 0, e.start)
        raise SoftnormError(
            f"{name}, line {at}: not UTF-8 text (byte 0x{block[e.start]:02x}); "
            "name the encoding with --encoding, e.g. --encoding cp1252 for a Windows export, or latin-1"
        ) from None



def check_unique(names: list[str], source: str) -> None:
    # polars renames a repeated name; writing that back would change the header.
    present = set(names)
    for name in names:
        base = name.rpartition("_duplicated_")[0]
        if base and base in present:
            raise MalformedInputError(f"{source}: column name {base!r} appears more than once in the header")


def describe_error(block: bytes, name: str, separator: str, line: int, names: list[str] | None) -> str:
    """Find the line polars choked on, re-reading the block with the csv module (error path only).

    ``names`` is None when the block starts the table, its first record the header (or the first row).
    """
    import csv

    text = block.decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True)
    width = len(names) if names else None
    start = 1  # the line the record being read starts on
    try:
        for record in reader:
            width = len(record) if width is None else width
            if len(record) != width and record:
                at = line + reader.line_num - 1
                message = f"{name}, line {at}: {len(record)} fields, expected {width}"
                if width == 1 and separator == "," and re.fullmatch(DECIMAL_COMMA, ",".join(record).strip()):
                    message += DECIMAL_COMMA_HINT
                elif names is None and width == 1 and len(record) > 1 and reader.line_num <= TITLE_LINES:
                    # One field a line, then many: the lines above are a title, not the header and rows.
                    message += f"; if the lines above are a title, skip them with --skip-rows {at - 1}"
                return message
            start = reader.line_num + 1
    except csv.Error as e:
        if "unexpected end of data" in str(e):  # an open quote takes the rest of the input
            return f"{name}, line {line + start - 1}: a quoted field that is never closed"
        return f"{name}, line {line + reader.line_num - 1}: malformed CSV ({e})"
    return f"{name}: malformed CSV"

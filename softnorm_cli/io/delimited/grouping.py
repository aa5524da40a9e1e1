"""Thousands separators in the text of numbers: taken out of the numbers read, put into the results written.

A number read with ``--thousands`` may group its integer digits, and only
well-formed groups count: one to three digits (not a lone zero), then groups
of exactly three, before any decimal part (``1.234.567,8`` with a point, but
not ``1.23,4``, ``12.34`` or ``0.500``). A cell that holds the separator in
any other way is not a number. A cell without it is read as it would be
without the option (``1234,5`` too).

Both ways are polars string expressions over whole columns.
"""

from __future__ import annotations

import re

import polars as pl


def ungrouped(text: pl.Expr, thousands: str, decimal_comma: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """``text`` with the separators of well-formed groups taken out, and which cells hold it otherwise.

    A cell that holds the separator badly comes out as null: it is to be
    refused, never read as some other number.
    """
    sep, point = re.escape(thousands), "," if decimal_comma else r"\."
    well = rf"^[+-]?[1-9][0-9]{{0,2}}(?:{sep}[0-9]{{3}})+(?:{point}[0-9]*)?$"
    holds = text.str.contains(thousands, literal=True)
    malformed = holds & ~text.str.contains(well)
    plain = pl.when(malformed).then(None).otherwise(text.str.replace_all(thousands, "", literal=True))
    return plain, malformed.fill_null(False)


def grouped(text: pl.Expr, thousands: str) -> pl.Expr:
    """Numbers as text (``-1234567.5``, ``1e+20``) with ``thousands`` between the groups of their integer digits.

    The integer digits are reversed, a separator goes after every third,
    and they are reversed back; the sign, the decimals and an exponent stay
    as they were, and text that is not a number (``NaN``, ``inf``) too.
    """
    parts = text.str.extract_groups(r"^([+-]?)([0-9]+)(.*)$")
    digits = parts.struct.field("2").str.reverse().str.replace_all(r"([0-9]{3})", "${1}\x00").str.strip_chars_end("\x00")
    joined = pl.concat_str(
        parts.struct.field("1"), digits.str.reverse().str.replace_all("\x00", thousands, literal=True), parts.struct.field("3")
    )
    return pl.when(parts.struct.field("2").is_null()).then(text).otherwise(joined)


def with_groups(frame: pl.DataFrame, names: list[str], thousands: str, decimal_comma: bool = False) -> pl.DataFrame:
    """``frame`` with its result columns ``names`` as text, their numbers grouped by ``thousands``.

    Numbers are spelled as the CSV writer spells them (with a decimal comma
    if asked); a column already text (integers mixed with decimals) is
    spelled so already.
    """
    columns = []
    for name in names:
        column = pl.col(name)
        if frame.schema[name] != pl.String:
            text = column.cast(pl.String)
            column = text.str.replace(".", ",", literal=True) if decimal_comma and frame.schema[name].is_float() else text
            if not _has_thousands(frame[name]):  # z-scores, probabilities: nothing to group, and no regex to run
                columns.append(column.alias(name))
                continue
        columns.append(grouped(column, thousands).alias(name))
    return frame.with_columns(columns)


def _has_thousands(numbers: pl.Series) -> bool:
    """Whether any finite number of ``numbers`` has four integer digits or more."""
    size = numbers.abs()
    return bool(((size >= 1000) & size.is_finite()).any()) if numbers.dtype.is_float() else bool((size >= 1000).any())

"""Types for the text columns of a CSV written as Parquet: the narrowest that loses nothing.

A column becomes Int64 when every present cell is a plain integer that
Int64 holds (``007`` is not: its zeros would be lost), else Float64 when every
present cell is a decimal number that float64 holds exactly enough to give it
back (at most 15 significant digits, inside float64's normal range, no zero
padding), else it stays text. With decimal commas, ``1,5`` is a decimal and
``1.5`` is not (a point may group thousands). With a thousands separator
(``--thousands``), a cell whose groups are well formed is the number without
them (``1.234,5`` is 1234.5), and a column with a badly grouped cell stays
text (see :mod:`~.grouping`). In every column, text ones
too, an empty cell or a missing-value marker becomes a null. A type must
hold for the whole input, so every batch is looked at before the first is
written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from softnorm_cli.io.base import Batch
from softnorm_cli.io.delimited.grouping import ungrouped

_INTEGER = r"^-?(0|[1-9][0-9]*)$"
# No zero padding (007.5) and no plus sign: they would not come back.
_DECIMAL = r"^-?((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
#: float64 gives back any decimal of up to 15 significant digits.
_FLOAT_DIGITS = 15
_SMALLEST_NORMAL = 2.2250738585072014e-308


def lossless_types(
    batches: Iterable[Batch],
    names: Sequence[str],
    na_values: Sequence[str],
    decimal_comma: bool = False,
    thousands: str | None = None,
) -> TypeInference:
    """The types of the text columns ``names``, decided over every batch of a table."""
    types = TypeInference(names, na_values, decimal_comma, thousands)
    for batch in batches:
        types.add(batch.frame)
    return types


class TypeInference:
    """The lossless type of each of ``names``, narrowed batch by batch."""

    def __init__(self, names: Sequence[str], na_values: Sequence[str], decimal_comma: bool = False, thousands: str | None = None):
        self._candidates: dict[str, list[pl.DataType]] = {name: [pl.Int64, pl.Float64] for name in names}
        self._markers = list(na_values)
        self._decimal_comma = decimal_comma
        self._thousands = thousands

    def add(self, frame: pl.DataFrame) -> None:
        for name, kinds in self._candidates.items():
            if not kinds:
                continue
            present = frame.select(self._plain(pl.col(name)).filter(~self._missing(pl.col(name)))).to_series()
            if present.null_count():  # a badly grouped number: text
                kinds.clear()
                continue
            if pl.Int64 in kinds and not _integers(present):
                kinds.remove(pl.Int64)
            if pl.Float64 in kinds and not self._decimals(present):
                kinds.remove(pl.Float64)

    def types(self) -> dict[str, pl.DataType]:
        """Each column's type: the narrowest candidate left, else text."""
        return {name: (kinds[0] if kinds else pl.String) for name, kinds in self._candidates.items()}

    def apply(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` with its text columns in their inferred types, missing cells as nulls."""
        casts = []
        for name, kind in self.types().items():
            text = self._plain(pl.col(name)) if kind != pl.String else pl.col(name)
            if kind == pl.Float64 and self._decimal_comma:
                text = text.str.replace(",", ".", literal=True)
            casts.append(pl.when(self._missing(pl.col(name))).then(None).otherwise(text).cast(kind).alias(name))
        return frame.with_columns(casts) if casts else frame

    def _plain(self, column: pl.Expr) -> pl.Expr:
        return column if self._thousands is None else ungrouped(column, self._thousands, self._decimal_comma)[0]

    def _missing(self, column: pl.Expr) -> pl.Expr:
        # Exact cells only: a text column's " " or " NA " is text someone wrote.
        return column.is_null() | (column == "") | column.is_in(self._markers)

    def _decimals(self, present: pl.Series) -> bool:
        if self._decimal_comma:
            if present.str.contains(".", literal=True).any():
                return False
            present = present.str.replace(",", ".", literal=True)
        return _decimals(present)


def _integers(present: pl.Series) -> bool:
    return bool(present.str.contains(_INTEGER).all()) and present.cast(pl.Int64, strict=False).null_count() == 0


def _decimals(present: pl.Series) -> bool:
    if not present.str.contains(_DECIMAL).all():
        return False
    mantissa = (
        present.str.replace(r"[eE].*$", "").str.replace_all(r"[+\-.]", "").str.strip_chars_start("0").str.strip_chars_end("0")
    )
    if present.len() and mantissa.str.len_chars().max() > _FLOAT_DIGITS:
        return False
    values = present.cast(pl.Float64)
    # Out of range: inf, or a nonzero decimal that comes back as zero or subnormal.
    lost = ~values.is_finite() | ((values.abs() < _SMALLEST_NORMAL) & (mantissa != ""))
    return not lost.any()

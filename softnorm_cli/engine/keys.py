"""Group keys: the values of the ``--group-by`` columns, as group codes 0, 1, 2, ...

A group is the rows that share the values of the key columns. Each new key
gets the next code, in order of first appearance, so the codes, and with
them the order of the groups in a parameters file, depend on the data alone.
Keys compare as text, whatever the format: a Parquet integer 7 is the key
``"7"``, a date ``"2024-01-31"``. A missing value (an empty cell, a
missing-value marker, a null, a float NaN) is a key of its own, as pandas'
``groupby(dropna=False)`` has it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from softnorm_cli.engine.values import type_name
from softnorm_cli.errors import SoftnormError

_CODE = "__softnorm_group__"
#: A row whose key a fixed index does not know.
UNSEEN = -1


class UnseenGroupError(SoftnormError):
    def __init__(self, names: Sequence[str], key: tuple, row: int):
        super().__init__(
            f"row {row}: group {describe(names, key)} is not in the parameters "
            "(use --unseen nan to write missing values for new groups)"
        )


class KeyIndex:
    """The keys seen so far and their codes; ``fixed`` refuses to learn new ones."""

    def __init__(self, names: Sequence[str], na_values: Sequence[str] = (), keys: Sequence[tuple] | None = None):
        self.names = list(names)
        self._markers = [v for v in na_values if v != ""]
        self.fixed = keys is not None
        schema = {**dict.fromkeys(self.names, pl.String), _CODE: pl.UInt32}
        rows = [(*key, code) for code, key in enumerate(keys or ())]
        self._table = pl.DataFrame(rows, schema=schema, orient="row")

    def __len__(self) -> int:
        return self._table.height

    def keys(self) -> list[tuple]:
        """Every key, in code order."""
        return self._table.select(self.names).rows()

    def codes(self, frame: pl.DataFrame) -> np.ndarray:
        """The group code of each row of ``frame``; new keys get new codes unless ``fixed``,
        where they get :data:`UNSEEN`."""
        keys = frame.select(self._as_text(name, frame.schema[name]) for name in self.names)
        codes = self._looked_up(keys)
        if not self.fixed:
            new = codes.is_null()
            if new.any():  # after the first batches, seldom: the keys are known
                unknown = keys.filter(new).unique(maintain_order=True)
                start = self._table.height
                numbered = unknown.with_columns(pl.int_range(start, start + unknown.height, dtype=pl.UInt32).alias(_CODE))
                self._table = pl.concat([self._table, numbered])
                codes = self._looked_up(keys)
        return codes.fill_null(UNSEEN).cast(pl.Int64).to_numpy()

    def _looked_up(self, keys: pl.DataFrame) -> pl.Series:
        found = keys.join(self._table, on=self.names, how="left", nulls_equal=True, maintain_order="left")
        return found.get_column(_CODE)

    def key_of(self, frame: pl.DataFrame, row: int) -> tuple:
        """The key of one row of ``frame`` (0-based), as :meth:`codes` reads it."""
        return frame.slice(row, 1).select(self._as_text(n, frame.schema[n]) for n in self.names).row(0)

    def _as_text(self, name: str, dtype: pl.DataType) -> pl.Expr:
        column = pl.col(name)
        if dtype == pl.String:
            missing = column == ""
            if self._markers:
                missing = missing | column.is_in(self._markers)
            return pl.when(missing).then(None).otherwise(column).alias(name)
        if dtype.is_float():
            return pl.when(column.is_nan()).then(None).otherwise(column).cast(pl.String).alias(name)
        if dtype.is_nested() or dtype == pl.Binary or dtype == pl.Object:
            raise SoftnormError(f"group key column {name!r} has type {type_name(dtype)}; keys must be text, numbers or dates")
        return column.cast(pl.String).alias(name)


class RowGroups:
    """The groups of the rows being transformed: each row's group, and how many rows each group has.

    ``kept``: the codes a fit found for these very rows, if it kept them.
    """

    def __init__(self, names: Sequence[str], keys: Sequence[tuple], na_values: Sequence[str], kept: np.ndarray | None = None):
        self.keys = KeyIndex(names, na_values, keys=keys)
        self.rows = np.zeros(len(keys), dtype=np.int64)
        self.unseen_rows = 0
        self.kept = kept

    def of(self, batch, unseen: str) -> tuple[np.ndarray, np.ndarray | None]:
        """The group of each row of ``batch``, and which rows are in groups the statistics lack (or None)."""
        start, height = batch.first_row - 1, batch.frame.height
        if self.kept is not None and start + height <= len(self.kept):
            codes = self.kept[start : start + height].astype(np.intp)
        else:
            codes = self.keys.codes(batch.frame)
        missing = codes == UNSEEN
        if missing.any():
            first = int(np.argmax(missing))
            if unseen == "error":
                raise UnseenGroupError(self.keys.names, self.keys.key_of(batch.frame, first), batch.first_row + first)
            self.unseen_rows += int(missing.sum())
            codes = np.where(missing, 0, codes)
        self.rows += np.bincount(codes[~missing] if missing.any() else codes, minlength=len(self.rows))
        return codes, (missing if missing.any() else None)


def union(names: Sequence[str], keys: Sequence[tuple], other: Sequence[tuple]) -> tuple[list[tuple], np.ndarray]:
    """``keys`` followed by those of ``other`` it lacks, in their order; and the code of each of ``other`` in it."""
    index = KeyIndex(names)

    def frame(rows: Sequence[tuple]) -> pl.DataFrame:
        return pl.DataFrame(list(rows), schema=dict.fromkeys(index.names, pl.String), orient="row")

    index.codes(frame(keys))
    codes = index.codes(frame(other))
    return index.keys(), codes


def describe(names: Sequence[str], key: tuple) -> str:
    """``grp='k7'`` or ``(day='2024-01-31', desk=missing)``, for messages."""
    parts = [f"{name}={'missing' if value is None else repr(value)}" for name, value in zip(names, key)]
    return parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")"

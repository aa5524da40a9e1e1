"""JSON values in a table: what kind each key holds, and objects parsed exactly, line by line.

A key holds one kind of value: integers, numbers, booleans, strings, or
JSON (objects and arrays, a key whose values mix kinds, or one seen only
as null). JSON values are held as their text in a :data:`RAW` column, so a
JSON writer puts them back as they came and other writers write them as text.

This module is the exact path: Python's ``json`` parses each line, so every
problem is found with its line and key. The reader takes it for the sample,
and for a block the fast path (polars) cannot read exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from softnorm_cli.errors import MalformedInputError, SoftnormError, column_list

#: The type of a column of JSON values held as their text (objects, arrays, values of mixed kinds).
RAW_FIELD = "softnorm.json"
RAW = pl.Struct({RAW_FIELD: pl.String})

#: The kinds of value a key holds, and their column types (``json``: any JSON value, as text).
DTYPES = {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean, "str": pl.String, "nested": RAW, "json": RAW}
_DESCRIBED = {"int": "integers", "float": "numbers", "bool": "booleans", "str": "strings", "nested": "objects or arrays"}
_INT64 = (-(2**63), 2**63 - 1)


@dataclass
class Key:
    """A column: its name, the kind of its values, and whether the first rows held any."""

    name: str
    kind: str
    seen: bool = True


def kind_of(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "nested"


def infer_keys(objects: Iterable[dict]) -> list[Key]:
    """The keys of ``objects`` in order of first appearance, each with the kind of its values."""
    kinds: dict[str, set[str]] = {}
    for obj in objects:
        for name, value in obj.items():
            seen = kinds.setdefault(name, set())
            if value is not None:
                seen.add(kind_of(value))
    keys = []
    for name, seen in kinds.items():
        if seen == {"int", "float"}:
            seen = {"float"}  # numbers, some written as integers
        keys.append(Key(name, next(iter(seen)) if len(seen) == 1 else "json", bool(seen)))
    return keys


def parse_lines(block: bytes, name: str, first_line: int, unit: str = "line") -> tuple[list[dict], list[int]]:
    """The objects of a block of JSON Lines, and the line each is on; blank lines are skipped.

    ``unit``: what a line is called in messages (``item`` for the items of an array, one a line).
    """
    objects, lines = [], []
    for i, line in enumerate(block.split(b"\n")):
        if not line.strip():
            continue
        at = first_line + i
        try:
            obj = json.loads(line)
        except UnicodeDecodeError as e:
            raise MalformedInputError(f"{name}: {unit} {at}: not UTF-8 text (byte 0x{line[e.start]:02x}); name its encoding with --encoding") from e
        except ValueError as e:
            detail = f"{e.msg}, column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)
            raise MalformedInputError(f"{name}: {unit} {at}: not a JSON object ({detail}: {_excerpt(line)})") from e
        if not isinstance(obj, dict):
            raise MalformedInputError(f"{name}: {unit} {at}: not a JSON object ({_what(obj)}: {_excerpt(line)})")
        objects.append(obj)
        lines.append(at)
    return objects, lines


def frame_of(
    objects: Sequence[dict], lines: Sequence[int], keys: Sequence[Key], numeric: Iterable[str], name: str, unit: str = "line"
) -> pl.DataFrame:
    """``objects`` as a table of ``keys``, each in its kind's type; ``numeric`` keys as numbers
    (float64), or as text when a value is not a number, for the caller to report or read as missing.

    A key that is not among ``keys``, or a value of another kind than its key's, is an error
    naming its line: the columns and their types are fixed by the first rows.
    """
    known = {key.name for key in keys}
    for obj, at in zip(objects, lines):
        if len(obj) > len(known) or not known.issuperset(obj):
            new = next(k for k in obj if k not in known)
            raise SoftnormError(
                f"{name}: {unit} {at}: key {new!r} is not among the keys of the first rows ({column_list([k.name for k in keys])}), "
                "which fix the columns; put it in the first object (with null where it has no value)"
            )
    numeric = set(numeric)
    columns = []
    for key in keys:
        values = [obj.get(key.name) for obj in objects]
        if key.name in numeric:
            columns.append(_numbers_or_text(key.name, values))
        else:
            columns.append(_column(key, values, lines, name, unit))
    return pl.DataFrame(columns, height=len(objects)) if columns else pl.DataFrame(height=len(objects))


def _numbers_or_text(name: str, values: list) -> pl.Series:
    if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in values):
        return pl.Series(name, [None if v is None else float(v) for v in values], dtype=pl.Float64)
    return pl.Series(name, [None if v is None else as_text(v) for v in values], dtype=pl.String)


def as_text(value) -> str:
    """A value as text: a string as itself, anything else as its JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _column(key: Key, values: list, lines: Sequence[int], name: str, unit: str) -> pl.Series:
    kind = key.kind
    if kind == "json" or not key.seen:
        return raw_series(key.name, [None if v is None else json.dumps(v, ensure_ascii=False) for v in values])
    for i, v in enumerate(values):
        if v is None:
            continue
        found = kind_of(v)
        if found == kind or (kind == "float" and found == "int"):
            if found == "int" and kind == "int" and not _INT64[0] <= v <= _INT64[1]:
                raise SoftnormError(f"{name}: {unit} {lines[i]}: key {key.name!r} holds {v}, an integer too large for 64 bits")
            continue
        raise SoftnormError(
            f"{name}: {unit} {lines[i]}: key {key.name!r} holds {_excerpt(json.dumps(v, ensure_ascii=False))} ({_what(v)}), "
            f"but {_DESCRIBED[kind]} in the first rows, which fix its type"
        )
    if kind == "nested":
        return raw_series(key.name, [None if v is None else json.dumps(v, ensure_ascii=False) for v in values])
    return pl.Series(key.name, values, dtype=DTYPES[kind], strict=False)


def raw_series(name: str, texts: list) -> pl.Series:
    """JSON texts as a :data:`RAW` column."""
    return pl.Series(name, texts, dtype=pl.String).to_frame(RAW_FIELD).to_struct(name)


def _what(value) -> str:
    if value is None:
        return "null"
    return {"bool": "a boolean", "int": "an integer", "float": "a number", "str": "a string"}.get(
        kind_of(value), "an array" if isinstance(value, list) else "an object"
    )


def _excerpt(text: bytes | str, width: int = 40) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    return text if len(text) <= width else text[: width - 3] + "..."


def as_plain(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with its JSON values as text, for formats without them: a string as itself, anything else as its JSON."""
    raw = [name for name, dtype in df.schema.items() if dtype == RAW]
    if not raw:
        return df
    columns = []
    for name in raw:
        text = pl.col(name).struct.field(RAW_FIELD)
        quoted = text.str.starts_with('"')
        # Only the strings are decoded: a decode of the other values would fail.
        decoded = pl.when(quoted).then(text).str.json_decode(pl.String)
        columns.append(pl.when(quoted).then(decoded).otherwise(text).alias(name))
    return df.with_columns(columns)


def numbers_as_raw(df: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """Result columns written as text (integers beside decimals) as :data:`RAW` numbers, for JSON,
    which holds both in one key; NaN and infinities, which JSON has not, as null."""
    text = [name for name in names if df.schema[name] == pl.String]
    if not text:
        return df
    columns = []
    for name in text:
        value = pl.col(name)
        number = pl.when(value.cast(pl.Float64, strict=False).is_finite()).then(value)
        columns.append(pl.struct(number.alias(RAW_FIELD)).alias(name))
    return df.with_columns(columns)

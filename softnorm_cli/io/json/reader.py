"""Reading JSON Lines (``.jsonl``, ``.ndjson``) and JSON arrays of objects (``.json``), in batches.

The first rows (about a megabyte) fix the columns (keys, in order of first
appearance) and the kind of each (:mod:`~softnorm_cli.io.json.values`): the
reader is typed, as Parquet is, because JSON says what a value is: ``12``
is a number and ``"12"`` text. A key missing from an object is a missing
value; a key that first appears after the first rows is an error naming its
line (the columns of a streamed output are written before it is read).

Each block of whole lines (about BatchSize.bytes) is read by polars with
those types. polars reads a string where text is asked for whatever the
value is, so before trusting it two cheap looks at the block's text screen
for what would not come back exactly: a key not among the columns, and a
value of another kind after a text or JSON key. A block that fails a look,
or that polars refuses (a bad line, NaN or Infinity tokens, a string in a
number's place), is read again by Python's ``json``, exactly: it reads NaN
and Infinity (as missing and infinite numbers, as CSV's ``nan`` and ``inf``),
and names the line of any problem. A key whose values mix kinds is always
read that way, slower. An array is cut into items first (:mod:`~softnorm_cli.io.json.array`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import polars as pl

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import sniff
from softnorm_cli.io.base import Batch, BatchSize, Closing
from softnorm_cli.io.delimited.decode import TextInput
from softnorm_cli.io.json.array import array_lines
from softnorm_cli.io.json.values import DTYPES, RAW_FIELD, frame_of, infer_keys, parse_lines
from softnorm_cli.io.prefetch import prefetched

#: A key as JSON writes it, before its colon (anywhere in a line: nested keys too).
_KEY = r'"(?:[^"\\]|\\.)*"\s*:'
_REGEX_SPECIAL = set("\\.+*?()|[]{}^$#&-~")


class JsonReader(Closing):
    """JSON Lines, or a JSON array of objects, from a file or standard input (see :class:`~softnorm_cli.io.base.Reader`)."""

    metadata: dict[str, str] = {}
    delimiter = None
    typed = True  # JSON values carry their kind: a string is text even when it spells a number

    def __init__(self, text: TextInput, batch: BatchSize):
        self.name = text.name
        self.batch = batch
        self._text = text
        head = text.head
        if not head.strip():
            raise SoftnormError(f"{self.name}: input is empty")
        sniff.check_text(head, self.name)
        self.array = head.lstrip()[:1] == b"["
        self.format = "json" if self.array else "jsonl"
        self._unit = "item" if self.array else "line"
        self.labels: set[str] = set()
        self.position: tuple[int, int | None, str] = (0, text.size, "bytes" if text.size else "rows")
        if self.array:
            block = next(array_lines(iter([head]), self.name, len(head) + 1, partial=not text.complete), b"")
        else:
            block = head if text.complete else head[: head.rfind(b"\n") + 1]
        objects, lines = parse_lines(block, self.name, self._first_line, self._unit)
        if not objects:
            raise SoftnormError(f"{self.name}: input is empty" + (" (an empty array)" if self.array else ""))
        _check_records(objects, self.name)
        self.keys = infer_keys(objects)
        self.columns = [key.name for key in self.keys]
        self._columns = set(self.columns)
        sample = frame_of(objects, lines, self.keys, (), self.name, self._unit)
        # A key without a value so far is read as JSON, whatever comes; it is chosen as an empty column would be.
        self._sample = sample.with_columns(pl.lit(None, pl.Null).alias(k.name) for k in self.keys if not k.seen)
        self._spellings = {json.dumps(name, ensure_ascii=False): name for name in self.columns}
        self._nested: set[str] = set()  # keys seen only inside values so far
        self._nested_spellings: set[str] = set()
        self._known: str | None = None  # a pattern of the spellings of every key seen
        self._new_keys(_lines(block.decode("utf-8", "replace").encode("utf-8")))

    @property
    def _first_line(self) -> int:
        return 1 if self.array else self._text.first_line

    @property
    def warnings(self) -> list[str]:
        return self._text.warnings

    def close(self) -> None:
        self._text.close()

    def sample(self) -> pl.DataFrame:
        """The first rows (about a megabyte), in the types their values fix."""
        return self._sample

    def size_in_memory(self, numeric: Sequence[str] = ()) -> int | None:
        return None  # text and nested values: not told by the first rows

    # -- reading --------------------------------------------------------------

    def batches(self, numeric: Sequence[str] = (), needed: Sequence[str] | None = None, replay: bool = False) -> Iterator[Batch]:
        """The table in batches; ``numeric`` keys as float64 where their values are numbers, else as text.

        With ``needed``, only those keys are read (a fit's): the other keys are
        not looked at, so what is wrong with them is found by the read that
        writes them. A line that is not an object is found by every read.
        """
        row = 1
        for frame in prefetched(self._frames(set(numeric), None if needed is None else set(needed), replay)):
            rows = self.batch.rows or max(1, frame.height)
            for offset in range(0, max(1, frame.height), rows):
                yield Batch(frame.slice(offset, rows), row + offset)
            row += frame.height

    def _frames(self, numeric: set[str], needed: set[str] | None, replay: bool) -> Iterator[pl.DataFrame]:
        line, rows, total = self._first_line, 0, self._text.size
        with self._text.copied(replay) as copy, self._text.open() as stream:
            chunks = _chunks(stream, self.batch.bytes, copy)
            blocks = array_lines(chunks, self.name, self.batch.bytes) if self.array else _line_blocks(chunks)
            for block in blocks:
                frame = self._parse(block, line, numeric) if needed is None else self._parse_only(block, line, numeric, needed)
                line += block.count(b"\n") + (not block.endswith(b"\n"))
                rows += frame.height
                self.position = (rows, None, "rows") if total is None else (_tell(stream), total, "bytes")
                yield frame

    def _parse(self, block: bytes, line: int, numeric: set[str]) -> pl.DataFrame:
        """One block of whole lines: by polars when the screens let it, else exactly."""
        schema, text_keys, json_keys = {}, [], []
        for key in self.keys:
            if key.name in numeric:
                schema[key.name] = pl.Float64 if key.kind in ("int", "float") else pl.String
            elif key.kind == "json" and key.seen:
                return self._exact(block, line, numeric)  # mixed kinds: only Python's json tells them apart
            elif key.kind in ("str", "nested") or not key.seen:
                schema[key.name] = pl.String
                (text_keys if key.kind == "str" else json_keys).append(key)
            else:
                schema[key.name] = DTYPES[key.kind]
        try:
            text = _lines(block)
        except pl.exceptions.PolarsError:
            return self._exact(block, line, numeric)  # not UTF-8, or a control character: said with its line
        if self._other_kinds(text, text_keys, json_keys):
            return self._exact(block, line, numeric)
        extras: dict = {}
        try:
            # Flat objects with every key are told from one count of their keys (see _only_known_keys).
            df = pl.read_ndjson(block, schema=schema) if self._flat(text) else None
            if df is None or not self._only_known_keys(text, df):
                extras = dict.fromkeys(self._new_keys(text), pl.String)
                del text  # before the parse: the lines are as large as the block
                df = pl.read_ndjson(block, schema={**schema, **extras})
        except pl.exceptions.PolarsError:
            return self._exact(block, line, numeric)
        unseen = [k.name for k in self.keys if not k.seen and k.name not in numeric]
        if any(df.get_column(name).null_count() < df.height for name in [*extras, *unseen]):
            return self._exact(block, line, numeric)  # a key after the first rows (or, perhaps, a nested one)
        df = df.select(self.columns)
        wrap = [k.name for k in json_keys]
        return df.with_columns(pl.struct(pl.col(name).alias(RAW_FIELD)).alias(name) for name in wrap) if wrap else df

    def _parse_only(self, block: bytes, line: int, numeric: set[str], needed: set[str]) -> pl.DataFrame:
        """The ``needed`` keys of one block of whole lines: keys of numbers alone by polars (a value
        that is not a number fails the parse), read exactly on any failure; with others, the whole block."""
        keys = [key for key in self.keys if key.name in needed]
        if any(key.name not in numeric or key.kind not in ("int", "float") for key in keys):
            return self._parse(block, line, numeric).select(k.name for k in keys)
        try:
            return pl.read_ndjson(block, schema={key.name: pl.Float64 for key in keys})
        except pl.exceptions.PolarsError:
            return self._exact(block, line, numeric).select(k.name for k in keys)

    def _exact(self, block: bytes, line: int, numeric: set[str]) -> pl.DataFrame:
        objects, lines = parse_lines(block, self.name, line, self._unit)
        return frame_of(objects, lines, self.keys, numeric, self.name, self._unit)

    def _new_keys(self, text: pl.Series) -> list[str]:
        """The keys in ``text`` (nested ones too) that are not columns; a column's other spellings
        (escapes) are learned, for the screens.

        In valid JSON a key's token (a string before a colon) is never inside a string, so
        when the tokens are as many as the tokens of keys known, there is no other; only then
        are they listed (which takes memory). An escaped quote could hide a key's end: listed.
        """
        if not self._contains_escaped_quote(text) and self._counts_match(text):
            return list(self._nested)
        for token in text.str.extract_all(_KEY).explode().drop_nulls().unique().to_list():
            spelling = token[:-1].rstrip()
            if spelling in self._spellings or spelling in self._nested_spellings:
                continue
            try:
                key = json.loads(spelling)
            except ValueError:
                continue  # inside a string: not a key
            if key in self._columns:
                self._spellings[spelling] = key
            elif isinstance(key, str):
                self._nested_spellings.add(spelling)
                self._nested.add(key)
        self._known = None
        return list(self._nested)

    def _flat(self, text: pl.Series) -> bool:
        """Whether no key has been seen inside a value, and no escaped quote could hide a key's end."""
        return not self._nested and not self._contains_escaped_quote(text)

    def _only_known_keys(self, text: pl.Series, df: pl.DataFrame) -> bool:
        """Whether the lines of flat objects hold no key but the columns: a line with a value for
        every column and as many key tokens as columns has no other; the other lines are counted
        as :meth:`_counts_match` counts."""
        counts = text.str.count_matches(_KEY)
        if counts.len() != df.height:
            return False
        whole = df.select(pl.all_horizontal(pl.all().is_not_null())).to_series()
        if not (counts.filter(whole) == df.width).all():
            return False
        rest = text.filter(~whole)
        return rest.is_empty() or self._counts_match(rest)

    @staticmethod
    def _contains_escaped_quote(text: pl.Series) -> bool:
        return bool(text.str.contains('\\"', literal=True).any())

    def _counts_match(self, text: pl.Series) -> bool:
        if self._known is None:
            spellings = [_escaped(s) for s in [*self._spellings, *self._nested_spellings]]
            self._known = f"(?:{'|'.join(spellings)})\\s*:"
        return text.str.count_matches(_KEY).sum() == text.str.count_matches(self._known).sum()

    def _other_kinds(self, text: pl.Series, text_keys, json_keys) -> bool:
        """Whether ``text`` may hold, after a text key, a value that is not a string, or after a key
        of objects and arrays, one that is neither (a nested key of the same name looks so too)."""
        checks = []
        for keys, starts in ((text_keys, '[^"\\sn]'), (json_keys, "[^\\[{\\sn]")):
            names = {k.name for k in keys}
            spellings = [_escaped(s) for s, name in self._spellings.items() if name in names]
            if spellings:
                checks.append(f"(?:{'|'.join(spellings)})\\s*:\\s*{starts}")
        return bool(checks) and bool(text.str.contains("|".join(checks)).any())


def _lines(block: bytes) -> pl.Series:
    """The lines of a block, as text, for the screens: one string a line, each a small haystack for
    the regular expressions (on one string of megabytes they take memory in proportion).
    A raw control character, which JSON does not hold, fails this, as invalid UTF-8 does."""
    return pl.read_csv(block, has_header=False, separator="\x01", quote_char=None, schema={"line": pl.String})["line"]


def _check_records(objects: list[dict], name: str) -> None:
    """Refuse JSON that is one table written whole (pandas' other layouts): its one object would be one row."""
    if len(objects) != 1:
        return
    keys = set(objects[0])
    if {"columns", "data"} <= keys or {"schema", "data"} <= keys:
        layout = "split" if "columns" in keys else "table"
    elif all(isinstance(v, (dict, list)) for v in objects[0].values()):
        layout = "columns"
    else:
        return
    raise SoftnormError(
        f"{name}: is one JSON object holding a table (pandas' {layout!r} layout), not records; softnorm reads "
        "JSON Lines (an object a line) and arrays of objects: write it with to_json(orient='records', lines=True)"
    )


def _escaped(text: str) -> str:
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


def _chunks(stream, size: int, copy) -> Iterator[bytes]:
    """The stream in chunks of ``size`` bytes (less when a pipe pauses), copied to ``copy`` if given."""
    while True:
        parts, n = [], 0
        while n < size:
            part = stream.read(size - n)
            if not part:
                break
            parts.append(part)
            n += len(part)
            if getattr(stream, "paused", None) is not None and stream.paused():
                break
        if not parts:
            return
        box = [b"".join(parts) if len(parts) > 1 else parts[0]]
        del parts
        if copy is not None:
            copy.write(box[0])
        yield box.pop()  # held by the consumer alone, which may let it go before the next


def _line_blocks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Blocks of whole lines: JSON Lines has no line break inside a line, so each block ends at its last."""
    carry = b""
    for chunk in chunks:
        end = chunk.rfind(b"\n") + 1
        if not end:
            carry += chunk  # a line longer than a chunk: read on
            continue
        block = carry + chunk[:end] if carry else chunk[:end]  # one copy of the chunk, not two
        carry = chunk[end:]
        del chunk
        yield block
    if carry.strip():
        yield carry


def _tell(stream) -> int:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0

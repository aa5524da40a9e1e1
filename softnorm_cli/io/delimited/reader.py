"""Reading CSV and TSV: blocks of whole records, each parsed by polars and checked.

There is one way through a text table. :func:`~.blocks.blocks` cuts the
text after the last complete record within the batch size, polars parses the
block (the columns being normalized straight to float64, every other field
as text, so a column softnorm does not touch is written back as it came),
and the block is checked beside the parse, cheaply when it is clean:

* a row with too many fields fails the parse, as does invalid UTF-8;
* a row with too few fields, or a blank line, leaves the last column empty:
  only then are the block's delimiters counted, and only if they fall
  short are its records looked at one by one;
* any failure is located by a second look at the block alone (the error
  path), so every message names the file line.

The next block is read and parsed in a background thread while the current
one is used. A numeric column that turns out to hold text (``NA`` markers, a
stray word) is parsed as text from then on, for the caller to convert or
report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import polars as pl

from softnorm_cli.errors import MalformedInputError, SoftnormError
from softnorm_cli.io import sniff
from softnorm_cli.io.base import Batch, BatchSize, Closing, Dialect
from softnorm_cli.io.delimited.blocks import blocks, record_end
from softnorm_cli.io.delimited.checks import check_encoding, check_unique, describe_error, records
from softnorm_cli.io.delimited.decode import TextInput
from softnorm_cli.io.delimited.dialect import sniff_delimiter
from softnorm_cli.io.prefetch import prefetched


class CsvReader(Closing):
    """A delimited text table: a file or standard input (see :class:`~softnorm_cli.io.base.Reader`)."""

    metadata: dict[str, str] = {}
    typed = False  # every field is text; numbers are parsed

    def __init__(
        self, text: TextInput, fmt: str, dialect: Dialect, batch: BatchSize,
        names: Sequence[str] | None = None, first_row: int = 0,
    ):
        # ``names``: the text is a partition of a file after its first, with that header; ``first_row``: the rows before it.
        self.name = text.name
        self.format = fmt
        self.dialect = dialect
        self.batch = batch
        self.first_row = first_row
        self._text = text
        self._header = dialect.header and names is None  # whether the text starts with the header
        self.delimiter = dialect.delimiter or ("\t" if fmt == "tsv" else sniff_delimiter(text.head, dialect.header, dialect.decimal_comma))
        self._names: list[str] | None = None if names is None else list(names)
        self._as_text: set[str] = set()  # numeric columns found to need text parsing
        self.position: tuple[int, int | None, str] = (0, text.size, "bytes" if text.size else "rows")
        self._sample = self._read_sample()
        self._names = self._sample.columns
        self.columns = list(self._names)
        # pandas writes its row labels as a first column without a name.
        self.labels = {""} if dialect.header and self.columns[:1] == [""] else set()

    @property
    def text(self) -> TextInput:
        """Where the text comes from (what a partitioning needs to know of it)."""
        return self._text

    def close(self) -> None:
        self._text.close()

    @property
    def warnings(self) -> list[str]:
        """What the text read so far suggests about its encoding."""
        return self._text.warnings

    def sample(self) -> pl.DataFrame:
        """The first rows (about a megabyte), every field as text: enough to choose columns."""
        return self._sample

    def size_in_memory(self, numeric: Sequence[str] = ()) -> int | None:
        """The parsed size of the whole table, from its first rows: 8 bytes a row for each
        ``numeric`` column, what the first rows' text takes in polars for the others
        (a column passed through as text costs more than its characters)."""
        if self._text.path == "-" or self._text.codec or self._text.encoding != "utf-8" or not self._sample.height:
            return None  # compressed or transcoded text is of unknown size
        numeric = set(numeric)
        per_row = sum(8.0 if name in numeric else self._sample[name].estimated_size() / self._sample.height for name in self.columns)
        return int(self._text.size / self._sample_bytes * self._sample.height * per_row)

    def _read_sample(self) -> pl.DataFrame:
        head = self._text.head
        if not head.strip():
            raise SoftnormError(f"{self.name}: input is empty")
        sniff.check_text(head, self.name)
        # polars takes the header's names as they come, invalid UTF-8 and all: the data it checks itself.
        check_encoding(head, self.name, self._text.first_line)
        if not self._text.complete:
            end = record_end(head, len(head))
            head = head[:end] if end > 0 else head
        self._sample_bytes = max(1, len(head))
        return self._parse(head, True, (), self._text.first_line)[0]

    # -- reading --------------------------------------------------------------

    def batches(self, numeric: Sequence[str] = (), needed: Sequence[str] | None = None, replay: bool = False) -> Iterator[Batch]:
        """The table in batches; ``numeric`` columns are parsed as float64 where they parse.

        Every column is parsed whatever is ``needed``: a record's fields are
        checked by the parse of all of them. ``replay`` copies standard input
        aside for another read.

        An input smaller than a batch, which the sample holds whole, is that
        one batch, its columns text (the caller parses the numbers): it is
        parsed once, however often it is read.
        """
        if self._text.complete and self._sample_bytes <= self.batch.bytes:
            self.position = (self._sample.height, self._sample.height, "rows")
            frames = iter([self._sample])
        else:
            frames = prefetched(self._frames(set(numeric), replay))
        row = 1 + self.first_row
        for frame in frames:
            yield from _sliced(Batch(frame, row), self.batch.rows)
            row += frame.height

    def _frames(self, numeric: set[str], replay: bool) -> Iterator[pl.DataFrame]:
        """Each block of the input, parsed and checked."""
        first, line, rows = True, self._text.first_line, 0
        total = self._text.size
        with self._text.copied(replay) as copy, self._text.open() as stream:
            for block in blocks(stream, self.batch.bytes):
                if copy is not None:
                    copy.write(block)
                frame, blank = self._parse(block, first, numeric, line)
                # Without quotes every record is one line: no need to count them.
                lines = block.count(b"\n") if b'"' in block else frame.height + blank + (first and self._header)
                first, line, rows = False, line + lines, rows + frame.height
                self.position = (rows, None, "rows") if total is None else (_tell(stream), total, "bytes")
                yield frame
        if first:
            raise SoftnormError(f"{self.name}: input is empty")

    def _parse(self, block: bytes, first: bool, numeric: set[str] | Sequence[str], line: int) -> tuple[pl.DataFrame, int]:
        """Parse one block of whole records, and count the blank lines dropped from it.

        ``line`` is the file line the block starts on.
        """
        header = first and self._header
        if b"\x00" in block:  # polars would read it as text
            check_encoding(block, self.name, line)
        names = self._names
        if block[:1] in (b"\n", b"\r"):  # only then a copy of the block: it starts with a blank line
            rest = block.lstrip(b"\r\n")
            if names is not None and not rest:
                return self._blank_block(block)
            if names is None or len(names) > 1:
                # polars takes the width of a block from its first line: blank
                # lines must not come first (they are not rows anyway).
                skipped = block[: len(block) - len(rest)].count(b"\n")
                df, blank = self._parse(rest, first, numeric, line + skipped)
                return df, blank + skipped
        schema = None
        if names is not None:
            if self.dialect.decimal_comma or self.dialect.thousands:
                numeric = ()  # as text, so that a decimal point or a badly placed separator can be refused (see values.parsed)
            schema = {n: (pl.Float64 if n in numeric and n not in self._as_text else pl.String) for n in names}
        try:
            df = self._read_csv(block, header, schema)
        except pl.exceptions.PolarsError:
            if schema is None or pl.Float64 not in schema.values():
                self._raise_malformed(block, line, header)
            # Perhaps a value that is not a plain number: read the block as
            # text, and the columns that need it as text from now on.
            try:
                df = self._read_csv(block, header, dict.fromkeys(names, pl.String))
            except pl.exceptions.PolarsError:
                self._raise_malformed(block, line, header)
            self._as_text.update(name for name in numeric if name in df.columns and not _parses(df[name], self.dialect))
        if names is None:
            if not self.dialect.header:
                df.columns = [str(i) for i in range(1, df.width + 1)]
            check_unique(df.columns, self.name)
            names = df.columns
        if df.height and df.get_column(df.columns[-1]).null_count():
            # A short row leaves its last fields empty: only then look closer.
            return self._complete_records(df, block, line, header, len(names))
        return df, 0

    def _blank_block(self, block: bytes) -> tuple[pl.DataFrame, int]:
        """A block of blank lines only (polars cannot parse one): no rows, or empty cells in one column."""
        lines = block.count(b"\n") + (not block.endswith(b"\n"))
        if len(self._names) > 1:
            return pl.DataFrame(schema=dict.fromkeys(self._names, pl.String)), lines
        return pl.DataFrame({self._names[0]: [None] * lines}, schema={self._names[0]: pl.String}), 0

    def _read_csv(self, block: bytes, header: bool, schema) -> pl.DataFrame:
        try:
            return pl.read_csv(
                block,
                has_header=header,
                separator=self.delimiter,
                schema=schema,
                infer_schema=False,
                decimal_comma=self.dialect.decimal_comma,
                raise_if_empty=False,
            )
        except pl.exceptions.NoDataError:
            return pl.DataFrame(schema=schema)

    def _complete_records(
        self, df: pl.DataFrame, block: bytes, line: int, header: bool, width: int
    ) -> tuple[pl.DataFrame, int]:
        """Refuse short rows; drop blank lines, which are not rows (except in one column, where they are empty cells).

        The parse found no record with too many fields, so a block whose
        records have all their fields holds exactly ``width - 1`` delimiters
        per record: without quotes, counting them settles it.
        """
        records_seen = df.height + header
        if b'"' not in block:
            delimiters = np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == ord(self.delimiter))
            if delimiters == (width - 1) * records_seen:
                return df, 0
        starts, fields = records(block, self.delimiter)
        if header:
            starts, fields = starts[1:], fields[1:]
        if len(fields) != df.height:  # polars and this count disagree: let the csv module say where
            self._raise_malformed(block, line, header)
        blank = fields == 0
        short = (fields < width) & ~blank
        if short.any():
            i = int(np.argmax(short))
            at = line + block.count(b"\n", 0, int(starts[i]))
            count = max(int(fields[i]), 1)
            raise MalformedInputError(f"{self.name}, line {at}: {count} field{'s' if count != 1 else ''}, expected {width}")
        if width > 1 and blank.any():
            return df.filter(pl.Series(~blank)), int(blank.sum())
        return df, 0

    def _raise_malformed(self, block: bytes, line: int, header: bool):
        check_encoding(block, self.name, line)  # polars refuses invalid UTF-8 without saying where
        raise MalformedInputError(describe_error(block, self.name, self.delimiter, line, None if header else self._names))


def _sliced(batch: Batch, rows: int | None) -> Iterator[Batch]:
    if rows is None or batch.frame.height <= rows:
        yield batch
        return
    for offset in range(0, batch.frame.height, rows):
        yield Batch(batch.frame.slice(offset, rows), batch.first_row + offset)


def _parses(column: pl.Series, dialect: Dialect) -> bool:
    """Whether every present cell of a text column is a plain number to polars."""
    text = column.str.strip_chars()
    if dialect.decimal_comma:
        text = text.str.replace(",", ".", literal=True)
    present = text.is_not_null() & (text != "")
    return text.cast(pl.Float64, strict=False).is_not_null().sum() == present.sum()


def _tell(stream) -> int:
    try:
        return stream.tell()
    except (OSError, ValueError):
        return 0

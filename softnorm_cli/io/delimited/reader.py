"""CSV and TSV: reading in blocks of whole records with polars, and writing.

The columns being normalized are parsed straight to float64 by polars; every
other field stays text, so a column softnorm does not transform is written
back exactly as it came. A numeric column that turns out to hold text (``NA``
markers, a stray word) is read as text from then on, for the caller to
convert or report.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
import polars as pl

from softnorm_cli.errors import MalformedInputError, SoftnormError
from softnorm_cli.io import sniff
from softnorm_cli.io.base import Batch, BatchSize, Dialect, ReadAgain, Reader
from softnorm_cli.io.delimited.blocks import blocks, record_end
from softnorm_cli.io.delimited.checks import check_encoding, check_unique, describe_error, records
from softnorm_cli.io.delimited.decode import TextInput
from softnorm_cli.io.delimited.dialect import sniff_delimiter
from softnorm_cli.io.prefetch import prefetched


class CsvReader(Reader):
    """A delimited text table: a file or standard input (see :mod:`softnorm_cli.io.source`)."""

    metadata: dict[str, str] = {}
    typed = False  # every field is text; numbers are parsed

    def __init__(self, text: TextInput, fmt: str, dialect: Dialect, batch: BatchSize):
        self.name = text.name
        self.format = fmt
        self.dialect = dialect
        self.batch = batch
        self._text = text
        self.delimiter = dialect.delimiter or ("\t" if fmt == "tsv" else sniff_delimiter(text.head, text.complete))
        self._names: list[str] | None = None
        self._as_text: set[str] = set()  # numeric columns found to need text parsing
        # Whether polars' own reader may try (a plain UTF-8 file), and whether a read found it clean.
        self._may_read_natively = text.plain and not dialect.decimal_comma
        self._checked = False
        self.position: tuple[int, int | None, str] = (0, text.size, "bytes" if text.size else "rows")
        self._sample = self._read_sample()
        self._names = self._sample.columns
        self.columns = list(self._names)
        self.schema = pl.Schema({name: pl.String for name in self._names})
        # pandas writes its row labels as a first column without a name.
        self.labels = {""} if dialect.header and self.columns[:1] == [""] else set()

    def __enter__(self) -> CsvReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._text.close()

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
        if not self._text.complete:
            end = record_end(head, len(head))
            head = head[:end] if end > 0 else head
        self._sample_bytes = max(1, len(head))
        return self._parse(head, True, (), self._text.first_line)[0]

    # -- reading --------------------------------------------------------------

    def _batches(
        self, numeric: Sequence[str], only: Sequence[str] | None, replay: bool, tentative: bool = False
    ) -> Iterator[Batch]:
        """The table in batches; ``numeric`` columns are parsed as float64 where they parse.

        ``only`` reads just those columns (and the last, which shows short
        rows); ``replay`` copies standard input aside for another pass.

        A read in blocks of whole records checks everything and says where a
        problem is. polars' own reader is faster, but checks less, and may
        pass on rows beyond a chunk it failed to parse before it says so: a
        plain UTF-8 file is read with it only when that is safe, for a
        tentative read (which can start over: :class:`ReadAgain`) or after a
        read found the file clean. An empty last field (a short row, a blank
        line, or just an empty cell) or any parse error sends the reading
        back to blocks, for good.
        """
        numeric = set(numeric)
        if only is None and (self._checked or (tentative and self._may_read_natively)):
            try:
                yield from self._numbered(self._native_frames(numeric))
                self._checked = True
                return
            except _LookCloser as e:
                self._may_read_natively = self._checked = False
                if e.passed and tentative:
                    raise ReadAgain from e
                if e.passed:  # the file was clean when it was read before
                    raise SoftnormError(f"{self.name}: the input changed while it was read") from e
        yield from self._numbered(prefetched(self._frames(numeric, self._positions(only), replay)))

    def _numbered(self, frames: Iterator[pl.DataFrame]) -> Iterator[Batch]:
        row = 1
        for frame in frames:
            yield from _sliced(Batch(frame, row), self.batch.rows)
            row += frame.height

    def _native_frames(self, numeric: set[str]) -> Iterator[pl.DataFrame]:
        """The file read by polars' streaming CSV reader, in batches of about the byte budget;
        _LookCloser where the block reader must take over."""
        schema = {n: (pl.Float64 if n in numeric and n not in self._as_text else pl.String) for n in self._names}
        scan = pl.scan_csv(
            self._text.path,
            glob=False,  # a file named scores[1].csv is that file, not a pattern
            has_header=self.dialect.header,
            separator=self.delimiter,
            schema=schema,
            infer_schema=False,
            raise_if_empty=False,
        )
        # polars reads ahead in chunks of 64 MB or more by default: chunks of the
        # batch size, one ahead, keep memory bounded (measured at 5M rows: 350
        # MiB before, 140 MiB after, at the same speed).
        os.environ.setdefault("POLARS_CSV_CHUNK_SIZE", str(self.batch.bytes))
        os.environ.setdefault("POLARS_CSV_CHUNK_PREFETCH_LIMIT", "2")
        sample_rows = max(1, self._sample.height)
        row_bytes = max(1, len(self._text.head) // sample_rows)
        rows, total, batches = 0, self._text.size, 0
        try:
            for frame in scan.collect_batches(chunk_size=max(1024, self.batch.bytes // row_bytes)):
                if frame.height and frame.get_column(frame.columns[-1]).null_count():
                    raise _LookCloser(batches)
                rows, batches = rows + frame.height, batches + 1
                self.position = (min(total, rows * row_bytes), total, "bytes")
                yield frame
        except pl.exceptions.PolarsError as e:
            raise _LookCloser(batches) from e
        if not batches:
            yield pl.DataFrame(schema=schema)  # a header without rows: still a table

    def _positions(self, only: Sequence[str] | None) -> list[int] | None:
        if only is None:
            return None
        index = {name: i for i, name in enumerate(self._names)}
        return sorted({index[name] for name in only} | {len(self._names) - 1})

    def _frames(self, numeric: set[str], positions: list[int] | None, replay: bool) -> Iterator[pl.DataFrame]:
        """Each block of the input, parsed."""
        copy = self._text.spool() if replay and not self._text.replayable else None
        first, line, rows = True, self._text.first_line, 0
        total = self._text.size
        try:
            with self._text.open() as stream:
                for block in blocks(stream, self.batch.bytes):
                    if copy is not None:
                        copy.write(block)
                    frame, blank = self._parse(block, first, numeric, line, positions)
                    # Without quotes every record is one line: no need to count them.
                    lines = block.count(b"\n") if b'"' in block else frame.height + blank + (first and self.dialect.header)
                    first, line, rows = False, line + lines, rows + frame.height
                    self.position = (rows, None, "rows") if total is None else (_tell(stream), total, "bytes")
                    yield frame
            if copy is not None:
                copy.close()
                self._text.spooled()
        finally:
            if copy is not None and not copy.closed:
                copy.close()
        if first:
            raise SoftnormError(f"{self.name}: input is empty")

    def _parse(
        self, block: bytes, first: bool, numeric: set[str] | Sequence[str], line: int, positions: list[int] | None = None
    ) -> tuple[pl.DataFrame, int]:
        """Parse one block of whole records, and count the blank lines dropped from it.

        ``line`` is the file line the block starts on.
        """
        header = first and self.dialect.header
        check_encoding(block, self.name, line)
        names = self._names
        if names is not None and not block.strip(b"\r\n"):
            return self._blank_block(block)
        if block[:1] in (b"\n", b"\r") and (names is None or len(names) > 1):
            # polars takes the width of a block from its first line: blank
            # lines must not come first (they are not rows anyway).
            rest = block.lstrip(b"\r\n")
            skipped = block[: len(block) - len(rest)].count(b"\n")
            df, blank = self._parse(rest, first, numeric, line + skipped, positions)
            return df, blank + skipped
        schema = None
        if names is not None:
            if self.dialect.decimal_comma:
                numeric = ()  # as text, so that a decimal point can be refused (see values.parsed)
            schema = {n: (pl.Float64 if n in numeric and n not in self._as_text else pl.String) for n in names}
        try:
            df = self._read_csv(block, header, schema, positions)
        except pl.exceptions.PolarsError:
            if schema is None or pl.Float64 not in schema.values():
                self._raise_malformed(block, line, header)
            # Perhaps a value that is not a plain number: read the block as
            # text, and the columns that need it as text from now on.
            try:
                df = self._read_csv(block, header, dict.fromkeys(names, pl.String), positions)
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
            return self._drop_blank_lines(df, block, line, header, len(names))
        return df, 0

    def _blank_block(self, block: bytes) -> tuple[pl.DataFrame, int]:
        """A block of blank lines only (polars cannot parse one): no rows, or empty cells in one column."""
        lines = block.count(b"\n") + (not block.endswith(b"\n"))
        if len(self._names) > 1:
            return pl.DataFrame(schema=dict.fromkeys(self._names, pl.String)), lines
        return pl.DataFrame({self._names[0]: [None] * lines}, schema={self._names[0]: pl.String}), 0

    def _read_csv(self, block: bytes, header: bool, schema, positions) -> pl.DataFrame:
        try:
            return pl.read_csv(
                block,
                has_header=header,
                separator=self.delimiter,
                schema=schema,
                infer_schema=False,
                columns=positions,
                decimal_comma=self.dialect.decimal_comma,
                raise_if_empty=False,
            )
        except pl.exceptions.NoDataError:
            return pl.DataFrame(schema=schema)

    def _drop_blank_lines(
        self, df: pl.DataFrame, block: bytes, line: int, header: bool, width: int
    ) -> tuple[pl.DataFrame, int]:
        """Refuse short rows; drop blank lines, which are not rows (except in one column, where they are empty cells)."""
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
        raise MalformedInputError(
            describe_error(block, self.name, self.delimiter, line, None if header else self._names)
        )


class _LookCloser(Exception):
    """polars' reader met something the block reader must look at, after passing on ``passed`` batches."""

    def __init__(self, passed: int):
        super().__init__(passed)
        self.passed = passed


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

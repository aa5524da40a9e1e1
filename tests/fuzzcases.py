"""Random command lines for softnorm, and an oracle that says what each must do.

A *case* is one run of ``softnorm softmax|minmax|zscore``: an input (bytes in
a file with some name, or on stdin), options, and maybe an output file that
already exists. ``generate(seed)`` builds one from a seed, mixing clean and
malformed inputs. The generator keeps the table it wrote (header and cells)
beside the bytes, so the oracle need not parse CSV.

``expect(case)`` is the oracle: a second, deliberately plain implementation of
the intended behaviour (numpy for the arithmetic, nothing from softnorm_cli).
It answers ``usage`` (exit 2), ``error`` (exit 1), ``success`` with the whole
expected output table, or ``unknown`` when the spec does not decide the case
(then only the properties that hold for every run are checked).

``execute(case, workdir, invoke)`` writes the files, runs the command through
``invoke(args, stdin_bytes) -> Outcome`` and returns the findings: a list of
``Finding(kind, detail)``, empty when the run behaved. ``kind`` is short and
stable so that many cases with one cause group together.

The spec, as the oracle reads it:

* Selected cells are stripped of spaces and tabs; empty cells and NA markers
  are missing; ``[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?`` and
  ``[+-]?(inf|infinity)`` (any case) are numbers, ``nan`` (any case) is
  missing; anything else is an error. ``--na-values`` replaces the markers;
  a marker that is a number also marks cells of equal value.
  ``--decimal-comma`` swaps ``.`` for ``,`` in numbers, also in the output.
* minmax and zscore refuse infinities unless ``--inf missing``; softmax gives
  ``+inf`` entries 1/k, ``-inf`` entries 0, and a group of only ``-inf`` is
  missing.
* ``--nan omit`` ignores missing values, ``propagate`` makes a group with one
  all missing, ``raise`` makes any missing selected value an error.
* Rows with too few or too many fields, unterminated quotes, invalid UTF-8
  (without ``--encoding latin-1``), garbage and empty input are errors; a
  blank line is skipped in a table of 2+ columns and is a missing value in a
  1-column table; a header without rows is a success.
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import json
import math
import os
import random
import re
import shlex
from dataclasses import dataclass, field

import numpy as np

import fuzzformats

# --------------------------------------------------------------------------
# The spec's vocabulary
# --------------------------------------------------------------------------

COMMANDS = ("softmax", "minmax", "zscore", "robust", "quantile")
DEFAULT_AXIS = {"softmax": "row", "minmax": "column", "zscore": "column", "robust": "column", "quantile": "column"}
AXIS_SPELLINGS = {"row": ("row", "rows", "1"), "column": ("column", "columns", "0"), "all": ("all", "none")}
NA_MARKERS = ("NA", "N/A", "n/a", "NaN", "nan", "-nan", "NULL", "null", "None", "<NA>", "#N/A")
SNIFFED_DELIMITERS = (",", ";", "\t", "|")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
INFINITY = re.compile(r"[+-]?(inf|infinity)", re.IGNORECASE)
ZERO_PADDED_INT = re.compile(r"[+-]?0\d+")
ERROR_PREFIX = "softnorm: error: "
RTOL, ATOL = 1e-9, 1e-12


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------


@dataclass
class Case:
    seed: int
    command: str
    options: list[str]  # every argument after the command except INPUT
    input_name: str | None  # a file in the work directory; None: the bytes go to stdin
    data: bytes
    output_name: str | None = None  # -o FILE, or None for stdout
    old_output: bytes | None = None  # what FILE holds before the run, if it exists

    # What the generator built, for the oracle.
    content: str = "csv"  # "csv", or a typed format (TYPED_CONTENT): what the bytes hold once decompressed
    delimiter: str = ","  # the delimiter the CSV was written with
    ascii: bool = False  # the CSV text is plain ASCII: every encoding reads it alike
    names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # what the generator meant each column to be
    rows: list[list] = field(default_factory=list)  # CSV: text cells; Parquet: None, int, float or str
    problems: list[str] = field(default_factory=list)  # things that make the input invalid
    usage: str | None = None  # an invalid option: exit 2
    notes: list[str] = field(default_factory=list)  # what was generated, for the report

    # Options as the oracle needs them (also present in ``options``).
    patterns: list[str] = field(default_factory=list)  # -c values
    excludes: list[str] = field(default_factory=list)  # --exclude values
    axis: str | None = None
    nan: str = "omit"
    inf_missing: bool = False
    na_values: list[str] | None = None
    decimal_comma: bool = False
    latin1: bool = False
    explicit_delimiter: str | None = None
    no_header: bool = False
    suffix: str | None = None
    to_format: str | None = None
    decimals: int | None = None
    temperature: float = 1.0
    log: bool = False
    feature_range: tuple[float, float] = (0.0, 1.0)
    ddof: int = 0
    quantile_range: tuple[float, float] = (25.0, 75.0)
    n_quantiles: int = 1000

    def args(self) -> list[str]:
        return [self.command, *([self.input_name] if self.input_name else []), *self.options]

    def command_line(self) -> str:
        """A shell command that reproduces the run in an empty directory."""
        write = f"import sys; sys.stdout.buffer.write({self.data!r})"
        run = shlex.join(["softnorm", *self.args()])
        steps = []
        if self.old_output is not None and self.output_name != self.input_name:
            old = f"import sys; sys.stdout.buffer.write({self.old_output!r})"
            steps.append(f"python3 -c {shlex.quote(old)} > {shlex.quote(self.output_name)}")
        if self.input_name:
            steps.append(f"python3 -c {shlex.quote(write)} > {shlex.quote(self.input_name)}")
            steps.append(run)
        else:
            steps.append(f"python3 -c {shlex.quote(write)} | {run}")
        return " && ".join(steps)


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------

NUMERIC_NAMES = ("a", "b", "c", "x", "y", "f1", "f2", "f3", "score", "p", "température")
TEXT_NAMES = ("name", "note", "city", "label")
ID_NAMES = ("id", "zip", "code")
UTF8_TEXT = (
    "ann", "bob smith", "x, y", 'say "hi"', "line1\nline2", 'a "quoted", multi\nline, field',
    "héllo 日本", "😀 emoji", "ÅÄÖ ß", "  padded  ", "a;b|c", "tab\there", "", "007", "1e3", "中文", "ok",
)
LATIN1_TEXT = ("café x", "Ñandú y", "Größe z", "ÿes", "naïve", "ann", "x, y", "")
ID_TEXT = ("007", "0123", "010", "00042", "0001", "099")
BAD_NUMBERS = ("abc", "1_000", "0x10", "--1", "1e", "1.2.3", "½", "12abc", "∞", "e5")
INFINITIES = ("inf", "-inf", "Infinity", "-Infinity", "+INF", "INF", "-infinity")
NANS = ("nan", "NAN", "NaN", "nAn")
CUSTOM_NA = (["-999"], ["missing"], ["NA", "?"], ["-999", "NA"], ["."], ["NULL", "-1"])
TEMPERATURES = (0.5, 2.0, 0.1, 10.0, 1.0, 0.01, 3.7)
RANGES = ("-1,1", "0,100", "10,20", "-5,-2", "0,1", "0.5,0.75")
SUFFIXES = ("_n", "_x", ".z", " norm")
BATCHES = ("1", "2", "3", "5", "1KB", "64", "1b")

# input sources: (name, weight)
SOURCES = (
    ("csv", 24), ("csv-sniffed", 14), ("tsv", 10), ("parquet", 12), ("parquet-named-csv", 3),
    ("csv.gz", 6), ("gzip-named-csv", 3), ("stdin-csv", 14), ("stdin-gzip", 3), ("stdin-parquet", 4),
    ("arrow", 4), ("arrow-stream", 2), ("stdin-arrow", 2), ("jsonl", 5), ("stdin-jsonl", 2), ("json", 2), ("xlsx", 4),
)
#: Contents whose columns come with their types (Python values in ``Case.rows``).
TYPED_CONTENT = ("parquet", "arrow", "jsonl", "json", "excel")
# whole inputs that are not a table: (name, weight); "table" is the usual case
SPECIALS = (("table", 86), ("empty", 3), ("garbage", 5), ("header-only", 6))


class _Random(random.Random):
    def chance(self, p: float) -> bool:
        return self.random() < p

    def pick(self, items):
        return items[self.randrange(len(items))]

    def weighted(self, pairs):
        names, weights = zip(*pairs)
        return self.choices(names, weights)[0]


def generate(seed: int) -> Case:
    """The case for ``seed``: the same seed always gives the same case."""
    rng = _Random(seed)
    command = rng.pick(COMMANDS)
    source = rng.weighted(SOURCES)
    special = rng.weighted(SPECIALS)
    is_parquet = "parquet" in source or source in fuzzformats.TYPED_SOURCES  # a typed table
    content = fuzzformats.CONTENT.get(source, "parquet" if is_parquet else "csv")
    case = Case(seed=seed, command=command, options=[], input_name=None, data=b"", content=content)
    case.notes += [f"source={source}", f"input={special}"]

    # Options that change how the cells are written come first.
    if not is_parquet and special == "table":
        case.latin1 = rng.chance(0.05)
        case.decimal_comma = rng.chance(0.07)
        if rng.chance(0.08):
            case.na_values = list(rng.pick(CUSTOM_NA))
        case.no_header = rng.chance(0.08)
    delimiter = _choose_delimiter(rng, source, case)
    case.input_name = {
        "csv": "in.csv", "csv-sniffed": "in.csv", "tsv": "in.tsv", "parquet": "in.parquet",
        "parquet-named-csv": "in.csv", "gzip-named-csv": "in.csv",
        "csv.gz": "in.tsv.gz" if delimiter == "\t" and rng.chance(0.3) else "in.csv.gz",
        **fuzzformats.TYPED_SOURCES,
    }.get(source)  # None: stdin

    if special in ("table", "header-only"):
        rows = None if special == "table" else 0
        (_parquet_table if is_parquet else _csv_table)(rng, case, rows)

    # The bytes.
    if special == "empty":
        data = b""
        case.problems.append("empty input")
    elif special == "garbage":
        data = _garbage(rng, case)
    elif source in fuzzformats.TYPED_SOURCES:
        data = fuzzformats.typed_bytes(rng, case, source)
    elif is_parquet:
        data = _parquet_bytes(rng, case)
    else:
        data = _csv_bytes(rng, case, delimiter)
    if source in ("csv.gz", "gzip-named-csv", "stdin-gzip") and special != "garbage":
        data = gzip.compress(data, mtime=0)
        if rng.chance(0.05):
            data = data[: len(data) // 2]
            case.problems.append("truncated gzip")
    case.data = data
    _options(rng, case, source)
    return case


def _sniffed(case: Case) -> bool:
    """Whether softnorm must find the delimiter itself: CSV, no --delimiter, not named .tsv."""
    name = case.input_name or ""
    return case.explicit_delimiter is None and not name.endswith((".tsv", ".tsv.gz"))


def _choose_delimiter(rng: _Random, source: str, case: Case) -> str:
    """The delimiter the CSV is written with; sometimes also passed as --delimiter."""
    if source == "tsv":
        return "\t"
    if source == "csv":
        delimiter = ","
    else:
        delimiter = rng.pick(SNIFFED_DELIMITERS)
    if case.decimal_comma and delimiter == "," and rng.chance(0.7):
        delimiter = rng.pick((";", "\t"))
    if rng.chance(0.1) and "parquet" not in source and source not in fuzzformats.TYPED_SOURCES:
        case.explicit_delimiter = delimiter
    return delimiter


def _number_text(rng: _Random, decimal_comma: bool, integer: bool = False) -> str:
    if integer:
        text = str(rng.randint(-20, 40))
    else:
        style = rng.randrange(8)
        if style == 0:
            text = str(rng.randint(-20, 40))
        elif style in (1, 2, 3):
            text = f"{rng.uniform(-50, 50):.{rng.randint(1, 4)}f}"
        elif style == 4:
            text = f"{rng.pick(('1', '2.5', '-7.25', '9', '-3'))}{rng.pick(('e', 'E'))}{rng.randint(-12, 12)}"
        elif style == 5:
            text = rng.pick((".5", "-.25", "5.", "+2", "+0.75", "0", "-0", "1E3", "0.1"))
        elif style == 6:
            text = rng.pick(("1e300", "-1e300", "2.5e-300", "1e-5", "123456789012", "9007199254740993"))
        else:
            text = str(rng.randint(100, 999)) + "." + str(rng.randint(0, 99))
    if decimal_comma:
        text = text.replace(".", ",")
    if rng.chance(0.1):
        text = rng.pick((" ", "  ", "\t")) + text + rng.pick(("", " ", "\t"))
    return text


def _csv_table(rng: _Random, case: Case, rows: int | None = None) -> None:
    """Column names, kinds and text cells of a CSV table."""
    ncols = rng.choice([1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 6])
    nrows = rng.randint(1, 12) if rows is None else rows
    kinds = [rng.weighted((("num", 40), ("int", 12), ("dirty", 14), ("text", 18), ("id", 8))) for _ in range(ncols)]
    if not any(k in ("num", "int", "dirty") for k in kinds) and rng.chance(0.8):
        kinds[rng.randrange(ncols)] = "num"
    names: list[str] = []
    for kind in kinds:
        pool = NUMERIC_NAMES if kind in ("num", "int", "dirty") else TEXT_NAMES if kind == "text" else ID_NAMES
        free = [n for n in pool if n not in names] or [f"col{len(names)}"]
        names.append(rng.pick(free))
    if case.no_header:
        names = [str(i) for i in range(1, ncols + 1)]
    markers = case.na_values if case.na_values is not None else list(NA_MARKERS)
    text_pool = LATIN1_TEXT if case.latin1 else UTF8_TEXT
    columns = []
    for kind in kinds:
        gaps = rng.chance(0.3)
        cells = []
        for _ in range(nrows):
            if gaps and rng.chance(0.25):
                cells.append(rng.pick(("", "", " ")))
            elif kind == "num":
                cells.append(_number_text(rng, case.decimal_comma))
            elif kind == "int":
                cells.append(_number_text(rng, case.decimal_comma, integer=True))
            elif kind == "dirty":
                roll = rng.random()
                if roll < 0.2:
                    marker_pool = list(markers) + ["NA", "nan"] if case.na_values else list(NA_MARKERS)
                    cells.append(rng.pick(marker_pool))
                elif roll < 0.3:
                    cells.append(rng.pick(INFINITIES))
                elif roll < 0.35:
                    cells.append(rng.pick(NANS))
                elif roll < 0.4 and case.na_values and case.na_values[0].lstrip("-").isdigit():
                    zeros = rng.pick((".0", "", ".00", "e0"))
                    cells.append(case.na_values[0] + (zeros.replace(".", ",") if case.decimal_comma else zeros))
                else:
                    cells.append(_number_text(rng, case.decimal_comma))
            elif kind == "text":
                cells.append(rng.pick(text_pool))
            else:
                cells.append(rng.pick(ID_TEXT))
        if kind == "text" and nrows and case.latin1:
            cells[rng.randrange(nrows)] = rng.pick(LATIN1_TEXT[:5])  # at least one byte that is not UTF-8
        columns.append(cells)
    # Now and then a value that is not a number in a numeric column.
    numeric = [j for j, k in enumerate(kinds) if k in ("num", "int", "dirty")]
    if numeric and nrows and rng.chance(0.07):
        j = rng.pick(numeric)
        bads = BAD_NUMBERS + ("1,5",) * (not case.decimal_comma)
        if case.latin1:
            bads = tuple(b for b in bads if b.isascii())
        bad = "1.5" if case.decimal_comma and rng.chance(0.5) else rng.pick(bads)
        columns[j][rng.randrange(nrows)] = bad
        case.notes.append(f"not a number {bad!r} in {names[j]!r}")
    case.names = names
    case.kinds = kinds
    case.rows = [list(row) for row in zip(*columns)] if nrows else []
    case.notes.append("kinds=" + ",".join(kinds))


def _parquet_table(rng: _Random, case: Case, rows: int | None = None) -> None:
    """Typed columns: float (nulls, NaN, inf), int (nulls), text."""
    ncols = rng.randint(1, 5)
    nrows = rng.randint(1, 12) if rows is None else rows
    kinds = [rng.weighted((("float", 50), ("int", 20), ("text", 20), ("id", 10))) for _ in range(ncols)]
    names: list[str] = []
    columns = []
    for kind in kinds:
        pool = NUMERIC_NAMES if kind in ("float", "int") else TEXT_NAMES if kind == "text" else ID_NAMES
        free = [n for n in pool if n not in names] or [f"col{len(names)}"]
        names.append(rng.pick(free))
        cells = []
        for _ in range(nrows):
            roll = rng.random()
            if roll < 0.1:
                cells.append(None)
            elif kind == "float":
                if roll < 0.15:
                    cells.append(math.nan)
                elif roll < 0.2:
                    cells.append(rng.pick((math.inf, -math.inf)))
                else:
                    cells.append(float(_number_text(rng, False).strip(" \t")))
            elif kind == "int":
                cells.append(rng.randint(-50, 50))
            elif kind == "text":
                cells.append(rng.pick(UTF8_TEXT))
            else:
                cells.append(rng.pick(ID_TEXT))
        columns.append(cells)
    case.names = names
    case.kinds = kinds
    case.rows = [list(row) for row in zip(*columns)] if nrows else []
    case.notes.append("kinds=" + ",".join(kinds))


def _parquet_bytes(rng: _Random, case: Case) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"float": pa.float64(), "int": pa.int64(), "text": pa.string(), "id": pa.string()}
    kinds = case.kinds
    columns = list(zip(*case.rows)) if case.rows else [[] for _ in case.names]
    arrays = {name: pa.array(list(col), type=types[kind]) for name, col, kind in zip(case.names, columns, kinds)}
    table = pa.table(arrays)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=rng.pick((2, 3, 1000)))
    data = buffer.getvalue()
    if rng.chance(0.04):
        case.problems.append("truncated Parquet")
        data = data[: rng.randint(4, len(data) - 1)]
    return data


def _garbage(rng: _Random, case: Case) -> bytes:
    case.problems.append("binary garbage")
    body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    start = rng.pick((b"", b"\xff\x00", b"PAR1", b"\x1f\x8b", b"a,b\n\x00\xff"))
    return start + body + b"\xff\x00\xfe"


def _csv_field(text: str, delimiter: str, rng: _Random, quote_all: bool, quote_candidates: float) -> str:
    needs_quotes = any(ch in text for ch in (delimiter, '"', "\n", "\r"))
    if not needs_quotes and any(ch in text for ch in SNIFFED_DELIMITERS) and rng.chance(quote_candidates):
        needs_quotes = True
    if needs_quotes or quote_all or rng.chance(0.05):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_bytes(rng: _Random, case: Case, delimiter: str) -> bytes:
    """The table as delimited text, with the layout variations and malformations the spec lists."""
    ncols = len(case.names)
    if ncols == 1 and _sniffed(case):
        delimiter = ","  # one column shows no delimiter to sniff: the default applies
    case.delimiter = delimiter
    # Without a header line to show the delimiter, every other candidate is quoted.
    quote_candidates = 1.0 if (case.no_header or ncols == 1) else 0.7
    newline = "\r\n" if rng.chance(0.2) else "\n"
    quote_all = rng.chance(0.08)
    if newline == "\r\n":
        case.notes.append("crlf")

    def line(cells) -> str:
        return delimiter.join(_csv_field(c, delimiter, rng, quote_all, quote_candidates) for c in cells)

    # Each line of the file: (text, index of the data row it holds or None).
    lines: list[tuple[str, int | None]] = []
    if not case.no_header:
        lines.append((line(case.names), None))
    for i, row in enumerate(case.rows):
        text = line(row)
        first_or_last = i == len(case.rows) - 1 or (i == 0 and case.no_header)
        if ncols == 1 and text == "" and first_or_last:
            text = '""'  # a blank first or last line would be ambiguous
        lines.append((text, i))

    # Blank lines: skipped in a table of 2+ columns; in one column each is a missing value.
    if ncols >= 2 and lines and rng.chance(0.1):
        for _ in range(rng.randint(1, 3)):
            lines.insert(rng.randint(1, len(lines)), ("", None))
        case.notes.append("blank lines")
    elif ncols == 1 and len(case.rows) >= 2 and rng.chance(0.15):
        at = rng.randint(1, len(case.rows) - 1)  # between two rows
        case.rows.insert(at, [""])
        lines.insert(at + (not case.no_header), ("", at))
        case.notes.append("blank line in one column")

    # Rows to make ragged; without a header the first row sets the width, so it is not one of them.
    data_lines = [k for k, (_, i) in enumerate(lines) if i is not None and not (case.no_header and i == 0)]
    if ncols >= 2 and data_lines and rng.chance(0.04):
        k = rng.pick(data_lines)
        short = case.rows[lines[k][1]][: rng.randint(1, ncols - 1)]
        if short == [""]:
            short = ["x"]  # a lone empty field would be a blank line
        lines[k] = (delimiter.join(_csv_field(c, delimiter, rng, True, 1.0) for c in short), None)
        case.problems.append("a row with fewer fields than the header")
    elif data_lines and rng.chance(0.04):
        k = rng.pick(data_lines)
        lines[k] = (lines[k][0] + delimiter + rng.pick(("9", "", "extra")), None)
        case.problems.append("a row with more fields than the header")
    if lines and rng.chance(0.025):
        lines.append(('"unterminated' + delimiter + "1", None))
        case.problems.append("an unterminated quote")

    text = newline.join(t for t, _ in lines)
    if lines and (rng.chance(0.85) or lines[-1][0] == ""):
        text += newline
    if rng.chance(0.1) and not case.latin1:
        text = "\ufeff" + text
        case.notes.append("bom")
    data = text.encode("latin-1" if case.latin1 else "utf-8")
    case.ascii = data.isascii()
    if case.latin1:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            case.notes.append("latin-1 bytes")
        else:
            case.latin1 = False  # nothing outside ASCII was written: it is UTF-8 as well
    return data


def _options(rng: _Random, case: Case, source: str) -> None:
    """Column selection, method options and output options, appended to ``case.options``."""
    opts = case.options
    names = case.names

    # Columns.
    if names and rng.chance(0.6):
        numeric = [n for n, k in zip(names, case.kinds) if k in ("num", "int", "dirty", "float")] or names
        wanted = [n for n in numeric if rng.chance(0.6)] or [rng.pick(numeric)]
        if rng.chance(0.08):
            wanted.append(rng.pick(names))  # maybe a text column: not a number
        rng.shuffle(wanted)
        patterns = []
        for name in wanted:
            roll = rng.random()
            if roll < 0.12 and len(name) > 1:
                patterns.append(name[0] + "*")
            elif roll < 0.17:
                patterns.append("?" * len(name))
            elif roll < 0.2 and len(name) > 1:
                patterns.append(name[:-1] + "[" + name[-1] + "]")
            else:
                patterns.append(name)
        if rng.chance(0.08):
            patterns.append(rng.pick(patterns))
        if rng.chance(0.05):
            patterns.insert(rng.randint(0, len(patterns)), rng.pick(("nope", names[0] + "x", "scor")))
        case.patterns = patterns
        # As one comma list, several -c options, or a mix.
        groups, current = [], []
        for p in patterns:
            current.append(p)
            if rng.chance(0.4):
                groups.append(current)
                current = []
        if current:
            groups.append(current)
        for group in groups:
            opts += [rng.pick(("-c", "--cols")), ",".join(group)]
    if names and rng.chance(0.08):
        excluded = rng.pick(names)
        case.excludes = [excluded]
        opts += ["--exclude", excluded]

    # The method.
    if rng.chance(0.45):
        axis = rng.pick(("row", "column", "all"))
        case.axis = axis
        spelling = axis if rng.chance(0.8) else rng.pick(AXIS_SPELLINGS[axis])
        opts += ["--axis", spelling]
    if rng.chance(0.4):
        case.nan = rng.pick(("omit", "propagate", "propagate", "raise"))
        opts += ["--nan", case.nan]
    if rng.chance(0.1):
        case.inf_missing = True
        opts += ["--inf", "missing"]
    if case.command == "softmax":
        if rng.chance(0.3):
            case.temperature = rng.pick(TEMPERATURES)
            opts += [rng.pick(("-t", "--temperature")), repr(case.temperature)]
        if rng.chance(0.25):
            case.log = True
            opts.append("--log")
    elif case.command == "minmax":
        if rng.chance(0.3):
            text = rng.pick(RANGES)
            case.feature_range = tuple(float(v) for v in text.split(","))
            opts.append(f"--range={text}")
    elif case.command == "zscore" and rng.chance(0.3):
        case.ddof = rng.pick((0, 1, 1, 2, 3))
        opts += ["--ddof", str(case.ddof)]
    elif case.command == "robust" and rng.chance(0.3):
        case.quantile_range = rng.pick(((25.0, 75.0), (10.0, 90.0), (0.0, 100.0), (49.0, 51.0)))
        opts.append("--quantile-range=" + ",".join(f"{q:g}" for q in case.quantile_range))
    elif case.command == "quantile" and rng.chance(0.3):
        case.n_quantiles = rng.pick((1, 2, 5, 1000))
        opts.append(f"--n-quantiles={case.n_quantiles}")

    # How the input is read.
    if case.explicit_delimiter is not None:
        spelled = {"\t": rng.pick(("\\t", "tab", "\t"))}.get(case.explicit_delimiter, case.explicit_delimiter)
        opts += ["--delimiter", spelled]
    if case.no_header:
        opts.append("--no-header")
    if case.na_values is not None:
        opts += ["--na-values", ",".join(case.na_values)]
    if case.decimal_comma:
        opts.append("--decimal-comma")
    if (case.latin1 or case.ascii and rng.chance(0.03)) and rng.chance(0.6):
        opts += ["--encoding", "latin-1"]  # on ASCII input it changes nothing
    elif case.latin1:
        case.problems.append("latin-1 bytes without --encoding latin-1")
    if rng.chance(0.15):
        opts += ["--batch-rows", rng.pick(BATCHES)]

    # The output.
    input_tsv = source == "tsv" or (case.input_name or "").endswith(".tsv.gz")
    outputs = ["out.tsv", "out.parquet"] if input_tsv else ["out.csv", "out.tsv", "out.parquet"]
    if case.explicit_delimiter is not None:
        outputs = ["out.csv", "out.parquet"]
    if rng.chance(0.3):
        outputs += ["out.arrow", "out.jsonl"]
    if case.content == "excel" and rng.chance(0.3):
        if rng.chance(0.1):
            opts += ["--sheet", "Nope"]
            case.problems.append("no such sheet")
        else:
            opts += ["--sheet", "1"]
    if source == "parquet-named-csv" or rng.chance(0.4):
        case.output_name = rng.pick(outputs + ["out.dat"])
        opts += [rng.pick(("-o", "--output")), case.output_name]
        if case.output_name == "out.dat":
            case.to_format = rng.pick([o.split(".")[1] for o in outputs])
            opts += ["--to", case.to_format]
        if rng.chance(0.3):
            case.old_output = b"old output\n"
    elif rng.chance(0.12):
        case.to_format = rng.pick([o.split(".")[1] for o in outputs])
        opts += ["--to", case.to_format]
    if rng.chance(0.15):
        case.suffix = rng.pick(SUFFIXES)
        opts += ["--suffix", case.suffix]
    if rng.chance(0.05):
        case.decimals = rng.pick((0, 1, 3, 6))
        opts += ["--decimals", str(case.decimals)]
    if rng.chance(0.1):
        opts.append("-q")
    elif rng.chance(0.1):
        opts.append("--summary")

    # Now and then an invalid option: a usage error, exit 2 (never a second copy of an option).
    given = {{"-t": "--temperature", "-o": "--output"}.get(o, o).split("=")[0] for o in opts if o.startswith("-")}
    if rng.chance(0.04):
        choices = [["--axis", "diagonal"], ["--to", "xlsx"], ["--nan", "ignore"], ["--batch-rows", "0"]]
        choices += {
            "softmax": [["--temperature", "0"], ["--temperature=-1"]],
            "minmax": [["--range", "2,1"], ["--range", "1,1"], ["--range", "a,b"]],
            "zscore": [["--ddof=-1"]],
            "robust": [["--quantile-range=75,25"], ["--quantile-range=0,101"]],
            "quantile": [["--n-quantiles=0"], ["--output-distribution=cauchy"]],
        }[case.command]
        choices = [c for c in choices if c[0].split("=")[0] not in given]
        if choices:
            invalid = rng.pick(choices)
            opts += invalid
            case.usage = " ".join(invalid)
    elif rng.chance(0.01) and case.input_name and "--output" not in given:
        opts += ["-o", case.input_name]
        case.output_name, case.old_output = case.input_name, None
        case.usage = "-o names the input file"
    elif rng.chance(0.01) and "--output" not in given and "--to" not in given:
        opts += ["-o", "out.xyz"]
        case.output_name = "out.xyz"
        case.usage = "-o with an unknown extension and no --to"

    # Shuffle option pairs a little: order must not matter (flags stay with their values).
    case.options = _shuffle_options(rng, opts)
    case.notes.append("command=" + case.command)


_TAKES_VALUE = {"-c", "--cols", "--exclude", "--axis", "--nan", "--inf", "-t", "--temperature", "--ddof",
                "--delimiter", "--na-values", "--encoding", "--batch-rows", "-o", "--output", "--to",
                "--suffix", "--decimals", "--sheet"}


def _shuffle_options(rng: _Random, opts: list[str]) -> list[str]:
    units, i = [], 0
    while i < len(opts):
        if opts[i] in _TAKES_VALUE and i + 1 < len(opts):
            units.append(opts[i : i + 2])
            i += 2
        else:
            units.append([opts[i]])
            i += 1
    # -c options keep their order relative to each other (it decides the order of --suffix columns).
    cols = [u for u in units if u[0] in ("-c", "--cols")]
    rest = [u for u in units if u[0] not in ("-c", "--cols")]
    rng.shuffle(rest)
    merged = []
    for u in rest:
        if cols and rng.chance(0.5):
            merged.append(cols.pop(0))
        merged.append(u)
    merged += cols
    return [a for u in merged for a in u]


# --------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------


@dataclass
class Expected:
    outcome: str  # "success", "error", "usage" or "unknown"
    why: str = ""
    # For "success":
    out_format: str = "csv"  # "csv", "tsv", or a typed format (fuzzformats.TYPED_OUTPUTS)
    out_delimiter: str = ","
    header: bool = True
    names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # per output column: "text", "value" or "result"
    columns: list[list] = field(default_factory=list)  # per output column: the expected cells
    rows: int = 0
    decimal_comma: bool = False
    rounding: float = 0.0  # extra absolute tolerance for --decimals
    latin1: bool = False
    markers: set[str] = field(default_factory=set)  # the NA markers in force
    loose_numbers: bool = False  # integers and floats of the same value are alike (a workbook's numbers)


class _Decided(Exception):
    """Raised inside the oracle when the outcome is settled before the end."""

    def __init__(self, outcome: str, why: str):
        self.expected = Expected(outcome, why)


def parse_cell(text: str, markers, numeric_markers, decimal_comma: bool) -> float | None:
    """A selected CSV cell as the spec reads it: a float (NaN: missing) or None (not a number)."""
    s = text.strip(" \t")
    if s == "" or s in markers:
        return math.nan
    number = s
    if decimal_comma:
        if "." in s:
            return None
        number = s.replace(",", ".")
    if NUMBER.fullmatch(number):
        value = float(number)
        return math.nan if value in numeric_markers else value
    if INFINITY.fullmatch(s):
        return -math.inf if s.startswith("-") else math.inf
    if s.lower() == "nan":
        return math.nan
    return None


def _markers(case: Case) -> tuple[set[str], set[float]]:
    markers = set(case.na_values) if case.na_values is not None else set(NA_MARKERS)
    numeric = {float(m) for m in markers if NUMBER.fullmatch(m)}
    return markers, numeric


def _auto_kind(case: Case, j: int) -> str:
    """Whether column j is chosen without -c: "numeric", "text", "id" (not chosen) or "unclear"."""
    cells = [row[j] for row in case.rows]
    if case.content in TYPED_CONTENT:
        kind = case.kinds[j]
        if kind == "mixed" or case.content != "parquet" and kind in ("float", "int") and all(c is None for c in cells):
            return "unclear"  # numbers and text in one field; JSON and workbooks have no type for a column of nothing
        return "numeric" if kind in ("float", "int") else "text"
    markers, numeric_markers = _markers(case)
    parsed = [parse_cell(c, markers, numeric_markers, case.decimal_comma) for c in cells]
    present = [(c.strip(" \t"), v) for c, v in zip(cells, parsed) if v is None or not math.isnan(v)]
    if not present:
        return "unclear"  # nothing but missing values
    if any(v is None for _, v in present):
        wordy = any(v is None and re.search(r"[^\W\d_]{2,}", c) for c, v in present)
        return "text" if wordy else "unclear"
    padded = [bool(ZERO_PADDED_INT.fullmatch(c)) for c, _ in present]
    if all(padded):
        return "id"
    return "unclear" if any(padded) else "numeric"


def _resolve(case: Case, names: list[str]) -> list[str]:
    """The selected columns, in order, once each."""
    if case.patterns:
        chosen: list[str] = []
        for pattern in case.patterns:
            if pattern in names:
                matches = [pattern]
            elif any(ch in pattern for ch in "*?["):
                matches = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
                if not matches:
                    raise _Decided("error", f"no column matches {pattern!r}")
            else:
                raise _Decided("error", f"unknown column {pattern!r}")
            chosen += [m for m in matches if m not in chosen]
    elif not case.rows:
        chosen = []  # a header without rows: nothing to decide, nothing to compute
    else:
        kinds = {n: _auto_kind(case, j) for j, n in enumerate(names) if not _excluded(case, n)}
        unclear = [n for n, k in kinds.items() if k == "unclear"]
        if unclear:
            raise _Decided("unknown", f"automatic choice of {unclear} is not clear-cut")
        chosen = [n for n in names if kinds.get(n) == "numeric"]
    chosen = [n for n in chosen if not _excluded(case, n)]
    if not chosen and (case.rows or case.suffix or case.patterns):
        raise _Decided("unknown", "no column selected")
    return chosen


def _excluded(case: Case, name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in case.excludes)


def _output_format(case: Case) -> str:
    if case.to_format:
        return case.to_format
    if case.output_name:
        return os.path.splitext(case.output_name)[1][1:]
    if case.content in TYPED_CONTENT:
        return "csv" if case.content == "excel" else case.content
    return "tsv" if (case.input_name or "").endswith((".tsv", ".tsv.gz")) else "csv"


def expect(case: Case) -> Expected:
    """What the run of ``case`` must do."""
    try:
        return _expect(case)
    except _Decided as decided:
        return decided.expected


def _expect(case: Case) -> Expected:
    if case.usage:
        raise _Decided("usage", case.usage)
    if case.problems:
        raise _Decided("error", case.problems[0])
    names = case.names
    selected = _resolve(case, names)
    columns = [names.index(n) for n in selected]
    if case.content in ("jsonl", "json", "excel") and any(all(row[j] is None for row in case.rows) for j in columns):
        raise _Decided("unknown", "a selected column of nothing but missing values has no type in JSON or a workbook")

    # The selected values, parsed.
    markers, numeric_markers = _markers(case)
    n = len(case.rows)
    x = np.full((n, len(columns)), np.nan)
    numeric_strings = False  # a Parquet string column of numbers: parsed, or refused for its type?
    for i, row in enumerate(case.rows):
        for k, j in enumerate(columns):
            cell = row[j]
            if isinstance(cell, str):
                value = parse_cell(cell, markers, numeric_markers, case.decimal_comma)
                numeric_strings |= case.content in TYPED_CONTENT
            else:
                value = math.nan if cell is None else float(cell)
            if value is None:
                raise _Decided("error", f"column {names[j]!r}, row {i + 1}: {cell!r} is not a number")
            x[i, k] = value
    if numeric_strings:
        raise _Decided("unknown", "a Parquet string column of numbers is selected")
    if np.isinf(x).any():
        if case.inf_missing:
            x[np.isinf(x)] = np.nan
        elif case.command != "softmax":
            raise _Decided("error", f"an infinity in a selected column of {case.command}")
    if case.nan == "raise" and np.isnan(x).any():
        raise _Decided("error", "a missing value with --nan raise")

    results = normalize(case, x)
    return _expected_table(case, selected, columns, results)


def _groups(shape: tuple[int, int], axis: str) -> list[list[tuple[int, int]]]:
    """The cells of each group: one per row, one per column, or one for all."""
    n, k = shape
    if axis == "row":
        return [[(i, j) for j in range(k)] for i in range(n)]
    if axis == "column":
        return [[(i, j) for i in range(n)] for j in range(k)]
    return [[(i, j) for i in range(n) for j in range(k)]]


def normalize(case: Case, x: np.ndarray) -> np.ndarray:
    """The results: each group normalized over its present values; NaN is missing."""
    axis = case.axis or DEFAULT_AXIS[case.command]
    out = np.full(x.shape, np.nan)
    for cells in _groups(x.shape, axis):
        values = np.array([x[c] for c in cells])
        present = ~np.isnan(values)
        if not present.any() or (case.nan == "propagate" and not present.all()):
            continue  # results stay missing
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            if case.command == "softmax":
                result = softmax(values[present], case.temperature, case.log)
            elif case.command == "minmax":
                result = minmax(values[present], *case.feature_range)
            elif case.command == "robust":
                result = robust(values[present], case.quantile_range)
            elif case.command == "quantile":
                result = quantile(values, case.n_quantiles)[present]  # the table's size counts the missing cells too
            else:
                result = zscore(values[present], case.ddof)
        for cell, value in zip([c for c, p in zip(cells, present) if p], result):
            out[cell] = value
    return out


def softmax(v: np.ndarray, temperature: float, log: bool) -> np.ndarray:
    positive = np.isposinf(v)
    if positive.any():  # the limit: +inf entries share the mass
        p = np.where(positive, 1.0 / positive.sum(), 0.0)
        return np.log(p) if log else p
    finite = np.isfinite(v)
    if not finite.any():  # only -inf: no softmax
        return np.full(v.shape, np.nan)
    z = (v - v[finite].max()) / temperature  # -inf stays -inf
    e = np.exp(z)
    return z - np.log(e.sum()) if log else e / e.sum()


def minmax(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    low, high = v.min(), v.max()
    if low == high:
        return np.full(v.shape, lo)
    return lo + (v - low) / (high - low) * (hi - lo)


def robust(v: np.ndarray, quantile_range: tuple[float, float]) -> np.ndarray:
    median, lo, hi = np.percentile(v, [50, *quantile_range])
    spread = hi - lo
    return (v - median) / (spread if spread >= 10 * np.finfo(np.float64).eps else 1.0)


def quantile(v: np.ndarray, n_quantiles: int) -> np.ndarray:
    from sklearn.preprocessing import QuantileTransformer

    size = max(1, min(n_quantiles, len(v)))
    return QuantileTransformer(n_quantiles=size, subsample=None).fit_transform(v.reshape(-1, 1)).ravel()


def zscore(v: np.ndarray, ddof: int) -> np.ndarray:
    if len(v) <= ddof:
        return np.full(v.shape, np.nan)
    if v.min() == v.max():
        return np.zeros(v.shape)
    y = v / np.abs(v).max()  # z-scores do not change with scale; this keeps squares finite
    d = y - y.mean()
    return d / np.sqrt((d * d).sum() / (len(v) - ddof))


def _expected_table(case: Case, selected: list[str], columns: list[int], results: np.ndarray) -> Expected:
    out_format = _output_format(case)
    if out_format == "tsv":
        delimiter = "\t"
    elif case.content in TYPED_CONTENT:
        delimiter = ","
    else:
        delimiter = case.explicit_delimiter or case.delimiter
    expected = Expected("success", out_format=out_format, out_delimiter=delimiter, header=not case.no_header,
                        rows=len(case.rows), decimal_comma=case.decimal_comma, latin1=case.latin1,
                        markers=_markers(case)[0], loose_numbers=case.content == "excel")
    if case.decimals is not None:
        expected.rounding = 0.5 * 10.0 ** -case.decimals
    source_kind = "value" if case.content in TYPED_CONTENT else "text"
    for j, name in enumerate(case.names):
        original = [row[j] for row in case.rows]
        if j in columns and not case.suffix:
            expected.names.append(name)
            expected.kinds.append("result")
            expected.columns.append(list(results[:, columns.index(j)]))
        else:
            expected.names.append(name)
            expected.kinds.append("mixed" if case.kinds[j] == "mixed" else source_kind)
            expected.columns.append(original)
    if case.suffix:
        for k, name in enumerate(selected):
            expected.names.append(name + case.suffix)
            expected.kinds.append("result")
            expected.columns.append(list(results[:, k]))
    return expected


# --------------------------------------------------------------------------
# Running a case and checking what happened
# --------------------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int
    stdout: bytes
    stderr: bytes
    crash: str | None = None  # the traceback of an exception that escaped the command


def run_cli(args: list[str], stdin: bytes | None) -> Outcome:
    """Run softnorm's command line in this process: the ``invoke`` of :func:`execute`.

    The one piece of this module that uses softnorm itself, imported when
    called; the oracle does not.
    """
    import traceback

    from click.testing import CliRunner

    from softnorm_cli.cli import cli

    result = CliRunner().invoke(
        cli, args, input=stdin, catch_exceptions=True, prog_name="softnorm", env={"SOFTNORM_DEBUG": None}
    )
    crash = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        crash = "".join(traceback.format_exception(*result.exc_info))
    return Outcome(result.exit_code, result.stdout_bytes, result.stderr_bytes, crash)


@dataclass
class Finding:
    kind: str  # short, stable: findings of one cause share it
    detail: str = ""


def execute(case: Case, workdir, invoke) -> list[Finding]:
    """Run ``case`` in the empty directory ``workdir`` with ``invoke(args, stdin)``; what went wrong."""
    workdir = os.fspath(workdir)
    if case.input_name:
        with open(os.path.join(workdir, case.input_name), "wb") as f:
            f.write(case.data)
    if case.old_output is not None and case.output_name != case.input_name:
        with open(os.path.join(workdir, case.output_name), "wb") as f:
            f.write(case.old_output)
    before = _files(workdir)
    here = os.getcwd()
    os.chdir(workdir)
    try:
        outcome = invoke(case.args(), None if case.input_name else case.data)
    finally:
        os.chdir(here)
    return check(case, expect(case), outcome, workdir, before)


def _files(workdir: str) -> dict[str, bytes]:
    found = {}
    for root, _, files in os.walk(workdir):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, workdir)] = f.read()
    return found


def check(case: Case, expected: Expected, outcome: Outcome, workdir: str, before: dict[str, bytes]) -> list[Finding]:
    findings: list[Finding] = []
    stderr = outcome.stderr.decode("utf-8", errors="replace")
    after = _files(workdir)
    code = outcome.exit_code

    if outcome.crash:
        last = outcome.crash.strip().splitlines()[-1]
        findings.append(Finding(f"crash: {_normalize(last.split(':')[0])}", outcome.crash))
    if "Traceback" in stderr:
        findings.append(Finding("traceback on stderr", stderr))
    if code not in (0, 1, 2):
        findings.append(Finding(f"exit code {code}", stderr))
        return findings
    if case.input_name and after.get(case.input_name) != case.data:
        findings.append(Finding("input file modified"))

    if code != 0:
        if code == 1 and not outcome.crash:
            lines = stderr.rstrip("\n").split("\n")
            if len(lines) != 1 or not lines[0].startswith(ERROR_PREFIX):
                findings.append(Finding("exit 1 without a one-line 'softnorm: error:' message", stderr))
        if case.output_name and case.output_name not in before and case.output_name in after:
            findings.append(Finding("output file created by a failed run"))
        elif case.output_name in before and after.get(case.output_name) != before[case.output_name]:
            findings.append(Finding("existing output changed by a failed run"))
        extra = sorted(set(after) - set(before) - {case.output_name})
        if extra:
            findings.append(Finding("files left behind by a failed run", ", ".join(extra)))

    message = _normalize(stderr.strip().split("\n")[-1]) if stderr.strip() else "(no message)"
    if expected.outcome == "usage":
        if code != 2:
            findings.append(Finding(f"exit {code} instead of 2 for {expected.why}", stderr))
    elif expected.outcome == "error":
        if code == 0:
            findings.append(Finding(f"exit 0 on invalid input: {_category(expected.why)}", expected.why))
        elif code == 2:
            findings.append(Finding(f"usage error on invalid input: {message}", stderr))
    elif expected.outcome == "success":
        if code == 1 and not outcome.crash:
            findings.append(Finding(f"exit 1 on valid input: {message}", stderr))
        elif code == 2:
            findings.append(Finding(f"usage error on a valid command: {message}", stderr))
        elif code == 0:
            findings += _check_output(case, expected, outcome, after)
    if code == 0 and not findings:
        expected_files = set(before) | ({case.output_name} if case.output_name else set())
        extra = sorted(set(after) - expected_files)
        if extra:
            findings.append(Finding("unexpected files after a run", ", ".join(extra)))
    return findings


def _category(why: str) -> str:
    """A reason without its particulars, for grouping."""
    return re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "…", why)


def _normalize(line: str) -> str:
    """An error line without file names, values and numbers, for grouping."""
    line = re.sub(r"\(columns are: .*?\)$|[^ -~…]", "", line).strip()
    line = re.sub(r"'(?!-)[^']*'|\"(?!-)[^\"]*\"", "'…'", line)  # keep quoted option names
    line = re.sub(r"\b(in|out)\.(csv|tsv|parquet|dat|xyz|arrows?|jsonl|json|xlsx)(\.gz)?\b", "FILE", line)
    line = re.sub(r"\d+", "N", line)
    return line[:120]


# -- reading and comparing the output --------------------------------------


class _Unreadable(Exception):
    pass


def _check_output(case: Case, expected: Expected, outcome: Outcome, after: dict[str, bytes]) -> list[Finding]:
    if case.output_name:
        if case.output_name not in after:
            return [Finding("no output file after exit 0")]
        data = after[case.output_name]
        if outcome.stdout:
            return [Finding("stdout not empty with -o", outcome.stdout[:200].decode("utf-8", "replace"))]
    else:
        data = outcome.stdout
    try:
        names, rows = read_output(data, expected)
    except _Unreadable as e:
        return [Finding(f"output unreadable as {expected.out_format}", str(e))]
    if expected.header and names != expected.names:
        return [Finding("output header differs", f"expected {expected.names}, got {names}")]
    if len(rows) != expected.rows:
        return [Finding("output row count differs", f"expected {expected.rows} rows, got {len(rows)}")]
    width = len(expected.names)
    for i, row in enumerate(rows):
        if len(row) != width:
            return [Finding("output row width differs", f"row {i + 1}: expected {width} fields, got {row!r}")]
    for j, (name, kind, cells) in enumerate(zip(expected.names, expected.kinds, expected.columns)):
        for i, want in enumerate(cells):
            got = rows[i][j]
            problem = _compare(kind, want, got, expected)
            if not problem:
                continue
            detail = f"column {name!r}, row {i + 1}: expected {want!r}, got {got!r}"
            if kind == "result" and case.content == "csv" and name in case.names and not case.suffix:
                original = [row[case.names.index(name)] for row in case.rows]
                if [row[j] for row in rows] == original:
                    problem = "selected column left as it was"
            if not case.patterns:
                problem += " (columns chosen automatically)"
            return [Finding(problem, detail)]
    return []


def read_output(data: bytes, expected: Expected) -> tuple[list[str] | None, list[list]]:
    """Header and rows of the output: text cells for CSV/TSV, Python values for Parquet."""
    if expected.out_format in fuzzformats.TYPED_OUTPUTS:
        try:
            names, rows = fuzzformats.read_typed(data, expected.out_format)
        except Exception as e:  # noqa: BLE001 - any failure to read is the finding
            raise _Unreadable(f"{type(e).__name__}: {e}") from None
        if not rows and expected.out_format in ("jsonl", "json"):
            names = expected.names  # records without a record: no names to read
        return names, rows
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if not expected.latin1:
            raise _Unreadable("not UTF-8") from None
        text = data.decode("latin-1")
    text = text.removeprefix("\ufeff")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=expected.out_delimiter, strict=True))
    except csv.Error as e:
        raise _Unreadable(f"csv: {e}") from None
    records = [r if r else [""] for r in records]  # a blank line is one empty field
    if expected.header:
        if not records:
            raise _Unreadable("no header line")
        return records[0], records[1:]
    return None, records


def _compare(kind: str, want, got, expected: Expected) -> str | None:
    """None if the output cell ``got`` is right, else the kind of difference."""
    if kind == "text":
        return _compare_text(want, got, expected)
    if kind == "value":
        return _compare_value(want, got, expected)
    if kind == "mixed":
        return _compare_mixed(want, got, expected)
    return _compare_result(want, got, expected)


def _compare_text(want: str, got, expected: Expected) -> str | None:
    """An unselected CSV cell: the same text.

    In Parquet a column of plain numbers may be typed (io/infer.py: only when
    every number comes back exactly); then a cell must hold the same number,
    and an empty cell or NA marker may be null.
    """
    if expected.out_format in fuzzformats.TYPED_OUTPUTS:
        if got is None:
            return None if want == "" or want in expected.markers else "unselected column text changed"
        if isinstance(got, int) and not isinstance(got, bool):  # exact, also past 2**53
            same = bool(re.fullmatch(r"-?[0-9]+", want)) and int(want) == got
            return None if same else "unselected column text changed in a typed Parquet column"
        if isinstance(got, float):
            same = bool(NUMBER.fullmatch(want)) and float(want) == got
            return None if same else "unselected column text changed in a typed Parquet column"
    return None if got == want else "unselected column text changed"


def _is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _compare_value(want, got, expected: Expected) -> str | None:
    """An unselected typed value: the same value and type, or its text in CSV.

    JSON has no NaN or infinity (they are written as null), and a workbook has
    one type of number (an integer may come back as a float, or the other way).
    """
    if expected.out_format in fuzzformats.TYPED_OUTPUTS:
        if expected.out_format in ("jsonl", "json") and isinstance(want, float) and not math.isfinite(want):
            return None if got is None else "unselected non-finite value not written as null in JSON"
        if expected.loose_numbers and _is_number(want) and _is_number(got):
            return None if float(got) == float(want) else "unselected typed value changed"
        same = type(got) is type(want) and (got == want or _is_nan(want) and _is_nan(got))
        return None if same else "unselected typed value changed"
    if want is None:
        ok = got == ""
    elif _is_nan(want):
        ok = got in ("", "NaN", "nan")
    elif isinstance(want, str):
        ok = got == want
    else:
        try:
            ok = float(got) == want
        except ValueError:
            ok = False
    return None if ok else "unselected Parquet value changed"


def _compare_mixed(want, got, expected: Expected) -> str | None:
    """An unselected JSON field of numbers and strings: each value as it came in JSON output
    (NaN and infinities too), else a string as it is and a number as its JSON text (which a
    typed output may type back as the number it spells)."""
    if expected.out_format in ("jsonl", "json"):
        same = type(got) is type(want) and (got == want or _is_nan(want) and _is_nan(got))
        return None if same else "unselected JSON value of a mixed field changed"
    if want is None:
        ok = got in (None, "")
    elif _is_number(got):  # text typed for Parquet or Arrow: the number it spells
        try:
            ok = float(want) == got or _is_nan(want) and _is_nan(got)
        except ValueError:
            ok = False
    elif isinstance(want, str):
        ok = got == want
    else:
        ok = isinstance(got, str) and json.loads(got) == want or _is_nan(want) and got in ("NaN", "nan")
    return None if ok else "unselected JSON value of a mixed field changed"


def _compare_result(want: float, got, expected: Expected) -> str | None:
    """A result: missing exactly where expected, else within tolerance of the reference."""
    if expected.out_format in fuzzformats.TYPED_OUTPUTS:
        if got is None and math.isinf(want) and expected.out_format in ("jsonl", "json"):
            return None  # JSON has no infinity: written as null
        if _is_nan(got):
            return "missing result written as NaN in Parquet"
        if got is not None and not isinstance(got, float):
            return "result not a float in Parquet"
        value = math.nan if got is None else got
    elif got == "":
        value = math.nan
    else:
        text = got
        if expected.decimal_comma:
            if "." in text:
                return "result written with a decimal point under --decimal-comma"
            text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            return "result is not a number"
        if math.isnan(value):
            return "missing result written as NaN text"
    if math.isnan(want) and math.isnan(value):
        return None
    if math.isnan(value):
        return "missing where a result is expected"
    if math.isnan(want):
        return "result where a missing value is expected"
    if math.isinf(want) or math.isinf(value):
        return None if want == value else "result values differ"
    tolerance = ATOL + RTOL * abs(want) + expected.rounding * (1 + 1e-9)
    return None if abs(value - want) <= tolerance else "result values differ"


def describe(case: Case, expected: Expected | None = None, outcome: Outcome | None = None) -> str:
    """A report of one case: how to run it, what was expected, what happened."""
    expected = expected or expect(case)
    lines = [
        f"seed {case.seed}: {' '.join(case.notes)}",
        f"  run: {case.command_line()}",
        f"  expected: {expected.outcome}" + (f" ({expected.why})" if expected.why else ""),
    ]
    if outcome is not None:
        stderr = outcome.stderr.decode("utf-8", "replace").strip()
        lines.append(f"  got: exit {outcome.exit_code}; stderr: {stderr[:500]!r}")
        if outcome.crash:
            lines.append("  " + outcome.crash.strip().replace("\n", "\n  "))
    return "\n".join(lines)

"""The benchmark's tables: their columns, how each column is drawn, the columns each job
normalizes, and their file names.

Standard library only: the harness imports this, and so does every peer.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

# Bump a version when the data it names changes: the files in --data-dir are reused by name.
DATA_VERSION = "v1"  # the standard table, and the small table (its first rows)
GROUPS_DATA_VERSION = "v1"
WIDE_DATA_VERSION = "v1"
SEED = 20240611
GROUPS_SEED = 20240612
CHUNK_ROWS = 500_000  # rows drawn per generator: chunk k of a table has a generator of its own
ID_WIDTH = 7
WIDE_ID_WIDTH = 3
WIDE_PARQUET_MAX_COLS = 2000  # wider tables only as CSV: their Parquet would be mostly metadata

# parquet: written by polars (small row groups, zstd); parquet-pyarrow: by pyarrow.parquet.write_table
# with its defaults (row groups of 1,048,576 rows, snappy), as pyarrow and pandas write it; jsonl:
# JSON Lines by polars; arrow: an Arrow IPC file by pyarrow. --formats takes these.
FORMATS = ["csv", "parquet", "parquet-pyarrow", "jsonl", "arrow"]
PARQUET_FORMATS = ["parquet", "parquet-pyarrow"]
# The excel suite's only format: an .xlsx workbook in, CSV out (softnorm's default for a workbook).
EXCEL = "xlsx"
# Each job's output: the input's format, but a workbook's, which is CSV.
OUTPUT_EXT = {"csv": ".csv", "parquet": ".parquet", "parquet-pyarrow": ".parquet", "jsonl": ".jsonl", "arrow": ".arrow",
              EXCEL: ".csv"}
# Tools that do not read or write a format as they come (DuckDB reads Arrow IPC files only through
# an extension it downloads): not run on it, with a note.
UNSUPPORTED = {("duckdb", "arrow"): "DuckDB has no built-in reader or writer of Arrow IPC files (only an extension)"}
# Jobs with no peer program: softnorm alone runs them, checked against the numpy reference.
SOFTNORM_ONLY = {"quantile"}
# The quantile job's options (QuantileTransformer(n_quantiles=1000, subsample=None), uniform output),
# given to softnorm and to the reference alike.
QUANTILES = 1000
_READ_AS = {".parquet": "parquet", ".jsonl": "jsonl", ".arrow": "arrow", ".xlsx": EXCEL}


def format_of(path: str | Path) -> str:
    """'csv', 'parquet', 'jsonl', 'arrow' or 'xlsx', as a reader sees a file (both Parquet layouts are 'parquet')."""
    return _READ_AS.get(Path(path).suffix, "csv")


class Normal(NamedTuple):
    """A float column: standard normal draws, times ``scale``, plus ``shift``, plus the row's key
    number mod ``key_mod`` (if not 0: so that the groups differ)."""

    name: str
    scale: float = 1.0
    shift: float = 0.0
    key_mod: int = 0


class Layout(NamedTuple):
    """The columns of a long table: ``id`` (row number, zero-padded), a key, floats; and the
    float columns each job normalizes (peers and checks know a table by its layout's name)."""

    key: str
    key_prefix: str  # a key is this prefix and a number: g17, k0042
    floats: tuple[Normal, ...]
    job_columns: dict[str, list[str]]

    @property
    def text(self) -> list[str]:
        """The columns passed through as text (``id`` keeps its leading zeros)."""
        return ["id", self.key]

    @property
    def float_names(self) -> list[str]:
        return [f.name for f in self.floats]

    @property
    def names(self) -> list[str]:
        return [*self.text, *self.float_names]


_STANDARD_FLOATS = ["f0", "f1", "f2", "f3", "f4", "f5"]
_GROUP_FLOATS = ["f0", "f1", "f2", "f3", "f4"]
LAYOUTS = {
    "standard": Layout(
        "group", "g",
        (Normal("f0"), Normal("f1", 10.0), Normal("f2", 0.1), Normal("f3", 1000.0), Normal("f4", 0.001),
         Normal("f5", shift=1e9)),
        {"softmax": ["f0", "f1", "f2"], "minmax": _STANDARD_FLOATS, "zscore": _STANDARD_FLOATS, "io": [],
         # The robust suite's: unit norm over the row softmax's columns, the others over every float.
         "robust": _STANDARD_FLOATS, "quantile": _STANDARD_FLOATS, "maxabs": _STANDARD_FLOATS,
         "unitnorm": ["f0", "f1", "f2"]}),
    # Each statistic within each group of rows sharing grp (softnorm -g grp); softmax down each column.
    "groups": Layout(
        "grp", "k",
        (Normal("f0", key_mod=100), Normal("f1", 10.0), Normal("f2", 0.1), Normal("f3", 1000.0), Normal("f4", shift=1e9)),
        {"softmax": ["f0", "f1", "f2"], "minmax": _GROUP_FLOATS, "zscore": _GROUP_FLOATS}),
}
GROUP_KEY = LAYOUTS["groups"].key


class LongTable(NamedTuple):
    """One file set of a long table: ``rows`` rows drawn in chunks of CHUNK_ROWS, chunk k from
    numpy's ``default_rng([*seed, k])``, keys drawn uniformly from ``keys`` numbers."""

    layout: str
    stem: str  # file name before the format's suffix
    rows: int
    seed: tuple[int, ...]
    keys: int
    key_digits: int  # key numbers zero-padded to this many digits; 0: not padded
    suffixes: dict[str, str]  # the formats it can be written in
    # Each chunk drawn whole (CHUNK_ROWS values per column), then cut: the table is then the first
    # rows of every larger one. Without it a last, short chunk is drawn short, which gives other
    # values: 200,000 rows are not the first rows of 1,000,000 (multiples of CHUNK_ROWS are).
    first_rows: bool = False

    def paths(self, data_dir: Path, formats: list[str]) -> dict[str, Path]:
        """The files for ``formats``: always the CSV (the source of the others), and those of
        ``formats`` that this table has."""
        wanted = ["csv", *[f for f in formats if f != "csv" and f in self.suffixes]]
        return {fmt: data_dir / (self.stem + self.suffixes[fmt]) for fmt in wanted}


_STANDARD_SUFFIXES = {"csv": ".csv", "parquet": ".parquet", "parquet-pyarrow": "-pyarrow.parquet", "jsonl": ".jsonl",
                      "arrow": ".arrow", EXCEL: ".xlsx"}
STANDARD_KEYS = 50


def standard_table(rows: int) -> LongTable:
    return LongTable("standard", f"softnorm-bench-{DATA_VERSION}-{rows}", rows, (SEED,), STANDARD_KEYS, 0,
                     _STANDARD_SUFFIXES)


def first_rows_table(rows: int) -> LongTable:
    """The first ``rows`` rows of the standard table (of its 1,000,000 or 5,000,000 rows alike)."""
    return standard_table(rows)._replace(stem=f"softnorm-bench-{DATA_VERSION}-first{rows}", first_rows=True)


def group_table(rows: int, keys: int) -> LongTable:
    # The Parquet file is pyarrow's (it is the group suite's only one), so it takes the plain suffix.
    return LongTable("groups", f"softnorm-groups-{GROUPS_DATA_VERSION}-{rows}-{keys}", rows, (GROUPS_SEED, keys),
                     keys, len(str(keys)), {"csv": ".csv", "parquet-pyarrow": ".parquet"})


class WideTable(NamedTuple):
    """Few rows, many float columns: ``id`` (001, 002, ...), then c0..c{cols-1}, standard normal."""

    cols: int
    rows: int

    @property
    def names(self) -> list[str]:
        return [f"c{j}" for j in range(self.cols)]

    @property
    def formats(self) -> list[str]:
        return ["csv", "parquet"] if self.cols <= WIDE_PARQUET_MAX_COLS else ["csv"]

    def paths(self, data_dir: Path) -> dict[str, Path]:
        stem = f"softnorm-bench-wide-{WIDE_DATA_VERSION}-{self.cols}x{self.rows}"
        return {fmt: data_dir / (stem + _STANDARD_SUFFIXES[fmt]) for fmt in self.formats}


def table_of(kind: str, rows: int, keys: int | None = None, cols: int | None = None) -> LongTable | WideTable:
    """The table a suite names: 'standard', 'first' (the standard table's first rows), 'groups' or 'wide'."""
    if kind == "standard":
        return standard_table(rows)
    if kind == "first":
        return first_rows_table(rows)
    if kind == "groups":
        return group_table(rows, keys)
    if kind == "wide":
        return WideTable(cols, rows)
    raise ValueError(f"unknown table {kind!r}")

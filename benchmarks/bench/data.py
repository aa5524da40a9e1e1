"""Generating the benchmark's tables, deterministically, once: files appear only when complete
and are reused by name from --data-dir.

    python -m bench.data {standard,first,groups} --rows N [--keys K] [--formats F,..] --data-dir DIR
    python -m bench.data wide --rows N --cols C --data-dir DIR

prints the paths written, as JSON ({"csv": PATH, ...}). It runs in a process of its own
(numpy, polars and pyarrow are imported here, never in the harness).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .tables import CHUNK_ROWS, EXCEL, ID_WIDTH, LAYOUTS, SEED, WIDE_ID_WIDTH, LongTable, WideTable, table_of

ARROW_BATCH_ROWS = 65_536


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def long_chunk(table: LongTable, k: int, start: int, n: int):
    """Rows ``start`` .. ``start + n - 1`` of a long table, chunk ``k``, as a polars DataFrame.

    The files must not change for the same table (cached data stays valid), so the draws keep
    their order (the keys, then each float column), and a scale or shift is applied only when it
    is set: ``x * 1.0 + 0.0`` is not always ``x`` (it turns -0.0 into 0.0).
    """
    import numpy as np
    import polars as pl

    layout = LAYOUTS[table.layout]
    drawn = CHUNK_ROWS if table.first_rows else n
    rng = np.random.default_rng([*table.seed, k])
    key = rng.integers(0, table.keys, drawn)[:n]
    columns = {"n": np.arange(start + 1, start + n + 1, dtype=np.int64), "k": key}
    for f in layout.floats:
        v = rng.standard_normal(drawn)[:n]
        if f.scale != 1.0:
            v = v * f.scale
        if f.shift:
            v = f.shift + v
        if f.key_mod:
            v = v + key % f.key_mod
        columns[f.name] = v
    key_text = pl.col("k").cast(pl.String)
    if table.key_digits:
        key_text = key_text.str.zfill(table.key_digits)
    return pl.DataFrame(columns).select(
        pl.col("n").cast(pl.String).str.zfill(ID_WIDTH).alias("id"),
        (pl.lit(layout.key_prefix) + key_text).alias(layout.key),
        *layout.float_names,
    )


def generate_long(table: LongTable, data_dir: Path, formats: list[str]) -> dict[str, Path]:
    """The CSV of ``table`` in chunks, then its other formats of ``formats`` from that CSV."""
    import polars as pl

    paths = table.paths(data_dir, formats)
    if all(p.exists() for p in paths.values()):
        return paths
    layout = LAYOUTS[table.layout]
    what = f"{table.stem} ({', '.join(paths)})"
    t0 = time.perf_counter()
    log(f"generating {what} in {data_dir} ...")
    data_dir.mkdir(parents=True, exist_ok=True)

    def write_csv(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            for k, start in enumerate(range(0, table.rows, CHUNK_ROWS)):
                long_chunk(table, k, start, min(CHUNK_ROWS, table.rows - start)).write_csv(fh, include_header=(k == 0))

    writers = {
        "csv": write_csv,
        "parquet": lambda tmp: pl.scan_csv(paths["csv"], schema_overrides={"id": pl.String}).sink_parquet(tmp),
        "parquet-pyarrow": lambda tmp: write_pyarrow_parquet(paths["csv"], tmp, layout.text, layout.float_names),
        "jsonl": lambda tmp: pl.scan_csv(paths["csv"], schema_overrides={"id": pl.String}).sink_ndjson(tmp),
        "arrow": lambda tmp: write_arrow(paths["csv"], tmp, layout.text, layout.float_names),
        EXCEL: lambda tmp: write_workbook(paths["csv"], tmp, layout.text),
    }
    for fmt, path in paths.items():  # the CSV first: the others are read from it
        _write_once(path, writers[fmt])
    log(f"generated {what} in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{p.name} {p.stat().st_size / 2**20:.0f} MiB" for p in paths.values())
        + (f" ({parquet_layout(paths['parquet-pyarrow'])})" if "parquet-pyarrow" in paths else ""))
    return paths


def generate_wide(table: WideTable, data_dir: Path) -> dict[str, Path]:
    """A wide table, drawn as one matrix (rows x columns) from a generator seeded by the shape."""
    import numpy as np
    import polars as pl

    paths = table.paths(data_dir)
    if all(p.exists() for p in paths.values()):
        return paths
    t0 = time.perf_counter()
    log(f"generating a wide table, {table.cols:,} columns x {table.rows:,} rows, in {data_dir} ...")
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([SEED, table.cols, table.rows])
    df = pl.from_numpy(rng.standard_normal((table.rows, table.cols)), schema=table.names)
    ids = [str(i).zfill(WIDE_ID_WIDTH) for i in range(1, table.rows + 1)]
    df.insert_column(0, pl.Series("id", ids, dtype=pl.String))
    for fmt, path in paths.items():
        _write_once(path, df.write_csv if fmt == "csv" else df.write_parquet)
    log(f"generated {table.cols:,} x {table.rows:,} in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{p.name} {p.stat().st_size / 2**20:.1f} MiB" for p in paths.values()))
    return paths


def _write_once(path: Path, write) -> None:
    """``write(tmp)`` then rename to ``path``, unless ``path`` exists: a file is there only when complete."""
    if path.exists():
        return
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_pyarrow_parquet(csv_path: Path, out: Path, text: list[str], floats: list[str]) -> None:
    """The table as pyarrow (and pandas' to_parquet) writes it: ``pyarrow.parquet.write_table`` with its
    defaults (row groups of up to 1,048,576 rows, snappy). Read from the CSV by pyarrow with the types
    stated, the ``text`` columns as text and the floats as float64 (parsed exactly, as polars does)."""
    import pyarrow.parquet as pq

    pq.write_table(_read_pyarrow_csv(csv_path, text, floats), out)


def _read_pyarrow_csv(csv_path: Path, text: list[str], floats: list[str]):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = {**{c: pa.string() for c in text}, **{c: pa.float64() for c in floats}}
    return pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(column_types=types))


def write_arrow(csv_path: Path, out: Path, text: list[str], floats: list[str]) -> None:
    """An Arrow IPC file as pyarrow writes it (``pyarrow.ipc.new_file``: uncompressed, plain ``string``
    columns), in record batches of ARROW_BATCH_ROWS rows, Feather's default chunk size."""
    import pyarrow as pa

    table = _read_pyarrow_csv(csv_path, text, floats)
    with pa.OSFile(str(out), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks(), max_chunksize=ARROW_BATCH_ROWS)


def write_workbook(csv_path: Path, out: Path, text: list[str]) -> None:
    """An .xlsx workbook of one sheet, by xlsxwriter in constant_memory mode (row by row): the
    header, the ``text`` columns as string cells (``id`` keeps its zeros), the others as numbers,
    which xlsxwriter writes to 16 significant digits (``%.16G``)."""
    import polars as pl
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    sheet = book.add_worksheet()
    lf = pl.scan_csv(csv_path, schema_overrides={c: pl.String for c in text})
    sheet.write_row(0, 0, lf.collect_schema().names())
    r = 1
    for batch in lf.collect_batches(chunk_size=CHUNK_ROWS // 10):
        for row in batch.iter_rows():
            sheet.write_row(r, 0, row)  # str values as string cells, floats as numbers
            r += 1
    book.close()


def parquet_layout(path: Path) -> str:
    """'5 row groups of up to 1,048,576 rows, SNAPPY': how a Parquet file is laid out."""
    import pyarrow.parquet as pq

    md = pq.ParquetFile(path).metadata
    sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
    codecs = sorted({md.row_group(i).column(j).compression for i in range(md.num_row_groups) for j in range(md.num_columns)})
    return (f"{len(sizes)} row group{'s' if len(sizes) != 1 else ''} of up to {max(sizes, default=0):,} rows, "
            + "/".join(codecs))


def generate(kind: str, data_dir: Path, rows: int, keys: int | None = None, cols: int | None = None,
             formats: list[str] = ("csv",)) -> dict[str, Path]:
    """The files of the table ``kind`` (see tables.table_of), written if missing."""
    table = table_of(kind, rows, keys, cols)
    return generate_wide(table, data_dir) if isinstance(table, WideTable) else generate_long(table, data_dir, list(formats))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.data", description="Write a benchmark table, unless it is there.")
    p.add_argument("table", choices=["standard", "first", "groups", "wide"])
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--keys", type=int, help="groups: distinct keys")
    p.add_argument("--cols", type=int, help="wide: float columns")
    p.add_argument("--formats", default="csv", help="comma-separated formats (long tables)")
    p.add_argument("--data-dir", type=Path, required=True)
    a = p.parse_args(argv)
    if (a.table == "groups") != (a.keys is not None) or (a.table == "wide") != (a.cols is not None):
        p.error("--keys goes with groups, --cols with wide, and each needs it")
    paths = generate(a.table, a.data_dir, a.rows, a.keys, a.cols, a.formats.split(","))
    print(json.dumps({fmt: str(p) for fmt, p in paths.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

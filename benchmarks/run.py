#!/usr/bin/env python
"""Benchmark softnorm against the tools a user would otherwise reach for.

    python benchmarks/run.py [--suite standard|wide|groups|all|big] [--rows 1000000 5000000] [--runs 3]
                             [--wide-shapes 2000x500 100000x2] [--group-keys 1000] [--big] [--big-rows 12000000]
                             [--out benchmarks/results.json] [--data-dir benchmarks/data]
                             [--only softnorm,polars,duckdb,pandas]
                             [--jobs softmax,minmax,zscore,io,stats]
                             [--formats csv,parquet,parquet-pyarrow] [--markdown]

Every (job, size, format, tool) runs as a separate process, once to warm up and
then --runs times (the big CSV: no warm-up); the whole process is timed (wall
clock) and its peak resident memory is taken from GNU time
(``/usr/bin/time -f %M``), or from os.wait4's rusage where that is missing.
See benchmarks/README.md.

The harness itself imports only the standard library and stays small: the
peers run as ``python run.py --peer NAME ...`` and must pay only for their own
imports, and on Linux a child's ru_maxrss starts at the resident size of the
process that spawned it (which matters for the rusage fallback; under GNU time
that process is time, about 2 MiB), so data generation and the output checks
(numpy, polars, pyarrow) run in helper processes (``--generate``, ``--check``),
never in the harness.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUN_PY = str(Path(__file__).resolve())

DATA_VERSION = "v1"  # bump when the generated data changes
SEED = 20240611
CHUNK_ROWS = 500_000
N_GROUPS = 50
ID_WIDTH = 7
FLOATS = ["f0", "f1", "f2", "f3", "f4", "f5"]
COLUMNS = ["id", "group", *FLOATS]
TEXT = ["id", "group"]  # passed through as text

NORM_JOBS = ["softmax", "minmax", "zscore"]
ALL_JOBS = [*NORM_JOBS, "io"]
JOB_COLS = {"softmax": ["f0", "f1", "f2"], "minmax": FLOATS, "zscore": FLOATS, "io": []}
TOOLS = ["softnorm", "polars", "duckdb", "pandas"]
FLOOR = "io-floor"  # the tool name of the I/O floor (polars read + write, unchanged)
# parquet: written by polars (small row groups, zstd); parquet-pyarrow: by pyarrow.parquet.write_table
# with its defaults (row groups of 1,048,576 rows, snappy), as pyarrow and pandas write it.
FORMATS = ["csv", "parquet", "parquet-pyarrow"]
PARQUET_FORMATS = ["parquet", "parquet-pyarrow"]
EXT = {"csv": ".csv", "parquet": ".parquet", "parquet-pyarrow": ".parquet"}  # of outputs
DATA_SUFFIX = {"csv": ".csv", "parquet": ".parquet", "parquet-pyarrow": "-pyarrow.parquet"}  # of generated inputs

RTOL = 1e-9
ATOL = 1e-9
ATOL_ZSCORE_F5 = 1e-6  # 1e9 + noise: the mean itself carries ~1e-7 of rounding
# Group z-scores: a float64 mean is off by a few units in its last place, and a z-score by that over
# the group's std, which in groups of two or three rows (many keys) can be tiny.
ZSCORE_ULPS = 8

# The wide suite: few rows, very many float columns c0..cN-1 after a text id.
WIDE_DATA_VERSION = "v1"  # bump when the generated wide data changes
WIDE_SHAPES = ["2000x500", "100000x2"]  # columns x rows
WIDE_JOBS = ["stats", "zscore", "softmax"]
WIDE_TOOLS = ["softnorm", "polars", "pandas"]  # DuckDB is not run on wide tables (see README)
WIDE_PARQUET_MAX_COLS = 2000  # wider tables only as CSV: their Parquet is mostly metadata
WIDE_FORMATS = ["csv", "parquet"]  # no parquet-pyarrow for wide tables
WIDE_ID_WIDTH = 3

# The group suite: each statistic within each group of rows sharing the key grp (softnorm -g grp),
# on tables of its own: id, grp (one of --group-keys keys, rows in no order of it), f0..f4.
GROUPS_DATA_VERSION = "v1"  # bump when the generated group data changes
GROUPS_SEED = 20240612
GROUP_KEYS = [1000]  # keys per table, unless --group-keys
GROUP_KEY = "grp"
GROUP_FLOATS = ["f0", "f1", "f2", "f3", "f4"]
GROUP_TEXT = ["id", GROUP_KEY]
GROUP_COLUMNS = [*GROUP_TEXT, *GROUP_FLOATS]
GROUP_JOBS = ["softmax", "minmax", "zscore"]  # softmax down each column (--axis column), within each group
GROUP_JOB_COLS = {"softmax": ["f0", "f1", "f2"], "minmax": GROUP_FLOATS, "zscore": GROUP_FLOATS}
GROUP_FORMATS = ["csv", "parquet-pyarrow"]  # the Parquet input as pyarrow writes it by default
GROUP_DATA_SUFFIX = {"csv": ".csv", "parquet-pyarrow": ".parquet"}
GROUP_OFFSETS = 100  # f0 is shifted by (key number mod GROUP_OFFSETS), so that the groups differ

SUITES = ["standard", "wide", "groups", "all", "big"]  # all: the first three; big: only the big CSV case (as --big)

# The big CSV case (--big): one large CSV, CSV to CSV, softnorm and the polars one-liner.
BIG_ROWS = 12_000_000  # about 1.5 GiB of CSV
BIG_JOBS = ["zscore", "softmax"]
BIG_TOOLS = ["softnorm", "polars"]
RUNS = 3  # timed runs per case after one warm-up, unless --runs
BIG_RUNS = 1  # timed runs of the big case, without warm-up, unless --runs

# The speed targets, as ratios softnorm / polars one-liner of median wall times from the same run.
TARGET_SOFTMAX = 1.0  # softmax (row axis), every size and format, the big CSV included
TARGET_COLUMN = {1_000_000: 1.1, 5_000_000: 1.0}  # minmax and zscore (column axis), by rows, every format
TARGET_PARQUET = 1.0  # Parquet to Parquet, both Parquet formats, every job and size
TARGET_PEAK_MIB = 300.0  # softnorm's peak RSS, every job, size and format, the big CSV and the group target's cases included
TARGET_GROUP = 1.0  # group jobs, every job and format, at TARGET_GROUP_ROWS rows with TARGET_GROUP_KEYS keys
TARGET_GROUP_ROWS = [1_000_000, 5_000_000]
TARGET_GROUP_KEYS = 1000

GNU_TIME = "/usr/bin/time"


# --------------------------------------------------------------------------
# Peers: each runs in its own process via ``python run.py --peer NAME ...``.
# --------------------------------------------------------------------------


def _fmt_of(path: str) -> str:
    return "parquet" if path.endswith(".parquet") else "csv"


def peer_polars(job: str, inp: str, out: str) -> None:
    """The polars lazy one-liner a user writes (also the I/O floor, for job 'io')."""
    import polars as pl

    fmt = _fmt_of(inp)
    lf = pl.scan_csv(inp, schema_overrides={"id": pl.String}) if fmt == "csv" else pl.scan_parquet(inp)
    cols = JOB_COLS[job]
    if job == "softmax":
        m = pl.max_horizontal(cols)
        s = pl.sum_horizontal([(pl.col(c) - m).exp() for c in cols])
        lf = lf.with_columns([((pl.col(c) - m).exp() / s).alias(c) for c in cols])
    elif job == "minmax":
        lf = lf.with_columns([(pl.col(c) - pl.col(c).min()) / (pl.col(c).max() - pl.col(c).min()) for c in cols])
    elif job == "zscore":
        lf = lf.with_columns([(pl.col(c) - pl.col(c).mean()) / pl.col(c).std(ddof=0) for c in cols])
    if _fmt_of(out) == "csv":
        lf.sink_csv(out)
    else:
        lf.sink_parquet(out)


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _duckdb_read(inp: str, text: list[str]) -> str:
    """The table function that reads ``inp``, with the ``text`` columns of a CSV read as VARCHAR."""
    if _fmt_of(inp) == "csv":
        types = ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in text)
        return f"read_csv({_sql_str(inp)}, header = true, types = {{{types}}})"
    return f"read_parquet({_sql_str(inp)})"


def _duckdb_copy(query: str, out: str) -> str:
    options = "FORMAT csv, HEADER true" if _fmt_of(out) == "csv" else "FORMAT parquet"
    return f"COPY ({query}) TO {_sql_str(out)} ({options})"


def duckdb_sql(job: str, inp: str, out: str) -> str:
    src = _duckdb_read(inp, ["id"])
    cols = JOB_COLS[job]
    q = lambda c: '"' + c + '"'  # noqa: E731
    if job == "softmax":
        total = " + ".join(f"e_{c}" for c in cols)
        exprs = {c: f"e_{c} / ({total})" for c in cols}
        shifted = ", ".join(f"exp({q(c)} - m) AS e_{c}" for c in cols)
        src = f"(SELECT *, {shifted} FROM (SELECT *, GREATEST({', '.join(map(q, cols))}) AS m FROM {src}))"
    elif job == "minmax":
        exprs = {c: f"({q(c)} - min({q(c)}) OVER ()) / (max({q(c)}) OVER () - min({q(c)}) OVER ())" for c in cols}
    elif job == "zscore":
        exprs = {c: f"({q(c)} - avg({q(c)}) OVER ()) / stddev_pop({q(c)}) OVER ()" for c in cols}
    else:
        exprs = {}
    select = ", ".join(f"{exprs[c]} AS {q(c)}" if c in exprs else q(c) for c in COLUMNS)
    return _duckdb_copy(f"SELECT {select} FROM {src}", out)


def duckdb_group_sql(job: str, inp: str, out: str) -> str:
    """Group jobs: window functions ``OVER (PARTITION BY grp)``, a constant group made 0 as softnorm does."""
    q = lambda c: '"' + c + '"'  # noqa: E731
    w = f"OVER (PARTITION BY {q(GROUP_KEY)})"
    cols = GROUP_JOB_COLS[job]
    # A partitioned window returns the rows partition by partition: only ORDER BY promises the
    # input's order back, so each row takes its number as read.
    src = f"(SELECT *, row_number() OVER () AS __row FROM {_duckdb_read(inp, GROUP_TEXT)})"
    if job == "softmax":
        # An aggregate window cannot hold another window, so exp(x - max) is taken in a subquery.
        shifted = ", ".join(f"exp({q(c)} - max({q(c)}) {w}) AS e_{c}" for c in cols)
        src = f"(SELECT *, {shifted} FROM {src})"
        exprs = {c: f"e_{c} / sum(e_{c}) {w}" for c in cols}
    elif job == "minmax":
        exprs = {c: f"CASE WHEN max({q(c)}) {w} = min({q(c)}) {w} THEN 0 "
                    f"ELSE ({q(c)} - min({q(c)}) {w}) / (max({q(c)}) {w} - min({q(c)}) {w}) END" for c in cols}
    else:
        exprs = {c: f"CASE WHEN stddev_pop({q(c)}) {w} = 0 THEN 0 "
                    f"ELSE ({q(c)} - avg({q(c)}) {w}) / stddev_pop({q(c)}) {w} END" for c in cols}
    select = ", ".join(f"{exprs[c]} AS {q(c)}" if c in exprs else q(c) for c in GROUP_COLUMNS)
    return _duckdb_copy(f"SELECT {select} FROM {src} ORDER BY __row", out)


def peer_duckdb(job: str, inp: str, out: str, sql=duckdb_sql) -> None:
    """DuckDB SQL with window functions over the whole table (over each group with duckdb_group_sql)."""
    import duckdb

    con = duckdb.connect()
    con.execute(sql(job, inp, out))
    con.close()


def peer_pandas(job: str, inp: str, out: str) -> None:
    """The pandas code a user writes by hand: read, numpy math, write."""
    import numpy as np
    import pandas as pd

    if _fmt_of(inp) == "csv":
        df = pd.read_csv(inp, dtype={"id": str})
    else:
        df = pd.read_parquet(inp)
    cols = JOB_COLS[job]
    if cols:
        a = df[cols].to_numpy(dtype=np.float64)
        if job == "softmax":
            e = np.exp(a - a.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        elif job == "minmax":
            lo = a.min(axis=0)
            a = (a - lo) / (a.max(axis=0) - lo)
        elif job == "zscore":
            a = (a - a.mean(axis=0)) / a.std(axis=0)
        df[cols] = a
    if _fmt_of(out) == "csv":
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)


def _print_stats(rows: int, columns: dict) -> None:
    """Figures as softnorm's ``stats --json`` prints them: {"rows": n, "columns": {name: {figure: value}}}."""
    sys.stdout.write(json.dumps({"rows": rows, "columns": columns}, indent=2) + "\n")


def peer_polars_wide(job: str, inp: str, out: str) -> None:
    """Wide tables, polars: every float column, by the in-memory engine (see README)."""
    import polars as pl
    import polars.selectors as cs

    parquet = _fmt_of(inp) == "parquet"
    if job == "stats":
        df = pl.read_parquet(inp) if parquet else pl.read_csv(inp, schema_overrides={"id": pl.String})
        x = df.select(cs.float())
        figures = {"count": x.count(), "min": x.min(), "max": x.max(), "mean": x.mean(), "std": x.std(ddof=0)}
        values = {k: v.row(0) for k, v in figures.items()}
        _print_stats(df.height, {c: {k: values[k][i] for k in figures} for i, c in enumerate(x.columns)})
        return
    lf = pl.scan_parquet(inp) if parquet else pl.scan_csv(inp, schema_overrides={"id": pl.String})
    if job == "zscore":
        f = cs.float()
        lf = lf.with_columns((f - f.mean()) / f.std(ddof=0))
    elif job == "softmax":
        # In steps through two temporary columns: as one with_columns, each of the N
        # output expressions holds the max and the sum over all N columns (N x N nodes).
        cols = [c for c, t in lf.collect_schema().items() if t == pl.Float64]
        f = pl.col(cols)
        lf = (lf.with_columns(pl.max_horizontal(cols).alias("__max"))
                .with_columns(f - pl.col("__max"))
                .with_columns(f.exp())
                .with_columns(pl.sum_horizontal(cols).alias("__sum"))
                .with_columns(f / pl.col("__sum"))
                .drop("__max", "__sum"))
    # Not sink_*, nor collect()'s default (the streaming engine in polars 2): with an aggregate
    # broadcast over every column, the streaming engine's memory grows with the column count.
    df = lf.collect(engine="in-memory")
    if _fmt_of(out) == "csv":
        df.write_csv(out)
    else:
        df.write_parquet(out)


def peer_pandas_wide(job: str, inp: str, out: str) -> None:
    """Wide tables, pandas: every float column, numpy math."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(inp, dtype={"id": str}) if _fmt_of(inp) == "csv" else pd.read_parquet(inp)
    cols = list(df.select_dtypes("float").columns)
    a = df[cols].to_numpy(dtype=np.float64)
    if job == "stats":
        figures = zip(cols, (~np.isnan(a)).sum(axis=0), np.nanmin(a, axis=0), np.nanmax(a, axis=0),
                      np.nanmean(a, axis=0), np.nanstd(a, axis=0))
        _print_stats(len(df), {c: {"count": int(n), "min": float(lo), "max": float(hi), "mean": float(m), "std": float(s)}
                               for c, n, lo, hi, m, s in figures})
        return
    if job == "zscore":
        a = (a - a.mean(axis=0)) / a.std(axis=0)
    elif job == "softmax":
        e = np.exp(a - a.max(axis=1, keepdims=True))
        a = e / e.sum(axis=1, keepdims=True)
    # One new frame, not 100,000 column assignments.
    df = pd.concat([df.drop(columns=cols), pd.DataFrame(a, columns=cols, index=df.index)], axis=1)[list(df.columns)]
    if _fmt_of(out) == "csv":
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)


def peer_polars_groups(job: str, inp: str, out: str) -> None:
    """Group jobs, polars: the lazy one-liner with each column's expression ``.over("grp")``."""
    import polars as pl

    text = {c: pl.String for c in GROUP_TEXT}  # id keeps its leading zeros
    lf = pl.scan_csv(inp, schema_overrides=text) if _fmt_of(inp) == "csv" else pl.scan_parquet(inp)
    cols = GROUP_JOB_COLS[job]
    if job == "softmax":
        e = {c: (pl.col(c) - pl.col(c).max()).exp() for c in cols}
        lf = lf.with_columns([(e[c] / e[c].sum()).over(GROUP_KEY) for c in cols])
    elif job == "minmax":
        # fill_nan: a constant group is 0/0, which softnorm makes 0.
        lf = lf.with_columns([((pl.col(c) - pl.col(c).min()) / (pl.col(c).max() - pl.col(c).min())).over(GROUP_KEY).fill_nan(0.0)
                              for c in cols])
    elif job == "zscore":
        lf = lf.with_columns([((pl.col(c) - pl.col(c).mean()) / pl.col(c).std(ddof=0)).over(GROUP_KEY).fill_nan(0.0)
                              for c in cols])
    if _fmt_of(out) == "csv":
        lf.sink_csv(out)
    else:
        lf.sink_parquet(out)


def peer_pandas_groups(job: str, inp: str, out: str) -> None:
    """Group jobs, pandas: ``df.groupby("grp")[cols].transform(...)``."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(inp, dtype={c: str for c in GROUP_TEXT}) if _fmt_of(inp) == "csv" else pd.read_parquet(inp)
    cols = GROUP_JOB_COLS[job]
    g = df.groupby(GROUP_KEY, sort=False)[cols]
    if job == "softmax":
        e = np.exp(df[cols] - g.transform("max"))
        df[cols] = e / e.groupby(df[GROUP_KEY], sort=False).transform("sum")
    elif job == "minmax":
        lo = g.transform("min")
        df[cols] = ((df[cols] - lo) / (g.transform("max") - lo)).fillna(0.0)  # a constant group: 0/0, made 0
    elif job == "zscore":
        df[cols] = ((df[cols] - g.transform("mean")) / g.transform("std", ddof=0)).fillna(0.0)
    if _fmt_of(out) == "csv":
        df.to_csv(out, index=False)
    else:
        df.to_parquet(out, index=False)


PEERS = {"polars": peer_polars, "duckdb": peer_duckdb, "pandas": peer_pandas, FLOOR: peer_polars}
WIDE_PEERS = {"polars": peer_polars_wide, "pandas": peer_pandas_wide}
GROUP_PEERS = {"polars": peer_polars_groups, "duckdb": lambda job, inp, out: peer_duckdb(job, inp, out, duckdb_group_sql),
               "pandas": peer_pandas_groups}
PEER_MODULES = {"polars": ["polars"], "duckdb": ["duckdb"], "pandas": ["pandas", "numpy"], FLOOR: ["polars"]}


def softnorm_command() -> list[str]:
    script = Path(sys.executable).parent / "softnorm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "softnorm_cli"]


def tool_command(tool: str, job: str, inp: str, out: str) -> list[str]:
    if tool == "softnorm":
        return [*softnorm_command(), job, inp, "-c", ",".join(JOB_COLS[job]), "-o", out]
    peer_job = "io" if tool == FLOOR else job
    return [sys.executable, RUN_PY, "--peer", tool, "--job", peer_job, "--input", inp, "--output", out]


def group_tool_command(tool: str, job: str, inp: str, out: str) -> list[str]:
    """Group jobs: each statistic within each group of rows sharing ``grp`` (softmax down the columns)."""
    if tool == "softnorm":
        axis = ["--axis", "column"] if job == "softmax" else []
        return [*softnorm_command(), job, inp, "-c", ",".join(GROUP_JOB_COLS[job]), *axis, "-g", GROUP_KEY, "-o", out, "-q"]
    return [sys.executable, RUN_PY, "--peer", tool, "--suite", "groups", "--job", job, "--input", inp, "--output", out]


def wide_tool_command(tool: str, job: str, inp: str, out: str) -> list[str]:
    """Wide tables: no -c (softnorm chooses the numeric columns); stats prints JSON on stdout."""
    if tool == "softnorm":
        if job == "stats":
            return [*softnorm_command(), "stats", inp, "--json"]
        return [*softnorm_command(), job, inp, "-o", out]
    return [sys.executable, RUN_PY, "--peer", tool, "--suite", "wide", "--job", job, "--input", inp,
            "--output", "-" if job == "stats" else out]


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def data_paths(data_dir: Path, rows: int, formats: list[str] = FORMATS) -> dict[str, Path]:
    stem = f"softnorm-bench-{DATA_VERSION}-{rows}"
    return {fmt: data_dir / (stem + DATA_SUFFIX[fmt]) for fmt in ["csv", *[f for f in formats if f != "csv"]]}


def generate_data(data_dir: Path, rows: int, formats: list[str] = FORMATS) -> dict[str, Path]:
    """Deterministic data, written once per size in the given formats (always CSV, the source of
    the others); files appear only when complete.

    Chunk k is drawn from its own generator seeded (SEED, k), so a smaller
    size is a prefix of a larger one.
    """
    return _generate(data_paths(data_dir, rows, formats), rows, _bench_chunk, f"{rows:,} rows")


def _bench_chunk(k: int, start: int, n: int):
    """Rows ``start`` .. ``start + n - 1`` of the standard table, chunk ``k``."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng([SEED, k])
    return pl.DataFrame(
        {
            "n": np.arange(start + 1, start + n + 1, dtype=np.int64),
            "k": rng.integers(0, N_GROUPS, n),
            "f0": rng.standard_normal(n),
            "f1": rng.standard_normal(n) * 10.0,
            "f2": rng.standard_normal(n) * 0.1,
            "f3": rng.standard_normal(n) * 1000.0,
            "f4": rng.standard_normal(n) * 0.001,
            "f5": 1e9 + rng.standard_normal(n),
        }
    ).select(
        pl.col("n").cast(pl.String).str.zfill(ID_WIDTH).alias("id"),
        (pl.lit("g") + pl.col("k").cast(pl.String)).alias("group"),
        *FLOATS,
    )


def _generate(paths: dict[str, Path], rows: int, chunk, what: str, text: list[str] = TEXT,
              floats: list[str] = FLOATS) -> dict[str, Path]:
    """Write the CSV of ``paths`` from ``chunk(k, start, n)`` (a polars DataFrame per CHUNK_ROWS rows),
    then the other formats of ``paths`` from it; ``text`` and ``floats`` are the columns' types for pyarrow."""
    import polars as pl

    if all(p.exists() for p in paths.values()):
        return paths
    data_dir = paths["csv"].parent
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    log(f"generating {what} ({', '.join(paths)}) in {data_dir} ...")
    tmps = {fmt: p.with_name(p.name + f".tmp{os.getpid()}") for fmt, p in paths.items()}
    csv_tmp = tmps["csv"]
    try:
        if not paths["csv"].exists():
            with open(csv_tmp, "wb") as fh:
                for k, start in enumerate(range(0, rows, CHUNK_ROWS)):
                    chunk(k, start, min(CHUNK_ROWS, rows - start)).write_csv(fh, include_header=(k == 0))
            os.replace(csv_tmp, paths["csv"])
        if "parquet" in paths and not paths["parquet"].exists():
            pl.scan_csv(paths["csv"], schema_overrides={"id": pl.String}).sink_parquet(tmps["parquet"])
            os.replace(tmps["parquet"], paths["parquet"])
        if "parquet-pyarrow" in paths and not paths["parquet-pyarrow"].exists():
            write_pyarrow_parquet(paths["csv"], tmps["parquet-pyarrow"], text, floats)
            os.replace(tmps["parquet-pyarrow"], paths["parquet-pyarrow"])
    finally:
        for p in tmps.values():
            p.unlink(missing_ok=True)
    log(f"generated {what} in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{p.name} {p.stat().st_size / 2**20:.0f} MiB" for p in paths.values())
        + (f" ({parquet_layout(paths['parquet-pyarrow'])})" if "parquet-pyarrow" in paths else ""))
    return paths


def group_data_paths(data_dir: Path, rows: int, keys: int, formats: list[str] = GROUP_FORMATS) -> dict[str, Path]:
    stem = f"softnorm-groups-{GROUPS_DATA_VERSION}-{rows}-{keys}"
    return {fmt: data_dir / (stem + GROUP_DATA_SUFFIX[fmt]) for fmt in ["csv", *[f for f in formats if f != "csv" and f in GROUP_FORMATS]]}


def generate_group_data(data_dir: Path, rows: int, keys: int, formats: list[str] = GROUP_FORMATS) -> dict[str, Path]:
    """The group table of ``rows`` rows and ``keys`` keys, as generate_data writes the standard one.

    Chunk k is drawn from a generator seeded (GROUPS_SEED, keys, k): with the same keys, a smaller
    size is a prefix of a larger one.
    """
    return _generate(group_data_paths(data_dir, rows, keys, formats), rows, lambda k, start, n: _group_chunk(keys, k, start, n),
                     f"the group table, {rows:,} rows with {keys:,} keys", GROUP_TEXT, GROUP_FLOATS)


def _group_chunk(keys: int, k: int, start: int, n: int):
    """Rows ``start`` .. ``start + n - 1`` of the group table: keys k0000.. drawn uniformly, in no order."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng([GROUPS_SEED, keys, k])
    key = rng.integers(0, keys, n)
    return pl.DataFrame(
        {
            "n": np.arange(start + 1, start + n + 1, dtype=np.int64),
            "k": key,
            "f0": rng.standard_normal(n) + key % GROUP_OFFSETS,
            "f1": rng.standard_normal(n) * 10.0,
            "f2": rng.standard_normal(n) * 0.1,
            "f3": rng.standard_normal(n) * 1000.0,
            "f4": 1e9 + rng.standard_normal(n),
        }
    ).select(
        pl.col("n").cast(pl.String).str.zfill(ID_WIDTH).alias("id"),
        (pl.lit("k") + pl.col("k").cast(pl.String).str.zfill(len(str(keys)))).alias(GROUP_KEY),
        *GROUP_FLOATS,
    )


def write_pyarrow_parquet(csv_path: Path, out: Path, text: list[str] = TEXT, floats: list[str] = FLOATS) -> None:
    """The table as pyarrow (and pandas' to_parquet) writes it: ``pyarrow.parquet.write_table`` with its
    defaults (row groups of up to 1,048,576 rows, snappy). Read from the CSV by pyarrow with the types
    stated: the ``text`` columns (``id`` and ``group``) text, the floats float64 (parsed exactly, as polars does)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    types = {**{c: pa.string() for c in text}, **{c: pa.float64() for c in floats}}
    table = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(column_types=types))
    pq.write_table(table, out)


def parquet_layout(path: Path) -> str:
    """'5 row groups of up to 1,048,576 rows, SNAPPY': how a Parquet file is laid out."""
    import pyarrow.parquet as pq

    md = pq.ParquetFile(path).metadata
    sizes = [md.row_group(i).num_rows for i in range(md.num_row_groups)]
    codecs = sorted({md.row_group(i).column(j).compression for i in range(md.num_row_groups) for j in range(md.num_columns)})
    return (f"{len(sizes)} row group{'s' if len(sizes) != 1 else ''} of up to {max(sizes, default=0):,} rows, "
            + "/".join(codecs))


def parse_shape(text: str) -> tuple[int, int]:
    """'2000x500' -> (2000 columns, 500 rows)."""
    try:
        cols, rows = (int(v.replace("_", "").replace(",", "")) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shape {text!r} is not COLUMNSxROWS, e.g. 2000x500") from None
    if cols < 1 or rows < 1:
        raise argparse.ArgumentTypeError(f"shape {text!r}: columns and rows must be positive")
    return cols, rows


def wide_names(cols: int) -> list[str]:
    return [f"c{j}" for j in range(cols)]


def wide_formats(cols: int) -> list[str]:
    return WIDE_FORMATS if cols <= WIDE_PARQUET_MAX_COLS else ["csv"]


def wide_data_paths(data_dir: Path, cols: int, rows: int) -> dict[str, Path]:
    stem = f"softnorm-bench-wide-{WIDE_DATA_VERSION}-{cols}x{rows}"
    return {fmt: data_dir / (stem + DATA_SUFFIX[fmt]) for fmt in wide_formats(cols)}


def generate_wide_data(data_dir: Path, cols: int, rows: int) -> dict[str, Path]:
    """A text ``id`` with leading zeros (``007``), then ``cols`` standard normal columns c0..; seeded by the shape."""
    import numpy as np
    import polars as pl

    paths = wide_data_paths(data_dir, cols, rows)
    if all(p.exists() for p in paths.values()):
        return paths
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    log(f"generating a wide table, {cols:,} columns x {rows:,} rows, in {data_dir} ...")
    rng = np.random.default_rng([SEED, cols, rows])
    df = pl.from_numpy(rng.standard_normal((rows, cols)), schema=wide_names(cols))
    df.insert_column(0, pl.Series("id", [str(i).zfill(WIDE_ID_WIDTH) for i in range(1, rows + 1)], dtype=pl.String))
    for fmt, path in paths.items():
        if path.exists():
            continue
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        try:
            if fmt == "csv":
                df.write_csv(tmp)
            else:
                df.write_parquet(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    log(f"generated {cols:,} x {rows:,} in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{p.name} {p.stat().st_size / 2**20:.1f} MiB" for p in paths.values()))
    return paths


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def helper(args: list[str]) -> str:
    """Run data generation or a check in its own process (keeps the harness small)."""
    r = subprocess.run([sys.executable, RUN_PY, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"run.py: helper {' '.join(args)} failed with exit {r.returncode}")
    return r.stdout


def harness_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def gnu_time_check(work: Path) -> str | None:
    """None if ``/usr/bin/time -f %M -o FILE`` works here (GNU time), else why not."""
    if not Path(GNU_TIME).exists():
        return f"{GNU_TIME} not found"
    probe = work / "time-probe.txt"
    try:
        r = subprocess.run([GNU_TIME, "-f", "%M", "-o", str(probe), "true"], check=False,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0 or _time_report(probe)[1] is None:
            return f"`{GNU_TIME} -f %M -o FILE true` failed (not GNU time?): " + (r.stderr.strip().splitlines() or ["?"])[-1]
    except OSError as exc:
        return f"{GNU_TIME}: {exc}"
    return None


def _time_report(path: Path) -> tuple[int | None, float | None]:
    """Read GNU time's ``-f %M -o FILE``: (the command's exit code if time says it was not 0, peak MiB).

    The last line is %M, the peak RSS in KiB; before it, time writes "Command exited with
    non-zero status N" or "Command terminated by signal N".
    """
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return None, None
    code = None
    for line in lines[:-1]:
        words = line.split()
        if line.startswith("Command exited with non-zero status") and words[-1].isdigit():
            code = int(words[-1])
        elif line.startswith("Command terminated by signal") and words[-1].isdigit():
            code = -int(words[-1])
    peak = int(lines[-1]) / 1024 if lines and lines[-1].strip().isdigit() else None
    return code, peak


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    try:
        return [int(v) for v in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        pass
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                    kids.append(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
    return kids


def _kill_timed(proc: subprocess.Popen, wrapped: bool) -> None:
    """On timeout: kill the timed command. Under /usr/bin/time that is time's child (time then
    reports and exits); killing time itself would leave the command running."""
    kids = _children(proc.pid) if wrapped else []
    for pid in kids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if not kids:
        proc.kill()


def measure(cmd: list[str], err_path: Path, timeout: float, out_path: Path | None = None,
            time_file: Path | None = None) -> dict:
    """Run ``cmd`` once: wall seconds around the whole process, and its own peak RSS.

    With ``time_file``, the command runs as ``/usr/bin/time -f %M -o time_file CMD...`` and the
    peak is GNU time's %M; the wall time is then that of the time process, the command plus a
    small wrapper. Without it, the peak is the ru_maxrss of os.wait4. Standard output goes to
    /dev/null, or to ``out_path`` if given.
    """
    if time_file is not None:
        time_file.unlink(missing_ok=True)
        cmd = [GNU_TIME, "-f", "%M", "-o", str(time_file), *cmd]
    with open(err_path, "wb") as err, open(out_path or os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(timeout, _kill_timed, (proc, time_file is not None))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if time_file is not None:
        cmd_code, maxrss = _time_report(time_file)
        if cmd_code is not None:
            code = cmd_code  # the command's own exit code or signal, rather than time's 128 + N
    else:
        maxrss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS, KiB on Linux
    result = {"wall_s": wall, "peak_mib": maxrss, "exit": code}
    if code == 0 and maxrss is None:
        result["error"] = f"no peak memory in {GNU_TIME}'s report {time_file}"
    if code != 0:
        tail = err_path.read_text(errors="replace").strip().splitlines()[-5:]
        killed = f" (killed by signal {-code}{', out of memory?' if code == -9 and wall < timeout else ''})" if code < 0 else ""
        result["error"] = ("timed out; " if wall >= timeout else "") + f"exit {code}{killed}: " + " | ".join(tail)
    return result


def available_tools(wanted: list[str]) -> tuple[list[str], list[str]]:
    ok, notes = [], []
    for tool in wanted:
        if tool == "softnorm":
            cmd = [*softnorm_command(), "--version"]
        else:
            cmd = [sys.executable, "-c", "; ".join(f"import {m}" for m in PEER_MODULES[tool])]
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode == 0:
            ok.append(tool)
        else:
            last = (r.stderr.strip().splitlines() or ["?"])[-1]
            notes.append(f"{tool}: skipped, `{' '.join(cmd)}` failed: {last}")
    return ok, notes


def run_case(tools: list[str], job: str, rows: int, fmt: str, inp: Path, work: Path, runs: int, timeout: float,
             cols: int | None = None, *, keys: int | None = None, suite: str | None = None, warmup: bool = True,
             time_file: Path | None = None) -> tuple[list[dict], dict[str, Path]]:
    """Warm up every tool once (unless not ``warmup``), then ``runs`` rounds, the tools interleaved in each round.

    ``cols`` makes it a case of the wide suite, ``keys`` one of the group suite (a table with that
    many group keys); ``suite`` names it otherwise (standard or big).
    ``time_file``: measure the peak with GNU time, which writes it there (see ``measure``).
    A job that prints its result (``stats``) has the warm-up's standard output kept as its
    output, for the check; the timed runs print to /dev/null.
    """
    wide = cols is not None
    suite = "wide" if wide else "groups" if keys is not None else (suite or "standard")
    if wide:
        tag, command, size = f"wide-{job}-{cols}x{rows}", wide_tool_command, f"{cols:,}x{rows:,}"
    elif suite == "groups":
        tag, command, size = f"groups-{job}-{rows}-{keys}-{fmt}", group_tool_command, f"{rows:,}/{keys:,} keys"
    else:
        tag, command, size = f"{suite}-{job}-{rows}-{fmt}", tool_command, f"{rows:,}"
    outs = {t: work / f"{tag}-{t}{'.json' if job == 'stats' else EXT[fmt]}" for t in tools}
    recs = {
        t: {"suite": suite, "job": job, "rows": rows, **({"cols": cols} if wide else {}),
            **({"keys": keys} if keys is not None else {}),
            "format": fmt, "tool": t, "command": command(t, job, str(inp), str(outs[t])),
            "walls_s": [], "peaks_mib": [], "warmup_s": None, "error": None}
        for t in tools
    }
    for rnd in range(0 if warmup else 1, runs + 1):
        for t in tools:
            rec = recs[t]
            if rec["error"]:
                continue
            capture = outs[t] if job == "stats" and rnd == 0 else None
            if job != "stats" or capture:
                outs[t].unlink(missing_ok=True)  # stats: the warm-up's output is kept for the check
            m = measure(rec["command"], work / f"{t}.stderr", timeout, capture, time_file)
            label = "warm-up" if rnd == 0 else f"run {rnd}/{runs}"
            if m.get("error"):
                rec["error"] = m["error"]
                log(f"  {job:8} {size:>10} {fmt:15} {t:9} {label}: FAILED {m['error']}")
                continue
            log(f"  {job:8} {size:>10} {fmt:15} {t:9} {label}: {m['wall_s']:.3f} s, {m['peak_mib']:.0f} MiB")
            if rnd == 0:
                rec["warmup_s"] = m["wall_s"]
            else:
                rec["walls_s"].append(m["wall_s"])
                rec["peaks_mib"].append(m["peak_mib"])
    out = []
    for rec in recs.values():
        rec["median_wall_s"] = statistics.median(rec["walls_s"]) if rec["walls_s"] and not rec["error"] else None
        rec["peak_mib"] = max(rec["peaks_mib"]) if rec["peaks_mib"] and not rec["error"] else None
        out.append(rec)
    return out, {t: p for t, p in outs.items() if not recs[t]["error"]}


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def read_table(path: Path, text: list[str] = TEXT, floats: list[str] = FLOATS):
    import polars as pl

    if _fmt_of(str(path)) == "csv":
        return pl.read_csv(path, schema_overrides={**{c: pl.String for c in text}, **{c: pl.Float64 for c in floats}})
    return pl.read_parquet(path)


def expected_floats(job: str, x):
    """What every tool should produce, computed here with numpy in float64."""
    import numpy as np

    y = x.copy()
    if job == "softmax":
        a = x[:, :3]
        e = np.exp(a - a.max(axis=1, keepdims=True))
        y[:, :3] = e / e.sum(axis=1, keepdims=True)
    elif job == "minmax":
        lo = x.min(axis=0)
        y = (x - lo) / (x.max(axis=0) - lo)
    elif job == "zscore":
        y = (x - x.mean(axis=0)) / x.std(axis=0)
    return y


def expected_group_floats(job: str, key, x):
    """The group jobs' reference, in float64 with numpy: rows sorted by ``key`` (integer codes), each
    figure a ``ufunc.reduceat`` over a run of equal keys. Returns it, and for zscore each row's group
    mean and std (0 in a constant group), which the z-score's tolerance needs (else None, None).

    The mean is that of ``x - min`` of the group, which is exact near 1e9 (f4), so the reference's
    z-scores are accurate to the last bits whatever the group's size.
    """
    import numpy as np

    order = np.argsort(key, kind="stable")
    xs, ks = x[order], key[order]
    starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
    n = np.diff(np.r_[starts, len(ks)])

    def per_row(ufunc, a):  # each group's figure, on every row of the group
        return np.repeat(ufunc.reduceat(a, starts, axis=0), n, axis=0)

    lo, hi = per_row(np.minimum, xs), per_row(np.maximum, xs)
    ys, figures = xs.copy(), []
    rows_n = np.repeat(n, n)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        if job == "softmax":
            k = len(GROUP_JOB_COLS["softmax"])
            e = np.exp(xs[:, :k] - hi[:, :k])
            ys[:, :k] = e / per_row(np.add, e)
        elif job == "minmax":
            ys = np.where(hi > lo, (xs - lo) / (hi - lo), 0.0)
        elif job == "zscore":
            m = per_row(np.add, xs - lo) / rows_n
            d = (xs - lo) - m  # x - mean
            std = np.where(hi > lo, np.sqrt(per_row(np.add, d * d) / rows_n), 0.0)
            ys = np.where(hi > lo, d / std, 0.0)
            figures = [lo + m, std]
    out = [ys, *figures]
    for i, a in enumerate(out):
        out[i] = np.empty_like(a)
        out[i][order] = a  # back to the input's order
    return out[0], *(out[1:] or [None, None])


def check_outputs(job: str, rows: int, fmt: str, inp: Path, outs: dict[str, Path], keys: int | None = None) -> list[dict]:
    """Compare each tool's output with the numpy reference (so all tools with one another).

    ``keys``: a table of the group suite, with the reference computed within each group.
    """
    import numpy as np
    import polars as pl

    groups = keys is not None
    text, floats = (GROUP_TEXT, GROUP_FLOATS) if groups else (TEXT, FLOATS)
    inp_table = read_table(inp, text, floats)
    x = inp_table.select(floats).to_numpy().astype(np.float64)
    inp_table = inp_table.select(text)  # the floats are in x now (the big CSV is 12M rows)
    size = {"keys": keys} if groups else {}
    atol = {c: ATOL for c in floats}
    if groups:
        # Integer codes for the keys: the reference sorts and splits on them.
        want, mean, std = expected_group_floats(job, inp_table[GROUP_KEY].rank("dense").to_numpy(), x)
        if job == "zscore":
            # f4 (1e9 + noise) keeps the standard suite's looser tolerance for f5; below it, ZSCORE_ULPS
            # units in the last place of the group's mean over its std. A constant group must give 0.
            with np.errstate(divide="ignore", invalid="ignore"):
                cond = np.where(std > 0, ZSCORE_ULPS * np.spacing(np.abs(mean)) / std, 0.0)
            atol = {c: np.maximum(ATOL_ZSCORE_F5 if c == "f4" else ATOL, cond[:, j]) for j, c in enumerate(floats)}
    else:
        want = expected_floats(job, x)
        if job == "zscore":
            atol["f5"] = ATOL_ZSCORE_F5
    checks = []
    for tool, path in outs.items():
        problems, notes = [], []
        try:
            got = read_table(path, text, floats)
        except Exception as exc:  # noqa: BLE001 - report, do not abort
            checks.append({"job": job, "rows": rows, **size, "format": fmt, "tool": tool, "ok": False,
                           "problems": [f"cannot read output: {exc}"], "notes": []})
            continue
        columns = [*text, *floats]
        if got.columns != columns:
            problems.append(f"columns {got.columns}, expected {columns}")
        if got.height != inp_table.height:
            problems.append(f"{got.height} rows, expected {inp_table.height}")
        if not problems:
            for c in text:
                s = got[c]
                if s.dtype != pl.String:
                    notes.append(f"{c} written as {s.dtype}, not text")
                    s = s.cast(pl.String)
                bad = (s != inp_table[c]).fill_null(True) | (s.is_null() != inp_table[c].is_null())
                nbad = int(bad.sum())
                if nbad:
                    i = int(bad.arg_max())
                    problems.append(f"column {c}: {nbad} of {rows} values differ from the input text, "
                                    f"first at row {i}: {s[i]!r} instead of {inp_table[c][i]!r}")
            y = got.select(floats).to_numpy().astype(np.float64)
            for j, c in enumerate(floats):
                close = np.isclose(y[:, j], want[:, j], rtol=RTOL, atol=atol[c], equal_nan=True)
                if not close.all():
                    diff = np.abs(y[:, j] - want[:, j])
                    diff[close] = 0
                    i = int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)))
                    tol = f"{atol[c]:g}" if np.ndim(atol[c]) == 0 else f"{float(atol[c][i]):g} (here)"
                    problems.append(f"column {c}: {int((~close).sum())} of {rows} values outside rtol {RTOL:g} "
                                    f"atol {tol}; worst row {i}: {float(y[i, j])!r} vs expected {float(want[i, j])!r}")
        checks.append({"job": job, "rows": rows, **size, "format": fmt, "tool": tool, "ok": not problems,
                       "problems": problems, "notes": notes})
    return checks


def _compare(got, want, what: str, rows_of=None) -> str | None:
    """None if ``got`` matches ``want`` (float64 arrays, same shape) within RTOL/ATOL, else what is wrong."""
    import numpy as np

    close = np.isclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
    if close.all():
        return None
    diff = np.abs(got - want)
    diff[close] = 0
    i = np.unravel_index(int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff))), diff.shape)
    where = rows_of(i) if rows_of else f"at {tuple(int(k) for k in i)}"
    return (f"{what}: {int((~close).sum()):,} of {close.size:,} values outside rtol {RTOL:g} atol {ATOL:g}; "
            f"worst {where}: {float(got[i])!r} vs expected {float(want[i])!r}")


def check_wide_outputs(job: str, cols: int, rows: int, fmt: str, inp: Path, outs: dict[str, Path]) -> list[dict]:
    """Wide tables: each tool's output against a numpy float64 reference computed from the input."""
    import numpy as np
    import polars as pl

    names = wide_names(cols)
    schema = {"id": pl.String, **{c: pl.Float64 for c in names}}
    inp_table = pl.read_csv(inp, schema=schema) if fmt == "csv" else pl.read_parquet(inp)
    x = inp_table.select(names).to_numpy().astype(np.float64)
    checks = []
    for tool, path in outs.items():
        problems, notes = [], []
        try:
            if job == "stats":
                got = json.loads(path.read_text())
            elif fmt == "csv":
                got = pl.read_csv(path, schema_overrides={"id": pl.String}, infer_schema_length=None)
            else:
                got = pl.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - report, do not abort
            checks.append({"suite": "wide", "job": job, "rows": rows, "cols": cols, "format": fmt, "tool": tool,
                           "ok": False, "problems": [f"cannot read output: {str(exc)[:300]}"], "notes": []})
            continue
        if job == "stats":
            problems += _check_wide_stats(got, x, names)
        else:
            problems += _check_wide_table(job, got, inp_table, x, names, notes)
        checks.append({"suite": "wide", "job": job, "rows": rows, "cols": cols, "format": fmt, "tool": tool,
                       "ok": not problems, "problems": problems, "notes": notes})
    return checks


def _name_list(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (f", ... ({len(names):,} in all)" if len(names) > limit else "")


def _check_wide_stats(got: dict, x, names: list[str]) -> list[str]:
    """``stats --json`` figures: rows, the float columns in order, count/min/max/mean/std (population)."""
    import numpy as np

    problems = []
    if got.get("rows") != x.shape[0]:
        problems.append(f"rows {got.get('rows')!r}, expected {x.shape[0]}")
    columns = got.get("columns") or {}
    if list(columns) != names:
        missing = [c for c in names if c not in columns]
        extra = [c for c in columns if c not in set(names)]
        problems.append(f"{len(columns):,} columns, expected the {len(names):,} float columns c0..c{len(names) - 1}"
                        + (f"; missing {_name_list(missing)}" if missing else "")
                        + (f"; not expected {_name_list(extra)}" if extra else "")
                        + ("; out of order" if not missing and not extra else ""))
        return problems
    want = {"count": np.full(len(names), x.shape[0], dtype=np.float64), "min": x.min(axis=0), "max": x.max(axis=0),
            "mean": x.mean(axis=0), "std": x.std(axis=0)}
    for key, expected in want.items():
        try:
            values = np.array([np.nan if columns[c].get(key) is None else columns[c][key] for c in names], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"figure {key}: cannot read it ({exc})")
            continue
        bad = _compare(values, expected, f"figure {key}", lambda i: f"column {names[i[0]]}")
        if bad:
            problems.append(bad)
    return problems


def _check_wide_table(job: str, got, inp_table, x, names: list[str], notes: list[str]) -> list[str]:
    """A normalized wide table: same columns and id text as the input, floats as the numpy reference."""
    import numpy as np
    import polars as pl

    problems = []
    expected_cols = ["id", *names]
    if got.columns != expected_cols:
        missing = [c for c in expected_cols if c not in set(got.columns)]
        problems.append(f"{len(got.columns):,} columns, expected {len(expected_cols):,} (id, c0..c{len(names) - 1})"
                        + (f"; missing {_name_list(missing)}" if missing else "; other names or order"))
    if got.height != inp_table.height:
        problems.append(f"{got.height} rows, expected {inp_table.height}")
    if problems:
        return problems
    ids = got["id"]
    if ids.dtype != pl.String:
        notes.append(f"id written as {ids.dtype}, not text")
        ids = ids.cast(pl.String)
    if ids.to_list() != inp_table["id"].to_list():
        i = next(k for k, (a, b) in enumerate(zip(ids.to_list(), inp_table["id"].to_list())) if a != b)
        problems.append(f"column id differs from the input text, first at row {i}: {ids[i]!r} instead of {inp_table['id'][i]!r}")
    not_float = [c for c, t in got.select(names).schema.items() if not t.is_numeric()]
    if not_float:
        problems.append(f"{len(not_float):,} result columns are not numeric: {_name_list(not_float)}")
        return problems
    y = got.select(names).to_numpy().astype(np.float64)
    if job == "zscore":
        want = (x - x.mean(axis=0)) / x.std(axis=0)
    else:
        e = np.exp(x - x.max(axis=1, keepdims=True))
        want = e / e.sum(axis=1, keepdims=True)
    bad = _compare(y, want, "float columns", lambda i: f"row {int(i[0])} column {names[i[1]]}")
    if bad:
        problems.append(bad)
    return problems


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def index(results: list[dict]) -> dict:
    return {(r["job"], r["rows"], r["format"], r["tool"]): r for r in results}


def wall(idx: dict, key) -> float | None:
    r = idx.get(key)
    return r["median_wall_s"] if r else None


def ratio_text(r: float) -> str:
    # r = tool wall / softnorm wall
    return f"{r:.2f} (softnorm {r:.2f}x faster)" if r >= 1 else f"{r:.2f} (softnorm {1 / r:.2f}x slower)"


def table_rows(results: list[dict]) -> list[list[str]]:
    idx = index(results)
    order = {j: i for i, j in enumerate(ALL_JOBS[-1:] + NORM_JOBS)}
    torder = {t: i for i, t in enumerate([FLOOR, *TOOLS])}
    out = []
    for r in sorted(results, key=lambda r: (r["rows"], FORMATS.index(r["format"]), order[r["job"]], torder[r["tool"]])):
        med, peak = r["median_wall_s"], r["peak_mib"]
        sn = wall(idx, (r["job"], r["rows"], r["format"], "softnorm"))
        floor = wall(idx, ("io", r["rows"], r["format"], FLOOR))
        vs_sn = vs_floor = ""
        if r["error"]:
            wall_s, peak_s = "FAILED", ""
        else:
            wall_s, peak_s = f"{med:.3f}", f"{peak:.0f}"
            if r["tool"] not in ("softnorm", FLOOR) and sn:
                vs_sn = ratio_text(med / sn)
            if r["tool"] != FLOOR and floor:
                vs_floor = f"{med / floor:.2f}"
        out.append([r["job"], f"{r['rows']:,}", r["format"], r["tool"], wall_s, peak_s, vs_sn, vs_floor])
    return out


def wide_table_rows(results: list[dict], shapes: list[tuple[int, int]]) -> list[list[str]]:
    idx = {(r["job"], r["cols"], r["rows"], r["format"], r["tool"]): r for r in results}
    torder = {t: i for i, t in enumerate(TOOLS)}
    out = []
    for r in sorted(results, key=lambda r: (shapes.index((r["cols"], r["rows"])) if (r["cols"], r["rows"]) in shapes else len(shapes),
                                            r["cols"], r["rows"], FORMATS.index(r["format"]), WIDE_JOBS.index(r["job"]),
                                            torder[r["tool"]])):
        sn = wall(idx, (r["job"], r["cols"], r["rows"], r["format"], "softnorm"))
        out.append([r["job"], f"{r['cols']:,} x {r['rows']:,}", r["format"], r["tool"], *_timing_cells(r, sn)])
    return out


def _timing_cells(r: dict, sn: float | None) -> list[str]:
    """median wall s, peak MiB and tool/softnorm wall of a result, given softnorm's median wall ``sn``."""
    if r["error"]:
        return ["FAILED", "", ""]
    vs_sn = ratio_text(r["median_wall_s"] / sn) if r["tool"] != "softnorm" and sn else ""
    return [f"{r['median_wall_s']:.3f}", f"{r['peak_mib']:.0f}", vs_sn]


def group_index(results: list[dict]) -> dict:
    return {(r["job"], r["rows"], r["keys"], r["format"], r["tool"]): r for r in results}


def group_table_rows(results: list[dict]) -> list[list[str]]:
    idx = group_index(results)
    torder = {t: i for i, t in enumerate(TOOLS)}
    out = []
    for r in sorted(results, key=lambda r: (r["rows"], r["keys"], GROUP_FORMATS.index(r["format"]), GROUP_JOBS.index(r["job"]),
                                            torder[r["tool"]])):
        sn = wall(idx, (r["job"], r["rows"], r["keys"], r["format"], "softnorm"))
        out.append([r["job"], f"{r['rows']:,} / {r['keys']:,}", r["format"], r["tool"], *_timing_cells(r, sn)])
    return out


HEADERS = ["job", "rows", "format", "tool", "median wall s", "peak MiB", "tool/softnorm wall", "wall/I/O floor"]
RIGHT = {1, 4, 5, 7}
TITLE = "softnorm benchmark (whole process; median of timed runs, max peak RSS)"
WIDE_HEADERS = ["job", "columns x rows", "format", "tool", "median wall s", "peak MiB", "tool/softnorm wall"]
WIDE_RIGHT = {1, 4, 5}
WIDE_TITLE = "wide tables (whole process; median of timed runs, max peak RSS)"
GROUP_HEADERS = ["job", "rows / keys", "format", "tool", "median wall s", "peak MiB", "tool/softnorm wall"]
GROUP_TITLE = f"group jobs, -g {GROUP_KEY} (whole process; median of timed runs, max peak RSS)"


def print_table(rows: list[list[str]], plain: bool, headers: list[str] = HEADERS, right: set[int] = RIGHT,
                title: str = TITLE) -> None:
    if not plain:
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            plain = True
    if not plain:
        t = Table(title=title)
        for i, h in enumerate(headers):
            t.add_column(h, justify="right" if i in right else "left")
        for r in rows:
            t.add_row(*r)
        Console(width=max(140, shutil.get_terminal_size().columns)).print(t)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    if title != TITLE:
        print(title + ":")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    prev = None
    for r in rows:
        if prev is not None and (r[1], r[2]) != prev:
            print()
        prev = (r[1], r[2])
        print(line(r))


def target_cases(standard: list[dict], big: list[dict]) -> list[dict]:
    """The (job, rows, format) cases of the normalizing jobs, standard suite then big CSV, with
    softnorm's and the polars one-liner's records (None where not run)."""
    cases = []
    for suite, results in (("standard", standard), ("big", big)):
        idx = index(results)
        keys = sorted({(r["job"], r["rows"], r["format"]) for r in results if r["job"] in NORM_JOBS},
                      key=lambda c: (c[1], FORMATS.index(c[2]), NORM_JOBS.index(c[0])))
        for job, rows, fmt in keys:
            cases.append({"suite": suite, "job": job, "rows": rows, "format": fmt,
                          "name": case_label({"suite": suite, "job": job, "rows": rows, "format": fmt}),
                          "softnorm": idx.get((job, rows, fmt, "softnorm")), "polars": idx.get((job, rows, fmt, "polars"))})
    return cases


def group_cases(groups: list[dict]) -> list[dict]:
    """The (job, rows, keys, format) cases of the group suite, as target_cases gives the others."""
    idx = group_index(groups)
    keys = sorted({(r["job"], r["rows"], r["keys"], r["format"]) for r in groups},
                  key=lambda c: (c[1], c[2], GROUP_FORMATS.index(c[3]), GROUP_JOBS.index(c[0])))
    return [{"suite": "groups", "job": job, "rows": rows, "keys": k, "format": fmt,
             "name": case_label({"suite": "groups", "job": job, "rows": rows, "keys": k, "format": fmt}),
             "softnorm": idx.get((job, rows, k, fmt, "softnorm")), "polars": idx.get((job, rows, k, fmt, "polars"))}
            for job, rows, k, fmt in keys]


def _target(title: str, met: list[str], not_met: list[str], not_measured: list[str]) -> dict:
    status = "NOT MET" if not_met else "MET" if met else "NOT MEASURED"
    return {"target": title, "status": status, "met": met, "not_met": not_met, "not_measured": not_measured}


def _ratio_target(title: str, selected: list[dict], limit_of, peak_limit: float | None = None) -> dict:
    """softnorm/polars <= ``limit_of(case)`` on each case of ``selected``, and softnorm's peak <= ``peak_limit`` if given."""
    met, not_met, not_measured = [], [], []
    for c in selected:
        sn, pol, limit = c["softnorm"], c["polars"], limit_of(c)
        if sn is None:
            continue  # softnorm not run (--only)
        if sn["median_wall_s"] is None:
            not_met.append(f"{c['name']}: softnorm failed")
            continue
        peak_ok = peak_limit is None or sn["peak_mib"] <= peak_limit
        peak = "" if peak_limit is None else f", softnorm peak {sn['peak_mib']:.0f} MiB (limit {peak_limit:g})"
        if pol is None or pol["median_wall_s"] is None:
            (not_measured if peak_ok else not_met).append(f"{c['name']}: polars " + ("not run" if pol is None else "failed") + peak)
        else:
            r = sn["median_wall_s"] / pol["median_wall_s"]
            shown = f"{r:.3f}" if round(r, 2) <= limit < r else f"{r:.2f}"  # 1.004 is not "1.00 <= 1.0"
            (met if r <= limit and peak_ok else not_met).append(f"{c['name']}: softnorm/polars = {shown} (limit {limit:.1f})" + peak)
    return _target(title, met, not_met, not_measured)


def evaluate_group_target(groups: list[dict]) -> dict:
    """The group jobs' target: speed against the polars one-liner and softnorm's peak, at the target sizes."""
    cases = group_cases(groups)
    sizes = " and ".join(f"{rows:,}" for rows in TARGET_GROUP_ROWS)
    target = _ratio_target(
        f"group jobs (-g {GROUP_KEY}): softnorm/polars <= {TARGET_GROUP:.1f} and softnorm peak memory <= {TARGET_PEAK_MIB:g} MiB "
        f"at {sizes} rows with {TARGET_GROUP_KEYS:,} keys, every job and format",
        [c for c in cases if c["rows"] in TARGET_GROUP_ROWS and c["keys"] == TARGET_GROUP_KEYS],
        lambda c: TARGET_GROUP, TARGET_PEAK_MIB)
    run = {(c["rows"], c["keys"]) for c in cases}
    target["not_measured"] += [f"{rows:,} rows with {TARGET_GROUP_KEYS:,} keys: not in --rows and --group-keys"
                               for rows in TARGET_GROUP_ROWS if (rows, TARGET_GROUP_KEYS) not in run]
    return target


def evaluate_targets(standard: list[dict], big: list[dict]) -> list[dict]:
    """The speed targets, each MET, NOT MET (every case that misses, with its ratio) or NOT MEASURED.

    Ratios are softnorm / polars one-liner, of median wall times from this run. A case where
    softnorm failed misses its targets; one where polars failed (or was not run) is not measured.
    """
    cases = target_cases(standard, big)

    column = [c for c in cases if c["job"] in ("minmax", "zscore") and c["suite"] == "standard"]
    column_target = _ratio_target(
        "minmax and zscore (column axis): softnorm/polars <= "
        + " and <= ".join(f"{limit:.1f} at {rows:,} rows" for rows, limit in TARGET_COLUMN.items()) + ", every format",
        [c for c in column if c["rows"] in TARGET_COLUMN], lambda c: TARGET_COLUMN[c["rows"]])
    if column:
        run_rows = {c["rows"] for c in column}
        column_target["not_measured"] += [f"{rows:,} rows: not in --rows" for rows in TARGET_COLUMN if rows not in run_rows]
    targets = [
        _ratio_target(f"softmax (row axis): softnorm/polars <= {TARGET_SOFTMAX:.1f} at every size and format (big CSV included)",
                      [c for c in cases if c["job"] == "softmax"], lambda c: TARGET_SOFTMAX),
        column_target,
        _ratio_target(f"Parquet to Parquet ({', '.join(PARQUET_FORMATS)}): softnorm/polars <= {TARGET_PARQUET:.1f} on every job and size",
                      [c for c in cases if c["format"] in PARQUET_FORMATS], lambda c: TARGET_PARQUET),
    ]
    met, not_met = [], []
    for c in cases:
        sn, pol = c["softnorm"], c["polars"]
        if sn is None:
            continue
        if sn["peak_mib"] is None:
            not_met.append(f"{c['name']}: softnorm failed")
            continue
        peer = f" (polars {pol['peak_mib']:.0f} MiB)" if pol and pol["peak_mib"] is not None else ""
        (met if sn["peak_mib"] <= TARGET_PEAK_MIB else not_met).append(f"{c['name']}: softnorm {sn['peak_mib']:.0f} MiB{peer}")
    targets.append(_target(f"softnorm peak memory <= {TARGET_PEAK_MIB:g} MiB on every job, size and format (big CSV included)",
                           met, not_met, []))
    return targets


def markdown_table(standard: list[dict], big: list[dict], groups: list[dict] = ()) -> str:
    """One row per (job, rows, format): softnorm and the polars one-liner, for the project README;
    then, if the group suite ran, a second table with one row per (job, rows, keys, format)."""
    def secs(r):
        if r is None:
            return "-"
        return "FAILED" if r["median_wall_s"] is None else f"{r['median_wall_s']:.2f}"

    def mib(r):
        return "-" if r is None or r["peak_mib"] is None else f"{r['peak_mib']:.0f}"

    def row(c, *labels):
        sn, pol = c["softnorm"], c["polars"]
        ratio = (f"{sn['median_wall_s'] / pol['median_wall_s']:.2f}"
                 if sn and pol and sn["median_wall_s"] and pol["median_wall_s"] else "-")
        return "| " + " | ".join([*labels, secs(sn), secs(pol), ratio, mib(sn), mib(pol)]) + " |"

    lines = []
    if standard or big:
        lines += ["| job | rows | format | softnorm s | polars s | ratio | softnorm peak MiB | polars peak MiB |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
        lines += [row(c, c["job"], f"{c['rows']:,}", c["format"]) for c in target_cases(standard, big)]
    if groups:
        lines += [*([""] if lines else []), f"Group jobs (`-g {GROUP_KEY}`):", "",
                  "| job | rows | keys | format | softnorm s | polars s | ratio | softnorm peak MiB | polars peak MiB |",
                  "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |"]
        lines += [row(c, c["job"], f"{c['rows']:,}", f"{c['keys']:,}", c["format"]) for c in group_cases(groups)]
    return "\n".join(lines)


def loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: how quiet the machine was."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def case_label(r: dict) -> str:
    """'zscore 1,000,000 csv', 'wide zscore 2,000x500 csv', 'group zscore 1,000,000/1,000 keys csv' or
    'zscore 12,000,000 csv (big CSV)', for a result or a check."""
    if r.get("suite") == "wide":
        return f"wide {r['job']} {r['cols']:,}x{r['rows']:,} {r['format']}"
    if r.get("suite") == "groups":
        return f"group {r['job']} {r['rows']:,}/{r['keys']:,} keys {r['format']}"
    return f"{r['job']} {r['rows']:,} {r['format']}" + (" (big CSV)" if r.get("suite") == "big" else "")


_MODULE: list[str | None] = []


def softnorm_module() -> str | None:
    """Where the measured softnorm imports softnorm_cli from (PYTHONPATH may point away from the checkout).

    Asked from a neutral directory: ``python -c`` would put the current one first on sys.path.
    """
    if not _MODULE:
        r = subprocess.run([sys.executable, "-c", "import softnorm_cli; print(softnorm_cli.__file__)"], check=False,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tempfile.gettempdir())
        _MODULE.append(str(Path(r.stdout.strip()).parent) if r.returncode == 0 and r.stdout.strip() else None)
    return _MODULE[0]


def machine_info() -> dict:
    from importlib import metadata  # imported late: it grows the harness, whose RSS every child inherits

    info = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_mib"] = int(line.split()[1]) // 1024
                break
    except OSError:
        pass
    versions = {}
    for dist in ("softnorm", "polars", "numpy", "pandas", "duckdb", "pyarrow"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    info["versions"] = versions
    info["softnorm_module"] = softnorm_module()
    try:
        repo = HERE.parent
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "softnorm_cli"], capture_output=True, text=True)
        if head.returncode == 0:
            info["softnorm_commit"] = head.stdout.strip()
            info["softnorm_cli_modified"] = bool(dirty.stdout.strip())
    except OSError:
        pass
    return info


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def csv_list(value: str, allowed: list[str], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(bad) or '(none)'}; choose from {','.join(allowed)}")
    return items


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Benchmark softnorm against polars, DuckDB and pandas.")
    p.add_argument("--suite", choices=SUITES, default="standard",
                   help="standard: the long tables of --rows; wide: the wide tables of --wide-shapes; groups: the group "
                        "jobs (-g) on tables of --rows rows and --group-keys keys; all: those three; "
                        "big: only the big CSV case of --big (default standard)")
    p.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000],
                   help="table sizes, of the standard and the group suite (default: 1000000 5000000)")
    p.add_argument("--wide-shapes", type=parse_shape, nargs="+", default=[parse_shape(v) for v in WIDE_SHAPES],
                   metavar="COLSxROWS", help=f"wide tables, columns x rows (default: {' '.join(WIDE_SHAPES)})")
    p.add_argument("--group-keys", type=int, nargs="+", default=GROUP_KEYS, metavar="N",
                   help=f"group suite: distinct keys of grp per table, each size of --rows with each (default: "
                        f"{' '.join(map(str, GROUP_KEYS))}; as many as the rows for groups of about one row)")
    p.add_argument("--runs", type=int, default=None,
                   help=f"timed runs per case after one warm-up (default {RUNS}); the big CSV: runs without warm-up (default {BIG_RUNS})")
    p.add_argument("--big", action="store_true",
                   help=f"also run the big CSV case: {BIG_ROWS:,} rows (--big-rows), {' and '.join(BIG_JOBS)}, CSV to CSV, "
                        "softnorm and the polars one-liner")
    p.add_argument("--big-rows", type=int, default=BIG_ROWS, help=f"rows of the big CSV (default {BIG_ROWS})")
    p.add_argument("--out", type=Path, default=HERE / "results.json", help="JSON results (default benchmarks/results.json)")
    p.add_argument("--data-dir", type=Path, default=HERE / "data", help="generated data cache (default benchmarks/data)")
    p.add_argument("--only", type=lambda v: csv_list(v, TOOLS, "tool"), default=TOOLS,
                   help=f"tools to run (default {','.join(TOOLS)}); the I/O floor runs with job 'io'")
    p.add_argument("--jobs", type=lambda v: csv_list(v, [*ALL_JOBS, "stats"], "job"), default=None,
                   help=f"jobs (default: standard suite {','.join(ALL_JOBS)}, 'io' being the I/O floor; "
                        f"wide suite {','.join(WIDE_JOBS)}; group suite {','.join(GROUP_JOBS)}); "
                        "each suite runs those of its jobs that are named")
    p.add_argument("--formats", type=lambda v: csv_list(v, FORMATS, "format"), default=FORMATS,
                   help=f"formats (default {','.join(FORMATS)}): CSV to CSV, Parquet to Parquet with the input written by "
                        "polars (parquet) or by pyarrow's defaults (parquet-pyarrow); the wide suite has no parquet-pyarrow, "
                        "the group suite only parquet-pyarrow")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before one run is killed (default 1800)")
    p.add_argument("--tmp-dir", type=Path, default=None, help="where outputs are written (default: TMPDIR); deleted afterwards")
    p.add_argument("--plain", action="store_true", help="plain-text table even when rich is installed")
    p.add_argument("--markdown", action="store_true",
                   help="after the run, print a Markdown table of softnorm against the polars one-liner, one row per job, rows and format "
                        "(and one of the group jobs, if they ran)")
    # Internal: run one peer program.
    p.add_argument("--peer", choices=sorted(PEERS), help=argparse.SUPPRESS)
    p.add_argument("--job", choices=[*ALL_JOBS, "stats"], help=argparse.SUPPRESS)
    p.add_argument("--input", help=argparse.SUPPRESS)
    p.add_argument("--output", help=argparse.SUPPRESS)
    # Internal: helpers run in their own processes.
    p.add_argument("--generate", type=int, metavar="ROWS", help=argparse.SUPPRESS)
    p.add_argument("--generate-wide", type=parse_shape, metavar="COLSxROWS", help=argparse.SUPPRESS)
    p.add_argument("--generate-groups", type=int, metavar="ROWS", help=argparse.SUPPRESS)  # with one --group-keys
    p.add_argument("--check", choices=[*ALL_JOBS, "stats"], help=argparse.SUPPRESS)
    p.add_argument("--check-rows", type=int, help=argparse.SUPPRESS)
    p.add_argument("--check-cols", type=int, help=argparse.SUPPRESS)
    p.add_argument("--check-keys", type=int, help=argparse.SUPPRESS)
    p.add_argument("--check-format", choices=FORMATS, help=argparse.SUPPRESS)
    p.add_argument("--outputs", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        p.error("--runs must be at least 1")
    if any(n < 1 for n in args.rows) or args.big_rows < 1:
        p.error("--rows and --big-rows must be positive")
    if any(n < 1 for n in args.group_keys):
        p.error("--group-keys must be positive")
    args.big_runs = args.runs or BIG_RUNS
    args.runs = args.runs or RUNS
    args.big = args.big or args.suite == "big"
    jobs = args.jobs
    args.standard_jobs = [j for j in (jobs or ALL_JOBS) if j in ALL_JOBS] if args.suite in ("standard", "all") else []
    args.wide_jobs = [j for j in (jobs or WIDE_JOBS) if j in WIDE_JOBS] if args.suite in ("wide", "all") else []
    args.group_jobs = [j for j in (jobs or GROUP_JOBS) if j in GROUP_JOBS] if args.suite in ("groups", "all") else []
    args.big_jobs = [j for j in (jobs or BIG_JOBS) if j in BIG_JOBS] if args.big else []
    internal = args.peer or args.generate or args.generate_wide or args.generate_groups or args.check
    if not internal and args.big and not args.big_jobs:
        p.error(f"--jobs {','.join(jobs)}: the big CSV case runs only {','.join(BIG_JOBS)}")
    if not internal and not (args.standard_jobs or args.wide_jobs or args.group_jobs or args.big_jobs):
        p.error(f"--jobs {','.join(jobs)}: none of them is a job of the {args.suite} suite")
    args.jobs = list(dict.fromkeys([*args.standard_jobs, *args.wide_jobs, *args.group_jobs, *args.big_jobs]))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.peer:
        {"wide": WIDE_PEERS, "groups": GROUP_PEERS}.get(args.suite, PEERS)[args.peer](args.job, args.input, args.output)
        return 0
    if args.generate:
        paths = generate_data(args.data_dir, args.generate, args.formats)
        print(json.dumps({fmt: str(p) for fmt, p in paths.items()}))
        return 0
    if args.generate_wide:
        paths = generate_wide_data(args.data_dir, *args.generate_wide)
        print(json.dumps({fmt: str(p) for fmt, p in paths.items()}))
        return 0
    if args.generate_groups:
        paths = generate_group_data(args.data_dir, args.generate_groups, args.group_keys[0], args.formats)
        print(json.dumps({fmt: str(p) for fmt, p in paths.items()}))
        return 0
    if args.check:
        outs = {t: Path(p) for t, p in json.loads(args.outputs).items()}
        fmt = args.check_format or _fmt_of(args.input)
        if args.suite == "wide":
            print(json.dumps(check_wide_outputs(args.check, args.check_cols, args.check_rows, fmt, Path(args.input), outs)))
        else:
            print(json.dumps(check_outputs(args.check, args.check_rows, fmt, Path(args.input), outs, args.check_keys)))
        return 0

    r = subprocess.run([sys.executable, "-c", "import numpy, polars"], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("run.py: generating and checking the data needs numpy and polars: " + r.stderr.strip().splitlines()[-1])

    tools, skipped = available_tools(args.only)
    if (args.standard_jobs or args.group_jobs) and "parquet-pyarrow" in args.formats:
        r = subprocess.run([sys.executable, "-c", "import pyarrow.csv, pyarrow.parquet"], check=False,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0:
            args.formats = [f for f in args.formats if f != "parquet-pyarrow"]
            skipped.append("parquet-pyarrow: skipped, writing it needs pyarrow: " + (r.stderr.strip().splitlines() or ["?"])[-1])
    floor_ok = True
    if "io" in args.standard_jobs:
        ok, notes = available_tools([FLOOR])
        floor_ok = bool(ok)
        skipped += notes
    wide_tools = [t for t in tools if t in WIDE_TOOLS]
    if args.wide_jobs:
        skipped += [f"{t}: not run on the wide tables (see benchmarks/README.md)" for t in args.only if t not in WIDE_TOOLS]
        if "parquet-pyarrow" in args.formats:
            skipped.append("parquet-pyarrow: not a format of the wide tables")
    group_formats = [f for f in args.formats if f in GROUP_FORMATS]
    if args.group_jobs and "parquet" in args.formats:
        skipped.append("parquet: not a format of the group tables, whose Parquet input is written by pyarrow (parquet-pyarrow)")
    big_tools = [t for t in tools if t in BIG_TOOLS]
    if args.big and not big_tools:
        skipped.append(f"big CSV: not run, it runs only {' and '.join(BIG_TOOLS)} and --only names neither")
    for note in skipped:
        log(note)
    norm_jobs = [j for j in args.standard_jobs if j in NORM_JOBS]

    results, checks = [], []
    work = Path(tempfile.mkdtemp(prefix="softnorm-bench-", dir=args.tmp_dir))
    started = time.time()
    load_start = loadavg()
    try:
        no_gnu_time = gnu_time_check(work)
        time_file = None if no_gnu_time else work / "time.txt"
        if no_gnu_time:
            log(f"peak memory from os.wait4's rusage: {no_gnu_time}")

        def check(job, rows, fmt, inp, outs, suite="standard", keys=None):
            found = json.loads(helper(["--check", job, "--check-rows", str(rows), "--check-format", fmt, "--input", str(inp),
                                       *(["--check-keys", str(keys)] if keys is not None else []),
                                       "--outputs", json.dumps({t: str(p) for t, p in outs.items()})]))
            return [{"suite": suite, **c} for c in found]

        for rows in args.rows if args.standard_jobs else []:
            paths = {k: Path(v) for k, v in json.loads(helper(["--generate", str(rows), "--formats", ",".join(args.formats),
                                                               "--data-dir", str(args.data_dir)])).items()}
            for fmt in args.formats:
                inp = paths[fmt]
                cases = ([("io", [FLOOR])] if "io" in args.standard_jobs and floor_ok else []) + [(j, tools) for j in norm_jobs if tools]
                for job, job_tools in cases:
                    recs, outs = run_case(job_tools, job, rows, fmt, inp, work, args.runs, args.timeout, time_file=time_file)
                    results += recs
                    if outs:
                        checks += check(job, rows, fmt, inp, outs)
                    for p in outs.values():
                        p.unlink(missing_ok=True)
        for cols, rows in args.wide_shapes if args.wide_jobs and wide_tools else []:
            shape = f"{cols}x{rows}"
            paths = {k: Path(v) for k, v in json.loads(helper(["--generate-wide", shape, "--data-dir", str(args.data_dir)])).items()}
            for fmt in [f for f in args.formats if f in paths]:
                inp = paths[fmt]
                for job in args.wide_jobs:
                    recs, outs = run_case(wide_tools, job, rows, fmt, inp, work, args.runs, args.timeout, cols=cols,
                                          time_file=time_file)
                    results += recs
                    if outs:
                        checks += json.loads(helper(["--suite", "wide", "--check", job, "--check-rows", str(rows),
                                                     "--check-cols", str(cols), "--input", str(inp),
                                                     "--outputs", json.dumps({t: str(p) for t, p in outs.items()})]))
                    for p in outs.values():
                        p.unlink(missing_ok=True)
        for rows in args.rows if args.group_jobs and tools and group_formats else []:
            for keys in args.group_keys:
                paths = {k: Path(v) for k, v in json.loads(helper(["--generate-groups", str(rows), "--group-keys", str(keys),
                                                                   "--formats", ",".join(group_formats),
                                                                   "--data-dir", str(args.data_dir)])).items()}
                for fmt in group_formats:
                    inp = paths[fmt]
                    for job in args.group_jobs:
                        recs, outs = run_case(tools, job, rows, fmt, inp, work, args.runs, args.timeout, keys=keys,
                                              time_file=time_file)
                        results += recs
                        if outs:
                            checks += check(job, rows, fmt, inp, outs, suite="groups", keys=keys)
                        for p in outs.values():
                            p.unlink(missing_ok=True)
        if args.big and big_tools:
            rows = args.big_rows
            inp = Path(json.loads(helper(["--generate", str(rows), "--formats", "csv", "--data-dir", str(args.data_dir)]))["csv"])
            for job in args.big_jobs:
                recs, outs = run_case(big_tools, job, rows, "csv", inp, work, args.big_runs, args.timeout, suite="big",
                                      warmup=False, time_file=time_file)
                results += recs
                if outs:
                    checks += check(job, rows, "csv", inp, outs, suite="big")
                for p in outs.values():
                    p.unlink(missing_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    harness_mib = harness_peak_mib()  # before machine_info's imports: what the children inherited
    standard = [r for r in results if r["suite"] == "standard"]
    wide = [r for r in results if r["suite"] == "wide"]
    groups = [r for r in results if r["suite"] == "groups"]
    big = [r for r in results if r["suite"] == "big"]
    runs_text = "; ".join(([f"median of {args.runs} timed run(s) after 1 warm-up"] if standard or wide or groups else [])
                          + ([f"big CSV ({args.big_rows:,} rows): {args.big_runs} run(s), no warm-up"] if big else []))
    info = machine_info()
    info["harness_peak_mib"] = round(harness_mib, 1)
    info["loadavg_start"], info["loadavg_end"] = load_start, loadavg()
    print(f"softnorm benchmark: {info.get('cpus_usable') or info['cpu_count']} CPUs"
          + (f" ({info['cpu_model']})" if info.get("cpu_model") else "")
          + f", Python {info['python']}, "
          + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
          + f"; {runs_text}; whole process; peak RSS = max over timed runs, "
          + (f"from GNU time ({GNU_TIME} -f %M)" if not no_gnu_time else
             f"from os.wait4's rusage because {no_gnu_time} (on Linux a child's peak then starts at its parent's,"
             f" here the harness's {info['harness_peak_mib']:.0f} MiB)")
          + (f"; load average {info['loadavg_start'][0]:.1f} at the start, {info['loadavg_end'][0]:.1f} at the end"
             if info["loadavg_start"] and info["loadavg_end"] else ""))
    print("tool/softnorm wall: above 1 means softnorm is faster. wall/I/O floor: the tool's wall over polars read + write unchanged.")
    if module := softnorm_module():
        print(f"softnorm_cli imported from {module}")
    plain = args.plain or not sys.stdout.isatty()
    if args.standard_jobs:
        print()
        print_table(table_rows(standard), plain)
    if args.wide_jobs:
        print()
        print_table(wide_table_rows(wide, args.wide_shapes), plain, WIDE_HEADERS, WIDE_RIGHT, WIDE_TITLE)
    if groups:
        print()
        print_table(group_table_rows(groups), plain, GROUP_HEADERS, WIDE_RIGHT, GROUP_TITLE)
    if big:
        print()
        print_table([r[:-1] for r in table_rows(big)], plain, HEADERS[:-1], RIGHT - {7},
                    f"big CSV ({args.big_runs} run(s), no warm-up; whole process, max peak RSS)")

    print()
    print("Checks (every output against a numpy float64 reference computed from the input; "
          f"floats rtol {RTOL:g} atol {ATOL:g}"
          + (f", z-score of f5 atol {ATOL_ZSCORE_F5:g}; id and group must be the input's text" if args.standard_jobs or big else "")
          + ("; wide tables: id must be the input's text, stats figures count/min/max/mean/std" if args.wide_jobs else "")
          + (f"; group jobs: the reference within each group, a constant group 0, z-scores atol at least {ZSCORE_ULPS} ulps "
             f"of the group's mean over its std (f4: {ATOL_ZSCORE_F5:g}), id and {GROUP_KEY} the input's text" if args.group_jobs else "")
          + "):")
    failed_runs = [r for r in results if r["error"]]
    for r in failed_runs:
        print(f"  FAILED  {case_label(r)} {r['tool']}: {r['error']}")
    for c in checks:
        for prob in c["problems"]:
            print(f"  MISMATCH  {case_label(c)} {c['tool']}: {prob}")
        for note in c["notes"]:
            print(f"  note  {case_label(c)} {c['tool']}: {note}")
    n_ok = sum(c["ok"] for c in checks)
    print(f"  {n_ok} of {len(checks)} outputs agree" + (f"; {len(failed_runs)} run(s) failed" if failed_runs else ""))
    for note in skipped:
        print(f"  {note}")

    targets = (evaluate_targets(standard, big) if standard or big else []) + ([evaluate_group_target(groups)] if groups else [])
    if targets:
        print()
        print("Speed targets, in this run (ratios: softnorm / polars one-liner median wall):")
    for t in targets:
        print(f"  [{t['status']}] {t['target']}")
        for item in t["not_met"]:
            print(f"      not met: {item}")
        for item in t["not_measured"]:
            print(f"      not measured: {item}")
        if t["status"] == "MET":
            for item in t["met"]:
                print(f"      met: {item}")

    if args.markdown and (standard or big or groups):
        print()
        print(f"Markdown ({runs_text}"
              + f"; peak RSS {'from GNU time' if not no_gnu_time else 'from rusage'}; ratio = softnorm s / polars s):")
        print()
        print(markdown_table(standard, big, groups))

    report = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": info,
        "config": {"suite": args.suite, "rows": args.rows, "wide_shapes": [f"{c}x{r}" for c, r in args.wide_shapes],
                   "runs": args.runs, "warmups": 1, "tools": args.only, "jobs": args.jobs,
                   "formats": args.formats, "data_version": DATA_VERSION, "wide_data_version": WIDE_DATA_VERSION, "seed": SEED,
                   "group_keys": args.group_keys if args.group_jobs else None,
                   "groups_data_version": GROUPS_DATA_VERSION, "groups_seed": GROUPS_SEED,
                   "big": args.big, "big_rows": args.big_rows if args.big else None, "big_runs": args.big_runs if args.big else None,
                   "big_warmups": 0, "big_jobs": args.big_jobs,
                   "peak_method": "rusage" if no_gnu_time else "gnu-time",
                   "peak_command": None if no_gnu_time else [GNU_TIME, "-f", "%M", "-o", "FILE"],
                   "peak_method_note": no_gnu_time,
                   "softnorm_command": softnorm_command(), "rtol": RTOL, "atol": ATOL, "atol_zscore_f5": ATOL_ZSCORE_F5,
                   "zscore_ulps": ZSCORE_ULPS},
        "skipped": skipped,
        "results": results,
        "checks": checks,
        "targets": targets,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

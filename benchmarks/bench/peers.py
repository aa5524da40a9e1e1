"""The programs softnorm is measured against, each as a user would write it.

    python -m bench.peers TABLE TOOL JOB INPUT OUTPUT     (from benchmarks/)
    python -m bench.peers --probe TOOL
    python -m bench.peers --excel-engine

TABLE is standard, groups or wide; TOOL polars, duckdb or pandas; JOB softmax, minmax, zscore,
robust, maxabs, unitnorm (the standard table), stats (wide; OUTPUT '-': it prints) or io, the I/O floor (polars only: the file read and written
back unchanged). Each tool's module is imported only by its own peer, so a peer pays for its own
imports and for nothing else; ``--probe`` imports them and exits, to find whether a tool is here;
``--excel-engine`` prints the engine pandas reads workbooks with. How each tool reads and writes
each format (CSV, Parquet, JSON Lines, Arrow IPC, workbooks) is in ``bench.tool_io``.
"""

from __future__ import annotations

import argparse
import json
import sys

from .tables import GROUP_KEY, LAYOUTS, format_of
from .tool_io import (
    duckdb_copy,
    duckdb_read,
    duckdb_settings,
    pandas_excel_engine,
    pandas_read,
    pandas_write,
    polars_scan,
    polars_sink,
    polars_write,
)

STANDARD = LAYOUTS["standard"]
GROUPS = LAYOUTS["groups"]


# ---- the standard table: id, group, f0..f5 --------------------------------------------------


def polars_standard(job: str, inp: str, out: str) -> None:
    """The polars lazy one-liner (also the I/O floor, job 'io')."""
    import polars as pl

    lf = polars_scan(inp, ["id"])
    cols = STANDARD.job_columns[job]
    if job == "softmax":
        m = pl.max_horizontal(cols)
        s = pl.sum_horizontal([(pl.col(c) - m).exp() for c in cols])
        lf = lf.with_columns([((pl.col(c) - m).exp() / s).alias(c) for c in cols])
    elif job == "minmax":
        lf = lf.with_columns([(pl.col(c) - pl.col(c).min()) / (pl.col(c).max() - pl.col(c).min()) for c in cols])
    elif job == "zscore":
        lf = lf.with_columns([(pl.col(c) - pl.col(c).mean()) / pl.col(c).std(ddof=0) for c in cols])
    elif job == "robust":
        lf = lf.with_columns([(pl.col(c) - pl.col(c).median())
                              / (pl.col(c).quantile(0.75, "linear") - pl.col(c).quantile(0.25, "linear")) for c in cols])
    elif job == "maxabs":
        lf = lf.with_columns([pl.col(c) / pl.col(c).abs().max() for c in cols])
    elif job == "unitnorm":
        norm = pl.sum_horizontal([pl.col(c) * pl.col(c) for c in cols]).sqrt()
        lf = lf.with_columns([pl.col(c) / norm for c in cols])
    polars_sink(lf, out)


def _q(column: str) -> str:
    return '"' + column + '"'


def duckdb_standard_sql(job: str, inp: str, out: str) -> str:
    """Window functions over the whole table (``OVER ()``), GREATEST for softmax's shift."""
    src = duckdb_read(inp, ["id"])
    cols = STANDARD.job_columns[job]
    if job == "softmax":
        total = " + ".join(f"e_{c}" for c in cols)
        exprs = {c: f"e_{c} / ({total})" for c in cols}
        shifted = ", ".join(f"exp({_q(c)} - m) AS e_{c}" for c in cols)
        src = f"(SELECT *, {shifted} FROM (SELECT *, GREATEST({', '.join(map(_q, cols))}) AS m FROM {src}))"
    elif job == "minmax":
        exprs = {c: f"({_q(c)} - min({_q(c)}) OVER ()) / (max({_q(c)}) OVER () - min({_q(c)}) OVER ())" for c in cols}
    elif job == "zscore":
        exprs = {c: f"({_q(c)} - avg({_q(c)}) OVER ()) / stddev_pop({_q(c)}) OVER ()" for c in cols}
    elif job == "robust":
        exprs = {c: f"({_q(c)} - median({_q(c)}) OVER ()) / "
                    f"(quantile_cont({_q(c)}, 0.75) OVER () - quantile_cont({_q(c)}, 0.25) OVER ())" for c in cols}
    elif job == "maxabs":
        exprs = {c: f"{_q(c)} / max(abs({_q(c)})) OVER ()" for c in cols}
    elif job == "unitnorm":
        norm = "sqrt(" + " + ".join(f"{_q(c)} * {_q(c)}" for c in cols) + ")"
        exprs = {c: f"{_q(c)} / {norm}" for c in cols}
    else:
        exprs = {}
    select = ", ".join(f"{exprs[c]} AS {_q(c)}" if c in exprs else _q(c) for c in STANDARD.names)
    return duckdb_copy(f"SELECT {select} FROM {src}", out)


def duckdb_groups_sql(job: str, inp: str, out: str) -> str:
    """Window functions ``OVER (PARTITION BY grp)``, a constant group made 0 as softnorm does."""
    w = f"OVER (PARTITION BY {_q(GROUP_KEY)})"
    cols = GROUPS.job_columns[job]
    # A partitioned window returns the rows partition by partition: only ORDER BY promises the
    # input's order back, so each row takes its number as read.
    src = f"(SELECT *, row_number() OVER () AS __row FROM {duckdb_read(inp, GROUPS.text)})"
    if job == "softmax":
        # An aggregate window cannot hold another window, so exp(x - max) is taken in a subquery.
        shifted = ", ".join(f"exp({_q(c)} - max({_q(c)}) {w}) AS e_{c}" for c in cols)
        src = f"(SELECT *, {shifted} FROM {src})"
        exprs = {c: f"e_{c} / sum(e_{c}) {w}" for c in cols}
    elif job == "minmax":
        exprs = {c: f"CASE WHEN max({_q(c)}) {w} = min({_q(c)}) {w} THEN 0 "
                    f"ELSE ({_q(c)} - min({_q(c)}) {w}) / (max({_q(c)}) {w} - min({_q(c)}) {w}) END" for c in cols}
    else:
        exprs = {c: f"CASE WHEN stddev_pop({_q(c)}) {w} = 0 THEN 0 "
                    f"ELSE ({_q(c)} - avg({_q(c)}) {w}) / stddev_pop({_q(c)}) {w} END" for c in cols}
    select = ", ".join(f"{exprs[c]} AS {_q(c)}" if c in exprs else _q(c) for c in GROUPS.names)
    return duckdb_copy(f"SELECT {select} FROM {src} ORDER BY __row", out)


def _duckdb(sql: str) -> None:
    import duckdb

    con = duckdb.connect()
    for setting in duckdb_settings():
        con.execute(setting)
    con.execute(sql)
    con.close()


def duckdb_standard(job: str, inp: str, out: str) -> None:
    _duckdb(duckdb_standard_sql(job, inp, out))


def duckdb_groups(job: str, inp: str, out: str) -> None:
    _duckdb(duckdb_groups_sql(job, inp, out))


def pandas_standard(job: str, inp: str, out: str) -> None:
    """The pandas code a user writes by hand: read, numpy math, write."""
    import numpy as np

    df = pandas_read(inp, ["id"])
    cols = STANDARD.job_columns[job]
    if job == "robust":  # df[c].quantile([.25, .5, .75]): pandas' own, linear as numpy's
        q = df[cols].quantile([0.25, 0.5, 0.75])
        df[cols] = (df[cols] - q.loc[0.5]) / (q.loc[0.75] - q.loc[0.25])
    elif cols:
        a = df[cols].to_numpy(dtype=np.float64)
        if job == "softmax":
            e = np.exp(a - a.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        elif job == "minmax":
            lo = a.min(axis=0)
            a = (a - lo) / (a.max(axis=0) - lo)
        elif job == "zscore":
            a = (a - a.mean(axis=0)) / a.std(axis=0)
        elif job == "maxabs":
            a = a / np.abs(a).max(axis=0)
        elif job == "unitnorm":
            a = a / np.sqrt((a * a).sum(axis=1, keepdims=True))
        df[cols] = a
    pandas_write(df, out)


# ---- the group table: id, grp, f0..f4; each statistic within each group --------------------


def polars_groups(job: str, inp: str, out: str) -> None:
    """The lazy one-liner with each column's expression ``.over("grp")``."""
    import polars as pl

    lf = polars_scan(inp, GROUPS.text)  # id keeps its leading zeros
    x = {c: pl.col(c) for c in GROUPS.job_columns[job]}
    if job == "softmax":
        e = {c: (v - v.max()).exp() for c, v in x.items()}
        lf = lf.with_columns([(e[c] / e[c].sum()).over(GROUP_KEY) for c in x])
    elif job == "minmax":  # fill_nan: a constant group is 0/0, which softnorm makes 0
        lf = lf.with_columns([((v - v.min()) / (v.max() - v.min())).over(GROUP_KEY).fill_nan(0.0) for v in x.values()])
    elif job == "zscore":
        lf = lf.with_columns([((v - v.mean()) / v.std(ddof=0)).over(GROUP_KEY).fill_nan(0.0) for v in x.values()])
    polars_sink(lf, out)


def pandas_groups(job: str, inp: str, out: str) -> None:
    """``df.groupby("grp")[cols].transform(...)``."""
    import numpy as np

    df = pandas_read(inp, GROUPS.text)
    cols = GROUPS.job_columns[job]
    g = df.groupby(GROUP_KEY, sort=False)[cols]
    if job == "softmax":
        e = np.exp(df[cols] - g.transform("max"))
        df[cols] = e / e.groupby(df[GROUP_KEY], sort=False).transform("sum")
    elif job == "minmax":
        lo = g.transform("min")
        df[cols] = ((df[cols] - lo) / (g.transform("max") - lo)).fillna(0.0)  # a constant group: 0/0, made 0
    elif job == "zscore":
        df[cols] = ((df[cols] - g.transform("mean")) / g.transform("std", ddof=0)).fillna(0.0)
    pandas_write(df, out)


# ---- wide tables: id, c0..cN-1; every float column, no column list --------------------------


def _print_stats(rows: int, columns: dict) -> None:
    """Figures as softnorm's ``stats --json`` prints them: {"rows": n, "columns": {name: {figure: value}}}."""
    sys.stdout.write(json.dumps({"rows": rows, "columns": columns}, indent=2) + "\n")


def polars_wide(job: str, inp: str, out: str) -> None:
    """By the in-memory engine, softmax in steps (see benchmarks/README.md); 'io' reads every column as text."""
    import polars as pl
    import polars.selectors as cs

    parquet = format_of(inp) == "parquet"
    if job == "io":
        df = pl.read_parquet(inp) if parquet else pl.read_csv(inp, infer_schema=False)
        polars_write(df, out)
        return
    if job == "stats":
        df = pl.read_parquet(inp) if parquet else pl.read_csv(inp, schema_overrides={"id": pl.String})
        x = df.select(cs.float())
        figures = {"count": x.count(), "min": x.min(), "max": x.max(), "mean": x.mean(), "std": x.std(ddof=0)}
        values = {k: v.row(0) for k, v in figures.items()}
        _print_stats(df.height, {c: {k: values[k][i] for k in figures} for i, c in enumerate(x.columns)})
        return
    lf = pl.scan_parquet(inp) if parquet else pl.scan_csv(inp, schema_overrides={"id": pl.String})
    f = cs.float()
    if job == "zscore":
        lf = lf.with_columns((f - f.mean()) / f.std(ddof=0))
    elif job == "minmax":
        lf = lf.with_columns((f - f.min()) / (f.max() - f.min()))
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
    polars_write(lf.collect(engine="in-memory"), out)


def pandas_wide(job: str, inp: str, out: str) -> None:
    """Every float column, numpy math."""
    import numpy as np
    import pandas as pd

    df = pandas_read(inp, ["id"])
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
    elif job == "minmax":
        lo = a.min(axis=0)
        a = (a - lo) / (a.max(axis=0) - lo)
    elif job == "softmax":
        e = np.exp(a - a.max(axis=1, keepdims=True))
        a = e / e.sum(axis=1, keepdims=True)
    # One new frame, not 100,000 column assignments.
    df = pd.concat([df.drop(columns=cols), pd.DataFrame(a, columns=cols, index=df.index)], axis=1)[list(df.columns)]
    pandas_write(df, out)


PEERS = {
    ("standard", "polars"): polars_standard, ("standard", "duckdb"): duckdb_standard, ("standard", "pandas"): pandas_standard,
    ("groups", "polars"): polars_groups, ("groups", "duckdb"): duckdb_groups, ("groups", "pandas"): pandas_groups,
    ("wide", "polars"): polars_wide, ("wide", "pandas"): pandas_wide,
}
ROBUST_JOBS = ("robust", "maxabs", "unitnorm")  # the robust suite's, on the standard table
MODULES = {"polars": ["polars"], "duckdb": ["duckdb"], "pandas": ["pandas", "numpy"]}


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--excel-engine"]:  # which engine pandas_read takes for a workbook
        print(pandas_excel_engine())
        return 0
    if argv[:1] == ["--probe"]:
        p = argparse.ArgumentParser(prog="python -m bench.peers --probe")
        p.add_argument("--probe", choices=sorted(MODULES), required=True)
        for module in MODULES[p.parse_args(argv).probe]:
            __import__(module)
        return 0
    p = argparse.ArgumentParser(prog="python -m bench.peers", description="Run one peer program.")
    p.add_argument("table", choices=sorted({t for t, _ in PEERS}))
    p.add_argument("tool", choices=sorted(MODULES))
    p.add_argument("job", choices=["softmax", "minmax", "zscore", "robust", "maxabs", "unitnorm", "stats", "io"])
    p.add_argument("input")
    p.add_argument("output", help="'-' for stats, which prints")
    a = p.parse_args(argv)
    peer = PEERS.get((a.table, a.tool))
    if (peer is None or (a.job == "io" and a.tool != "polars") or (a.job == "stats" and a.table != "wide")
            or (a.job in ROBUST_JOBS and a.table != "standard")):
        p.error(f"no {a.tool} peer for {a.job} on the {a.table} table")
    peer(a.job, a.input, a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

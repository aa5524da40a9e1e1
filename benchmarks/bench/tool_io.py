"""How each peer tool reads and writes each format, as a user of that tool would: one place, so
that the peers' jobs are written once for every format.

The format is the file's extension (``tables.format_of``); each function imports its own tool
only, so a peer still pays for its own imports and nothing else. A job's output is in its
input's format, but a workbook's, which is CSV (``tables.OUTPUT_EXT``).
"""

from __future__ import annotations

import importlib.util

from .tables import EXCEL, format_of


def _refuse(tool: str, path: str):
    return ValueError(f"{tool} has no reader or writer here for {format_of(path)} ({path})")


# ---- polars -------------------------------------------------------------------------------


def polars_scan(inp: str, text: list[str]):
    """A LazyFrame of ``inp``, the ``text`` columns of a CSV read as strings (``id`` keeps its zeros);
    JSON Lines, Arrow and the workbook hold them as strings already."""
    import polars as pl

    fmt = format_of(inp)
    if fmt == "csv":
        return pl.scan_csv(inp, schema_overrides={c: pl.String for c in text})
    if fmt == "parquet":
        return pl.scan_parquet(inp)
    if fmt == "jsonl":
        return pl.scan_ndjson(inp)
    if fmt == "arrow":
        return pl.scan_ipc(inp)
    if fmt == EXCEL:  # a workbook is read whole: polars has no lazy reader of it
        return pl.read_excel(inp, engine="calamine").lazy()
    raise _refuse("polars", inp)


def polars_sink(lf, out: str) -> None:
    sinks = {"csv": lf.sink_csv, "parquet": lf.sink_parquet, "jsonl": lf.sink_ndjson, "arrow": lf.sink_ipc}
    if format_of(out) not in sinks:
        raise _refuse("polars", out)
    sinks[format_of(out)](out)


def polars_write(df, out: str) -> None:
    writers = {"csv": df.write_csv, "parquet": df.write_parquet, "jsonl": df.write_ndjson, "arrow": df.write_ipc}
    if format_of(out) not in writers:
        raise _refuse("polars", out)
    writers[format_of(out)](out)


# ---- DuckDB: JSON is built in (read_json, COPY ... (FORMAT json)); Arrow IPC is an extension --


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def duckdb_read(inp: str, text: list[str]) -> str:
    """The table function that reads ``inp``, with the ``text`` columns of a CSV read as VARCHAR
    (JSON strings are VARCHAR already)."""
    fmt = format_of(inp)
    if fmt == "csv":
        types = ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in text)
        return f"read_csv({sql_str(inp)}, header = true, types = {{{types}}})"
    if fmt == "parquet":
        return f"read_parquet({sql_str(inp)})"
    if fmt == "jsonl":
        return f"read_json({sql_str(inp)}, format = 'newline_delimited')"
    raise _refuse("duckdb", inp)


def duckdb_copy(query: str, out: str) -> str:
    """``COPY (query) TO out``; FORMAT json writes one object per line (JSON Lines)."""
    options = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet", "jsonl": "FORMAT json"}.get(format_of(out))
    if options is None:
        raise _refuse("duckdb", out)
    return f"COPY ({query}) TO {sql_str(out)} ({options})"


def duckdb_settings() -> list[str]:
    """Nothing is downloaded: a format that needs an extension fails instead."""
    return ["SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false"]


# ---- pandas -------------------------------------------------------------------------------


def pandas_excel_engine() -> str:
    """calamine (pandas' fastest reader of workbooks) if python-calamine is installed, else openpyxl."""
    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def pandas_read(inp: str, text: list[str]):
    """A DataFrame of ``inp``, the ``text`` columns kept as strings: pandas would otherwise take
    ``0000123`` for a number in CSV, JSON Lines (``read_json`` converts strings that look like
    numbers) and workbooks alike."""
    import pandas as pd

    fmt, as_text = format_of(inp), {c: str for c in text}
    if fmt == "csv":
        return pd.read_csv(inp, dtype=as_text)
    if fmt == "parquet":
        return pd.read_parquet(inp)
    if fmt == "jsonl":
        return pd.read_json(inp, lines=True, dtype=as_text)
    if fmt == "arrow":
        return pd.read_feather(inp)
    if fmt == EXCEL:
        return pd.read_excel(inp, engine=pandas_excel_engine(), dtype=as_text)
    raise _refuse("pandas", inp)


def pandas_write(df, out: str) -> None:
    fmt = format_of(out)
    if fmt == "csv":
        df.to_csv(out, index=False)
    elif fmt == "parquet":
        df.to_parquet(out, index=False)
    elif fmt == "jsonl":
        df.to_json(out, orient="records", lines=True)
    elif fmt == "arrow":
        df.to_feather(out)
    else:
        raise _refuse("pandas", out)

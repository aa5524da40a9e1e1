"""The wide tables' outputs against a numpy reference: ``stats`` figures, or the normalized (or,
for io, unchanged) table. Part of ``bench.checks``, which runs it."""

from __future__ import annotations

import json
from pathlib import Path

from .tables import format_of
from .verdicts import ATOL, RTOL, result


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


def _name_list(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (f", ... ({len(names):,} in all)" if len(names) > limit else "")


def check_wide(job: str, inp: Path, outs: dict[str, Path]) -> dict[str, dict]:
    """A wide table's outputs: ``stats`` figures, or the normalized (or, for io, unchanged) table."""
    import numpy as np
    import polars as pl

    header = pl.read_csv(inp, n_rows=0).columns if format_of(inp) == "csv" else list(pl.read_parquet_schema(inp))
    names = header[1:]  # id, then the float columns
    schema = {"id": pl.String, **{c: pl.Float64 for c in names}}
    table = pl.read_csv(inp, schema=schema) if format_of(inp) == "csv" else pl.read_parquet(inp)
    x = table.select(names).to_numpy().astype(np.float64)
    checked = {}
    for tool, path in outs.items():
        try:
            if job == "stats":
                got = json.loads(path.read_text())
            elif format_of(path) == "csv":
                got = pl.read_csv(path, schema_overrides={"id": pl.String}, infer_schema_length=None)
            else:
                got = pl.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - report, do not abort
            checked[tool] = result([f"cannot read output: {str(exc)[:300]}"])
            continue
        notes = []
        problems = _check_wide_stats(got, x, names) if job == "stats" else _check_wide_table(job, got, table, x, names, notes)
        checked[tool] = result(problems, notes)
    return checked


def _check_wide_stats(got: dict, x, names: list[str]) -> list[str]:
    """``stats --json`` figures: rows, the float columns in order, count/min/max/mean/std (population);
    other figures (softnorm's missing, sum) are not compared."""
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


def _check_wide_table(job: str, got, table, x, names: list[str], notes: list[str]) -> list[str]:
    """A wide output table: the input's columns and id text, the floats as the numpy reference."""
    import numpy as np
    import polars as pl

    problems = []
    expected_cols = ["id", *names]
    if got.columns != expected_cols:
        missing = [c for c in expected_cols if c not in set(got.columns)]
        problems.append(f"{len(got.columns):,} columns, expected {len(expected_cols):,} (id, c0..c{len(names) - 1})"
                        + (f"; missing {_name_list(missing)}" if missing else "; other names or order"))
    if got.height != table.height:
        problems.append(f"{got.height} rows, expected {table.height}")
    if problems:
        return problems
    ids = got["id"]
    if ids.dtype != pl.String:
        notes.append(f"id written as {ids.dtype}, not text")
        ids = ids.cast(pl.String)
    if ids.to_list() != table["id"].to_list():
        i = next(k for k, (a, b) in enumerate(zip(ids.to_list(), table["id"].to_list())) if a != b)
        problems.append(f"column id differs from the input text, first at row {i}: {ids[i]!r} instead of {table['id'][i]!r}")
    not_float = [c for c, t in got.select(names).schema.items() if not t.is_numeric()]
    if not_float:
        problems.append(f"{len(not_float):,} result columns are not numeric: {_name_list(not_float)}")
        return problems
    y = got.select(names).to_numpy().astype(np.float64)
    if job == "zscore":
        want = (x - x.mean(axis=0)) / x.std(axis=0)
    elif job == "minmax":
        lo = x.min(axis=0)
        want = (x - lo) / (x.max(axis=0) - lo)
    elif job == "softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        want = e / e.sum(axis=1, keepdims=True)
    else:  # io: the table as it was
        want = x
    bad = _compare(y, want, "float columns", lambda i: f"row {int(i[0])} column {names[i[1]]}")
    if bad:
        problems.append(bad)
    return problems

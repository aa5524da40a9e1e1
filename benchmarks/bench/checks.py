"""Every output checked against a float64 reference computed with numpy from the input, so that
all tools are compared with one another.

    python -m bench.checks TABLE JOB INPUT '{"softnorm": OUTPUT, ...}'     (from benchmarks/)

prints, as JSON, {tool: {"ok": bool, "problems": [...], "notes": [...]}}. TABLE is standard,
groups or wide; JOB a job of it (io: the output must be the input). It runs in a process of its
own: numpy and polars are imported here, never in the harness.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .tables import GROUP_KEY, LAYOUTS, format_of

RTOL = 1e-9
ATOL = 1e-9
ATOL_ZSCORE_1E9 = 1e-6  # the z-score of 1e9 + noise (f5, or f4 of the group table): its mean carries ~1e-7 of rounding
# Group z-scores: a float64 mean is off by a few units in its last place, and a z-score by that over
# the group's std, which in groups of two or three rows (many keys) can be tiny.
ZSCORE_ULPS = 8
ONE_E9_COLUMN = {"standard": "f5", "groups": "f4"}


def _result(problems: list[str], notes: list[str] = ()) -> dict:
    return {"ok": not problems, "problems": problems, "notes": list(notes)}


def read_long(path: Path, text: list[str], floats: list[str]):
    import polars as pl

    if format_of(path) == "csv":
        return pl.read_csv(path, schema_overrides={**{c: pl.String for c in text}, **{c: pl.Float64 for c in floats}})
    return pl.read_parquet(path)


def expected_floats(job: str, x, softmax_cols: int):
    """The standard table's reference, for the whole table."""
    import numpy as np

    y = x.copy()
    if job == "softmax":
        a = x[:, :softmax_cols]
        e = np.exp(a - a.max(axis=1, keepdims=True))
        y[:, :softmax_cols] = e / e.sum(axis=1, keepdims=True)
    elif job == "minmax":
        lo = x.min(axis=0)
        y = (x - lo) / (x.max(axis=0) - lo)
    elif job == "zscore":
        y = (x - x.mean(axis=0)) / x.std(axis=0)
    return y


def expected_group_floats(job: str, key, x, softmax_cols: int):
    """The group jobs' reference: rows sorted by ``key`` (integer codes), each figure a
    ``ufunc.reduceat`` over a run of equal keys. Returns it, and for zscore each row's group mean
    and std (0 in a constant group), which the z-score's tolerance needs (else None, None).

    The mean is that of ``x - min`` of the group, which is exact near 1e9, so the reference's
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
            k = softmax_cols
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


def check_long(kind: str, job: str, inp: Path, outs: dict[str, Path]) -> dict[str, dict]:
    """A standard or group table's outputs: the input's columns in order, its rows, the text columns
    identical to its text, every float within tolerance of the reference."""
    import numpy as np
    import polars as pl

    layout = LAYOUTS[kind]
    text, floats = layout.text, layout.float_names
    table = read_long(inp, text, floats)
    x = table.select(floats).to_numpy().astype(np.float64)
    table = table.select(text)  # the floats are in x now (the big CSV is 12M rows)
    rows = table.height
    softmax_cols = len(layout.job_columns["softmax"])
    atol = {c: ATOL for c in floats}
    if kind == "groups":
        # Integer codes for the keys: the reference sorts and splits on them.
        want, mean, std = expected_group_floats(job, table[GROUP_KEY].rank("dense").to_numpy(), x, softmax_cols)
        if job == "zscore":
            # The 1e9 column keeps the standard suite's looser tolerance; below it, ZSCORE_ULPS units
            # in the last place of the group's mean over its std. A constant group must give 0.
            with np.errstate(divide="ignore", invalid="ignore"):
                cond = np.where(std > 0, ZSCORE_ULPS * np.spacing(np.abs(mean)) / std, 0.0)
            atol = {c: np.maximum(ATOL_ZSCORE_1E9 if c == ONE_E9_COLUMN[kind] else ATOL, cond[:, j])
                    for j, c in enumerate(floats)}
    else:
        want = expected_floats(job, x, softmax_cols)
        if job == "zscore":
            atol[ONE_E9_COLUMN[kind]] = ATOL_ZSCORE_1E9
    checked = {}
    for tool, path in outs.items():
        try:
            got = read_long(path, text, floats)
        except Exception as exc:  # noqa: BLE001 - report, do not abort
            checked[tool] = _result([f"cannot read output: {exc}"])
            continue
        problems, notes = [], []
        if got.columns != layout.names:
            problems.append(f"columns {got.columns}, expected {layout.names}")
        if got.height != rows:
            problems.append(f"{got.height} rows, expected {rows}")
        if not problems:
            for c in text:
                s = got[c]
                if s.dtype != pl.String:
                    notes.append(f"{c} written as {s.dtype}, not text")
                    s = s.cast(pl.String)
                bad = (s != table[c]).fill_null(True) | (s.is_null() != table[c].is_null())
                nbad = int(bad.sum())
                if nbad:
                    i = int(bad.arg_max())
                    problems.append(f"column {c}: {nbad} of {rows} values differ from the input text, "
                                    f"first at row {i}: {s[i]!r} instead of {table[c][i]!r}")
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
        checked[tool] = _result(problems, notes)
    return checked


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
            checked[tool] = _result([f"cannot read output: {str(exc)[:300]}"])
            continue
        notes = []
        problems = _check_wide_stats(got, x, names) if job == "stats" else _check_wide_table(job, got, table, x, names, notes)
        checked[tool] = _result(problems, notes)
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


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or args[0] not in ("standard", "groups", "wide"):
        sys.exit(__doc__.strip().splitlines()[2].strip())
    kind, job, inp, outputs = args
    outs = {tool: Path(p) for tool, p in json.loads(outputs).items()}
    checked = check_wide(job, Path(inp), outs) if kind == "wide" else check_long(kind, job, Path(inp), outs)
    print(json.dumps(checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())

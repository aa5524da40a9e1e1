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

from . import references
from .tables import EXCEL, GROUP_KEY, LAYOUTS, format_of
from .verdicts import ATOL, RTOL, result

ATOL_ZSCORE_1E9 = 1e-6  # the z-score of 1e9 + noise (f5, or f4 of the group table): its mean carries ~1e-7 of rounding
# Group z-scores: a float64 mean is off by a few units in its last place, and a z-score by that over
# the group's std, which in groups of two or three rows (many keys) can be tiny.
ZSCORE_ULPS = 8
ONE_E9_COLUMN = {"standard": "f5", "groups": "f4"}
# The robust suite's percentile jobs: softnorm's percentiles are numpy's to the bit, so its results
# must be within EXACT_TOL of the reference (rtol and atol alike: |y - ref| <= EXACT_TOL * (1 + |ref|));
# the peers are held to the suite's tolerance, and every tool's largest error is noted.
EXACT_JOBS = ("robust", "quantile")
EXACT_TOL = 1e-12
# The reference of each job over the columns it normalizes (the first ones of the table).
REFERENCES = {"robust": references.robust, "quantile": references.quantile_uniform, "maxabs": references.maxabs,
              "unitnorm": references.unitnorm}


def read_long(path: Path, text: list[str], floats: list[str], notes: list[str] | None = None):
    """A table as polars reads its format: a CSV with the ``text`` columns as strings and the floats
    as Float64; JSON Lines with the floats as Float64 (a float written as ``0`` is a JSON integer);
    the others with the types they store, so that text written as numbers shows."""
    import polars as pl

    fmt, as_float = format_of(path), {c: pl.Float64 for c in floats}
    if fmt == "csv":
        return pl.read_csv(path, schema_overrides={**{c: pl.String for c in text}, **as_float})
    if fmt == "jsonl":
        return pl.read_ndjson(path, schema_overrides=as_float, infer_schema_length=None)
    if fmt == "arrow":
        with open(path, "rb") as fh:
            is_file = fh.read(6) == b"ARROW1"  # an IPC file's magic; a stream has none
        if not is_file and notes is not None:
            notes.append("written as an Arrow IPC stream, not an IPC file")
        return pl.read_ipc(path) if is_file else pl.read_ipc_stream(path)
    if fmt == EXCEL:
        return pl.read_excel(path, engine="calamine")
    return pl.read_parquet(path)


def max_error(got, want) -> tuple[float, int]:
    """The largest ``|got - want| / (1 + |want|)`` of a column and its row (NaN where only one is NaN: inf)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        err = np.abs(got - want) / (1 + np.abs(want))
    err = np.where(np.isnan(got) & np.isnan(want), 0.0, np.where(np.isnan(err), np.inf, err))
    i = int(np.argmax(err)) if err.size else 0
    return (float(err[i]) if err.size else 0.0), i


def expected_floats(job: str, x, softmax_cols: int):
    """The standard table's reference, for the whole table."""
    import numpy as np

    y = x.copy()
    if job in REFERENCES:
        k = len(LAYOUTS["standard"].job_columns[job])
        y[:, :k] = REFERENCES[job](x[:, :k])
    elif job == "softmax":
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
        if job in ("zscore", "robust"):  # a percentile near 1e9 by another formula is off by a few ulps (1.2e-7 each)
            atol[ONE_E9_COLUMN[kind]] = ATOL_ZSCORE_1E9
    checked = {}
    for tool, path in outs.items():
        problems, notes = [], []
        exact = tool == "softnorm" and job in EXACT_JOBS
        rtol = EXACT_TOL if exact else RTOL
        try:
            got = read_long(path, text, floats, notes)
        except Exception as exc:  # noqa: BLE001 - report, do not abort
            checked[tool] = result([f"cannot read output: {str(exc)[:300]}"])
            continue
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
                close = np.isclose(y[:, j], want[:, j], rtol=rtol, atol=EXACT_TOL if exact else atol[c], equal_nan=True)
                if not close.all():
                    diff = np.abs(y[:, j] - want[:, j])
                    diff[close] = 0
                    i = int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff)))
                    tol = (f"{EXACT_TOL:g}" if exact else f"{atol[c]:g}" if np.ndim(atol[c]) == 0
                           else f"{float(atol[c][i]):g} (here)")
                    problems.append(f"column {c}: {int((~close).sum())} of {rows} values outside rtol {rtol:g} "
                                    f"atol {tol}; worst row {i}: {float(y[i, j])!r} vs expected {float(want[i, j])!r}")
            if job in EXACT_JOBS:
                worst = max((max_error(y[:, j], want[:, j]) + (c,) for j, c in enumerate(floats)), key=lambda e: e[0])
                notes.append(f"max error {worst[0]:.3g} (|y - ref| / (1 + |ref|))"
                             + (f", column {worst[2]} row {worst[1]}" if worst[0] else ""))
        checked[tool] = result(problems, notes)
    return checked


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or args[0] not in ("standard", "groups", "wide"):
        sys.exit(__doc__.strip().splitlines()[2].strip())
    kind, job, inp, outputs = args
    outs = {tool: Path(p) for tool, p in json.loads(outputs).items()}
    from .checks_wide import check_wide

    checked = check_wide(job, Path(inp), outs) if kind == "wide" else check_long(kind, job, Path(inp), outs)
    print(json.dumps(checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Statistics per group of rows (-g/--group-by): against pandas' groupby().transform, streamed
in small batches with shuffled keys, with many groups, and the errors and summary around them."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from numpy.testing import assert_allclose
from scipy.special import softmax as scipy_softmax

from helpers import expect_error

MISSING = "<missing key>"  # the group of rows without a key, for the pandas references


def _table(rows: int = 600, seed: int = 5) -> pd.DataFrame:
    """Keys in no order (some empty, some NA), values at different scales, some missing."""
    rng = np.random.default_rng(seed)
    keys = rng.choice(["north", "south", "east", "west", "", "NA", "7"], rows, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05])
    frame = pd.DataFrame(
        {
            "id": [f"{i:05d}" for i in range(rows)],
            "region": keys,
            "price": 1e9 + rng.normal(size=rows),
            "qty": rng.normal(size=rows) * 40 + 3,
        }
    )
    frame.loc[rng.choice(rows, 20, replace=False), "qty"] = np.nan
    return frame


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format="%.17g", na_rep="")


def _key(frame: pd.DataFrame) -> pd.Series:
    """The key as softnorm reads it: empty cells and NA markers are one missing key."""
    return frame["region"].replace({"": MISSING, "NA": MISSING})


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(__import__("io").StringIO(text), dtype={"id": str, "region": str}, keep_default_na=False)


def _floats(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series.replace("", np.nan)).to_numpy(dtype=float)


REFERENCES = {
    "zscore": lambda s: (s - s.mean()) / s.std(ddof=0),
    "minmax": lambda s: (s - s.min()) / (s.max() - s.min()),
    "softmax": lambda s: pd.Series(_softmax_omitting_nan(s.to_numpy()), index=s.index),
}


def _softmax_omitting_nan(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    present = ~np.isnan(x)
    out[present] = scipy_softmax(x[present])
    return out


@pytest.mark.parametrize("command", ["zscore", "minmax", "softmax"])
def test_each_group_is_normalized_with_its_own_figures(invoke_ok, write_file, command):
    frame = _table()
    write_file("t.csv", _csv(frame))
    axis = ["--axis", "column"] if command == "softmax" else []
    out = _read(invoke_ok(command, "t.csv", "-c", "price,qty", "-g", "region", *axis).stdout)
    assert out["id"].tolist() == frame["id"].tolist()
    assert out["region"].tolist() == frame["region"].tolist()  # keys pass through as written
    for column in ["price", "qty"]:
        want = frame.groupby(_key(frame), dropna=False)[column].transform(REFERENCES[command])
        # price is 1e9 + noise: pandas' mean loses digits there that softnorm keeps
        # (the exact z-scores are checked below).
        assert_allclose(_floats(out[column]), want.to_numpy(), rtol=1e-12, atol=1e-5 if column == "price" else 1e-12)


def test_zscore_per_group_is_exact_where_pandas_is_not(invoke_ok, write_file):
    from helpers import exact_zscores

    frame = _table()
    write_file("t.csv", _csv(frame))
    out = _read(invoke_ok("zscore", "t.csv", "-c", "price", "-g", "region").stdout)
    got = _floats(out["price"])
    for _, rows in frame.groupby(_key(frame)).groups.items():
        assert_allclose(got[rows], exact_zscores(frame.loc[rows, "price"].to_numpy()), rtol=1e-14, atol=1e-14)


def test_propagate_blanks_only_the_groups_with_a_missing_value(invoke_ok, write_file):
    write_file("t.csv", "g,x\na,1\nb,1\na,\nb,3\na,2\nc,5\n")
    out = invoke_ok("zscore", "t.csv", "-g", "g", "--nan", "propagate").stdout
    assert out == "g,x\na,\nb,-1.0\na,\nb,1.0\na,\nc,0.0\n"
    omitted = invoke_ok("zscore", "t.csv", "-g", "g").stdout
    assert omitted == "g,x\na,-1.0\nb,-1.0\na,\nb,1.0\na,1.0\nc,0.0\n"


def test_nan_raise_names_the_row_in_a_group(invoke, write_file):
    write_file("t.csv", "g,x\na,1\nb,1\na,\n")
    expect_error(invoke("zscore", "t.csv", "-g", "g", "--nan", "raise"), "column 'x', row 3: missing value (--nan raise)")


def test_axis_all_makes_each_group_one_block(invoke_ok, write_file):
    frame = _table().dropna()
    write_file("t.csv", _csv(frame))
    out = _read(invoke_ok("softmax", "t.csv", "-c", "qty,price", "--axis", "all", "-g", "region").stdout)
    got = out[["qty", "price"]].to_numpy(dtype=float)
    for _, rows in frame.groupby(_key(frame)).groups.items():
        at = frame.index.get_indexer(rows)
        want = scipy_softmax(frame.loc[rows, ["qty", "price"]].to_numpy())  # over the whole block
        assert_allclose(got[at], want, rtol=1e-12, atol=1e-300)
        assert got[at].sum() == pytest.approx(1.0, abs=1e-12)


def test_several_key_columns(invoke_ok, write_file):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"day": rng.choice(["mon", "tue"], 200), "desk": rng.choice(["a", "b", "c"], 200), "ret": rng.normal(size=200)}
    )
    write_file("t.csv", _csv(frame))
    out = _read(invoke_ok("zscore", "t.csv", "-g", "day,desk").stdout)
    want = frame.groupby(["day", "desk"])["ret"].transform(REFERENCES["zscore"])
    assert_allclose(out["ret"].to_numpy(dtype=float), want.to_numpy(), rtol=1e-12, atol=1e-12)
    again = invoke_ok("zscore", "t.csv", "-g", "day", "-g", "desk").stdout  # repeated option, same keys
    assert again == invoke_ok("zscore", "t.csv", "-g", "day,desk").stdout


@pytest.mark.parametrize("command", ["zscore", "minmax", "softmax"])
@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_small_batches_give_the_same_bytes(invoke_ok, write_file, command, stdin):
    frame = _table(rows=3000, seed=9)
    text = _csv(frame)
    write_file("t.csv", text)
    args = [command, "-c", "price,qty", "-g", "region", "--axis", "column"]
    whole = invoke_ok(*args, "t.csv").stdout
    for batch in ("7", "64", "1000"):
        streamed = invoke_ok(*args, "--batch-rows", batch, input=text) if stdin else invoke_ok(*args, "t.csv", "--batch-rows", batch)
        assert streamed.stdout == whole


def test_parquet_keys_compare_as_text_and_keep_their_type(invoke_ok, workdir):
    keys = [1, 2, None, 1, 2, None, 3]
    days = [dt.date(2024, 1, d) for d in (1, 2, 1, 1, 2, 2, 3)]
    x = [1.0, 10.0, 5.0, 3.0, 30.0, 7.0, 4.0]
    pq.write_table(pa.table({"k": pa.array(keys, pa.int32()), "day": days, "x": x}), workdir / "t.parquet")
    invoke_ok("minmax", "t.parquet", "-g", "k", "-o", "out.parquet")
    out = pl.read_parquet(workdir / "out.parquet")
    assert out.schema["k"] == pl.Int32 and out["k"].to_list() == keys
    assert out["x"].to_list() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]  # null keys are one group: 5 and 7
    invoke_ok("minmax", "t.parquet", "-g", "day", "-c", "x", "-o", "by_day.parquet")
    assert pl.read_parquet(workdir / "by_day.parquet")["x"].to_list() == [0.0, 3 / 23, 1.0, 0.5, 1.0, 0.0, 0.0]


def test_many_groups(invoke_ok, write_file):
    rng = np.random.default_rng(2)
    groups = 100_000
    key = np.concatenate([np.arange(groups), rng.integers(0, groups, groups)])
    rng.shuffle(key)
    x = rng.normal(size=key.size)
    write_file("t.csv", _csv(pd.DataFrame({"g": key, "x": x})))
    result = invoke_ok("minmax", "t.csv", "-g", "g", "--summary-json", "s.json", "--batch-rows", "20000")
    got = _read(result.stdout.replace("g,x", "region,x", 1))["x"].to_numpy(dtype=float)
    frame = pd.DataFrame({"g": key, "x": x})
    span = frame.groupby("g")["x"].transform("max") - frame.groupby("g")["x"].transform("min")
    want = np.where(span > 0, (x - frame.groupby("g")["x"].transform("min")) / span.replace(0, 1), 0.0)
    assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    summary = json.loads(open("s.json").read())
    assert summary["groups"]["count"] == groups
    assert summary["groups"]["smallest"]["rows"] == 1
    assert summary["groups"]["largest"]["rows"] == np.bincount(key).max()
    assert any("groups (g=" in w and "constant" in w for w in summary["warnings"])


def _peak_rss_mib(args: list[str], cwd) -> float:
    """The peak resident memory of a softnorm run, from the kernel's accounting of that one child."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "softnorm_cli", *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, proc.stderr.read().decode()
    return usage.ru_maxrss / 1024


def test_memory_grows_with_the_groups_not_the_rows(workdir):
    rng = np.random.default_rng(4)
    groups = 50_000
    for rows in (200_000, 1_600_000):
        key = rng.integers(0, groups, rows)
        pl.DataFrame({"g": key, "a": rng.normal(size=rows), "b": rng.normal(size=rows)}).write_csv(workdir / f"{rows}.csv")
    small, large = (
        _peak_rss_mib(["zscore", f"{rows}.csv", "-g", "g", "-o", f"out{rows}.csv", "--batch-rows", "1MB"], workdir)
        for rows in (200_000, 1_600_000)
    )
    # Eight times the rows (about 60 MB of CSV against 8) in the same groups:
    # the file is read twice instead of held, and the peak barely moves.
    assert large - small < 40, (small, large)


def test_group_by_needs_a_column_or_all_axis(invoke, write_file):
    write_file("t.csv", "g,x,y\na,1,2\n")
    result = invoke("softmax", "t.csv", "-g", "g")
    assert result.exit_code == 2
    assert "--group-by needs --axis column or --axis all (softmax normalizes each row by default)" in result.stderr
    assert invoke("zscore", "t.csv", "-g", "g", "--axis", "row").exit_code == 2


def test_group_key_errors(invoke, write_file, workdir):
    write_file("t.csv", "region,x\na,1\n")
    expect_error(
        invoke("zscore", "t.csv", "-g", "regoin"),
        "column 'regoin' not found; did you mean 'region'? (columns are: region, x)",
    )
    expect_error(
        invoke("zscore", "t.csv", "-g", "region", "-c", "region,x"),
        "column 'region' is a group key (-g); it cannot be normalized as well",
    )
    pq.write_table(pa.table({"tags": [["a"], ["b"]], "x": [1.0, 2.0]}), workdir / "n.parquet")
    expect_error(
        invoke("zscore", "n.parquet", "-g", "tags", "-o", "o.parquet"),
        "group key column 'tags' has type list; keys must be text, numbers or dates",
    )


def test_numeric_key_columns_are_not_normalized(invoke_ok, write_file):
    write_file("t.csv", "day,x\n1,1\n2,5\n1,3\n2,7\n")
    result = invoke_ok("minmax", "t.csv", "-g", "day", "--summary-json", "s.json")
    assert result.stdout == "day,x\n1,0.0\n2,0.0\n1,1.0\n2,1.0\n"
    assert json.loads(open("s.json").read())["skipped"] == {"day": "group key (-g)"}


def test_summary_counts_groups_and_warnings_name_constant_ones(invoke_ok, write_file):
    write_file("t.csv", "g,x\na,1\na,1\nb,1\nb,2\nb,3\nc,4\n,5\n,5\n")
    result = invoke_ok("zscore", "t.csv", "-g", "g", "--summary-json", "s.json", "--summary")
    assert "softnorm: warning: column 'x': 3 groups (g='a', g='c', g=missing): constant (zero std); results set to 0\n" in result.stderr
    assert "4 groups by g; rows per group: 1 (g='c') to 3 (g='b')" in result.stderr
    groups = json.loads(open("s.json").read())["groups"]
    sizes = groups.pop("size_bins")
    assert groups == {
        "by": ["g"],
        "count": 4,
        "with_rows": 4,
        "smallest": {"key": ["c"], "rows": 1},
        "largest": {"key": ["b"], "rows": 3},
    }
    # Groups of 1, 2, 2 and 3 rows, in bins from 1 to 3.
    assert (sizes["low"], sizes["high"]) == (1, 3)
    assert {i: n for i, n in enumerate(sizes["counts"]) if n} == {0: 1, len(sizes["counts"]) // 2: 2, len(sizes["counts"]) - 1: 1}


def test_api_and_engine_group_the_same_way(write_file, tmp_path):
    """The engine, called directly, with a grouped job: the statistics have a row per group, in order of appearance."""
    from softnorm_cli import engine
    from softnorm_cli.io.source import open_source
    from softnorm_cli.numeric.methods import MinMax

    path = write_file("t.csv", "g,x\nb,1\na,5\nb,3\na,7\n")
    with open_source(str(path)) as source:
        fitted = engine.fit(engine.Job(MinMax(), "column", group_by=["g"]), source)
    assert fitted.keys == [("b",), ("a",)]
    assert fitted.statistics["min"].tolist() == [[1.0], [5.0]]
    assert fitted.statistics["max"].tolist() == [[3.0], [7.0]]


@pytest.mark.parametrize("command", ["zscore", "softmax"])
def test_group_codes_kept_from_the_fit_give_the_same_bytes(invoke_ok, write_file, monkeypatch, command):
    """The second pass takes each row's group from the first when they fit in memory, else looks it up again."""
    from softnorm_cli.engine.keys import KeyIndex

    lookups = []
    codes = KeyIndex.codes
    monkeypatch.setattr(KeyIndex, "codes", lambda self, frame: lookups.append(self.fixed) or codes(self, frame))
    write_file("t.csv", _csv(_table(rows=3000, seed=11)))
    args = [command, "t.csv", "-c", "price,qty", "-g", "region", "--axis", "column", "--batch-rows", "100"]
    kept = invoke_ok(*args).stdout
    assert lookups and not any(lookups)  # the fit learns the keys; the apply looks none up
    lookups.clear()
    monkeypatch.setattr("softnorm_cli.engine.memory.KEEP_CODES_BYTES", 0)
    assert invoke_ok(*args).stdout == kept
    assert any(lookups)  # this time the apply finds each row's group in the fixed index


def test_statistics_fitted_on_one_source_apply_to_another_by_key(write_file):
    from softnorm_cli import engine
    from softnorm_cli.io.memory import FrameSink
    from softnorm_cli.io.source import open_source
    from softnorm_cli.numeric.methods import MinMax

    job = engine.Job(MinMax(), "column", group_by=["g"])
    with open_source(str(write_file("a.csv", "g,x\nb,1\na,5\nb,3\na,7\n"))) as source:
        fitted = engine.fit(job, source)
    # The same keys in another order: each row finds its own group's figures.
    with open_source(str(write_file("b.csv", "g,x\na,6\na,5\nb,2\nb,3\n"))) as other:
        sink = FrameSink()
        engine.apply(job, fitted, other, sink)
    assert sink.frame["x"].to_list() == [0.5, 0.0, 0.5, 1.0]

"""Hive-style directories (``date=.../desk=.../part.parquet``): the folders' keys as text columns, usable
with -g, written back as the same folders; against the same table as one flat file, and read back by pyarrow."""

from __future__ import annotations

import os

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pytest

from helpers import expect_error


def _table(rows: int = 1500) -> pl.DataFrame:
    rng = np.random.default_rng(5)
    return pl.DataFrame(
        {
            "id": np.arange(rows),
            "x": rng.normal(size=rows) * 3 + 1,
            "y": rng.lognormal(size=rows),
            "date": rng.choice(["2024-01-01", "2024-01-02"], rows),
            "desk": rng.choice(["007", "rates", "a b/c", None], rows),  # leading zeros, a slash, a missing key
        }
    )


def _write_hive(frame: pl.DataFrame, folder: str, fmt: str = "parquet") -> None:
    """Written by pyarrow, as Spark and DuckDB lay it out: a folder per key, the keys out of the files."""
    pads.write_dataset(frame.to_arrow(), folder, format=fmt, partitioning=["date", "desk"], partitioning_flavor="hive")


def _read_hive(folder: str) -> pl.DataFrame:
    keys = pads.partitioning(pa.schema([("date", pa.string()), ("desk", pa.string())]), flavor="hive")
    table = pads.dataset(folder, format="parquet", partitioning=keys).to_table()
    return pl.from_arrow(table)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_folders_keys_are_text_columns_for_groups_as_in_the_flat_file(invoke_ok, workdir, fmt):
    frame = _table()
    _write_hive(frame, "data", fmt)
    assert os.path.isdir("data/date=2024-01-01/desk=007") and os.path.isdir("data/date=2024-01-02/desk=a%20b%2Fc")
    frame.write_csv("flat.csv")
    invoke_ok("zscore", "flat.csv", "-c", "x,y", "-g", "date,desk", "-o", "flat_out.csv")
    invoke_ok("zscore", "data", "-c", "x,y", "-g", "date,desk", "-o", "joined.csv")
    read = {"date": pl.String, "desk": pl.String}
    want = pl.read_csv("flat_out.csv", schema_overrides=read).sort("id")
    got = pl.read_csv("joined.csv", schema_overrides=read).sort("id")
    assert got.columns == ["id", "x", "y", "date", "desk"]  # the keys after the file's own columns
    assert got["desk"].to_list() == want["desk"].to_list()  # '007' kept, 'a b/c' decoded, the missing key missing
    np.testing.assert_allclose(got["x"].to_numpy(), want["x"].to_numpy(), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(got["y"].to_numpy(), want["y"].to_numpy(), rtol=1e-13, atol=1e-13)


def test_a_directory_is_written_back_in_the_same_folders_without_the_key_columns(invoke_ok, workdir):
    frame = _table()
    _write_hive(frame, "data")
    invoke_ok("robust", "data", "-c", "x", "-g", "desk", "-o", "out/")
    given = sorted(os.path.dirname(os.path.relpath(os.path.join(d, f), "data")) for d, _, fs in os.walk("data") for f in fs)
    written = sorted(os.path.dirname(os.path.relpath(os.path.join(d, f), "out")) for d, _, fs in os.walk("out") for f in fs)
    assert written == given
    one = next(os.path.join(d, f) for d, _, fs in os.walk("out") for f in fs)
    assert pl.read_parquet(one).columns == ["id", "x", "y"]  # the keys are in the folders' names, as pyarrow writes them
    back = _read_hive("out").sort("id")
    assert back["desk"].to_list() == frame.sort("id")["desk"].to_list()
    assert back["y"].to_list() == frame.sort("id")["y"].to_list()  # untouched
    # A second run replaces the earlier output, folders and all.
    invoke_ok("robust", "data", "-c", "x", "-g", "desk", "-o", "out/")
    assert _read_hive("out").height == frame.height


def test_dask_writes_the_same_folders_and_bytes(invoke_ok, workdir):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    _write_hive(_table(), "data")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50
    ) as cluster:
        invoke_ok("zscore", "data", "-c", "x", "-g", "date", "-o", "local/")
        invoke_ok("zscore", "data", "-c", "x", "-g", "date", "-o", "dask/", "--engine", "dask", "--scheduler", cluster.scheduler_address)
    files = sorted(os.path.relpath(os.path.join(d, f), "local") for d, _, fs in os.walk("local") for f in fs)
    assert files == sorted(os.path.relpath(os.path.join(d, f), "dask") for d, _, fs in os.walk("dask") for f in fs)
    for name in files:
        assert pl.read_parquet(os.path.join("dask", name)).equals(pl.read_parquet(os.path.join("local", name)))


def test_layouts_that_are_not_hive_are_one_line_errors(invoke, workdir):
    frame = _table(200)
    _write_hive(frame, "data")
    os.makedirs("data/date=2024-01-01/stray")
    frame.head(3).drop("date", "desk").write_parquet("data/date=2024-01-01/stray/p.parquet")
    expect_error(invoke("zscore", "data", "-c", "x"), "data/date=2024-01-01/stray: a folder of a partitioned dataset is not named key=value")

    _write_hive(frame, "other")
    os.makedirs("other/date=2024-01-03")
    frame.head(3).drop("date", "desk").write_parquet("other/date=2024-01-03/p.parquet")
    expect_error(invoke("zscore", "other", "-c", "x"), "other/date=2024-01-03: its keys (date) are not those of the other folders (date, desk)")

    pads.write_dataset(frame.drop("desk").to_arrow(), "clash", format="parquet", partitioning=["date"], partitioning_flavor="hive")
    frame.head(3).drop("desk").write_parquet("clash/date=2024-01-01/with_date.parquet")
    result = invoke("zscore", "clash", "-c", "x")
    assert result.exit_code == 1 and "column 'date' is both in the file and in its folder's name" in result.stderr


def test_keys_that_look_like_numbers_are_not_chosen_to_be_normalized(invoke_ok, workdir):
    rng = np.random.default_rng(6)
    frame = pl.DataFrame({"year": rng.choice(["2023", "2024"], 100), "x": rng.normal(size=100), "name": ["a"] * 100})
    pads.write_dataset(frame.to_arrow(), "data", format="csv", partitioning=["year"], partitioning_flavor="hive")
    invoke_ok("zscore", "data", "-o", "out.csv")
    got = pl.read_csv("out.csv", schema_overrides={"year": pl.String})
    assert sorted(set(got["year"].to_list())) == ["2023", "2024"]  # as the folders say, not z-scores
    assert abs(got["x"].mean()) < 1e-12  # x alone was normalized

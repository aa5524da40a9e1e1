"""maxabs and unitnorm: against scikit-learn on real data and on adversarial data, through the
command line (CSV and Parquet written by pandas and pyarrow) and the Python API; groups against
a pandas groupby; saved parameters and their inverse; datasets of parts on both engines."""

from __future__ import annotations

import decimal
import io
import json
import os

import numpy as np
import pandas as pd
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.preprocessing import MaxAbsScaler, normalize

from helpers import assert_same_table, expect_error, parts_table, read_parts, write_parts
from softnorm_cli import maxabs, unitnorm
from softnorm_cli.numeric.norms import Norms
from softnorm_cli.numeric.scalers import UnitNorm


def _frame(loader) -> pd.DataFrame:
    data = loader()
    return pd.DataFrame(data.data, columns=[f"f{i}" for i in range(data.data.shape[1])])


def _out(result) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(result.stdout))


def _usage_error(result, text: str) -> None:
    assert result.exit_code == 2, result.stderr
    assert f"Error: {text}" in result.stderr
    assert result.stdout == ""


def _exact_unit(row, norm: str) -> np.ndarray:
    """``row / ||row||`` over its present values in 60-digit decimals, rounded once to float64."""
    context = decimal.Context(prec=60, Emax=10**6, Emin=-(10**6))
    values = [decimal.Decimal(float(v)) for v in row if not np.isnan(v)]
    if norm == "l2":
        size = context.sqrt(sum((context.multiply(v, v) for v in values), decimal.Decimal(0)))
    elif norm == "l1":
        size = sum((abs(v) for v in values), decimal.Decimal(0))
    else:
        size = max((abs(v) for v in values), default=decimal.Decimal(0))
    size = size or decimal.Decimal(1)
    return np.array([np.nan if np.isnan(v) else float(context.divide(decimal.Decimal(float(v)), size)) for v in row])


# --------------------------------------------------------------------------
# Real data against scikit-learn, through the command line
# --------------------------------------------------------------------------


@pytest.mark.parametrize("loader", [load_wine, load_breast_cancer])
def test_maxabs_is_sklearns_max_abs_scaler(invoke_ok, workdir, loader):
    frame = _frame(loader)
    frame.to_csv("in.csv", index=False)
    got = _out(invoke_ok("maxabs", "in.csv"))
    assert list(got.columns) == list(frame.columns)
    assert_allclose(got.to_numpy(), MaxAbsScaler().fit_transform(frame.to_numpy()), rtol=1e-12, atol=0)


def test_maxabs_leaves_missing_values_out_of_the_fit_and_in_the_output_as_sklearn(invoke_ok, workdir):
    values = _frame(load_wine).to_numpy(copy=True)
    values[np.random.default_rng(1).random(values.shape) < 0.1] = np.nan
    frame = pd.DataFrame(values, columns=[f"f{i}" for i in range(values.shape[1])])
    frame.to_csv("in.csv", index=False)
    got = _out(invoke_ok("maxabs", "in.csv")).to_numpy()
    want = MaxAbsScaler().fit_transform(values)
    assert_array_equal(np.isnan(got), np.isnan(values))
    assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("norm", ["l2", "l1", "max"])
@pytest.mark.parametrize("axis", ["row", "column"])
def test_unitnorm_is_sklearns_normalize(invoke_ok, workdir, norm, axis):
    frame = _frame(load_breast_cancer)
    frame.to_csv("in.csv", index=False)
    got = _out(invoke_ok("unitnorm", "in.csv", "--norm", norm, "--axis", axis)).to_numpy()
    want = normalize(frame.to_numpy(), norm=norm, axis=1 if axis == "row" else 0)
    assert_allclose(got, want, rtol=1e-12, atol=0)


def test_parquet_written_by_pyarrow_gives_the_csv_results(invoke_ok, workdir):
    frame = _frame(load_wine)
    frame.to_csv("in.csv", index=False)
    frame.to_parquet("in.parquet", engine="pyarrow")
    for args in (["maxabs"], ["unitnorm", "--norm", "l1"]):
        assert invoke_ok(*args, "in.parquet", "--to", "csv").stdout == invoke_ok(*args, "in.csv").stdout


def test_results_do_not_depend_on_the_batches(invoke_ok, workdir):
    rng = np.random.default_rng(2)
    pd.DataFrame(rng.normal(size=(1000, 3)) * [1, 1e150, 1e-150], columns=list("abc")).to_csv("in.csv", index=False)
    for args in (["maxabs"], ["unitnorm"], ["unitnorm", "--axis", "column"], ["unitnorm", "--axis", "all", "--norm", "l1"]):
        assert invoke_ok(*args, "in.csv", "--batch-rows", "97").stdout == invoke_ok(*args, "in.csv").stdout, args


# --------------------------------------------------------------------------
# Adversarial data
# --------------------------------------------------------------------------

ADVERSARIAL = (
    "const,zeros,huge,negative,gaps,single\n"
    "5,0,1e308,-3,,7\n"
    "5,0,-1e308,-1,,\n"
    "5,0,1.5e308,-2,,\n"
)


def test_maxabs_on_adversarial_columns(invoke_ok, write_file):
    write_file("a.csv", ADVERSARIAL)
    result = invoke_ok("maxabs", "a.csv", "-c", "const,zeros,huge,negative,gaps,single")
    got = _out(result)
    assert got["const"].tolist() == [1.0, 1.0, 1.0]
    assert got["zeros"].tolist() == [0.0, 0.0, 0.0]  # nothing to divide by: left as they are
    assert_allclose(got["huge"], [1 / 1.5, -1 / 1.5, 1.0], rtol=1e-15)
    assert got["negative"].tolist() == [-1.0, -1 / 3, -2 / 3]
    assert got["gaps"].isna().all()
    assert got["single"].iloc[0] == 1.0 and got["single"].iloc[1:].isna().all()
    want = MaxAbsScaler().fit_transform(np.array([[5, 0, 1e308, -3], [5, 0, -1e308, -1], [5, 0, 1.5e308, -2]]))
    assert_allclose(got[["const", "zeros", "huge", "negative"]].to_numpy(), want, rtol=1e-15, atol=0)
    assert "column 'zeros': all zeros; results left as they are" in result.stderr
    assert "column 'gaps': no values; results missing" in result.stderr


def test_unitnorm_on_adversarial_rows_is_exact_where_sklearn_overflows():
    rows = np.array(
        [
            [1e308, 1.5e308, -1e308],  # squares and sums overflow
            [1e-200, 3e-200, -2e-200],  # squares underflow
            [0.0, 0.0, 0.0],
            [-3.0, -4.0, np.nan],
            [np.nan, np.nan, np.nan],
            [2.0, 2.0, 2.0],
            [5e-324, 0.0, 0.0],
        ]
    )
    for norm in ("l2", "l1", "max"):
        got = unitnorm(rows, norm=norm)
        want = np.array([_exact_unit(row, norm) for row in rows])
        assert_allclose(got, want, rtol=4e-16, atol=0, equal_nan=True)
    # scikit-learn's l2 norm overflows to inf (results 0) and underflows to 0 (results left as they are)
    assert (normalize(rows[:1]) == 0).all() and (normalize(rows[1:2]) == rows[1:2]).all()
    assert_allclose(unitnorm(rows.T, axis="column"), np.array([_exact_unit(r, "l2") for r in rows]).T, rtol=4e-16, equal_nan=True)


def test_norms_merge_across_chunks_and_scales_exactly():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(size=(500, 2)), rng.normal(size=(500, 2)) * 1e300])
    for norm, power in (("l2", 2), ("l1", 1), ("max", 0)):
        method = UnitNorm(norm)
        whole = method.finish(Norms.of(x, 0, power))
        parts = method.finish(Norms.of(x[:500], 0, power).merge(Norms.of(x[500:], 0, power), power))
        for name in ("count", "min", "max", "scale"):
            assert_array_equal(parts[name], whole[name])
        assert_allclose(parts["norm"] * parts["scale"], whole["norm"] * whole["scale"], rtol=1e-15)
        want = np.array([_exact_unit(col, norm) for col in x.T]).T
        assert_allclose(method.transform(x, parts), want, rtol=1e-14)


def test_all_zero_rows_stay_zero_and_are_reported(invoke_ok, write_file):
    write_file("z.csv", "a,b\n0,0\n3,4\n0,0\n")
    result = invoke_ok("unitnorm", "z.csv")
    assert result.stdout == "a,b\n0.0,0.0\n0.6,0.8\n0.0,0.0\n"
    assert "2 rows (first: row 1) over columns 'a', 'b': all zeros; results left as they are" in result.stderr


# --------------------------------------------------------------------------
# Missing and infinite values
# --------------------------------------------------------------------------


def test_nan_policies(invoke, invoke_ok, write_file):
    write_file("n.csv", "a,b\n3,4\n6,\n")
    assert invoke_ok("unitnorm", "n.csv").stdout == "a,b\n0.6,0.8\n1.0,\n"
    assert invoke_ok("unitnorm", "n.csv", "--nan", "propagate").stdout == "a,b\n0.6,0.8\n,\n"
    assert invoke_ok("maxabs", "n.csv").stdout == "a,b\n0.5,1.0\n1.0,\n"
    assert invoke_ok("maxabs", "n.csv", "--nan", "propagate").stdout == "a,b\n0.5,\n1.0,\n"
    expect_error(invoke("maxabs", "n.csv", "--nan", "raise"), "column 'b', row 2: missing value (--nan raise)")
    expect_error(invoke("unitnorm", "n.csv", "--nan", "raise"), "column 'b', row 2: missing value (--nan raise)")


def test_infinities_are_errors_or_missing(invoke, invoke_ok, write_file):
    write_file("i.csv", "a\n2\ninf\n-4\n")
    line = "column 'a', row 2: inf is not a finite number (use --inf missing to treat infinities as missing values)"
    for command in ("maxabs", "unitnorm"):
        expect_error(invoke(command, "i.csv"), line)
    assert invoke_ok("maxabs", "i.csv", "--inf", "missing").stdout == 'a\n0.5\n""\n-1.0\n'  # polars quotes an empty lone field
    with pytest.raises(ValueError, match="infinite value at index"):
        maxabs([[1.0], [np.inf]])


# --------------------------------------------------------------------------
# Groups, saved parameters, inverse
# --------------------------------------------------------------------------


def test_groups_match_a_pandas_groupby(invoke_ok, workdir):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 300), "x": rng.normal(size=300), "y": rng.normal(size=300) * 1e5})
    frame.loc[frame["g"] == "c", "y"] = 0.0
    frame.to_csv("in.csv", index=False)
    grouped = frame.groupby("g")[["x", "y"]]
    want_maxabs = grouped.transform(lambda s: s / (s.abs().max() or 1.0))
    want_norm = grouped.transform(lambda s: s / (np.sqrt((s**2).sum()) or 1.0))
    got = _out(invoke_ok("maxabs", "in.csv", "-g", "g"))
    assert_allclose(got[["x", "y"]].to_numpy(), want_maxabs.to_numpy(), rtol=1e-12, atol=0)
    got = _out(invoke_ok("unitnorm", "in.csv", "-c", "x,y", "--axis", "column", "-g", "g"))
    assert_allclose(got[["x", "y"]].to_numpy(), want_norm.to_numpy(), rtol=1e-12, atol=0)
    assert got["g"].tolist() == frame["g"].tolist()


def test_saved_parameters_apply_to_new_data_and_invert(invoke_ok, workdir):
    rng = np.random.default_rng(4)
    train = pd.DataFrame({"id": [f"{i:04d}" for i in range(50)], "x": rng.normal(size=50), "k": rng.integers(-9, 9, 50)})
    test = pd.DataFrame({"id": ["0100", "0101"], "x": [10.0, -0.5], "k": [20, 3]})
    train.to_csv("train.csv", index=False)
    test.to_csv("test.csv", index=False)
    invoke_ok("maxabs", "train.csv", "-c", "x,k", "--save-params", "m.json", "--fit-only")
    saved = json.loads(open("m.json").read())
    assert saved["command"] == "maxabs" and saved["integer_columns"] == ["k"]
    scaled = invoke_ok("maxabs", "test.csv", "--params", "m.json", "-o", "scaled.csv")
    assert scaled.stdout == ""
    got = pd.read_csv("scaled.csv")
    scaler = MaxAbsScaler().fit(train[["x", "k"]].to_numpy(dtype=float))
    assert_allclose(got[["x", "k"]].to_numpy(), scaler.transform(test[["x", "k"]].to_numpy(dtype=float)), rtol=1e-12)
    back = invoke_ok("maxabs", "scaled.csv", "--params", "m.json", "--inverse").stdout
    assert back == open("test.csv").read()  # integers come back as integers, ids untouched
    # unitnorm along columns keeps its norms: the same round trip
    invoke_ok("unitnorm", "train.csv", "-c", "x", "--axis", "column", "--norm", "l1", "--save-params", "n.json", "--fit-only")
    invoke_ok("unitnorm", "test.csv", "--params", "n.json", "-o", "n.csv")
    assert_allclose(pd.read_csv("n.csv")["x"], test["x"] / train["x"].abs().sum(), rtol=1e-12)
    back = _out(invoke_ok("unitnorm", "n.csv", "--params", "n.json", "--inverse"))
    assert_allclose(back["x"], test["x"], rtol=1e-15)


def test_what_cannot_work_is_a_usage_error(invoke, invoke_ok, write_file):
    write_file("t.csv", "x,y\n1,2\n3,4\n")
    _usage_error(
        invoke("unitnorm", "t.csv", "--inverse"),
        "unitnorm --axis row has no inverse: each row is fitted alone, and its statistics are not kept",
    )
    _usage_error(invoke("unitnorm", "t.csv", "--save-params", "p.json"), "--save-params needs --axis column or all")
    _usage_error(invoke("unitnorm", "t.csv", "-g", "x"), "--group-by needs --axis column or --axis all (unitnorm normalizes each row by default)")
    _usage_error(invoke("unitnorm", "t.csv", "--norm", "l3"), "Invalid value for '--norm': norm must be one of l2, l1, max, got 'l3'")
    invoke_ok("unitnorm", "t.csv", "--axis", "column", "--save-params", "p.json", "--fit-only")
    _usage_error(invoke("unitnorm", "t.csv", "--params", "p.json", "--norm", "max"), "--norm conflicts with p.json, which fixes it (l2)")
    _usage_error(invoke("maxabs", "t.csv", "--params", "p.json"), "p.json holds unitnorm parameters; run softnorm unitnorm --params p.json")
    with pytest.raises(ValueError, match="^norm must be one of l2, l1, max, got 'l0'$"):
        unitnorm([[1.0]], norm="l0")


# --------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------


def test_api_keeps_pandas_types_and_matches_sklearn():
    frame = _frame(load_wine)
    got = maxabs(frame)
    assert isinstance(got, pd.DataFrame) and list(got.columns) == list(frame.columns) and got.index.equals(frame.index)
    assert_allclose(got.to_numpy(), MaxAbsScaler().fit_transform(frame.to_numpy()), rtol=1e-12, atol=0)
    assert_allclose(unitnorm(frame.to_numpy(), norm="l1"), normalize(frame.to_numpy(), norm="l1"), rtol=1e-12, atol=0)
    assert_allclose(maxabs(frame.to_numpy(), axis="all"), frame.to_numpy() / np.abs(frame.to_numpy()).max(), rtol=1e-15)
    series = pd.Series([3.0, -4.0], name="s")
    assert unitnorm(series).tolist() == [0.6, -0.8] and unitnorm(series).name == "s"


# --------------------------------------------------------------------------
# Datasets of parts, here and on Dask
# --------------------------------------------------------------------------

DATASET_ARGS = [["maxabs", "-c", "x,y,z", "-g", "grp"], ["unitnorm", "-c", "x,z", "--axis", "column", "--nan", "propagate"]]


def test_a_dataset_of_parts_gives_the_single_files_numbers(invoke_ok, workdir):
    frame = parts_table()
    frame.write_csv("one.csv")
    write_parts("in", frame, "parquet")
    for args in [*DATASET_ARGS, ["unitnorm", "-c", "x,y,z", "--norm", "max"]]:
        invoke_ok(*args, "one.csv", "-o", "one_out.csv")
        invoke_ok(*args, "in", "-o", "out/", "--to", "csv")
        want = pl.read_csv("one_out.csv", schema_overrides={"id": pl.String, "grp": pl.String})
        assert_same_table(read_parts("out"), want)
        for name in os.listdir("out"):
            os.remove(os.path.join("out", name))


def test_dask_gives_the_local_engines_bytes(invoke_ok, workdir):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    write_parts("in", parts_table(), "csv")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50
    ) as cluster:
        for number, args in enumerate(DATASET_ARGS):
            invoke_ok(*args, "in", "-o", f"local{number}/")
            invoke_ok(*args, "in", "-o", f"dask{number}/", "--engine", "dask", "--scheduler", cluster.scheduler_address)
            names = sorted(os.listdir(f"local{number}"))
            assert names == sorted(os.listdir(f"dask{number}")) and names
            for name in names:
                assert open(f"dask{number}/{name}").read() == open(f"local{number}/{name}").read(), (args, name)

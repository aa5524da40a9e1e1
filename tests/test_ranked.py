"""robust and quantile: against scikit-learn's RobustScaler and QuantileTransformer(subsample=None)
on real data (penguins with missing values, wine, breast cancer, lognormal skew) and adversarial
data, through the command line and the Python API; the percentiles bit for bit against
np.nanpercentile at any batch size; groups against per-group fits; saved parameters and their
inverse; datasets of parts on both engines."""

from __future__ import annotations

import io
import json
import os
import warnings

import numpy as np
import pandas as pd
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from palmerpenguins import load_penguins
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.preprocessing import QuantileTransformer, RobustScaler, quantile_transform, robust_scale

from helpers import assert_same_table, expect_error, parts_table, read_parts, write_parts
from softnorm_cli import quantile, robust

TOLERANCE = {"rtol": 1e-12, "atol": 1e-12}


def _frame(loader) -> pd.DataFrame:
    data = loader()
    return pd.DataFrame(data.data, columns=[f"f{i}" for i in range(data.data.shape[1])])


def _penguins() -> pd.DataFrame:
    return load_penguins()[["species", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]]


def _skewed(rows: int = 5000) -> pd.DataFrame:
    """California-housing-like columns: lognormal incomes and populations, heavy ties in ages and rooms."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "income": rng.lognormal(1.2, 0.6, rows),
            "population": np.round(rng.lognormal(7, 1.1, rows)),
            "age": rng.integers(1, 53, rows).astype(float),
            "rooms": np.round(rng.lognormal(1.6, 0.3, rows), 1),
        }
    )


def _out(result) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(result.stdout))


NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


# --------------------------------------------------------------------------
# Real data against scikit-learn, through the command line
# --------------------------------------------------------------------------

ROBUST_CASES = [
    ([], {}),
    (["--quantile-range", "10,90"], {"quantile_range": (10, 90)}),
    (["--quantile-range", "5,95", "--unit-variance"], {"quantile_range": (5, 95), "unit_variance": True}),
    (["--no-center"], {"with_centering": False}),
    (["--no-scale"], {"with_scaling": False}),
]


@pytest.mark.parametrize("args, options", ROBUST_CASES, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
@pytest.mark.parametrize("data", ["penguins", "wine", "breast_cancer", "skewed"])
def test_robust_is_sklearns_robust_scaler(invoke_ok, workdir, data, args, options):
    frame = {"penguins": lambda: _penguins()[NUMERIC], "wine": lambda: _frame(load_wine),
             "breast_cancer": lambda: _frame(load_breast_cancer), "skewed": _skewed}[data]()
    frame.to_csv("in.csv", index=False)
    got = _out(invoke_ok("robust", "in.csv", *args)).to_numpy()
    want = RobustScaler(**options).fit_transform(frame.to_numpy())
    assert_array_equal(np.isnan(got), np.isnan(want))
    assert_allclose(got, want, **TOLERANCE)


QUANTILE_CASES = [
    ([], {}),
    (["--n-quantiles", "10"], {"n_quantiles": 10}),
    (["--output-distribution", "normal"], {"output_distribution": "normal"}),
    (["--n-quantiles", "100", "--output-distribution", "normal"], {"n_quantiles": 100, "output_distribution": "normal"}),
]


@pytest.mark.parametrize("args, options", QUANTILE_CASES, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
@pytest.mark.parametrize("data", ["penguins", "wine", "skewed"])
def test_quantile_is_sklearns_quantile_transformer(invoke_ok, workdir, data, args, options):
    frame = {"penguins": lambda: _penguins()[NUMERIC], "wine": lambda: _frame(load_wine), "skewed": _skewed}[data]()
    frame.to_csv("in.csv", index=False)
    got = _out(invoke_ok("quantile", "in.csv", *args)).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fewer rows than n_quantiles: scikit-learn uses the rows, as softnorm
        want = QuantileTransformer(subsample=None, **options).fit_transform(frame.to_numpy())
    assert_array_equal(np.isnan(got), np.isnan(want))
    assert_allclose(got, want, **TOLERANCE)


def test_parquet_written_by_pyarrow_gives_the_csv_results(invoke_ok, workdir):
    frame = _penguins()
    frame.to_csv("in.csv", index=False)
    frame.to_parquet("in.parquet", engine="pyarrow")
    for args in (["robust"], ["quantile", "--output-distribution", "normal"]):
        assert invoke_ok(*args, "in.parquet", "--to", "csv").stdout == invoke_ok(*args, "in.csv").stdout


def test_standard_input_is_read_again_for_the_percentiles(invoke_ok, workdir):
    _skewed(3000).to_csv("in.csv", index=False)
    text = open("in.csv").read()
    for args in (["robust"], ["quantile"], ["robust", "-g", "age"]):
        assert invoke_ok(*args, input=text).stdout == invoke_ok(*args, "in.csv").stdout


def test_the_row_axis_is_robust_scale_and_quantile_transform_along_rows(invoke_ok, workdir):
    frame = _frame(load_wine).iloc[:40, :8]
    frame.to_csv("in.csv", index=False)
    got = _out(invoke_ok("robust", "in.csv", "--axis", "row")).to_numpy()
    assert_allclose(got, robust_scale(frame.to_numpy(), axis=1), **TOLERANCE)
    values = frame.to_numpy()
    with pytest.warns(UserWarning):  # scikit-learn: fewer samples than n_quantiles
        want = quantile_transform(values, axis=1, n_quantiles=1000, subsample=None)
    assert_allclose(quantile(values, axis="row"), want, **TOLERANCE)


def test_many_short_rows_with_gaps_and_ties_at_once_as_sklearn_row_by_row():
    rng = np.random.default_rng(8)
    values = np.round(rng.normal(size=(3000, 6)), 1)  # ties within rows
    values[rng.random(values.shape) < 0.15] = np.nan
    values[7] = np.nan  # a row without values
    values[8] = 2.5  # a constant row
    for n_quantiles in (1000, 3):
        for distribution in ("uniform", "normal"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # scikit-learn on the row without values, and n_quantiles past the rows
                want = quantile_transform(values, axis=1, n_quantiles=n_quantiles, output_distribution=distribution, subsample=None)
            got = quantile(values, axis="row", n_quantiles=n_quantiles, output_distribution=distribution)
            assert_array_equal(np.isnan(got), np.isnan(want))
            assert_allclose(got, want, **TOLERANCE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn on the row without values
        want = robust_scale(values, axis=1)
    assert_allclose(robust(values, axis="row"), want, **TOLERANCE)


def test_the_whole_block_is_one_group(invoke_ok, workdir):
    frame = _skewed(2000)[["income", "rooms"]]
    frame.to_csv("in.csv", index=False)
    values = frame.to_numpy()
    got = _out(invoke_ok("robust", "in.csv", "--axis", "all")).to_numpy()
    want = RobustScaler().fit_transform(values.reshape(-1, 1)).reshape(values.shape)
    assert_allclose(got, want, **TOLERANCE)
    got = _out(invoke_ok("quantile", "in.csv", "--axis", "all")).to_numpy()
    want = QuantileTransformer(subsample=None).fit_transform(values.reshape(-1, 1)).reshape(values.shape)
    assert_allclose(got, want, **TOLERANCE)


# --------------------------------------------------------------------------
# Percentiles bit for bit, at any batch size
# --------------------------------------------------------------------------


@pytest.mark.parametrize("batch_rows", [1, 7, None])
def test_the_fitted_percentiles_are_nanpercentile_bit_for_bit(invoke_ok, workdir, batch_rows):
    rng = np.random.default_rng(11)
    rows = 3000
    frame = pd.DataFrame(
        {
            "ties": rng.integers(0, 4, rows).astype(float),  # a few values, many times each
            "rounded": np.round(rng.normal(size=rows), 1),
            "wide": rng.normal(size=rows) * 10.0 ** rng.integers(-300, 300, rows),
        }
    )
    frame.loc[::13, "rounded"] = np.nan
    frame.to_csv("in.csv", index=False)
    batch = [] if batch_rows is None else ["--batch-rows", str(batch_rows)]
    invoke_ok("robust", "in.csv", "--quantile-range", "10,90", "--save-params", "r.json", "--fit-only", *batch)
    invoke_ok("quantile", "in.csv", "--n-quantiles", "97", "--save-params", "q.json", "--fit-only", *batch)
    robust_figures = json.load(open("r.json"))["groups"][0]["statistics"]
    quantile_figures = json.load(open("q.json"))["groups"][0]["statistics"]
    for name in frame.columns:
        column = frame[name].to_numpy()
        median, lo, hi = np.nanpercentile(column, [50, 10, 90])
        assert robust_figures[name]["center"] == median
        assert robust_figures[name]["spread"] == hi - lo
        want = np.nanpercentile(column, np.linspace(0, 1, 97) * 100)
        assert quantile_figures[name]["quantiles"] == want.tolist()


def test_percentiles_over_batches_of_65537_rows_are_nanpercentile_bit_for_bit(invoke_ok, workdir):
    rng = np.random.default_rng(12)
    rows = 140_000
    frame = pd.DataFrame({"ties": rng.integers(0, 9, rows) * 0.1, "skew": rng.lognormal(size=rows)})
    frame.to_parquet("in.parquet")
    for batch in (["--batch-rows", "65537"], []):
        invoke_ok("quantile", "in.parquet", "--n-quantiles", "1000", "--save-params", "q.json", "--fit-only", *batch)
        figures = json.load(open("q.json"))["groups"][0]["statistics"]
        for name in frame.columns:
            assert figures[name]["quantiles"] == np.nanpercentile(frame[name], np.linspace(0, 1, 1000) * 100).tolist()


# --------------------------------------------------------------------------
# Adversarial data
# --------------------------------------------------------------------------

ADVERSARIAL = pd.DataFrame(
    {
        "const": [5.0] * 6,
        "ties": [1.0, 1.0, 1.0, 1.0, 2.0, 1.0],
        "noise": 1e9 + np.array([0.25, -0.5, 0.125, 1.0, -0.75, 0.0]),
        "single": [7.0, np.nan, np.nan, np.nan, np.nan, np.nan],
        "empty": [np.nan] * 6,
        "huge": [1e308, -1e308, 1.5e308, -1.7e308, 1e307, 0.0],
    }
)


def test_robust_on_adversarial_columns(invoke_ok, workdir):
    ADVERSARIAL.to_csv("a.csv", index=False)
    result = invoke_ok("robust", "a.csv", "-c", ",".join(ADVERSARIAL.columns))
    got = _out(result)
    assert got["const"].tolist() == [0.0] * 6  # zero range: only centred
    assert got["ties"].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert got["single"].iloc[0] == 0.0 and got["single"].iloc[1:].isna().all()
    assert got["empty"].isna().all()
    finite = ["const", "ties", "noise", "single"]
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = RobustScaler().fit_transform(ADVERSARIAL[finite + ["empty"]].to_numpy())
    assert_allclose(got[finite].to_numpy(), want[:, :4], **TOLERANCE)
    # numpy's median of ±1e308 overflows (the mean of the two middle values); the percentiles do not.
    huge = ADVERSARIAL["huge"].to_numpy()
    lo, median, hi = np.nanpercentile(huge, [25, 50, 75])
    assert np.isfinite([lo, median, hi]).all()
    assert_allclose(got["huge"], (huge - median) / (hi - lo), rtol=1e-15)
    assert "column 'const': zero range between percentiles 25 and 75; values only centred" in result.stderr
    assert "column 'empty': no values; results missing" in result.stderr
    centred = invoke_ok("robust", "a.csv", "-c", "const,ties", "--no-scale")
    assert _out(centred)["ties"].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert "zero range" not in centred.stderr  # nothing is divided, so nothing to warn about


def test_quantile_on_adversarial_columns(invoke_ok, workdir):
    finite = ["const", "ties", "noise", "single", "huge"]  # ±1e308: percentiles and ranks without overflow
    ADVERSARIAL[finite].to_csv("a.csv", index=False)
    for distribution in ("uniform", "normal"):
        got = _out(invoke_ok("quantile", "a.csv", "--output-distribution", distribution)).to_numpy()
        with pytest.warns(UserWarning):  # fewer samples than n_quantiles
            want = QuantileTransformer(subsample=None, output_distribution=distribution).fit_transform(ADVERSARIAL[finite].to_numpy())
        assert_allclose(got, want, **TOLERANCE)


# --------------------------------------------------------------------------
# Missing and infinite values, options
# --------------------------------------------------------------------------


def test_nan_policies(invoke, invoke_ok, write_file):
    write_file("n.csv", "a,b\n1,4\n2,\n3,6\n5,8\n")
    values = np.array([[1, 4], [2, np.nan], [3, 6], [5, 8]])
    for command, sklearn in (("robust", RobustScaler()), ("quantile", QuantileTransformer(subsample=None, n_quantiles=4))):
        got = _out(invoke_ok(command, "n.csv")).to_numpy()
        assert_allclose(got, sklearn.fit_transform(values), **TOLERANCE)  # missing values left out, and kept missing
        propagated = _out(invoke_ok(command, "n.csv", "--nan", "propagate"))
        assert propagated["b"].isna().all()
        assert_allclose(propagated["a"], got[:, 0], **TOLERANCE)
    for command in ("robust", "quantile"):
        expect_error(invoke(command, "n.csv", "--nan", "raise"), "column 'b', row 2: missing value (--nan raise)")


def test_infinities_are_errors_or_missing(invoke, invoke_ok, write_file):
    write_file("i.csv", "a\n2\ninf\n-4\n6\n")
    line = "column 'a', row 2: inf is not a finite number (use --inf missing to treat infinities as missing values)"
    for command in ("robust", "quantile"):
        expect_error(invoke(command, "i.csv"), line)
    assert invoke_ok("robust", "i.csv", "--inf", "missing").stdout == 'a\n0.0\n""\n-1.2\n0.8\n'
    with pytest.raises(ValueError, match="infinite value at index"):
        robust([[1.0], [np.inf]])


def test_options_are_checked_in_the_same_words_on_the_command_line_and_in_python(invoke, write_file):
    write_file("a.csv", "a\n1\n2\n")
    for args, line in (
        (["robust", "--quantile-range", "75,25"], "quantile_range must be two numbers LO,HI from 0 to 100 with LO < HI, got 75,25"),
        (["robust", "--quantile-range", "-5,50"], "quantile_range must be two numbers LO,HI from 0 to 100 with LO < HI, got -5,50"),
        (["quantile", "--n-quantiles", "0"], "n_quantiles must be a whole number >= 1, got 0"),
        (["quantile", "--output-distribution", "poisson"], "distribution must be one of uniform, normal, got 'poisson'"),
    ):
        result = invoke(*args, "a.csv")
        assert result.exit_code == 2 and line in result.stderr, result.stderr
    with pytest.raises(ValueError, match="quantile_range must be two numbers LO,HI from 0 to 100"):
        robust([[1.0]], quantile_range=(75, 25))
    with pytest.raises(ValueError, match="n_quantiles must be a whole number >= 1"):
        quantile([[1.0]], n_quantiles=0)


def test_the_python_api_keeps_pandas_objects_and_matches_sklearn():
    frame = _penguins()[NUMERIC]
    got = robust(frame)
    assert isinstance(got, pd.DataFrame) and list(got.columns) == NUMERIC and got.index.equals(frame.index)
    assert_allclose(got.to_numpy(), RobustScaler().fit_transform(frame.to_numpy()), **TOLERANCE)
    got = quantile(frame, output_distribution="normal", n_quantiles=50)
    want = QuantileTransformer(subsample=None, n_quantiles=50, output_distribution="normal").fit_transform(frame.to_numpy())
    assert_allclose(got.to_numpy(), want, **TOLERANCE)


# --------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["robust", "quantile"])
def test_groups_are_fitted_each_on_its_own_rows(invoke_ok, workdir, command):
    penguins = _penguins()
    penguins.to_csv("in.csv", index=False)
    got = _out(invoke_ok(command, "in.csv", "-c", ",".join(NUMERIC), "-g", "species"))
    for _, rows in penguins.groupby("species"):
        values = rows[NUMERIC].to_numpy()
        if command == "robust":
            want = RobustScaler().fit_transform(values)
        else:
            want = QuantileTransformer(subsample=None, n_quantiles=len(rows)).fit_transform(values)
        assert_allclose(got.loc[rows.index, NUMERIC].to_numpy(), want, **TOLERANCE)
    assert got["species"].tolist() == penguins["species"].tolist()


# --------------------------------------------------------------------------
# Saved parameters and the inverse
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["robust", "--quantile-range", "10,90", "--unit-variance"],
        ["robust", "-g", "species"],
        ["quantile", "--output-distribution", "normal"],
        ["quantile", "-g", "species", "--n-quantiles", "20"],
        ["quantile", "--axis", "all"],
    ],
    ids=" ".join,
)
def test_saved_parameters_apply_as_the_fit_did_and_the_inverse_gives_the_values_back(invoke_ok, workdir, args):
    penguins = _penguins()
    penguins.to_csv("in.csv", index=False)
    columns = ["-c", ",".join(NUMERIC)]
    direct = invoke_ok(*args, *columns, "in.csv").stdout
    invoke_ok(*args, *columns, "in.csv", "--save-params", "p.json", "--fit-only")
    applied = invoke_ok(args[0], "in.csv", "--params", "p.json", "-o", "out.csv")
    assert open("out.csv").read() == direct
    back = _out(invoke_ok(args[0], "out.csv", "--params", "p.json", "--inverse"))
    assert_allclose(back[NUMERIC].to_numpy(), penguins[NUMERIC].to_numpy(), rtol=1e-9, atol=1e-9)
    assert applied.exit_code == 0


def test_quantile_saves_its_table_and_older_figures_are_refused_in_one_line(invoke, invoke_ok, write_file):
    write_file("a.csv", "a\n1\n2\n4\n")
    invoke_ok("quantile", "a.csv", "--n-quantiles", "3", "--save-params", "q.json", "--fit-only")
    record = json.load(open("q.json"))
    assert record["groups"][0]["statistics"]["a"]["quantiles"] == [1.0, 2.0, 4.0]
    record["groups"][0]["statistics"]["a"]["quantiles"] = [1.0, "x"]
    json.dump(record, open("bad.json", "w"))
    result = invoke("quantile", "a.csv", "--params", "bad.json")
    assert result.exit_code == 1 and result.stderr.startswith("softnorm: error: bad.json: not a softnorm parameters record")
    assert len(result.stderr.splitlines()) == 1


# --------------------------------------------------------------------------
# Datasets of parts, on both engines
# --------------------------------------------------------------------------

DATASET_ARGS = [
    ["robust", "-c", "x,y,z"],
    ["robust", "-c", "x,y,z", "-g", "grp", "--quantile-range", "5,95"],
    ["quantile", "-c", "x,y,z", "--n-quantiles", "50"],
    ["quantile", "-c", "x,z", "--axis", "all", "-g", "grp", "--output-distribution", "normal"],
]


def test_a_dataset_of_parts_gives_the_single_files_numbers(invoke_ok, workdir):
    frame = parts_table()
    frame.write_csv("one.csv")
    write_parts("in", frame, "parquet", parts=5)
    for args in DATASET_ARGS:
        invoke_ok(*args, "one.csv", "-o", "one_out.csv")
        invoke_ok(*args, "in", "-o", "out/", "--to", "csv")
        want = pl.read_csv("one_out.csv", schema_overrides={"id": pl.String, "grp": pl.String})
        assert_same_table(read_parts("out"), want)
        invoke_ok(*args, "in", "-o", "joined.csv")
        assert open("joined.csv").read() == open("one_out.csv").read(), args
        for name in os.listdir("out"):
            os.remove(os.path.join("out", name))


def test_dask_gives_the_local_engines_bytes(invoke_ok, workdir):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    write_parts("in", parts_table(), "csv", parts=5)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50
    ) as cluster:
        for number, args in enumerate(DATASET_ARGS):
            invoke_ok(*args, "in", "-o", f"local{number}.csv")
            invoke_ok(*args, "in", "-o", f"dask{number}.csv", "--engine", "dask", "--scheduler", cluster.scheduler_address)
            assert open(f"dask{number}.csv").read() == open(f"local{number}.csv").read(), args


# --------------------------------------------------------------------------
# What a fit keeps of a text table for the percentiles' further reads
# --------------------------------------------------------------------------


def test_kept_values_come_back_as_they_went_in_from_memory_or_the_temporary_file():
    from softnorm_cli.engine.memory import KeptValues

    rng = np.random.default_rng(4)
    blocks = [(np.asfortranarray(rng.normal(size=(n, 3))), rng.integers(0, 5, n)) for n in (10, 1, 300)]
    for memory in (1 << 20, 100):  # held, or spilled after the first block
        with KeptValues(memory=memory) as kept:
            for values, codes in blocks:
                kept.add(values, codes)
            assert kept.complete
            for _ in range(2):  # each pass reads them all again
                back = list(kept.blocks())
                assert len(back) == len(blocks)
                for (values, codes), (got, got_codes) in zip(blocks, back):
                    assert_array_equal(got, values)
                    assert_array_equal(got_codes, codes)
            for (values, _), (got, _) in zip(blocks, kept.blocks([2])):  # one column read back
                assert_array_equal(got[:, 2], values[:, 2])
    with KeptValues(memory=100, spill=5000) as kept:
        for values, codes in blocks:
            kept.add(values, codes)
        assert not kept.complete  # past the bound: the source is read again


@pytest.mark.parametrize("bounds", [{"VALUES_BYTES": 1 << 10}, {"VALUES_BYTES": 1 << 10, "SPILL_BYTES": 1 << 14}])
def test_kept_spilled_or_read_again_the_results_are_the_same(invoke_ok, workdir, monkeypatch, bounds):
    from softnorm_cli.engine import memory

    frame = _skewed(4000)
    frame["key"] = frame["age"] % 3
    frame.to_csv("in.csv", index=False)
    args = [
        ["robust", "-c", "income,rooms"],
        ["quantile", "-c", "income,population", "-g", "key"],
        ["stats", "-c", "income,rooms", "--quantiles", "1,50,99.9", "--json"],
    ]
    want = [invoke_ok(*a, "in.csv", "--batch-rows", "500").stdout for a in args]
    for name, value in bounds.items():
        monkeypatch.setattr(memory, name, value)
    assert [invoke_ok(*a, "in.csv", "--batch-rows", "500").stdout for a in args] == want

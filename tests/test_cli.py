"""The command line, in-process with Click's CliRunner: every command, option and error."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
import warnings

import numpy as np
import polars as pl
import pytest
import scipy.special
import scipy.stats
from numpy.testing import assert_allclose
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from softnorm_cli import __version__

FIGURE_KEYS = ["count", "missing", "min", "max", "mean", "std", "sum"]
SUMMARY_KEYS = [
    "command", "axis", "input", "output", "rows", "elapsed", "columns", "skipped", "groups", "parameters", "engine", "row_sums",
    "row_max_bins", "warnings",
]


def strict_json(text: str):
    """Parse JSON, failing on NaN/Infinity (which strict JSON does not have)."""

    def reject(constant):
        raise AssertionError(f"non-strict JSON constant {constant!r}")

    return json.loads(text, parse_constant=reject)


def csv_records(text: str, delimiter: str = ","):
    """All records of a CSV text, fields as exact strings (the csv module, independent of polars)."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def logits(sample_data):
    df = pl.read_csv(sample_data / "logits.csv")
    return df, df.select("cat", "dog", "bird").to_numpy().astype(np.float64)


def features(sample_data):
    df = pl.read_csv(sample_data / "features.csv", infer_schema=False)
    cols = ["age", "income", "visits", "score"]
    x = np.column_stack([[np.nan if v is None else float(v) for v in df[c]] for c in cols])
    return df, cols, x


# ==========================================================================
# softmax
# ==========================================================================


def test_softmax_sample_rows_match_scipy(invoke_ok, parse, to_block, sample_data):
    df, x = logits(sample_data)
    result = invoke_ok("softmax", sample_data / "logits.csv", "--cols", "cat,dog,bird")
    out = parse(result.stdout)
    assert out.columns == ["id", "cat", "dog", "bird"]
    assert out["id"].to_list() == df["id"].to_list()
    got = to_block(out, ["cat", "dog", "bird"])
    assert_allclose(got, scipy.special.softmax(x, axis=1), rtol=1e-13, atol=1e-16)
    assert_allclose(got.sum(axis=1), 1.0, rtol=1e-14)
    assert result.stderr == ""


def test_softmax_default_columns_are_the_numeric_ones(invoke_ok, sample_data):
    with_cols = invoke_ok("softmax", sample_data / "logits.csv", "-c", "cat,dog,bird")
    without = invoke_ok("softmax", sample_data / "logits.csv")
    assert without.stdout == with_cols.stdout


@pytest.mark.parametrize(
    "spelling, numpy_axis",
    [
        ("row", 1), ("rows", 1), ("1", 1),
        ("column", 0), ("columns", 0), ("0", 0),
        ("all", None), ("none", None),
    ],
)
def test_softmax_axis_spellings_match_scipy(invoke_ok, parse, to_block, sample_data, spelling, numpy_axis):
    _, x = logits(sample_data)
    result = invoke_ok("softmax", sample_data / "logits.csv", "--axis", spelling)
    got = to_block(parse(result.stdout), ["cat", "dog", "bird"])
    assert_allclose(got, scipy.special.softmax(x, axis=numpy_axis), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("flag", ["--temperature", "-t"])
@pytest.mark.parametrize("temperature", [0.5, 2.0, 10.0])
def test_softmax_temperature(invoke_ok, parse, to_block, sample_data, flag, temperature):
    _, x = logits(sample_data)
    result = invoke_ok("softmax", sample_data / "logits.csv", flag, temperature)
    got = to_block(parse(result.stdout), ["cat", "dog", "bird"])
    assert_allclose(got, scipy.special.softmax(x / temperature, axis=1), rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("axis, numpy_axis", [("row", 1), ("column", 0), ("all", None)])
def test_softmax_log_matches_scipy_log_softmax(invoke_ok, parse, to_block, sample_data, axis, numpy_axis):
    _, x = logits(sample_data)
    result = invoke_ok("softmax", sample_data / "logits.csv", "--log", "--axis", axis, "-t", "0.7")
    got = to_block(parse(result.stdout), ["cat", "dog", "bird"])
    assert_allclose(got, scipy.special.log_softmax(x / 0.7, axis=numpy_axis), rtol=1e-12, atol=1e-14)


def test_softmax_extreme_logits_and_small_temperature(invoke_ok, write_file, parse):
    write_file("ex.csv", "a,b\n0,-1000\n1e308,-1e308\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = invoke_ok("softmax", "ex.csv")
        log = invoke_ok("softmax", "ex.csv", "--log")
        sharp = invoke_ok("softmax", "ex.csv", "-t", "0.001")
    assert parse(plain.stdout).rows() == [("1.0", "0.0"), ("1.0", "0.0")]
    # log-softmax is computed directly: -1000 stays finite (log(softmax) would be -inf).
    assert parse(log.stdout).rows()[0] == ("0.0", "-1000.0")
    assert parse(sharp.stdout).rows() == [("1.0", "0.0"), ("1.0", "0.0")]
    # Overflow is handled, so no numpy RuntimeWarning may leak out (it would
    # reach the user's stderr as a multi-line Python warning).
    leaked = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert leaked == []
    assert plain.stderr == log.stderr == sharp.stderr == ""


def test_softmax_infinities(invoke_ok, write_file, parse, to_block):
    write_file("inf.csv", "a,b,c\ninf,inf,1\n-inf,0,2\n")
    got = to_block(parse(invoke_ok("softmax", "inf.csv").stdout), ["a", "b", "c"])
    assert_allclose(got, [[0.5, 0.5, 0.0], [0.0, *scipy.special.softmax([0.0, 2.0])]], rtol=1e-15)
    got = to_block(parse(invoke_ok("softmax", "inf.csv", "--log").stdout), ["a", "b", "c"])
    assert_allclose(got[0], [math.log(0.5), math.log(0.5), -np.inf])
    assert got[1, 0] == -np.inf
    assert_allclose(got[1, 1:], scipy.special.log_softmax([0.0, 2.0]), rtol=1e-14)


def test_softmax_all_neg_inf_row_is_missing_with_warning(invoke, write_file):
    write_file("ni.csv", "a,b\n-inf,-inf\n1,2\n")
    result = invoke("softmax", "ni.csv")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[:2] == ["a,b", ","]
    assert result.stderr == "softnorm: warning: row 1 over columns 'a', 'b': only -inf values; results missing\n"


def test_softmax_per_row_over_one_column_warns_once_as_zscore_does(invoke, write_file, parse, to_floats):
    write_file("one.csv", "a,b\n1,x\n3,y\n5,z\n")
    result = invoke("softmax", "one.csv", "-c", "a")
    assert result.exit_code == 0
    assert to_floats(parse(result.stdout)["a"]).tolist() == [1.0, 1.0, 1.0]
    assert result.stderr == "softnorm: warning: 3 rows (first: row 1) over columns 'a': one value; results set to 1\n"
    log = invoke("softmax", "one.csv", "-c", "a", "--log")
    assert to_floats(parse(log.stdout)["a"]).tolist() == [0.0, 0.0, 0.0]
    assert log.stderr == "softnorm: warning: 3 rows (first: row 1) over columns 'a': one value; results set to 0\n"
    zscore = invoke("zscore", "one.csv", "-c", "a", "--axis", "row")
    assert zscore.stderr.count("softnorm: warning: 3 rows (first: row 1) over columns 'a'") == 1


def test_softmax_warns_only_for_the_rows_left_with_one_value(invoke, write_file, parse, to_floats):
    write_file("gap.csv", "a,b\n1,2\n,4\n5,6\n")
    result = invoke("softmax", "gap.csv")
    assert result.exit_code == 0
    assert to_floats(parse(result.stdout)["b"])[1] == 1.0
    assert result.stderr == "softnorm: warning: row 2 over columns 'a', 'b': one value; results set to 1\n"


# ==========================================================================
# minmax
# ==========================================================================


def test_minmax_sample_matches_sklearn(invoke_ok, parse, to_block, sample_data):
    df, cols, x = features(sample_data)
    result = invoke_ok("minmax", sample_data / "features.csv")
    out = parse(result.stdout)
    assert out.columns == df.columns
    for name in ("customer_id", "region", "note"):
        assert out[name].to_list() == df[name].to_list()
    got = to_block(out, cols)
    assert_allclose(got, MinMaxScaler().fit_transform(x), rtol=1e-13, atol=1e-15)
    assert np.array_equal(np.isnan(got), np.isnan(x))


@pytest.mark.parametrize("spec, lo_hi", [("-1,1", (-1, 1)), ("0,100", (0, 100)), ("-5.5,2.25", (-5.5, 2.25))])
def test_minmax_range(invoke_ok, parse, to_block, sample_data, spec, lo_hi):
    _, cols, x = features(sample_data)
    result = invoke_ok("minmax", sample_data / "features.csv", "-c", ",".join(cols), f"--range={spec}")
    got = to_block(parse(result.stdout), cols)
    assert_allclose(got, MinMaxScaler(feature_range=lo_hi).fit_transform(x), rtol=1e-12, atol=1e-12)
    assert np.nanmin(got) == lo_hi[0] and np.nanmax(got) == lo_hi[1]


@pytest.mark.parametrize("axis", ["row", "all"])
def test_minmax_row_and_all_axes(invoke_ok, write_file, parse, to_block, axis):
    write_file("m.csv", "a,b,c\n1,2,5\n10,0,4\n")
    x = np.array([[1, 2, 5], [10, 0, 4]], dtype=float)
    got = to_block(parse(invoke_ok("minmax", "m.csv", "--axis", axis).stdout), ["a", "b", "c"])
    if axis == "row":
        mn, mx = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
    else:
        mn, mx = x.min(), x.max()
    assert_allclose(got, (x - mn) / (mx - mn), rtol=1e-15)


def test_minmax_constant_column_maps_to_lo_with_warning(invoke, write_file, parse):
    write_file("c.csv", "a,b\n4,1\n4,2\n4,3\n")
    result = invoke("minmax", "c.csv", "--range", "-1,1")
    assert result.exit_code == 0
    out = parse(result.stdout)
    assert out["a"].to_list() == ["-1.0", "-1.0", "-1.0"]
    assert out["b"].to_list() == ["-1.0", "0.0", "1.0"]
    assert result.stderr == "softnorm: warning: column 'a': constant; results set to -1\n"


# ==========================================================================
# zscore
# ==========================================================================


def test_zscore_sample_matches_sklearn_and_scipy(invoke_ok, parse, to_block, sample_data):
    _, cols, x = features(sample_data)
    got = to_block(parse(invoke_ok("zscore", sample_data / "features.csv").stdout), cols)
    assert_allclose(got, StandardScaler().fit_transform(x), rtol=1e-12, atol=1e-14)
    assert_allclose(got, scipy.stats.zscore(x, nan_policy="omit"), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_zscore_ddof_matches_scipy(invoke_ok, parse, to_block, sample_data, ddof):
    _, cols, x = features(sample_data)
    got = to_block(parse(invoke_ok("zscore", sample_data / "features.csv", "--ddof", ddof).stdout), cols)
    assert_allclose(got, scipy.stats.zscore(x, ddof=ddof, nan_policy="omit"), rtol=1e-12, atol=1e-14)


def test_zscore_row_and_all_axes(invoke_ok, sample_data, parse, to_block):
    _, x = logits(sample_data)
    cols = ["cat", "dog", "bird"]
    got = to_block(parse(invoke_ok("zscore", sample_data / "logits.csv", "--axis", "all").stdout), cols)
    assert_allclose(got, scipy.stats.zscore(x, axis=None), rtol=1e-12, atol=1e-14)
    got = to_block(parse(invoke_ok("zscore", sample_data / "logits.csv", "--axis", "row", "-q").stdout), cols)
    varying = np.ptp(x, axis=1) > 0  # img_007 is all zeros: a constant row maps to 0
    assert_allclose(got[varying], scipy.stats.zscore(x[varying], axis=1), rtol=1e-12, atol=1e-14)
    assert got[~varying].tolist() == [[0.0, 0.0, 0.0]]


def test_zscore_constant_and_too_few_values(invoke, write_file, parse):
    write_file("z.csv", "a,b\n-0.087,1\n-0.087,\n-0.087,\n")
    result = invoke("zscore", "z.csv", "--ddof", "1")
    assert result.exit_code == 0
    out = parse(result.stdout)
    assert out["a"].to_list() == ["0.0", "0.0", "0.0"]  # constant decided exactly, not from std ~1e-17
    assert out["b"].to_list() == [None, None, None]  # one value, ddof 1: no std
    assert result.stderr == (
        "softnorm: warning: column 'a': constant (zero std); results set to 0\n"
        "softnorm: warning: column 'b': no more values than ddof=1; results missing\n"
    )


def test_zscore_large_offset_keeps_precision(invoke_ok, write_file, parse):
    rng = np.random.default_rng(3)
    x = 1e9 + rng.normal(size=200) * 1e-3
    write_file("big.csv", "a\n" + "\n".join(repr(float(v)) for v in x) + "\n")
    got = np.array([float(v) for v in parse(invoke_ok("zscore", "big.csv").stdout)["a"]])
    # Reference in extended precision. The noise is ~8000 ulps of 1e9, so any
    # float64 result is off by up to ulp(1e9) / std ~ 1e-4 from rounding x - mean
    # alone; scipy.stats.zscore is off by 1.5e-4 here, softnorm by 3.4e-5.
    xl = x.astype(np.longdouble)
    reference = ((xl - xl.mean()) / xl.std()).astype(np.float64)
    assert_allclose(got, reference, rtol=0, atol=6e-5)
    # the naive E[x^2] - E[x]^2 would give garbage (or NaN) here
    assert abs(got.mean()) < 1e-3 and abs(got.std() - 1) < 1e-6


# ==========================================================================
# stats
# ==========================================================================


def test_stats_json_exact_structure(invoke_ok, write_file):
    write_file("s.csv", "id,a,b,t\n007,1,,x\n008,3,2,y\n009,6,inf,z\n")
    result = invoke_ok("stats", "s.csv", "--json")
    data = strict_json(result.stdout)
    assert list(data) == ["rows", "columns", "skipped"]
    assert data["rows"] == 3
    assert list(data["columns"]) == ["a", "b"]
    assert data["skipped"] == {"id": "identifiers with leading zeros ('007')", "t": "not numbers ('x', row 1)"}
    a = data["columns"]["a"]
    assert list(a) == FIGURE_KEYS
    assert a["count"] == 3 and a["missing"] == 0
    assert isinstance(a["count"], int) and isinstance(a["missing"], int)
    assert a["min"] == 1.0 and a["max"] == 6.0 and a["sum"] == 10.0
    assert_allclose(a["mean"], 10 / 3, rtol=1e-15)
    assert_allclose(a["std"], np.std([1, 3, 6]), rtol=1e-14)
    b = data["columns"]["b"]
    assert b["count"] == 2 and b["missing"] == 1 and b["min"] == 2.0
    # infinities are null in strict JSON
    assert b["max"] is None and b["mean"] is None and b["sum"] is None
    assert result.stderr == ""


def test_stats_table(invoke_ok, ab_csv):
    result = invoke_ok("stats", "ab.csv")
    out = result.stdout
    assert "softnorm stats" in out
    assert "3 rows" in out
    for word in ["column", *FIGURE_KEYS, "a", "b"]:
        assert word in out
    # The id column is not a numeric column: it is listed as left out, with the reason.
    figures, left_out = out.split("left out")
    assert "id" not in figures.split()
    assert "id  identifiers with leading zeros ('007')" in left_out
    assert result.stderr == ""


def test_stats_columns_and_input_options(invoke_ok):
    result = invoke_ok("stats", "--from", "tsv", "--no-header", "-c", "2", "--json", input="1\t10\n2\t30\n")
    data = strict_json(result.stdout)
    assert data["rows"] == 2
    assert list(data["columns"]) == ["2"]
    assert data["columns"]["2"]["sum"] == 40.0
    result = invoke_ok("stats", "--delimiter", ";", "--json", input="x;y\n1;2\n3;4\n")
    assert list(strict_json(result.stdout)["columns"]) == ["x", "y"]


def test_stats_header_only(invoke_ok, write_file):
    write_file("h.csv", "a,b\n")
    assert strict_json(invoke_ok("stats", "h.csv", "--json").stdout) == {
        "rows": 0, "columns": {}, "skipped": {"a": "no values", "b": "no values"}
    }


def test_stats_without_a_numeric_column_lists_what_it_left_out(invoke_ok, write_file):
    write_file("t.csv", "name,zip\nann,01234\nbob,02345\n")
    data = strict_json(invoke_ok("stats", "t.csv", "--json").stdout)
    assert data == {
        "rows": 2, "columns": {}, "skipped": {"name": "not numbers ('ann', row 1)", "zip": "identifiers with leading zeros ('01234')"}
    }
    result = invoke_ok("stats", "t.csv")
    assert "2 rows" in result.stdout
    assert "name  not numbers ('ann', row 1)" in result.stdout.split("left out (2):")[1]
    assert result.stderr == ""


def test_stats_per_group(invoke_ok, write_file):
    rng = np.random.default_rng(7)
    keys = rng.choice(["b", "a", ""], 300).tolist()
    x = rng.normal(size=300)
    write_file("g.csv", "k,x,y\n" + "".join(f"{k},{float(v)!r},{i % 37}\n" for i, (k, v) in enumerate(zip(keys, x))))
    data = strict_json(invoke_ok("stats", "g.csv", "-g", "k", "--json").stdout)
    groups = data["groups"]
    assert (groups["by"], groups["count"]) == (["k"], 3)
    order = list(dict.fromkeys(keys))  # order of first appearance; an empty key is a group of its own
    assert [g["key"] for g in groups["figures"]] == [[k or None] for k in order]
    for group, key in zip(groups["figures"], order):
        mine = x[np.array(keys) == key]
        assert group["rows"] == mine.size and list(group["columns"]) == ["x", "y"]
        figures = group["columns"]["x"]
        assert (figures["count"], figures["min"], figures["max"]) == (mine.size, mine.min(), mine.max())
        assert_allclose([figures["mean"], figures["std"], figures["sum"]], [mine.mean(), mine.std(), mine.sum()], rtol=1e-12)
    assert data["columns"]["x"]["count"] == 300 and "k" not in data["columns"]
    table = invoke_ok("stats", "g.csv", "-g", "k").stdout
    for key in order:
        assert (f"k='{key}'" if key else "k=missing") + f" · {keys.count(key)} rows" in table
    assert table.count("column  count") == 4  # the whole table, then one per group


def test_stats_errors(invoke, write_file):
    result = invoke("stats", "nope.csv", "--json")
    assert result.exit_code == 1
    assert result.stderr == "softnorm: error: nope.csv: no such file\n"
    assert result.stdout == ""


# ==========================================================================
# column selection
# ==========================================================================


@pytest.mark.parametrize(
    "selection",
    [
        ["-c", "f_1,f_2"],
        ["-c", "f_1", "-c", "f_2"],
        ["--cols", "f_1", "--cols", "f_2"],
        ["-c", "f_*"],
        ["-c", "f_?"],
        ["-c", "f_1,f_2,f_1"],
        ["-c", "f_2", "-c", "f_*", "-c", "f_1"],
        ["-c", " f_1 , f_2 "],
    ],
)
def test_column_selection_forms(invoke_ok, write_file, parse, to_block, selection):
    write_file("f.csv", "id,f_1,f_2,g\nx,1,2,5\ny,3,1,6\n")
    out = parse(invoke_ok("softmax", "f.csv", *selection).stdout)
    assert out.columns == ["id", "f_1", "f_2", "g"]
    assert out["g"].to_list() == ["5", "6"]  # not selected: untouched
    assert_allclose(
        to_block(out, ["f_1", "f_2"]),
        scipy.special.softmax(np.array([[1.0, 2.0], [3.0, 1.0]]), axis=1),  # each column once
        rtol=1e-15,
    )


def test_default_selection_numeric_columns_only(invoke, write_file, parse):
    write_file(
        "d.csv",
        "id,name,n,x,zip,gaps,zero,neg_id\n"
        "007,ann,1,0.5,01234,,0,-01\n"
        "010,bob,2,1.5,02345,3,0.5,-02\n"
        "011,cy,4,-2.0,12345,,10,-03\n",
    )
    result = invoke("minmax", "d.csv")
    assert result.exit_code == 0
    out = parse(result.stdout)
    assert out.columns == ["id", "name", "n", "x", "zip", "gaps", "zero", "neg_id"]
    # Text and zero-padded integer (identifier) columns are passed through.
    assert out["id"].to_list() == ["007", "010", "011"]
    assert out["name"].to_list() == ["ann", "bob", "cy"]
    assert out["zip"].to_list() == ["01234", "02345", "12345"]
    assert out["neg_id"].to_list() == ["-01", "-02", "-03"]
    # Integer columns are accepted and written as floats.
    assert out["n"].to_list() == ["0.0", "0.3333333333333333", "1.0"]
    assert out["x"].to_list() == ["0.7142857142857143", "1.0", "0.0"]
    assert out["zero"].to_list() == ["0.0", "0.05", "1.0"]
    assert out["gaps"].to_list() == [None, "0.0", None]
    assert result.stderr == "softnorm: warning: column 'gaps': constant; results set to 0\n"


def test_integer_column_written_as_float(invoke_ok, write_file, parse):
    write_file("i.csv", "a\n3\n5\n")
    assert parse(invoke_ok("softmax", "i.csv").stdout)["a"].to_list() == ["1.0", "1.0"]
    assert parse(invoke_ok("zscore", "i.csv").stdout)["a"].to_list() == ["-1.0", "1.0"]


def test_explicit_selection_of_zero_padded_column(invoke_ok, write_file, parse):
    write_file("z.csv", "id,v\n007,1\n010,2\n")
    out = parse(invoke_ok("minmax", "z.csv", "-c", "id").stdout)
    assert out["id"].to_list() == ["0.0", "1.0"]
    assert out["v"].to_list() == ["1", "2"]


# ==========================================================================
# --suffix
# ==========================================================================


def test_suffix_keeps_originals_and_appends_in_selection_order(invoke_ok, ab_csv, parse, to_floats):
    original = csv_records(ab_csv.read_text(encoding="utf-8"))
    result = invoke_ok("zscore", "ab.csv", "-c", "b,a", "--suffix", "_z")
    records = csv_records(result.stdout)
    assert records[0] == ["id", "a", "b", "b_z", "a_z"]
    assert [r[:3] for r in records] == original  # the originals exactly, "1" not "1.0"
    out = parse(result.stdout)
    assert_allclose(to_floats(out["a_z"]), scipy.stats.zscore([1.0, 3.0, 6.0]), rtol=1e-14)
    assert_allclose(to_floats(out["b_z"]), scipy.stats.zscore([2.0, 5.0, 4.0]), rtol=1e-14)


def test_suffix_default_selection_order_is_table_order(invoke_ok, ab_csv):
    records = csv_records(invoke_ok("minmax", "ab.csv", "--suffix", ".mm").stdout)
    assert records[0] == ["id", "a", "b", "a.mm", "b.mm"]


# ==========================================================================
# missing values
# ==========================================================================


NAN_CSV = "a,b\n1,2\n,4\n5,6\n"


def test_nan_omit_is_default(invoke_ok, write_file, parse):
    write_file("n.csv", NAN_CSV)
    default = invoke_ok("minmax", "n.csv")
    omit = invoke_ok("minmax", "n.csv", "--nan", "omit")
    assert default.stdout == omit.stdout
    out = parse(omit.stdout)
    assert out["a"].to_list() == ["0.0", None, "1.0"]
    assert out["b"].to_list() == ["0.0", "0.5", "1.0"]
    out = parse(invoke_ok("softmax", "n.csv").stdout)
    assert out.row(1) == (None, "1.0")


def test_nan_propagate(invoke_ok, write_file, parse):
    write_file("n.csv", NAN_CSV)
    out = parse(invoke_ok("minmax", "n.csv", "--nan", "propagate").stdout)
    assert out["a"].to_list() == [None, None, None]  # the whole column group
    assert out["b"].to_list() == ["0.0", "0.5", "1.0"]
    out = parse(invoke_ok("softmax", "n.csv", "--nan", "propagate").stdout)
    assert out.row(1) == (None, None)  # the whole row group
    assert out.row(0) == ("0.2689414213699951", "0.7310585786300049")
    out = parse(invoke_ok("zscore", "n.csv", "--nan", "propagate", "--axis", "all").stdout)
    assert out.null_count().row(0) == (3, 3)


def test_nan_raise_names_column_and_row(invoke, write_file):
    write_file("n.csv", NAN_CSV)
    result = invoke("minmax", "n.csv", "--nan", "raise")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "softnorm: error: column 'a', row 2: missing value (--nan raise)\n"


def test_nan_text_counts_as_missing(invoke, write_file, parse):
    write_file("t.csv", "a\n1\nNaN\n3\n")
    # One output column: the missing value is written as "", so that readers keep its row.
    assert invoke("minmax", "t.csv").stdout == 'a\n0.0\n""\n1.0\n'
    result = invoke("minmax", "t.csv", "--nan", "raise")
    assert result.exit_code == 1
    assert result.stderr == "softnorm: error: column 'a', row 2: missing value (--nan raise)\n"


def test_invalid_nan_policy_is_usage_error(invoke):
    result = invoke("minmax", "nope.csv", "--nan", "ignore")
    assert result.exit_code == 2
    assert "Invalid value for '--nan'" in result.stderr


# ==========================================================================
# --decimals and number formatting
# ==========================================================================


def test_decimals_round_half_to_even(invoke_ok, write_file, parse):
    write_file("r.csv", "a\n0\n1\n3\n5\n16\n")  # minmax onto 0..8: 0, 0.5, 1.5, 2.5, 8 exactly
    out = parse(invoke_ok("minmax", "r.csv", "--range", "0,8", "--decimals", "0").stdout)
    assert out["a"].to_list() == ["0.0", "0.0", "2.0", "2.0", "8.0"]
    write_file("q.csv", "a\n0\n1\n3\n8\n")  # 0, 0.125, 0.375, 1 exactly
    out = parse(invoke_ok("minmax", "q.csv", "--decimals", "2").stdout)
    assert out["a"].to_list() == ["0.0", "0.12", "0.38", "1.0"]


def test_decimals_negative_is_usage_error(invoke):
    result = invoke("minmax", "nope.csv", "--decimals", "-1")
    assert result.exit_code == 2


def test_results_in_shortest_round_trip_form(invoke_ok, write_file, parse):
    write_file("r.csv", "a\n0\n1\n3\n")
    out = parse(invoke_ok("minmax", "r.csv").stdout)
    assert out["a"].to_list() == ["0.0", repr(1 / 3), "1.0"]


# ==========================================================================
# summary, warnings
# ==========================================================================


def test_no_summary_by_default_when_stderr_is_not_a_terminal(invoke_ok, ab_csv):
    result = invoke_ok("minmax", "ab.csv")
    assert result.stderr == ""


def test_summary_on_stderr_only(invoke_ok, ab_csv):
    plain = invoke_ok("minmax", "ab.csv")
    result = invoke_ok("minmax", "ab.csv", "--summary")
    assert result.stdout == plain.stdout
    err = result.stderr
    assert "softnorm minmax (axis: column)" in err
    assert "3 rows" in err
    for word in ["before", "after", *FIGURE_KEYS]:
        assert word in err
    assert "row sums" not in err


def test_summary_row_axis_shows_row_sums(invoke_ok, ab_csv):
    err = invoke_ok("softmax", "ab.csv", "--summary").stderr
    assert "softnorm softmax (axis: row)" in err
    assert "row sums: min 1, max 1" in err


@pytest.mark.parametrize("flags", [["--no-summary"], ["-q"], ["--quiet"], ["--summary", "-q"]])
def test_summary_suppressed(invoke_ok, ab_csv, flags):
    assert invoke_ok("minmax", "ab.csv", *flags).stderr == ""


def test_summary_honours_no_color(invoke_ok, write_file):
    write_file("c.csv", "a,b\n1,1\n1,2\n")
    colored = invoke_ok("minmax", "c.csv", "--summary", env={"FORCE_COLOR": "1", "NO_COLOR": None, "TERM": "xterm"})
    plain = invoke_ok("minmax", "c.csv", "--summary", env={"FORCE_COLOR": "1", "NO_COLOR": "1", "TERM": "xterm"})
    color_code = re.compile(r"\x1b\[[0-9;]*(3[0-7]|38;|9[0-7])[0-9;]*m")
    assert color_code.search(colored.stderr)  # the check below can see colour
    assert not color_code.search(plain.stderr)


def test_warnings_shown_without_summary_and_silenced_by_quiet(invoke, write_file):
    write_file("c.csv", "a,b\n1,1\n1,2\n")
    shown = invoke("zscore", "c.csv")
    assert shown.exit_code == 0
    assert shown.stderr == "softnorm: warning: column 'a': constant (zero std); results set to 0\n"
    with_summary = invoke("zscore", "c.csv", "--summary")
    assert "softnorm: warning: column 'a': constant (zero std); results set to 0\n" in with_summary.stderr
    quiet = invoke("zscore", "c.csv", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert quiet.stdout == shown.stdout


def test_warning_and_error_lines_never_wrap(invoke, write_file):
    name = "a_really_long_column_name_" + "x" * 150
    write_file("w.csv", f"{name},b\n1,1\n1,2\n")
    result = invoke("minmax", "w.csv", "-c", f"{name},b")
    assert result.stderr == f"softnorm: warning: column {name!r}: constant; results set to 0\n"
    result = invoke("minmax", "w.csv", "-c", name + "y")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("softnorm: error: column ")


def test_summary_json_exact_structure(invoke_ok, write_file, workdir):
    write_file("j.csv", "id,a,b\n007,1,5\n008,1,\n009,1,7\n010,1,inf\n")
    result = invoke_ok("zscore", "j.csv", "-c", "a", "--ddof", "1", "--axis", "0", "--summary-json", "s.json")
    assert result.stderr == "softnorm: warning: column 'a': constant (zero std); results set to 0\n"
    data = strict_json((workdir / "s.json").read_text(encoding="utf-8"))
    assert list(data) == SUMMARY_KEYS
    assert data["command"] == "zscore"
    assert data["axis"] == "column"
    assert data["rows"] == 4
    assert list(data["columns"]) == ["a"]
    assert list(data["columns"]["a"]) == ["before", "after", "bins"]
    constant = [4] + [0] * 63  # a constant column counts in its first bin
    assert data["columns"]["a"]["bins"] == {
        "before": {"low": 1.0, "high": 1.0, "counts": constant}, "after": {"low": 0.0, "high": 0.0, "counts": constant},
    }
    assert data["columns"]["a"]["before"] == {
        "count": 4, "missing": 0, "min": 1.0, "max": 1.0, "mean": 1.0, "std": 0.0, "sum": 4.0,
    }
    assert data["columns"]["a"]["after"] == {
        "count": 4, "missing": 0, "min": 0.0, "max": 0.0, "mean": 0.0, "std": 0.0, "sum": 0.0,
    }
    assert data["row_sums"] is None and data["row_max_bins"] is None
    assert data["warnings"] == ["column 'a': constant (zero std); results set to 0"]


def test_summary_json_std_is_population_and_keys_are_source_names(invoke_ok, write_file, workdir):
    write_file("j.csv", "a,b\n1,5\n2,\n4,7\n")
    invoke_ok("zscore", "j.csv", "--ddof", "1", "--suffix", "_z", "--summary-json", "s.json")
    data = strict_json((workdir / "s.json").read_text(encoding="utf-8"))
    assert list(data["columns"]) == ["a", "b"]
    b = data["columns"]["b"]
    assert b["before"]["count"] == 2 and b["before"]["missing"] == 1
    assert b["before"]["std"] == 1.0  # population std of [5, 7], not the ddof=1 std
    assert_allclose(data["columns"]["a"]["before"]["std"], np.std([1.0, 2.0, 4.0]), rtol=1e-14)
    # after a ddof=1 z-score the population std is sqrt((n-1)/n)
    assert_allclose(data["columns"]["a"]["after"]["std"], math.sqrt(2 / 3), rtol=1e-12)
    assert b["after"]["count"] == 2 and b["after"]["missing"] == 1


@pytest.mark.parametrize(
    "command, axis, canonical",
    [("softmax", None, "row"), ("softmax", "rows", "row"), ("minmax", "1", "row"),
     ("minmax", None, "column"), ("zscore", "columns", "column"), ("softmax", "none", "all"),
     ("minmax", "all", "all")],
)
def test_summary_json_axis_and_row_sums(invoke_ok, ab_csv, workdir, command, axis, canonical):
    args = [command, "ab.csv", "--summary-json", "s.json"] + (["--axis", axis] if axis else [])
    invoke_ok(*args)
    data = strict_json((workdir / "s.json").read_text(encoding="utf-8"))
    assert data["axis"] == canonical
    assert data["command"] == command
    if canonical == "row":
        assert list(data["row_sums"]) == ["min", "max"]
        if command == "softmax":
            assert_allclose([data["row_sums"]["min"], data["row_sums"]["max"]], [1.0, 1.0], rtol=1e-14)
    else:
        assert data["row_sums"] is None


def test_summary_json_infinities_are_null_and_warnings_name_the_group(invoke_ok, write_file, workdir):
    write_file("ni.csv", "a,b\n-inf,-inf\n1,2\n")
    invoke_ok("softmax", "ni.csv", "-q", "--summary-json", "s.json")
    text = (workdir / "s.json").read_text(encoding="utf-8")
    assert "Infinity" not in text and "NaN" not in text
    data = strict_json(text)
    assert data["columns"]["a"]["before"]["min"] is None
    assert data["columns"]["a"]["before"]["max"] == 1.0
    assert data["columns"]["a"]["after"]["count"] == 1
    assert data["columns"]["a"]["after"]["missing"] == 1
    # -q silences the warning lines, not the JSON record
    assert data["warnings"] == ["row 1 over columns 'a', 'b': only -inf values; results missing"]


def test_summary_json_warning_names_column(invoke_ok, write_file, workdir):
    write_file("c.csv", "a,bee\n1,3\n2,3\n")
    invoke_ok("minmax", "c.csv", "--summary-json", "s.json", "-q")
    data = strict_json((workdir / "s.json").read_text(encoding="utf-8"))
    assert len(data["warnings"]) == 1 and "'bee'" in data["warnings"][0]


def test_header_only_input_writes_header_back(invoke, write_file, workdir):
    write_file("h.csv", "a,b,name\n")
    for args in (["h.csv"], ["h.csv", "-c", "a,b"]):
        result = invoke("softmax", *args, "--summary", "--summary-json", "s.json")
        assert result.exit_code == 0, result.stderr
        assert result.stdout == "a,b,name\n"
        assert "0 rows" in result.stderr
        assert strict_json((workdir / "s.json").read_text(encoding="utf-8"))["rows"] == 0


# ==========================================================================
# formats and I/O options
# ==========================================================================


def test_tsv_in_and_out(invoke_ok, write_file):
    write_file("t.tsv", "id\ta\tb\n007\t1\t3\n008\t2\t5\n")
    result = invoke_ok("minmax", "t.tsv")
    assert result.stdout == "id\ta\tb\n007\t0.0\t0.0\n008\t1.0\t1.0\n"
    assert invoke_ok("minmax", "t.tsv", "--to", "csv").stdout == "id,a,b\n007,0.0,0.0\n008,1.0,1.0\n"
    assert invoke_ok("minmax", "--from", "tsv", input="a\tb\n1\t3\n2\t5\n").stdout == "a\tb\n0.0\t0.0\n1.0\t1.0\n"


def test_from_overrides_extension(invoke_ok, write_file):
    write_file("data.txt", "a;b\n1;3\n2;5\n")
    assert invoke_ok("minmax", "data.txt", "--delimiter", ";").stdout == "a;b\n0.0;0.0\n1.0;1.0\n"
    write_file("tab.csv", "a\tb\n1\t3\n2\t5\n")
    assert invoke_ok("minmax", "tab.csv", "--from", "tsv", "--to", "csv").stdout == "a,b\n0.0,0.0\n1.0,1.0\n"


@pytest.mark.parametrize("spelling", ["\\t", "tab", "\t"])
def test_delimiter_tab_spellings(invoke_ok, write_file, spelling):
    write_file("t.txt", "a\tb\n1\t3\n2\t5\n")
    assert invoke_ok("minmax", "t.txt", "--delimiter", spelling).stdout == "a\tb\n0.0\t0.0\n1.0\t1.0\n"


def test_delimiter_applies_to_reading_and_writing(invoke_ok, write_file, workdir):
    write_file("s.csv", 'id;a;note\n007;1;"x;y"\n008;3;z\n')
    result = invoke_ok("minmax", "s.csv", "--delimiter", ";")
    assert csv_records(result.stdout, ";") == [["id", "a", "note"], ["007", "0.0", "x;y"], ["008", "1.0", "z"]]
    invoke_ok("minmax", "s.csv", "--delimiter", ";", "-o", "out.tsv")
    assert (workdir / "out.tsv").read_text() == 'id;a;note\n007;0.0;"x;y"\n008;1.0;z\n'


def test_delimiter_must_be_one_character(invoke):
    result = invoke("minmax", "nope.csv", "--delimiter", ";;")
    assert result.exit_code == 2


def test_no_header(invoke, write_file, to_floats):
    write_file("n.csv", "007,1,2\n008,3,6\n")
    result = invoke("minmax", "n.csv", "--no-header")
    assert result.exit_code == 0
    assert result.stdout == "007,0.0,0.0\n008,1.0,1.0\n"  # no header written either
    result = invoke("softmax", "n.csv", "--no-header", "-c", "2,3")
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and lines[0].startswith("007,")
    assert_allclose(to_floats(lines[0].split(",")[1:]), scipy.special.softmax([1.0, 2.0]), rtol=1e-15)
    result = invoke("minmax", "n.csv", "--no-header", "-c", "x")
    assert result.exit_code == 1
    assert "column 'x' not found" in result.stderr and "1, 2, 3" in result.stderr


def test_parquet_in_and_out(invoke_ok, sample_data, workdir):
    _, cols, x = features(sample_data)
    result = invoke_ok("minmax", sample_data / "features.parquet", "-o", "out.parquet")
    assert result.stdout == ""
    src = pl.read_parquet(sample_data / "features.parquet")
    out = pl.read_parquet(workdir / "out.parquet")
    assert out.columns == src.columns
    for name in ("customer_id", "region", "note"):
        assert out[name].to_list() == src[name].to_list()
        assert out.schema[name] == src.schema[name]
    for name in cols:
        assert out.schema[name] == pl.Float64
    got = out.select(cols).to_numpy().astype(float)
    assert_allclose(got, MinMaxScaler().fit_transform(x), rtol=1e-13, atol=1e-15)
    # Missing results are nulls in Parquet.
    assert out.select(cols).null_count().row(0) == src.select(cols).null_count().row(0)


def test_parquet_to_stdout_and_csv_to_parquet(invoke_ok, ab_csv):
    result = invoke_ok("minmax", "ab.csv", "--to", "parquet")
    assert result.stdout_bytes[:4] == b"PAR1"
    out = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    assert out.columns == ["id", "a", "b"]
    assert out["id"].to_list() == ["007", "008", "009"]
    assert_allclose(out["a"].to_numpy(), [0.0, 0.4, 1.0], rtol=1e-15)


def test_parquet_on_stdin_recognised_by_magic(invoke_ok, sample_data):
    data = (sample_data / "features.parquet").read_bytes()
    result = invoke_ok("zscore", "-c", "age", input=data)
    assert result.stdout_bytes[:4] == b"PAR1"  # output in the input's format
    out = pl.read_parquet(io.BytesIO(result.stdout_bytes))
    ages = pl.read_parquet(sample_data / "features.parquet")["age"].to_numpy().astype(float)
    assert_allclose(out["age"].to_numpy(), scipy.stats.zscore(ages), rtol=1e-13)
    as_csv = invoke_ok("zscore", "-", "-c", "age", "--to", "csv", input=data)
    assert as_csv.stdout.startswith("customer_id,region,age,income,visits,score,note\n00017,north,")
    explicit = invoke_ok("zscore", "--from", "parquet", "-c", "age", "--to", "csv", input=data)
    assert explicit.stdout == as_csv.stdout


def test_parquet_from_option_on_unknown_extension(invoke_ok, write_file, sample_data):
    write_file("data.bin", (sample_data / "features.parquet").read_bytes())
    result = invoke_ok("minmax", "data.bin", "--from", "parquet", "-c", "age", "--to", "csv")
    assert result.stdout.splitlines()[0] == "customer_id,region,age,income,visits,score,note"


def test_gzip_csv_input(invoke_ok, write_file):
    write_file("g.csv.gz", gzip.compress(b"id,a\n007,1\n008,3\n"))
    assert invoke_ok("minmax", "g.csv.gz").stdout == "id,a\n007,0.0\n008,1.0\n"


@pytest.mark.parametrize(
    "target, to, check",
    [
        ("out.csv", None, lambda p: p.read_text() == "id,a,b\n007,0.0,0.0\n008,0.4,1.0\n009,1.0,0.6666666666666666\n"),
        ("out.tsv", None, lambda p: p.read_text().startswith("id\ta\tb\n007\t0.0")),
        ("out.dat", "csv", lambda p: p.read_text().startswith("id,a,b\n")),
        ("out.csv", "tsv", lambda p: p.read_text().startswith("id\ta\tb\n")),
        ("out.parquet", None, lambda p: pl.read_parquet(p)["id"].to_list() == ["007", "008", "009"]),
        ("sub/out.pq", None, lambda p: pl.read_parquet(p).columns == ["id", "a", "b"]),
    ],
)
def test_output_file_and_format(invoke_ok, ab_csv, workdir, target, to, check):
    (workdir / "sub").mkdir()
    args = ["minmax", "ab.csv", "-o", target] + (["--to", to] if to else [])
    result = invoke_ok(*args)
    assert result.stdout == ""
    assert check(workdir / target)
    assert ab_csv.read_text() == "id,a,b\n007,1,2\n008,3,5\n009,6,4\n"  # input untouched
    assert not [p.name for p in workdir.rglob("*") if p.name.endswith(".tmp")]


def test_in_place_replaces_input(invoke_ok, ab_csv, workdir):
    result = invoke_ok("minmax", "ab.csv", "--in-place")
    assert result.stdout == ""
    assert ab_csv.read_text() == "id,a,b\n007,0.0,0.0\n008,0.4,1.0\n009,1.0,0.6666666666666666\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["ab.csv"]


def test_in_place_parquet(invoke_ok, write_file, sample_data):
    path = write_file("f.parquet", (sample_data / "features.parquet").read_bytes())
    invoke_ok("minmax", "f.parquet", "-c", "age", "--in-place")
    out = pl.read_parquet(path)
    assert out["age"].min() == 0.0 and out["age"].max() == 1.0
    assert out["customer_id"].to_list()[0] == "00017"


def test_output_permissions(invoke_ok, ab_csv, workdir):
    umask = os.umask(0)
    os.umask(umask)
    invoke_ok("minmax", "ab.csv", "-o", "new.csv")
    assert (workdir / "new.csv").stat().st_mode & 0o777 == 0o666 & ~umask
    ab_csv.chmod(0o640)
    invoke_ok("minmax", "ab.csv", "--in-place")
    assert ab_csv.stat().st_mode & 0o777 == 0o640  # a replaced file keeps its mode


def test_output_dash_is_stdout(invoke_ok, ab_csv):
    assert invoke_ok("minmax", "ab.csv", "-o", "-").stdout == invoke_ok("minmax", "ab.csv").stdout


@pytest.mark.parametrize("output", ["ab.csv", "./ab.csv", "sub/../ab.csv"])
def test_output_same_as_input_is_refused(invoke, ab_csv, workdir, output):
    (workdir / "sub").mkdir()
    before = ab_csv.read_bytes()
    result = invoke("minmax", "ab.csv", "-o", output)
    assert result.exit_code == 2
    assert "--in-place" in result.stderr
    assert result.stdout == ""
    assert ab_csv.read_bytes() == before


def test_in_place_with_stdin_or_output_is_usage_error(invoke, ab_csv):
    result = invoke("minmax", "--in-place", input="a\n1\n2\n")
    assert result.exit_code == 2
    assert "--in-place" in result.stderr
    result = invoke("minmax", "-", "--in-place", input="a\n1\n2\n")
    assert result.exit_code == 2
    result = invoke("minmax", "ab.csv", "--in-place", "-o", "other.csv")
    assert result.exit_code == 2
    assert "--in-place" in result.stderr
    assert ab_csv.read_text() == "id,a,b\n007,1,2\n008,3,5\n009,6,4\n"


def test_unknown_output_extension_is_usage_error_before_reading(invoke, workdir):
    result = invoke("minmax", "does-not-exist.csv", "-o", "out.xyz")
    assert result.exit_code == 2  # not 1 (missing input): checked first
    assert "out.xyz" in result.stderr and "--to" in result.stderr
    assert not (workdir / "out.xyz").exists()


@pytest.mark.parametrize(
    "args, where",
    [
        (["softmax", "--temperature", "0"], "--temperature"),
        (["softmax", "-t", "-1"], "--temperature"),
        (["softmax", "-t", "abc"], "--temperature"),
        (["minmax", "--range", "2,1"], "--range"),
        (["minmax", "--range", "1,1"], "--range"),
        (["minmax", "--range", "garbage"], "--range"),
        (["minmax", "--range", "1,2,3"], "--range"),
        (["zscore", "--ddof", "-1"], "--ddof"),
        (["zscore", "--ddof", "x"], "--ddof"),
        (["zscore", "--axis", "diagonal"], "--axis"),
        (["softmax", "--axis", "2"], "--axis"),
        (["minmax", "--from", "xml"], "--from"),
        (["minmax", "--to", "xml"], "--to"),
        (["stats", "--from", "xls"], "--from"),
    ],
)
def test_invalid_option_values_are_usage_errors(invoke, args, where):
    result = invoke(args[0], "does-not-exist.csv", *args[1:])
    assert result.exit_code == 2
    assert "Usage: softnorm " + args[0] in result.stderr
    assert "Invalid value for" in result.stderr and where in result.stderr
    assert "no such file" not in result.stderr


def test_format_names_are_case_insensitive(invoke_ok, ab_csv):
    assert invoke_ok("minmax", "ab.csv", "--to", "TSV").stdout.startswith("id\ta\tb\n")


# ==========================================================================
# errors: one line, exit 1
# ==========================================================================


def _error(result, line):
    assert result.exit_code == 1
    assert result.stderr == f"softnorm: error: {line}\n"
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["softmax", "minmax", "zscore"])
def test_error_missing_file(invoke, command):
    _error(invoke(command, "nope.csv"), "nope.csv: no such file")


def test_error_directory(invoke, workdir):
    """A directory is a dataset of parts (see test_dataset.py), whatever the output."""
    (workdir / "adir").mkdir()
    for output in (["-o", "out/"], ["-o", "out.csv"], []):
        _error(invoke("minmax", "adir", *output), "adir: no files of a format softnorm reads in it (CSV, TSV, Parquet, Arrow, JSON Lines, Excel)")
    _error(invoke("stats", "adir"), "adir: no files of a format softnorm reads in it (CSV, TSV, Parquet, Arrow, JSON Lines, Excel)")


def test_error_empty_input(invoke, write_file):
    write_file("empty.csv", b"")
    _error(invoke("minmax", "empty.csv"), "empty.csv: input is empty")
    _error(invoke("minmax", input=b""), "standard input: input is empty")


def test_error_malformed_csv_with_line_number(invoke, write_file):
    write_file("m.csv", "a,b\n1,2\n3,4,5\n")
    _error(invoke("minmax", "m.csv"), "m.csv, line 3: 3 fields, expected 2")
    # a quoted newline earlier makes the bad record start on line 4 of the file
    write_file("m2.csv", 'a,b,t\n1,2,"x\ny"\n3,4,z,extra\n')
    _error(invoke("minmax", "m2.csv"), "m2.csv, line 4: 4 fields, expected 3")


def test_error_unterminated_quote(invoke, write_file):
    write_file("q.csv", 'a,b\n1,2\n"3,4\n')
    result = invoke("minmax", "q.csv")
    assert result.exit_code == 1
    assert result.stderr.startswith("softnorm: error: q.csv, line 3: ")
    assert result.stderr.count("\n") == 1


def test_error_not_a_number(invoke, write_file):
    write_file("bad.csv", "a,b\n1,2\n3,abc\n")
    _error(invoke("minmax", "bad.csv", "-c", "a,b"), "column 'b', row 2: 'abc' is not a number")
    # rows count data rows: a quoted newline in row 1 does not shift the count
    write_file("bad2.csv", 'a,t\n1,"x\ny"\n2,z\n1O,w\n')
    _error(invoke("zscore", "bad2.csv", "-c", "a"), "column 'a', row 3: '1O' is not a number")


def test_error_not_a_number_from_stdin_and_parquet_strings(invoke, sample_data):
    _error(
        invoke("softmax", "-c", "x", input="x,y\n1,a\n,b\n2,c\n?,d\n"),
        "column 'x', row 4: '?' is not a number (if it marks missing values, name it with --na-values)",
    )
    data = (sample_data / "features.parquet").read_bytes()
    _error(invoke("minmax", "-c", "region", input=data), "column 'region', row 1: 'north' is not a number")


def test_error_unknown_column_did_you_mean(invoke, write_file):
    write_file("ab.csv", "alpha,beta\n1,2\n")
    _error(
        invoke("minmax", "ab.csv", "-c", "alpa"),
        "column 'alpa' not found; did you mean 'alpha'? (columns are: alpha, beta)",
    )
    result = invoke("minmax", "ab.csv", "-c", "beta,zzzz")
    assert result.exit_code == 1
    assert result.stderr.startswith("softnorm: error: column 'zzzz' not found")


def test_error_glob_matches_nothing(invoke, write_file):
    write_file("ab.csv", "alpha,beta\n1,2\n")
    _error(invoke("minmax", "ab.csv", "-c", "x*"), "no column matches 'x*' (columns are: alpha, beta)")


def test_error_column_lists_quote_names_with_outer_spaces(invoke, write_file):
    # Spaces around a name (a header written "a, b") are shown, or ' b' reads as b.
    write_file("sp.csv", "a, b,,c;d,\"e,f\"\n1,2,3,4,5\n")
    _error(
        invoke("minmax", "sp.csv", "-c", "b"),
        "column 'b' not found; did you mean ' b'? (columns are: a, ' b', '', 'c;d', 'e,f')",
    )
    _error(invoke("minmax", "sp.csv", "-c", "x*"), "no column matches 'x*' (columns are: a, ' b', '', 'c;d', 'e,f')")
    write_file("text.csv", "name, city\nann,Oslo\n")
    _error(
        invoke("minmax", "text.csv"),
        "text.csv: no numeric column to normalize; name columns with -c "
        "(left out: name: not numbers ('ann', row 1); ' city': not numbers ('Oslo', row 1))",
    )


def test_error_no_numeric_column(invoke, write_file):
    write_file("t.csv", "name,id\nann,007\n")
    _error(
        invoke("softmax", "t.csv"),
        "t.csv: no numeric column to normalize; name columns with -c "
        "(left out: name: not numbers ('ann', row 1); id: identifiers with leading zeros ('007'))",
    )
    _error(
        invoke("softmax", input="name\nann\n"),
        "standard input: no numeric column to normalize; name columns with -c (left out: name: not numbers ('ann', row 1))",
    )


def test_error_is_a_one_liner_and_debug_shows_traceback(invoke, write_file):
    write_file("bad.csv", "a,b\n1,2\n3,abc\n")
    result = invoke("minmax", "bad.csv", "-c", "a,b", env={"SOFTNORM_DEBUG": "1"})
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert result.stderr.endswith("softnorm: error: column 'b', row 2: 'abc' is not a number\n")
    result = invoke("minmax", "bad.csv", "-c", "a,b", env={"SOFTNORM_DEBUG": None})
    assert result.stderr == "softnorm: error: column 'b', row 2: 'abc' is not a number\n"


def test_error_not_utf8(invoke, write_file):
    write_file("latin.csv", b"a,b\n\xff\xfe,1\n2,3\n")
    _error(
        invoke("minmax", "latin.csv", "-c", "b"),
        "latin.csv, line 2: not UTF-8 text (byte 0xff); name the encoding with --encoding, e.g. --encoding cp1252 for a Windows export, or latin-1",
    )


def test_error_not_a_parquet_file(invoke, write_file):
    write_file("fake.parquet", "a,b\n1,2\n")
    result = invoke("minmax", "fake.parquet")
    assert result.exit_code == 1
    assert result.stderr.startswith("softnorm: error: fake.parquet: not a readable Parquet file")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_error_unreadable_file(invoke, write_file):
    path = write_file("secret.csv", "a\n1\n")
    path.chmod(0)
    try:
        _error(invoke("minmax", "secret.csv"), "secret.csv: permission denied")
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("target", ["out.csv", "out.parquet"])
def test_failed_run_leaves_existing_output_untouched(invoke, write_file, workdir, target):
    write_file("bad.csv", "a,b\n1,2\n3,abc\n")
    old = write_file(target, b"old contents\n")
    result = invoke("minmax", "bad.csv", "-c", "a,b", "-o", target)
    assert result.exit_code == 1
    assert old.read_bytes() == b"old contents\n"
    assert sorted(p.name for p in workdir.iterdir()) == sorted(["bad.csv", target])


def test_failed_run_creates_no_output(invoke, write_file, workdir):
    write_file("bad.csv", "a\nabc\n")
    result = invoke("minmax", "bad.csv", "-c", "a", "-o", "new.csv")
    assert result.exit_code == 1
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.csv"]


def test_failed_in_place_leaves_input_untouched(invoke, write_file, workdir):
    path = write_file("bad.csv", "a,b\n1,2\n3,abc\n")
    result = invoke("minmax", "bad.csv", "-c", "a,b", "--in-place")
    assert result.exit_code == 1
    assert path.read_text() == "a,b\n1,2\n3,abc\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["bad.csv"]


# ==========================================================================
# --version, --help
# ==========================================================================


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(invoke_ok, flag):
    assert invoke_ok(flag).stdout == f"softnorm, version {__version__}\n"


@pytest.mark.parametrize("command", ["softmax", "minmax", "zscore", "stats"])
def test_help_of_every_command_has_an_example(invoke_ok, command):
    out = invoke_ok(command, "--help").stdout
    assert "Example" in out
    assert f"softnorm {command} " in out.split("Example", 1)[1]
    assert out.startswith(f"Usage: softnorm {command} [OPTIONS] [INPUT]")


def test_main_help(invoke_ok):
    out = invoke_ok("--help").stdout
    for command in ("softmax", "minmax", "zscore", "stats"):
        assert command in out
    assert "softnorm softmax sample_data/logits.csv" in out


@pytest.mark.parametrize("command", ["softmax", "minmax", "zscore"])
def test_help_lists_every_option(invoke_ok, command):
    out = invoke_ok(command, "-h").stdout
    for option in ("--cols", "--output", "--from", "--to", "--delimiter", "--no-header", "--suffix", "--nan",
                   "--decimals", "--summary / --no-summary", "--quiet", "--summary-json", "--in-place", "--axis"):
        assert option in out, option


# ==========================================================================
# exact pass-through
# ==========================================================================

SELECTED = ["a", "b", "c"]


@pytest.mark.parametrize("command", ["softmax", "minmax", "zscore"])
def test_unselected_columns_pass_through_exactly(invoke_ok, passthrough_csv, command):
    source = passthrough_csv.read_text(encoding="utf-8")
    result = invoke_ok(command, "pass.csv", "-c", "a,b,c")
    before, after = csv_records(source), csv_records(result.stdout)
    assert after[0] == before[0]  # header and column order
    assert len(after) == len(before)  # row count (and order, via id below)
    keep = [i for i, name in enumerate(before[0]) if name not in SELECTED]
    for old, new in zip(before[1:], after[1:]):
        assert [new[i] for i in keep] == [old[i] for i in keep]
    assert passthrough_csv.read_text(encoding="utf-8") == source  # input never modified


@pytest.mark.parametrize("command", ["softmax", "minmax", "zscore"])
def test_pass_through_seen_by_polars(invoke_ok, passthrough_csv, parse, command):
    src = parse(passthrough_csv.read_text(encoding="utf-8"))
    out = parse(invoke_ok(command, "pass.csv", "-c", "a,b,c").stdout)
    assert out.columns == src.columns
    unselected = [c for c in src.columns if c not in SELECTED]
    assert out.select(unselected).equals(src.select(unselected))
    assert out["big"].to_list() == ["9007199254740993", "18446744073709551617", "-9007199254740993", "  1e3  "]
    assert out["text"].to_list()[2] == "line1\nline2"
    assert out["text"].to_list()[1] == 'say "hi"'


def test_pass_through_with_suffix_keeps_selected_originals(invoke_ok, passthrough_csv):
    before = csv_records(passthrough_csv.read_text(encoding="utf-8"))
    after = csv_records(invoke_ok("minmax", "pass.csv", "-c", "c,a,b", "--suffix", "_s").stdout)
    assert after[0] == before[0] + ["c_s", "a_s", "b_s"]
    for old, new in zip(before, after):
        assert new[: len(old)] == old


def test_pass_through_with_default_selection(invoke_ok, passthrough_csv):
    before = csv_records(passthrough_csv.read_text(encoding="utf-8"))
    after = csv_records(invoke_ok("minmax", "pass.csv").stdout)
    assert after[0] == before[0]
    # id (zero-padded), empty (no values), text and uni (text) are not numeric
    for name in ("id", "empty", "text", "uni"):
        i = before[0].index(name)
        assert [r[i] for r in after] == [r[i] for r in before]
    # the selected columns changed and are floats
    i = before[0].index("a")
    assert [r[i] for r in after[1:]] == ["0.3333333333333333", "0.6666666666666666", "1.0", "0.0"]


def test_pass_through_of_stdin(invoke_ok, passthrough_csv):
    source = passthrough_csv.read_text(encoding="utf-8")
    from_file = invoke_ok("zscore", "pass.csv", "-c", "a,b,c").stdout
    from_stdin = invoke_ok("zscore", "-c", "a,b,c", input=source.encode("utf-8")).stdout
    assert from_stdin == from_file


def test_pass_through_whitespace_and_quoted_empty(invoke_ok, write_file):
    source = 'id,t,a\r\n007,"  padded  ",1\r\n0,"",2\r\n1.50, ,3\r\n1e3,"tab\there",4\r\n'
    write_file("ws.csv", source)
    after = csv_records(invoke_ok("minmax", "ws.csv", "-c", "a").stdout)
    before = csv_records(source)
    assert [r[:2] for r in after] == [r[:2] for r in before]


def test_duplicate_header_names_are_not_renamed(invoke, write_file):
    """The header is written back unchanged (or the input refused), never silently renamed."""
    write_file("dup.csv", "a,a,b\n1,2,3\n4,5,6\n")
    result = invoke("minmax", "dup.csv", "-c", "b")
    if result.exit_code == 0:
        assert result.stdout.splitlines()[0] == "a,a,b"
    else:
        assert result.exit_code == 1
        assert result.stderr.startswith("softnorm: error: ") and result.stderr.count("\n") == 1

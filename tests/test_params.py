"""Saved parameters: --save-params, --params (fit on one file, apply to another), --inverse,
--clip, --fit-only, and the errors around them."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from helpers import expect_error

RUNS = {
    "zscore": ["zscore", "--ddof", "1"],
    "minmax": ["minmax", "--range", "-1,2"],
    "softmax": ["softmax", "--axis", "column", "-t", "0.5"],
    "log-softmax": ["softmax", "--axis", "all", "--log"],
}


def _frame(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": [f"{i:04d}" for i in range(rows)],
            "shop": rng.choice(["a", "b", "c"], rows),
            "price": rng.normal(size=rows) * 20 + 100 + shift,
            "qty": rng.normal(size=rows) + 1e6,
        }
    )
    frame.loc[rng.choice(rows, 5, replace=False), "price"] = np.nan
    return frame


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format="%.17g", na_rep="")


def _read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype={"id": str, "shop": str}, keep_default_na=False)


def _values(text: str, columns=("price", "qty")) -> np.ndarray:
    frame = _read(text)
    return np.column_stack([pd.to_numeric(frame[c].replace("", np.nan)).to_numpy(dtype=float) for c in columns])


@pytest.fixture
def train_test(write_file):
    write_file("train.csv", _csv(_frame(300, 1)))
    write_file("test.csv", _csv(_frame(120, 2, shift=15.0)))


@pytest.mark.parametrize("grouped", [False, True], ids=["whole", "grouped"])
@pytest.mark.parametrize("run", RUNS)
def test_saved_parameters_give_the_one_shot_bytes(invoke_ok, train_test, workdir, run, grouped):
    keys = ["-g", "shop"] if grouped else []
    one_shot = invoke_ok(*RUNS[run], "train.csv", "-c", "price,qty", *keys, "--save-params", "p.json").stdout
    command = RUNS[run][0]
    again = invoke_ok(command, "train.csv", "--params", "p.json", "--batch-rows", "17").stdout
    assert again == one_shot
    record = json.loads((workdir / "p.json").read_text())
    assert record["format"] == 1 and record["command"] == command
    assert record["columns"] == ["price", "qty"] and record["group_by"] == (["shop"] if grouped else [])


def test_fit_on_train_apply_to_test_equals_scikit_learn(invoke_ok, train_test, workdir):
    train, test = (_frame(300, 1), _frame(120, 2, shift=15.0))
    train_x, test_x = train[["price", "qty"]].to_numpy(), test[["price", "qty"]].to_numpy()
    invoke_ok("zscore", "train.csv", "-c", "price,qty", "--fit-only", "--save-params", "z.json")
    got = _values(invoke_ok("zscore", "test.csv", "--params", "z.json").stdout)
    want = StandardScaler().fit(train_x).transform(test_x)  # NaN-aware, like softnorm's omit
    assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    invoke_ok("minmax", "train.csv", "-c", "price,qty", "--fit-only", "--save-params", "m.json")
    got = _values(invoke_ok("minmax", "test.csv", "--params", "m.json").stdout)
    want = MinMaxScaler().fit(train_x).transform(test_x)
    # scikit-learn computes x * scale + offset, which loses about 1e-11 on
    # qty (1e6 + noise) to cancellation; softnorm's (x - min) / span does not.
    assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    lo, hi = np.nanmin(train_x, axis=0), np.nanmax(train_x, axis=0)
    assert_allclose(got, (test_x - lo) / (hi - lo), rtol=1e-15, atol=1e-15)
    assert np.nanmax(got) > 1  # new data outside the training range is not clipped...
    clipped = _values(invoke_ok("minmax", "test.csv", "--params", "m.json", "--clip").stdout)
    assert_allclose(clipped, np.clip(got, 0, 1), rtol=0, atol=0)  # ...unless asked


def test_per_group_parameters_apply_each_groups_figures(invoke_ok, train_test):
    train, test = (_frame(300, 1), _frame(120, 2, shift=15.0))
    invoke_ok("zscore", "train.csv", "-c", "price", "-g", "shop", "--fit-only", "--save-params", "p.json")
    got = _values(invoke_ok("zscore", "test.csv", "--params", "p.json").stdout, ["price"])[:, 0]
    for shop, rows in train.groupby("shop").groups.items():
        scaler = StandardScaler().fit(train.loc[rows, ["price"]])
        at = (test["shop"] == shop).to_numpy()
        assert_allclose(got[at], scaler.transform(test.loc[at, ["price"]])[:, 0], rtol=1e-9, atol=1e-12)


def test_a_constant_group_is_centred_for_new_data_as_in_scikit_learn(invoke_ok, write_file):
    write_file("train.csv", "x\n5\n5\n5\n")
    write_file("test.csv", "x\n5\n7\n")
    invoke_ok("zscore", "train.csv", "--fit-only", "--save-params", "p.json")
    assert invoke_ok("zscore", "test.csv", "--params", "p.json").stdout == "x\n0.0\n2.0\n"
    assert StandardScaler().fit([[5], [5], [5]]).transform([[5], [7]]).ravel().tolist() == [0.0, 2.0]


@pytest.mark.parametrize("grouped", [False, True], ids=["whole", "grouped"])
@pytest.mark.parametrize("run", ["zscore", "minmax"])
def test_inverse_restores_the_values(invoke_ok, train_test, write_file, run, grouped):
    keys = ["-g", "shop"] if grouped else []
    normalized = invoke_ok(*RUNS[run], "test.csv", "-c", "price,qty", *keys, "--save-params", "p.json").stdout
    write_file("normalized.csv", normalized)
    back = invoke_ok(run, "normalized.csv", "--params", "p.json", "--inverse").stdout
    original = _frame(120, 2, shift=15.0)
    got, want = _values(back), original[["price", "qty"]].to_numpy()
    assert_allclose(got, want, rtol=1e-12)  # missing values stay missing (NaN == NaN here)
    assert _read(back)[["id", "shop"]].equals(original[["id", "shop"]])


def test_fit_only_writes_the_parameters_and_no_data(invoke_ok, train_test, workdir):
    full = invoke_ok("minmax", "train.csv", "-c", "price", "-g", "shop", "--save-params", "full.json")
    only = invoke_ok("minmax", "train.csv", "-c", "price", "-g", "shop", "--save-params", "only.json", "--fit-only")
    assert only.stdout == "" and full.stdout != ""
    assert (workdir / "only.json").read_text() == (workdir / "full.json").read_text()


def test_parameters_file_is_readable_json_with_exact_floats(invoke_ok, write_file, workdir):
    write_file("t.csv", "g,x\nb,0.1\nb,0.7\na,1e-300\na,3\n")
    invoke_ok("zscore", "t.csv", "-g", "g", "--save-params", "p.json")
    text = (workdir / "p.json").read_text()
    lines = text.splitlines()
    assert lines[1] == '  "format": 1,' and lines[0] == "{" and lines[-1] == "}"
    assert sum('"key"' in line for line in lines) == 2  # a line per group
    record = json.loads(text)
    assert record["softnorm"] and record["options"] == {"ddof": 0, "nan": "omit", "inf": "error"}
    b = record["groups"][0]
    assert b["key"] == ["b"] and b["statistics"]["x"]["min"] == 0.1 and b["statistics"]["x"]["max"] == 0.7
    assert '"min": 0.1,' in text  # shortest round-trip form, not 0.10000000000000001
    assert record["groups"][1]["statistics"]["x"]["min"] == 1e-300


def test_unseen_groups_are_an_error_or_missing(invoke, invoke_ok, write_file):
    write_file("train.csv", "g,x\na,1\na,3\nb,5\nb,9\n")
    write_file("test.csv", "g,x\na,2\nc,4\nb,7\n")
    invoke_ok("minmax", "train.csv", "-g", "g", "--fit-only", "--save-params", "p.json")
    expect_error(
        invoke("minmax", "test.csv", "--params", "p.json"),
        "row 2: group g='c' is not in the parameters (use --unseen nan to write missing values for new groups)",
    )
    result = invoke_ok("minmax", "test.csv", "--params", "p.json", "--unseen", "nan", "--summary-json", "s.json")
    assert result.stdout == "g,x\na,0.5\nc,\nb,0.5\n"
    assert json.loads(open("s.json").read())["groups"]["unseen_rows"] == 1


def test_a_column_of_the_parameters_missing_from_the_input(invoke, invoke_ok, write_file):
    write_file("train.csv", "a,b\n1,2\n3,4\n")
    write_file("test.csv", "a,c\n1,2\n")
    invoke_ok("zscore", "train.csv", "--fit-only", "--save-params", "p.json")
    expect_error(
        invoke("zscore", "test.csv", "--params", "p.json"),
        "column 'b' of the parameters is not in test.csv (columns are: a, c)",
    )


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "p.json: not a parameters file (invalid JSON at line 1: Expecting property name enclosed in double quotes)"),
        ("[1, 2]", "p.json: not a parameters file (a JSON list, not an object)"),
        ('{"format": 9, "command": "zscore"}', "p.json: format 9; this softnorm reads format 1"),
        ('{"format": 1, "command": "zscore"}', "p.json: not a softnorm parameters record (KeyError: 'options')"),
        (b"\xff\xfe", "p.json: not a parameters file (not UTF-8 text)"),
    ],
    ids=["broken", "list", "version", "incomplete", "binary"],
)
def test_corrupt_or_wrong_version_files(invoke, write_file, content, message):
    write_file("t.csv", "x\n1\n2\n")
    write_file("p.json", content)
    expect_error(invoke("zscore", "t.csv", "--params", "p.json"), message)


def test_damaged_figures_are_refused(invoke, invoke_ok, write_file, workdir):
    write_file("t.csv", "x\n1\n2\n")
    invoke_ok("zscore", "t.csv", "--fit-only", "--save-params", "p.json")
    record = json.loads((workdir / "p.json").read_text())
    del record["groups"][0]["statistics"]["x"]["std"]
    (workdir / "p.json").write_text(json.dumps(record))
    result = invoke("zscore", "t.csv", "--params", "p.json")
    expect_error(
        result,
        "p.json: not a softnorm parameters record (ValueError: group 1, column 'x' has the figures "
        "count, max, mean, mean_lo, min, missing, scale; zscore needs count, missing, min, max, mean, mean_lo, std, scale)",
    )


def test_a_missing_parameters_file(invoke, write_file):
    write_file("t.csv", "x\n1\n")
    result = invoke("zscore", "t.csv", "--params", "nope.json")
    assert result.exit_code == 1
    assert result.stderr.startswith("softnorm: error: ") and "nope.json" in result.stderr


def _usage_error(result, text: str) -> None:
    assert result.exit_code == 2, result.stderr
    assert f"Error: {text}" in result.stderr
    assert result.stdout == ""


def test_options_that_contradict_the_file_are_usage_errors(invoke, invoke_ok, train_test):
    invoke_ok("zscore", "train.csv", "-c", "price", "-g", "shop", "--ddof", "1", "--fit-only", "--save-params", "p.json")
    _usage_error(
        invoke("zscore", "test.csv", "--params", "p.json", "--ddof", "0"),
        "--ddof conflicts with p.json, which fixes it (1); the options come from the parameters file",
    )
    _usage_error(invoke("zscore", "test.csv", "--params", "p.json", "-c", "qty"), "-c/--cols conflicts with p.json")
    _usage_error(invoke("zscore", "test.csv", "--params", "p.json", "-g", "id"), "-g/--group-by conflicts with p.json")
    _usage_error(invoke("zscore", "test.csv", "--params", "p.json", "--axis", "all"), "--axis conflicts with p.json")
    _usage_error(invoke("zscore", "test.csv", "--params", "p.json", "--nan", "raise"), "--nan conflicts with p.json")
    _usage_error(invoke("zscore", "test.csv", "--params", "p.json", "--exclude", "qty"), "--exclude conflicts with p.json")
    _usage_error(
        invoke("minmax", "test.csv", "--params", "p.json"),
        "p.json holds zscore parameters; run softnorm zscore --params p.json",
    )
    # Repeating what the file says is fine.
    same = invoke_ok("zscore", "test.csv", "--params", "p.json", "--ddof", "1", "-c", "price", "-g", "shop")
    assert same.stdout == invoke_ok("zscore", "test.csv", "--params", "p.json").stdout


def test_softmax_options_in_the_file(invoke, invoke_ok, train_test):
    invoke_ok("softmax", "train.csv", "-c", "price", "--axis", "column", "-t", "2", "--save-params", "s.json")
    _usage_error(invoke("softmax", "test.csv", "--params", "s.json", "-t", "1"), "--temperature conflicts with s.json")
    _usage_error(invoke("softmax", "test.csv", "--params", "s.json", "--log"), "--log conflicts with s.json")
    # The file's axis is used: softmax's default row axis does not conflict unless given.
    result = invoke_ok("softmax", "test.csv", "--params", "s.json")
    assert _values(result.stdout, ["price"]).shape == (120, 1)


def test_impossible_combinations_are_usage_errors(invoke, write_file):
    write_file("t.csv", "x,y\n1,2\n3,4\n")
    _usage_error(
        invoke("softmax", "t.csv", "--inverse", "--axis", "column"),
        "softmax has no inverse: it forgets a constant per group (shifted inputs give the same results)",
    )
    _usage_error(
        invoke("zscore", "t.csv", "--inverse"),
        "--inverse needs --params FILE: the statistics the values were normalized with",
    )
    _usage_error(invoke("zscore", "t.csv", "--fit-only"), "--fit-only needs --save-params FILE: where the statistics go")
    _usage_error(
        invoke("zscore", "t.csv", "--fit-only", "--save-params", "p.json", "-o", "out.csv"),
        "--fit-only writes no data: drop -o/--in-place",
    )
    _usage_error(
        invoke("softmax", "t.csv", "--save-params", "p.json"),
        "--save-params needs --axis column or all: with --axis row each row is fitted alone",
    )
    _usage_error(
        invoke("zscore", "t.csv", "--save-params", "p.json", "--params", "p.json"),
        "--save-params and --params cannot be used together",
    )


def test_save_params_is_written_atomically_and_only_on_success(invoke, write_file, workdir):
    write_file("t.csv", "x\n1\nfoo\n")
    (workdir / "p.json").write_text("old")
    result = invoke("zscore", "t.csv", "-c", "x", "--save-params", "p.json")
    assert result.exit_code == 1
    assert (workdir / "p.json").read_text() == "old"
    assert sorted(p.name for p in workdir.iterdir()) == ["p.json", "t.csv"]


def test_save_params_to_an_unwritable_place_fails_before_the_work(invoke, write_file):
    write_file("t.csv", "x\n1\n2\n")
    result = invoke("zscore", "t.csv", "--save-params", "no/such/dir/p.json", "-o", "out.csv")
    assert result.exit_code == 1 and "no/such/dir/p.json" in result.stderr


# --------------------------------------------------------------------------
# Integer columns mapped back
# --------------------------------------------------------------------------

_INTEGERS = "id,n,x,g\nA1,41,0.5,a\nA2,-3,18,b\nA3,0,2.25,a\nA4,1000000,NA,b\nA5,,-7.125,a\nA6,7,1e-3,b\nA7,-9007199254740,3.5,a\n"


@pytest.mark.parametrize("grouped", [False, True], ids=["whole", "grouped"])
@pytest.mark.parametrize("run", ["zscore", "minmax"])
def test_inverse_gives_back_the_text_of_integer_columns(invoke_ok, write_file, workdir, run, grouped):
    write_file("t.csv", _INTEGERS)
    keys = ["-g", "g"] if grouped else []
    write_file("normalized.csv", invoke_ok(*RUNS[run], "t.csv", "-c", "n,x", *keys, "--save-params", "p.json").stdout)
    assert json.loads((workdir / "p.json").read_text())["integer_columns"] == ["n"]
    back = _read(invoke_ok(run, "normalized.csv", "--params", "p.json", "--inverse").stdout).astype(str)
    original = _read(_INTEGERS).astype(str)
    assert back["n"].tolist() == original["n"].tolist()  # 41, not 41.0; the empty cell stays empty
    # Floats stay floats, within rounding: 18 is a float there, and comes back as 18.0.
    assert all(cell == "" or "." in cell or "e" in cell for cell in back["x"])
    x = pd.to_numeric(back["x"].replace("", np.nan)).to_numpy(dtype=float)
    assert_allclose(x, [0.5, 18.0, 2.25, np.nan, -7.125, 1e-3, 3.5], rtol=1e-13, atol=1e-14)  # within rounding of the scale, 18


def test_integer_parquet_columns_come_back_as_integers(invoke_ok, workdir):
    import polars as pl

    pl.DataFrame({"n": pl.Series([41, -3, None, 12, 7], dtype=pl.Int32), "x": [0.5, 1.0, 2.0, None, 4.0]}).write_parquet(workdir / "t.parquet")
    invoke_ok("zscore", "t.parquet", "--save-params", "p.json", "-o", "z.parquet")
    invoke_ok("zscore", "z.parquet", "--params", "p.json", "--inverse", "-o", "back.parquet")
    back = pl.read_parquet(workdir / "back.parquet")
    assert back.schema == pl.Schema({"n": pl.Int64, "x": pl.Float64})
    assert back["n"].to_list() == [41, -3, None, 12, 7]
    assert_allclose(back["x"].to_numpy(), [0.5, 1.0, 2.0, np.nan, 4.0], rtol=1e-15)


def test_results_that_are_not_integers_keep_their_decimals(invoke, invoke_ok, write_file, workdir):
    write_file("t.csv", "n\n0\n10\n20\n")
    invoke_ok("minmax", "t.csv", "--fit-only", "--save-params", "p.json")
    write_file("new.csv", "n\n0.5\n0.26\n\n1\n")
    assert invoke_ok("minmax", "new.csv", "--params", "p.json", "--inverse").stdout == 'n\n10\n5.2\n""\n20\n'
    write_file("commas.csv", "n;x\n0,5;a\n0,26;b\n")
    assert invoke_ok("minmax", "commas.csv", "--params", "p.json", "--inverse", "--decimal-comma").stdout == "n;x\n10;a\n5,2;b\n"
    # Parquet keeps one type a column: there it is an error, not a guess.
    expect_error(
        invoke("minmax", "new.csv", "--params", "p.json", "--inverse", "-o", "back.parquet"),
        "column 'n', row 2: 5.2 is not an integer, though the column held integers when fitted, "
        "and Parquet keeps one type a column; write CSV (--to csv) to keep its decimals",
    )
    assert not (workdir / "back.parquet").exists()


def test_parameters_saved_before_integer_columns_still_load(invoke_ok, write_file, workdir):
    write_file("t.csv", "n\n1\n2\n4\n")
    invoke_ok("minmax", "t.csv", "--fit-only", "--save-params", "p.json")
    record = json.loads((workdir / "p.json").read_text())
    assert record["format"] == 1 and record.pop("integer_columns") == ["n"]
    (workdir / "old.json").write_text(json.dumps(record))
    write_file("z.csv", "n\n0\n0.5\n")
    assert invoke_ok("minmax", "z.csv", "--params", "old.json", "--inverse").stdout == "n\n1.0\n2.5\n"
    assert invoke_ok("minmax", "z.csv", "--params", "p.json", "--inverse").stdout == "n\n1\n2.5\n"


def test_integer_columns_naming_another_column_are_refused(invoke, invoke_ok, write_file, workdir):
    write_file("t.csv", "n\n1\n2\n")
    invoke_ok("minmax", "t.csv", "--fit-only", "--save-params", "p.json")
    record = json.loads((workdir / "p.json").read_text())
    record["integer_columns"] = ["m"]
    (workdir / "p.json").write_text(json.dumps(record))
    expect_error(
        invoke("minmax", "t.csv", "--params", "p.json", "--inverse"),
        "p.json: not a softnorm parameters record (ValueError: integer_columns names 'm', which is not one of the columns)",
    )


def test_a_column_is_integers_only_if_every_part_held_integers(invoke_ok, write_file, workdir):
    write_file("in/a.csv", "n,m\n1,1\n2,2\n")
    write_file("in/b.csv", "n,m\n3.5,3\n4,4\n")
    invoke_ok("minmax", "in", "--fit-only", "--save-params", "p.json")
    assert json.loads((workdir / "p.json").read_text())["integer_columns"] == ["m"]

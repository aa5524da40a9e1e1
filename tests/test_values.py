"""What counts as a number: missing-value markers, infinities, Parquet types, the columns
chosen without -c (and why the others are not), and files written by pandas."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from numpy.testing import assert_allclose

from helpers import csv_records, exact_zscores, expect_error, strict_json

# The first rows of the Palmer penguins CSV (palmerpenguins on PyPI), row 4 as it is there.
PENGUINS = """species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year
Adelie,Torgersen,39.1,18.7,181,3750,male,2007
Adelie,Torgersen,39.5,17.4,186,3800,female,2007
Adelie,Torgersen,40.3,18,195,3250,female,2007
Adelie,Torgersen,NA,NA,NA,NA,NA,2007
Adelie,Torgersen,36.7,19.3,193,3450,female,2007
Gentoo,Biscoe,46.1,13.2,211,4500,female,2008
Chinstrap,Dream,46.5,17.9,192,3500,female,2009
"""
MEASURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]


def numbers(cells) -> np.ndarray:
    return np.array([np.nan if c in ("", "NA") else float(c) for c in cells])


# --------------------------------------------------------------------------
# Missing-value markers
# --------------------------------------------------------------------------


def test_penguins_na_markers(invoke_ok, write_file, workdir):
    write_file("penguins.csv", PENGUINS)
    result = invoke_ok("zscore", "penguins.csv", "--summary-json", "s.json")
    rows, want = csv_records(result.stdout), csv_records(PENGUINS)
    assert rows[0] == want[0]
    for name in ("species", "island", "sex"):  # untouched, their NA included
        i = want[0].index(name)
        assert [r[i] for r in rows] == [r[i] for r in want]
    for name in MEASURES:
        i = want[0].index(name)
        expected = exact_zscores(numbers([r[i] for r in want[1:]]))
        got = numbers([r[i] for r in rows[1:]])
        assert_allclose(got, expected, rtol=1e-14, atol=1e-15)  # NaN where NA was
    summary = strict_json((workdir / "s.json").read_text())
    assert list(summary["columns"]) == MEASURES
    assert summary["skipped"] == {
        "species": "not numbers ('Adelie', row 1)",
        "island": "not numbers ('Torgersen', row 1)",
        "sex": "not numbers ('male', row 1)",
    }


@pytest.mark.parametrize("marker", ["", "NA", "N/A", "n/a", "NaN", "nan", "-nan", "NULL", "null", "None", "<NA>", "#N/A", " NA "])
def test_every_default_marker_is_missing(invoke_ok, write_file, marker):
    write_file("m.csv", f"x,a\n1,2\n2,{marker}\n3,6\n")
    assert invoke_ok("minmax", "m.csv", "-c", "a").stdout == "x,a\n1,0.0\n2,\n3,1.0\n"
    assert invoke_ok("minmax", "m.csv").stdout == "x,a\n0.0,0.0\n0.5,\n1.0,1.0\n"


def test_na_values_replaces_the_markers(invoke, invoke_ok, write_file):
    write_file("m.csv", "a,b\n-999,x\n1,NA\n-999.0,\n3,4\n")
    assert invoke_ok("minmax", "m.csv", "-c", "a", "--na-values", "-999").stdout == "a,b\n,x\n0.0,NA\n,\n1.0,4\n"
    expect_error(invoke("minmax", "m.csv", "-c", "b", "--na-values", "-999"), "column 'b', row 1: 'x' is not a number")
    result = invoke("minmax", "m.csv", "-c", "b", "--na-values", "x")
    assert result.exit_code == 1 and "row 2: 'NA' is not a number" in result.stderr


def test_na_values_empty_means_empty_cells_only(invoke, invoke_ok, write_file):
    write_file("m.csv", "a\n1\n\n3\nNA\n")
    expect_error(
        invoke("minmax", "m.csv", "-c", "a", "--na-values", ""),
        "column 'a', row 4: 'NA' is not a number (if it marks missing values, name it with --na-values)",
    )
    # Without -c, the same column is not numeric any more: it is left out, and said so.
    result = invoke("minmax", "m.csv", "--na-values", "")
    assert result.exit_code == 1
    assert "(left out: a: not numbers ('NA', row 4))" in result.stderr


def test_markers_found_after_the_first_block(invoke_ok, write_file):
    text = "a,b\n" + "".join(f"{i},{i % 5}\n" for i in range(3000)) + "NA,1\n7,NULL\n"
    write_file("late.csv", text)
    out = invoke_ok("minmax", "late.csv", "-c", "a,b", "--batch-rows", "2KB").stdout
    rows = csv_records(out)
    assert rows[-2][0] == "" and rows[-1][1] == ""
    assert len(rows) == 3003


# --------------------------------------------------------------------------
# Saying what automatic selection did
# --------------------------------------------------------------------------


def test_mostly_numeric_column_left_out_gets_a_warning(invoke_ok, write_file, workdir):
    write_file("w.csv", "id,a,b\n1,1,5\n2,2,n.v.\n3,3,7\n4,4,8\n")
    result = invoke_ok("minmax", "w.csv", "--summary-json", "s.json")
    assert result.stderr == (
        "softnorm: warning: column 'b' is not normalized: row 2 holds 'n.v.', not a number, "
        "though 75% of its values are numbers\n"
    )
    summary = json.loads((workdir / "s.json").read_text())
    assert list(summary["columns"]) == ["id", "a"]
    assert summary["skipped"] == {"b": "not numbers ('n.v.', row 2)"}


def test_unique_integers_in_order_are_identifiers(invoke_ok, write_file, workdir, parse, to_floats):
    rows = [(i, 1000 + 7 * i, (i * 37) % 101, i * 0.5) for i in range(40)]
    write_file("t.csv", "id,Sample Number,score,x\n" + "".join(f"{i},{n},{s},{x}\n" for i, n, s, x in rows))
    result = invoke_ok("minmax", "t.csv", "--summary-json", "s.json")
    summary = json.loads((workdir / "s.json").read_text())
    assert list(summary["columns"]) == ["score", "x"]
    assert summary["skipped"] == {"id": "identifiers (unique integers in order)", "Sample Number": "identifiers (unique integers in order)"}
    out = parse(result.stdout)
    assert out["id"].to_list() == [str(i) for i in range(40)]
    assert_allclose(to_floats(out["x"]), np.arange(40) / 39, rtol=1e-15)
    assert result.stderr == ""
    assert "Sample Number  identifiers (unique integers in order)" in invoke_ok("zscore", "t.csv", "--summary").stderr


@pytest.mark.parametrize(
    "values",
    [
        [*range(20), 19],  # a repeat
        [*range(10), *range(10)],  # numbered again from 0
        list(range(20, 0, -1)),  # decreasing
        [i + 0.5 for i in range(20)],  # not integers
        [f"{i}.0" for i in range(20)],  # integers written as decimals
        list(range(10)),  # too few to tell
    ],
)
def test_integers_not_unique_and_in_order_are_normalized(invoke_ok, write_file, workdir, values):
    write_file("t.csv", "n,x\n" + "".join(f"{v},{i % 7}.5\n" for i, v in enumerate(values)))
    invoke_ok("minmax", "t.csv", "--summary-json", "s.json")
    assert list(json.loads((workdir / "s.json").read_text())["columns"]) == ["n", "x"]


def test_parquet_integer_identifiers_are_left_out(invoke_ok, workdir):
    table = pa.table({"key": pa.array(range(5, 500, 5), pa.uint32()), "v": pa.array(np.linspace(0, 1, 99))})
    pq.write_table(table, workdir / "t.parquet")
    result = invoke_ok("zscore", "t.parquet", "-o", "out.parquet", "--summary-json", "s.json")
    summary = json.loads((workdir / "s.json").read_text())
    assert list(summary["columns"]) == ["v"]
    assert summary["skipped"] == {"key": "identifiers (unique integers in order)"}
    assert pl.read_parquet(workdir / "out.parquet")["key"].to_list() == list(range(5, 500, 5))
    assert result.stderr == ""
    # Named, they are normalized like any column.
    invoke_ok("zscore", "t.parquet", "-c", "key", "-o", "out.parquet")
    assert_allclose(pl.read_parquet(workdir / "out.parquet")["key"].mean(), 0.0, atol=1e-15)


@pytest.mark.parametrize("typed", [False, True])
def test_few_distinct_integers_are_normalized_with_a_warning(invoke_ok, write_file, workdir, parse, to_floats, typed):
    frame = pl.DataFrame({"target": [i % 3 for i in range(30)], "n cyl": [4, 6, 8] * 10, "x": [i * 0.25 for i in range(30)]})
    if typed:
        frame.write_parquet(workdir / "t.parquet")
    else:
        write_file("t.csv", frame.write_csv())
    name = "t.parquet" if typed else "t.csv"
    result = invoke_ok("zscore", name, "--to", "csv", "--summary-json", "s.json")
    assert result.stderr == (
        "softnorm: warning: column 'target' holds only 3 distinct integers, perhaps codes or categories; "
        "it is normalized (leave it out with --exclude target)\n"
        "softnorm: warning: column 'n cyl' holds only 3 distinct integers, perhaps codes or categories; "
        "it is normalized (leave it out with --exclude 'n cyl')\n"
    )
    summary = json.loads((workdir / "s.json").read_text())
    assert list(summary["columns"]) == ["target", "n cyl", "x"]
    assert len(summary["warnings"]) == 2
    target = frame["target"].to_numpy()
    assert_allclose(to_floats(parse(result.stdout)["target"]), (target - target.mean()) / target.std(), rtol=1e-14)
    quiet = invoke_ok("zscore", name, "--to", "csv", "--exclude", "target", "--exclude", "n cyl")
    assert quiet.stderr == ""


def test_few_distinct_integers_seen_once_each_are_not_warned_about(invoke_ok, write_file):
    write_file("t.csv", "a,b\n3,1\n9,2\n4,2\n")
    assert invoke_ok("minmax", "t.csv").stderr == ""


def test_summary_table_lists_skipped_columns(invoke_ok, write_file):
    write_file("penguins.csv", PENGUINS)
    err = invoke_ok("zscore", "penguins.csv", "--summary").stderr
    for name in ("species", "island", "sex"):
        assert name in err
    assert "not numbers" in err


@pytest.mark.parametrize(
    "args, chosen",
    [
        (["--exclude", "year"], MEASURES[:-1]),
        (["--exclude", "bill_*,year"], ["flipper_length_mm", "body_mass_g"]),
        (["--exclude", "bill_*", "--exclude", "year"], ["flipper_length_mm", "body_mass_g"]),
        (["-c", "*_mm", "--exclude", "flipper_length_mm"], ["bill_length_mm", "bill_depth_mm"]),
        (["--exclude", "nothing_*"], MEASURES),
    ],
)
def test_exclude(invoke_ok, write_file, workdir, args, chosen):
    write_file("penguins.csv", PENGUINS)
    invoke_ok("zscore", "penguins.csv", *args, "--summary-json", "s.json")
    summary = json.loads((workdir / "s.json").read_text())
    assert list(summary["columns"]) == chosen


def test_exclude_unknown_name_is_an_error(invoke, write_file):
    write_file("penguins.csv", PENGUINS)
    result = invoke("zscore", "penguins.csv", "--exclude", "yaer")
    assert result.exit_code == 1
    assert result.stderr.startswith("softnorm: error: column 'yaer' not found; did you mean 'year'?")


def test_stats_shows_the_selection(invoke_ok, write_file):
    write_file("penguins.csv", PENGUINS)
    data = strict_json(invoke_ok("stats", "penguins.csv", "--json").stdout)
    assert list(data["columns"]) == MEASURES
    assert data["skipped"]["sex"] == "not numbers ('male', row 1)"
    table = invoke_ok("stats", "penguins.csv").stdout
    assert "species" in table and "not numbers" in table


# --------------------------------------------------------------------------
# Infinities
# --------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["minmax", "zscore"])
@pytest.mark.parametrize("spelling", ["inf", "-inf", "Infinity", "-Infinity"])
def test_infinity_is_an_error_for_minmax_and_zscore(invoke, write_file, workdir, command, spelling):
    write_file("i.csv", f"a,b\n1,2\n{spelling},3\n4,5\n")
    result = invoke(command, "i.csv", "-o", "out.csv")
    sign = "-" if spelling.startswith("-") else ""
    expect_error(
        result,
        f"column 'a', row 2: {sign}inf is not a finite number (use --inf missing to treat infinities as missing values)",
    )
    assert not (workdir / "out.csv").exists()


@pytest.mark.parametrize("command", ["minmax", "zscore", "softmax"])
def test_inf_missing_treats_infinities_as_missing(invoke_ok, write_file, command):
    write_file("i.csv", "a,b\n1,2\ninf,3\n4,5\n-inf,1\n")
    write_file("m.csv", "a,b\n1,2\n,3\n4,5\n,1\n")
    args = ["-c", "a,b", "--axis", "column", "--inf", "missing"]
    assert invoke_ok(command, "i.csv", *args).stdout == invoke_ok(command, "m.csv", *args).stdout
    propagated = invoke_ok(command, "i.csv", *args, "--nan", "propagate").stdout
    assert [r[0] for r in csv_records(propagated)[1:]] == ["", "", "", ""]


def test_infinity_in_parquet_is_an_error_too(invoke, workdir):
    pl.DataFrame({"a": [1.0, float("inf"), 2.0]}).write_parquet(workdir / "i.parquet")
    result = invoke("zscore", "i.parquet", "--to", "csv")
    assert result.exit_code == 1 and "column 'a', row 2: inf is not a finite number" in result.stderr


def test_minmax_huge_range_is_finite(invoke_ok, write_file):
    write_file("r.csv", "a\n-5\n0\n5\n1e300\n")
    out = invoke_ok("minmax", "r.csv", "--range=-1e308,1e308").stdout
    values = np.array([float(r[0]) for r in csv_records(out)[1:]])
    assert np.isfinite(values).all()
    assert values[0] == -1e308 and values[-1] == 1e308
    assert np.all(values[1:] >= values[:-1])


# --------------------------------------------------------------------------
# Parquet types
# --------------------------------------------------------------------------


def _typed_parquet(path):
    table = pa.table(
        {
            "price": pa.array([decimal.Decimal("1.50"), decimal.Decimal("2.25"), None], pa.decimal128(10, 2)),
            "n": pa.array([1, 2, 3], pa.int32()),
            "day": pa.array([dt.date(2026, 1, d) for d in (1, 2, 3)]),
            "at": pa.array([dt.datetime(2026, 1, 1, h) for h in (1, 2, 3)]),
            "clock": pa.array([dt.time(h) for h in (1, 2, 3)]),
            "ok": pa.array([True, False, True]),
            "tags": pa.array([[1, 2], [], [3]]),
            "point": pa.array([{"x": 1.0}, {"x": 2.0}, {"x": 3.0}]),
            "name": pa.array(["a", "b", "c"]),
        }
    )
    pq.write_table(table, path)
    return table


def test_parquet_auto_selection_by_type(invoke_ok, workdir):
    table = _typed_parquet(workdir / "t.parquet")
    result = invoke_ok("minmax", "t.parquet", "-o", "out.parquet", "--summary-json", "s.json")
    summary = json.loads((workdir / "s.json").read_text())
    assert list(summary["columns"]) == ["price", "n"]
    assert summary["skipped"] == {
        "day": "type date",
        "at": "type datetime",
        "clock": "type time",
        "ok": "type boolean",
        "tags": "type list",
        "point": "type struct",
        "name": "text",
    }
    out, original = pl.read_parquet(workdir / "out.parquet"), pl.from_arrow(table)
    assert out["price"].to_list() == [0.0, 1.0, None]
    for name in ("day", "at", "clock", "ok", "tags", "point", "name"):
        assert out.schema[name] == original.schema[name]
        assert out[name].to_list() == original[name].to_list()
    assert result.stderr == ""


@pytest.mark.parametrize(
    "column, kind",
    [("day", "date"), ("at", "datetime"), ("clock", "time"), ("ok", "boolean"), ("tags", "list"), ("point", "struct")],
)
def test_selected_non_numeric_parquet_column_is_an_error(invoke, workdir, column, kind):
    _typed_parquet(workdir / "t.parquet")
    expect_error(
        invoke("zscore", "t.parquet", "-c", column, "--to", "csv"),
        f"column {column!r} has type {kind}, not numbers; leave it out of -c",
    )


def test_csv_to_parquet_infers_lossless_types(invoke_ok, write_file, workdir):
    write_file(
        "t.csv",
        "id,count,big,huge,ratio,when,flag,note,a\n"
        "007,1,9007199254740993,18446744073709551617,0.5,2026-01-01,true,x,1\n"
        "010,-2,1,1,1e3,2026-01-02,false,,2\n"
        "011,NA,3,3,,2026-01-03,true,\"y, z\",4\n",
    )
    invoke_ok("minmax", "t.csv", "-c", "a", "-o", "out.parquet")
    out = pl.read_parquet(workdir / "out.parquet")
    assert out.schema == pl.Schema(
        {"id": pl.String, "count": pl.Int64, "big": pl.Int64, "huge": pl.String, "ratio": pl.Float64,
         "when": pl.String, "flag": pl.String, "note": pl.String, "a": pl.Float64}
    )
    assert out["id"].to_list() == ["007", "010", "011"]
    assert out["count"].to_list() == [1, -2, None]
    assert out["big"].to_list() == [9007199254740993, 1, 3]
    assert out["huge"].to_list() == ["18446744073709551617", "1", "3"]
    assert out["ratio"].to_list() == [0.5, 1000.0, None]
    assert out["a"].to_list() == [0.0, 1 / 3, 1.0]


def test_csv_to_parquet_type_decided_over_the_whole_file(invoke_ok, write_file, workdir):
    text = "n,a\n" + "".join(f"{i},{i}\n" for i in range(5000)) + "x,1\n"
    write_file("t.csv", text)
    invoke_ok("minmax", "t.csv", "-c", "a", "-o", "out.parquet", "--batch-rows", "1KB")
    out = pl.read_parquet(workdir / "out.parquet")
    assert out.schema["n"] == pl.String and out["n"][-1] == "x" and out.height == 5001


def test_csv_to_parquet_missing_markers_in_text_columns_become_nulls(invoke_ok, write_file, workdir):
    write_file("t.csv", "sex,island,a\nmale,Biscoe,1\nNA,Dream,2\n,NULL,3\nNA,Dream,4\nfemale,n/a,5\n")
    invoke_ok("minmax", "t.csv", "-c", "a", "-o", "out.parquet")
    out = pq.read_table(workdir / "out.parquet")
    assert out.schema.field("sex").type == pa.large_string()
    assert out.column("sex").to_pylist() == ["male", None, None, None, "female"]
    assert out.column("island").to_pylist() == ["Biscoe", "Dream", None, "Dream", None]


def test_csv_to_parquet_untouched_decimal_comma_numbers_become_numbers(invoke_ok, write_file, workdir):
    write_file("t.csv", "a;w;n;thousands;label\n1,5;2,25;3;1.500;x\n2,5;NA;-4;2.000;y\n3,5;;7;;z\n")
    invoke_ok("minmax", "t.csv", "-c", "a", "--decimal-comma", "-o", "out.parquet")
    out = pl.read_parquet(workdir / "out.parquet")
    assert out.schema == pl.Schema({"a": pl.Float64, "w": pl.Float64, "n": pl.Int64, "thousands": pl.String, "label": pl.String})
    assert out["w"].to_list() == [2.25, None, None]
    assert out["n"].to_list() == [3, -4, 7]
    # With decimal commas a point may group thousands: 1.500 is not one and a half.
    assert out["thousands"].to_list() == ["1.500", "2.000", None]


# --------------------------------------------------------------------------
# Files written by pandas
# --------------------------------------------------------------------------


def test_pandas_csv_row_labels_left_alone(invoke, invoke_ok, workdir):
    frame = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3.0, 5.0, 4.0]})
    frame.to_csv(workdir / "p.csv")
    result = invoke_ok("minmax", "p.csv", "--summary-json", "s.json")
    rows = csv_records(result.stdout)
    assert rows[0] == ["", "a", "b"]
    assert result.stdout.startswith(",a,b\n")
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    assert json.loads((workdir / "s.json").read_text())["skipped"] == {"": "row labels (an index)"}
    back = pd.read_csv(io.StringIO(result.stdout), index_col=0)
    assert back.index.tolist() == [0, 1, 2]
    # -c can still name them.
    picked = csv_records(invoke_ok("minmax", "p.csv", "-c", "").stdout)
    assert [r[0] for r in picked[1:]] == ["0.0", "0.5", "1.0"]


@pytest.mark.parametrize("index", [pd.Index([10, 20, 30], name="key"), pd.Index([5, 6, 7])])
def test_pandas_parquet_index_and_metadata_kept(invoke_ok, workdir, index):
    frame = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3, 5, 4]}, index=index)
    frame.to_parquet(workdir / "p.parquet")
    result = invoke_ok("minmax", "p.parquet", "-o", "out.parquet", "--summary-json", "s.json")
    back = pd.read_parquet(workdir / "out.parquet")
    assert back.index.tolist() == index.tolist() and back.index.name == index.name
    assert back.columns.tolist() == ["a", "b"]
    assert_allclose(back["a"], [0.0, 1 / 3, 1.0])
    assert_allclose(back["b"], [0.0, 1.0, 0.5])
    label = index.name or "__index_level_0__"
    assert json.loads((workdir / "s.json").read_text())["skipped"] == {label: "row labels (an index)"}
    assert result.stderr == ""


@pytest.mark.parametrize("width, height", [(3000, 3), (40, 200)])
def test_wide_tables(invoke_ok, write_file, workdir, width, height):
    rng = np.random.default_rng(width)
    x = rng.normal(size=(height, width))
    cells = x.astype(str).astype(object)
    cells[0, 7] = "NA"
    header = "id," + ",".join(f"c{j}" for j in range(width))
    write_file("w.csv", header + "\n" + "".join(f"{i:03d}," + ",".join(row) + "\n" for i, row in enumerate(cells)))
    x[0, 7] = np.nan
    out = pl.read_csv(io.StringIO(invoke_ok("zscore", "w.csv").stdout), schema_overrides={"id": pl.String})
    assert out["id"].to_list() == [f"{i:03d}" for i in range(height)]
    want = (x - np.nanmean(x, axis=0)) / np.nanstd(x, axis=0)
    assert_allclose(out.drop("id").to_numpy(), want, rtol=1e-12, atol=1e-12)
    stats = strict_json(invoke_ok("stats", "w.csv", "--json").stdout)
    assert len(stats["columns"]) == width and stats["skipped"] == {"id": "identifiers with leading zeros ('000')"}


def test_lines_longer_than_the_sample_still_give_a_sample_with_rows(invoke_ok, write_file, monkeypatch):
    # A table of 100,000 columns has lines of megabytes: more than the usual sample.
    import softnorm_cli.io.delimited.decode

    monkeypatch.setattr(softnorm_cli.io.delimited.decode, "SAMPLE_BYTES", 64)
    width = 40
    header = "id," + ",".join(f"column_{j}" for j in range(width))
    rows = [f"{i:03d}," + ",".join(str(i * j % 7 + 0.5) for j in range(width)) for i in range(30)]
    write_file("w.csv", header + "\n" + "\n".join(rows) + "\n")
    stats = strict_json(invoke_ok("stats", "w.csv", "--json").stdout)
    assert len(stats["columns"]) == width and stats["rows"] == 30
    out = csv_records(invoke_ok("minmax", "w.csv").stdout)
    assert out[1][1] == "0.0" and out[0] == header.split(",")


@pytest.mark.parametrize("args, codec", [([], "SNAPPY"), (["--compression", "zstd"], "ZSTD"), (["--compression", "uncompressed"], "UNCOMPRESSED")])
def test_parquet_output_compression(invoke_ok, write_file, workdir, args, codec):
    write_file("t.csv", "a,b\n1,x\n2,y\n")
    invoke_ok("minmax", "t.csv", "-o", "out.parquet", *args)
    meta = pq.ParquetFile(workdir / "out.parquet").metadata
    assert {meta.row_group(0).column(i).compression for i in range(2)} == {codec}


def test_compression_choices_match_the_writer():
    from softnorm_cli.cli import options as cli
    from softnorm_cli.io import parquet

    assert cli.PARQUET_COMPRESSIONS == parquet.COMPRESSIONS


def test_parquet_with_large_row_groups_is_read_page_by_page(invoke_ok, workdir, monkeypatch):
    # pyarrow and pandas write row groups of 1,048,576 rows; decoded whole, a few are
    # past any memory bound, so such files are read a page at a time.
    import softnorm_cli.io.parquet

    monkeypatch.setattr(softnorm_cli.io.parquet, "LARGE_ROW_GROUP", 1 << 10)
    rng = np.random.default_rng(8)
    x = rng.normal(size=(5000, 2))
    table = pa.table({"id": [f"{i:05d}" for i in range(5000)], "a": x[:, 0], "b": x[:, 1]})
    pq.write_table(table, workdir / "big.parquet", row_group_size=2000)
    invoke_ok("zscore", "big.parquet", "-o", "out.parquet", "--batch-rows", "700")
    out = pl.read_parquet(workdir / "out.parquet")
    assert out["id"].to_list() == table.column("id").to_pylist()
    assert_allclose(out.select("a", "b").to_numpy(), (x - x.mean(axis=0)) / x.std(axis=0), rtol=1e-13, atol=1e-15)


def test_row_group_sizes_are_read_from_the_footer_as_pyarrow_reads_them(tmp_path):
    from softnorm_cli.io.row_groups import row_group_sizes

    table = pa.table({
        "a": np.arange(30_000),
        "s": [f"x{i}" for i in range(30_000)],
        "b": [True, None, False] * 10_000,
        "l": [[1.5, 2.5]] * 30_000,
        "m": [{"k": 1}] * 30_000,
    })
    for name, kwargs in [("many.parquet", {"row_group_size": 7_000}), ("one.parquet", {"compression": "zstd"})]:
        pq.write_table(table, tmp_path / name, **kwargs)
        meta = pq.read_metadata(tmp_path / name)
        assert row_group_sizes(str(tmp_path / name)) == [meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)]
    pl.DataFrame({"x": range(100_000)}).write_parquet(tmp_path / "polars.parquet", row_group_size=25_000)
    meta = pq.read_metadata(tmp_path / "polars.parquet")
    assert row_group_sizes(str(tmp_path / "polars.parquet")) == [meta.row_group(i).total_byte_size for i in range(4)]


def test_a_damaged_footer_is_one_error(tmp_path):
    from softnorm_cli.errors import MalformedInputError
    from softnorm_cli.io.row_groups import row_group_sizes

    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + b"\x19\xff\xff" * 20 + (60).to_bytes(4, "little") + b"PAR1")
    with pytest.raises(MalformedInputError, match="not a readable Parquet file"):
        row_group_sizes(str(path))

"""JSON Lines and JSON arrays of objects, in and out: files written by pandas and by hand,
compared with the CSV path on the same values."""

from __future__ import annotations

import gzip
import json
import os

import numpy as np
import pandas as pd
import polars as pl
import pytest

from helpers import expect_error, parts_table, strict_json, write_parts
from softnorm_cli.errors import MalformedInputError

ROWS = [
    {"id": "a", "x": 1.5, "n": 3, "tags": {"z": 1, "b": [1, 2.5, None]}, "s": "caf\u00e9 \"q\"\n\t\\", "ok": True},
    {"id": "b", "x": -2.0, "n": 7, "tags": [3, {"k": "v"}], "s": None, "ok": False},
    {"id": "c", "x": None, "n": 7, "tags": {}, "s": "\u2603 \U0001f600", "ok": None},
    {"id": "d", "x": 4.25, "n": 1, "tags": None, "s": "", "ok": True},
]


def _lines(rows, **dumps) -> str:
    return "".join(json.dumps(row, **dumps) + "\n" for row in rows)


def _frame(rows: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=rows) * 10, 3)  # pandas writes JSON with 10 digits
    x[::37] = np.nan
    return pd.DataFrame({"k": rng.choice(["p", "q", "r"], rows), "x": x, "y": rng.integers(-50, 50, rows)})


@pytest.fixture
def pandas_files(workdir):
    df = _frame()
    df.to_csv(workdir / "t.csv", index=False)
    df.to_json(workdir / "t.jsonl", orient="records", lines=True)
    df.to_json(workdir / "t.json", orient="records")
    return df


@pytest.mark.parametrize("name", ["t.jsonl", "t.json"])
@pytest.mark.parametrize("args", [["zscore"], ["minmax", "-g", "k"], ["softmax", "-c", "x,y", "--axis", "row"]])
def test_pandas_records_give_the_csv_paths_bytes(invoke_ok, pandas_files, name, args):
    want = invoke_ok(*args, "t.csv").stdout
    assert invoke_ok(*args, name, "--to", "csv").stdout == want
    # and in batches of a few lines
    assert invoke_ok(*args, name, "--to", "csv", "--batch-rows", "2KB").stdout == want


def test_results_written_as_json_are_the_numbers_of_the_csv_path(invoke_ok, pandas_files):
    want = pl.read_csv(invoke_ok("zscore", "t.csv").stdout.encode())
    for name, out in (("t.jsonl", "o.jsonl"), ("t.json", "o.json")):
        invoke_ok("zscore", name, "-o", out)
        text = open(out, encoding="utf-8").read()
        rows = [strict_json(line) for line in text.splitlines()] if out.endswith("l") else strict_json(text)
        assert [list(r) for r in rows] == [["k", "x", "y"]] * len(want)
        for column in ("x", "y"):
            got = np.array([np.nan if r[column] is None else r[column] for r in rows], dtype=float)
            np.testing.assert_array_equal(got, want[column].fill_null(np.nan).to_numpy())
        assert [r["k"] for r in rows] == want["k"].to_list()


def test_untouched_values_come_back_as_they_went_in(invoke_ok, write_file):
    write_file("d.jsonl", _lines(ROWS))
    out = invoke_ok("minmax", "d.jsonl", "-c", "x", "-q").stdout
    got = [json.loads(line) for line in out.splitlines()]
    assert [list(r) for r in got] == [list(ROWS[0])] * 4  # keys in order
    for before, after in zip(ROWS, got):
        assert {k: v for k, v in after.items() if k != "x"} == {k: v for k, v in before.items() if k != "x"}
    assert [r["x"] for r in got] == [3.5 / 6.25, 0.0, None, 1.0]
    # nested values keep their types exactly: the integer stays an integer, the key order stays
    assert out.splitlines()[0].split('"tags":', 1)[1].startswith('{"z": 1, "b": [1, 2.5, null]}')


def test_nested_values_as_csv_are_their_json_and_strings_their_text(invoke_ok, write_file):
    write_file("d.jsonl", _lines(ROWS))
    out = pl.read_csv(invoke_ok("minmax", "d.jsonl", "-c", "x", "--to", "csv").stdout.encode(), infer_schema=False)
    assert out["tags"].to_list() == ['{"z": 1, "b": [1, 2.5, null]}', '[3, {"k": "v"}]', "{}", None]
    assert out["s"].to_list()[0] == 'caf\u00e9 "q"\n\t\\'
    assert out["ok"].to_list() == ["true", "false", None, "true"]


def test_a_missing_key_is_a_missing_value(invoke_ok, write_file):
    write_file("m.jsonl", '{"a": 1, "b": 2}\n{"a": 3}\n{"b": 6, "a": 5}\n')
    out = [json.loads(line) for line in invoke_ok("minmax", "m.jsonl").stdout.splitlines()]
    assert out == [{"a": 0.0, "b": 0.0}, {"a": 0.5, "b": None}, {"a": 1.0, "b": 1.0}]


def test_numbers_are_chosen_and_strings_are_text(invoke_ok, write_file):
    # "12" is text in JSON, as in Parquet; ids that count up are left out, as in CSV.
    write_file("c.jsonl", _lines([{"code": "12", "v": v, "row": i} for i, v in enumerate([3, 1, 2, 5, 4, 0, 9, 8, 7, 6, 11, 10])]))
    rows = [json.loads(line) for line in invoke_ok("minmax", "c.jsonl").stdout.splitlines()]
    assert {r["code"] for r in rows} == {"12"} and [r["row"] for r in rows] == list(range(12))
    assert rows[0]["v"] == 3 / 11


@pytest.mark.parametrize(
    "line, problem",
    [
        ('{"a": 7, ', "Expecting property name enclosed in double quotes, column 10: {\"a\": 7,"),
        ("[1, 2]", "an array: [1, 2]"),
        ("garbage", "Expecting value, column 1: garbage"),
        ('{"a": 1} {"a": 2}', 'Extra data, column 10: {"a": 1} {"a": 2}'),
        ('"text"', 'a string: "text"'),
    ],
)
def test_a_line_that_is_not_an_object_is_named(invoke, write_file, line, problem):
    write_file("data.jsonl", '{"a": 1}\n\n{"a": 2}\n{"a": 3}\n{"a": 4}\n{"a": 5}\n' + line + "\n{\"a\": 8}\n")
    expect_error(invoke("zscore", "data.jsonl"), f"data.jsonl: line 7: not a JSON object ({problem})")


def test_a_bad_line_after_the_first_batches_is_named(invoke, write_file):
    write_file("big.jsonl", _lines({"a": i % 17, "b": "x"} for i in range(5000)) + "{oops}\n")
    expect_error(
        invoke("zscore", "big.jsonl", "--batch-rows", "4KB"),
        "big.jsonl: line 5001: not a JSON object (Expecting property name enclosed in double quotes, column 2: {oops})",
    )


PAD = "x" * 100


def test_a_key_after_the_first_rows_is_named(invoke, write_file):
    rows = [{"a": i % 17, "pad": PAD} for i in range(12_000)] + [{"a": 1, "late": 2}]  # past the first megabyte
    write_file("late.jsonl", _lines(rows))
    expect_error(
        invoke("zscore", "late.jsonl"),
        "late.jsonl: line 12001: key 'late' is not among the keys of the first rows (a, pad), which fix the columns; "
        "put it in the first object (with null where it has no value)",
    )


def test_a_value_of_another_kind_after_the_first_rows_is_named(invoke, write_file):
    rows = [{"a": i % 17, "s": PAD} for i in range(12_000)] + [{"a": 1, "s": 5}]
    write_file("kind.jsonl", _lines(rows))
    expect_error(
        invoke("zscore", "kind.jsonl", "-c", "a"),
        "kind.jsonl: line 12001: key 's' holds 5 (an integer), but strings in the first rows, which fix its type",
    )


MIXED = [{"a": 1, "m": 1}, {"a": 2, "m": "n/a"}, {"a": 4, "m": 2.5}, {"a": 3, "m": None}]


def test_mixed_numbers_and_strings_read_as_csv_does(invoke_ok, write_file):
    write_file("m.jsonl", _lines(MIXED))
    write_file("m.csv", "a,m\n1,1\n2,n/a\n4,2.5\n3,\n")
    want = invoke_ok("minmax", "m.csv", "-c", "a,m").stdout
    assert invoke_ok("minmax", "m.jsonl", "-c", "a,m", "--to", "csv").stdout == want
    # untouched, each value comes out as it went in: 1 a number, "n/a" a string
    out = [json.loads(line) for line in invoke_ok("minmax", "m.jsonl", "-q").stdout.splitlines()]
    assert [r["m"] for r in out] == [1, "n/a", 2.5, None]


def test_mixed_values_that_are_not_numbers_fail_as_in_csv(invoke, write_file):
    write_file("m.jsonl", _lines([{"a": 1, "m": 1}, {"a": 2, "m": "lots"}, {"a": 3, "m": {"x": 1}}]))
    write_file("m.csv", "a,m\n1,1\n2,lots\n3,x\n")
    assert invoke("minmax", "m.csv", "-c", "m").stderr == invoke("minmax", "m.jsonl", "-c", "m").stderr
    expect_error(invoke("minmax", "m.jsonl", "-c", "m"), "column 'm', row 2: 'lots' is not a number")


def test_nan_and_infinity_tokens_read_as_csv_nan_and_inf(invoke_ok, invoke, write_file):
    # Python's json writes them; NaN is a missing value, Infinity an infinite one.
    write_file("n.jsonl", json.dumps({"a": 1.0}) + "\n" + _lines([{"a": float("nan")}, {"a": 3.0}, {"a": float("inf")}, {"a": 2.0}]))
    write_file("n.csv", "a\n1.0\nnan\n3.0\ninf\n2.0\n")
    assert invoke("zscore", "n.jsonl").stderr == invoke("zscore", "n.csv").stderr  # the same error for inf
    want = invoke_ok("zscore", "n.csv", "--inf", "missing").stdout
    assert invoke_ok("zscore", "n.jsonl", "--inf", "missing", "--to", "csv").stdout == want
    out = invoke_ok("zscore", "n.jsonl", "--inf", "missing").stdout
    assert [strict_json(line)["a"] is None for line in out.splitlines()] == [False, True, False, True, False]


@pytest.mark.parametrize("compressed", [False, True])
def test_standard_input_plain_and_gzip(invoke_ok, write_file, compressed):
    data = _lines(MIXED).encode()
    write_file("m.jsonl", data)
    want = invoke_ok("minmax", "m.jsonl", "-c", "a,m").stdout
    assert invoke_ok("minmax", "-", "-c", "a,m", input=gzip.compress(data) if compressed else data).stdout == want
    write_file("m.jsonl.gz", gzip.compress(data))
    assert invoke_ok("minmax", "m.jsonl.gz", "-c", "a,m").stdout == want


def test_a_json_array_on_standard_input_read_twice(invoke_ok, pandas_files, workdir):
    data = (workdir / "t.json").read_bytes()
    want = invoke_ok("zscore", "t.csv", "-g", "k").stdout
    assert invoke_ok("zscore", "-", "-g", "k", "--to", "csv", "--batch-rows", "1KB", input=data).stdout == want


@pytest.mark.parametrize(
    "text, problem",
    [
        ('[{"a": 1}, 2]', "item 2: not a JSON object (a number)"),
        ('[{"a": 1}, {"a": 2}', "line 1: not a JSON array of objects (it ends before its closing ])"),
        ('[{"a": 1}\n {"a": 2}]', "line 2: not a JSON array of objects (expected , or ] after item 1)"),
        ('[{"a": 1}] [', "line 1: not a JSON array of objects (more after its closing ])"),
        ("[]", "input is empty (an empty array)"),
    ],
)
def test_an_array_that_is_not_of_objects_is_named(invoke, write_file, text, problem):
    write_file("a.json", text)
    expect_error(invoke("zscore", "a.json"), f"a.json: {problem}")


def test_csv_to_json_types_text_by_its_values(invoke_ok, write_file):
    write_file("t.csv", "name,code,x,n\nab,007,1.5,4\ncd,12,2.5,\nef,x,,6\n")
    out = strict_json(invoke_ok("minmax", "t.csv", "-c", "x", "--to", "json").stdout)
    assert out == [
        {"name": "ab", "code": "007", "x": 0.0, "n": 4},
        {"name": "cd", "code": "12", "x": 1.0, "n": None},
        {"name": "ef", "code": "x", "x": None, "n": 6},
    ]


def test_an_empty_result_is_an_empty_array(invoke_ok, write_file):
    write_file("t.csv", "x\n")
    assert invoke_ok("minmax", "t.csv", "-c", "x", "--to", "json").stdout == "[]\n"


def test_inverse_to_json_writes_each_result_as_what_it_is(invoke_ok, write_file):
    write_file("i.jsonl", _lines({"v": v} for v in [10, 20, 40, 30]))
    invoke_ok("minmax", "i.jsonl", "--save-params", "p.json", "-o", "z.jsonl")
    back = invoke_ok("minmax", "z.jsonl", "--params", "p.json", "--inverse").stdout
    assert back == open("i.jsonl").read().replace(" ", "")
    write_file("z2.jsonl", '{"v": 0.0}\n{"v": 0.55}\n{"v": null}\n')
    back = invoke_ok("minmax", "z2.jsonl", "--params", "p.json", "--inverse").stdout
    assert back == '{"v":10}\n{"v":26.5}\n{"v":null}\n'  # JSON holds both: no error, as Parquet would give


def test_crlf_and_another_encoding(invoke_ok, write_file, workdir):
    write_file("e.jsonl", _lines([{"s": "\u00e9\u2603", "x": 1}, {"s": "b", "x": 3}]))
    invoke_ok("minmax", "e.jsonl", "--to", "json", "--line-terminator", "crlf", "--output-encoding", "latin-1", "-o", "e.json")
    data = (workdir / "e.json").read_bytes()
    assert data == b'[\r\n{"s":"\xe9\\u2603","x":0.0},\r\n{"s":"b","x":1.0}\r\n]\r\n'
    assert json.loads(data.decode("latin-1")) == [{"s": "\u00e9\u2603", "x": 0.0}, {"s": "b", "x": 1.0}]


@pytest.fixture
def jsonl_parts(workdir):
    frame = parts_table(400)
    write_parts(workdir / "csv", frame, "csv")
    os.makedirs(workdir / "js")
    for name in sorted(os.listdir(workdir / "csv")):
        pl.read_csv(workdir / "csv" / name, infer_schema=False).with_columns(pl.col("x", "y", "z").cast(pl.Float64)).write_ndjson(
            workdir / "js" / name.replace(".csv", ".jsonl")
        )
    return frame


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_a_directory_of_parts(invoke_ok, jsonl_parts, workdir, engine):
    pytest.importorskip("distributed") if engine == "dask" else None
    args = ["zscore", "-c", "x,y,z", "-g", "grp", "--engine", engine]
    invoke_ok(*args, "csv", "-o", "want.csv", "--summary-json", "want.json")
    invoke_ok(*args, "js", "-o", "got.jsonl", "--save-params", "p.json", "--summary-json", "got.json")
    got = pl.read_ndjson(workdir / "got.jsonl")
    expected = pl.read_csv(workdir / "want.csv", schema_overrides={"id": pl.String, "grp": pl.String})
    np.testing.assert_allclose(got["x"].to_numpy(), expected["x"].to_numpy(), rtol=1e-12)
    assert got["id"].to_list() == expected["id"].to_list()
    summaries = [strict_json(open(name).read()) for name in ("want.json", "got.json")]
    assert summaries[0]["rows"] == summaries[1]["rows"] == 400
    assert summaries[0]["columns"] == summaries[1]["columns"]
    invoke_ok("zscore", "js", "--params", "p.json", "--engine", engine, "-o", "one.json", "--no-header")
    array = strict_json(open("one.json").read())
    assert [row["id"] for row in array] == expected["id"].to_list()
    invoke_ok("zscore", "one.json", "--params", "p.json", "--inverse", "-o", "back.csv")
    back = pl.read_csv("back.csv", schema_overrides={"id": pl.String, "grp": pl.String})
    np.testing.assert_allclose(back["z"].to_numpy(), jsonl_parts["z"].to_numpy(), rtol=1e-9)


def test_split_jsonl_output_parts_join_without_a_header(invoke_ok, jsonl_parts, workdir):
    invoke_ok("zscore", "-c", "x", "js", "-o", "out/")
    invoke_ok("zscore", "-c", "x", "js", "-o", "one.jsonl")
    parts = b"".join((workdir / "out" / name).read_bytes() for name in sorted(os.listdir(workdir / "out")))
    assert (workdir / "one.jsonl").read_bytes() == parts


def test_a_key_spelled_with_escapes_is_the_same_key(invoke_ok, write_file):
    write_file("e.jsonl", '{"caf\\u00e9": 1, "q\\"k": 2}\n{"caf\u00e9": 3, "q\\u0022k": 6}\n')
    out = [json.loads(line) for line in invoke_ok("minmax", "e.jsonl").stdout.splitlines()]
    assert out == [{"caf\u00e9": 0.0, 'q"k': 0.0}, {"caf\u00e9": 1.0, 'q"k': 1.0}]


def test_json_values_are_left_out_with_their_reason(invoke_ok, write_file):
    write_file("d.jsonl", _lines(ROWS))
    out = invoke_ok("stats", "d.jsonl", "--json").stdout
    assert strict_json(out)["skipped"]["tags"] == "type JSON (objects, arrays, or values of several kinds)"


def test_completion_reads_the_keys_of_the_first_line(write_file):
    from softnorm_cli.io.header import column_names

    path = write_file("d.jsonl", _lines(ROWS))
    assert column_names(str(path)) == list(ROWS[0])


def test_a_fit_reads_only_the_keys_it_needs_and_still_finds_a_line_that_is_not_an_object(workdir):
    from softnorm_cli.io.base import BatchSize
    from softnorm_cli.io.source import open_source

    rows = [{"id": f"r{i}", "x": i * 0.5, "n": {"deep": i}} for i in range(40_000)]  # past the first megabyte
    text = "".join(json.dumps(r) + "\n" for r in rows)
    (workdir / "a.jsonl").write_text(text, encoding="utf-8")
    with open_source(str(workdir / "a.jsonl"), batch=BatchSize(bytes=256 << 10)) as source:
        got = pl.concat(b.frame for b in source.batches(["x"], needed=["x"]))
        assert got.columns == ["x"] and got["x"].to_list() == [r["x"] for r in rows]
        whole = pl.concat(b.frame for b in source.batches(["x"]))
        assert whole.columns == ["id", "x", "n"] and whole["x"].equals(got["x"])
    bad = text.replace(json.dumps(rows[30_000]) + "\n", "[1, 2]\n")
    (workdir / "b.jsonl").write_text(bad, encoding="utf-8")
    with open_source(str(workdir / "b.jsonl"), batch=BatchSize(bytes=256 << 10)) as source:
        with pytest.raises(MalformedInputError, match=r"line 30001: not a JSON object \(an array: \[1, 2\]\)"):
            list(source.batches(["x"], needed=["x"]))


def test_standard_input_with_blank_lines_before_an_array_is_read_as_json(invoke_ok):
    text = '\n\n   \n  [\n  {"a": 1, "b": 2},\n  {"a": 3, "b": 5}\n]\n'
    result = invoke_ok("minmax", "-c", "a,b", input=text)
    assert result.stdout == '[\n{"a":0.0,"b":0.0},\n{"a":1.0,"b":1.0}\n]\n'
    lines = invoke_ok("minmax", "-c", "a", input='\n\n\n\n\n\n\n\n\n{"a": 1}\n{"a": 3}\n')  # JSON Lines after blank lines
    assert lines.stdout == '{"a":0.0}\n{"a":1.0}\n'

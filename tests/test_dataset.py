"""Datasets of many files on the local engine: a glob or a directory in; one file, standard output
or a directory of parts out; fitted together as one table, written atomically, and every error around them."""

from __future__ import annotations

import json
import os

import numpy as np
import polars as pl
import pytest

from helpers import (
    PART_ARGS,
    PARTS,
    assert_same_table,
    expect_error,
    joined_csv,
    parts_table,
    read_one,
    read_parts,
    write_parts,
)


@pytest.mark.parametrize("args", PART_ARGS, ids=lambda a: "-".join(a[:1] + a[3:]))
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_parts_are_fitted_together_as_oneparts_table(invoke_ok, workdir, args, fmt):
    frame = parts_table()
    frame.write_csv("all.csv")
    write_parts("in", frame, fmt)
    invoke_ok(*args, "all.csv", "-o", "whole.csv")
    result = invoke_ok(*args, f"in/*.{fmt}", "-o", "out/", "--summary-json", "s.json")
    assert result.stdout == ""
    got = read_parts("out", fmt)
    assert_same_table(got.select(frame.columns), read_one("whole.csv"))
    summary = json.loads(open("s.json").read())
    assert summary["engine"] == {"name": "local", "workers": 1, "partitions": PARTS}
    assert summary["rows"] == frame.height and summary["input"] == f"in/*.{fmt}" and summary["output"] == "out"


@pytest.mark.parametrize("args", [PART_ARGS[0], PART_ARGS[4]], ids=["zscore", "zscore-grouped"])
def test_one_csv_file_is_the_parts_joined_under_one_header(invoke_ok, workdir, args):
    write_parts("in", parts_table(), "csv")
    invoke_ok(*args, "in", "-o", "out/")
    result = invoke_ok(*args, "in", "-o", "one.csv", "--summary-json", "s.json")
    assert result.stdout == ""
    want = joined_csv("out")
    assert open("one.csv", "rb").read() == want
    assert want.count(b"id,grp,x,y,z\n") == 1
    assert json.loads(open("s.json").read())["output"] == "one.csv"
    assert invoke_ok(*args, "in").stdout_bytes == want  # standard output: the same bytes
    assert sorted(os.listdir(".")) == ["in", "one.csv", "out", "s.json"]  # no scratch parts left


def test_one_parquet_file_has_a_row_group_or_more_per_part(invoke_ok, workdir):
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_parts("in", parts_table(), "parquet")
    invoke_ok("zscore", "-c", "x,y", "in", "-o", "out/")
    invoke_ok("zscore", "-c", "x,y", "in", "-o", "one.parquet")
    parts = [pq.read_table(f"out/part-{i:05d}.parquet") for i in range(PARTS)]
    joined = pq.ParquetFile("one.parquet")
    assert joined.metadata.num_row_groups >= PARTS
    assert joined.read().equals(pa.concat_tables(parts))


def test_compressed_csv_and_parquet_to_a_pipe(invoke_ok, workdir):
    import gzip
    import io

    write_parts("in", parts_table(), "parquet")
    invoke_ok("minmax", "-c", "x", "in", "-o", "out/", "--to", "csv")
    invoke_ok("minmax", "-c", "x", "in", "-o", "one.csv.gz")
    assert gzip.decompress(open("one.csv.gz", "rb").read()) == joined_csv("out")
    piped = invoke_ok("minmax", "-c", "x", "in").stdout_bytes
    assert_same_table(pl.read_parquet(io.BytesIO(piped)), read_parts("out"))


def test_one_file_joins_parts_whose_text_columns_got_different_types(invoke_ok, workdir):
    import pyarrow.parquet as pq

    os.makedirs("in")
    open("in/a.csv", "w").write('id,n,"x, first",x\n1,1,t,1\n2,2,u,2\n')
    open("in/b.csv", "w").write('id,n,"x, first",x\nabc,2.5,v,4\n')
    invoke_ok("minmax", "in", "-c", "x", "-o", "one.parquet")
    table = pq.read_table("one.parquet")
    assert str(table.schema.field("id").type) == "large_string" and str(table.schema.field("n").type) == "double"
    assert table.column("id").to_pylist() == ["1", "2", "abc"] and table.column("x").to_pylist() == [0.0, 1 / 3, 1.0]
    invoke_ok("minmax", "in", "-c", "x", "-o", "one.csv")
    assert open("one.csv").read() == 'id,n,"x, first",x\n1,1,t,0.0\n2,2,u,0.3333333333333333\nabc,2.5,v,1.0\n'


@pytest.mark.parametrize("output", ["one.csv", "one.parquet"])
def test_one_file_needs_the_same_columns_in_every_part(invoke, workdir, output):
    os.makedirs("in")
    open("in/a.csv", "w").write("x,y\n1,2\n")
    open("in/b.csv", "w").write("x,y,z\n3,4,5\n")
    expect_error(
        invoke("zscore", "in", "-c", "x", "-o", output),
        "in/b.csv: its columns differ from those of in/a.csv; one output file needs the same columns in every part "
        "(-o DIR/ writes a directory of parts)",
    )
    assert sorted(os.listdir(".")) == ["in"]


def test_one_file_in_and_a_directory_out_is_one_part(invoke_ok, workdir):
    parts_table().write_csv("all.csv")
    invoke_ok("zscore", "all.csv", "-c", "x", "-o", "whole.csv")
    invoke_ok("zscore", "all.csv", "-c", "x", "-o", "out/")
    assert os.listdir("out") == ["part-00000.csv"]
    assert open("out/part-00000.csv").read() == open("whole.csv").read()


def test_an_existing_directory_of_parts_gets_parts(invoke_ok, workdir):
    write_parts("in", parts_table(), "csv")
    invoke_ok("zscore", "in", "-c", "x", "-o", "out/")
    invoke_ok("minmax", "in", "-c", "x", "-o", "out")  # an existing directory of parts
    invoke_ok("minmax", "in", "-c", "x", "-o", "want/")
    assert open("out/part-00003.csv").read() == open("want/part-00003.csv").read()
    assert (read_parts("out")["x"].min(), read_parts("out")["x"].max()) == (0.0, 1.0)


def test_a_directory_is_its_data_files_in_name_order(invoke_ok, workdir):
    frame = parts_table()
    write_parts("in", frame, "csv")
    for bookkeeping in ("_SUCCESS", ".chunk00.csv.crc", "README"):
        open(os.path.join("in", bookkeeping), "w").write("not data\n")
    invoke_ok("zscore", "in", "-c", "x", "-o", "out/")
    assert read_parts("out")["id"].to_list() == frame["id"].to_list()


def test_parts_keep_the_rows_of_their_input_part(invoke_ok, workdir):
    paths = write_parts("in", parts_table(), "parquet")
    invoke_ok("minmax", "in", "-c", "x", "-o", "out/")
    for i, path in enumerate(paths):
        assert pl.read_parquet(f"out/part-{i:05d}.parquet")["id"].to_list() == pl.read_parquet(path)["id"].to_list()


def test_csv_parts_can_be_written_as_parquet(invoke_ok, workdir):
    write_parts("in", parts_table(), "csv")
    invoke_ok("zscore", "in", "-c", "x", "-o", "out/", "--to", "parquet")
    assert read_parts("out", "parquet").height == 2000


def test_saved_parameters_from_a_dataset_apply_to_another(invoke_ok, workdir):
    frame = parts_table(seed=4)
    write_parts("train", frame, "csv")
    write_parts("test", parts_table(seed=5), "csv", parts=3)
    parts_table(seed=5).write_csv("test.csv")
    invoke_ok("zscore", "train", "-c", "x,y", "-g", "grp", "--save-params", "p.json", "--fit-only")
    invoke_ok("zscore", "test", "--params", "p.json", "-o", "out/")
    invoke_ok("zscore", "test.csv", "--params", "p.json", "-o", "one.csv")
    assert_same_table(read_parts("out"), read_one("one.csv"))
    invoke_ok("zscore", "out", "--params", "p.json", "--inverse", "-o", "back/")
    assert_same_table(read_parts("back"), parts_table(seed=5))


def test_an_earlier_output_of_parts_is_replaced_whole(invoke_ok, workdir):
    write_parts("in", parts_table(), "csv")
    invoke_ok("zscore", "in", "-c", "x", "-o", "out/")
    write_parts("fewer", parts_table(), "csv", parts=2)
    invoke_ok("zscore", "fewer", "-c", "x", "-o", "out/")
    assert sorted(os.listdir("out")) == ["part-00000.csv", "part-00001.csv"]
    assert [n for n in os.listdir(".") if n.startswith(".")] == []


def test_a_directory_with_other_files_is_not_overwritten(invoke, workdir):
    write_parts("in", parts_table(), "csv")
    os.makedirs("out")
    open("out/notes.txt", "w").write("mine\n")
    expect_error(invoke("zscore", "in", "-c", "x", "-o", "out/"), "out: holds other files than parts (notes.txt, ...); choose another -o")
    assert os.listdir("out") == ["notes.txt"]


def test_a_bad_part_names_itself_and_leaves_no_output(invoke, workdir):
    frame = parts_table()
    write_parts("in", frame, "csv")
    open("in/chunk02.csv", "a").write("999999,a,oops,1,2\n")
    result = invoke("zscore", "in", "-c", "x,y", "-o", "out/")
    expect_error(result, "in/chunk02.csv: column 'x', row 501: 'oops' is not a number")
    assert sorted(os.listdir(".")) == ["in"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["in", "-c", "x", "-o", "out"], "cannot tell the output format of 'out' from its extension; use --to, or -o out/ for a directory of parts"),
        (["in", "-c", "x", "--in-place"], "--in-place works on one file, not on a dataset of parts or with --engine dask"),
        (["-", "-c", "x", "-o", "out/", "--engine", "dask"], "--engine dask reads files: give a path, a glob or a directory, not stdin"),
        (["-", "-c", "x", "-o", "out/"], "-o out/ writes a directory of parts, one per input part: give a file or a dataset, not stdin"),
        (["in", "-c", "x", "-o", "out/", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --engine dask"),
    ],
)
def test_usage_errors(invoke, workdir, args, message):
    write_parts("in", parts_table(), "csv")
    result = invoke("zscore", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_dataset_errors(invoke, workdir):
    expect_error(invoke("zscore", "nothing/*.csv", "-c", "x", "-o", "out/"), "nothing/*.csv: matches no file")
    os.makedirs("empty")
    expect_error(invoke("zscore", "empty", "-c", "x", "-o", "out/"), "empty: no files of a format softnorm reads in it (CSV, TSV, Parquet, Arrow, JSON Lines, Excel)")
    write_parts("mixed", parts_table(), "csv", parts=2)
    parts_table().write_parquet("mixed/more.parquet")
    expect_error(
        invoke("zscore", "mixed", "-c", "x", "-o", "out/"),
        "mixed: parts of one dataset must be of one format (found 2 csv, 1 parquet); "
        "read one format at a time with a glob, e.g. 'mixed/*.csv'",
    )
    # An unknown extension is what --from is for: it says what the text is.
    for name in ("notes.txt", "more.txt"):
        open(f"mixed/{name}", "w").write("x\n1\n3\n")
    expect_error(
        invoke("zscore", "mixed/*.txt", "-c", "x", "-o", "out/"),
        "mixed/*.txt: parts of one dataset must be of one format (found 2 unknown); use --from to say which",
    )
    assert invoke("zscore", "mixed/*.txt", "-c", "x", "-o", "out/", "--from", "csv").exit_code == 0


def test_a_directory_as_its_own_output_is_called_a_directory(invoke, workdir):
    write_parts("in", parts_table(), "csv")
    for output in ("in", "in/"):
        result = invoke("zscore", "in", "-c", "x", "-o", output)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1] == f"Error: -o {output} is the input directory; write the output to another directory"


def test_row_problems_name_their_part(invoke_ok, workdir):
    os.makedirs("in")
    open("in/a.csv", "w").write("x,z\n1,2\n")
    open("in/b.csv", "w").write("x,z\n3,4\n,\n")
    result = invoke_ok("softmax", "in", "-c", "x,z", "-o", "out/")
    assert "softnorm: warning: in/b.csv: row 2 over columns 'x', 'z': no values; results missing" in result.stderr


def test_fsspec_urls_are_read_part_by_part(invoke_ok, workdir):
    fsspec = pytest.importorskip("fsspec")
    frame = parts_table()
    frame.write_csv("all.csv")
    fs = fsspec.filesystem("memory")
    size = frame.height // 2
    for i in range(2):
        with fs.open(f"/softnorm-test/part{i}.csv", "wb") as f:
            frame.slice(i * size, size).write_csv(f)
    try:
        invoke_ok("zscore", "memory://softnorm-test/", "-c", "x,y", "-o", "out/")
        invoke_ok("zscore", "all.csv", "-c", "x,y", "-o", "whole.csv")
        assert_same_table(read_parts("out"), read_one("whole.csv"))
    finally:
        fs.rm("/softnorm-test", recursive=True)


@pytest.mark.parametrize("args", [["zscore", "-c", "x"], ["zscore", "-c", "x", "-g", "g"], ["softmax", "-c", "x"]])
def test_an_empty_part_is_written_empty(invoke_ok, workdir, args):
    os.makedirs("in")
    open("in/a.csv", "w").write("g,x\na,1\nb,2\n")
    open("in/b.csv", "w").write("g,x\n")
    open("in/c.csv", "w").write("g,x\na,3\n")
    open("all.csv", "w").write("g,x\na,1\nb,2\na,3\n")
    invoke_ok(*args, "in", "-o", "out/")
    whole = invoke_ok(*args, "all.csv").stdout
    assert open("out/part-00001.csv").read() == "g,x\n"
    rows = [line for i in (0, 2) for line in open(f"out/part-{i:05d}.csv").read().splitlines()[1:]]
    assert rows == whole.splitlines()[1:]


def test_a_file_named_like_a_glob_is_that_file(invoke_ok, workdir):
    open("scores[1].csv", "w").write("x\n1\n2\n")
    assert invoke_ok("minmax", "scores[1].csv", "-c", "x").stdout == "x\n0.0\n1.0\n"


def test_a_parquet_file_named_like_a_glob_is_that_file(invoke_ok, workdir):
    pl.DataFrame({"x": [1.0, 2.0]}).write_parquet("scores[1].parquet")
    assert invoke_ok("minmax", "scores[1].parquet", "-c", "x", "--to", "csv").stdout == "x\n0.0\n1.0\n"


def test_a_part_without_a_chosen_column_names_both(invoke, workdir):
    os.makedirs("in")
    open("in/a.csv", "w").write("k,x,y\n1,2,3\n4,5,6\n")
    open("in/b.csv", "w").write("k,x\n1,2\n")
    expect_error(invoke("zscore", "in", "-o", "out/"), "column 'y' is not in in/b.csv (columns are: k, x)")
    assert sorted(os.listdir(".")) == ["in"]


def test_a_part_that_cannot_be_opened_is_named_as_the_user_wrote_it(invoke, workdir):
    os.makedirs("in")
    open("in/a.csv", "w").write("x\n1\n2\n")
    open("in/b.csv", "w").write("")
    expect_error(invoke("zscore", "in", "-c", "x", "-o", "out/"), "in/b.csv: input is empty")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_stats_of_a_dataset_are_those_of_the_whole_table_per_group_too(invoke_ok, workdir, fmt):
    frame = parts_table()
    frame.write_csv("all.csv")
    write_parts("in", frame, fmt)
    whole = json.loads(invoke_ok("stats", "all.csv", "-c", "x,y,z", "-g", "grp", "--json").stdout)
    for dataset in (f"in/*.{fmt}", "in"):
        got = json.loads(invoke_ok("stats", dataset, "-c", "x,y,z", "-g", "grp", "--json").stdout)
        assert got["rows"] == whole["rows"] == frame.height
        assert [g["key"] for g in got["groups"]["figures"]] == [g["key"] for g in whole["groups"]["figures"]]
        pairs = [(got["columns"], whole["columns"])] + [
            (a["columns"], b["columns"]) for a, b in zip(got["groups"]["figures"], whole["groups"]["figures"])
        ]
        for mine, theirs in pairs:
            for name in ("x", "y", "z"):
                assert [mine[name][k] for k in ("count", "missing", "min", "max")] == [
                    theirs[name][k] for k in ("count", "missing", "min", "max")
                ]
                np.testing.assert_allclose(
                    [mine[name][k] for k in ("mean", "std", "sum")], [theirs[name][k] for k in ("mean", "std", "sum")], rtol=1e-12
                )
    assert invoke_ok("stats", "in").stdout.splitlines()[1].startswith(f"in · {frame.height:,} rows · ")


def test_stats_of_a_url_and_errors_naming_their_part(invoke, invoke_ok, workdir):
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    for i, text in enumerate(["x\n1\n2\n", "x\n3\n"]):
        with fs.open(f"/softnorm-stats/part{i}.csv", "wb") as f:
            f.write(text.encode())
    try:
        data = json.loads(invoke_ok("stats", "memory://softnorm-stats/", "--json").stdout)
    finally:
        fs.rm("/softnorm-stats", recursive=True)
    assert (data["rows"], data["columns"]["x"]["sum"], data["columns"]["x"]["max"]) == (3, 6.0, 3.0)
    os.makedirs("in")
    open("in/a.csv", "w").write("x,y\n1,2\n")
    open("in/b.csv", "w").write("x,y\n3,oops\n")
    expect_error(invoke("stats", "in"), "in/b.csv: column 'y', row 1: 'oops' is not a number")
    open("in/b.csv", "w").write("x\n3\n")
    expect_error(invoke("stats", "in"), "column 'y' is not in in/b.csv (columns are: x)")

"""Workbooks in and out: sheets of xlsx (written by xlsxwriter and by openpyxl), ods (pandas' odf writer)
and xls (xlwt) read as tables, and xlsx written; every result is compared with the CSV path on the same values."""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import polars as pl
import pytest
import xlsxwriter
from click.testing import CliRunner

from helpers import expect_error

X = [1.5, -2.25, 0.1, 3.0, 7.125, -0.5]
F = [2 * x for x in X]  # a formula's value, cached by xlsxwriter
DAYS = [datetime.date(2024, 1, d) for d in range(1, 7)]
FLAGS = [True, False, True, True, False, False]
NAMES = ["ant", "bee", "=cat", "dog", "", "eel"]  # text that starts like a formula stays text

# The same values as CSV writes them: what reading the workbook must equal, byte for byte.
CSV = "x,f,when,flag,name,n\n" + "".join(
    f"{x},{f},{d.isoformat()},{str(b).lower()},{name},{n}\n" for x, f, d, b, name, n in zip(X, F, DAYS, FLAGS, NAMES, [3, 1, 4, 1, 5, 9])
)


def _book(path, title: str | None = None) -> None:
    """A workbook of three sheets (xlsxwriter): Data, the table; Notes; Mixed, numbers among text and errors."""
    book = xlsxwriter.Workbook(path)
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    data = book.add_worksheet("Data")
    top = 0
    if title:
        data.write_string(0, 0, title)
        top = 2  # a blank row under the title
    data.write_row(top, 0, ["x", "f", "when", "flag", "name", "n"])
    for i, (x, d, b, name, n) in enumerate(zip(X, DAYS, FLAGS, NAMES, [3, 1, 4, 1, 5, 9]), start=top + 1):
        data.write_number(i, 0, x)
        data.write_formula(i, 1, f"=A{i + 1}*2", None, 2 * x)
        data.write_datetime(i, 2, datetime.datetime.combine(d, datetime.time()), date)
        data.write_boolean(i, 3, b)
        if name:
            data.write_string(i, 4, name)
        data.write_number(i, 5, n)
    book.add_worksheet("Notes").write_string(0, 0, "written by hand")
    mixed = book.add_worksheet("Mixed")
    mixed.write_row(0, 0, ["a", "b", "c"])
    for i in range(1, 6):
        mixed.write_number(i, 0, i * 1.5)
        if i == 3:
            mixed.write_string(i, 1, "oops")
            mixed.write_string(i, 2, "n/a")
        else:
            mixed.write_number(i, 1, i * 0.5)
            mixed.write_formula(i, 2, "=1/0", None, "#DIV/0!") if i == 4 else mixed.write_number(i, 2, i + 0.25)
    book.close()


@pytest.fixture
def book(workdir):
    _book("book.xlsx")
    (workdir / "book.csv").write_text(CSV)
    return "book.xlsx"


def _same(invoke_ok, first: str, second: str, *args) -> str:
    """The output of ``args`` on ``first`` and on ``second``, which must be the same bytes."""
    want = invoke_ok(*args[:1], second, *args[1:]).stdout
    got = invoke_ok(*args[:1], first, *args[1:]).stdout
    assert got == want
    return got


@pytest.mark.parametrize(
    "args",
    [
        ["zscore"],
        ["minmax", "-c", "x,f", "--range", "-1,1"],
        ["softmax", "-c", "x,f"],
        ["zscore", "-c", "x", "--suffix", "_z", "--ddof", "1"],
        ["zscore", "-c", "x,f", "-g", "flag"],
    ],
)
def test_a_sheet_gives_what_the_same_values_give_as_csv(invoke_ok, book, args):
    out = _same(invoke_ok, "book.xlsx", "book.csv", *args)
    assert out.splitlines()[0].startswith("x,f,when,flag,name,n")
    assert "=cat" in out and "2024-01-03" in out


def test_dates_booleans_and_text_are_left_out_by_their_type(invoke_ok, book):
    invoke_ok("zscore", "book.xlsx", "--summary-json", "s.json", "-q")
    summary = json.loads(open("s.json").read())
    assert summary["input"] == "book.xlsx [Data]"
    assert list(summary["columns"]) == ["x", "f", "n"]
    assert summary["skipped"] == {"when": "type date", "flag": "type boolean", "name": "text"}


def test_the_summary_names_the_sheet(invoke, book):
    result = invoke("stats", "book.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "book.xlsx [Data]" in result.stdout + result.stderr


def test_stats_says_what_reading_the_sheet_found(invoke, book):
    result = invoke("stats", "book.xlsx", "--sheet", "Mixed")
    assert result.exit_code == 0, result.stderr
    assert "book.xlsx [Mixed]: column 'b' is read as text: row 3 holds 'oops'" in result.stderr
    assert "column 'c' has 1 formula error" in result.stderr


def test_sheets_by_name_and_number(invoke, invoke_ok, book):
    by_name = invoke_ok("zscore", "book.xlsx", "--sheet", "Mixed", "-c", "a").stdout
    assert by_name == invoke_ok("zscore", "book.xlsx", "--sheet", "3", "-c", "a").stdout
    assert by_name.startswith("a,b,c\n-1.41421356")
    expect_error(invoke("zscore", "book.xlsx", "--sheet", "Sales"), "book.xlsx: no sheet 'Sales' (its sheets: 'Data', 'Notes', 'Mixed')")
    expect_error(invoke("zscore", "book.xlsx", "--sheet", "4"), "book.xlsx: no sheet 4 (it has 3 sheets: 'Data', 'Notes', 'Mixed')")


def test_text_among_numbers_makes_the_column_text_and_stops_a_selected_one_where_csv_would(invoke, book, write_file):
    # b holds 'oops' in its third row; c holds 'n/a' (a missing-value marker) and a formula error.
    result = invoke("zscore", "book.xlsx", "--sheet", "Mixed", "--summary-json", "s.json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(open("s.json").read())
    assert list(summary["columns"]) == ["a", "c"] and summary["skipped"] == {"b": "text"}
    assert summary["columns"]["c"]["before"]["missing"] == 2
    assert "book.xlsx [Mixed]: column 'b' is read as text: row 3 holds 'oops', not a number like most of its cells" in result.stderr
    assert "column 'c' has 1 formula error" in result.stderr and "row 4" in result.stderr
    lines = result.stdout.splitlines()
    assert lines[3].split(",")[1] == "oops" and lines[1].split(",")[1] == "0.5"  # the text and the numbers as they were
    write_file("mixed.csv", "a,b\n1.5,0.5\n3,1\n4.5,oops\n")
    expect_error(invoke("zscore", "mixed.csv", "-c", "b"), "column 'b', row 3: 'oops' is not a number")
    expect_error(invoke("zscore", "book.xlsx", "--sheet", "Mixed", "-c", "b"), "column 'b', row 3: 'oops' is not a number")


def test_a_title_above_the_header_is_skipped_with_skip_rows(invoke, invoke_ok, workdir):
    _book("titled.xlsx", title="Quarterly figures")
    (workdir / "book.csv").write_text(CSV)
    expect_error(
        invoke("zscore", "titled.xlsx"),
        "titled.xlsx [Data]: the header row holds only 'Quarterly figures'; "
        "if the rows above the header are a title, skip them with --skip-rows 2",
    )
    want = invoke_ok("zscore", "book.csv", "-c", "x").stdout
    assert invoke_ok("zscore", "titled.xlsx", "-c", "x", "--skip-rows", "2").stdout == want


def test_openpyxl_workbook_without_header_and_with_empty_cells(invoke_ok, workdir):
    sheet = openpyxl.Workbook()
    ws = sheet.active
    ws.title = "Only"
    rows = [[1.5, 10, "a"], [None, 20, "b"], [2.5, None, None], [4.0, 40, "d"]]
    for row in rows:
        ws.append(row)
    ws["C3"] = "=A3*2"  # openpyxl stores no cached value: the cell has none to read
    sheet.save("plain.xlsx")
    (workdir / "plain.csv").write_text("1.5,10,a\n,20,b\n2.5,,\n4,40,d\n")
    out = _same(invoke_ok, "plain.xlsx", "plain.csv", "minmax", "--no-header", "-c", "1,2")
    assert out.splitlines()[0] == "0.0,0.0,a"  # no header in, none out


def test_ods_and_xls_give_what_csv_gives(invoke_ok, workdir):
    frame = pd.DataFrame({"x": X, "n": [3, 1, 4, 1, 5, 9], "name": ["ant", "bee", "cat", "dog", "elk", "eel"]})
    frame.to_excel("book.ods", engine="odf", index=False)
    frame.to_csv("book.csv", index=False)
    _same(invoke_ok, "book.ods", "book.csv", "zscore", "-c", "x,n")
    xlwt = pytest.importorskip("xlwt")
    legacy = xlwt.Workbook()
    sheet = legacy.add_sheet("Legacy")
    for j, name in enumerate(frame.columns):
        sheet.write(0, j, name)
        for i, value in enumerate(frame[name].tolist(), start=1):
            sheet.write(i, j, value)
    legacy.save("book.xls")
    _same(invoke_ok, "book.xls", "book.csv", "zscore", "-c", "x,n")


def test_pandas_row_labels_are_left_out(invoke_ok, workdir):
    pd.DataFrame({"x": X, "y": F}).to_excel("labelled.xlsx")  # its index: a first column without a name
    invoke_ok("zscore", "labelled.xlsx", "--summary-json", "s.json", "-q")
    assert json.loads(open("s.json").read())["skipped"] == {"": "row labels (an index)"}


def test_whole_numbers_are_integers_as_in_parquet(invoke_ok, workdir):
    rows = list(range(1, 13))
    pd.DataFrame({"id": rows, "amount": [41, 7, 12, 90, 33, 5, 18, 64, 2, 71, 29, 50]}).to_excel("ints.xlsx", index=False)
    invoke_ok("zscore", "ints.xlsx", "--summary-json", "s.json", "-q", "--save-params", "p.json", "-o", "z.xlsx")
    summary = json.loads(open("s.json").read())
    assert summary["skipped"] == {"id": "identifiers (unique integers in order)"}
    assert json.loads(open("p.json").read())["integer_columns"] == ["amount"]
    back = invoke_ok("zscore", "z.xlsx", "--params", "p.json", "--inverse").stdout
    assert back.splitlines()[:3] == ["id,amount", "1,41", "2,7"]


def test_a_workbook_on_standard_input(invoke_ok, book):
    data = open("book.xlsx", "rb").read()
    piped = invoke_ok("zscore", "-", "-c", "x", input=data).stdout
    assert piped == invoke_ok("zscore", "book.csv", "-c", "x").stdout


def test_content_wins_over_from_and_the_name(invoke_ok, book):
    os.rename("book.xlsx", "book.parquet")
    assert invoke_ok("zscore", "book.parquet", "--from", "parquet", "-c", "x").stdout == invoke_ok("zscore", "book.csv", "-c", "x").stdout


@pytest.mark.parametrize("stdin", [False, True])
def test_a_damaged_workbook_is_one_line(invoke, book, write_file, stdin):
    data = open("book.xlsx", "rb").read()
    write_file("cut.xlsx", data[: len(data) // 2])
    write_file("junk.xlsx", b"this is not a workbook at all\n")
    result = invoke("zscore", *([] if stdin else ["cut.xlsx"]), input=data[: len(data) // 2] if stdin else None)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"softnorm: error: {'standard input' if stdin else 'cut.xlsx'}: not a readable workbook (")
    assert result.stderr.count("\n") == 1
    if not stdin:
        expect_error(invoke("zscore", "junk.xlsx"), "junk.xlsx: not a readable workbook (neither an xlsx/ods zip nor an xls file)")


def test_a_repeated_header_name_is_an_error(invoke, workdir):
    book = xlsxwriter.Workbook("twice.xlsx")
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["a", "b", "a"])
    sheet.write_row(1, 0, [1, 2, 3])
    book.close()
    expect_error(invoke("zscore", "twice.xlsx"), "twice.xlsx [Sheet1]: column name 'a' appears more than once in the header")


def _read_back(path: str) -> tuple[str, list[tuple]]:
    sheet = openpyxl.load_workbook(path).active
    return sheet.title, list(sheet.iter_rows(values_only=True))


def test_xlsx_written_holds_the_csv_outputs_values(invoke_ok, book):
    csv_out = invoke_ok("zscore", "book.xlsx", "-c", "x,f").stdout
    invoke_ok("zscore", "book.xlsx", "-c", "x,f", "-o", "out.xlsx")
    title, rows = _read_back("out.xlsx")
    assert title == "Data"  # the input's sheet
    want = pl.read_csv(io.StringIO(csv_out), infer_schema=False)
    assert rows[0] == tuple(want.columns)
    for row, expected in zip(rows[1:], want.iter_rows()):
        x, f, when, flag, name, n = row
        assert (x, f) == (float(expected[0]), float(expected[1]))  # every digit: the doubles themselves
        assert when == datetime.datetime.fromisoformat(expected[2]) and flag == (expected[3] == "true")
        assert name == expected[4] and n == int(expected[5])
    assert rows[3][4] == "=cat" and rows[5][4] is None  # text, not a formula; an empty cell


def test_csv_to_xlsx_names_the_sheet_softnorm_and_keeps_nulls_empty(invoke_ok, write_file):
    write_file("in.csv", "a,b,t\n1.5,,x\n2.5,4,\n,6,z\n")
    invoke_ok("minmax", "in.csv", "-c", "a,b", "--to", "excel", "-o", "out.xlsx")
    assert _read_back("out.xlsx") == ("softnorm", [("a", "b", "t"), (0, None, "x"), (1, 0, None), (None, 1, "z")])


def test_xlsx_to_standard_output(invoke_ok, book):
    result = invoke_ok("zscore", "book.xlsx", "-c", "x", "--to", "excel")
    assert zipfile.ZipFile(io.BytesIO(result.stdout_bytes)).testzip() is None
    first = invoke_ok("zscore", "book.csv", "-c", "x").stdout.splitlines()[1].split(",")[0]
    assert openpyxl.load_workbook(io.BytesIO(result.stdout_bytes)).active["A2"].value == float(first)


def test_beyond_excels_rows_is_one_line(invoke, book, monkeypatch):
    from softnorm_cli.io.excel import writer

    monkeypatch.setattr(writer, "MAX_ROWS", 4)
    expect_error(
        invoke("zscore", "book.csv", "-c", "x", "-o", "out.xlsx"),
        "the table has more than 3 rows, and an Excel worksheet holds 4 with its header; write CSV or Parquet instead (--to)",
    )
    assert not os.path.exists("out.xlsx")


@pytest.mark.parametrize("name", ["out.xls", "out.ods", "out.xlsm"])
def test_only_xlsx_is_written(invoke, book, name):
    result = invoke("zscore", "book.csv", "-c", "x", "-o", name)
    assert result.exit_code == 2
    assert f"softnorm writes .xlsx workbooks, not {name[3:]}: use -o out.xlsx" in result.stderr
    assert not os.path.exists(name)


def _parts(folder: str, frame: pl.DataFrame, count: int = 3) -> None:
    os.makedirs(folder, exist_ok=True)
    os.makedirs(folder + "_csv", exist_ok=True)
    size = -(-frame.height // count)
    for i in range(count):
        piece = frame.slice(i * size, size)
        piece.to_pandas().to_excel(f"{folder}/part{i}.xlsx", index=False, engine="openpyxl")  # every digit of a double
        piece.write_csv(f"{folder}_csv/part{i}.csv")


def _table(rows: int = 300) -> pl.DataFrame:
    rng = np.random.default_rng(7)
    return pl.DataFrame({"grp": rng.choice(["a", "b", "c"], rows).tolist(), "x": rng.normal(size=rows).round(6), "y": (rng.normal(size=rows) * 5).round(6)})


@pytest.mark.parametrize("args", [["zscore", "-c", "x,y"], ["minmax", "-c", "x,y", "-g", "grp"]])
def test_a_dataset_of_xlsx_parts_gives_what_csv_parts_give(invoke_ok, workdir, args):
    _parts("in", _table())
    _same(invoke_ok, "in", "in_csv", *args)
    invoke_ok(*args, "in", "-o", "joined.xlsx")
    invoke_ok(*args, "in", "-o", "parts/", "--to", "excel")
    assert sorted(os.listdir("parts")) == ["part-00000.xlsx", "part-00001.xlsx", "part-00002.xlsx"]
    want = pl.read_csv(io.StringIO(invoke_ok(*args, "in_csv").stdout))
    # The joined workbook, and the directory of parts, hold the CSV output's values.
    joined = _read_back("joined.xlsx")[1]
    parts = [row for i in range(3) for row in _read_back(f"parts/part-{i:05d}.xlsx")[1][1:]]
    assert joined[0] == tuple(want.columns)
    assert joined[1:] == parts == list(want.iter_rows())


def test_saved_parameters_and_the_inverse_through_workbooks(invoke_ok, workdir):
    _parts("in", _table())
    invoke_ok("zscore", "in", "-c", "x,y", "-g", "grp", "--save-params", "p.json", "-o", "z.xlsx")
    back = invoke_ok("zscore", "z.xlsx", "--params", "p.json", "--inverse").stdout
    original = pl.concat([pl.read_csv(f"in_csv/part{i}.csv") for i in range(3)])
    np.testing.assert_allclose(pl.read_csv(io.StringIO(back))["y"].to_numpy(), original["y"].to_numpy(), rtol=1e-14)


def test_a_dataset_of_xlsx_parts_on_dask(workdir):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    from softnorm_cli.cli import cli

    _parts("in", _table())
    runner = CliRunner()
    local = runner.invoke(cli, ["zscore", "in", "-c", "x,y", "-g", "grp"], catch_exceptions=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1", protocol="tcp",
                                  dashboard_address=None, silence_logs=50) as cluster:
        args = ["zscore", "in", "-c", "x,y", "-g", "grp", "--engine", "dask", "--scheduler", cluster.scheduler_address]
        remote = runner.invoke(cli, [*args, "--summary-json", "s.json"], catch_exceptions=False)
    assert remote.exit_code == 0, remote.stderr
    assert json.loads(open("s.json").read())["engine"]["partitions"] == 3
    assert remote.stdout == local.stdout and local.stdout.count("\n") == 301


def test_shell_completion_names_a_sheets_columns(invoke, book):
    env = {"_SOFTNORM_COMPLETE": "bash_complete", "COMP_CWORD": "6"}
    env["COMP_WORDS"] = "softnorm zscore book.xlsx --sheet Mixed -c "
    result = invoke(env=env)
    assert result.exit_code == 0 and result.stderr == ""
    assert [line.split(",", 1)[1] for line in result.stdout.splitlines()] == ["a", "b", "c"]


def test_completion_reads_a_workbook_without_a_table_library(workdir):
    import subprocess
    import sys

    _book("book.xlsx")
    script = "import sys; from softnorm_cli.io.header import column_names; print(column_names('book.xlsx'), 'polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == "['x', 'f', 'when', 'flag', 'name', 'n'] False\n"


def test_numbers_stored_as_text_stay_text_and_text_numbers_among_numbers_are_numbers(invoke, workdir):
    book = xlsxwriter.Workbook("text.xlsx")
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["zip", "x", "y"])
    for i, (zip_code, x) in enumerate([("00501", 1.5), ("02134", "2.5"), ("10001", 4.0), ("90210", " "), ("60601", 8.0)], start=1):
        sheet.write_string(i, 0, zip_code)  # text that looks like numbers: a zip code
        sheet.write_string(i, 1, x) if isinstance(x, str) else sheet.write_number(i, 1, x)  # a number stored as text, a blank
        sheet.write_number(i, 2, i)
    book.close()
    result = invoke("minmax", "text.xlsx", "--summary-json", "s.json")
    assert result.exit_code == 0 and result.stderr == ""
    summary = json.loads(open("s.json").read())
    assert summary["skipped"] == {"zip": "text"} and summary["columns"]["x"]["before"]["count"] == 4
    assert [line.split(",")[:2] for line in result.stdout.splitlines()[1:3]] == [["00501", "0.0"], ["02134", "0.15384615384615385"]]


def test_integers_beyond_a_double_are_written_as_text_and_times_come_back(invoke_ok, workdir):
    big = 2**60 + 1
    frame = pl.DataFrame({"id": [big, 5], "x": [1.0, 2.0], "at": [datetime.time(1, 2, 3), datetime.time(23, 0)]})
    frame.write_parquet("in.parquet")
    invoke_ok("zscore", "in.parquet", "-c", "x", "-o", "out.xlsx")
    assert _read_back("out.xlsx")[1][1][:2] == (str(big), -1)
    invoke_ok("zscore", "out.xlsx", "-c", "x", "-o", "again.parquet")
    again = pl.read_parquet("again.parquet")
    assert again["id"].to_list() == [str(big), "5"] and again["at"].to_list() == frame["at"].to_list()


def test_a_workbook_is_not_replaced_in_place(invoke, book):
    before = open("book.xlsx", "rb").read()
    result = invoke("zscore", "book.xlsx", "--in-place")
    assert result.exit_code == 2 and "--in-place would replace a workbook by one sheet of values" in result.stderr
    assert open("book.xlsx", "rb").read() == before


def test_beyond_excels_columns_and_empty_sheets_are_one_line(invoke, book):
    pl.DataFrame({f"c{i}": [1.0, 2.0] for i in range(16_385)}).write_parquet("wide.parquet")  # typed: nothing to infer
    expect_error(
        invoke("zscore", "wide.parquet", "-c", "c0", "-o", "wide.xlsx"),
        "the table has 16,385 columns, and an Excel worksheet holds 16,384; write CSV or Parquet instead (--to)",
    )
    empty = xlsxwriter.Workbook("empty.xlsx")
    empty.add_worksheet("Blank")
    empty.close()
    expect_error(invoke("zscore", "empty.xlsx"), "empty.xlsx [Blank]: the sheet is empty")
    expect_error(invoke("zscore", "book.xlsx", "--skip-rows", "50"), "book.xlsx [Data]: --skip-rows 50 skips past the end of the sheet")


def test_a_text_column_that_cannot_hold_number_cells_is_not_read_again():
    """fastexcel writes a number cell of a text column as ``123``, ``-3`` or ``0.0000001``: text such as
    ``007``, ``1.50`` or ``1e3`` is a text cell, and a column of nothing else is settled without a second read."""
    import polars as pl

    from softnorm_cli.io.excel.mixed import _may_hold_number_cells

    assert not _may_hold_number_cells(pl.Series(["007", "00501", "1.50", "1e3", "+5", " 12", "x", None]))
    for text in ("123", "-3", "0.0000001", "0.333333333", "0", "2.5"):
        assert _may_hold_number_cells(pl.Series(["x", text])), text

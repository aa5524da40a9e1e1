"""Text output for spreadsheet users: CRLF line ends, other encodings, thousands separators read and written.

Outputs are read back by the csv module and pandas (independent of polars),
and compared byte for byte with the plain UTF-8, LF output of the same values.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os

import pandas as pd
import polars as pl
import pytest

from helpers import expect_error, joined_csv, parts_table, write_parts

CITIES = "city,a,t\nZürich,1,\"x\ny\"\nCafé €,2,q\nParis,4,z\n"


def test_crlf_ends_every_line_the_header_too_and_keeps_embedded_newlines(invoke_ok, write_file):
    write_file("in.csv", 'a,t\n1,"x\ny"\n3,z\n')
    out = invoke_ok("minmax", "in.csv", "-c", "a", "--line-terminator", "crlf").stdout_bytes
    assert out == b'a,t\r\n0.0,"x\ny"\r\n1.0,z\r\n'


def test_crlf_output_reads_back_as_the_lf_output(invoke_ok, write_file):
    write_file("in.csv", CITIES)
    lf = invoke_ok("zscore", "in.csv", "-c", "a").stdout_bytes
    crlf = invoke_ok("zscore", "in.csv", "-c", "a", "--line-terminator", "CRLF").stdout_bytes
    assert crlf.count(b"\r\n") == 4 and crlf.count(b"\n") == 5  # one newline is the quoted field's
    records = list(csv.reader(io.StringIO(crlf.decode(), newline="")))
    assert records == list(csv.reader(io.StringIO(lf.decode(), newline="")))
    assert records[1] == ["Zürich", records[1][1], "x\ny"]
    pd.testing.assert_frame_equal(pd.read_csv(io.BytesIO(crlf)), pd.read_csv(io.BytesIO(lf)))


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16", "utf-8-sig"])
def test_an_encoded_output_decodes_to_the_utf8_output(invoke_ok, write_file, encoding):
    write_file("in.csv", CITIES.replace("€", "") if encoding == "latin-1" else CITIES)
    utf8 = invoke_ok("minmax", "in.csv", "-c", "a").stdout_bytes
    out = invoke_ok("minmax", "in.csv", "-c", "a", "--output-encoding", encoding).stdout_bytes
    assert out != utf8 and out.decode(encoding) == utf8.decode("utf-8")
    assert pd.read_csv(io.BytesIO(out), encoding=encoding)["city"].tolist() == pd.read_csv(io.BytesIO(utf8))["city"].tolist()


def test_a_byte_order_mark_comes_once_at_the_start(invoke_ok, write_file):
    write_file("in.csv", "a,b\n" + "".join(f"{i},é{i}\n" for i in range(9)))
    out = invoke_ok("minmax", "in.csv", "-c", "a", "--output-encoding", "utf-8-sig", "--batch-rows", "2").stdout_bytes
    assert out.startswith(codecs.BOM_UTF8) and out.count(codecs.BOM_UTF8) == 1
    utf16 = invoke_ok("minmax", "in.csv", "-c", "a", "--output-encoding", "utf-16", "--batch-rows", "2").stdout_bytes
    assert utf16.startswith(codecs.BOM_UTF16_LE) and utf16.count(codecs.BOM_UTF16_LE) == 1
    assert utf16.decode("utf-16") == out.decode("utf-8-sig")


UNWRITABLE = "cannot be written in cp1252 (choose another --output-encoding, such as utf-8)"


@pytest.mark.parametrize("batch", [[], ["--batch-rows", "2"]], ids=["first batch", "later batch"])
def test_a_character_the_encoding_cannot_hold_names_its_column_and_row(invoke, write_file, workdir, batch):
    write_file("in.csv", "a,city,b\n1,Köln,x\n2,Lyon,y\n3,Wien,Łeba\n4,Łódź,Łeba\n5,Graz,z\n")
    result = invoke("minmax", "in.csv", "-c", "a", "-o", "out.csv", "--output-encoding", "cp1252", *batch)
    # Row 3's b comes first: rows before columns.
    expect_error(result, f"column 'b', row 3: 'Łeba' {UNWRITABLE}")
    assert not (workdir / "out.csv").exists()


def test_a_header_name_the_encoding_cannot_hold_is_an_error(invoke, write_file):
    write_file("in.csv", "a,Łódź\n1,x\n2,y\n")
    result = invoke("minmax", "in.csv", "-c", "a", "-o", "out.csv", "--output-encoding", "cp1252")
    expect_error(result, f"the header: column name 'Łódź' {UNWRITABLE}")


def test_a_dataset_joined_to_one_file_has_one_mark_one_header_and_crlf(invoke_ok, workdir):
    write_parts("in", parts_table(200).with_columns(pl.lit("Zürich").alias("city")), "csv")
    args = ["zscore", "in", "-c", "x,y,z"]
    invoke_ok(*args, "-o", "plain.csv")
    invoke_ok(*args, "-o", "marked.csv", "--output-encoding", "utf-8-sig", "--line-terminator", "crlf")
    invoke_ok(*args, "-o", "parts/", "--output-encoding", "utf-8-sig", "--line-terminator", "crlf")
    plain = (workdir / "plain.csv").read_bytes()
    marked = (workdir / "marked.csv").read_bytes()
    assert marked.count(codecs.BOM_UTF8) == 1
    assert marked == codecs.BOM_UTF8 + plain.replace(b"\n", b"\r\n")
    # A directory of parts: each part a file of its own, with its own mark.
    names = sorted(os.listdir("parts"))
    texts = [(workdir / "parts" / name).read_bytes() for name in names]
    assert len(texts) == 4 and all(text.startswith(codecs.BOM_UTF8 + b"id,grp,x,y,z,city\r\n") for text in texts)
    assert joined_csv("parts").replace(codecs.BOM_UTF8, b"") == marked[len(codecs.BOM_UTF8):]
    utf16 = invoke_ok(*args, "--output-encoding", "utf-16").stdout_bytes  # joined on standard output
    assert utf16.count(codecs.BOM_UTF16_LE) == 1 and utf16.decode("utf-16").encode() == plain


EUROPEAN = "a;b;n;label\n1.234,50;2.000,00;1.234;x\n-12.345,25;3,5;2.000.000;y\n999,75;1.000,00;15;z\n"
PLAIN = "a;b;n;label\n1234,50;2000,00;1234;x\n-12345,25;3,5;2000000;y\n999,75;1000,00;15;z\n"
EU = ["--delimiter", ";", "--decimal-comma"]


def test_european_thousands_read_as_the_same_numbers(invoke_ok, write_file):
    write_file("grouped.csv", EUROPEAN)
    write_file("plain.csv", PLAIN)
    grouped = invoke_ok("zscore", "grouped.csv", *EU, "--thousands", ".", "-c", "a,b,n").stdout
    assert grouped == invoke_ok("zscore", "plain.csv", *EU, "-c", "a,b,n").stdout
    # Chosen as numbers when no column is named, too.
    assert invoke_ok("zscore", "grouped.csv", *EU, "--thousands", ".", "-q").stdout == grouped


@pytest.mark.parametrize(
    "text, args",
    [
        ('a;b\n"1,234.50";x\n2,000;y\n12;z\n', ["--delimiter", ";", "--thousands", ","]),
        ('a,b\n"1,234.50",x\n"2,000",y\n12,z\n', ["--thousands", ","]),  # quoted under a comma delimiter
        ("a\tb\n1 234.50\tx\n2 000\ty\n12\tz\n", ["--delimiter", "\\t", "--thousands", "space"]),
        ("a;b\n1'234.50;x\n2'000;y\n12;z\n", ["--delimiter", ";", "--thousands", "'"]),
    ],
    ids=["comma", "quoted", "space", "apostrophe"],
)
def test_other_thousands_separators(invoke_ok, write_file, text, args):
    write_file("in.csv", text)
    out = invoke_ok("minmax", "in.csv", *args, "-q").stdout
    delimiter = {";": ";", "\\t": "\t"}.get(args[1], ",") if args[0] == "--delimiter" else ","
    records = list(csv.reader(io.StringIO(out), delimiter=delimiter))
    assert [float(row[0]) for row in records[1:]] == pytest.approx([(1234.5 - 12) / 1988, 1.0, 0.0])
    assert [row[1] for row in records[1:]] == ["x", "y", "z"]


@pytest.mark.parametrize("cell", ["1.23,4", "12.34", "0.500", "1.2345", "1..234"])
def test_only_well_formed_groups_are_numbers(invoke, write_file, cell):
    write_file("in.csv", f"a;b\n1.234,5;1\n{cell};2\n")
    expect_error(invoke("minmax", "in.csv", *EU, "--thousands", ".", "-c", "a"), f"column 'a', row 2: {cell!r} is not a number")


def test_untouched_columns_are_typed_without_their_separators_in_parquet(invoke_ok, write_file):
    write_file("in.csv", "a;b;n;bad\n1;2.000,00;1.234;1.5\n2;3,5;2.000.000;2\n")
    invoke_ok("minmax", "in.csv", *EU, "--thousands", ".", "-c", "a", "-o", "out.parquet")
    out = pd.read_parquet("out.parquet")
    assert out["b"].tolist() == [2000.0, 3.5] and out["n"].tolist() == [1234, 2000000]
    assert str(out["n"].dtype) == "int64" and out["bad"].tolist() == ["1.5", "2"]  # 1.5 is no group of thousands


def test_inverse_with_output_thousands_gives_the_text_back(invoke_ok, write_file):
    write_file("in.csv", "a;n;label\n1.234,5;1.234;x\n-12.345,25;2.000.000;y\n999,75;15;z\n")
    invoke_ok("zscore", "in.csv", *EU, "--thousands", ".", "-c", "a,n", "--save-params", "p.json", "-o", "z.csv")
    back = invoke_ok("zscore", "z.csv", *EU, "--params", "p.json", "--inverse", "--output-thousands", ".", "--decimals", "2").stdout
    assert back == "a;n;label\n1.234,5;1.234;x\n-12.345,25;2.000.000;y\n999,75;15;z\n"
    # Without --decimal-comma: a comma between the groups, a point before the decimals.
    write_file("dot.csv", "a,n\n1234.5,1234\n-12345.25,2000000\n")
    invoke_ok("minmax", "dot.csv", "--save-params", "q.json", "-o", "m.csv")
    back = invoke_ok("minmax", "m.csv", "--params", "q.json", "--inverse", "--output-thousands", ",", "--decimals", "2").stdout
    assert list(csv.reader(io.StringIO(back))) == [["a", "n"], ["1,234.5", "1,234"], ["-12,345.25", "2,000,000"]]


def test_output_thousands_groups_only_the_results(invoke_ok, workdir):
    pl.DataFrame({"a": [1000.0, 3000000.0], "kept": [1234567.0, 2.0]}).write_parquet("in.parquet")
    out = invoke_ok("minmax", "in.parquet", "-c", "a", "--range", "0,2000", "--suffix", "_n", "--to", "csv",
                    "--output-thousands", "space").stdout
    assert out == "a,kept,a_n\n1000.0,1234567.0,0.0\n3000000.0,2.0,2 000.0\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--thousands", "."], "--thousands '.' is the decimal separator (with --decimal-comma the point groups thousands)"),
        (["--thousands", ",", "--decimal-comma"], "--thousands ',' is the decimal separator"),
        (["--thousands", ";", "--delimiter", ";"], "--thousands ';' is the field delimiter; numbers holding it would be split"),
        (["--output-thousands", "."], "--output-thousands '.' is the decimal separator (with --decimal-comma the point groups thousands)"),
        (["-o", "out.parquet", "--output-encoding", "cp1252"], "--output-encoding cp1252 is for text (CSV, TSV, JSON) output, not Parquet"),
        (["-o", "out.arrow", "--line-terminator", "crlf"], "--line-terminator crlf is for text (CSV, TSV, JSON) output, not Arrow"),
        (["-o", "out.parquet", "--output-thousands", ","], "--output-thousands is for CSV and TSV output, not Parquet"),
        (["-o", "out.jsonl", "--output-thousands", ","], "--output-thousands is for CSV and TSV output, not JSON Lines"),
    ],
)
def test_separators_and_text_options_that_cannot_work_are_usage_errors(invoke, write_file, args, message):
    write_file("in.csv", "a,b\n1,2\n3,4\n")
    result = invoke("minmax", "in.csv", *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_the_encoding_help_points_to_the_output_encoding(invoke_ok):
    text = " ".join(invoke_ok("minmax", "--help").stdout.split()).replace("- ", "-")  # the help's lines break after hyphens
    assert "Output is UTF-8." not in text and "unless --output-encoding says otherwise" in text


@pytest.fixture(scope="module")
def scheduler():
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50
    ) as local:
        yield local.scheduler_address


def _european(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def test_dask_writes_the_same_bytes_as_the_local_engine(invoke_ok, workdir, scheduler):
    table = parts_table(200)
    os.makedirs("in", exist_ok=True)
    for i in range(2):
        rows = [f"{j};{_european(x * 1000)};{_european(z)}\n" for j, x, z in table.select("id", "x", "z").slice(i * 100, 100).iter_rows()]
        (workdir / "in" / f"chunk{i}.csv").write_text("id;x;z\n" + "".join(rows), encoding="utf-8")
    args = ["zscore", "in", *EU, "--thousands", ".", "-c", "x,z", "--output-encoding", "utf-8-sig", "--line-terminator", "crlf"]
    invoke_ok(*args, "-o", "local.csv")
    invoke_ok(*args, "-o", "dask.csv", "--engine", "dask", "--scheduler", scheduler)
    local = (workdir / "local.csv").read_bytes()
    assert local == (workdir / "dask.csv").read_bytes()
    assert local.count(codecs.BOM_UTF8) == 1 and local.count(b"\r\n") == 201
    out = pd.read_csv(io.BytesIO(local), sep=";", decimal=",", encoding="utf-8-sig", dtype={"id": str})
    expected = (table["x"] * 1000).round(2).to_numpy()
    assert out["x"].to_numpy() == pytest.approx((expected - expected.mean()) / expected.std(), rel=1e-9)


def test_grouped_integers_are_judged_as_integers_when_columns_are_chosen(invoke_ok, write_file):
    ids = [f"1.{i:03d}" for i in range(1, 14)]  # 1.001, 1.002, ...: running ids, as 1001, 1002, ... are
    write_file("in.csv", "id;v\n" + "".join(f"{n};{i % 5},5\n" for i, n in enumerate(ids)))
    invoke_ok("minmax", "in.csv", *EU, "--thousands", ".", "-q", "--summary-json", "s.json")
    summary = json.loads(open("s.json").read())
    assert list(summary["columns"]) == ["v"] and summary["skipped"] == {"id": "identifiers (unique integers in order)"}


@pytest.mark.parametrize("output", ["out.csv", "out/"])
def test_an_unwritable_cell_of_a_dataset_names_its_part(invoke, write_file, workdir, output):
    write_file("in/p1.csv", "a,c\n1,x\n2,y\n")
    write_file("in/p2.csv", "a,c\n5,ok\n7,Łódź\n")
    result = invoke("minmax", "in", "-c", "a", "--output-encoding", "cp1252", "-o", output)
    expect_error(result, f"in/p2.csv: column 'c', row 2: 'Łódź' {UNWRITABLE}")
    assert not (workdir / output).exists()


def test_durations_are_written_to_text_as_iso_8601(invoke_ok, workdir):
    import datetime

    import polars as pl

    frame = pl.DataFrame({"x": [1.0, 3.0], "d": [datetime.timedelta(hours=1, minutes=30), None]})
    frame.write_parquet(workdir / "d.parquet")
    assert invoke_ok("minmax", "d.parquet", "-c", "x", "--to", "csv").stdout == "x,d\n0.0,PT1H30M\n1.0,\n"


def test_results_without_thousands_skip_the_grouping_and_come_out_as_grouping_would_write_them():
    from softnorm_cli.io.delimited.grouping import grouped, with_groups

    frame = pl.DataFrame({"z": [-0.5, 1.25e-7, 999.5, float("nan"), float("inf")], "big": [1234567.5, -0.5, 1e20, 12.0, -1000.0]})
    for decimal_comma in (False, True):
        got = with_groups(frame, ["z", "big"], ".", decimal_comma)
        text = [pl.col(c).cast(pl.String) for c in ("z", "big")]
        if decimal_comma:
            text = [t.str.replace(".", ",", literal=True) for t in text]
        want = frame.select(grouped(t, ".").alias(c) for t, c in zip(text, ("z", "big")))
        assert got.equals(want)
    assert with_groups(frame, ["big"], ",")["big"].to_list()[:2] == ["1,234,567.5", "-0.5"]

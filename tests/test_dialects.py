"""Real exports as they come: encodings, delimiters, decimal commas, title lines, short
rows, blank lines, compressed or mislabelled files, and one-column output."""

from __future__ import annotations

import gzip
import io
import json
import zipfile

import numpy as np
import pandas as pd
import polars as pl
import pytest
from numpy.testing import assert_allclose

from helpers import csv_records, expect_error as _error, strict_json


def minmax_of(values):
    x = np.asarray(values, dtype=np.float64)
    return (x - np.nanmin(x)) / (np.nanmax(x) - np.nanmin(x))


# --------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------


LATIN1 = "café;prix\nnoir;1,5\ncrème;2,5\nthé;4\n"


def test_latin1_header_is_an_error_naming_the_line(invoke, write_file):
    write_file("l.csv", "name,é\nx,1\ny,2\n".encode("latin-1"))
    _error(
        invoke("minmax", "l.csv"),
        "l.csv, line 1: not UTF-8 text (byte 0xe9); name the encoding with --encoding, e.g. --encoding cp1252 for a Windows export, or latin-1",
    )


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_encoding_decodes_and_output_is_utf8(invoke_ok, write_file, encoding):
    text = "name,prix €\ncafé,1\nthé,3\ncrème,2\n" if encoding == "cp1252" else "name,prix\ncafé,1\nthé,3\ncrème,2\n"
    write_file("e.csv", text.encode(encoding))
    out = invoke_ok("minmax", "e.csv", "--encoding", encoding).stdout
    rows = csv_records(out)
    assert rows[0] == text.splitlines()[0].split(",")
    assert [r[0] for r in rows[1:]] == ["café", "thé", "crème"]
    assert_allclose([float(r[1]) for r in rows[1:]], [0.0, 1.0, 0.5])


CP1252_WARNING = (
    "softnorm: warning: {where}, line {line}: byte 0x{byte:02x} is a control character in Latin-1, which text "
    "does not hold; in cp1252, the encoding of Windows exports, it is {char!r}: try --encoding cp1252\n"
)


@pytest.mark.parametrize("stdin", [False, True])
def test_cp1252_export_read_as_latin1_is_warned_about(invoke, write_file, stdin):
    text = "name,prix\ncafé,1\n“thé”,3\ncrème,2\n"
    data = text.encode("cp1252")
    write_file("w.csv", data)
    result = invoke("minmax", *([] if stdin else ["w.csv"]), "--encoding", "latin-1", input=data if stdin else None)
    assert result.exit_code == 0
    where = "standard input" if stdin else "w.csv"
    assert result.stderr == CP1252_WARNING.format(where=where, line=3, byte=0x93, char="“")
    # Read as asked all the same: the quotes are C1 controls in the output.
    assert [r[0] for r in csv_records(result.stdout)[1:]] == ["café", "\x93thé\x94", "crème"]
    assert invoke("minmax", "w.csv", "--encoding", "cp1252").stderr == ""


def test_cp1252_byte_far_past_the_sample_is_warned_about(invoke, write_file):
    # The columns are chosen from the first megabyte; the encoding is watched to the end.
    lines = [f"{i % 97},item number {i:08d}" for i in range(80_000)] + ["5,price in \u20ac"]
    write_file("far.csv", ("id,label\n" + "\n".join(lines) + "\n").encode("cp1252"))
    result = invoke("minmax", "far.csv", "--encoding", "latin-1", "--batch-rows", "10000")
    assert result.exit_code == 0
    assert result.stderr == CP1252_WARNING.format(where="far.csv", line=80_002, byte=0x80, char="€")


def test_latin1_text_without_control_characters_is_not_warned_about(invoke, write_file):
    write_file("l.csv", "name,prix\ncafé,1\nthé,3\n".encode("latin-1"))
    result = invoke("minmax", "l.csv", "--encoding", "latin-1")
    assert (result.exit_code, result.stderr) == (0, "")


def test_utf16_with_byte_order_mark_needs_no_option(invoke_ok, write_file):
    write_file("u.csv", "name,x\nthé,1\ncafé,3\n".encode("utf-16"))
    assert invoke_ok("minmax", "u.csv").stdout == "name,x\nthé,0.0\ncafé,1.0\n"


def test_utf8_byte_order_mark_is_not_part_of_the_first_name(invoke_ok, write_file):
    write_file("b.csv", b"\xef\xbb\xbfa,b\n1,2\n3,4\n")
    result = invoke_ok("minmax", "b.csv", "-c", "a")
    assert result.stdout == "a,b\n0.0,2\n1.0,4\n"


def test_invalid_utf8_in_a_later_block_names_its_line(invoke, write_file):
    rows = "".join(f"{i},{i % 7}\n" for i in range(2000))
    write_file("late.csv", b"a,b\n" + rows.encode() + b"x\xff,1\n")
    result = invoke("zscore", "late.csv", "-c", "b", "--batch-rows", "1KB")
    assert result.exit_code == 1
    assert result.stderr.startswith("softnorm: error: late.csv, line 2002: not UTF-8 text (byte 0xff)")


def test_unknown_encoding_is_a_usage_error(invoke, write_file):
    write_file("a.csv", "a\n1\n")
    result = invoke("minmax", "a.csv", "--encoding", "klingon")
    assert result.exit_code == 2
    assert "unknown encoding 'klingon'" in result.stderr


# --------------------------------------------------------------------------
# Delimiters and decimal commas
# --------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_sniffed_and_kept(invoke_ok, write_file, delimiter):
    text = "id;a;b\n007;1;10\n008;2;30\n009;3;20\n".replace(";", delimiter)
    write_file("d.csv", text)
    for result in (invoke_ok("minmax", "d.csv"), invoke_ok("minmax", input=text)):
        rows = csv_records(result.stdout, delimiter)
        assert rows[0] == ["id", "a", "b"]
        assert [r[0] for r in rows[1:]] == ["007", "008", "009"]
        assert_allclose([[float(v) for v in r[1:]] for r in rows[1:]], [[0, 0], [0.5, 1], [1, 0.5]])


def test_semicolon_export_with_decimal_commas(invoke_ok, write_file):
    # The header has no commas: the decimal commas of the data do not fool the sniffer.
    write_file("fr.csv", LATIN1.encode("latin-1"))
    result = invoke_ok("minmax", "fr.csv", "--encoding", "latin-1", "--decimal-comma")
    assert result.stdout == "café;prix\nnoir;0,0\ncrème;0,4\nthé;1,0\n"


def test_decimal_comma_with_comma_delimiter_is_quoted(invoke_ok, write_file):
    write_file("q.csv", 'a,b\n"1,5",x\n"3,5",y\n')
    out = invoke_ok("minmax", "q.csv", "-c", "a", "--decimal-comma").stdout
    assert csv_records(out) == [["a", "b"], ["0,0", "x"], ["1,0", "y"]]


def test_decimal_comma_values_without_the_option_say_so(invoke, write_file):
    write_file("fr.csv", "a;b\n1,5;2\n2,5;3\n")
    result = invoke("minmax", "fr.csv", "-c", "a")
    assert result.exit_code == 1
    assert result.stderr == (
        "softnorm: error: column 'a', row 1: '1,5' is not a number (for decimal commas use --decimal-comma)\n"
    )


def test_decimal_comma_columns_left_out_without_the_option_say_so(invoke, write_file):
    # Chosen automatically: the column is left out, with a warning, though 1,85 parses as no number at all.
    write_file("w.csv", "id;weight\n1;1,85\n2;2,5\n3;3\n")
    result = invoke("minmax", "w.csv")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        "softnorm: warning: column 'weight' is not normalized: row 1 holds '1,85', a number with a decimal comma "
        "(for decimal commas use --decimal-comma)\n"
    )
    assert csv_records(result.stdout, ";") == [["id", "weight"], ["0.0", "1,85"], ["0.5", "2,5"], ["1.0", "3"]]
    write_file("n.csv", "name;weight\nann;1,85\nbob;2,5\n")
    _error(
        invoke("minmax", "n.csv"),
        "n.csv: no numeric column to normalize; name columns with -c (left out: "
        "name: not numbers ('ann', row 1); weight: numbers with decimal commas ('1,85', row 1; use --decimal-comma))",
    )


def test_explicit_delimiter_wins(invoke_ok, write_file):
    write_file("x.csv", "a;b,c\n1;2,3\n")
    out = invoke_ok("minmax", "x.csv", "--delimiter", ",", "-c", "c").stdout
    assert out == "a;b,c\n1;2,0.0\n"


# --------------------------------------------------------------------------
# Lines before the header
# --------------------------------------------------------------------------


def test_skip_rows_before_the_header(invoke_ok, invoke, write_file):
    write_file("t.csv", "Export of 2026-11-30\nsource: shop\nid,a\n007,1\n008,3\n")
    assert invoke_ok("minmax", "t.csv", "--skip-rows", "2").stdout == "id,a\n007,0.0\n008,1.0\n"
    assert invoke_ok("minmax", "--skip-rows", "2", input="title\n\nid,a\n007,1\n008,3\n").stdout == "id,a\n007,0.0\n008,1.0\n"
    # Lines keep their numbers in messages.
    write_file("bad.csv", "title\nid,a\n007,1\n008\n")
    _error(invoke("minmax", "bad.csv", "--skip-rows", "1", "-c", "a"), "bad.csv, line 4: 1 field, expected 2")


@pytest.mark.parametrize(
    "text, line, fields, skip",
    [
        ("Export of 2026-11-30\nid,a,b\n007,1,2\n008,3,4\n", 2, 3, 1),
        # A semicolon export: the delimiter is found past the title too.
        ("Export of 2026-11-30\nid;a;b\n007;1;2\n008;3;4\n", 2, 3, 1),
        ("Export of 2026-11-30\n\nsource: shop\nid,a\n007,1\n", 4, 2, 3),
    ],
)
def test_title_lines_before_the_header_say_to_skip_them(invoke, write_file, text, line, fields, skip):
    write_file("t.csv", text)
    _error(
        invoke("minmax", "t.csv"),
        f"t.csv, line {line}: {fields} fields, expected 1; if the lines above are a title, skip them with --skip-rows {skip}",
    )
    assert invoke("minmax", "t.csv", "--skip-rows", str(skip)).exit_code == 0


def test_title_hint_counts_the_lines_already_skipped(invoke):
    _error(
        invoke("minmax", "--skip-rows", "1", input="Export\n\nsource: shop\nid,a\n007,1\n"),
        "standard input, line 4: 2 fields, expected 1; if the lines above are a title, skip them with --skip-rows 3",
    )


def test_one_column_of_decimal_commas_without_the_option_says_so(invoke, write_file):
    write_file("one.csv", "prix\n1,5\n4,5\n")
    _error(invoke("minmax", "one.csv"), "one.csv, line 2: 2 fields, expected 1 (for decimal commas use --decimal-comma)")


def test_a_wide_row_in_a_one_column_file_is_no_title(invoke, write_file):
    write_file("one.csv", "a\n" + "1\n" * 20 + "2,3,4\n")
    _error(invoke("minmax", "one.csv"), "one.csv, line 22: 3 fields, expected 1")


# --------------------------------------------------------------------------
# Short rows and blank lines
# --------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [None, "16B", "1"])
@pytest.mark.parametrize("stdin", [False, True])
def test_short_row_is_an_error_naming_its_line(invoke, write_file, batch, stdin):
    text = "id,a,b\n1,2,3\n4,5,6\n7,8\n9,10,11\n"
    write_file("r.csv", text)
    args = ["zscore", "-c", "a,b"] + ([] if stdin else ["r.csv"]) + (["--batch-rows", batch] if batch else [])
    result = invoke(*args, input=text if stdin else None)
    where = "standard input" if stdin else "r.csv"
    assert result.exit_code == 1
    assert result.stderr == f"softnorm: error: {where}, line 4: 2 fields, expected 3\n"


def test_short_row_after_quoted_newlines(invoke, write_file):
    write_file("q.csv", 'id,note,a\n1,"two\nlines",3\n2,x\n')
    _error(invoke("minmax", "q.csv", "-c", "a"), "q.csv, line 4: 2 fields, expected 3")


def test_long_row_is_an_error_naming_its_line(invoke, write_file):
    write_file("l.csv", "a,b\n1,2\n3,4,5\n")
    _error(invoke("minmax", "l.csv"), "l.csv, line 3: 3 fields, expected 2")


def test_blank_lines_are_not_rows(invoke_ok, write_file):
    write_file("b.csv", "a,b\n1,2\n\n3,4\n\r\n5,6\n\n")
    assert invoke_ok("minmax", "b.csv").stdout == "a,b\n0.0,0.0\n0.5,0.5\n1.0,1.0\n"


def test_blank_line_in_one_column_is_a_missing_value(invoke_ok, write_file):
    write_file("one.csv", "a\n1\n\n3\n")
    assert invoke_ok("minmax", "one.csv").stdout == 'a\n0.0\n""\n1.0\n'


# --------------------------------------------------------------------------
# One output column
# --------------------------------------------------------------------------


def test_one_column_output_keeps_rows_with_missing_values(invoke_ok, write_file):
    write_file("one.csv", "x\n1\nNA\n2\n\n4\n")
    out = invoke_ok("zscore", "one.csv").stdout
    assert pd.read_csv(io.StringIO(out))["x"].isna().tolist() == [False, True, False, True, False]
    assert pl.read_csv(io.StringIO(out)).height == 5
    assert len(csv_records(out)) == 6


# --------------------------------------------------------------------------
# Content, not names
# --------------------------------------------------------------------------


def _table(n: int = 3000) -> str:
    rng = np.random.default_rng(5)
    return "id,a,b\n" + "".join(f"{i:06d},{rng.normal():.6f},{rng.uniform():.6f}\n" for i in range(n))


def test_gzip_on_stdin_longer_than_a_block(invoke_ok):
    text = _table()
    plain = invoke_ok("zscore", "-c", "a,b", "--batch-rows", "4KB", input=text).stdout
    packed = invoke_ok("zscore", "-c", "a,b", "--batch-rows", "4KB", input=gzip.compress(text.encode())).stdout
    assert packed == plain


@pytest.mark.parametrize("name", ["data.csv", "data", "data.txt"])
def test_gzip_file_recognised_by_content(invoke_ok, write_file, name):
    text = _table(50)
    write_file(name, gzip.compress(text.encode()))
    write_file("plain.csv", text)
    args = ["-c", "a,b", "--to", "csv"]
    assert invoke_ok("minmax", name, *args).stdout == invoke_ok("minmax", "plain.csv", *args).stdout


@pytest.mark.parametrize("name", ["data.csv", "data"])
def test_parquet_file_recognised_by_content(invoke_ok, write_file, workdir, name):
    pl.DataFrame({"id": ["007", "008", "009"], "a": [1.0, 2.0, 4.0]}).write_parquet(workdir / name)
    out = invoke_ok("minmax", name, "-o", "out.csv").stdout
    assert out == ""
    assert (workdir / "out.csv").read_text() == "id,a\n007,0.0\n008,0.3333333333333333\n009,1.0\n"


def test_parquet_named_csv_is_written_as_parquet_by_default(invoke_ok, write_file, workdir):
    pl.DataFrame({"a": [1.0, 3.0]}).write_parquet(workdir / "p.csv")
    out = invoke_ok("minmax", "p.csv").stdout_bytes
    assert pl.read_parquet(io.BytesIO(out))["a"].to_list() == [0.0, 1.0]


@pytest.mark.parametrize("blob", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64])
@pytest.mark.parametrize("stdin", [False, True])
def test_binary_input_is_refused_without_echoing_it(invoke, write_file, blob, stdin):
    write_file("blob.csv", blob)
    result = invoke("minmax", *([] if stdin else ["blob.csv"]), input=blob if stdin else None)
    assert result.exit_code == 1
    where = "standard input" if stdin else "blob.csv"
    assert result.stderr.startswith(f"softnorm: error: {where}")
    assert "not text" in result.stderr
    assert result.stderr.isascii() and result.stderr.count("\n") == 1
    assert result.stdout == ""


def _zipped(members: dict[str, str], stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (member, text) in enumerate(members.items()):
            archive.writestr(member, text, zipfile.ZIP_STORED if stored_first and i == 0 else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


XLSX = {
    "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
    "_rels/.rels": '<?xml version="1.0"?><Relationships/>',
    "xl/workbook.xml": '<?xml version="1.0"?><workbook><sheets><sheet name="penguins" sheetId="1"/></sheets></workbook>',
    "xl/worksheets/sheet1.xml": '<?xml version="1.0"?><worksheet><sheetData/></worksheet>',
}
READS = "softnorm reads CSV, TSV, Parquet, Arrow, JSON Lines and Excel"


@pytest.mark.parametrize("stdin", [False, True])
def test_archives_are_named(invoke, write_file, stdin):
    data = _zipped({"penguins.csv": "island,bill\nTorgersen,39.1\n"})
    write_file("penguins.csv", data)
    result = invoke("minmax", *([] if stdin else ["penguins.csv"]), input=data if stdin else None)
    _error(result, f"{'standard input' if stdin else 'penguins.csv'}: is a zip archive; {READS}: unzip it and give softnorm the files inside")


@pytest.mark.parametrize("name", ["penguins.xlsx", "penguins.csv", "penguins.parquet"])
def test_a_workbook_is_read_by_its_content_whatever_its_name(invoke, write_file, name):
    """A workbook named .csv, or given as --from parquet, is a workbook: its content wins, as Parquet's does."""
    import xlsxwriter

    book = xlsxwriter.Workbook(name)
    sheet = book.add_worksheet("penguins")
    sheet.write_row(0, 0, ["island", "bill"])
    sheet.write_row(1, 0, ["Torgersen", 39.5])
    sheet.write_row(2, 0, ["Biscoe", 46.5])
    book.close()
    result = invoke("minmax", name, "--from", "parquet")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "island,bill\nTorgersen,0.0\nBiscoe,1.0\n"


def test_an_xlsx_without_its_sheet_is_one_line(invoke, write_file):
    members = {k: v for k, v in XLSX.items() if k != "xl/worksheets/sheet1.xml"}
    write_file("broken.xlsx", _zipped(members))
    result = invoke("minmax", "broken.xlsx")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("softnorm: error: broken.xlsx: not a readable workbook (") and result.stderr.count("\n") == 1


PENGUINS = [{"island": "Torgersen", "bill_length_mm": 39.1}, {"island": "Biscoe", "bill_length_mm": 46.5}]


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(PENGUINS, indent=2),
        "\ufeff" + json.dumps(PENGUINS),
        "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in PENGUINS),
    ],
)
def test_json_given_as_csv_is_read_as_json(invoke_ok, write_file, text):
    # The content decides: JSON named .csv is read as JSON (an array, or JSON Lines).
    write_file("penguins.csv", text.encode("utf-8"))
    assert invoke_ok("minmax", "penguins.csv", "--to", "csv").stdout == "island,bill_length_mm\nTorgersen,0.0\nBiscoe,1.0\n"


def test_json_that_is_not_records_is_named(invoke, write_file):
    write_file("penguins.csv", json.dumps({"columns": ["a"], "data": [[1]]}))
    _error(
        invoke("minmax", "penguins.csv"),
        "penguins.csv: is one JSON object holding a table (pandas' 'split' layout), not records; softnorm reads "
        "JSON Lines (an object a line) and arrays of objects: write it with to_json(orient='records', lines=True)",
    )


def test_a_header_in_brackets_is_csv(invoke_ok, write_file):
    write_file("b.csv", "[a],{b}\n1,2\n3,4\n")
    assert invoke_ok("minmax", "b.csv").stdout == "[a],{b}\n0.0,0.0\n1.0,1.0\n"


def test_text_named_parquet_is_refused(invoke, write_file):
    write_file("fake.parquet", "a,b\n1,2\n")
    _error(invoke("minmax", "fake.parquet"), "fake.parquet: not a readable Parquet file (it does not start with PAR1)")


def test_one_decimal_comma_column_with_comma_delimiter_keeps_missing_rows(invoke_ok, write_file):
    write_file("in.csv", 'a\n"1,5"\n""\n"2,5"\n')
    assert invoke_ok("minmax", "in.csv", "--decimal-comma").stdout == 'a\n"0,0"\n""\n"1,0"\n'


@pytest.mark.parametrize("header", [True, False])
def test_decimal_comma_one_column_export_is_one_column(invoke_ok, write_file, header):
    # Unquoted, its decimal commas cannot be delimiters: the comma is not guessed.
    write_file("one.csv", ("prix\n" if header else "") + "1,5\n4,5\n2,25\n")
    flags = () if header else ("--no-header",)
    out = invoke_ok("minmax", "one.csv", "--decimal-comma", *flags).stdout
    rows = csv_records(out, ";")
    if header:
        assert rows.pop(0) == ["prix"]
    assert_allclose([float(r[0].replace(",", ".")) for r in rows], minmax_of([1.5, 4.5, 2.25]))


def test_decimal_comma_refuses_decimal_points(invoke, write_file):
    # Where the comma is the decimal separator, 1.500 may well mean fifteen hundred.
    write_file("in.csv", 'y\n1.500\n"2,5"\n"4,5"\n')
    _error(invoke("minmax", "in.csv", "-c", "y", "--decimal-comma"), "column 'y', row 1: '1.500' is not a number")
    assert invoke("minmax", "in.csv", "--decimal-comma").exit_code == 1


@pytest.mark.parametrize("batch", ["1b", "8b", "2"])
def test_blank_lines_alone_in_a_batch(invoke_ok, write_file, batch):
    write_file("b.csv", "a,b\n1,2\n\n3,4\n\n")
    assert invoke_ok("minmax", "b.csv", "--batch-rows", batch).stdout == "a,b\n0.0,0.0\n1.0,1.0\n"
    write_file("one.csv", "a\n1\n\n3\n")
    assert invoke_ok("minmax", "one.csv", "--batch-rows", batch).stdout == 'a\n0.0\n""\n1.0\n'


@pytest.mark.parametrize("command", [["stats"], ["zscore"], ["minmax", "--axis", "all"]])
@pytest.mark.parametrize("stdin", [False, True])
def test_long_row_is_found_whatever_columns_are_read(invoke, write_file, command, stdin, monkeypatch):
    # polars does not notice a row with too many fields when it is asked
    # for some of the columns only: the streaming path must not rely on it.
    monkeypatch.setattr("softnorm_cli.engine.memory.KEEP_BYTES", 0)
    rows = [f'{i},{i % 100},{i % 7},"q\nr"\n' if i % 997 == 0 else f"{i},{i % 100},{i % 7},x\n" for i in range(120_000)]
    rows[100_000] = "100000,1,2,x,extra\n"  # past the sample, which parses every column
    text = "id,a,b,t\n" + "".join(rows)
    write_file("l.csv", text)
    args = ["-c", "a,b", "--batch-rows", "64KB"]
    result = invoke(*command, *args, input=text) if stdin else invoke(*command, "l.csv", *args)
    assert result.exit_code == 1
    line = text[: text.index(",extra")].count("\n") + 1
    assert result.stderr.endswith(f"line {line}: 5 fields, expected 4\n")


# --------------------------------------------------------------------------
# Late problems, and the checks each block gets
# --------------------------------------------------------------------------


def _late(rows: int, at: int, line: str) -> str:
    body = [f"{i:05d},{i % 97},{(i * 7) % 13},note {i}\n" for i in range(rows)]
    body[at] = line
    return "id,a,b,note\n" + "".join(body)


@pytest.mark.parametrize(
    "late_line",
    ["01234,NA,5,note\n", "01234,7,5,\n", "\n", '01234,7,5,"two\nlines"\n', "01234,n/a,,\n"],
    ids=["marker", "empty-last-field", "blank-line", "quoted-newline", "marker-and-empty"],
)
@pytest.mark.parametrize("command", [["zscore"], ["softmax", "-c", "a,b"], ["minmax", "--axis", "all"], ["stats", "--json"]])
def test_a_file_reads_as_standard_input_does(invoke_ok, write_file, late_line, command):
    # A file is read by polars' reader until something needs a closer look,
    # then in blocks from the same row; standard input is read in blocks throughout.
    text = _late(6000, 4500, late_line)
    write_file("t.csv", text)
    args = [*command, "--batch-rows", "8KB"]
    from_file = invoke_ok(args[0], "t.csv", *args[1:]).stdout
    from_stdin = invoke_ok(*args, input=text).stdout
    assert from_file == from_stdin
    if command[0] == "stats":
        assert strict_json(from_file)["rows"] == 6000 - (late_line == "\n")
        return
    rows = csv_records(from_file)
    assert len(rows) == 6001 - (late_line == "\n")
    assert [r[0] for r in rows[1:4]] == ["00000", "00001", "00002"] and rows[-1][0] == "05999"


@pytest.mark.parametrize(
    "late_line, message",
    [
        ("01234,7\n", "t.csv, line 4502: 2 fields, expected 4"),
        ("01234,7,5,x,extra\n", "t.csv, line 4502: 5 fields, expected 4"),
        ("01234,abc,5,x\n", "column 'a', row 4501: 'abc' is not a number"),
        ('01234,7,5,"open\n', "t.csv, line 4502: a quoted field that is never closed"),
    ],
    ids=["short", "long", "not-a-number", "open-quote"],
)
def test_late_problems_in_a_file_are_found_where_they_are(invoke, write_file, late_line, message):
    write_file("t.csv", _late(6000, 4500, late_line))
    result = invoke("zscore", "t.csv", "-c", "a,b", "--batch-rows", "8KB")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"softnorm: error: {message}")


@pytest.mark.parametrize("late_line, looked", [(None, 0), ("01234,7,5,\n", 0), ("01234,7\n", 1)], ids=["clean", "empty-last-field", "short"])
def test_records_are_looked_at_one_by_one_only_when_a_block_is_short_of_fields(invoke, write_file, monkeypatch, late_line, looked):
    """An empty last field is a missing value, told from a short row by counting the block's delimiters:
    the record-by-record check runs only on a block that holds fewer than every record needs."""
    from softnorm_cli.io.delimited import reader as csv_reader

    calls = []
    records = csv_reader.records
    monkeypatch.setattr(csv_reader, "records", lambda *a: calls.append(1) or records(*a))
    text = _late(6000, 4500, late_line) if late_line else _late(6000, 0, "00000,0,0,note 0\n")
    write_file("t.csv", text)
    result = invoke("zscore", "t.csv", "--batch-rows", "8KB")
    assert len(calls) == looked
    if looked:
        assert result.exit_code == 1 and result.stderr.endswith(f"t.csv, line {4500 + 2}: 2 fields, expected 4\n")
    else:
        assert result.exit_code == 0, result.stderr
        assert result.stdout == invoke("zscore", "--batch-rows", "8KB", input=text).stdout

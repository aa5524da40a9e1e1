"""Streaming: tiny batches give the one-batch results, CSV cut at record boundaries,
errors located across batches, standard input spooled for two passes and streamed
for one, progress kept off stdout, and ``--batch-rows`` validated.

The one-batch output (the default batch holds these small tables whole)
is the reference: forcing 7-row batches or blocks of a few dozen bytes must give
the same numbers (relative and absolute 1e-12) and exactly the same text in every
column softnorm does not transform.
"""

from __future__ import annotations

import csv
import io
import os
import pty
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose

from helpers import reading_terminal
from softnorm_cli.io.delimited.blocks import blocks as _blocks, record_end as _record_end

SOFTNORM = [sys.executable, "-m", "softnorm_cli"]
TIMEOUT = 60
RTOL = ATOL = 1e-12


# --------------------------------------------------------------------------
# Helpers and data
# --------------------------------------------------------------------------


def csv_records(text: str, delimiter: str = ",") -> list[list[str]]:
    """All records of a CSV text as exact strings (the csv module, independent of polars)."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))


def _number(text: str) -> float:
    return np.nan if text == "" else float(text)


def assert_same_table(got: str, want: str, selected, delimiter: str = ",", header: bool = True) -> None:
    """``got`` equals ``want``: same records, the same text outside ``selected``
    (names, or 0-based indices without a header), numbers in ``selected`` within 1e-12."""
    got_rows, want_rows = csv_records(got, delimiter), csv_records(want, delimiter)
    assert len(got_rows) == len(want_rows)
    if header:
        assert got_rows[0] == want_rows[0]
        index = [want_rows[0].index(name) for name in selected]
        got_rows, want_rows = got_rows[1:], want_rows[1:]
    else:
        index = list(selected)
    assert all(len(r) == len(want_rows[0]) for r in got_rows + want_rows)
    others = [i for i in range(len(want_rows[0])) if i not in index]
    assert [[r[i] for i in others] for r in got_rows] == [[r[i] for i in others] for r in want_rows]
    got_x = np.array([[_number(r[i]) for i in index] for r in got_rows], dtype=np.float64)
    want_x = np.array([[_number(r[i]) for i in index] for r in want_rows], dtype=np.float64)
    assert_allclose(got_x, want_x, rtol=RTOL, atol=ATOL)  # NaN (empty cell) only where NaN


NOTES = ["plain", '"x, y"', '"say ""hi"""', '"multi\nline, ""q"""', "", '"a,""b"",\n""\nc"']


def table_lines(rows: int = 60, seed: int = 3, infinities: bool = False) -> list[str]:
    """Records (without the header) of a table with an id with leading zeros, two numeric
    columns with gaps, a constant column, a mostly empty column, quoted text with commas,
    doubled quotes and newlines, and (optionally) a column with -inf and +inf."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(rows):
        a = "" if i % 11 == 3 else f"{rng.uniform(-5, 5):.6f}"
        b = "" if i % 7 == 2 else f"{rng.normal(100, 3):.5f}"
        e = f"{rng.uniform(-1, 1):.3f}" if i in (9, 44) else ""
        fields = [f"{i:04d}", a, b, "3.5", NOTES[i % len(NOTES)], e]
        if infinities:
            fields.append({5: "-inf", 17: "inf", 30: "-inf", 31: "-inf"}.get(i, f"{rng.uniform(0, 2):.4f}"))
        out.append(",".join(fields))
    return out


HEADER = "id,a,b,c,note,e"
TABLE = HEADER + "\n" + "\n".join(table_lines()) + "\n"
INF_TABLE = HEADER + ",d\n" + "\n".join(table_lines(infinities=True)) + "\n"
SELECTED = ["a", "b", "c", "e"]

METHODS = {
    "softmax": ["softmax"],
    "softmax-log": ["softmax", "--log"],
    "softmax-t0.5": ["softmax", "--temperature", "0.5"],
    "minmax-range": ["minmax", "--range", "-1,1"],
    "zscore-ddof0": ["zscore", "--ddof", "0"],
    "zscore-ddof1": ["zscore", "--ddof", "1"],
}
SMALL_BATCHES = ["7", "128B"]  # 128-byte blocks: two or three records each


def _env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOFTNORM_DEBUG", "FORCE_COLOR")}
    env.update(extra)
    return env


def run_process(*args, cwd, input: bytes | None = None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SOFTNORM, *map(str, args)], cwd=cwd, input=input, capture_output=True, env=env or _env(), timeout=TIMEOUT
    )


def _read_twice(m: pytest.MonkeyPatch) -> None:
    """Make pass 2 read the input again: the pipeline may keep a small table parsed in pass 1."""
    m.setattr("softnorm_cli.engine.memory.KEEP_BYTES", 0)


@pytest.fixture
def invoke_batched(invoke_ok, monkeypatch):
    """``invoke_ok(*args, "--batch-rows", batch)``; with a byte size, pass 2 reads the input again."""

    def run(*args, batch: str, read_twice: bool | None = None, **kwargs):
        with monkeypatch.context() as m:
            if read_twice or (read_twice is None and not batch.strip().isdigit()):
                _read_twice(m)
            return invoke_ok(*args, "--batch-rows", batch, **kwargs)

    return run


# --------------------------------------------------------------------------
# Tiny batches equal one batch
# --------------------------------------------------------------------------


def test_test_data_is_cut_into_many_blocks():
    """The byte sizes below really cut the table into many blocks, some inside quoted fields."""
    data = TABLE.encode()
    blocks = list(_blocks(io.BytesIO(data), 128))
    assert len(blocks) > 15
    assert any(data[: k * 128].count(b'"') % 2 for k in range(1, len(data) // 128))
    assert len(csv_records(TABLE)) == 61


@pytest.mark.parametrize("nan", ["omit", "propagate"])
@pytest.mark.parametrize("axis", ["row", "column", "all"])
@pytest.mark.parametrize("method", list(METHODS), ids=list(METHODS))
def test_small_batches_equal_one_batch(invoke_ok, invoke_batched, write_file, method, axis, nan):
    write_file("t.csv", TABLE)
    args = [*METHODS[method], "t.csv", "-c", ",".join(SELECTED), "--axis", axis, "--nan", nan]
    whole = invoke_ok(*args)
    assert len(csv_records(whole.stdout)) == 61
    for batch in SMALL_BATCHES:
        small = invoke_batched(*args, batch=batch)
        assert_same_table(small.stdout, whole.stdout, SELECTED)
        assert small.stderr == whole.stderr  # the same warnings, e.g. rows counted over all batches


@pytest.mark.parametrize("axis", ["row", "column", "all"])
@pytest.mark.parametrize("method", ["softmax", "softmax-log", "minmax-range", "zscore-ddof1"])
def test_small_batches_with_infinities(invoke_ok, invoke_batched, write_file, method, axis):
    write_file("inf.csv", INF_TABLE)
    columns = ["a", "c", "d"]
    args = [*METHODS[method], "inf.csv", "-c", ",".join(columns), "--axis", axis]
    if not method.startswith("softmax"):
        args += ["--inf", "missing"]  # min-max and z-score refuse infinities by default
    whole = invoke_ok(*args)
    for batch in SMALL_BATCHES:
        small = invoke_batched(*args, batch=batch)
        assert_same_table(small.stdout, whole.stdout, columns)
        assert small.stderr == whole.stderr


def test_unselected_columns_come_back_exactly(invoke_ok, write_file):
    write_file("t.csv", TABLE)
    before = csv_records(TABLE)
    after = csv_records(invoke_ok("zscore", "t.csv", "-c", "a,b", "--batch-rows", "64B").stdout)
    assert len(after) == len(before)
    for name in ("id", "c", "note", "e"):
        i = before[0].index(name)
        assert [r[i] for r in after] == [r[i] for r in before]


def test_row_softmax_in_small_batches_against_numpy(invoke_ok, write_file):
    """Not only equal to the one-batch output: right (NaN omitted, -inf gives 0, +inf takes all)."""
    write_file("inf.csv", INF_TABLE)
    out = csv_records(invoke_ok("softmax", "inf.csv", "-c", "a,d", "--batch-rows", "7").stdout)
    src = csv_records(INF_TABLE)
    x = np.array([[_number(r[1]), _number(r[6])] for r in src[1:]])
    got = np.array([[_number(r[1]), _number(r[6])] for r in out[1:]])
    for xi, gi in zip(x, got):
        present = ~np.isnan(xi)
        v = xi[present]
        if np.isposinf(v).any():
            expect = np.where(np.isposinf(v), 1.0, 0.0)
        else:
            expect = np.exp(v - v.max()) / np.exp(v - v.max()).sum()
        assert_allclose(gi[present], expect, rtol=1e-13, atol=1e-15)
        assert np.isnan(gi[~present]).all()


@pytest.mark.parametrize("batch", SMALL_BATCHES)
def test_small_batches_with_suffix(invoke_ok, invoke_batched, write_file, batch):
    write_file("t.csv", TABLE)
    args = ["zscore", "t.csv", "-c", "a,b,c", "--suffix", "_z", "--axis", "all"]
    whole = invoke_ok(*args)
    small = invoke_batched(*args, batch=batch)
    assert csv_records(small.stdout)[0] == HEADER.split(",") + ["a_z", "b_z", "c_z"]
    assert_same_table(small.stdout, whole.stdout, ["a_z", "b_z", "c_z"])
    # the original columns are kept as they were written
    before, after = csv_records(TABLE), csv_records(small.stdout)
    assert [r[:6] for r in after] == before


@pytest.mark.parametrize("batch", ["7", "48B"])
@pytest.mark.parametrize("method", ["softmax", "minmax", "zscore"])
def test_small_batches_tsv(invoke_ok, invoke_batched, write_file, method, batch):
    # Every comma becomes a tab, also inside quoted fields (which stay one field each);
    # one note gets its comma back.
    rows = [line.replace(",", "\t").replace('"x\t y"', '"x, y"') for line in table_lines()]
    text = HEADER.replace(",", "\t") + "\n" + "\n".join(rows) + "\n"
    write_file("t.tsv", text)
    args = [method, "t.tsv", "-c", "a,b,c,e"]
    whole = invoke_ok(*args)
    small = invoke_batched(*args, batch=batch)
    assert_same_table(small.stdout, whole.stdout, SELECTED, delimiter="\t")
    before, after = csv_records(text, "\t"), csv_records(small.stdout, "\t")
    assert [[r[0], r[4]] for r in after] == [[r[0], r[4]] for r in before]


@pytest.mark.parametrize("batch", SMALL_BATCHES)
@pytest.mark.parametrize("method", ["softmax", "minmax", "zscore"])
def test_small_batches_no_header(invoke_ok, invoke_batched, write_file, method, batch):
    text = "\n".join(table_lines()) + "\n"
    write_file("t.csv", text)
    args = [method, "t.csv", "--no-header", "-c", "2,3,4"]
    whole = invoke_ok(*args)
    small = invoke_batched(*args, batch=batch)
    assert len(csv_records(whole.stdout)) == 60  # no header written
    assert_same_table(small.stdout, whole.stdout, [1, 2, 3], header=False)
    assert [[r[0], r[4], r[5]] for r in csv_records(small.stdout)] == [[r[0], r[4], r[5]] for r in csv_records(text)]


def _parquet_table(tmp: Path) -> Path:
    df = pl.read_csv(io.StringIO(TABLE), infer_schema=False)
    df = df.with_columns(pl.col(c).cast(pl.Float64) for c in SELECTED)
    path = tmp / "t.parquet"
    df.write_parquet(path, row_group_size=16)
    return path


@pytest.mark.parametrize("read_twice", [False, True], ids=["keep", "reread"])
@pytest.mark.parametrize("axis", ["row", "column", "all"])
@pytest.mark.parametrize("method", ["softmax", "minmax", "zscore"])
def test_parquet_input_small_batches(invoke_ok, invoke_batched, workdir, method, axis, read_twice):
    _parquet_table(workdir)
    args = [method, "t.parquet", "-c", ",".join(SELECTED), "--axis", axis, "--to", "csv"]
    whole = invoke_ok(*args)
    small = invoke_batched(*args, batch="7", read_twice=read_twice)
    assert len(csv_records(whole.stdout)) == 61
    assert_same_table(small.stdout, whole.stdout, SELECTED)
    assert small.stderr == whole.stderr


def _assert_same_frames(got: pl.DataFrame, want: pl.DataFrame, selected) -> None:
    assert got.schema == want.schema
    assert got.height == want.height == 60
    others = [c for c in want.columns if c not in selected]
    assert got.select(others).equals(want.select(others))
    assert_allclose(
        got.select(selected).to_numpy().astype(np.float64),
        want.select(selected).to_numpy().astype(np.float64),
        rtol=RTOL, atol=ATOL,
    )


@pytest.mark.parametrize("method", ["softmax", "minmax", "zscore"])
def test_parquet_to_parquet_small_batches(invoke_ok, invoke_batched, workdir, method):
    _parquet_table(workdir)
    args = [method, "t.parquet", "-c", ",".join(SELECTED)]
    invoke_ok(*args, "-o", "whole.parquet")
    invoke_batched(*args, "-o", "small.parquet", batch="7")
    _assert_same_frames(pl.read_parquet("small.parquet"), pl.read_parquet("whole.parquet"), SELECTED)


@pytest.mark.parametrize("batch", SMALL_BATCHES)
@pytest.mark.parametrize("method", ["softmax", "minmax", "zscore"])
def test_csv_to_parquet_small_batches(invoke_ok, invoke_batched, write_file, method, batch):
    write_file("t.csv", TABLE)
    args = [method, "t.csv", "-c", ",".join(SELECTED)]
    invoke_ok(*args, "-o", "whole.parquet")
    invoke_batched(*args, "-o", "small.parquet", batch=batch)
    small, whole = pl.read_parquet("small.parquet"), pl.read_parquet("whole.parquet")
    _assert_same_frames(small, whole, SELECTED)
    assert small["note"].to_list() == [r[4] or None for r in csv_records(TABLE)[1:]]
    assert small["id"].to_list() == [f"{i:04d}" for i in range(60)]


def test_nan_raise_reports_the_row_in_a_later_batch(invoke, write_file):
    lines = ["id,a,b"] + [f"{i},{i},{i * 2}" for i in range(1, 80)]
    lines[52] = "52,,104"
    write_file("gap.csv", "\n".join(lines) + "\n")
    for axis in ("row", "column"):
        for batch in ("7", "64B"):
            result = invoke("zscore", "gap.csv", "-c", "a,b", "--nan", "raise", "--axis", axis, "--batch-rows", batch)
            assert result.exit_code == 1
            assert result.stderr == "softnorm: error: column 'a', row 52: missing value (--nan raise)\n"


# --------------------------------------------------------------------------
# CSV cut at record boundaries
# --------------------------------------------------------------------------


TRICKY = (
    'id,t,a\n'
    '1,"x, y",1\n'
    '2,"say ""hi""",2\n'
    '3,"multi\nline\n""quoted""\n, with comma",3\n'
    '4,"",4\n'
    '5,"""",5\n'
    '6,"' + "long " * 30 + '\n' + "and longer " * 10 + '",6\n'
    '7,plain,7\n'
    '8,"ends with quote """,8\n'
    '9,"\n",9\n'
    '10,"last, no newline",10'
)


@pytest.mark.parametrize("batch", ["1B", "7B", "16B", "33B", "64B", "1KB"])
@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_quoted_fields_survive_tiny_blocks(invoke_ok, write_file, batch, stdin):
    write_file("q.csv", TRICKY)
    source = [] if stdin else ["q.csv"]
    kwargs = {"input": TRICKY.encode()} if stdin else {}
    whole = invoke_ok("minmax", *source, "-c", "a", **kwargs)
    small = invoke_ok("minmax", *source, "-c", "a", "--batch-rows", batch, **kwargs)
    assert small.stdout == whole.stdout
    records = csv_records(small.stdout)
    assert [r[:2] for r in records] == [r[:2] for r in csv_records(TRICKY)]
    assert [r[2] for r in records[1:]] == [repr(v / 9) for v in range(10)]


@pytest.mark.parametrize(
    "buf, size, expected",
    [
        (b"", 0, -1),
        (b"a,b", 3, -1),
        (b"a,b\n", 4, 4),
        (b"a,b\n1,2\n", 8, 8),
        (b"a,b\n1,2\n3,", 10, 8),
        (b"a,b\n1,2\n3,4\n", 7, 4),  # only buf[:size] counts
        (b"a,b\n1,2\n3,4\n", 8, 8),
        (b'a\n"x\ny"\n', 8, 8),
        (b'a\n"x\ny"\n', 5, 2),  # the newline at 4 is inside quotes
        (b'"x\ny\nz', 7, -1),  # only newlines inside quotes
        (b'"x\ny"', 5, -1),
        (b'"say ""hi""\n",1\n2,3\n', 20, 20),
        (b'"say ""hi""\n",1\n2,3\n', 16, 16),
        (b'"say ""hi""\n",1\n2,3\n', 15, -1),
        (b'a,""\nb,""""\n', 12, 12),
        (b'a,""\nb,""""\n', 11, 5),
        (b'1,"a\n\n\nb"\n2,"c\n', 15, 10),
        (bytearray(b"x\ny\n\0\0\0\0"), 4, 4),  # a bytearray with room behind the data
    ],
)
def test_record_end(buf, size, expected):
    assert _record_end(buf, size) == expected


BLOCK_INPUTS = {
    "tricky": TRICKY.encode(),
    "tricky-newline": TRICKY.encode() + b"\n",
    "table": TABLE.encode(),
    "crlf": b'a,b\r\n1,"x\r\ny"\r\n2,"q ""\r\n"" q"\r\n3,z\r\n',
    "one-long-record": b'"' + b"x\n" * 100 + b'",1\n',
    "only-header": b"a,b",
    "empty-lines-in-quotes": b'a\n"\n\n\n"\n"\n"',
    "long-record-middle": b'a,b\n1,"' + b"y" * 300 + b"\n" + b"z" * 300 + b'"\n2,c\n',
}


def _record_bounds(data: bytes) -> list[int]:
    """Offsets just past each record (a newline after an even number of quotes), and the end."""
    bounds, quotes = [], 0
    for i, byte in enumerate(data):
        if byte == ord('"'):
            quotes += 1
        elif byte == ord("\n") and quotes % 2 == 0:
            bounds.append(i + 1)
    if not bounds or bounds[-1] != len(data):
        bounds.append(len(data))
    return bounds


def _check_blocks(blocks: list[bytes], data: bytes, size: int, stream: bool) -> None:
    assert b"".join(blocks) == data
    assert all(blocks)
    bounds = _record_bounds(data)
    ends = list(np.cumsum([len(b) for b in blocks]))
    assert set(ends) <= set(bounds)  # every block ends on a record boundary
    longest = max(np.diff([0] + bounds))
    joined = []
    for i, block in enumerate(blocks):
        if i < len(blocks) - 1 or data.endswith(b"\n"):
            assert block.endswith(b"\n")
        joined.extend(csv_records(block.decode()))  # strict: fails on a block cut inside a field
        if stream:
            assert len(block) <= size + longest
    if stream and size == 1:
        assert ends == bounds  # one record per block
    assert joined == csv_records(data.decode())


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 16, 31, 64])
@pytest.mark.parametrize("name", list(BLOCK_INPUTS))
def test_blocks_of_a_stream(name, size):
    data = BLOCK_INPUTS[name]
    blocks = list(_blocks(io.BytesIO(data), size))
    _check_blocks(blocks, data, size, stream=True)


@pytest.mark.parametrize("size", [1, 3, 8, 16, 64, 1 << 20])
@pytest.mark.parametrize("name", list(BLOCK_INPUTS))
def test_blocks_of_a_file(tmp_path, name, size):
    """A regular file takes the memory-mapped path."""
    data = BLOCK_INPUTS[name]
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    with open(path, "rb") as f:
        blocks = list(_blocks(f, size))
    _check_blocks(blocks, data, size, stream=False)


def test_blocks_sizes_and_counts():
    data = b"".join(b"%03d,xx\n" % i for i in range(100))  # 100 records of 7 bytes
    assert list(_blocks(io.BytesIO(data), 7)) == [data[i : i + 7] for i in range(0, 700, 7)]
    blocks = list(_blocks(io.BytesIO(data), 20))  # two records fit, the third is carried
    assert blocks[0] == data[:14] and blocks[1] == data[14:35]
    assert b"".join(blocks) == data
    assert list(_blocks(io.BytesIO(b""), 8)) == []
    assert list(_blocks(io.BytesIO(data), 1 << 20)) == [data]


# --------------------------------------------------------------------------
# Errors found past the first batch
# --------------------------------------------------------------------------


def _numbered(n: int = 80) -> list[str]:
    return ["id,a,b,t"] + [f"{i},{i},{i * 2},x{i}" for i in range(1, n)]


def _invoke_on(invoke, write_file, filename: str, text: str, stdin: bool, command: str, *args):
    """Run ``command`` on ``text`` as the file ``filename`` or on stdin; the result and the input's name in messages."""
    write_file(filename, text)
    source = [] if stdin else [filename]
    result = invoke(command, *source, *args, input=text.encode() if stdin else None)
    return result, "standard input" if stdin else filename


@pytest.mark.parametrize("batch", ["64B", "16B", "7", "1KB"])
@pytest.mark.parametrize("axis", ["row", "column"])
@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_extra_field_reports_its_file_line(invoke, write_file, batch, axis, stdin):
    lines = _numbered()
    lines[39] += ",extra"  # file line 40
    text = "\n".join(lines) + "\n"
    result, name = _invoke_on(invoke, write_file, "bad.csv", text, stdin,
                              "zscore", "-c", "a,b", "--axis", axis, "--batch-rows", batch)
    assert result.exit_code == 1
    assert result.stderr == f"softnorm: error: {name}, line 40: 5 fields, expected 4\n"


@pytest.mark.parametrize("batch", ["64B", "7"])
def test_extra_field_line_counts_quoted_newlines(invoke, write_file, batch):
    lines = _numbered(30)
    lines[5] = '5,5,10,"two\nlines"'  # file lines 6-7
    lines[12] = '12,12,24,"three\n\nlines"'  # file lines 14-16
    lines[25] += ",extra"  # file line 29
    write_file("bad.csv", "\n".join(lines) + "\n")
    result = invoke("minmax", "bad.csv", "-c", "a", "--batch-rows", batch)
    assert result.exit_code == 1
    assert result.stderr == "softnorm: error: bad.csv, line 29: 5 fields, expected 4\n"


def _big_table_with_extra_field() -> tuple[str, int]:
    """A table of about 1.5 MB, with quoted newlines, and an extra field on one record
    past the first megabyte (beyond what is sampled to choose columns); its file line."""
    lines = ["id,a,b,t"]
    for i in range(1, 100_000):
        lines.append(f'{i},{i % 100},{i % 7},"q\nr"' if i % 997 == 0 else f"{i},{i % 100},{i % 7},x")
    lines[90_001] += ",extra"
    text = "\n".join(lines) + "\n"
    assert len(text.encode()) > 1.1 * (1 << 20)
    assert text.index(",extra") > 1 << 20
    return text, text[: text.index(",extra")].count("\n") + 1


@pytest.mark.parametrize(
    "batch, axis, stdin",
    [("64KB", "row", False), ("100000B", "column", False), ("64KB", "column", True), ("7", "row", True)],
)
def test_extra_field_past_the_sample_reports_its_file_line(invoke, write_file, batch, axis, stdin):
    text, line = _big_table_with_extra_field()
    assert line == 90_002 + 90_001 // 997  # header + records before + one extra line per quoted newline
    result, name = _invoke_on(invoke, write_file, "big.csv", text, stdin,
                              "minmax", "-c", "a,b", "--axis", axis, "--batch-rows", batch)
    assert result.exit_code == 1
    assert result.stderr == f"softnorm: error: {name}, line {line}: 5 fields, expected 4\n"


@pytest.mark.parametrize("suffix", [[], ["--suffix", "_z"]], ids=["replace", "suffix"])
@pytest.mark.parametrize("batch", ["64B", "7"])
@pytest.mark.parametrize("axis", ["row", "column", "all"])
def test_not_a_number_in_a_later_batch(invoke, write_file, batch, axis, suffix):
    lines = _numbered()
    lines[55] = "55,abc,110,x55"  # data row 55
    write_file("nn.csv", "\n".join(lines) + "\n")
    result = invoke("zscore", "nn.csv", "-c", "a,b", "--axis", axis, "--batch-rows", batch, *suffix)
    assert result.exit_code == 1
    assert result.stderr == "softnorm: error: column 'a', row 55: 'abc' is not a number\n"


def test_not_a_number_after_quoted_newlines(invoke, write_file):
    """Rows are data rows, not file lines: quoted newlines before do not shift the number."""
    lines = _numbered(40)
    lines[3] = '3,3,6,"a\nb\nc"'
    lines[33] = "33,3,x,x33"
    write_file("nn.csv", "\n".join(lines) + "\n")
    result = invoke("minmax", "nn.csv", "-c", "a,b", "--batch-rows", "32B")
    assert result.exit_code == 1
    assert result.stderr == "softnorm: error: column 'b', row 33: 'x' is not a number\n"


# --------------------------------------------------------------------------
# Standard input: spooled for two passes, streamed for one
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, selected",
    [
        (["zscore", "-c", "a,b,c,e", "--batch-rows", "7"], ["a", "b", "c", "e"]),
        (["minmax", "-c", "a,b,c,e", "--axis", "all", "--batch-rows", "64B"], ["a", "b", "c", "e"]),
        (["softmax", "-c", "a,b", "--axis", "column", "--batch-rows", "48B", "--nan", "propagate"], ["a", "b"]),
        (["zscore", "-c", "a,b", "--suffix", "_z", "--batch-rows", "7"], ["a_z", "b_z"]),
    ],
)
def test_stdin_two_pass_in_process_equals_file(invoke_ok, write_file, monkeypatch, args, selected):
    write_file("t.csv", TABLE)
    _read_twice(monkeypatch)  # pass 2 reads the spooled copy of stdin
    from_file = invoke_ok(*args, "t.csv")
    from_stdin = invoke_ok(*args, input=TABLE.encode())
    assert_same_table(from_stdin.stdout, from_file.stdout, selected)
    assert from_stdin.stderr == from_file.stderr


def test_stdin_spool_is_used_and_deleted_in_process(invoke_ok, write_file, monkeypatch, tmp_path):
    import tempfile

    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    made = []
    real = tempfile.mkstemp

    def recording_mkstemp(*a, **kw):
        kw.setdefault("dir", str(spool_dir))
        fd, path = real(*a, **kw)
        made.append(path)
        return fd, path

    write_file("t.csv", TABLE)
    want = invoke_ok("zscore", "t.csv", "-c", "a,b").stdout
    monkeypatch.setattr(tempfile, "mkstemp", recording_mkstemp)
    _read_twice(monkeypatch)
    # A pipe smaller than a batch, held whole by its first look (the sample), is read from there...
    result = invoke_ok("zscore", "-c", "a,b", "--batch-rows", "7", input=TABLE.encode())
    assert made == []
    assert_same_table(result.stdout, want, ["a", "b"])
    # ...a longer one is copied aside for the second pass, and the copy removed.
    monkeypatch.setattr("softnorm_cli.io.delimited.decode.SAMPLE_BYTES", 64)
    monkeypatch.setattr("softnorm_cli.io.delimited.decode.SAMPLE_LINES", 2)
    result = invoke_ok("zscore", "-c", "a,b", "--batch-rows", "7", input=TABLE.encode())
    assert any(Path(p).parent == spool_dir for p in made)  # a spool file was made...
    assert not any(os.path.exists(p) for p in made)  # ...and is gone
    assert list(spool_dir.iterdir()) == []
    assert_same_table(result.stdout, want, ["a", "b"])


@pytest.mark.parametrize(
    "args",
    [
        ["zscore", "-c", "a,b,c,e", "--batch-rows", "7"],
        ["minmax", "-c", "a,b,e", "--axis", "all", "--batch-rows", "64B"],
    ],
)
def test_stdin_two_pass_subprocess_equals_file_and_cleans_tmpdir(invoke_ok, workdir, args):
    (workdir / "t.csv").write_text(TABLE, encoding="utf-8")
    spool = workdir / "tmp"
    spool.mkdir()
    from_file = invoke_ok(*args, "t.csv")
    from_stdin = run_process(*args, cwd=workdir, input=TABLE.encode(), env=_env(TMPDIR=str(spool)))
    assert from_stdin.returncode == 0, from_stdin.stderr.decode()
    assert from_stdin.stderr.decode() == from_file.stderr
    assert_same_table(from_stdin.stdout.decode(), from_file.stdout, [c for c in "abce" if c in args[2]])
    assert list(spool.iterdir()) == []


def test_stdin_spool_deleted_after_error_in_pass_1(tmp_path):
    lines = _numbered()
    lines[60] = "60,60,oops,x60"
    spool = tmp_path / "tmp"
    spool.mkdir()
    proc = run_process("zscore", "-c", "a,b", "--batch-rows", "64B", cwd=tmp_path,
                       input=("\n".join(lines) + "\n").encode(), env=_env(TMPDIR=str(spool)))
    assert proc.returncode == 1
    assert proc.stderr == b"softnorm: error: column 'b', row 60: 'oops' is not a number\n"
    assert proc.stdout == b""
    assert list(spool.iterdir()) == []


def test_stdin_spool_deleted_after_malformed_csv_and_parquet(tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    env = _env(TMPDIR=str(spool))
    lines = _numbered()
    lines[50] += ",extra"
    bad_csv = run_process("minmax", "-c", "a", "--batch-rows", "64B", cwd=tmp_path,
                          input=("\n".join(lines) + "\n").encode(), env=env)
    assert bad_csv.returncode == 1
    assert bad_csv.stderr == b"softnorm: error: standard input, line 51: 5 fields, expected 4\n"
    bad_parquet = run_process("minmax", cwd=tmp_path, input=b"PAR1" + b"\0" * 100, env=env)
    assert bad_parquet.returncode == 1
    assert bad_parquet.stderr.startswith(b"softnorm: error: standard input: not a readable Parquet file")
    assert list(spool.iterdir()) == []


def test_stdin_spool_deleted_after_ctrl_c(tmp_path):
    spool = tmp_path / "tmp"
    spool.mkdir()
    head = ("id,a,b\n" + "".join(f"{i:07d},{i % 97},{i % 13}\n" for i in range(80_000))).encode()  # > 1 MB
    proc = subprocess.Popen([*SOFTNORM, "zscore", "-c", "a,b"], cwd=tmp_path, env=_env(TMPDIR=str(spool)),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(head)
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while not list(spool.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(spool.iterdir()), "no spool file appeared during pass 1"
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert b"Traceback" not in err
    assert list(spool.iterdir()) == []


def _lines_reader(stream) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def pump():
        for line in iter(stream.readline, b""):
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_row_axis_streams_stdin_before_end_of_input(tmp_path):
    """`softnorm softmax` on a pipe writes each row as it comes, not at end of input."""
    proc = subprocess.Popen([*SOFTNORM, "softmax", "-c", "a,b", "-q"], cwd=tmp_path, env=_env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        lines = _lines_reader(proc.stdout)
        proc.stdin.write(b"id,a,b\n007,1,2\n")
        proc.stdin.flush()
        try:
            first = [lines.get(timeout=4), lines.get(timeout=2)]
        except queue.Empty:
            pytest.fail("no output before the end of input: the row axis does not stream stdin")
        assert first[0] == b"id,a,b\n"
        row = first[1].decode().rstrip("\n").split(",")
        assert row[0] == "007"
        assert_allclose([float(v) for v in row[1:]], [1 / (1 + np.e), np.e / (1 + np.e)], rtol=1e-15)
        proc.stdin.write(b"008,0,0\n")
        proc.stdin.flush()
        assert lines.get(timeout=6) == b"008,0.5,0.5\n"
        proc.stdin.close()
        assert lines.get(timeout=10) is None
        assert proc.wait(timeout=10) == 0
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_row_axis_large_stdin_in_small_batches_subprocess(invoke_ok, workdir):
    text = "id,a,b\n" + "".join(f"{i:05d},{i % 17 - 8},{(i * 7) % 11}\n" for i in range(1000))
    (workdir / "t.csv").write_text(text, encoding="utf-8")
    from_file = invoke_ok("softmax", "t.csv")
    from_stdin = run_process("softmax", "--batch-rows", "200B", cwd=workdir, input=text.encode())
    assert from_stdin.returncode == 0 and from_stdin.stderr == b""
    assert from_stdin.stdout.decode() == from_file.stdout
    assert len(from_stdin.stdout.splitlines()) == 1001


def test_infinities_in_small_batches_leave_stderr_clean(invoke_ok, workdir):
    """Merging batch statistics with infinite values prints no numpy RuntimeWarning
    (a real process: pytest would swallow the warning in-process)."""
    (workdir / "inf.csv").write_text(INF_TABLE, encoding="utf-8")
    for method in ("minmax", "zscore"):
        whole = invoke_ok(method, "inf.csv", "-c", "a,d", "--inf", "missing")
        small = run_process(method, "inf.csv", "-c", "a,d", "--inf", "missing", "--batch-rows", "7", cwd=workdir)
        assert small.returncode == 0
        assert b"RuntimeWarning" not in small.stderr
        assert small.stderr.decode() == whole.stderr


# --------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------


def test_no_progress_when_stderr_is_not_a_terminal(invoke_ok, write_file, monkeypatch):
    import softnorm_cli.cli.progress

    # Even a bar that would appear at once stays away from a stderr that is not a terminal.
    monkeypatch.setattr(softnorm_cli.cli.progress.BatchProgress.__init__, "__defaults__", (0.0,))
    text = "id,a,b\n" + "".join(f"{i:05d},{i % 17},{i % 13}\n" for i in range(300))
    write_file("t.csv", text)
    for command in ("softmax", "zscore"):
        result = invoke_ok(command, "t.csv", "--batch-rows", "64B")  # hundreds of batches
        assert result.stderr == ""
        assert result.stdout.startswith("id,a,b\n")
        assert len(result.stdout.splitlines()) == 301
        assert "pass" not in result.stdout and "\x1b" not in result.stdout


class _FakeSource:
    def __init__(self, position):
        self.position = position


def _console():
    from rich.console import Console

    buf = io.StringIO()
    return buf, Console(file=buf, force_terminal=True, width=100)


def test_batch_progress_shows_stages_and_rows():
    from softnorm_cli.cli.progress import BatchProgress

    buf, console = _console()
    source = _FakeSource((1234, None, "rows"))
    with BatchProgress(source, console, delay=0) as progress:
        progress("pass 1/2: statistics")
        source.position = (2000, None, "rows")
        progress("pass 2/2: writing")
    out = buf.getvalue()
    assert "pass 1/2: statistics" in out and "pass 2/2: writing" in out
    assert "2,000 rows" in out


def test_batch_progress_shows_bytes_of_total():
    from softnorm_cli.cli.progress import BatchProgress

    buf, console = _console()
    with BatchProgress(_FakeSource((512, 1024, "bytes")), console, delay=0) as progress:
        progress("writing")
    out = buf.getvalue()
    assert "writing" in out and "50%" in out and "0.5/1.0 kB" in out


def test_batch_progress_silent_before_its_delay():
    from softnorm_cli.cli.progress import BatchProgress

    buf, console = _console()
    with BatchProgress(_FakeSource((512, 1024, "bytes")), console, delay=60) as progress:
        for _ in range(5):
            progress("writing")
    assert buf.getvalue() == ""


_NO_DELAY = (
    "import sys\n"
    "import softnorm_cli.cli.progress as p\n"
    "p.BatchProgress.__init__.__defaults__ = (0.0,)\n"
    "sys.argv = ['softnorm'] + sys.argv[1:]\n"
    "from softnorm_cli.cli import main\n"
    "main()\n"
)


def _run_with_terminal_stderr(args, cwd) -> tuple[int, bytes, bytes]:
    """Run softnorm (progress without its one-second delay) with stderr a pseudo-terminal, stdout a pipe."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    proc = subprocess.Popen([sys.executable, "-c", _NO_DELAY, *args], cwd=cwd, env=_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    reader = reading_terminal(master, chunks.append)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
        os.close(master)
    return proc.returncode, out, b"".join(chunks)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_on_a_terminal_stderr_never_on_stdout(invoke_ok, workdir):
    text = "id,a,b\n" + "".join(f"{i:05d},{i % 17},{i % 5}\n" for i in range(3000))
    (workdir / "t.csv").write_text(text, encoding="utf-8")
    args = ["zscore", "t.csv", "--batch-rows", "1KB"]
    plain = invoke_ok(*args).stdout.encode()
    code, out, err = _run_with_terminal_stderr(args, workdir)
    assert code == 0
    assert out == plain  # the table only
    assert b"pass 1/2: statistics" in err and b"pass 2/2: writing" in err
    code, out, err = _run_with_terminal_stderr([*args, "-q"], workdir)
    assert code == 0 and out == plain
    assert err == b""  # -q: no progress (and no summary)


# --------------------------------------------------------------------------
# --batch-rows validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-5", "abc", "12XB", "0KB", "1.5MB", "12bk", "", "MB", "7 rows"])
def test_batch_rows_rejects(invoke, ab_csv, value):
    result = invoke("zscore", "ab.csv", "--batch-rows", value)
    assert result.exit_code == 2
    assert "Invalid value for '--batch-rows'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("value", ["1", "7", "64B", "64b", "1k", "1KB", "2m", "2MB", "1g", "1GB", " 3 "])
def test_batch_rows_accepts(invoke_ok, ab_csv, value):
    small = invoke_ok("zscore", "ab.csv", "-c", "a,b", "--batch-rows", value).stdout
    assert_same_table(small, invoke_ok("zscore", "ab.csv", "-c", "a,b").stdout, ["a", "b"])


def test_batch_rows_type_converts():
    from softnorm_cli.cli.options import BatchSizeType

    convert = BatchSizeType().convert
    assert convert("7", None, None) == (7, None)
    assert convert("64B", None, None) == (None, 64)
    assert convert("64kb", None, None) == (None, 64 << 10)
    assert convert("16MB", None, None) == (None, 16 << 20)
    assert convert("2g", None, None) == (None, 2 << 30)


class _FullDisk(io.RawIOBase):
    """A binary stream that refuses every write, as a full disk does."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_sink_that_fails_reports_instead_of_hanging(monkeypatch, fmt):
    # polars may write a small Parquet file only once it has taken the last
    # batch; the failure must still reach the caller.
    from softnorm_cli.io.sink import Layout, Sink

    class Stdout:
        buffer = _FullDisk()

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdout", Stdout())
    outcome: list[BaseException | None] = []

    def write_two_batches() -> None:
        try:
            with Sink("-", Layout(fmt)) as sink:
                sink.write(pl.DataFrame({"a": [1.0, 2.0]}))
                sink.write(pl.DataFrame({"a": [3.0]}))
            outcome.append(None)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)

    worker = threading.Thread(target=write_two_batches, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "the sink hung after its writer failed"
    assert outcome and outcome[0] is not None
    assert "No space left on device" in str(outcome[0])

"""Arrow IPC in and out: files and streams written by pyarrow and pandas give what the CSV and
Parquet paths give on the same values; output files and streams read back with pyarrow, types kept."""

from __future__ import annotations

import io
import json
import os
import tempfile

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from helpers import expect_error

ROWS = 50


def table(rows: int = ROWS) -> pa.Table:
    """Every kind of column softnorm passes through, with nulls, and schema metadata."""
    rng = np.random.default_rng(7)
    x = np.round(rng.normal(size=rows) * 10, 3)
    return pa.table(
        {
            "x": pa.array(x, mask=np.arange(rows) % 11 == 3),
            "n": pa.array(np.arange(rows) * 3 - 20, pa.int32()),
            "label": pa.array([None if i % 7 == 2 else f"item {i}" for i in range(rows)], pa.string()),
            "kind": pa.array([["red", "green", "blue"][i % 3] for i in range(rows)]).dictionary_encode(),
            "flag": pa.array([i % 4 == 0 for i in range(rows)]),
            "at": pa.array(np.arange(rows) * 3_600_000_000, pa.timestamp("us", "UTC")),
        }
    ).replace_schema_metadata({"origin": "sensor 7"})


def write_ipc(path, data: pa.Table, stream: bool = False, chunk: int = 7) -> None:
    """``data`` as an IPC file (or stream) of record batches of ``chunk`` rows, by pyarrow."""
    with (pa.ipc.new_stream if stream else pa.ipc.new_file)(path if isinstance(path, io.IOBase) else str(path), data.schema) as out:
        for batch in data.to_batches(max_chunksize=chunk):
            out.write_batch(batch)


def read_stream(data: bytes) -> pa.Table:
    return pa.ipc.open_stream(data).read_all()


def plain(data: pa.Table) -> pa.Table:
    """The table as CSV holds it: dictionaries decoded, no timestamps."""
    return data.drop_columns(["at"]).cast(data.drop_columns(["at"]).schema.set(3, pa.field("kind", pa.string())))


def zscores(values: pa.ChunkedArray) -> np.ndarray:
    x = values.to_numpy(zero_copy_only=False).astype(float)
    return (x - np.nanmean(x)) / np.nanstd(x)


@pytest.mark.parametrize("stream", [False, True], ids=["file", "stream"])
def test_csv_output_is_the_csv_paths_and_the_parquet_paths(invoke_ok, workdir, stream):
    data = table()
    write_ipc("in.arrow", data, stream)
    pq.write_table(data, "in.parquet")
    pacsv.write_csv(plain(data), "in.csv")
    from_arrow = invoke_ok("zscore", "in.arrow", "-c", "x,n", "--to", "csv").stdout_bytes
    assert from_arrow == invoke_ok("zscore", "in.parquet", "-c", "x,n", "--to", "csv").stdout_bytes
    csv_path = invoke_ok("zscore", "in.csv", "-c", "x,n").stdout_bytes
    # The same bytes but for the timestamps, which CSV does not hold.
    assert [line.rsplit(b",", 1)[0] for line in from_arrow.splitlines()] == csv_path.splitlines()
    np.testing.assert_allclose(
        np.genfromtxt(io.BytesIO(from_arrow), delimiter=",", skip_header=1, usecols=0), zscores(data["x"]), rtol=1e-12
    )


def test_stdin_stream_and_stdin_file_give_what_the_file_gives(invoke_ok, workdir, monkeypatch):
    os.mkdir("scratch")
    monkeypatch.setattr(tempfile, "tempdir", str(workdir / "scratch"))  # where standard input is copied aside
    data = table()
    write_ipc("in.arrow", data)
    write_ipc("in.arrows", data, stream=True)
    want = invoke_ok("zscore", "in.arrow", "-c", "x", "--to", "csv").stdout_bytes
    for name in ("in.arrow", "in.arrows"):
        raw = open(name, "rb").read()
        assert invoke_ok("zscore", "-", "-c", "x", "--to", "csv", input=raw).stdout_bytes == want
        # Column-wise: a fit and an apply, two passes over standard input (the stream is copied aside).
        assert invoke_ok("zscore", "-", "-c", "x", "--to", "csv", "--batch-rows", "8", input=raw).stdout_bytes == want
    assert os.listdir("scratch") == []


def test_stdout_is_a_stream_with_the_types_and_metadata(invoke_ok, workdir):
    data = table()
    write_ipc("in.arrow", data)
    out = read_stream(invoke_ok("zscore", "-", "-c", "x", "--to", "arrow", input=open("in.arrow", "rb").read()).stdout_bytes)
    assert out.schema.equals(data.schema, check_metadata=True)
    assert out.drop_columns(["x"]).equals(data.drop_columns(["x"]))
    np.testing.assert_allclose(out["x"].to_numpy(zero_copy_only=False), zscores(data["x"]), rtol=1e-12)
    assert out["x"].null_count == data["x"].null_count


@pytest.mark.parametrize("name", ["out.arrow", "out.feather", "out.ipc", "out.arrows"])
def test_round_trip_keeps_types_and_untouched_values(invoke_ok, workdir, name):
    data = table()
    write_ipc("in.arrow", data, chunk=16)
    invoke_ok("minmax", "in.arrow", "-c", "x", "-o", name)
    head = open(name, "rb").read(6)
    assert (head == b"ARROW1") == (name != "out.arrows")
    out = (pa.ipc.open_stream if name.endswith("s") else pa.ipc.open_file)(name).read_all()
    assert out.schema == data.schema and out.schema.metadata == {b"origin": b"sensor 7"}
    assert out.drop_columns(["x"]).equals(data.drop_columns(["x"]))
    x = data["x"].to_numpy(zero_copy_only=False)
    np.testing.assert_allclose(out["x"].to_numpy(zero_copy_only=False), (x - np.nanmin(x)) / (np.nanmax(x) - np.nanmin(x)))


def test_parquet_output_of_arrow_input(invoke_ok, workdir):
    data = table()
    write_ipc("in.arrow", data)
    invoke_ok("zscore", "in.arrow", "-c", "x", "-o", "out.parquet")
    out = pq.read_table("out.parquet")
    # A dictionary column stays dictionary-encoded; its values are strings as polars writes them.
    assert pa.types.is_dictionary(out.schema.field("kind").type)
    assert out["kind"].to_pylist() == data["kind"].to_pylist()
    assert out.select(["n", "flag", "at"]).equals(data.select(["n", "flag", "at"]))
    assert out["label"].to_pylist() == data["label"].to_pylist()
    # The schema's metadata is kept (polars' Parquet writer drops it beside a dictionary column).
    write_ipc("plain.arrow", data.drop_columns(["kind"]))
    invoke_ok("zscore", "plain.arrow", "-c", "x", "-o", "plain.parquet")
    assert pq.read_table("plain.parquet").schema.metadata == {b"origin": b"sensor 7"}


def test_changing_dictionaries_are_written_as_deltas(invoke_ok, workdir):
    # A stream may replace a dictionary between batches; an IPC file may only add to it.
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    batches = [
        pa.record_batch({"w": pa.array([words[(i + j) % 6] for j in range(3)]).dictionary_encode(), "x": [float(i), i + 0.5, i + 0.25]})
        for i in range(12)
    ]
    with pa.ipc.new_stream("in.arrows", batches[0].schema) as out:
        for batch in batches:
            out.write_batch(batch)
    invoke_ok("zscore", "in.arrows", "-c", "x", "-o", "out.arrow", "--batch-rows", "3")
    out = pa.ipc.open_file("out.arrow").read_all()
    assert out["w"].to_pylist() == pa.Table.from_batches(batches)["w"].to_pylist()
    assert out.schema.field("w").type == batches[0].schema.field("w").type


def test_many_small_batches(invoke_ok, workdir):
    data = table(3000)
    write_ipc("in.arrows", data, stream=True, chunk=2)
    pacsv.write_csv(plain(data), "in.csv")
    got = invoke_ok("zscore", "in.arrows", "-c", "x", "--to", "csv").stdout_bytes
    assert [line.rsplit(b",", 1)[0] for line in got.splitlines()] == invoke_ok("zscore", "in.csv", "-c", "x").stdout_bytes.splitlines()


def test_pandas_feather_and_its_index(invoke_ok, workdir):
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3, 5, 9], "name": ["p", "q", None]})
    frame.to_feather("plain.feather")
    invoke_ok("zscore", "plain.feather", "-o", "out.feather")
    out = pa.ipc.open_file("out.feather").read_all()
    assert out.schema.metadata == pa.ipc.open_file("plain.feather").schema.metadata  # pandas' own, for pandas to read back
    assert out["name"].to_pylist() == ["p", "q", None]
    np.testing.assert_allclose(out["a"].to_numpy(), zscores(pa.chunked_array([frame["a"]])))
    # A named index (pandas' metadata says so) is row labels, not a column to normalize.
    frame.index = pd.Index([10, 20, 30], name="id")
    feather.write_feather(frame, "indexed.feather")
    result = invoke_ok("zscore", "indexed.feather", "--to", "csv")
    assert result.stdout.splitlines()[0] == "a,b,name,id" and result.stdout.splitlines()[1].endswith(",10")
    invoke_ok("zscore", "indexed.feather", "-o", "out.feather")
    back = pd.read_feather("out.feather")
    assert list(back.index) == [10, 20, 30] and back.index.name == "id"
    np.testing.assert_allclose(back["b"].to_numpy(), zscores(pa.chunked_array([frame["b"]])))


def test_groups_params_and_inverse(invoke_ok, workdir):
    data = table()
    write_ipc("in.arrow", data)
    invoke_ok("zscore", "in.arrow", "-c", "x", "-g", "kind", "--save-params", "p.json", "-o", "z.arrow")
    z = pa.ipc.open_file("z.arrow").read_all()
    for kind in ("red", "green", "blue"):
        at = np.array(data["kind"].to_pylist()) == kind
        np.testing.assert_allclose(z["x"].to_numpy(zero_copy_only=False)[at], zscores(pa.chunked_array([data["x"].to_numpy(zero_copy_only=False)[at]])))
    assert json.loads(open("p.json").read())["group_by"] == ["kind"]
    invoke_ok("zscore", "z.arrow", "--params", "p.json", "--inverse", "-o", "back.arrow")
    back = pa.ipc.open_file("back.arrow").read_all()
    assert back.schema == data.schema and back.drop_columns(["x"]).equals(data.drop_columns(["x"]))
    np.testing.assert_allclose(back["x"].to_numpy(zero_copy_only=False), data["x"].to_numpy(zero_copy_only=False), rtol=1e-12)


def assert_same(got: pa.Table, want: pa.Table) -> None:
    """The same table, x (merged over parts in another order) to the last few bits."""
    assert got.schema == want.schema and got.schema.metadata == want.schema.metadata
    assert got.drop_columns(["x"]).equals(want.drop_columns(["x"]))
    np.testing.assert_allclose(got["x"].to_numpy(zero_copy_only=False), want["x"].to_numpy(zero_copy_only=False), rtol=1e-12, atol=1e-15)


def test_a_dataset_of_arrow_parts(invoke_ok, workdir):
    data = table(90)
    os.mkdir("parts")
    for i in range(3):
        write_ipc(f"parts/p{i}.arrow", data.slice(30 * i, 30), stream=i == 1)  # a stream named .arrow is read by its bytes
    write_ipc("whole.arrow", data)
    want = read_stream(invoke_ok("zscore", "whole.arrow", "-c", "x", "-o", "-").stdout_bytes)
    invoke_ok("zscore", "parts", "-c", "x", "-o", "joined.arrow")
    assert_same(pa.ipc.open_file("joined.arrow").read_all(), want)
    stdout = invoke_ok("zscore", "parts", "-c", "x", "-o", "-").stdout_bytes
    assert stdout[:4] == b"\xff\xff\xff\xff"
    assert_same(read_stream(stdout), want)
    invoke_ok("zscore", "parts", "-c", "x", "-o", "out/")
    assert sorted(os.listdir("out")) == ["part-00000.arrow", "part-00001.arrow", "part-00002.arrow"]
    assert_same(pa.concat_tables(pa.ipc.open_file(f"out/{n}").read_all() for n in sorted(os.listdir("out"))), want)
    summary = invoke_ok("zscore", "parts", "-c", "x", "-o", "joined.arrow", "--summary").stderr
    assert "parts → joined.arrow · 90 rows" in summary


def test_a_dataset_of_arrow_parts_on_dask(invoke_ok, workdir):
    distributed = pytest.importorskip("distributed")
    data = table(90)
    os.mkdir("parts")
    for i in range(3):
        write_ipc(f"parts/p{i}.arrow", data.slice(30 * i, 30))
    local = invoke_ok("zscore", "parts", "-c", "x", "-g", "kind", "-o", "-").stdout_bytes
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50) as cluster:
        dask = invoke_ok("zscore", "parts", "-c", "x", "-g", "kind", "-o", "-", "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert read_stream(dask.stdout_bytes).equals(read_stream(local))


def test_compressed_input_and_output(invoke_ok, workdir):
    data = table()
    write_ipc("in.arrow", data)
    want = invoke_ok("zscore", "in.arrow", "-c", "x", "--to", "csv").stdout_bytes
    for name, stream in (("in.arrows.zst", True), ("in.arrow.gz", False)):
        buffer = io.BytesIO()
        write_ipc(buffer, data, stream)
        with pa.CompressedOutputStream(name, "zstd" if name.endswith("zst") else "gzip") as out:
            out.write(buffer.getvalue())
        assert invoke_ok("zscore", name, "-c", "x", "--to", "csv").stdout_bytes == want
        assert invoke_ok("zscore", "-", "-c", "x", "--to", "csv", input=open(name, "rb").read()).stdout_bytes == want
    big = table(5000)
    write_ipc("big.arrow", big.drop_columns(["x"]).append_column("x", pa.array(np.zeros(5000))))
    invoke_ok("zscore", "big.arrow", "-c", "n", "-o", "plain.arrow")
    for codec in ("zstd", "lz4"):  # the codecs of IPC buffers
        invoke_ok("zscore", "big.arrow", "-c", "n", "-o", "small.arrow", "--compression", codec)
        assert os.path.getsize("small.arrow") < 0.75 * os.path.getsize("plain.arrow")
        assert pa.ipc.open_file("small.arrow").read_all().equals(pa.ipc.open_file("plain.arrow").read_all())
        # An input whose buffers are compressed reads as the same table.
        assert invoke_ok("zscore", "small.arrow", "-c", "n", "-o", "-").stdout_bytes == invoke_ok("zscore", "plain.arrow", "-c", "n", "-o", "-").stdout_bytes


def test_cut_short_and_damaged_input(invoke, workdir, write_file):
    data = table()
    write_ipc("in.arrow", data)
    write_ipc("in.arrows", data, stream=True)
    write_file("short.arrows", open("in.arrows", "rb").read()[:1500])
    write_file("short.arrow", open("in.arrow", "rb").read()[:-40])
    write_file("garbage.arrow", b"ARROW1\x00\x00" + b"not arrow at all " * 20)
    for name, what in (("short.arrows", "stream"), ("short.arrow", "file"), ("garbage.arrow", "file")):
        for path, shown in ((name, name), ("-", "standard input")):
            result = invoke("zscore", path, "-c", "x", "--to", "csv", input=open(name, "rb").read())
            assert result.exit_code == 1 and result.stdout == ""
            assert result.stderr.startswith(f"softnorm: error: {shown}: not a readable Arrow IPC {what}, cut short or damaged (")
            assert result.stderr.count("\n") == 1


def test_feather_version_1_is_refused(invoke, workdir):
    import pandas as pd

    with pytest.warns(DeprecationWarning):
        feather.write_feather(pd.DataFrame({"a": [1.0, 2.0]}), "old.feather", version=1)
    expect_error(
        invoke("zscore", "old.feather"),
        "old.feather: is a Feather version 1 file, which softnorm does not read; write it as Feather version 2 (Arrow IPC), "
        "e.g. pyarrow.feather.write_feather(pyarrow.feather.read_table(path), new_path)",
    )


def test_columns_softnorm_cannot_hold(invoke, workdir):
    data = pa.table({"a": [1.0, 2.0], "span": pa.array([pa.MonthDayNano([1, 2, 3])] * 2)})
    write_ipc("interval.arrow", data)
    expect_error(invoke("zscore", "interval.arrow", "-c", "a"),
                 "interval.arrow: column 'span' is of Arrow type month_day_nano_interval, which softnorm does not read")
    write_ipc("twice.arrow", pa.table([pa.array([1.0, 2.0]), pa.array([3.0, 4.0])], names=["a", "a"]))
    expect_error(invoke("zscore", "twice.arrow"), "twice.arrow: column name 'a' appears more than once in the schema")


def test_csv_written_as_arrow_is_typed_as_parquet_is(invoke_ok, workdir, write_file):
    write_file("in.csv", "id,a,b,t\n007,1,2.5,x\n008,3,4.5,\n")
    invoke_ok("zscore", "in.csv", "-c", "b", "-o", "out.parquet")
    invoke_ok("zscore", "in.csv", "-c", "b", "-o", "out.arrow")
    got, want = pa.ipc.open_file("out.arrow").read_all(), pq.read_table("out.parquet")
    assert got.schema.types == want.schema.types == [pa.large_string(), pa.int64(), pa.float64(), pa.large_string()]
    assert got.equals(want.replace_schema_metadata(None))

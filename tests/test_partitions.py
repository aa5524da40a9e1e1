"""One large file as many partitions (``--jobs``, ``--partition-size``): the same bytes as one read.

A file read as partitions, in worker processes or here, must give what
``--jobs 1`` gives when it streams the file whole: the partitions hold whole
chunks of the statistics' reduction and are joined in its tree, and the
parts written are joined in order. The Dask engine's partitions are in
tests/test_dask.py; the cuts of a text into partitions are checked against
a plain reading of its quotes at the end.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import threading
import time

import numpy as np
import polars as pl
import pytest

from helpers import expect_error, parts_table
from softnorm_cli.io.delimited.cuts import cuts, scan
from softnorm_cli.io.partitions import ALIGN_ROWS
from softnorm_cli.numeric import reduce

SPLIT = ["--jobs", "2", "--partition-size", "1MB"]

EVERY_COMMAND = [
    ["zscore", "-c", "x,y,z"],
    ["zscore", "-c", "x,y,z", "-g", "grp", "--ddof", "1", "--nan", "omit"],
    ["zscore", "-c", "x,y,z", "--axis", "all"],
    ["minmax", "-c", "x,y,z", "--range", "-1,1"],
    ["minmax", "-c", "x,y,z", "--axis", "all", "-g", "grp"],
    ["softmax", "-c", "x,z"],
    ["softmax", "-c", "x,z", "--axis", "column", "-g", "grp", "--log"],
    ["softmax", "-c", "x,z", "--axis", "all", "--temperature", "2"],
    ["maxabs", "-c", "x,y"],
    ["unitnorm", "-c", "x,y,z"],
    ["robust", "-c", "x,y,z"],
    ["robust", "-c", "x,z", "-g", "grp"],
    ["quantile", "-c", "x,y", "--n-quantiles", "50"],
    ["quantile", "-c", "x,y", "-g", "grp", "--output-distribution", "normal"],
]


def engine(path: str = "s.json") -> dict:
    return json.loads(open(path).read())["engine"]


# Parquet partitions differ from the text's only in how they are read: a fit of each kind covers them.
CASES = [("csv", args) for args in EVERY_COMMAND] + [("parquet", EVERY_COMMAND[i]) for i in (1, 2, 6, 11, 13)]


@pytest.mark.parametrize("fmt, args", CASES, ids=lambda a: "-".join(a[:1] + a[3:]) if isinstance(a, list) else a)
def test_every_command_and_axis_gives_the_bytes_of_one_read_however_the_file_is_split(invoke_ok, workdir, large_files, fmt, args):
    source = large_files / f"medium.{fmt}"
    invoke_ok(*args, source, "-o", f"whole.{fmt}", "--jobs", "1")
    # One Parquet file is not joined from partitions (see below): a part per partition is.
    invoke_ok(*args, source, "-o", "split.csv" if fmt == "csv" else "split/", *SPLIT, "--summary-json", "s.json")
    assert engine() == {"name": "local", "workers": 1, "partitions": 4}  # 14 MB: not worth starting processes for
    if fmt == "csv":
        assert open("split.csv", "rb").read() == open("whole.csv", "rb").read()
    else:  # the same columns and values, to the bit
        assert pl.concat([pl.read_parquet(f"split/part-{i:05d}.parquet") for i in range(4)]).equals(pl.read_parquet("whole.parquet"))


def test_a_parquet_file_to_one_parquet_file_stays_in_one_process_unless_dask_is_asked_for(invoke_ok, workdir, large_files):
    # Its partitions' row groups would be decoded and encoded again to be joined: more than two workers save.
    invoke_ok("zscore", large_files / "medium.parquet", "-c", "x", "-o", "one.parquet", *SPLIT, "--summary-json", "s.json")
    assert engine() is None  # streamed here, as with --jobs 1
    invoke_ok("zscore", large_files / "medium.parquet", "-c", "x", "-o", "one.csv", *SPLIT, "--summary-json", "s.json")
    assert engine()["partitions"] == 4


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_directory_out_gets_a_part_per_partition(invoke_ok, workdir, large_files, fmt):
    args = ["zscore", large_files / f"medium.{fmt}", "-c", "x,y,z", "-g", "grp"]
    invoke_ok(*args, "-o", f"whole.{fmt}", "--jobs", "1")
    invoke_ok(*args, "-o", "parts/", *SPLIT)
    assert sorted(os.listdir("parts")) == [f"part-{i:05d}.{fmt}" for i in range(4)]
    if fmt == "csv":
        texts = [open(f"parts/part-{i:05d}.csv", "rb").read() for i in range(4)]
        assert texts[0] + b"".join(t.split(b"\n", 1)[1] for t in texts[1:]) == open("whole.csv", "rb").read()
    else:
        assert pl.concat([pl.read_parquet(f"parts/part-{i:05d}.parquet") for i in range(4)]).equals(pl.read_parquet("whole.parquet"))


def test_the_large_files_of_a_hive_directory_are_partitioned_and_written_back_in_their_folders(invoke_ok, workdir, large_files):
    leaves = ["day=1/desk=a", "day=1/desk=b", "day=2/desk=a"]
    for leaf in leaves:
        os.makedirs(f"in/{leaf}")
        shutil.copy(large_files / "medium.csv", f"in/{leaf}/data.csv")
    args = ["zscore", "in", "-c", "x,y", "-g", "desk,grp"]
    invoke_ok(*args, "-o", "split/", *SPLIT, "--summary-json", "s.json")
    assert engine()["partitions"] == 12
    invoke_ok(*args, "-o", "whole/", "--jobs", "1", "--partition-size", "1GB")
    for leaf in leaves:
        got = sorted(os.listdir(f"split/{leaf}"))
        assert len(got) == 4
        texts = [open(f"split/{leaf}/{name}", "rb").read() for name in got]
        joined = texts[0] + b"".join(text.split(b"\n", 1)[1] for text in texts[1:])
        (whole,) = os.listdir(f"whole/{leaf}")
        assert joined == open(f"whole/{leaf}/{whole}", "rb").read()


def test_saved_parameters_and_the_inverse_on_partitions_are_those_of_one_read(invoke_ok, workdir, large_files):
    source = large_files / "medium.csv"
    fit = ["zscore", source, "-c", "x,y,z", "-g", "grp", "--fit-only"]
    invoke_ok(*fit, "--save-params", "whole.json", "--jobs", "1")
    invoke_ok(*fit, "--save-params", "split.json", *SPLIT)
    assert open("split.json").read() == open("whole.json").read()
    invoke_ok("zscore", source, "--params", "split.json", "-o", "scaled.csv", *SPLIT, "--summary-json", "s.json")
    assert engine()["partitions"] == 4
    invoke_ok("zscore", source, "--params", "whole.json", "-o", "want.csv", "--jobs", "1")
    assert open("scaled.csv", "rb").read() == open("want.csv", "rb").read()
    invoke_ok("zscore", "scaled.csv", "--params", "split.json", "--inverse", "-o", "back.csv", *SPLIT)
    invoke_ok("zscore", "want.csv", "--params", "whole.json", "--inverse", "-o", "back_whole.csv", "--jobs", "1")
    assert open("back.csv", "rb").read() == open("back_whole.csv", "rb").read()
    back, original = pl.read_csv("back.csv"), pl.read_csv(source)
    np.testing.assert_allclose(back["x"].to_numpy(), original["x"].to_numpy(), rtol=1e-12, atol=1e-12)


def test_stdout_gets_the_partitions_joined_in_order(invoke_ok, workdir, large_files):
    source = large_files / "medium.csv"
    invoke_ok("minmax", source, "-c", "x", "-o", "want.csv", "--jobs", "1")
    assert invoke_ok("minmax", source, "-c", "x", *SPLIT).stdout_bytes == open("want.csv", "rb").read()


# --------------------------------------------------------------------------
# Worker processes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["zscore", "-c", "x,y,z", "-g", "grp"], ["robust", "-c", "x,y"]], ids=["zscore-g", "robust"])
def test_worker_processes_give_the_bytes_of_one_process(invoke_ok, workdir, large_files, args):
    source = large_files / "large.csv"
    invoke_ok(*args, source, "-o", "whole.csv", "--jobs", "1")
    invoke_ok(*args, source, "-o", "split.csv", "--jobs", "2", "--partition-size", "8MB", "--summary-json", "s.json")
    assert engine() == {"name": "local", "workers": 2, "partitions": 5}
    assert open("split.csv", "rb").read() == open("whole.csv", "rb").read()
    assert sorted(os.listdir(".")) == ["s.json", "split.csv", "whole.csv"]  # no scratch parts left


def test_more_jobs_than_partitions_start_one_worker_per_partition(invoke_ok, workdir, large_files):
    source = large_files / "large.csv"
    invoke_ok("zscore", source, "-c", "x", "-o", "split.csv", "--jobs", "8", "--partition-size", "16MB", "--summary-json", "s.json")
    assert engine() == {"name": "local", "workers": 3, "partitions": 3}
    invoke_ok("zscore", source, "-c", "x", "-o", "whole.csv", "--jobs", "1")
    assert open("split.csv", "rb").read() == open("whole.csv", "rb").read()


def _workers() -> list[int]:
    """This process's children that are pool workers (spawned; not multiprocessing's resource tracker)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = open(f"/proc/{name}/stat").read()
            command = open(f"/proc/{name}/cmdline", "rb").read()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(int(name))
    return found


def _kill_a_worker_once_busy(killed: list[int]) -> threading.Thread:
    def kill():
        deadline = time.monotonic() + 60
        seen: dict[int, float] = {}
        while time.monotonic() < deadline and not killed:
            for pid in _workers():
                first = seen.setdefault(pid, time.monotonic())
                if time.monotonic() - first > 1.5:  # past its imports: in a partition's work
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.01)

    thread = threading.Thread(target=kill)
    thread.start()
    return thread


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers in /proc")
def test_a_worker_killed_mid_partition_has_its_partitions_run_again(invoke_ok, workdir, large_files):
    source = large_files / "large.csv"
    args = ["zscore", source, "-c", "x,y,z", "-g", "grp", "--partition-size", "8MB"]
    invoke_ok(*args, "-o", "whole.csv", "--jobs", "1")
    killed: list[int] = []
    killer = _kill_a_worker_once_busy(killed)
    invoke_ok(*args, "-o", "split.csv", "--jobs", "2")
    killer.join()
    assert killed, "no worker lived long enough to be killed"
    assert open("split.csv", "rb").read() == open("whole.csv", "rb").read()
    assert sorted(os.listdir(".")) == ["split.csv", "whole.csv"]


def _dies_once(marker: str, value: int) -> int:
    """In a worker: its process dies the first time any task is given (``marker`` records it), then ``-value``."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return -value


def test_a_worker_that_dies_has_its_tasks_run_again_once_then_the_stage_ends_with_one_line(tmp_path, monkeypatch):
    import functools

    from softnorm_cli.engine import processes
    from softnorm_cli.errors import SoftnormError

    task = functools.partial(_dies_once, str(tmp_path / "died"))
    with processes.ProcessExecutor(2) as executor:
        assert executor.map(task, [1, 2, 3], "testing") == [-1, -2, -3]
    monkeypatch.setattr(processes, "RETRIES", 0)
    with processes.ProcessExecutor(2) as executor:
        with pytest.raises(SoftnormError) as error:
            executor.map(functools.partial(_dies_once, str(tmp_path / "died again")), [1, 2, 3], "testing")
    assert str(error.value).startswith("a worker process died while testing (")
    assert str(error.value).endswith("partitions not done, after 1 tries): killed, or out of memory? Try fewer --jobs")


# --------------------------------------------------------------------------
# Text cut inside quotes, CRLF, no final newline, blank lines, errors
# --------------------------------------------------------------------------


def awkward_text(rows: int, newline: str = "\n", final_newline: bool = True, seed: int = 0) -> str:
    """A CSV of ``rows`` rows whose notes hold quoted newlines, quotes and delimiters, with blank lines between."""
    rng = random.Random(seed)
    lines = ["id,x,note"]
    for i in range(rows):
        note = rng.choice(["plain", '"two\nlines"', '"a ""quote"", then\n\nmore"', '"x,y"', ""])
        lines.append(f"{i:06d},{rng.random():.6f},{note}")
        if rng.random() < 0.01:
            lines.append("")
    text = newline.join(line.replace("\n", newline) for line in lines)
    return text + newline if final_newline else text


@pytest.mark.parametrize(
    "newline, final", [("\n", True), ("\r\n", True), ("\n", False)], ids=["lf", "crlf", "no-final-newline"]
)
def test_awkward_text_split_inside_its_quotes_gives_the_bytes_of_one_read(invoke_ok, workdir, newline, final):
    open("in.csv", "w", newline="").write(awkward_text(3 * ALIGN_ROWS + 999, newline, final))
    for args in (["zscore", "-c", "x"], ["robust", "-c", "x"]):
        invoke_ok(*args, "in.csv", "-o", "whole.csv", "--jobs", "1")
        invoke_ok(*args, "in.csv", "-o", "split.csv", "--jobs", "2", "--partition-size", "256KB", "--summary-json", "s.json")
        assert engine()["partitions"] == 4
        assert open("split.csv", "rb").read() == open("whole.csv", "rb").read()


def test_a_malformed_row_in_the_third_partition_is_reported_at_its_file_line(invoke, workdir):
    lines = awkward_text(3 * ALIGN_ROWS, seed=1).split("\n")
    # A record of one line, past row 2 x ALIGN_ROWS + 500: the partitions start at rows ALIGN_ROWS and 2 x ALIGN_ROWS.
    at = next(
        i for i, line in enumerate(lines) if line[:6].isdigit() and int(line[:6]) >= 2 * ALIGN_ROWS + 500 and line.count('"') == 0
    )
    lines[at] += ",extra"  # four fields where the header has three
    open("in.csv", "w").write("\n".join(lines))
    whole = invoke("zscore", "in.csv", "-c", "x", "-o", "whole.csv", "--jobs", "1")
    expect_error(whole, f"in.csv, line {at + 1}: 4 fields, expected 3")
    split = invoke("zscore", "in.csv", "-c", "x", "-o", "split.csv", "--jobs", "2", "--partition-size", "256KB")
    expect_error(split, f"in.csv, line {at + 1}: 4 fields, expected 3")
    assert sorted(os.listdir(".")) == ["in.csv"]


def test_a_bad_value_in_a_partition_names_its_row_in_the_file(invoke, workdir):
    frame = parts_table(rows=3 * ALIGN_ROWS, seed=2).with_columns(pl.col("x").cast(pl.String))
    frame = frame.with_columns(pl.when(pl.int_range(frame.height) == 2 * ALIGN_ROWS + 7).then(pl.lit("oops")).otherwise(pl.col("x")).alias("x"))
    frame.write_csv("in.csv")
    for jobs in (["--jobs", "1"], SPLIT):
        expect_error(invoke("zscore", "in.csv", "-c", "x", "-o", "out.csv", *jobs), f"column 'x', row {2 * ALIGN_ROWS + 8}: 'oops' is not a number")


def test_a_compressed_file_is_one_partition_and_the_summary_says_why(invoke_ok, workdir, large_files):
    import gzip

    with open(large_files / "medium.csv", "rb") as f, gzip.open("in.csv.gz", "wb", compresslevel=1) as out:
        shutil.copyfileobj(f, out)
    invoke_ok("zscore", "in.csv.gz", "-c", "x", "-o", "-", "--partition-size", "1MB", "--jobs", "2", "--summary-json", "s.json")
    info = engine()
    assert info["partitions"] == 1
    assert info["read whole"] == "in.csv.gz is read whole (compressed: it cannot be read from the middle)"


def test_a_directory_of_large_files_is_partitioned_file_by_file(invoke_ok, workdir, large_files):
    os.mkdir("in")
    for name in ("a", "b"):
        shutil.copy(large_files / "medium.csv", f"in/{name}.csv")
    invoke_ok("zscore", "in", "-c", "x,y", "-g", "grp", "-o", "split.csv", *SPLIT, "--summary-json", "s.json")
    assert engine()["partitions"] == 8
    invoke_ok("zscore", "in", "-c", "x,y", "-g", "grp", "-o", "whole.csv", "--jobs", "1", "--partition-size", "1GB")
    assert open("split.csv", "rb").read() == open("whole.csv", "rb").read()


# --------------------------------------------------------------------------
# The cuts, against a plain reading of the quotes
# --------------------------------------------------------------------------


def records_of(data: bytes) -> list[tuple[int, bool]]:
    """Where each record of a CSV text ends (the byte after its newline) and whether it is blank, read byte by byte."""
    found, inside, start = [], False, 0
    for i, byte in enumerate(data):
        if byte == ord('"'):
            inside = not inside
        elif byte == ord("\n") and not inside:
            found.append((i + 1, data[start:i].rstrip(b"\r") == b""))
            start = i + 1
    return found


@pytest.mark.parametrize("seed", range(6))
def test_cuts_fall_after_whole_records_at_multiples_of_the_aligned_rows(tmp_path, seed):
    rng = random.Random(seed)
    newline = rng.choice(["\n", "\r\n"])
    data = awkward_text(rng.randrange(200, 600), newline, final_newline=rng.random() < 0.5, seed=seed).encode()
    path = tmp_path / "in.csv"
    path.write_bytes(data)
    bounds = sorted({0, len(data), *(rng.randrange(len(data)) for _ in range(rng.randrange(1, 12)))})
    align = rng.choice([1, 3, 16])
    scans = [scan(str(path), a, b, keep=10_000) for a, b in zip(bounds[:-1], bounds[1:])]
    found = cuts(scans, align, header=True, first_line=1)

    ends = records_of(data)
    rows_before, lines_before, expected = {}, {}, []
    rows = -1  # the header is no row
    for end, blank in ends:
        rows += not blank
        rows_before[end] = rows
        lines_before[end] = data[:end].count(b"\n") + 1
    last_row = 0
    for a, b in zip(bounds[1:-1], bounds[2:]):  # in each range after the first: its first aligned record end, if any
        at = [e for e, _ in ends if a <= e - 1 < b and e < len(data) and rows_before[e] % align == 0 and rows_before[e] > last_row]
        if at:
            expected.append(at[0])
            last_row = rows_before[at[0]]
    assert [c.byte for c in found] == expected
    for cut in found:
        assert cut.row == rows_before[cut.byte] and cut.row % align == 0
        assert cut.line == lines_before[cut.byte]


def test_partitions_start_on_whole_chunks_of_the_reduction():
    assert ALIGN_ROWS % reduce.CHUNK_ROWS == 0


@pytest.mark.parametrize("seed", range(5))
def test_reductions_joined_at_any_chunk_are_one_reduction_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    # Column-major, as the engine's blocks are: a chunk's sum is then the same whether the chunk was sliced from one batch or stacked from several.
    values = np.asfortranarray(rng.normal(size=(rng.integers(1, 40) * 64 + rng.integers(0, 64), 2)) * 1e6 + 1e9)
    chunk = 64

    def nodes_of(rows: np.ndarray, first_row: int) -> list:
        reduction = reduce.Reduction(lambda block: (block.sum(axis=0),), lambda a, b: (a[0] + b[0],), rows=chunk, first_row=first_row)
        for piece in np.array_split(rows, rng.integers(1, 5)):  # batches of any size
            reduction.add(piece)
        return reduction.nodes()

    whole = reduce.folded(nodes_of(values, 0), lambda a, b: (a[0] + b[0],))
    chunks = -(-len(values) // chunk)
    cuts_at = sorted(set(rng.integers(1, max(chunks, 2), size=rng.integers(1, 6)).tolist()) - {0})
    bounds = [0, *[c * chunk for c in cuts_at if c * chunk < len(values)], len(values)]
    nodes: list = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        nodes = reduce.joined(nodes, nodes_of(values[a:b], a), lambda x, y: (x[0] + y[0],))
    assert reduce.folded(nodes, lambda a, b: (a[0] + b[0],))[0].tobytes() == whole[0].tobytes()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers in /proc")
def test_ctrl_c_stops_the_workers_with_one_line_and_leaves_nothing(tmp_path, large_files):
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "softnorm_cli", "zscore", str(large_files / "large.csv"), "-c", "x,y,z", "-g", "grp",
         "-o", "out.csv", "--jobs", "2", "--partition-size", "8MB"],
        cwd=tmp_path, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while not children and time.monotonic() < deadline and proc.poll() is None:
            children = _children(proc.pid)
            time.sleep(0.01)
        assert children, "no worker process started"
        time.sleep(1.0)  # into the partitions' work
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 130
        assert proc.stderr.read() == b"softnorm: stopped by SIGINT\n"
    finally:
        if proc.poll() is None:
            proc.kill()
    time.sleep(0.5)
    assert not [pid for pid in children if os.path.exists(f"/proc/{pid}") and "Z" not in _state(pid)]
    assert os.listdir(tmp_path) == []


def _children(parent: int) -> list[int]:
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(open(f"/proc/{name}/stat").read().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(name))
        except OSError:
            continue
    return found


def _state(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


@pytest.mark.parametrize("cores, given, splits", [(2, False, False), (3, False, False), (4, False, True), (2, True, True)])
def test_one_file_to_one_file_is_split_without_jobs_from_four_cores_on(monkeypatch, cores, given, splits):
    from softnorm_cli.engine import processes

    monkeypatch.setattr(processes, "available_cores", lambda: cores)
    assert processes.splits_one_file(given) is splits


def test_without_jobs_on_two_cores_one_file_streams_here_but_a_directory_out_is_split(invoke_ok, workdir, large_files, monkeypatch):
    from softnorm_cli.engine import processes

    monkeypatch.setattr(processes, "available_cores", lambda: 2)
    source = large_files / "medium.csv"
    invoke_ok("zscore", source, "-c", "x", "-o", "one.csv", "--partition-size", "1MB", "--summary-json", "s.json")
    assert engine() is None
    invoke_ok("zscore", source, "-c", "x", "-o", "parts/", "--partition-size", "1MB", "--summary-json", "s.json")
    assert engine()["partitions"] == 4


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the workers in /proc")
def test_a_worker_that_died_between_stages_has_the_next_stage_run_in_a_new_pool(tmp_path):
    from softnorm_cli.engine.processes import ProcessExecutor

    with ProcessExecutor(2) as executor:
        assert executor.map(abs, [-1, -2, -3], "first") == [1, 2, 3]
        os.kill(_workers()[0], signal.SIGKILL)  # while the pool waits for the next stage
        time.sleep(0.5)
        assert executor.map(abs, [-4, -5], "second") == [4, 5]

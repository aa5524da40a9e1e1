"""The Dask engine against a real distributed.LocalCluster (two worker processes on 127.0.0.1):
every command, axis, NaN policy, groups and saved parameters give the local engine's numbers;
a worker killed in the middle of a job still leaves complete, correct output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import polars as pl
import pytest

from helpers import PART_ARGS, assert_same_table, expect_error, parts_table, read_parts, write_parts

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="session")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50
    ) as local, distributed.Client(local) as client:
        yield local, client


@pytest.fixture
def scheduler(cluster) -> str:
    return cluster[0].scheduler_address


MORE_ARGS = [
    ["zscore", "-c", "x,y,z", "--nan", "omit"],
    ["minmax", "-c", "x,y,z", "--nan", "propagate", "-g", "grp"],
    ["softmax", "-c", "x,z", "--axis", "all", "--log", "--temperature", "2"],
    ["zscore", "-c", "x,y,z", "--axis", "all"],
]


@pytest.mark.parametrize("args", PART_ARGS + MORE_ARGS, ids=lambda a: "-".join(a[:1] + a[3:]))
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_dask_gives_the_local_engines_numbers(invoke_ok, workdir, scheduler, args, fmt):
    write_parts("in", parts_table(), fmt)
    invoke_ok(*args, "in", "-o", "local/")
    result = invoke_ok(*args, "in", "-o", "dask/", "--engine", "dask", "--scheduler", scheduler, "--summary-json", "s.json")
    assert result.stdout == ""
    assert_same_table(read_parts("dask", fmt), read_parts("local", fmt))
    if fmt == "csv":  # the same merge tree on both engines: the same bytes
        assert [open(f"dask/{n}").read() for n in sorted(os.listdir("dask"))] == [
            open(f"local/{n}").read() for n in sorted(os.listdir("local"))
        ]
    engine = json.loads(open("s.json").read())["engine"]
    assert engine == {"name": "dask", "workers": 2, "partitions": 4, "scheduler": scheduler}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_one_file_from_dask_is_the_local_engines_bytes(invoke_ok, workdir, scheduler, fmt):
    write_parts("in", parts_table(), fmt)
    args = ["zscore", "-c", "x,y,z", "-g", "grp", "in"]
    invoke_ok(*args, "-o", f"local.{fmt}")
    invoke_ok(*args, "-o", f"dask.{fmt}", "--engine", "dask", "--scheduler", scheduler)
    assert open(f"dask.{fmt}", "rb").read() == open(f"local.{fmt}", "rb").read()
    assert sorted(os.listdir(".")) == ["dask." + fmt, "in", "local." + fmt]


def test_one_file_in_on_dask_is_one_file_out_and_stdout_works(invoke_ok, workdir, scheduler):
    parts_table().write_csv("one.csv")
    invoke_ok("zscore", "one.csv", "-c", "x", "-o", "local.csv")
    env = {"SOFTNORM_ENGINE": "dask", "SOFTNORM_SCHEDULER": scheduler}
    invoke_ok("zscore", "one.csv", "-c", "x", "-o", "one_dask.csv", env=env)
    assert os.path.isfile("one_dask.csv") and open("one_dask.csv").read() == open("local.csv").read()
    assert invoke_ok("zscore", "one.csv", "-c", "x", env=env).stdout == open("local.csv").read()
    assert not [n for n in os.listdir(".") if n.startswith(".")]  # the remote cluster's scratch parts are gone


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_one_large_file_is_a_task_per_partition_with_the_bytes_of_one_read(invoke_ok, workdir, scheduler, large_files, fmt):
    # The 40 MB CSV in 8 MB ranges; the Parquet file of 20 row groups grouped to 1 MB decoded.
    source, size, partitions = (large_files / "large.csv", "8MB", 5) if fmt == "csv" else (large_files / "medium.parquet", "1MB", 4)
    dask = ["--engine", "dask", "--scheduler", scheduler, "--partition-size", size, "--summary-json", "s.json"]
    for args in (["zscore", "-c", "x,y,z", "-g", "grp"], ["robust", "-c", "x,y"]):
        invoke_ok(*args, source, "-o", f"whole.{fmt}", "--jobs", "1")
        invoke_ok(*args, source, "-o", f"dask.{fmt}", *dask)
        assert json.loads(open("s.json").read())["engine"] == {"name": "dask", "workers": 2, "partitions": partitions, "scheduler": scheduler}
        if fmt == "csv":
            assert open("dask.csv", "rb").read() == open("whole.csv", "rb").read()
        else:
            assert pl.read_parquet("dask.parquet").equals(pl.read_parquet("whole.parquet"))


def test_saved_parameters_and_inverse_on_dask(invoke_ok, workdir, scheduler):
    write_parts("train", parts_table(seed=4), "parquet")
    write_parts("test", parts_table(seed=5), "parquet", parts=3)
    dask = ["--engine", "dask", "--scheduler", scheduler]
    invoke_ok("minmax", "train", "-c", "x,y", "-g", "grp", "--save-params", "local.json", "--fit-only")
    invoke_ok("minmax", "train", "-c", "x,y", "-g", "grp", "--save-params", "dask.json", "--fit-only", *dask)
    local, remote = (json.loads(open(p).read()) for p in ("local.json", "dask.json"))
    assert remote["groups"] == local["groups"]  # min and max merge exactly
    invoke_ok("minmax", "test", "--params", "dask.json", "--clip", "-o", "scaled/", *dask)
    invoke_ok("minmax", "test", "--params", "local.json", "--clip", "-o", "scaled_local/")
    assert_same_table(read_parts("scaled", "parquet"), read_parts("scaled_local", "parquet"))
    invoke_ok("zscore", "train", "-c", "x,y", "--save-params", "z.json", "--fit-only", *dask)
    invoke_ok("zscore", "test", "--params", "z.json", "-o", "z/", *dask)
    invoke_ok("zscore", "z", "--params", "z.json", "--inverse", "-o", "back/", *dask)
    original = pl.concat([pl.read_parquet(f"test/chunk{i:02d}.parquet") for i in range(3)])
    assert_same_table(read_parts("back", "parquet"), original)


def test_engine_and_scheduler_from_the_environment(invoke_ok, workdir, scheduler):
    write_parts("in", parts_table(), "csv")
    env = {"SOFTNORM_ENGINE": "dask", "SOFTNORM_SCHEDULER": scheduler}
    invoke_ok("zscore", "in", "-c", "x", "-o", "out/", "--summary-json", "s.json", env=env)
    assert json.loads(open("s.json").read())["engine"]["name"] == "dask"


def test_a_pipe_streams_locally_when_the_engine_comes_from_the_environment(invoke_ok, workdir, scheduler):
    env = {"SOFTNORM_ENGINE": "dask", "SOFTNORM_SCHEDULER": scheduler}
    assert invoke_ok("minmax", "-c", "x", input="x\n1\n3\n", env=env).stdout == "x\n0.0\n1.0\n"


def test_an_error_in_a_part_comes_back_as_one_line(invoke, workdir, scheduler):
    write_parts("in", parts_table(), "csv")
    open("in/chunk03.csv", "a").write("999999,a,oops,1,2\n")
    result = invoke("zscore", "in", "-c", "x", "-o", "out/", "--engine", "dask", "--scheduler", scheduler)
    expect_error(result, "in/chunk03.csv: column 'x', row 501: 'oops' is not a number")
    assert sorted(os.listdir(".")) == ["in"]


def test_an_unseen_group_on_a_worker_names_its_row(invoke, invoke_ok, workdir, scheduler):
    write_parts("train", pl.DataFrame({"g": ["a", "b"], "x": [1.0, 2.0]}), "csv", parts=1)
    write_parts("test", pl.DataFrame({"g": ["a", "c"], "x": [1.0, 2.0]}), "csv", parts=1)
    invoke_ok("zscore", "train", "-c", "x", "-g", "g", "--save-params", "p.json", "--fit-only")
    result = invoke("zscore", "test", "--params", "p.json", "-o", "out/", "--engine", "dask", "--scheduler", scheduler)
    expect_error(result, "test/chunk00.csv: row 2: group g='c' is not in the parameters (use --unseen nan to write missing values for new groups)")


def test_a_worker_killed_mid_job_still_gives_complete_correct_output(invoke_ok, workdir, cluster):
    local, client = cluster
    frame = parts_table(rows=400_000, seed=8)
    write_parts("in", frame, "csv", parts=16)
    invoke_ok("zscore", "in", "-c", "x,y,z", "-g", "grp", "-o", "want/")
    killed = []

    def kill_a_busy_worker():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [address for address, tasks in client.processing().items() if tasks]
            if busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker; the scheduler retries its tasks
                killed.append(pid)
            time.sleep(0.005)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    invoke_ok("zscore", "in", "-c", "x,y,z", "-g", "grp", "-o", "got/", "--engine", "dask", "--scheduler", local.scheduler_address)
    killer.join()
    assert killed, "no worker was busy to kill"
    got = read_parts("got")
    assert got.height == frame.height
    assert_same_table(got, read_parts("want"))
    client.wait_for_workers(2, timeout=60)


def test_without_dask_the_engine_says_how_to_install_it_for_this_install(invoke, workdir, monkeypatch):
    import sys
    from importlib import metadata

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    checkout = type("Checkout", (), {"read_text": lambda self, name: '{"url": "file:///src/softnorm", "dir_info": {"editable": true}}'})
    monkeypatch.setattr(metadata, "distribution", lambda name: checkout())
    write_parts("in", parts_table(), "csv")
    result = invoke("zscore", "in", "-c", "x", "-o", "out/", "--engine", "dask")
    expect_error(result, "--engine dask needs Dask: pip install -e '/src/softnorm[dask]'")


def test_progress_is_dasks_own_on_stderr(scheduler, capfd):
    from softnorm_cli.engine.dask import DaskExecutor

    with DaskExecutor(scheduler, progress=True) as executor:
        handles = executor.map(abs, [-1, -2, -3], "statistics")
        assert executor.gather(handles, "statistics") == [1, 2, 3]
    out, err = capfd.readouterr()
    assert out == ""
    assert err.startswith("statistics:\n") and "100% Completed" in err


def test_an_unreachable_scheduler_is_one_line(invoke, workdir, monkeypatch):
    from softnorm_cli.engine import dask as dask_engine

    monkeypatch.setattr(dask_engine, "CONNECT_TIMEOUT", 1)
    write_parts("in", parts_table(), "csv")
    result = invoke("zscore", "in", "-c", "x", "-o", "out/", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("softnorm: error: cannot reach the Dask scheduler tcp://127.0.0.1:1: ")
    assert result.stderr.count("\n") == 1
    assert sorted(os.listdir(".")) == ["in"]


def _bins(summary: dict) -> dict:
    return {
        "columns": {name: column["bins"] for name, column in summary["columns"].items()},
        "row_max": summary["row_max_bins"],
        "group_sizes": (summary["groups"] or {}).get("size_bins"),
    }


@pytest.mark.parametrize("args", PART_ARGS, ids=lambda a: "-".join(a[:1] + a[3:]))
def test_dask_counts_the_local_engines_bins(invoke_ok, workdir, scheduler, args):
    write_parts("in", parts_table(), "csv")
    invoke_ok(*args, "in", "-o", "local/", "--summary-json", "local.json")
    invoke_ok(*args, "in", "-o", "dask/", "--engine", "dask", "--scheduler", scheduler, "--summary-json", "dask.json")
    local, dask = (_bins(json.loads(open(f"{name}.json").read())) for name in ("local", "dask"))
    assert dask == local
    assert any(stage["counts"] for column in local["columns"].values() for stage in column.values())


# softnorm on Dask as a real process: a closed pipe, Ctrl-C, the temporary directory.

SOFTNORM = [sys.executable, "-m", "softnorm_cli"]


def _env(tmp: str, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOFTNORM_", "DASK_"))}
    return {**env, "TMPDIR": tmp, **more}


def test_dask_to_a_pipe_read_in_part_ends_quietly(tmp_path, scheduler):
    parts_table(rows=20_000).write_csv(tmp_path / "data.csv")
    env = _env(str(tmp_path), SOFTNORM_ENGINE="dask", SOFTNORM_SCHEDULER=scheduler)
    proc = subprocess.Popen(
        [*SOFTNORM, "zscore", "data.csv", "-c", "x"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    head = [proc.stdout.readline() for _ in range(3)]  # `| head -3`
    proc.stdout.close()
    stderr = proc.communicate(timeout=120)[1]
    assert (proc.returncode, stderr) == (0, b"")
    assert head[0] == b"id,grp,x,y,z\n" and head[1].startswith(b"000000,")
    assert sorted(os.listdir(tmp_path)) == ["data.csv"]


def test_ctrl_c_on_a_local_cluster_is_one_line_and_leaves_no_scratch(tmp_path):
    import numpy as np
    from dask.system import CPU_COUNT

    rng = np.random.default_rng(1)
    pl.DataFrame({"x": rng.normal(size=1_500_000), "y": rng.normal(size=1_500_000)}).write_csv(tmp_path / "big.csv")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    # Its own session, as a shell's job: Ctrl-C is SIGINT to the whole group, the cluster's processes too.
    proc = subprocess.Popen(
        [*SOFTNORM, "zscore", "big.csv", "-c", "x,y", "-o", "out.csv", "--engine", "dask"],
        cwd=tmp_path, env=_env(str(tmp)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(list(tmp.glob("**/dask-scratch-space/worker-*"))) < CPU_COUNT and proc.poll() is None:
        assert time.monotonic() < deadline, "the cluster did not start"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    stderr = proc.communicate(timeout=120)[1].decode()
    assert (proc.returncode, stderr) == (130, "softnorm: stopped by SIGINT\n")
    assert os.listdir(tmp) == []
    assert sorted(os.listdir(tmp_path)) == ["big.csv", "tmp"]


def test_a_local_cluster_leaves_nothing_in_the_temporary_directory(tmp_path):
    parts_table(rows=100).write_csv(tmp_path / "one.csv")
    (tmp_path / "tmp").mkdir()
    proc = subprocess.run(
        [*SOFTNORM, "minmax", "one.csv", "-c", "x", "-o", "out.csv", "--engine", "dask"],
        cwd=tmp_path, env=_env(str(tmp_path / "tmp")), capture_output=True, timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert pl.read_csv(tmp_path / "out.csv")["x"].min() == 0.0
    assert os.listdir(tmp_path / "tmp") == []

"""Stopping cleanly: signals, closed pipes told apart from text about them, and checks
that fail before the work instead of after it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import expect_error, parts_table, write_parts

SOFTNORM = [sys.executable, "-m", "softnorm_cli"]


def _wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_removes_temporary_output_and_spool(tmp_path, signum):
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    env = {**os.environ, "TMPDIR": str(spool_dir)}
    proc = subprocess.Popen(
        [*SOFTNORM, "zscore", "-c", "a", "-o", "out.csv"],
        cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )
    try:
        proc.stdin.write(b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(20000)))
        proc.stdin.flush()
        # Pass 1 is copying stdin aside and the output is open, and stdin stays open.
        assert _wait_for(lambda: any(spool_dir.iterdir()) and any(tmp_path.glob(".out.csv.*")))
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum
    assert err.decode() == f"softnorm: stopped by {signal.Signals(signum).name}\n"
    assert list(spool_dir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]


def test_text_about_broken_pipes_is_an_error_like_any_other(invoke, write_file):
    write_file("b.csv", "a,b\n1,broken pipe\n2,3\n")
    expect_error(invoke("minmax", "b.csv", "-c", "b"), "column 'b', row 1: 'broken pipe' is not a number")
    result = invoke("minmax", "b.csv", "-c", "Broken Pipe")
    assert result.exit_code == 1
    assert result.stderr.startswith("softnorm: error: column 'Broken Pipe' not found")


def test_closed_stdout_ends_quietly(tmp_path):
    (tmp_path / "big.csv").write_text("a,b\n" + "".join(f"{i},{i % 7}\n" for i in range(300000)))
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {' '.join(SOFTNORM)} minmax big.csv | head -1"],
        cwd=tmp_path, capture_output=True, timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout == b"a,b\n" and proc.stderr == b""


# --------------------------------------------------------------------------
# Fail before working
# --------------------------------------------------------------------------


def test_summary_json_to_a_missing_directory_fails_before_writing(invoke, write_file, workdir):
    write_file("t.csv", "a\n1\n2\n")
    expect_error(invoke("minmax", "t.csv", "-o", "out.csv", "--summary-json", "nowhere/s.json"), "nowhere/s.json: no such directory")
    assert not (workdir / "out.csv").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_summary_json_to_an_unwritable_file_fails_before_writing(invoke, write_file, workdir):
    write_file("t.csv", "a\n1\n2\n")
    locked = write_file("s.json", "{}")
    locked.chmod(0o444)
    expect_error(invoke("minmax", "t.csv", "-o", "out.csv", "--summary-json", "s.json"), "s.json: permission denied")
    assert not (workdir / "out.csv").exists()


def test_summary_json_to_stdout(invoke_ok, invoke, write_file, workdir):
    write_file("t.csv", "a\n1\n2\n")
    result = invoke_ok("minmax", "t.csv", "-o", "out.csv", "--summary-json", "-")
    assert json.loads(result.stdout)["rows"] == 2
    assert (workdir / "out.csv").read_text() == "a\n0.0\n1.0\n"
    assert not (workdir / "-").exists()
    result = invoke("minmax", "t.csv", "--summary-json", "-")
    assert result.exit_code == 2
    assert "--summary-json - needs the data to go elsewhere: use -o FILE" in result.stderr


def test_output_errors_name_the_users_path(invoke, write_file, workdir):
    write_file("t.csv", "a\n1\n2\n")
    expect_error(invoke("minmax", "t.csv", "-o", "nowhere/out.csv"), "nowhere/out.csv: no such file or directory")


def test_summary_json_is_written_whole(invoke_ok, write_file, workdir):
    write_file("t.csv", "a\n1\n2\n")
    invoke_ok("minmax", "t.csv", "-o", "out.csv", "--summary-json", "s.json")
    assert json.loads((workdir / "s.json").read_text())["output"] == "out.csv"
    assert sorted(p.name for p in Path(workdir).iterdir()) == ["out.csv", "s.json", "t.csv"]


# --------------------------------------------------------------------------
# Special files as output: written as they are, never renamed over
# --------------------------------------------------------------------------


def test_dev_null_is_an_output(invoke, write_file, workdir):
    import stat

    write_file("t.csv", "a\n1\n2\n")
    write_parts("in", parts_table(rows=300), "csv")
    for args in (["t.csv", "-c", "a"], ["in", "-c", "x"], ["t.csv", "-c", "a", "--to", "parquet"]):
        result = invoke("zscore", *args, "-o", os.devnull, "--save-params", os.devnull, "--summary-json", os.devnull)
        assert (result.exit_code, result.stderr) == (0, ""), args
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert sorted(os.listdir(workdir)) == ["in", "t.csv"]


def test_a_named_pipe_is_written_as_csv(invoke, write_file, workdir):
    import threading

    write_file("t.csv", "a,b\n1,x\n3,y\n")
    os.mkfifo("out")
    received = []
    reader = threading.Thread(target=lambda: received.append(open("out", "rb").read()), daemon=True)
    reader.start()
    result = invoke("minmax", "t.csv", "-c", "a", "-o", "out")
    reader.join(20)
    assert (result.exit_code, result.stderr) == (0, "")
    assert received == [b"a,b\n0.0,x\n1.0,y\n"]

"""Ctrl-C at random moments of writing ends every run within seconds, with one line and nothing left behind;
an error is never taken for a closed pipe unless the pipe is what failed."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

SOFTNORM = [sys.executable, "-m", "softnorm_cli"]
#: A run interrupted while writing must be gone within this (it takes well under one).
ENDS_WITHIN = 10.0
ROWS = 400_000  # about 30 MB of CSV: writing it takes longer than the widest delay below
TRIES = 5  # runs interrupted per kind of output
SMALL_BATCHES = ["--batch-rows", "5000"]  # many hand-overs to the writer thread, and a slower write


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(7)
    parts = folder / "parts"
    parts.mkdir()
    for index in range(3):
        table = pl.DataFrame({f"x{i}": rng.normal(size=ROWS) for i in range(4)})
        table.write_csv(parts / f"part{index}.csv")
    (folder / "one.csv").write_bytes((parts / "part0.csv").read_bytes())
    return folder


def _interrupt(proc: subprocess.Popen, started, delay: float = 0.0) -> tuple[int, bytes]:
    """SIGINT ``proc`` ``delay`` seconds after ``started()`` says its writing has begun."""
    try:
        deadline = time.monotonic() + 60
        while not started():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the run never started writing"
            time.sleep(0.002)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=ENDS_WITHIN)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {ENDS_WITHIN} s after Ctrl-C: the run hangs")
        return proc.returncode, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _expect_stopped(code: int, err: bytes) -> None:
    assert (code, err.decode()) == (130, "softnorm: stopped by SIGINT\n")


def _interrupted_at_random(start, finished_whole, seed: int) -> None:
    """Start runs and interrupt each at a random moment of its writing; each must end at once,
    stopped with one line, or (when the signal came after the last write) complete."""
    rng = random.Random(seed)
    stopped = 0
    for _ in range(TRIES):
        proc, started = start()
        code, err = _interrupt(proc, started, rng.uniform(0.0, 0.1))
        if code == 0:
            assert err == b"" and finished_whole()
        else:
            _expect_stopped(code, err)
            stopped += 1
    assert stopped >= TRIES // 2, "most signals came after the run had ended: the test tests nothing"


def _drained(stream) -> list[int]:
    """Read ``stream`` to its end in the background; the list grows with what arrives."""
    received: list[int] = []

    def drain():
        while chunk := stream.read1(1 << 16):
            received.append(len(chunk))

    threading.Thread(target=drain, daemon=True).start()
    return received


def test_ctrl_c_while_writing_a_file(big, tmp_path):
    out = tmp_path / "out.csv"

    def start():
        out.unlink(missing_ok=True)
        proc = subprocess.Popen([*SOFTNORM, "zscore", str(big / "one.csv"), "-c", "x0", "-o", str(out), *SMALL_BATCHES],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return proc, lambda: any(p.stat().st_size > 0 for p in tmp_path.glob(".out.csv.*"))

    def finished_whole():
        return pl.read_csv(out).height == ROWS and [p.name for p in tmp_path.iterdir()] == ["out.csv"]

    _interrupted_at_random(start, finished_whole, seed=1)
    assert [p.name for p in tmp_path.iterdir()] in ([], ["out.csv"])


def test_ctrl_c_while_writing_a_dataset(big, tmp_path):
    out = tmp_path / "out"

    def start():
        shutil.rmtree(out, ignore_errors=True)
        proc = subprocess.Popen([*SOFTNORM, "zscore", str(big / "parts"), "-c", "x0", "-o", f"{out}/", *SMALL_BATCHES],
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return proc, lambda: any(tmp_path.glob(".out.*/*"))

    def finished_whole():
        return len(list(out.iterdir())) == 3

    _interrupted_at_random(start, finished_whole, seed=2)
    assert [p.name for p in tmp_path.iterdir()] in ([], ["out"])
    assert sorted(p.name for p in big.rglob(".*")) == []


def test_ctrl_c_while_writing_to_stdout(big, tmp_path):
    def start():
        proc = subprocess.Popen([*SOFTNORM, "softmax", str(big / "one.csv"), "-c", "x0,x1,x2,x3"],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        start.received = _drained(proc.stdout)
        return proc, lambda: bool(start.received)

    _interrupted_at_random(start, lambda: sum(start.received) > ROWS * 4 * 10, seed=3)


def test_ctrl_c_while_stdin_is_read_and_stdout_written(big, tmp_path):
    """One pass over a pipe that is still being fed: the signal never comes after the end."""

    def start():
        proc = subprocess.Popen([*SOFTNORM, "softmax", "-", "-c", "x0,x1"], cwd=tmp_path,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def feed():
            try:
                with open(big / "one.csv", "rb") as f:
                    while chunk := f.read(1 << 15):
                        proc.stdin.write(chunk)
                        time.sleep(0.001)
            except (BrokenPipeError, ValueError):
                pass

        threading.Thread(target=feed, daemon=True).start()
        received = _drained(proc.stdout)
        return proc, lambda: bool(received)

    _interrupted_at_random(start, lambda: pytest.fail("the run ended before its input"), seed=4)


def test_ctrl_c_while_waiting_for_a_quiet_pipe(tmp_path):
    """The reader thread is blocked reading stdin, which sends nothing, when the signal comes."""
    proc = subprocess.Popen([*SOFTNORM, "softmax", "-", "-c", "a,b"], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(b"id,a,b\n1,1,2\n2,1,2\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == b"id,a,b\n"
    assert proc.stdout.readline().startswith(b"1,0.26894142")  # the rows so far are through
    try:
        _expect_stopped(*_interrupt(proc, lambda: True))
    finally:
        proc.stdin.close()


def test_ctrl_c_with_a_reader_that_stopped_reading(big, tmp_path):
    """The writer is blocked on a full pipe nobody reads: the run still ends."""
    proc = subprocess.Popen([*SOFTNORM, "zscore", str(big / "one.csv"), "-c", "x0"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(1)  # then nothing more is read
    time.sleep(0.5)  # the pipe fills, and the writer waits on it
    _expect_stopped(*_interrupt(proc, lambda: True))


def test_an_error_raised_inside_a_library_after_a_signal_is_the_signal():
    """polars may turn the exception a signal handler raised into an error of its own."""
    from softnorm_cli.cli import exits, signals

    signals._received = signal.SIGINT
    try:
        with pytest.raises(signals.Stopped) as stopped, exits.user_errors():
            raise RuntimeError("PanicException: Failed to access NumPy array API capsule")
        assert stopped.value.signum == signal.SIGINT
    finally:
        signals._received = None


def test_a_signal_lost_in_a_library_callback_is_sent_again(monkeypatch):
    """Python prints and drops an exception raised where it cannot be passed on ("Exception ignored in")."""
    import types

    from softnorm_cli.cli import signals

    sent = []
    monkeypatch.setattr(signals.signal, "raise_signal", sent.append)
    lost = types.SimpleNamespace(exc_type=signals.Stopped, exc_value=signals.Stopped(signal.SIGINT),
                                 exc_traceback=None, err_msg=None, object=None)
    signals._unraisable(lost)
    assert sent == [signal.SIGINT]


# --------------------------------------------------------------------------
# Closed pipes are told by their error number, never by the state of stdout
# --------------------------------------------------------------------------

# The real command, with a bug planted in the z-score's transform: it waits
# until stdout's reader has gone, then fails as a bug would.
_BUG_AFTER_READER_LEFT = textwrap.dedent("""
    import select, sys, time
    from softnorm_cli.numeric import methods

    def reader_gone():
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))

    def planted(self, *args, **kwargs):
        deadline = time.monotonic() + 10
        while not reader_gone() and time.monotonic() < deadline:
            time.sleep(0.01)
        raise KeyError("planted bug")

    methods.ZScore.transform = planted
    from softnorm_cli.cli import main
    sys.argv = ["softnorm", *sys.argv[1:]]
    main()
""")


def test_a_bug_after_stdout_closed_keeps_its_message_and_status(tmp_path):
    (tmp_path / "t.csv").write_text("a\n" + "".join(f"{i % 97}\n" for i in range(1000)))
    proc = subprocess.Popen([sys.executable, "-c", _BUG_AFTER_READER_LEFT, "zscore", "t.csv"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes before anything is written
    try:
        err = proc.communicate(timeout=30)[1].decode()
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert "KeyError: 'planted bug'" in err


@pytest.mark.parametrize("to", ["csv", "parquet"])
def test_closed_stdout_ends_quietly_for_every_format(big, tmp_path, to):
    proc = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {' '.join(SOFTNORM)} softmax {big / 'one.csv'} -c x0,x1 --to {to} | head -c 10"],
        cwd=tmp_path, capture_output=True, timeout=60, env={**os.environ, "SOFTNORM_DEBUG": "1"},
    )
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert len(proc.stdout) == 10

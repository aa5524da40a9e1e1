"""The progress bar: up a second into the run even while a slow pipe fills its first batch,
and its counter in the unit the source counts."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time

import pytest
from rich.console import Console

from helpers import reading_terminal
from softnorm_cli.cli.progress import BatchProgress

TIMEOUT = 60


class _Source:
    def __init__(self, position):
        self.position = position


def _console() -> tuple[io.StringIO, Console]:
    out = io.StringIO()
    return out, Console(file=out, force_terminal=True, width=100)


def test_the_bar_appears_before_the_first_batch():
    out, console = _console()
    with BatchProgress(_Source((0, None, "rows")), console, delay=0.2):
        time.sleep(1.0)  # no batch comes
        shown = out.getvalue()
    assert "reading" in shown and "0 rows" in shown


def test_the_first_batch_names_the_stage_shown_so_far():
    out, console = _console()
    source = _Source((0, None, "rows"))
    with BatchProgress(source, console, delay=0.1) as progress:
        time.sleep(0.5)
        source.position = (5_000, None, "rows")
        progress("writing")
        time.sleep(0.3)
    shown = out.getvalue()
    assert "writing" in shown and "5,000 rows" in shown


def test_a_second_pass_over_spooled_input_counts_bytes_as_bytes():
    # Standard input is counted in rows while it streams, and in bytes when read again from its copy.
    out, console = _console()
    source = _Source((300_000, None, "rows"))
    with BatchProgress(source, console, delay=0) as progress:
        progress("pass 1/2: statistics")
        source.position = (10_538_857, 10_538_857, "bytes")
        progress("pass 2/2: writing")
    shown = out.getvalue()
    assert "300,000 rows" in shown
    assert "10,538,857 rows" not in shown
    assert "10.5/10.5 MB" in shown


def _terminal_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOFTNORM_DEBUG", "FORCE_COLOR", "NO_COLOR")}
    env.update(TERM="xterm-256color", COLUMNS="100", LINES="40")
    return env


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_slow_pipe_shows_the_bar_before_its_input_ends():
    """6,000 rows over 3 s to softmax, stderr a terminal: the bar is up before the last row is sent."""
    master, slave = pty.openpty()
    seen: list[tuple[float, bytes]] = []

    proc = subprocess.Popen(
        [sys.executable, "-m", "softnorm_cli", "softmax", "-", "--no-summary"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=slave, env=_terminal_env(),
    )
    os.close(slave)
    reader = reading_terminal(master, lambda data: seen.append((time.monotonic(), data)))
    try:
        proc.stdin.write(b"a,b,c\n")
        for chunk in range(300):  # never a pause long enough for the reader to pass on what came
            proc.stdin.write(b"".join(b"%d,%d,%d\n" % (i, i % 7, i % 3) for i in range(chunk * 20, chunk * 20 + 20)))
            proc.stdin.flush()
            time.sleep(0.01)
        input_ended = time.monotonic()
        proc.stdin.close()
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
        os.close(master)
    before_the_end = b"".join(data for at, data in seen if at < input_ended)
    assert b"reading" in before_the_end and b" 0 rows" in before_the_end
    assert b"B/s" not in before_the_end  # rows, not bytes

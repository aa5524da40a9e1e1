"""The process around the command line: one line per error, closed pipes, exit codes.

A problem the user can fix is one line on stderr and exit 1; a usage error
is Click's, exit 2; a reader that closes stdout early ends the run quietly
with 0; signals are told in :mod:`~softnorm_cli.cli.signals`. A bug keeps its traceback.
"""

from __future__ import annotations

import os
import sys
import time

import click

from softnorm_cli.cli import signals
from softnorm_cli.errors import is_user_error, one_line

_LOADED = time.monotonic()


def seconds_running() -> float:
    """Seconds since this process started, as a stopwatch around the command would measure.

    Starting Python and importing numpy and polars take a good part of a
    short run, so the clock starts with the process (Linux tells when), or
    else when the command line was loaded.
    """
    try:
        with open("/proc/self/stat", "rb") as f:
            # The name in parentheses may hold spaces; the start time is the 22nd field.
            started = int(f.read().rsplit(b")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _LOADED


class CommandError(click.ClickException):
    """A user error: one line on stderr, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"softnorm: error: {self.format_message()}", err=True)


def warn(message: str) -> None:
    # click.echo, not a Rich console: a warning must stay one line, however long.
    click.echo(f"softnorm: warning: {message}", err=True)


class user_errors:
    """Turn the errors a user can fix into one line and exit 1; a closed stdout ends quietly."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, click.ClickException):
            return False
        if signals.received() is not None and not isinstance(exc, signals.Stopped):
            # A signal raised inside a library comes back as the library's own error.
            raise signals.Stopped(signals.received()) from exc
        if _is_broken_pipe(exc):
            # The reader went away (`softnorm ... | head`): not an error. Point
            # stdout at /dev/null so the final flush cannot complain either.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(0)
        if not is_user_error(exc):
            return False
        if os.environ.get("SOFTNORM_DEBUG"):
            import traceback

            traceback.print_exception(exc_type, exc, tb)
        raise CommandError(one_line(exc)) from exc


def _is_broken_pipe(exc: BaseException) -> bool:
    """Whether ``exc`` comes from writing to a pipe nobody reads any more: the
    error number EPIPE somewhere in its chain of causes, and nothing else.

    polars reports a closed pipe without its error number; the output's sink
    (:mod:`~softnorm_cli.io.sink`) knows it for what it is and raises a
    ``BrokenPipeError`` with the number in its place. Any other error, even
    one that happens after the reader has gone, keeps its message and status.
    """
    import errno

    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.EPIPE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def run_process(command: click.Command) -> int:
    """Run ``command`` as the whole process and give its exit status.

    The console script (:func:`softnorm_cli.cli.main`) has installed the
    signal handlers and leaves with the status; a signal that stops the
    run comes out of here as :class:`~softnorm_cli.cli.signals.Stopped`.
    """
    try:
        command(prog_name="softnorm", standalone_mode=True)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0

"""The process around the command line: one line per error, closed pipes, signals, exit codes.

A problem the user can fix is one line on stderr and exit 1; a usage error
is Click's, exit 2; a reader that closes stdout early ends the run quietly
with 0; SIGTERM, SIGHUP and SIGINT unwind the run so that temporary files
go, then exit 128 + the signal. A bug keeps its traceback.
"""

from __future__ import annotations

import os
import sys
import time

import click

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
    """Whether ``exc`` comes from writing to a pipe nobody reads any more.

    Decided by the error number (EPIPE) anywhere in the chain of causes, or,
    for libraries that wrap it in their own error, by asking the operating
    system whether the reader of stdout is gone; never by the message text.
    """
    import errno

    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.EPIPE:
            return True
        seen = seen.__cause__ or seen.__context__
    return _stdout_reader_gone()


def _stdout_reader_gone() -> bool:
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


class Stopped(BaseException):
    """A signal asked softnorm to stop; raised where the program is, so cleanup runs on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, frame) -> None:
    raise Stopped(signum)


def _handle_signals() -> None:
    import signal

    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)


def run_process(command: click.Command) -> None:
    """Run ``command`` as the whole process, then leave at once with its exit status.

    SIGTERM, SIGHUP and SIGINT unwind the run like an error, so a temporary
    output or a copy of stdin is removed, then end it with 128 + the signal.
    """
    _handle_signals()
    try:
        command(prog_name="softnorm", standalone_mode=True)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Stopped as e:
        import signal

        click.echo(f"softnorm: stopped by {signal.Signals(e.signum).name}", err=True)
        code = 128 + e.signum
    # Every file is closed and committed by now: leave without the interpreter's
    # teardown, which takes tens of milliseconds to free numpy's and polars'
    # modules, and in which pyarrow can abort while its threads are torn down
    # ("terminate called without an active exception").
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)

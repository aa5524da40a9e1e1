"""SIGTERM, SIGHUP and SIGINT: the run unwinds, its temporary files go, and the process ends with 128 + the signal.

The handlers are installed before anything else is imported, so a Ctrl-C
during start-up is the same one line as a Ctrl-C in the middle of a file.
The handler raises :class:`Stopped` wherever the main thread is; where that
is inside a library (polars calling back into Python, an import), the
library may turn it into an error of its own (a pyo3 ``PanicException``, a
``ComputeError``). Whatever error reaches the top after a signal arrived is
therefore the signal's doing, and is reported as the signal, not as a bug.

Only the standard library here: this module runs before Click is imported.
"""

from __future__ import annotations

import os
import signal
import sys

_SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")
_received: int | None = None
_installed = False  # by the console script; a program that calls the commands keeps its own handlers


class Stopped(BaseException):
    """A signal asked softnorm to stop; raised where the program is, so cleanup runs on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, frame) -> None:
    global _received
    if _received is None:
        _received = signum
    raise Stopped(signum)


def _unraisable(hook) -> None:
    if isinstance(hook.exc_value, Stopped):
        # Raised where Python cannot pass an exception on (a library's callback, a
        # finalizer: "Exception ignored in ..."): the signal is sent again, and its
        # handler raises at the next line of Python that can.
        signal.raise_signal(hook.exc_value.signum)
        return
    sys.__unraisablehook__(hook)


def install() -> None:
    global _installed
    _installed = True
    for name in _SIGNALS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)
    sys.unraisablehook = _unraisable


def install_over_polars() -> None:
    """Install the handlers again once polars is loaded, before a command's work starts.

    Importing polars installs a SIGINT handler of its own (through the
    signal-hook crate) that calls Python's but sets ``SA_RESTART``
    (pola-rs/polars#21739): a read or a wait the main thread is blocked in is
    then resumed instead of interrupted, and Python runs its handler only when
    that call returns, which for a quiet pipe or a thread that is waiting in
    turn is never. polars then no longer stops its own long computations
    early on Ctrl-C; they are short (one batch), and the run stops after them.
    """
    if _installed:
        import polars  # noqa: F401

        install()


def received() -> int | None:
    """The first signal that asked the run to stop, if one has."""
    return _received


def stopped_status() -> int:
    """Say which signal stopped the run, in one line, and give the exit status for it."""
    sys.stderr.write(f"softnorm: stopped by {signal.Signals(_received).name}\n")
    return 128 + _received


def leave(code: int, stopped: bool = False) -> None:
    """End the process at once with ``code``, once what was written is flushed.

    Every file is closed and committed (or removed) by now: the interpreter's
    teardown would only take tens of milliseconds to free numpy's and polars'
    modules, and pyarrow can abort while its threads are torn down
    ("terminate called without an active exception"). A stopped run does not
    flush standard output: its writer may still hold the stream, blocked on a
    reader that stopped reading, and what it had not written is not wanted.
    """
    for stream in (sys.stderr,) if stopped else (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)

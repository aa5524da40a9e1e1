"""Writing files and directories atomically: under a temporary name beside the target, renamed into place.

A reader of the target never sees half a file, and a failed or interrupted
run leaves the old file (or directory of parts) as it was. Every output
softnorm writes goes through here: the data, the parameters file, the
summary's JSON, a dataset's directory of parts.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterable
from typing import BinaryIO

from softnorm_cli.io.base import STDIO


def is_special(path: str) -> bool:
    """Whether ``path`` is there and neither a regular file nor a directory: ``/dev/null``, a named pipe, a terminal."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


class AtomicFile:
    """``path``, written as a temporary file beside it: :meth:`commit` renames it into place,
    :meth:`discard` removes it. As a context manager: committed on success, discarded on error.

    A special file (:func:`is_special`) is written as it is: it cannot be
    renamed over, and what was written to a device or a pipe cannot be taken back.
    An error names the user's path, never the temporary one.
    """

    def __init__(self, path: str):
        self.path = path
        self._tmp = None
        if is_special(path):
            self.stream: BinaryIO = open(path, "wb")
            return
        folder, name = os.path.split(os.path.abspath(path))
        try:
            fd, self._tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        except OSError as e:
            raise OSError(e.errno, e.strerror, path) from None
        self.stream: BinaryIO = os.fdopen(fd, "wb")

    def commit(self) -> None:
        if self._tmp is None:
            self.stream.close()
            return
        try:
            self.stream.close()
            # A file that is replaced keeps its permissions; a new one gets the process's.
            mode = os.stat(self.path).st_mode & 0o7777 if os.path.exists(self.path) else 0o666 & ~umask()
            os.chmod(self._tmp, mode)
            os.replace(self._tmp, self.path)
        except OSError as e:
            self.discard()
            raise OSError(e.errno, e.strerror, self.path) from None

    def discard(self) -> None:
        try:
            self.stream.close()
        finally:
            if self._tmp is not None and os.path.exists(self._tmp):
                os.unlink(self._tmp)

    def __enter__(self) -> BinaryIO:
        return self.stream

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def write_text(path: str, text: str | Iterable[str]) -> None:
    """Write ``text`` (or its pieces) as UTF-8 to ``path`` atomically, or to standard output for ``-``."""
    pieces = [text] if isinstance(text, str) else text
    if path == STDIO:
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()
        return
    with AtomicFile(path) as stream:
        for piece in pieces:
            stream.write(piece.encode("utf-8"))


def check_writable(path: str) -> None:
    """Fail before the work, not after it, when a file cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(2, "No such directory", path)
    if not os.access(path if os.path.exists(path) else folder, os.W_OK):
        raise OSError(13, "Permission denied", path)


def temporary_directory(path: str) -> str:
    """A new directory beside ``path``, to be filled and then put in its place by :func:`replace_directory`."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OSError(2, "No such directory", path)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    os.chmod(tmp, 0o777 & ~umask())
    return tmp


def replace_directory(tmp: str, path: str) -> None:
    """Put the directory ``tmp`` at ``path``; what was there is moved aside first and removed after."""
    old = None
    if os.path.exists(path):
        old = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".softnorm-old.")
        os.rename(path, os.path.join(old, "parts"))
    os.rename(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def umask() -> int:
    """The process's file mode mask (reading it means setting it: set it back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Small files beside the data (the summary JSON, saved parameters): checked before the work, written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable

from softnorm_cli.io.base import STDIO


def check_writable(path: str) -> None:
    """Fail before the work, not after it, when a file cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(2, "No such directory", path)
    if not os.access(path if os.path.exists(path) else folder, os.W_OK):
        raise OSError(13, "Permission denied", path)


def write_text(path: str, text: str | Iterable[str]) -> None:
    """Write ``text`` (or its pieces) to ``path`` ('-': stdout) through a temporary file renamed
    into place, so that a reader never sees half a file and a failure leaves the old one."""
    pieces = [text] if isinstance(text, str) else text
    if path == STDIO:
        for piece in pieces:
            sys.stdout.write(piece)
        sys.stdout.flush()
        return
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.writelines(pieces)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def umask() -> int:
    """The process's file mode mask (reading it means setting it: set it back at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Byte streams under the readers: look ahead without consuming, decompress, transcode.

Each layer is a plain binary stream (``readinto``), so the CSV reader cuts
blocks the same way from a file, a pipe, a gzip stream or a Latin-1 file.
"""

from __future__ import annotations

import codecs
import io
import os
import select
import sys
from collections.abc import Callable
from typing import BinaryIO

#: A pipe that sends nothing for this long has paused: what arrived is passed on.
PAUSE_SECONDS = 0.1


def more_within(stream, seconds: float) -> bool:
    """Whether ``stream`` has input ready within ``seconds`` (always true for what cannot be polled)."""
    try:
        return bool(select.select([stream], [], [], seconds)[0])
    except (OSError, ValueError, io.UnsupportedOperation, TypeError):
        return True  # not a selectable stream (a test double, a file): just keep reading


class Bounded(io.RawIOBase):
    """A file read from ``start`` up to ``stop`` (a partition of it): positions are the file's, and the end is ``stop``."""

    def __init__(self, raw: BinaryIO, start: int, stop: int | None):
        self._raw = raw
        self.end = stop if stop is not None else os.fstat(raw.fileno()).st_size
        raw.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def readinto(self, view) -> int:
        left = self.end - self._raw.tell()
        if left <= 0:
            return 0
        with memoryview(view) as v:
            return self._raw.readinto(v[: min(len(v), left)])

    def close(self) -> None:
        self._raw.close()
        super().close()


class Peekable(io.RawIOBase):
    """A binary stream whose first bytes can be looked at (:meth:`peek`) and still be read.

    With ``pipe`` the stream is a pipe that may pause: :meth:`peek` then
    stops early at a pause after a complete line, and :meth:`paused` tells
    the block reader to pass on what has arrived, so that a slow, endless
    pipe still gets its rows through promptly.
    """

    def __init__(self, raw: BinaryIO, pipe: bool = False, count=None):
        self._raw = raw
        self._pipe = pipe
        self._ahead = bytearray()  # read from raw, not yet consumed
        self._eof = False
        self._consumed = 0
        self._count = count  # how far the underlying source has come, for progress

    def readable(self) -> bool:
        return True

    def _fill(self, n: int) -> None:
        """Read from the raw stream until ``n`` bytes are ahead, the end, or (a pipe) a pause after a line."""
        while len(self._ahead) < n and not self._eof:
            chunk = _read_some(self._raw, n - len(self._ahead))
            if not chunk:
                self._eof = True
                break
            self._ahead += chunk
            if self._pipe and b"\n" in chunk and not more_within(self._raw, PAUSE_SECONDS):
                break

    def peek(self, n: int) -> bytes:
        """Up to ``n`` bytes ahead, without consuming them (fewer at the end or at a pause of a pipe)."""
        self._fill(n)
        return bytes(self._ahead[:n])

    def skip(self, n: int) -> None:
        """Consume ``n`` bytes that were peeked at."""
        del self._ahead[:n]
        self._consumed += n

    def readinto(self, view) -> int:
        if self._ahead:
            n = min(len(view), len(self._ahead))
            view[:n] = self._ahead[:n]
            del self._ahead[:n]
        elif self._eof:
            n = 0
        else:
            n = _readinto_some(self._raw, view)
        self._consumed += n
        return n

    @property
    def exhausted(self) -> bool:
        """Whether the raw stream has ended: what :meth:`peek` returned is all there is."""
        return self._eof

    def paused(self) -> bool:
        """Whether this is a pipe and no more input arrives within a tenth of a second."""
        return self._pipe and not self._ahead and not more_within(self._raw, PAUSE_SECONDS)

    def tell(self) -> int:
        return self._count() if self._count is not None else self._consumed

    def close(self) -> None:
        if self._raw is not sys.stdin.buffer:
            self._raw.close()
        super().close()


def _read_some(raw, n: int) -> bytes:
    # read1 returns what a pipe has now instead of waiting for all n bytes.
    read = getattr(raw, "read1", None) or raw.read
    return read(n)


def _readinto_some(raw, view) -> int:
    readinto = getattr(raw, "readinto1", None) or getattr(raw, "readinto", None)
    if readinto is not None:
        return readinto(view) or 0
    chunk = raw.read(len(view))
    view[: len(chunk)] = chunk
    return len(chunk)


def decompressed(raw: BinaryIO, codec: str) -> BinaryIO:
    """``raw`` decompressed with ``codec`` (a pyarrow codec name: gzip, bz2, zstd, lz4, brotli)."""
    import pyarrow as pa

    return pa.CompressedInputStream(pa.PythonFile(raw, mode="r"), codec)


class Transcoded(io.RawIOBase):
    """The text of ``raw`` in ``encoding``, re-encoded as UTF-8 for the parser.

    Decoding is incremental, so a character split between two reads is
    decoded whole; an undecodable byte raises ``UnicodeDecodeError``.
    ``seen``, if given, is called with each piece of text decoded, in order.
    """

    def __init__(self, raw: BinaryIO, encoding: str, chunk: int = 1 << 20, seen: Callable[[str], None] | None = None):
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        self._chunk = chunk
        self._seen = seen
        self._out = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, view) -> int:
        while not self._out and not self._done:
            data = _read_some(self._raw, self._chunk)
            self._done = not data
            text = self._decoder.decode(data, final=self._done)
            if self._seen is not None:
                self._seen(text)
            self._out = text.encode("utf-8")
        n = min(len(view), len(self._out))
        view[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()

"""Cutting a CSV byte stream into blocks of whole records.

polars parses a block of complete records fast, on all cores; this module
finds where such blocks end, without parsing, so that a file or a pipe of any
size can be read a block at a time.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator

__all__ = ["blocks", "record_end"]


def blocks(stream, size: int) -> Iterator[bytes]:
    """Blocks of about ``size`` bytes, each ending after a complete CSV record.

    A regular file is read from its current position with positioned reads,
    each block starting where the last one's records ended: every byte is
    copied once, by the kernel, into the block handed to the parser. A stream
    is read into a buffer behind the previous block's unfinished record.
    """
    fd = _regular_file(stream)
    if fd is not None:
        yield from _file_blocks(stream, fd, size)
        return
    carry = b""
    while True:
        buf = bytearray(len(carry) + size)
        buf[: len(carry)] = carry
        view = memoryview(buf)
        filled = len(carry) + _read_into(stream, view[len(carry) :])
        if filled == len(carry):
            if carry:
                yield bytes(carry)  # the last record, without a final newline
            return
        end = record_end(buf, filled)
        if end < 0:
            carry = bytes(view[:filled])  # a record longer than a block: read on
            continue
        carry = bytes(view[end:filled])
        yield bytes(view[:end])


def _regular_file(stream) -> int | None:
    try:
        fd = stream.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) and stream.seekable() else None
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _file_blocks(stream, fd: int, size: int) -> Iterator[bytes]:
    # One buffer, filled again for each block: a fresh one each time would cost
    # the process new pages (and a thread's allocator new mappings) per block.
    buf = bytearray(size)
    start = stream.tell()
    limit = getattr(stream, "end", None)  # a partition of the file ends there, after a record
    while True:
        if limit is None:
            filled = os.preadv(fd, [buf], start)
        else:
            with memoryview(buf) as view:
                filled = os.preadv(fd, [view[: min(len(buf), limit - start)]], start) if limit > start else 0
        if not filled:
            return
        end = filled if filled < len(buf) else _fast_record_end(buf)
        if end < 0:
            buf = bytearray(2 * len(buf))  # a record longer than a block
            continue
        start += end
        stream.seek(start)  # for progress
        with memoryview(buf) as view:
            yield bytes(view[:end])


def _fast_record_end(data: bytes | bytearray) -> int:
    end = data.rfind(b"\n") + 1
    if end and b'"' not in data:
        return end  # no quotes to hide a newline: the common case, decided by two scans of memchr
    return record_end(data, len(data))


def _read_into(stream, view: memoryview) -> int:
    """Fill ``view`` from ``stream`` as far as it goes; the number of bytes read."""
    done = 0
    while done < len(view):
        if hasattr(stream, "readinto"):
            n = stream.readinto(view[done:])
        else:
            chunk = stream.read(len(view) - done)
            n = len(chunk)
            view[done : done + n] = chunk
        if not n:
            break
        done += n
        if hasattr(stream, "paused") and stream.paused():
            break
    return done


def record_end(buf: bytes | bytearray, size: int) -> int:
    """The index just past the last newline outside quotes in ``buf[:size]``, or -1.

    The buffer starts at a record boundary, so a newline ends a record exactly
    when an even number of quote characters precede it (doubled quotes inside
    a field count twice).
    """
    end = buf.rfind(b"\n", 0, size)
    if end < 0:
        return -1
    quotes = buf.count(b'"', 0, end)
    while quotes % 2:
        previous = buf.rfind(b"\n", 0, end)
        if previous < 0:
            return -1
        quotes -= buf.count(b'"', previous, end)
        end = previous
    return end + 1

"""Cutting a CSV byte stream into blocks of whole records.

polars parses a block of complete records fast, on all cores; this module
finds where such blocks end, without parsing, so that a file or a pipe of any
size can be read a block at a time.
"""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Iterator

__all__ = ["blocks", "record_end"]


def blocks(stream, size: int) -> Iterator[bytes]:
    """Blocks of about ``size`` bytes, each ending after a complete CSV record.

    A regular file is memory-mapped and cut where it lies, from its current
    position; a stream is read into a buffer behind the previous block's
    unfinished record: either way each byte is copied once on its way to the
    parser.
    """
    mapped = _mapped(stream)
    if mapped is not None:
        with mapped:
            yield from _mapped_blocks(mapped, stream, size, stream.tell())
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


def _mapped(stream):
    try:
        if os.fstat(stream.fileno()).st_size and stream.seekable():
            return mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        pass
    return None


def _mapped_blocks(mapped, stream, size: int, start: int) -> Iterator[bytes]:
    length = len(mapped)
    while start < length:
        end = _mapped_record_end(mapped, start, size)
        block = mapped[start:end]
        _release(mapped, start, end)
        start = end
        stream.seek(start)  # for progress
        yield block


def _mapped_record_end(mapped, start: int, size: int) -> int:
    """Where the block from ``start`` ends: after the last whole record within ``size`` bytes, or a longer one."""
    while start + size < len(mapped):
        stop = start + size
        end = mapped.rfind(b"\n", start, stop) + 1
        if end and mapped.find(b'"', start, end) < 0:
            return end  # no quotes to hide a newline: the common case, decided without a copy
        end = record_end(mapped[start:stop], size)
        if end >= 0:
            return start + end
        size *= 2  # a record longer than a block
    return len(mapped)


def _release(mapped, start: int, end: int) -> None:
    """Drop the pages of a copied range from the process: mapped pages count as its memory."""
    page = mmap.PAGESIZE
    first = start - start % page
    if hasattr(mapped, "madvise") and end - first >= page:
        mapped.madvise(mmap.MADV_DONTNEED, first, (end - first) // page * page)


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

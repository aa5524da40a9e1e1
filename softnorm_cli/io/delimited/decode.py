"""The text of a CSV or TSV input, as UTF-8 bytes from its header on, once per pass.

Between the file (or pipe) and the parser sit the layers a real export may
need: decompression, a byte-order mark, another encoding, title lines before
the header. A plain UTF-8 file needs none of them and is handed over as the
file itself, which the block reader memory-maps. Standard input can be read
only once: a pass that will be followed by another copies the text aside
(:meth:`TextInput.spool`), and later passes read the copy.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from typing import BinaryIO

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import sniff
from softnorm_cli.io.base import STDIO
from softnorm_cli.io.streams import Bounded, Peekable, Transcoded, decompressed

#: How much of the text is looked at to choose the delimiter and the numeric columns:
#: at least SAMPLE_BYTES, and more when that holds fewer than SAMPLE_LINES lines
#: (a table of 100,000 columns has lines of megabytes), up to MAX_SAMPLE_BYTES.
SAMPLE_BYTES = 1 << 20
SAMPLE_LINES = 20
MAX_SAMPLE_BYTES = 256 << 20

# ISO-8859 encodings (Latin-1 and its kin) decode bytes 0x80-0x9F to C1 control characters, which no
# text holds; in cp1252, the encoding of Windows exports, most of them are characters (the euro sign,
# curly quotes, dashes), so a Windows export read as Latin-1 holds them.
_C1_IN_CP1252 = "".join(chr(b) for b in range(0x80, 0xA0) if bytes([b]).decode("cp1252", "ignore"))
_CP1252_C1 = re.compile(f"[{_C1_IN_CP1252}]")


class TextInput:
    """Where the text of an input comes from, and how to turn its bytes into UTF-8 lines.

    ``head`` is the start of the text at the header (see SAMPLE_BYTES; less
    when a pipe pauses), ``complete`` whether it is all of it, and
    ``first_line`` the line of the file the header is on.
    """

    def __init__(
        self,
        path: str,
        codec: str | None = None,
        encoding: str | None = None,
        skip_rows: int = 0,
        stream: Peekable | None = None,
        name: str | None = None,
        sample_lines: int = SAMPLE_LINES,
        start: int | None = None,
        stop: int | None = None,
        first_line: int | None = None,
    ):
        # ``stream``: standard input, already decompressed if ``codec`` says so;
        # ``sample_lines``: 0 for text whose lines are not rows (a JSON array may be one line);
        # ``start``, ``stop``: the bytes of a partition of a plain file (start None: from the file's start),
        # ``first_line`` the line it starts on.
        self.path = path
        self._start, self._stop = start, stop
        self.name = name or ("standard input" if path == STDIO else path)
        self.codec = codec
        self.skip_rows = skip_rows
        self.first_line = first_line or skip_rows + 1
        self._encoding = encoding
        self._live = stream  # standard input, not yet read
        self._spool: str | None = None  # a complete copy of the text, for later passes
        self._spool_partial: str | None = None
        self._offset = 0  # where the header starts in a plain file
        self._controls: list[_ControlCharacters] = []  # one per pass decoded from an ISO-8859 encoding
        first = self._open_layers(stream)
        size = SAMPLE_BYTES
        self.head = first.peek(size)
        while self.head.count(b"\n") < sample_lines and len(self.head) == size and size < MAX_SAMPLE_BYTES:
            size *= 4
            self.head = first.peek(size)
        self.complete = first.exhausted and len(self.head) < size
        if self._plain:
            first.close()
        else:
            self._live = first

    @property
    def splittable(self) -> bool:
        """Whether this is a file of UTF-8 text, which can be read from any record on."""
        return self._plain and self._start is None and self._stop is None

    @property
    def data_start(self) -> int:
        """Where the header starts in a plain file: after a byte-order mark and the lines skipped."""
        return self._offset

    @property
    def plain(self) -> bool:
        """Whether this is a file of UTF-8 text from its first byte on, the header on its first line."""
        return self._plain and self._offset == 0

    @property
    def encoding(self) -> str:
        return self._encoding or "utf-8"

    # -- opening --------------------------------------------------------------

    def _raw(self) -> BinaryIO:
        if self._stop is None and self._start is None:
            return open(self.path, "rb")
        return Bounded(open(self.path, "rb"), self._start or 0, self._stop)

    def _open_layers(self, stream: Peekable | None) -> Peekable:
        """The text from the header on, through every layer the input needs; decides ``_plain``."""
        if stream is None and self._start is not None:  # a partition from a record on: no mark, no lines to skip
            self._plain, self._offset = True, self._start
            return Peekable(self._raw())
        if stream is None:
            stream = Peekable(self._raw())
            if self.codec:
                stream = Peekable(decompressed(stream, self.codec), count=stream.tell)
        declared, bom = sniff.byte_order_mark(stream.peek(4))
        if self._encoding is None and declared not in (None, "utf-8"):
            self._encoding = declared
        if self._encoding is not None and self._encoding != "utf-8":
            seen = None
            if codecs.lookup(self._encoding).name.startswith("iso8859"):
                seen = _ControlCharacters()
                self._controls.append(seen)
            stream = Peekable(Transcoded(stream, self._encoding, seen=seen), count=stream.tell)
        elif bom:
            stream.skip(bom)  # a UTF-8 byte-order mark is not part of the first name
        self._offset = bom if self._encoding in (None, "utf-8") else 0
        self._offset += _skip_lines(stream, self.skip_rows, self.name)
        self._plain = self.path != STDIO and not self.codec and self._encoding in (None, "utf-8")
        return stream

    def open(self) -> BinaryIO:
        """A binary stream of UTF-8 text from the header to the end."""
        if self._spool is not None:
            return open(self._spool, "rb")
        if self._live is not None:
            stream, self._live = self._live, None
            return stream
        if self.path == STDIO:
            raise SoftnormError("standard input was read already")  # a bug: replay needs spool()
        if self._plain:
            raw = self._raw()
            raw.seek(self._offset)
            return raw
        return self._open_layers(None)

    @property
    def warnings(self) -> list[str]:
        """What the text read so far suggests about its encoding: a cp1252 export read as Latin-1."""
        found = next((seen.first for seen in self._controls if seen.first is not None), None)
        if found is None:
            return []
        line, char = found
        encoding = codecs.lookup(self._encoding).name
        encoding = "Latin-1" if encoding == "iso8859-1" else encoding
        meant = char.encode("latin-1").decode("cp1252")
        return [
            f"{self.name}, line {line}: byte 0x{ord(char):02x} is a control character in {encoding}, which text "
            f"does not hold; in cp1252, the encoding of Windows exports, it is {meant!r}: try --encoding cp1252"
        ]

    @property
    def size(self) -> int | None:
        """Bytes of the file being read, for progress (None for a pipe)."""
        if self._spool is not None:
            return os.path.getsize(self._spool)
        if self._stop is not None:
            return self._stop - (self._start or 0)
        return None if self.path == STDIO else os.path.getsize(self.path)

    @property
    def replayable(self) -> bool:
        """Whether another pass can read the text again without a copy."""
        return self.path != STDIO or self._spool is not None

    # -- standard input's copy ------------------------------------------------

    @contextmanager
    def copied(self, replay: bool):
        """The file this pass copies its text into, when another pass follows and standard input
        cannot be read again (else None); the copy serves later passes once this pass is whole."""
        copy = self.spool() if replay and not self.replayable else None
        try:
            yield copy
            if copy is not None:
                copy.close()
                self.spooled()
        finally:
            if copy is not None and not copy.closed:
                copy.close()

    def spool(self) -> BinaryIO:
        """A file to copy this pass's text into; later passes read the copy."""
        fd, self._spool_partial = tempfile.mkstemp(prefix="softnorm-", suffix=".spool")
        return os.fdopen(fd, "wb")

    def spooled(self) -> None:
        """The copy is complete."""
        self._spool, self._spool_partial = self._spool_partial, None

    def close(self) -> None:
        for path in (self._spool, self._spool_partial):
            if path is not None and os.path.exists(path):
                os.unlink(path)
        self._spool = self._spool_partial = None
        if self._live is not None:
            self._live.close()
            self._live = None


class _ControlCharacters:
    """Looks through decoded text, in order, for the first C1 control character that cp1252 reads as a character."""

    def __init__(self):
        self.first: tuple[int, str] | None = None  # (line, character)
        self._lines = 0

    def __call__(self, text: str) -> None:
        if self.first is not None:
            return
        found = _CP1252_C1.search(text)
        if found is None:
            self._lines += text.count("\n")
        else:
            self.first = (self._lines + text.count("\n", 0, found.start()) + 1, found.group())


def _skip_lines(stream: Peekable, count: int, name: str) -> int:
    """Consume ``count`` lines before the header; the number of bytes skipped."""
    skipped = 0
    for _ in range(count):
        size = 1 << 16
        while True:
            ahead = stream.peek(size)
            end = ahead.find(b"\n") + 1
            if end or len(ahead) < size:
                break
            size *= 4
        if not end:
            raise SoftnormError(f"{name}: --skip-rows {count} skips past the end of the input")
        stream.skip(end)
        skipped += end
    return skipped


def open_stdin() -> Peekable:
    return Peekable(sys.stdin.buffer, pipe=True)

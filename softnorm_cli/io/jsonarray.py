"""A JSON array of objects (``[{...}, {...}]``, pandas' ``orient="records"``) as blocks of JSON Lines.

The array is cut at its items, which Python's C scanner finds (``raw_decode``),
reading the text a chunk at a time: each item's text becomes one line (the
line breaks between its tokens are spaces; JSON strings hold none), so the
items are read in batches as JSON Lines are, in bounded memory.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator

from softnorm_cli.errors import MalformedInputError

_SPACE = re.compile(r"[ \t\r\n]*")
#: A parse that fails this close to the end of what was read may only need more text.
_NEAR_END = 64


def array_lines(chunks: Iterator[bytes], name: str, size: int, partial: bool = False) -> Iterator[bytes]:
    """Blocks of about ``size`` bytes of JSON Lines, one line per item of the array in ``chunks``.

    ``partial``: the chunks are only the start of the input (the sample), so
    an item cut short at their end ends the blocks instead of being an error.
    """
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    text, at, lines_before, done = "", 0, 0, False
    state = "start"  # then "first" (an item or "]"), "next" ("," or "]"), "item", "end"
    out: list[str] = []
    held = item = 0

    def fail(what: str, where: int) -> MalformedInputError:
        line = lines_before + text.count("\n", 0, where) + 1
        return MalformedInputError(f"{name}: line {line}: not a JSON array of objects ({what})")

    def more() -> bool:
        """Read on: the text from ``at`` and the next chunk; False at the end of the input."""
        nonlocal text, at, lines_before, done
        if done:
            return False
        lines_before += text.count("\n", 0, at)
        chunk = next(chunks, b"")
        try:
            text = text[at:] + utf8.decode(chunk, final=not chunk)
        except UnicodeDecodeError as e:
            raise MalformedInputError(f"{name}: not UTF-8 text; name its encoding with --encoding") from e
        at, done = 0, not chunk
        return True

    while True:
        at = _SPACE.match(text, at).end()
        if at == len(text):
            if more():
                continue
            break
        ch = text[at]
        if state == "start":
            if ch != "[":
                raise fail("it does not start with [", at)
            state, at = "first", at + 1
        elif state == "end":
            raise fail("more after its closing ]", at)
        elif ch == "]" and state in ("first", "next"):
            state, at = "end", at + 1
        elif state == "next":
            if ch != ",":
                raise fail(f"expected , or ] after item {item}", at)
            state, at = "item", at + 1
        else:
            try:
                value, end = decoder.raw_decode(text, at)
            except json.JSONDecodeError as e:
                # Cut short by the end of what was read (a string's start is where it opened)?
                short = e.pos >= len(text) - _NEAR_END or e.msg.startswith("Unterminated string")
                if short and more():
                    continue
                if short and partial:
                    break
                raise fail(f"item {item + 1}: {e.msg}", e.pos) from e
            item += 1
            if not isinstance(value, dict):
                raise MalformedInputError(f"{name}: item {item}: not a JSON object ({_kind(value)})")
            piece = text[at:end]
            if "\n" in piece or "\r" in piece:
                piece = piece.replace("\r", " ").replace("\n", " ")
            out.append(piece)
            held += len(piece) + 1
            state, at = "next", end
            if held >= size:
                yield ("\n".join(out) + "\n").encode("utf-8")
                out, held = [], 0
    if state != "end" and not partial:
        raise fail("it ends before its closing ]" if state != "start" else "it is empty", len(text))
    if out:
        yield ("\n".join(out) + "\n").encode("utf-8")


def _kind(value) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"

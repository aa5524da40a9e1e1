"""A distribution in one line of text: ``▁▂▅█▆▃▁``, or ``.:=#=:.`` where blocks cannot be shown."""

from __future__ import annotations

#: Bins a picture is drawn with: the counted bins summed in neighbouring pairs down to the width.
WIDTHS = (64, 32, 16)
#: A blank for an empty bin, then eight heights.
BLOCKS = " ▁▂▃▄▅▆▇█"
PLAIN = " .:-=+*#@"


def plain_console(console) -> bool:
    """Whether ``console`` is to get plain characters: ``NO_COLOR`` is set, or it cannot encode blocks."""
    if console.no_color:
        return True
    try:
        BLOCKS.encode(console.encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return True
    return False


def sparkline(counts: list[int], width: int, plain: bool = False) -> str:
    """``counts`` (a power of two of them, at least ``width``) drawn in ``width`` characters.

    Heights are relative to the fullest bin; a bin with any count gets at
    least the lowest mark, so that a lone outlier stays visible.
    """
    group = max(1, len(counts) // width)
    merged = [sum(counts[i : i + group]) for i in range(0, len(counts), group)]
    top = max(merged, default=0)
    marks = PLAIN if plain else BLOCKS
    if not top:
        return marks[0] * len(merged)
    return "".join(marks[0] if c == 0 else marks[max(1, -(-c * (len(marks) - 1) // top))] for c in merged)


def fitting(room: int) -> int | None:
    """The widest picture that fits in ``room`` characters; None when even the narrowest does not."""
    return next((width for width in WIDTHS if width <= room), None)

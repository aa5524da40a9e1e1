"""Where a CSV file can be cut into partitions: at record boundaries, found without parsing.

A byte range of a file is looked at alone, without knowing whether it starts
inside a quoted field: :func:`scan` counts its newlines and quotes and, for
both cases, finds which newlines end records (an even number of quotes
before them, counted from the range's start in the one case, one more in the
other), how many of those records are blank (no rows), and where the first
of them end. Once every range has been looked at, :func:`cuts` settles each
range's case from the quotes of the ranges before it (the file's start is
outside quotes) and picks in each the first record end after which the
row count is a multiple of ``align``: the partitions then hold whole chunks
of the statistics' reduction, and know their first row and file line.

Ranges are independent, so they are looked at in parallel, as dask.dataframe
looks for its blocks' newlines; unlike it, a newline within quotes is no
cut.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

#: Bytes read at a time.
_READ = 16 << 20
_NEWLINE, _QUOTE, _CR = ord("\n"), ord('"'), ord("\r")


@dataclass
class Scan:
    """What :func:`scan` found in ``start .. stop``; the tuples hold the two cases (outside quotes at the start, inside)."""

    start: int
    stop: int
    quotes: int  # quote characters in the range
    newlines: int
    records: tuple[int, int]  # newlines that end a record
    blanks: tuple[int, int]  # of those, the ends of blank lines (not counting the first)
    #: Whether the first record end would be a blank line's if the range starts a record.
    first_blank: tuple[bool, bool]
    ends_at_stop: tuple[bool, bool]  # whether the range's last byte ends a record
    #: The first record ends: their positions, their newlines' numbers within the range,
    #: and the rows they end (1 each but for blank lines, as if the first were not blank), summed.
    ends: tuple[np.ndarray, np.ndarray]
    lines: tuple[np.ndarray, np.ndarray]
    rows: tuple[np.ndarray, np.ndarray]


def scan(path: str, start: int, stop: int, keep: int, blank_is_row: bool = False) -> Scan:
    """Look at bytes ``start .. stop`` of ``path``; keep the first ``keep`` record ends of each case.

    ``blank_is_row``: a blank line is a row (a table of one column: an empty cell).
    """
    quotes = newlines = 0
    records, blanks = [0, 0], [0, 0]
    last_end = [start - 1, start - 1]  # as if a record ended just before the range
    first_blank: list[bool | None] = [None, None]
    kept: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[], []]
    kept_count = [0, 0]
    previous_byte = -1
    with open(path, "rb") as f:
        position = start
        while position < stop:
            data = os.pread(f.fileno(), min(_READ, stop - position), position)
            if not data:
                break
            block = np.frombuffer(data, dtype=np.uint8)
            at_newline = np.flatnonzero(block == _NEWLINE)
            at_quote = np.flatnonzero(block == _QUOTE)
            before = np.searchsorted(at_quote, at_newline) + quotes  # quotes before each newline, in the range
            for case in (0, 1):
                ending = (before + case) % 2 == 0
                local = at_newline[ending]
                ends = local + position
                previous = np.concatenate(([last_end[case]], ends[:-1]))
                gap = ends - previous
                # A blank line: nothing, or only a carriage return, since the last record ended.
                cr_before = np.where(local > 0, block[np.maximum(local - 1, 0)], previous_byte) == _CR
                blank = (gap == 1) | ((gap == 2) & cr_before)
                if blank_is_row:
                    blank[:] = False
                if first_blank[case] is None and len(ends):
                    first_blank[case] = bool(blank[0])
                    blank[0] = False  # settled by :func:`cuts`, which knows where the record before ended
                records[case] += len(ends)
                blanks[case] += int(np.count_nonzero(blank))
                if len(ends):
                    last_end[case] = int(ends[-1])
                if kept_count[case] < keep and len(ends):
                    take = min(keep - kept_count[case], len(ends))
                    numbers = np.flatnonzero(ending)[:take] + newlines
                    rows = np.cumsum(~blank[:take]) + (kept[case][-1][2][-1] if kept[case] else 0)
                    kept[case].append((ends[:take], numbers, rows))
                    kept_count[case] += take
            quotes += len(at_quote)
            newlines += len(at_newline)
            previous_byte = int(block[-1])
            position += len(data)

    def joined(case: int, i: int) -> np.ndarray:
        pieces = [k[i] for k in kept[case]]
        return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)

    return Scan(
        start, stop, quotes, newlines, tuple(records), tuple(blanks),
        tuple(bool(b) for b in first_blank), tuple(end == stop - 1 for end in last_end),
        (joined(0, 0), joined(1, 0)), (joined(0, 1), joined(1, 1)), (joined(0, 2), joined(1, 2)),
    )


@dataclass(frozen=True)
class Cut:
    """Where a partition starts: its first byte, the rows of the file before it, and the file line it starts on."""

    byte: int
    row: int
    line: int


def cuts(scans: list[Scan], align: int, header: bool, first_line: int) -> list[Cut]:
    """The cuts after the file's first partition (which starts at the first range), in order.

    ``header``: the first record is the header, no row; ``first_line``: the file line the first range starts on.
    """
    found = []
    inside = False  # the file starts outside quotes
    rows = -1 if header else 0  # rows ended before the range
    lines = first_line
    ended_before = True  # whether the byte before the range ends a record
    for s in scans:
        case = int(inside)
        # The range's first record end counts as blank only if a record ended right before the range.
        blank_first = s.first_blank[case] and ended_before
        ends, numbers, counted = s.ends[case], s.lines[case], s.rows[case] - blank_first
        if s is not scans[0]:
            at = np.flatnonzero(((rows + counted) % align == 0) & (rows + counted > (found[-1].row if found else 0)))
            if len(at):
                i = int(at[0])
                if int(ends[i]) + 1 < s.stop or s is not scans[-1]:
                    found.append(Cut(int(ends[i]) + 1, int(rows + counted[i]), lines + int(numbers[i]) + 1))
        rows += s.records[case] - s.blanks[case] - blank_first
        lines += s.newlines
        ended_before = s.ends_at_stop[case] if s.records[case] else (ended_before and s.stop == s.start)
        inside = inside != bool(s.quotes % 2)
    return found

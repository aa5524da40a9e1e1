"""Errors a user can fix. The command line prints each as one line and exits 1."""

from __future__ import annotations

import difflib
import re


class SoftnormError(Exception):
    """A problem with the input or the request, not a bug in softnorm."""


class ColumnNotFoundError(SoftnormError):
    def __init__(self, name: str, columns: list[str], what: str = "not found"):
        message = f"column {name!r} {what}"
        close = difflib.get_close_matches(name, columns, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        shown = ", ".join(columns[:20]) + (", ..." if len(columns) > 20 else "")
        super().__init__(f"{message} (columns are: {shown})")


class NotNumericError(SoftnormError):
    def __init__(self, column: str, row: int, value: str):
        super().__init__(f"column {column!r}, row {row}: {value!r} is not a number{not_a_number_hint(value)}")


#: Cells that usually mean "no value" in exports, beyond the default markers.
_MARKER_WORDS = {"na", "n.a.", "nil", "none", "missing", "unknown", "empty", "#value!", "#div/0!", "#ref!", "#num!"}


def not_a_number_hint(value: str) -> str:
    """What to try when ``value`` is not a number: decimal commas, or a missing-value marker."""
    text = value.strip()
    if re.fullmatch(r"[+-]?[0-9]*,[0-9]+", text):
        return " (for decimal commas use --decimal-comma)"
    if text.lower() in _MARKER_WORDS or re.fullmatch(r"[^\w\s]+", text):
        return " (if it marks missing values, name it with --na-values)"
    return ""


class InfiniteValueError(SoftnormError):
    def __init__(self, column: str, row: int, value: float):
        super().__init__(
            f"column {column!r}, row {row}: {'-inf' if value < 0 else 'inf'} is not a finite number "
            "(use --inf missing to treat infinities as missing values)"
        )


class MissingValueError(SoftnormError):
    def __init__(self, column: str, row: int):
        super().__init__(f"column {column!r}, row {row}: missing value (--nan raise)")


class MalformedInputError(SoftnormError):
    """The input cannot be parsed as the format it was read as."""

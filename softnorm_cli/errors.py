"""Errors a user can fix. The command line prints each as one line and exits 1."""

from __future__ import annotations

import difflib


class SoftnormError(Exception):
    """A problem with the input or the request, not a bug in softnorm."""


class ColumnNotFoundError(SoftnormError):
    def __init__(self, name: str, columns: list[str]):
        message = f"column {name!r} not found"
        close = difflib.get_close_matches(name, columns, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        shown = ", ".join(columns[:20]) + (", ..." if len(columns) > 20 else "")
        super().__init__(f"{message} (columns are: {shown})")


class NotNumericError(SoftnormError):
    def __init__(self, column: str, row: int, value: str):
        super().__init__(f"column {column!r}, row {row}: {value!r} is not a number")


class MissingValueError(SoftnormError):
    def __init__(self, column: str, row: int):
        super().__init__(f"column {column!r}, row {row}: missing value (--nan raise)")


class MalformedInputError(SoftnormError):
    """The input cannot be parsed as the format it was read as."""

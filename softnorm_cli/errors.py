"""Errors a user can fix, and how any error reads as one line.

The command line prints a user's error as one line and exits 1; a task on a
cluster worker reports one the same way, so this module depends on nothing
but the standard library.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Sequence


class SoftnormError(Exception):
    """A problem with the input or the request, not a bug in softnorm."""


class ColumnNotFoundError(SoftnormError):
    def __init__(self, name: str, columns: list[str], what: str = "not found"):
        message = f"column {name!r} {what}"
        close = difflib.get_close_matches(name, columns, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        super().__init__(f"{message} (columns are: {column_list(columns)})")


def column_list(names: Sequence[str], shown: int = 20) -> str:
    """Column names for a message, comma-separated, the first ``shown`` of them (see :func:`column_name`)."""
    return ", ".join(map(column_name, names[:shown])) + (", ..." if len(names) > shown else "")


def column_name(name: str) -> str:
    """A column name in a list, quoted if it would not read as itself there: with spaces at
    either end (`` b`` beside ``b``), empty, or holding a comma or a semicolon."""
    return repr(name) if name != name.strip() or not name or "," in name or ";" in name else name


class NotNumericError(SoftnormError):
    def __init__(self, column: str, row: int, value: str):
        super().__init__(f"column {column!r}, row {row}: {value!r} is not a number{not_a_number_hint(value)}")


#: A number written with a decimal comma (``1,85``, ``-,5``), as a regular expression.
DECIMAL_COMMA = r"[+-]?[0-9]*,[0-9]+"
#: A hint to add to a message about such a number.
DECIMAL_COMMA_HINT = " (for decimal commas use --decimal-comma)"
#: Cells that usually mean "no value" in exports, beyond the default markers.
_MARKER_WORDS = {"na", "n.a.", "nil", "none", "missing", "unknown", "empty", "#value!", "#div/0!", "#ref!", "#num!"}


def not_a_number_hint(value: str) -> str:
    """What to try when ``value`` is not a number: decimal commas, or a missing-value marker."""
    text = value.strip()
    if re.fullmatch(DECIMAL_COMMA, text):
        return DECIMAL_COMMA_HINT
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


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is about the input or the request (one line, exit 1) rather than a bug (a traceback).

    The table libraries' own errors count: they are raised by what they were given to read.
    """
    if isinstance(exc, (SoftnormError, OSError, UnicodeDecodeError)):
        return True
    # Looked up, not imported: an error from a library that was never loaded is no such error.
    polars = sys.modules.get("polars")
    pyarrow = sys.modules.get("pyarrow")
    return (polars is not None and isinstance(exc, polars.exceptions.PolarsError)) or (
        pyarrow is not None and isinstance(exc, pyarrow.ArrowException)
    )


def one_line(exc: BaseException) -> str:
    """``exc`` as one line for people: an OS error as ``path: reason``, anything else its first line."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}"
    text = str(exc).strip().splitlines()
    return " ".join(text[0].split()) if text else type(exc).__name__


def install_hint(extra: str, packages: str) -> str:
    """The command that adds softnorm's optional ``extra`` (the pip requirement ``packages``),
    for the way softnorm itself was installed.

    ``pip install 'softnorm[extra]'`` asks the package index for softnorm, which
    only works for an install from the index. An install from a directory, a
    repository or an archive records where it came from (PEP 610's
    ``direct_url.json``): an editable checkout gets the extra from itself,
    anything else gets the packages alone.
    """
    import json
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    try:
        recorded = metadata.distribution("softnorm").read_text("direct_url.json")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return f"pip install '{packages}'"
    if not recorded:
        return f"pip install 'softnorm[{extra}]'"
    try:
        origin = json.loads(recorded)
    except ValueError:
        origin = {}
    url = origin.get("url", "")
    if origin.get("dir_info", {}).get("editable") and url.startswith("file://"):
        return f"pip install -e '{unquote(urlparse(url).path)}[{extra}]'"
    return f"pip install '{packages}'"

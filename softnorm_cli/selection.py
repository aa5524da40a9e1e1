"""Which columns to normalize: the ones named, or the numeric ones, and why the others are not.

Automatic selection looks at the first rows (a sample) and says what it did:
every column it leaves out gets a reason, and a column that is left out
although most of its values are numbers gets a warning naming the first value
that is not, because that is usually a missing-value marker softnorm does
not know.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import polars as pl

from softnorm_cli.errors import ColumnNotFoundError, SoftnormError, not_a_number_hint
from softnorm_cli.values import Numbers, is_number_type, parse_text

# Integers written with leading zeros (zip codes, ids such as 007) are labels.
_LEADING_ZERO = r"^\s*[+-]?0[0-9]+\s*$"
#: A column left out although at least this share of its values are numbers is warned about.
MOSTLY_NUMBERS = 0.5


@dataclass
class Selection:
    """The columns to normalize, in order; the columns left out, each with its reason; warnings."""

    columns: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def select(
    sample: pl.DataFrame,
    patterns: Sequence[str] = (),
    exclude: Sequence[str] = (),
    numbers: Numbers = Numbers(),
    typed: bool = False,
    labels: Collection[str] = (),
) -> Selection:
    """Choose columns from ``sample``: those ``patterns`` name, else every numeric one; minus ``exclude``.

    ``typed``: the columns have real types (Parquet), so text is text; else
    a text column is numeric when its present cells all parse as numbers and
    are not zero-padded integers. ``labels`` are row labels (an index), never
    chosen automatically.
    """
    names = sample.columns
    if patterns:
        selection = Selection(matching(names, patterns))
    else:
        selection = Selection([])
        for name in names:
            reason, warning = _why_not(sample.get_column(name), typed, name in labels, numbers)
            if reason is None:
                selection.columns.append(name)
            else:
                selection.skipped[name] = reason
            if warning:
                selection.warnings.append(warning)
    if exclude:
        excluded = set(matching(names, exclude, globs_may_miss=True))
        selection.columns = [name for name in selection.columns if name not in excluded]
        selection.skipped.update((name, "excluded by --exclude") for name in names if name in excluded)
    return selection


def matching(names: Sequence[str], patterns: Sequence[str], globs_may_miss: bool = False) -> list[str]:
    """The columns named by ``patterns`` (names, comma lists or globs), in order, once each."""
    present = set(names)
    chosen: list[str] = []
    seen: set[str] = set()
    # A whole value that is a column name wins, so names with commas still work.
    specs = [[spec] if spec in present else [p.strip() for p in spec.split(",")] for spec in patterns]
    for pattern in (p for parts in specs for p in parts):
        if pattern in present:
            matches = [pattern]
        elif not pattern:
            continue
        elif any(ch in pattern for ch in "*?["):
            matches = fnmatch.filter(names, pattern)
            if not matches and not globs_may_miss:
                raise SoftnormError(f"no column matches {pattern!r} (columns are: {_shown(names)})")
        else:
            raise ColumnNotFoundError(pattern, list(names))
        for match in matches:
            if match not in seen:
                seen.add(match)
                chosen.append(match)
    return chosen


def _shown(names: Sequence[str]) -> str:
    return ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")


def _why_not(column: pl.Series, typed: bool, label: bool, numbers: Numbers) -> tuple[str | None, str | None]:
    """Why ``column`` is not normalized automatically (None: it is), and a warning if that may surprise."""
    if label:
        return "row labels (an index)", None
    dtype = column.dtype
    if dtype == pl.Null:
        return "no values", None
    if dtype != pl.String:
        return (None, None) if is_number_type(dtype) else (f"type {dtype}", None)
    if typed:
        return "text", None
    values, failed = parse_text(column, numbers)
    present = values.fill_nan(None).count() + int(failed.sum())
    if present == 0:
        return "no values", None
    if failed.any():
        index = failed.arg_true()[0]
        value, row = column[index], index + 1
        share = 1 - failed.sum() / present
        warning = None
        if share >= MOSTLY_NUMBERS:
            warning = (
                f"column {column.name!r} is not normalized: row {row} holds {value!r}, not a number, "
                f"though {share:.0%} of its values are numbers{not_a_number_hint(value)}"
            )
        return f"not numbers ({value!r}, row {row})", warning
    zero_padded = column.str.contains(_LEADING_ZERO)
    if zero_padded.any():
        return f"identifiers with leading zeros ({column.filter(zero_padded)[0].strip()!r})", None
    return None, None

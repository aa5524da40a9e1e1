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

from softnorm_cli.engine.values import Numbers, is_number_type, parsed
from softnorm_cli.errors import ColumnNotFoundError, SoftnormError, not_a_number_hint
from softnorm_cli.io.base import Reader

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


def choose_columns(
    source: Reader,
    patterns: Sequence[str],
    exclude: Sequence[str] = (),
    numbers: Numbers = Numbers(),
    keys: Sequence[str] = (),
    required: bool = True,
) -> Selection:
    """The columns to normalize in ``source``, chosen from its first rows; group ``keys`` never are.

    ``required``: rows without a numeric column to normalize are an error
    (for ``stats``, which only describes, they are not).
    """
    sample = source.sample()
    for name in keys:
        if name not in sample.columns:
            raise ColumnNotFoundError(name, sample.columns)
    selection = select(sample, patterns, exclude, numbers, typed=source.typed, labels=source.labels, keys=keys)
    if required and not selection.columns and sample.height:
        skipped = "; ".join(f"{name}: {why}" for name, why in list(selection.skipped.items())[:5])
        raise SoftnormError(
            f"{source.name}: no numeric column to normalize; name columns with -c"
            + (f" (left out: {skipped})" if skipped else "")
        )
    return selection


def select(
    sample: pl.DataFrame,
    patterns: Sequence[str] = (),
    exclude: Sequence[str] = (),
    numbers: Numbers = Numbers(),
    typed: bool = False,
    labels: Collection[str] = (),
    keys: Collection[str] = (),
) -> Selection:
    """Choose columns from ``sample``: those ``patterns`` name, else every numeric one; minus ``exclude``.

    ``typed``: the columns have real types (Parquet), so text is text; else
    a text column is numeric when its present cells all parse as numbers and
    are not zero-padded integers. ``labels`` are row labels (an index) and
    ``keys`` the group keys: never chosen automatically, and keys not at all.
    """
    names = sample.columns
    if patterns:
        selection = Selection(matching(names, patterns))
        clash = next((name for name in selection.columns if name in keys), None)
        if clash is not None:
            raise SoftnormError(f"column {clash!r} is a group key (-g); it cannot be normalized as well")
    else:
        selection = Selection([])
        for name, (reason, warning) in _why_not(sample, typed, set(labels), set(keys), numbers).items():
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


def _why_not(
    sample: pl.DataFrame, typed: bool, labels: set[str], keys: set[str], numbers: Numbers
) -> dict[str, tuple[str | None, str | None]]:
    """Per column, why it is not normalized automatically (None: it is), and a warning if that may surprise.

    Text columns are judged in one polars query, so that a table of 100,000
    columns costs no more than its cells.
    """
    verdicts: dict[str, tuple[str | None, str | None]] = {}
    by_type: dict[pl.DataType, tuple[str | None, str | None] | None] = {}  # a table has few types
    text = []
    for name, dtype in zip(sample.columns, sample.dtypes):
        if name in keys:
            verdicts[name] = ("group key (-g)", None)
        elif name in labels:
            verdicts[name] = ("row labels (an index)", None)
        else:
            if dtype not in by_type:
                by_type[dtype] = _type_verdict(dtype, typed)
            verdict = by_type[dtype]
            if verdict is None:
                verdicts[name] = ("no values", None)  # until its cells say otherwise
                text.append(name)
            else:
                verdicts[name] = verdict
    if text:
        for name, *figures in _text_figures(sample, text, numbers).iter_rows():
            verdicts[name] = _text_verdict(sample, name, *figures)
    return verdicts


def _type_verdict(dtype: pl.DataType, typed: bool) -> tuple[str | None, str | None] | None:
    """A column's verdict by its type alone, or None for text whose cells decide."""
    if dtype == pl.Null:
        return "no values", None
    if dtype != pl.String:
        return (None, None) if is_number_type(dtype) else (f"type {dtype}", None)
    return ("text", None) if typed else None


def _text_figures(sample: pl.DataFrame, names: list[str], numbers: Numbers) -> pl.DataFrame:
    """Per text column: numbers present, cells that are not numbers, the first of those, a zero-padded integer.

    The columns are stacked into one long column first, so that the work
    grows with the cells, not with a query per column.
    """
    cells = (sample[names] if len(names) < sample.width else sample).unpivot(variable_name="column", value_name="cell")
    cell = pl.col("cell")
    values, failed = parsed(cell, numbers)
    return cells.group_by("column", maintain_order=True).agg(
        values.fill_nan(None).count().alias("numbers"),
        failed.sum().alias("failures"),
        failed.arg_true().first().alias("first_failure"),
        cell.filter(cell.str.contains(_LEADING_ZERO)).first().alias("zero_padded"),
    )


def _text_verdict(
    sample: pl.DataFrame, name: str, present_numbers: int, failures: int, first_failure: int | None, zero_padded: str | None
) -> tuple[str | None, str | None]:
    present = present_numbers + failures
    if present == 0:
        return "no values", None
    if failures:
        value, row = sample.get_column(name)[first_failure], first_failure + 1
        share = 1 - failures / present
        warning = None
        if share >= MOSTLY_NUMBERS:
            warning = (
                f"column {name!r} is not normalized: row {row} holds {value!r}, not a number, "
                f"though {share:.0%} of its values are numbers{not_a_number_hint(value)}"
            )
        return f"not numbers ({value!r}, row {row})", warning
    if zero_padded is not None:
        return f"identifiers with leading zeros ({zero_padded.strip()!r})", None
    return None, None

"""Which columns to normalize: the ones named, or the numeric ones, and why the others are not.

Automatic selection looks at the first rows (a sample) and says what it did:
every column it leaves out gets a reason, and a column that is left out
although most of its values are numbers gets a warning naming the first value
that is not, because that is usually a missing-value marker softnorm does
not know.

Integer columns are judged by their shape in the sample too: distinct
integers in strictly increasing order (row numbers, running ids) are
identifiers and left out, and a few distinct integers that recur (classes,
cylinders, years) are codes more often than quantities: normalized, with a
warning. The sample alone decides, so the look is one pass over it whatever
the file's size; a file whose ids stop increasing after its first rows is
still taken for ids.
"""

from __future__ import annotations

import fnmatch
import shlex
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import polars as pl

from softnorm_cli.engine.values import PLAIN_INTEGER, Numbers, is_number_type, parsed, plain, type_name
from softnorm_cli.errors import (
    DECIMAL_COMMA,
    DECIMAL_COMMA_HINT,
    ColumnNotFoundError,
    SoftnormError,
    column_list,
    column_name,
    not_a_number_hint,
)
from softnorm_cli.io.base import Reader

# Integers written with leading zeros (zip codes, ids such as 007) are labels.
_LEADING_ZERO = r"^\s*[+-]?0[0-9]+\s*$"
_DECIMAL_COMMA = rf"^\s*{DECIMAL_COMMA}\s*$"
#: A column left out although at least this share of its values are numbers is warned about.
MOSTLY_NUMBERS = 0.5
#: An integer column of at most this many distinct values, each seen twice on average, is warned about;
#: an identifier column needs more values than this for its order to mean something.
FEW_DISTINCT = 10
IDENTIFIERS = "identifiers (unique integers in order)"


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
        skipped = "; ".join(f"{column_name(name)}: {why}" for name, why in list(selection.skipped.items())[:5])
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
    warnings: dict[str, str] = {}
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
                warnings[name] = warning
    if exclude:
        excluded = set(matching(names, exclude, globs_may_miss=True))
        selection.columns = [name for name in selection.columns if name not in excluded]
        selection.skipped.update((name, "excluded by --exclude") for name in names if name in excluded)
        # A column the user left out is what a warning about it would have asked for.
        warnings = {name: warning for name, warning in warnings.items() if name not in excluded}
    selection.warnings = list(warnings.values())
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
                raise SoftnormError(f"no column matches {pattern!r} (columns are: {column_list(names)})")
        else:
            raise ColumnNotFoundError(pattern, list(names))
        for match in matches:
            if match not in seen:
                seen.add(match)
                chosen.append(match)
    return chosen


def _why_not(
    sample: pl.DataFrame, typed: bool, labels: set[str], keys: set[str], numbers: Numbers
) -> dict[str, tuple[str | None, str | None]]:
    """Per column, why it is not normalized automatically (None: it is), and a warning if that may surprise.

    Text columns are judged in one polars query, so that a table of 100,000
    columns costs no more than its cells.
    """
    verdicts: dict[str, tuple[str | None, str | None]] = {}
    by_type: dict[pl.DataType, tuple[str | None, str | None] | None] = {}  # a table has few types
    text, integers = [], []
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
                if dtype.is_integer():
                    integers.append(name)
    if text:
        for name, *figures in _text_figures(sample, text, numbers).iter_rows():
            verdicts[name] = _text_verdict(sample, name, *figures)
    if integers:
        for name, *figures in _integer_figures(sample, integers).iter_rows():
            verdicts[name] = _shape_verdict(name, *figures)
    return verdicts


def _type_verdict(dtype: pl.DataType, typed: bool) -> tuple[str | None, str | None] | None:
    """A column's verdict by its type alone, or None for text whose cells decide."""
    if dtype == pl.Null:
        return "no values", None
    if dtype != pl.String:
        return (None, None) if is_number_type(dtype) else (f"type {type_name(dtype)}", None)
    return ("text", None) if typed else None


def _text_figures(sample: pl.DataFrame, names: list[str], numbers: Numbers) -> pl.DataFrame:
    """Per text column: numbers present, cells that are not numbers, the first of those, a zero-padded integer,
    and the cells that are numbers with a decimal comma (without --decimal-comma) and the first of those.

    The columns are stacked into one long column first, so that the work
    grows with the cells, not with a query per column.
    """
    cells = (sample[names] if len(names) < sample.width else sample).unpivot(variable_name="column", value_name="cell")
    cell = pl.col("cell")
    values, failed = parsed(cell, numbers)
    decimal_comma = pl.lit(False) if numbers.decimal_comma else cell.str.contains(_DECIMAL_COMMA) & failed
    digits = plain(cell, numbers)[0]  # 1.234 with --thousands . is a plain integer
    return cells.group_by("column", maintain_order=True).agg(
        values.fill_nan(None).count().alias("numbers"),
        failed.sum().alias("failures"),
        failed.arg_true().first().alias("first_failure"),
        cell.filter(digits.str.contains(_LEADING_ZERO)).first().alias("zero_padded"),
        decimal_comma.sum().alias("decimal_commas"),
        decimal_comma.arg_true().first().alias("first_decimal_comma"),
        digits.str.contains(PLAIN_INTEGER).sum().alias("integers"),  # zero-padded ones are caught before
        *_shape(values.fill_nan(None)),
    )


def _integer_figures(sample: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Per integer-typed column: values present, distinct values, the least step from one to the next."""
    cells = sample.select(pl.col(names).cast(pl.Int64, strict=False)).unpivot(variable_name="column", value_name="cell")
    return cells.group_by("column", maintain_order=True).agg(pl.col("cell").count().alias("numbers"), *_shape(pl.col("cell")))


def _shape(values: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    present = values.drop_nulls()
    return present.n_unique().alias("distinct"), present.diff().min().alias("least_step")


def _text_verdict(
    sample: pl.DataFrame,
    name: str,
    present_numbers: int,
    failures: int,
    first_failure: int | None,
    zero_padded: str | None,
    decimal_commas: int,
    first_decimal_comma: int | None,
    integers: int,
    distinct: int,
    least_step: float | None,
) -> tuple[str | None, str | None]:
    present = present_numbers + failures
    if present == 0:
        return "no values", None
    if decimal_commas and (present_numbers + decimal_commas) / present >= MOSTLY_NUMBERS:
        # Numbers to the eye: said even when none of them parses, as no other warning would be.
        value, row = sample.get_column(name)[first_decimal_comma], first_decimal_comma + 1
        reason = f"numbers with decimal commas ({value!r}, row {row}; use --decimal-comma)"
        warning = f"column {name!r} is not normalized: row {row} holds {value!r}, a number with a decimal comma"
        return reason, warning + DECIMAL_COMMA_HINT
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
    if integers == present_numbers:
        return _shape_verdict(name, present_numbers, distinct, least_step)
    return None, None


def _shape_verdict(name: str, present: int, distinct: int, least_step: float | None) -> tuple[str | None, str | None]:
    """The verdict on an integer column by the shape of its values: identifiers, codes, or quantities."""
    if present > FEW_DISTINCT and least_step is not None and least_step > 0:
        return IDENTIFIERS, None
    # A single value is left to the method, which warns of a constant column.
    if 1 < distinct <= FEW_DISTINCT and present >= 2 * distinct:
        return None, (
            f"column {name!r} holds only {distinct} distinct integers, perhaps codes or "
            f"categories; it is normalized (leave it out with --exclude {shlex.quote(name)})"
        )
    return None, None

"""The command line's options: types that check values as they are parsed, and the
option groups the commands share, each under its heading of ``--help``.

The values a method or a job takes are checked by the tables of
:mod:`softnorm_cli.numeric.parameters`, the very checks the Python API
makes, so a usage error says what ``ValueError`` says. Kept free of heavy
imports: ``softnorm --help`` must not load numpy or polars.
"""

from __future__ import annotations

import functools

import click

from softnorm_cli.cli.completion import complete_columns
from softnorm_cli.cli.help import ENGINE, GROUPS, INPUT, OUTPUT, PARAMETERS, HeadedArgument, HeadedOption
from softnorm_cli.io.base import STDIO
from softnorm_cli.io.formats import FORMATS
from softnorm_cli.numeric import parameters
from softnorm_cli.numeric.parameters import Constraint, OneOf

FORMAT_CHOICE = click.Choice(FORMATS, case_sensitive=False)
# Kept here, not imported: the command line must not load polars to show --help.
PARQUET_COMPRESSIONS = ("snappy", "zstd", "lz4", "gzip", "brotli", "uncompressed")


class Checked(click.ParamType):
    """A value parsed from its text by ``parse`` and checked by the constraint of the parameter ``name``."""

    def __init__(self, name: str, constraint: Constraint, parse=float, metavar: str | None = None):
        self.name = metavar or (("|".join(constraint.accepted())) if isinstance(constraint, OneOf) else name.upper())
        self._parameter = name
        self._constraint = constraint
        self._parse = parse

    def convert(self, value, param, ctx):
        if isinstance(value, str) and self._parse is not str:
            try:
                value = self._parse(value)
            except ValueError:
                self.fail(f"{self._parameter} must be {self._constraint.describe()}, got {value!r}", param, ctx)
        try:
            return self._constraint.check(self._parameter, value)
        except ValueError as e:
            self.fail(str(e), param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem

        if not isinstance(self._constraint, OneOf):
            return []
        return [CompletionItem(c) for c in self._constraint.choices if c.startswith(incomplete)]


def _pair(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(","))


def checked(table: dict[str, Constraint], name: str, parse=float, metavar: str | None = None) -> Checked:
    """The option type of parameter ``name`` of ``table``."""
    return Checked(name, table[name], parse, metavar)


def _delimiter(ctx, param, value):
    if value is None:
        return None
    value = {"\\t": "\t", "tab": "\t"}.get(value, value)
    if len(value) != 1:
        raise click.BadParameter(f"must be one character, got {value!r}")
    return value


class BatchSizeType(click.ParamType):
    """``N`` rows, or a size of input such as ``64MB``: returns ``(rows, bytes)``."""

    name = "SIZE"
    _UNITS = {"": None, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30}

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip().lower()
        digits = text.rstrip("kmgb")
        unit = self._UNITS.get(text[len(digits):])
        if not digits.isdigit() or int(digits) < 1 or (unit is None and text[len(digits):]):
            self.fail(f"{value!r} is neither a number of rows nor a size like 64MB", param, ctx)
        return (int(digits), None) if unit is None else (None, int(digits) * unit)


def _sheet(ctx, param, value):
    """A sheet's name, or its 1-based number."""
    if value is None:
        return None
    if value.isdigit():
        if int(value) < 1:
            raise click.BadParameter("sheets are numbered from 1")
        return int(value)
    return value


def _separator(ctx, param, value):
    """A thousands separator: one character that is not a digit, a sign or a letter."""
    if value is None:
        return None
    value = {"space": " ", "'": "'"}.get(value, value)
    if len(value) != 1 or value.isalnum() or value in "+-":
        raise click.BadParameter(f"must be one character such as . , ' or a space, got {value!r}")
    return value


def _na_values(ctx, param, value):
    if value is None:
        return None
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def _encoding(ctx, param, value):
    if value is None:
        return None
    import codecs

    try:
        return codecs.lookup(value).name
    except LookupError:
        raise click.BadParameter(f"unknown encoding {value!r}") from None


def _percentiles(ctx, param, value):
    """A comma list of percentiles, each from 0 to 100, in the order given (repeats dropped)."""
    if value is None:
        return ()
    try:
        numbers = [float(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"must be a comma list of numbers from 0 to 100, got {value!r}") from None
    wrong = [n for n in numbers if not 0 <= n <= 100]
    if wrong or not numbers:
        raise click.BadParameter(f"must be a comma list of numbers from 0 to 100, got {value!r}")
    return tuple(dict.fromkeys(numbers))


quantiles_option = click.option(
    "--quantiles", callback=_percentiles, metavar="LIST",
    help="Also the percentiles in LIST (comma list from 0 to 100, such as 1,25,50,75,99), exact, as numpy's "
    "nanpercentile gives them; the input is then read twice (more if values crowd), and the percentiles are of "
    "the whole table, not of each group.",
)


def _names(ctx, param, value):
    """Repeatable comma lists as one tuple of names (a name with a comma needs its own option)."""
    return tuple(part.strip() for item in value for part in item.split(",") if part.strip())


def _options(*decorators):
    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def _under(heading: str):
    """``click.option`` for options listed under ``heading`` in ``--help``."""
    return functools.partial(click.option, cls=HeadedOption, heading=heading)


_input, _output, _groups, _parameters, _engine = map(_under, (INPUT, OUTPUT, GROUPS, PARAMETERS, ENGINE))


def _input_options(writes: bool):
    """The options of reading the input; ``writes``: the command also writes a table, as the input came."""

    def also(text: str) -> str:  # what the option also does to the output
        return text if writes else ""

    return _options(
        click.argument(
            "input", default=STDIO, type=click.Path(dir_okay=True, allow_dash=True), cls=HeadedArgument, heading=INPUT,
            help="A CSV, TSV or Parquet file; '-' (the default) for stdin"
            + ("; a glob, a directory or a URL of parts." if writes else "."),
        ),
        _input(
            "-c", "--cols", "columns", multiple=True, metavar="COLS", shell_complete=complete_columns,
            help=f"Columns to {'normalize' if writes else 'describe'}: names, comma lists or globs ('feat_*'). "
            "Repeatable. Default: every numeric column.",
        ),
        _input("--exclude", multiple=True, metavar="COLS", shell_complete=complete_columns,
               help="Columns to leave alone, with or without -c: names, comma lists or globs."),
        _input("--from", "from_format", type=FORMAT_CHOICE, metavar="FORMAT",
               help="Input format: " + ", ".join(FORMATS) + ". Default: by content (Parquet, Arrow, Excel, JSON, compression), else by extension, else csv."),
        _input("--sheet", callback=_sheet, metavar="SHEET",
               help="The sheet of a workbook to read, by name or number (1 is the first). Default: the first."),
        _input("--delimiter", callback=_delimiter, metavar="CHAR",
               help=f"Field delimiter of CSV/TSV input{also(' and output')} ('\\t' for tab). Default: tab for TSV, else guessed from the first lines among , ; tab |."),
        _input("--no-header", is_flag=True,
               help=f"The input has no header row: its columns are named 1, 2, 3, ...{also(', and no header is written.')}"),
        _input("--skip-rows", type=click.IntRange(min=0), default=0, metavar="N", help="Skip N lines before the header (a title line, say)."),
        _input("--encoding", callback=_encoding, metavar="NAME",
               help=f"Text encoding of the input (latin-1, cp1252, utf-16, ...). Default: UTF-8.{also(' The output is UTF-8 unless --output-encoding says otherwise.')}"),
        _input("--decimal-comma", is_flag=True,
               help=f"Numbers use a decimal comma (1,5){also(', in the input and in the written results')}."),
        _input("--thousands", callback=_separator, metavar="CHAR",
               help=f"Numbers group their thousands with CHAR (1.234,50 with --decimal-comma; 1,234.50 with --delimiter ';'){also(', in the input; --output-thousands writes results so')}."),
        _input("--na-values", callback=_na_values, metavar="LIST",
               help="Comma list of cells that mean a missing value, replacing the default NA,N/A,n/a,NaN,nan,-nan,NULL,null,None,<NA>,#N/A. An empty cell is always missing."),
        _input("--batch-rows", "batch", type=BatchSizeType(), metavar="SIZE",
               help="Rows per batch (100000), or input bytes per batch (64MB): less memory, or fewer, larger batches. Default: 8MB."),
    )


input_options = _input_options(writes=True)
#: The input options of a command that only reads (stats), worded for it.
read_options = _input_options(writes=False)

output_options = _options(
    _output("-o", "--output", default=STDIO, type=click.Path(allow_dash=True), metavar="PATH",
            help="Output file; DIR/ (or an existing directory of parts) writes one part per input part. Default: stdout."),
    _output("--to", "to_format", type=FORMAT_CHOICE, metavar="FORMAT",
            help="Output format: " + ", ".join(FORMATS) + " (xlsx). Default: by the extension of -o, else the input's format."),
    _output("--line-terminator", type=click.Choice(["lf", "crlf"], case_sensitive=False), default="lf", show_default=True,
            metavar="ENDS", help="Line ends of text output (CSV, TSV, JSON): lf, or crlf as Windows programs write them."),
    _output("--output-encoding", callback=_encoding, metavar="NAME",
            help="Encoding of text output (cp1252, latin-1, utf-8-sig, utf-16, ...); a character it cannot hold is an error in CSV/TSV, an escape in JSON. Default: UTF-8."),
    _output("--output-thousands", callback=_separator, metavar="CHAR",
            help="Write the results in CSV/TSV with CHAR between groups of thousands (1.234,5 with --decimal-comma); other columns stay as they came."),
    _output("--compression", type=click.Choice(PARQUET_COMPRESSIONS), default="snappy", show_default=True, metavar="CODEC",
            help="Compression of Parquet output: " + ", ".join(PARQUET_COMPRESSIONS[:-1]) + f" or {PARQUET_COMPRESSIONS[-1]}"
            + " (Arrow output: zstd or lz4, else none)."),
    _output("--suffix", metavar="TEXT", help="Keep the original columns and append the results as {col}{TEXT}."),
    _output("--decimals", type=checked(parameters.JOB, "decimals", metavar="N"), help="Round results to N decimals (half to even)."),
    _output("--summary/--no-summary", default=None, help="Show the summary on stderr. Default: when stderr is a terminal."),
    _output("-q", "--quiet", is_flag=True, help="No summary and no warnings."),
    _output("--summary-json", type=click.Path(dir_okay=False, allow_dash=True), metavar="PATH",
            help="Write the summary figures as JSON to PATH ('-': stdout, when the data goes to -o)."),
    _output("--in-place", is_flag=True, help="Replace INPUT with the result (atomically)."),
)


def nan_option():
    return click.option(
        "--nan", type=checked(parameters.SOFTMAX, "nan", str), default="omit", show_default=True, metavar="MODE",
        help="Missing values: omit them from the statistics, propagate them to the whole group, or raise an error.",
    )


def inf_option(table: dict[str, Constraint], meaning: str):
    """``--inf``: the modes of ``table``, which ``meaning`` describes in their order."""
    default = table["inf"].choices[0]
    return click.option("--inf", type=checked(table, "inf", str), default=default, show_default=True, metavar="MODE",
                        help=f"Infinite values: {meaning}.")


def range_option():
    return click.option(
        "--range", "feature_range", type=Checked("feature_range", parameters.FEATURE_RANGE, _pair, "LO,HI"),
        default="0,1", show_default=True, help="Target range LO,HI with LO < HI.",
    )


def quantile_range_option():
    return click.option(
        "--quantile-range", "quantile_range", type=Checked("quantile_range", parameters.QUANTILE_RANGE, _pair, "LO,HI"),
        default="25,75", show_default=True,
        help="The percentiles whose distance is the scale, LO,HI from 0 to 100 with LO < HI (25,75: the interquartile range).",
    )


def axis_option(default: str):
    return _groups(
        "--axis", type=checked(parameters.JOB, "axis", str), default=default, show_default=True, metavar="AXIS",
        help="row: normalize each row over the columns; column: each column over the rows; all: all values as one group.",
    )


def _group_option(help: str):
    return _groups("-g", "--group-by", "group_by", multiple=True, callback=_names, metavar="KEYS",
                   shell_complete=complete_columns, help=help)


group_option = _group_option(
    "Normalize within each group of rows sharing the values of these columns (comma list); "
    "needs --axis column or all. A missing key is a group of its own."
)
stats_group_option = _group_option(
    "Also give the figures of each group of rows sharing the values of these columns (comma list). "
    "A missing key is a group of its own."
)

params_options = _options(
    _parameters("--save-params", type=click.Path(dir_okay=False), metavar="FILE",
                help="Also write the fitted statistics and options as JSON to FILE, to apply them to other data."),
    _parameters("--params", type=click.Path(dir_okay=False), metavar="FILE",
                help="Apply the statistics of a --save-params FILE instead of fitting; the options come from FILE."),
    _parameters("--fit-only", is_flag=True, help="With --save-params: only fit and write FILE, no data output."),
    _parameters("--inverse", is_flag=True, help="With --params: map normalized values back to the original ones."),
    _parameters("--unseen", type=checked(parameters.JOB, "unseen", str), default="error", show_default=True, metavar="MODE",
                help="With --params: a group missing from FILE is an error, or its rows get missing results (nan)."),
)


engine_options = _options(
    _engine("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True, metavar="ENGINE",
            envvar="SOFTNORM_ENGINE", show_envvar=True,
            help="Where the work runs: local, in this process, or dask, on a Dask cluster (the dask extra)."),
    _engine("--scheduler", metavar="ADDRESS", envvar="SOFTNORM_SCHEDULER", show_envvar=True,
            help="With --engine dask: the scheduler to run on (tcp://host:8786). Default: a local cluster on this machine."),
    _engine("--jobs", "-j", type=click.IntRange(min=1), metavar="N", envvar="SOFTNORM_JOBS", show_envvar=True,
            help="Local engine: worker processes for the partitions of large inputs. Default: the cores available; 1: this process alone."),
    _engine("--partition-size", type=BatchSizeType(), metavar="SIZE", default="128MB", show_default=True,
            help="A large file is read as partitions of about SIZE (Parquet: decoded; CSV: text), by several workers at once."),
)


def method_options(axis: str):
    """The options every normalizing command takes, its default ``axis`` given: input, output,
    axis, groups, saved parameters and engine, in the order ``--help`` lists them."""
    return _options(input_options, output_options, axis_option(axis), group_option, params_options, engine_options)

"""The ``softnorm`` command line: a thin Click layer over the engine.

Only Click is imported at start-up; numpy, polars and Rich load when a
command runs, so ``softnorm --help`` answers at once.
"""

from __future__ import annotations

import os
import sys

import click

from softnorm_cli import __version__
from softnorm_cli.choices import AXES, NAN_POLICIES, canonical_axis

STDIO = "-"
FORMAT_CHOICE = click.Choice(["csv", "tsv", "parquet"], case_sensitive=False)
# Kept here, not imported: the command line must not load polars to show --help.
PARQUET_COMPRESSIONS = ("snappy", "zstd", "lz4", "gzip", "brotli", "uncompressed")


class CommandError(click.ClickException):
    """A user error: one line on stderr, exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"softnorm: error: {self.format_message()}", err=True)


def warn(message: str) -> None:
    # click.echo, not a Rich console: a warning must stay one line, however long.
    click.echo(f"softnorm: warning: {message}", err=True)


class AxisType(click.ParamType):
    name = "row|column|all"

    def convert(self, value, param, ctx):
        try:
            return canonical_axis(value)
        except ValueError as e:
            self.fail(str(e), param, ctx)


class RangeType(click.ParamType):
    name = "LO,HI"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            lo, hi = (float(part) for part in value.split(","))
        except ValueError:
            self.fail(f"{value!r} is not two numbers LO,HI", param, ctx)
        if not lo < hi:
            self.fail(f"LO must be less than HI, got {value!r}", param, ctx)
        return lo, hi


def _delimiter(ctx, param, value):
    if value is None:
        return None
    value = {"\\t": "\t", "tab": "\t"}.get(value, value)
    if len(value) != 1:
        raise click.BadParameter(f"must be one character, got {value!r}")
    return value


class BatchSizeType(click.ParamType):
    """``N`` rows, or a size of input such as ``64MB``: returns ``(rows, bytes)``."""

    name = "N|SIZE"
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


def _options(*decorators):
    def apply(fn):
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


input_options = _options(
    click.argument("input", default=STDIO, type=click.Path(dir_okay=True, allow_dash=True)),
    click.option(
        "-c", "--cols", "columns", multiple=True, metavar="COLS",
        help="Columns to use: names, comma lists or globs ('feat_*'). Repeatable. Default: every numeric column.",
    ),
    click.option("--exclude", multiple=True, metavar="COLS", help="Columns to leave alone, with or without -c: names, comma lists or globs."),
    click.option("--from", "from_format", type=FORMAT_CHOICE,
                 help="Input format: csv or tsv for text (default: by extension); Parquet and compressed input are recognised by their content."),
    click.option("--delimiter", callback=_delimiter, metavar="CHAR",
                 help="Field delimiter for CSV/TSV input and output ('\\t' for tab). Default: tab for TSV, else guessed from the first lines among , ; tab |."),
    click.option("--no-header", is_flag=True, help="The input has no header row; columns are named 1, 2, 3, ... and no header is written."),
    click.option("--skip-rows", type=click.IntRange(min=0), default=0, metavar="N", help="Skip N lines before the header (a title line, say)."),
    click.option("--encoding", callback=_encoding, metavar="NAME", help="Text encoding of the input (latin-1, cp1252, utf-16, ...). Default: UTF-8. Output is UTF-8."),
    click.option("--decimal-comma", is_flag=True, help="Numbers use a decimal comma (1,5), in the input and in the written results."),
    click.option("--na-values", callback=_na_values, metavar="LIST",
                 help="Comma list of cells that mean a missing value, replacing the default NA,N/A,n/a,NaN,nan,-nan,NULL,null,None,<NA>,#N/A. An empty cell is always missing."),
    click.option("--batch-rows", "batch", type=BatchSizeType(), metavar="N|SIZE",
                 help="Rows per batch, or input bytes per batch (e.g. 64MB): less memory, or fewer, larger batches. Default: 8MB."),
)

output_options = _options(
    click.option("-o", "--output", default=STDIO, type=click.Path(dir_okay=False, allow_dash=True), help="Output file. Default: stdout."),
    click.option("--to", "to_format", type=FORMAT_CHOICE, help="Output format. Default: by the extension of -o, else the input's format."),
    click.option("--compression", type=click.Choice(PARQUET_COMPRESSIONS), default="snappy", show_default=True,
                 help="Compression of Parquet output."),
    click.option("--suffix", metavar="TEXT", help="Keep the original columns and append the results as {col}{TEXT}."),
    click.option("--nan", type=click.Choice(NAN_POLICIES), default="omit", show_default=True,
                 help="Missing values: omit from the statistics, propagate to the whole group, or raise an error."),
    click.option("--decimals", type=click.IntRange(min=0), metavar="N", help="Round results to N decimals (half to even)."),
    click.option("--summary/--no-summary", default=None, help="Show the summary on stderr. Default: when stderr is a terminal."),
    click.option("-q", "--quiet", is_flag=True, help="No summary and no warnings."),
    click.option("--summary-json", type=click.Path(dir_okay=False, allow_dash=True), metavar="PATH",
                 help="Write the summary figures as JSON to PATH ('-': stdout, when the data goes to -o)."),
    click.option("--in-place", is_flag=True, help="Replace INPUT with the result (atomically)."),
)


def _inf_option(default: str, choices: tuple[str, ...], meaning: str):
    return click.option("--inf", type=click.Choice(choices), default=default, show_default=True, help=f"Infinite values: {meaning}.")


def _axis_option(default: str):
    spellings = "|".join(s for names in AXES.values() for s in names)
    return click.option(
        "--axis", type=AxisType(), default=default, show_default=True,
        help=f"Normalize each row over the columns, each column over the rows, or all values as one group ({spellings}).",
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="softnorm")
def cli():
    """Normalize columns of CSV, TSV and Parquet tables: softmax, min-max, z-score.

    Reads a file or stdin, writes the result to stdout or -o FILE, and prints
    a summary on stderr. Run `softnorm COMMAND --help` for each command.

    \b
    Examples:
      softnorm softmax sample_data/logits.csv --cols cat,dog,bird
      cat data.csv | softnorm zscore -c price,qty > out.csv
      softnorm minmax features.parquet -o scaled.parquet
    """


@cli.command()
@input_options
@output_options
@_axis_option("row")
@click.option("-t", "--temperature", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True,
              help="Divide the shifted values by T > 0: above 1 flattens, below 1 sharpens.")
@click.option("--log", is_flag=True, help="Write log-softmax, computed stably.")
@_inf_option("limit", ("limit", "missing"), "take their limits (+inf entries share the mass), or treat them as missing")
def softmax(temperature, log, inf, **options):
    """Softmax: turn each row's scores into probabilities that sum to 1.

    y_i = exp((x_i - max) / T) / sum_j exp((x_j - max) / T)

    \b
    Example:
      $ softnorm softmax sample_data/logits.csv -c cat,dog,bird
      id,cat,dog,bird
      img_001,0.8400474523166905,0.11598471104632407,0.04396783663698536
      ...
    """
    from softnorm_cli.methods import Softmax

    _run(Softmax(temperature, log, options.pop("nan")), inf="keep" if inf == "limit" else inf, **options)


@cli.command()
@input_options
@output_options
@_axis_option("column")
@click.option("--range", "feature_range", type=RangeType(), default="0,1", show_default=True,
              help="Target range LO,HI with LO < HI.")
@_inf_option("error", ("error", "missing"), "stop with an error, or treat them as missing")
def minmax(feature_range, **options):
    """Min-max: scale each column linearly onto a range (default 0 to 1).

    y = lo + (x - min) * (hi - lo) / (max - min); a constant column becomes lo.

    \b
    Example:
      $ softnorm minmax sample_data/features.csv -c age,income --range -1,1
    """
    from softnorm_cli.methods import MinMax

    lo, hi = feature_range
    _run(MinMax(lo, hi, nan=options.pop("nan")), **options)


@cli.command()
@input_options
@output_options
@_axis_option("column")
@click.option("--ddof", type=click.IntRange(min=0), default=0, show_default=True,
              help="Delta degrees of freedom of the std (0: population, 1: sample).")
@_inf_option("error", ("error", "missing"), "stop with an error, or treat them as missing")
def zscore(ddof, **options):
    """Z-score: center each column on 0 and scale it to standard deviation 1.

    y = (x - mean) / std; a constant column becomes 0.

    \b
    Example:
      $ cat sample_data/features.csv | softnorm zscore -c income > scaled.csv
    """
    from softnorm_cli.methods import ZScore

    _run(ZScore(ddof, options.pop("nan")), **options)


@cli.command()
@input_options
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON on stdout.")
def stats(as_json, **options):
    """Statistics of columns: count, missing, min, max, mean, std, sum.

    Without -c it shows the columns the other commands would normalize,
    and why the others are left alone.

    \b
    Example:
      $ softnorm stats sample_data/features.csv --json
    """
    with _user_errors():
        from softnorm_cli.engine import describe
        from softnorm_cli.methods import ZScore
        from softnorm_cli.summary import json_text, render, stats_json

        source_options, job_options = _split(options)
        with _source(**source_options) as source, _progress(source, False) as progress:
            summary = describe(_job(ZScore(), "column", **job_options), source, progress)
        for line in summary.warnings:
            warn(line)
        if as_json:
            click.echo(json_text(stats_json(summary)))
        else:
            render(summary, _console(sys.stdout))


_SOURCE_OPTIONS = ("input", "from_format", "delimiter", "no_header", "skip_rows", "encoding", "decimal_comma", "na_values", "batch")
_JOB_OPTIONS = ("columns", "exclude", "decimal_comma", "na_values", "suffix", "decimals")


def _split(options: dict) -> tuple[dict, dict]:
    return {k: options[k] for k in _SOURCE_OPTIONS}, {k: options.pop(k) for k in _JOB_OPTIONS if k in options}


def _job(method, axis, columns, exclude, decimal_comma, na_values, inf="keep", suffix=None, decimals=None, figures=False):
    from softnorm_cli.engine import Job
    from softnorm_cli.values import Numbers

    numbers = Numbers(decimal_comma=decimal_comma) if na_values is None else Numbers(na_values, decimal_comma)
    return Job(method, axis, columns, exclude, numbers, inf, suffix, decimals, figures)


def _run(method, output, to_format, compression, summary, quiet, summary_json, in_place, axis, inf="error", **options):
    import time

    started = time.monotonic()
    source_options, job_options = _split(options)
    input = source_options["input"]
    if in_place:
        if input == STDIO:
            raise click.UsageError("--in-place needs an INPUT file, not stdin")
        if output != STDIO:
            raise click.UsageError("--in-place and -o cannot be used together")
        output = input
    elif output != STDIO and input != STDIO and _same_file(input, output):
        raise click.UsageError(f"-o {output} is the input file; use --in-place to replace it")
    if summary_json == STDIO and output == STDIO:
        raise click.UsageError("--summary-json - needs the data to go elsewhere: use -o FILE")
    from softnorm_cli.io.sniff import format_from_path

    if output != STDIO and not to_format and not format_from_path(output):
        raise click.UsageError(f"cannot tell the output format of {output!r} from its extension; use --to")

    with _user_errors():
        if summary_json and summary_json != STDIO:
            _check_writable(summary_json)
        from softnorm_cli import engine
        from softnorm_cli.io.sink import Sink

        show = not quiet and (summary if summary is not None else sys.stderr.isatty())
        job = _job(method, axis, inf=inf, figures=show or bool(summary_json), **job_options)
        with _source(**source_options) as source:
            layout = _layout(source, to_format or format_from_path(output), source_options, job_options, compression)
            with Sink(output, layout) as sink, _progress(source, quiet) as progress:
                fitted = engine.fit(job, source, progress)
                result = engine.apply(job, fitted, source, sink, progress)
            result.input, result.output = source.name, sink.name
        result.elapsed = time.monotonic() - started
        if not quiet:
            for line in result.warnings:
                warn(line)
        if summary_json:
            _write_json(summary_json, result.to_json())
        if show:
            from softnorm_cli.summary import render

            render(result, _console(sys.stderr))


def _source(input, from_format, delimiter, no_header, skip_rows, encoding, decimal_comma, na_values, batch):
    from softnorm_cli.io.source import NA_VALUES, BatchSize, Dialect, open_source

    rows, size = batch or (None, None)
    batch_size = BatchSize(rows=rows) if size is None else BatchSize(bytes=size)
    dialect = Dialect(
        delimiter, not no_header, encoding, decimal_comma, skip_rows, NA_VALUES if na_values is None else na_values
    )
    return open_source(input, from_format and from_format.lower(), dialect, batch_size)


def _layout(source, fmt: str | None, source_options: dict, job_options: dict, compression: str):
    """How to write the output: CSV keeps the input's delimiter, TSV is tab-separated."""
    from softnorm_cli.io.sink import Layout

    fmt = (fmt or source.format).lower()
    delimiter = source_options["delimiter"]
    if delimiter is None:
        delimiter = "\t" if fmt == "tsv" else (source.delimiter if source.format == fmt == "csv" else ",")
    return Layout(
        fmt, delimiter, not source_options["no_header"], job_options["decimal_comma"],
        metadata=source.metadata if fmt == "parquet" else {},
        compression=compression,
    )


def _check_writable(path: str) -> None:
    """Fail before the work, not after it, when a file cannot be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise OSError(2, "No such directory", path)
    if not os.access(path if os.path.exists(path) else folder, os.W_OK):
        raise OSError(13, "Permission denied", path)


def _write_json(path: str, data: dict) -> None:
    from softnorm_cli.summary import json_text

    text = json_text(data) + "\n"
    if path == STDIO:
        click.echo(text, nl=False)
        return
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _progress(source, quiet: bool):
    """A progress bar on stderr when it is a terminal, else a no-op; usable as a context manager."""
    if quiet or not sys.stderr.isatty():
        import contextlib

        return contextlib.nullcontext(None)
    from softnorm_cli.progress import BatchProgress

    return BatchProgress(source, _console(sys.stderr))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _console(file):
    from rich.console import Console

    # A console that is not a terminal would fold the table at 80 columns.
    return Console(file=file, width=None if file.isatty() else 120)


class _user_errors:
    """Turn the errors a user can fix into one line and exit 1; a closed stdout ends quietly."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, click.ClickException):
            return False
        if _is_broken_pipe(exc):
            # The reader went away (`softnorm ... | head`): not an error. Point
            # stdout at /dev/null so the final flush cannot complain either.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(0)
        if not _is_user_error(exc):
            return False
        if os.environ.get("SOFTNORM_DEBUG"):
            import traceback

            traceback.print_exception(exc_type, exc, tb)
        raise CommandError(_one_line(exc)) from exc


def _is_user_error(exc: BaseException) -> bool:
    from softnorm_cli.errors import SoftnormError

    if isinstance(exc, (SoftnormError, OSError, UnicodeDecodeError)):
        return True
    polars = sys.modules.get("polars")
    pyarrow = sys.modules.get("pyarrow")
    return (polars is not None and isinstance(exc, polars.exceptions.PolarsError)) or (
        pyarrow is not None and isinstance(exc, pyarrow.ArrowException)
    )


def _is_broken_pipe(exc: BaseException) -> bool:
    """Whether ``exc`` comes from writing to a pipe nobody reads any more.

    Decided by the error number (EPIPE) anywhere in the chain of causes, or,
    for libraries that wrap it in their own error, by asking the operating
    system whether the reader of stdout is gone; never by the message text.
    """
    import errno

    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.EPIPE:
            return True
        seen = seen.__cause__ or seen.__context__
    return _stdout_reader_gone()


def _stdout_reader_gone() -> bool:
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror.lower()}"
    text = str(exc).strip().splitlines()
    return " ".join(text[0].split()) if text else type(exc).__name__


class Stopped(BaseException):
    """A signal asked softnorm to stop; raised where the program is, so cleanup runs on the way out."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, frame) -> None:
    raise Stopped(signum)


def _handle_signals() -> None:
    import signal

    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)


def main() -> None:
    """The console script: run the CLI, then leave without pyarrow's exit-time abort.

    SIGTERM, SIGHUP and SIGINT unwind the run like an error, so a temporary
    output or a copy of stdin is removed, then end it with 128 + the signal.
    """
    _handle_signals()
    try:
        cli(prog_name="softnorm", standalone_mode=True)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except Stopped as e:
        import signal

        click.echo(f"softnorm: stopped by {signal.Signals(e.signum).name}", err=True)
        code = 128 + e.signum
    if "pyarrow" in sys.modules:
        # pyarrow can abort while its threads are torn down at interpreter exit
        # ("terminate called without an active exception"). All output is
        # written and every file closed by now, so skip that teardown.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    sys.exit(code)

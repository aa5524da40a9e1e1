"""The ``softnorm`` command line: a thin Click layer over the engine.

Only Click is imported at start-up; numpy, polars and Rich load when a
command runs, so ``softnorm --help`` answers at once. Options are in
:mod:`~softnorm_cli.options`, errors, signals and exit codes in
:mod:`~softnorm_cli.process`.
"""

from __future__ import annotations

import os
import sys

import click

from softnorm_cli import __version__
from softnorm_cli.options import (
    STDIO,
    RangeType,
    axis_option,
    inf_option,
    input_options,
    output_options,
)
from softnorm_cli.process import user_errors, warn


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
@axis_option("row")
@click.option("-t", "--temperature", type=click.FloatRange(0, min_open=True), default=1.0, show_default=True,
              help="Divide the shifted values by T > 0: above 1 flattens, below 1 sharpens.")
@click.option("--log", is_flag=True, help="Write log-softmax, computed stably.")
@inf_option("limit", ("limit", "missing"), "take their limits (+inf entries share the mass), or treat them as missing")
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
@axis_option("column")
@click.option("--range", "feature_range", type=RangeType(), default="0,1", show_default=True,
              help="Target range LO,HI with LO < HI.")
@inf_option("error", ("error", "missing"), "stop with an error, or treat them as missing")
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
@axis_option("column")
@click.option("--ddof", type=click.IntRange(min=0), default=0, show_default=True,
              help="Delta degrees of freedom of the std (0: population, 1: sample).")
@inf_option("error", ("error", "missing"), "stop with an error, or treat them as missing")
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
    with user_errors():
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

    with user_errors():
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

"""How a command runs: its options checked, the input and output opened, the engine's
``fit`` and ``apply`` called, the summary shown.

Everything that can be refused from the options alone is refused before any
input is read: a usage error (exit 2) costs the user nothing.
"""

from __future__ import annotations

import os
import sys

import click

from softnorm_cli.cli.exits import user_errors, warn
from softnorm_cli.io.base import STDIO

_SOURCE_OPTIONS = ("input", "from_format", "delimiter", "no_header", "skip_rows", "encoding", "decimal_comma", "na_values", "batch")
_JOB_OPTIONS = ("columns", "exclude", "decimal_comma", "na_values", "suffix", "decimals")


def split(options: dict) -> tuple[dict, dict]:
    """The options that open the source, and those of the job (taken out of ``options``)."""
    return {k: options[k] for k in _SOURCE_OPTIONS}, {k: options.pop(k) for k in _JOB_OPTIONS if k in options}


def job(method, axis, columns, exclude, decimal_comma, na_values, suffix=None, decimals=None, **rest):
    from softnorm_cli.engine.local import Job
    from softnorm_cli.engine.values import Numbers

    numbers = Numbers(decimal_comma=decimal_comma) if na_values is None else Numbers(na_values, decimal_comma)
    return Job(method, axis, columns, exclude, numbers, suffix=suffix, decimals=decimals, **rest)


def run(
    method,
    output,
    to_format,
    compression,
    summary,
    quiet,
    summary_json,
    in_place,
    axis,
    inf="error",
    group_by=(),
    save_params=None,
    params=None,
    fit_only=False,
    inverse=False,
    unseen="error",
    engine="local",
    scheduler=None,
    **options,
):
    """Run ``method`` as the command line asked: fit and apply, or apply saved parameters, or only fit."""
    import time

    started = time.monotonic()
    fixed = {name: options[name] for name in ("columns", "exclude") if name in options}
    source_options, job_options = split(options)
    input = source_options["input"]
    output = _check_output(input, output, in_place, fit_only, summary_json)
    _check_parameters(method, axis, group_by, save_params, params, fit_only, inverse)
    from softnorm_cli.io.dataset import names_many
    from softnorm_cli.io.sniff import format_from_path

    if input == STDIO and _from_environment("engine"):
        engine = "local"  # SOFTNORM_ENGINE sets where files go; a pipe still streams here
    parts = engine == "dask" or names_many(input)
    _check_engine(input, output, in_place, engine, scheduler, parts)
    if output not in (STDIO, None) and not parts and not to_format and not format_from_path(output):
        raise click.UsageError(f"cannot tell the output format of {output!r} from its extension; use --to")

    with user_errors():
        from softnorm_cli.io import atomic as files

        for path in (summary_json, save_params):
            if path and path != STDIO:
                files.check_writable(path)
        fitted = None
        if params:
            from softnorm_cli.cli import params as saved

            fitted = saved.load(params)
            given = {"axis": axis, "inf": inf, "group_by": group_by, **fixed, **method.options()}
            given["feature_range"] = (given.pop("lo", None), given.pop("hi", None))
            saved.check_command_line(params, fitted, method.name, {k: v for k, v in given.items() if k in saved.FIXED})
            if getattr(method, "clip", False):
                fitted.options["clip"] = True  # clipping is decided when applying
            method, axis, inf = fitted.method, fitted.axis, fitted.options["inf"]
        show = not quiet and (summary if summary is not None else sys.stderr.isatty())
        the_job = job(
            method, axis, inf=inf, figures=(show or bool(summary_json)) and not fit_only, group_by=group_by,
            unseen=unseen, inverse=inverse, **job_options,
        )
        if parts:
            fitted, result = _run_parts(the_job, fitted, output, to_format, compression, engine, scheduler, quiet,
                                        source_options, job_options)
        else:
            fitted, result = _run_one(the_job, fitted, output, to_format, compression, quiet, source_options, job_options)
        if save_params:
            files.write_text(save_params, fitted.to_json())
            result.parameters["saved to"] = save_params
        if params:
            result.parameters["from"] = params
        result.elapsed = time.monotonic() - started
        if not quiet:
            for line in result.warnings:
                warn(line)
        if summary_json:
            from softnorm_cli.engine.summary import json_text

            files.write_text(summary_json, json_text(result.to_json()) + "\n")
        if show:
            from softnorm_cli.engine.summary import render

            render(result, console(sys.stderr))


def _run_one(the_job, fitted, output, to_format, compression, quiet, source_options, job_options):
    """One file or stdin, streamed: fit (unless ``fitted`` came from a file) and apply, or only fit (no ``output``)."""
    from softnorm_cli.engine import local as engine
    from softnorm_cli.io.sink import Sink
    from softnorm_cli.io.sniff import format_from_path

    with open_input(**source_options) as source:
        with progress(source, quiet) as on_batch:
            if output is None:  # --fit-only
                fitted = engine.fit(the_job, source, on_batch)
                result = engine.fit_summary(fitted)
            else:
                layout = _layout(source, to_format or format_from_path(output), source_options, job_options, compression)
                with Sink(output, layout) as sink:
                    if fitted is None:
                        fitted = engine.fit(the_job, source, on_batch)
                    result = engine.apply(the_job, fitted, source, sink, on_batch)
                result.output = sink.name
        result.input = source.name
    return fitted, result


def _run_parts(the_job, fitted, output, to_format, compression, engine, scheduler, quiet, source_options, job_options):
    """A dataset of parts (or any input on a cluster): fit over all parts, then each part to a part of ``output``."""
    from softnorm_cli.engine import local, parts
    from softnorm_cli.io.dataset import Dataset, PartsOutput, find

    input, how = source_options["input"], reading(**{k: v for k, v in source_options.items() if k != "input"})
    dataset = find(input, *how) or Dataset(input, (input,), *how)
    # The first part, opened once here, decides the columns and how the output is written.
    with dataset.open(0) as first:
        planned = local.plan(the_job, first) if fitted is None else None
        layout = None if output is None else _layout(first, to_format, source_options, job_options, compression)
    with _executor(engine, scheduler, quiet) as executor:
        if fitted is None:
            fitted = parts.fit(the_job, planned, dataset, executor)
        if output is None:  # --fit-only
            result = local.fit_summary(fitted)
            result.engine = executor.describe(len(dataset.parts))
        else:
            with PartsOutput(output, layout.format) as out:
                result = parts.apply(the_job, fitted, dataset, out, layout, executor)
            result.output = output
    result.input = dataset.name
    return fitted, result


def _from_environment(option: str) -> bool:
    ctx = click.get_current_context()
    return ctx.get_parameter_source(option) == click.core.ParameterSource.ENVIRONMENT


def _executor(engine: str, scheduler: str | None, quiet: bool):
    show = not quiet and sys.stderr.isatty()
    if engine == "dask":
        from softnorm_cli.engine.dask import DaskExecutor

        return DaskExecutor(scheduler, progress=show)
    from softnorm_cli.engine.parts import LocalExecutor

    on_part = None
    if show:
        from softnorm_cli.cli.progress import PartProgress

        on_part = PartProgress(console(sys.stderr))
    return LocalExecutor(on_part)


def _check_engine(input: str, output: str | None, in_place: bool, engine: str, scheduler: str | None, parts: bool) -> None:
    """What a dataset or the Dask engine cannot do, as usage errors."""
    if scheduler and engine != "dask" and not _from_environment("scheduler"):
        raise click.UsageError("--scheduler needs --engine dask")
    if not parts:
        return
    if input == STDIO:
        raise click.UsageError("--engine dask reads files: give a path, a glob or a directory, not stdin")
    if in_place:
        raise click.UsageError("--in-place works on one file, not on a dataset of parts or with --engine dask")
    if output == STDIO:
        raise click.UsageError("a dataset is written as a directory of parts: give -o DIR")


def _check_output(input: str, output: str, in_place: bool, fit_only: bool, summary_json: str | None) -> str | None:
    """Where the data goes (None: nowhere, with --fit-only), or a usage error."""
    ctx = click.get_current_context()
    if fit_only:
        if in_place or ctx.get_parameter_source("output") == click.core.ParameterSource.COMMANDLINE:
            raise click.UsageError("--fit-only writes no data: drop -o/--in-place")
        return None
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
    return output


def _check_parameters(method, axis, group_by, save_params, params, fit_only, inverse) -> None:
    """The combinations of grouping and saved parameters that cannot work, as usage errors."""
    if inverse and not method.invertible:
        raise click.UsageError(
            f"{method.name} has no inverse: it forgets a constant per group (shifted inputs give the same results)"
        )
    if inverse and not params:
        raise click.UsageError("--inverse needs --params FILE: the statistics the values were normalized with")
    if fit_only and not save_params:
        raise click.UsageError("--fit-only needs --save-params FILE: where the statistics go")
    if save_params and params:
        raise click.UsageError("--save-params and --params cannot be used together: the parameters are already saved")
    if params:
        return  # the axis and keys come from the file
    if group_by and axis == "row":
        hint = " (softmax normalizes each row by default)" if method.name == "softmax" else ""
        raise click.UsageError(f"--group-by needs --axis column or --axis all{hint}")
    if save_params and axis == "row":
        raise click.UsageError("--save-params needs --axis column or all: with --axis row each row is fitted alone")


def open_input(input, **options):
    from softnorm_cli.io.source import open_source

    return open_source(input, *reading(**options))


def reading(from_format, delimiter, no_header, skip_rows, encoding, decimal_comma, na_values, batch):
    """How the input is read, from the options: its format (or None), dialect and batch size."""
    from softnorm_cli.io.base import NA_VALUES, BatchSize, Dialect

    rows, size = batch or (None, None)
    batch_size = BatchSize(rows=rows) if size is None else BatchSize(bytes=size)
    dialect = Dialect(
        delimiter, not no_header, encoding, decimal_comma, skip_rows, NA_VALUES if na_values is None else na_values
    )
    return from_format and from_format.lower(), dialect, batch_size


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


def progress(source, quiet: bool):
    """A progress bar on stderr when it is a terminal, else a no-op; usable as a context manager."""
    if quiet or not sys.stderr.isatty():
        import contextlib

        return contextlib.nullcontext(None)
    from softnorm_cli.cli.progress import BatchProgress

    return BatchProgress(source, console(sys.stderr))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def console(file):
    from rich.console import Console

    # A console that is not a terminal would fold the table at 80 columns.
    return Console(file=file, width=None if file.isatty() else 120)

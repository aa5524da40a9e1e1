"""How a command runs: the input and output opened, the engine called, the summary shown.

The request (:mod:`~softnorm_cli.cli.request`) has been checked before
anything here runs; what can still go wrong is in the data and the files,
and is one line on stderr with exit 1 (:class:`~softnorm_cli.cli.exits.user_errors`).
"""

from __future__ import annotations

import os
import sys

from softnorm_cli.cli.exits import seconds_running, user_errors, warn
from softnorm_cli.cli.request import Output, Request
from softnorm_cli.io.dataset import writes_parts


def run(request: Request) -> None:
    """Fit and apply, or apply saved parameters, or only fit, as ``request`` asks; then report."""
    with user_errors():
        fitted, summary = (_run_parts if request.parts or _worth_splitting(request) else _run_one)(request)
        if request.save_params:
            fitted.save(request.save_params)
            summary.parameters["saved to"] = request.save_params
        if request.params:
            summary.parameters["from"] = request.params
        report(summary, request.report.quiet, request.report.show, request.report.json)


def report(summary, quiet: bool, show: bool, json_path: str | None = None) -> None:
    """Warnings one line each, the summary's JSON, then the summary for people on stderr.

    The time taken is the whole run's, up to the summary (its rendering loaded).
    """
    if show:
        from softnorm_cli.cli.render import render
    summary.elapsed = seconds_running()
    if not quiet:
        for line in summary.warnings:
            warn(line)
    if json_path:
        from softnorm_cli.cli.render import json_text
        from softnorm_cli.io import atomic

        atomic.write_text(json_path, json_text(summary.to_json()) + "\n")
    if show:
        render(summary, console(sys.stderr))


def _run_one(request: Request):
    """One file or stdin, streamed: fit and apply (the fit read once if it fits), apply saved
    parameters, or only fit (no output)."""
    from softnorm_cli.engine import local
    from softnorm_cli.engine.summary import summarize_fit
    from softnorm_cli.io.sink import Sink
    from softnorm_cli.io.sniff import format_from_path

    job, fitted, output = request.job, request.fitted, request.output
    # The bar comes first: opening a pipe waits for its first rows, which may be slow to come.
    with progress(request.report.quiet) as on_batch, request.input.open() as source:
        if on_batch is not None:
            on_batch.follow(source)
        if output.path is None:  # --fit-only
            fitted = local.fit(job, source, on_batch)
            summary = summarize_fit(fitted, source.warnings)
        else:
            with Sink(output.path, layout(source, output, output.format or format_from_path(output.path))) as sink:
                if fitted is None:
                    fitted, summary = local.fit_apply(job, source, sink, on_batch)
                else:
                    summary = local.apply(job, fitted, source, sink, on_batch)
            summary.output = sink.name
        summary.input = source.name
    return fitted, summary


def _run_parts(request: Request):
    """A dataset of parts (or any input on a cluster): fit over all parts, then each part to a part of the output."""
    from softnorm_cli.engine import local, parts
    from softnorm_cli.engine.summary import summarize_fit
    from softnorm_cli.io.dataset import Dataset, find, writes_parts
    from softnorm_cli.io.sniff import format_from_path

    job, fitted, output, read = request.job, request.fitted, request.output, request.input
    dataset = find(read.path, read.format, read.dialect, read.batch) or Dataset(read.path, (read.path,), read.format, read.dialect, read.batch)
    directory = writes_parts(output.path)
    # The first part, opened once here, decides the columns and how the output is written.
    with dataset.open(0) as first:
        planned = local.plan(job, first) if fitted is None else None
        written = None
        if output.path is not None:  # a directory of parts is of the input's format unless --to says
            written = layout(first, output, output.format or (None if directory else format_from_path(output.path)))
    with _executor(request, dataset.local_bytes) as executor:
        stage = "finding partitions"  # the text's ranges are looked at by the workers
        dataset = dataset.partitioned(request.partition_size, lambda fn, items: executor.gather(executor.map(fn, items, stage), stage))
        if fitted is None:
            fitted = parts.fit(job, planned, dataset, executor)
        if output.path is None:  # --fit-only
            summary = summarize_fit(fitted)
            summary.engine = parts.describe(executor, dataset)
        else:
            with _parts_output(request, written, directory, dataset) as out:
                summary = parts.apply(job, fitted, dataset, out, executor, own_fit=request.fitted is None)
            summary.output = out.name
    summary.input = dataset.name
    return fitted, summary


def _parts_output(request: Request, written, directory: bool, dataset):
    """A directory of parts, or one file (or standard output) the parts of ``dataset`` are joined into."""
    from softnorm_cli.io.dataset import PartsOutput
    from softnorm_cli.io.joined import JoinedOutput

    if directory:
        return PartsOutput(request.output.path, written, dataset.keys)
    # The workers of a remote cluster write the parts: the working directory is the one they share with us.
    sources = [dataset.parts[piece.part] for piece in dataset.pieces]
    return JoinedOutput(request.output.path, written, sources, scratch=os.getcwd() if request.scheduler else None)


def _worth_splitting(request: Request) -> bool:
    """Whether one local file is to be read as partitions by several workers (``--jobs``); stdin, a file
    of less than two partitions, and any input with ``--jobs 1`` stream through this process, as does
    a Parquet file written to one Parquet file (:func:`~softnorm_cli.io.partitions.holds_partitions`;
    ``-o DIR/`` writes a part per partition, and Dask is asked for by name)."""
    path, output = request.input.path, request.output
    if request.jobs < 2 or path == "-" or not os.path.isfile(path):
        return False
    if not request.split_one_file and not (output.path and writes_parts(output.path)):
        return False
    joined = output.path is not None and not writes_parts(output.path)
    from softnorm_cli.io.partitions import holds_partitions
    from softnorm_cli.io.sniff import format_from_path

    joined_as = (output.format or (format_from_path(output.path) if output.path != "-" else None) or "") if joined else None
    return holds_partitions(path, request.partition_size, joined_as)


#: Below this much input, worker processes cost more to start (about half a second) than they save.
PARALLEL_BYTES = 32 << 20


def _executor(request: Request, input_bytes: int | None = None):
    show = not request.report.quiet and sys.stderr.isatty()
    if request.engine == "dask":
        from softnorm_cli.engine.dask import DaskExecutor

        return DaskExecutor(request.scheduler, progress=show)
    on_part = None
    if show:
        from softnorm_cli.cli.progress import PartProgress

        on_part = PartProgress(console(sys.stderr))
    # URLs are read here: a worker process does not see an in-memory filesystem, nor this process's credentials' cache.
    if request.jobs > 1 and input_bytes is not None and input_bytes > PARALLEL_BYTES:
        from softnorm_cli.engine.processes import ProcessExecutor

        return ProcessExecutor(request.jobs, on_part)
    from softnorm_cli.engine.parts import LocalExecutor

    return LocalExecutor(on_part)


def layout(source, output: Output, fmt: str | None):
    """How to write the output (by default in the input's format, but a workbook's as CSV):
    CSV keeps the input's delimiter, TSV is tab-separated."""
    from softnorm_cli.io.base import Layout
    from softnorm_cli.io.sniff import writes_arrow_stream

    fmt = (fmt or ("csv" if source.format == "excel" else source.format)).lower()
    _check_text_options(output, fmt)
    delimiter = output.delimiter
    if delimiter is None:
        delimiter = "\t" if fmt == "tsv" else (source.delimiter if source.format == fmt == "csv" else ",")
    return Layout(
        fmt, delimiter, output.header, output.decimal_comma,
        metadata=source.metadata if fmt in ("parquet", "arrow") else {},
        compression=output.compression,
        line_terminator=output.line_terminator,
        encoding=output.encoding,
        thousands=output.thousands,
        stream=fmt == "arrow" and writes_arrow_stream(output.path or "-"),
        sheet=getattr(source, "sheet", None),
    )


def _check_text_options(output: Output, fmt: str) -> None:
    """Line ends, encodings and thousands separators are for text: a usage error for a binary output.

    JSON is text too, but writes its own numbers: it takes line ends and an
    encoding (a character the encoding lacks is written as a JSON escape).
    """
    if fmt in ("csv", "tsv"):
        return
    from softnorm_cli.io.formats import NAMES

    json = fmt in ("jsonl", "json")
    asked = [
        (flag, where)
        for flag, given, where in (
            ("--line-terminator crlf", output.line_terminator != "\n" and not json, "text (CSV, TSV, JSON)"),
            (f"--output-encoding {output.encoding}", output.encoding != "utf-8" and not json, "text (CSV, TSV, JSON)"),
            ("--output-thousands", output.thousands is not None, "CSV and TSV"),
        )
        if given
    ]
    if asked:
        import click

        flag, where = asked[0]
        raise click.UsageError(f"{flag} is for {where} output, not {NAMES[fmt]}, which writes its own numbers")


def progress(quiet: bool):
    """A progress bar on stderr when it is a terminal (a context manager giving the
    :class:`~softnorm_cli.cli.progress.BatchProgress` to follow a source), else None."""
    if quiet or not sys.stderr.isatty():
        import contextlib

        return contextlib.nullcontext(None)
    from softnorm_cli.cli.progress import BatchProgress

    return BatchProgress(None, console(sys.stderr))


def console(file):
    from rich.console import Console

    # A console that is not a terminal would fold the table at 80 columns.
    return Console(file=file, width=None if file.isatty() else 120)

"""One run as the command line asked for it: built once from Click's context, and checked once.

A command's options become a :class:`Request`: the engine's job, how the
input is opened, where the output goes, what is reported, saved parameters
and the engine. Everything that can be refused from the options alone is
refused here, as a usage error (exit 2), before any input is read.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass

import click
from click.core import ParameterSource

from softnorm_cli.cli.exits import user_errors
from softnorm_cli.cli.params import check_command_line
from softnorm_cli.engine.fitted import Fitted
from softnorm_cli.engine.job import Job
from softnorm_cli.engine.processes import available_cores, splits_one_file
from softnorm_cli.engine.values import Numbers
from softnorm_cli.io import atomic
from softnorm_cli.io.base import NA_VALUES, STDIO, BatchSize, Dialect
from softnorm_cli.io.dataset import names_many, writes_parts
from softnorm_cli.io.sniff import format_from_path
from softnorm_cli.numeric.methods import Method


@dataclass(frozen=True)
class Input:
    """Where the table comes from and how it is read."""

    path: str  # a file, '-' for standard input, or a dataset (a glob, a directory, a URL)
    format: str | None  # --from; None: by content and extension
    dialect: Dialect
    batch: BatchSize

    def open(self):
        from softnorm_cli.io.source import open_source

        return open_source(self.path, self.format, self.dialect, self.batch)


@dataclass(frozen=True)
class Output:
    """Where the result goes: ``path`` (None with --fit-only), its format and layout."""

    path: str | None
    format: str | None  # --to; None: by the extension of the path, else the input's
    compression: str
    delimiter: str | None  # --delimiter; None: the input's for CSV, a tab for TSV
    header: bool
    decimal_comma: bool
    line_terminator: str = "\n"  # --line-terminator
    encoding: str = "utf-8"  # --output-encoding
    thousands: str | None = None  # --output-thousands


@dataclass(frozen=True)
class Report:
    """What is said about the run: the summary on stderr, warnings, the summary's JSON."""

    show: bool
    quiet: bool
    json: str | None


@dataclass(frozen=True)
class Request:
    """Everything one run of a command needs, checked: made by :func:`build`, run by :func:`~softnorm_cli.cli.run.run`."""

    job: Job
    input: Input
    output: Output
    report: Report
    save_params: str | None  # --save-params FILE
    params: str | None  # --params FILE, whose record is ``fitted``
    fitted: Fitted | None
    engine: str  # "local" or "dask"
    scheduler: str | None
    parts: bool  # a dataset of parts, or any input on Dask: run part by part
    jobs: int = 1  # worker processes of the local engine
    split_one_file: bool = True  # a large file written to one file is read as partitions by the workers
    partition_size: int = 128 << 20  # bytes per partition of a large file


def build(ctx: click.Context, method_type: type[Method]) -> Request:
    """The request of the command being run, from its options; a usage error if they cannot work."""
    p = ctx.params
    method = _method(method_type, p)
    output = _output_path(ctx, p)
    _check_parameters(method, p)
    engine = "local" if p["input"] == STDIO and _from_environment(ctx, "engine") else p["engine"]  # a pipe streams here
    # A directory of parts out is the parts' work, even for one file in.
    parts = engine == "dask" or names_many(p["input"]) or (p["input"] != STDIO and writes_parts(output))
    _check_engine(ctx, p, output, engine, parts)
    if p["input"] == STDIO and writes_parts(output):
        raise click.UsageError(f"-o {output} writes a directory of parts, one per input part: give a file or a dataset, not stdin")
    to_format = p["to_format"] and p["to_format"].lower()
    if output not in (STDIO, None) and atomic.is_special(output):
        to_format = to_format or "csv"  # /dev/null, a named pipe: no extension to go by
    if output not in (STDIO, None) and not writes_parts(output) and not to_format and not format_from_path(output):
        hint = f", or -o {output}/ for a directory of parts" if parts else ""
        raise click.UsageError(f"cannot tell the output format of {output!r} from its extension; use --to{hint}")
    if output not in (STDIO, None) and (to_format or format_from_path(output)) == "excel":
        _check_workbook_name(output)

    _check_thousands(p["output_thousands"], p["delimiter"], p["decimal_comma"], "--output-thousands")
    with user_errors():
        for path in (p["summary_json"], p["save_params"]):
            if path and path != STDIO:
                atomic.check_writable(path)
        fitted = Fitted.load(p["params"]) if p["params"] else None
    axis, columns, group_by = p["axis"], p["columns"], p["group_by"]
    if fitted is not None:
        check_command_line(ctx, p["params"], fitted, method.name)
        if p.get("clip"):  # clipping is decided when applying
            fitted = dataclasses.replace(fitted, options={**fitted.options, "clip": True})
        method, axis, columns, group_by = fitted.method, fitted.axis, fitted.columns, fitted.group_by
    show = not p["quiet"] and (p["summary"] if p["summary"] is not None else sys.stderr.isatty())
    read = input_of(p)
    try:
        job = Job(
            method, axis, columns, p["exclude"], Numbers.of(read.dialect), suffix=p["suffix"],
            decimals=p["decimals"], figures=(show or bool(p["summary_json"])) and not p["fit_only"], group_by=group_by,
            unseen=p["unseen"], inverse=p["inverse"],
        )
    except ValueError as e:  # the options were checked one by one; this is how they combine
        raise click.UsageError(str(e)) from None
    return Request(
        job=job,
        input=read,
        output=Output(
            output, to_format, p["compression"], p["delimiter"], not p["no_header"], p["decimal_comma"],
            "\r\n" if p["line_terminator"].lower() == "crlf" else "\n", p["output_encoding"] or "utf-8", p["output_thousands"],
        ),
        report=Report(show, p["quiet"], p["summary_json"]),
        save_params=p["save_params"],
        params=p["params"],
        fitted=fitted,
        engine=engine,
        scheduler=p["scheduler"],
        parts=parts,
        jobs=p["jobs"] or available_cores(),
        split_one_file=splits_one_file(p["jobs"] is not None),
        partition_size=_partition_size(p["partition_size"]),
    )


def _partition_size(size: tuple[int | None, int | None]) -> int:
    rows, size_bytes = size
    if size_bytes is None:
        raise click.BadParameter(f"{rows} is a number of rows; give a size such as 128MB", param_hint="--partition-size")
    return size_bytes


def input_of(p: dict) -> Input:
    """How the command's input is read, from its options (every command has these)."""
    rows, size = p["batch"] or (None, None)
    _check_thousands(p.get("thousands"), p["delimiter"], p["decimal_comma"], "--thousands")
    dialect = Dialect(
        p["delimiter"], not p["no_header"], p["encoding"], p["decimal_comma"], p["skip_rows"],
        NA_VALUES if p["na_values"] is None else p["na_values"], p.get("thousands"), p.get("sheet"),
    )
    return Input(p["input"], p["from_format"] and p["from_format"].lower(), dialect, BatchSize(rows=rows) if size is None else BatchSize(bytes=size))


def _check_thousands(separator: str | None, delimiter: str | None, decimal_comma: bool, flag: str) -> None:
    """A thousands separator that is the decimal separator or the delimiter would make numbers ambiguous."""
    if separator is None:
        return
    point = "," if decimal_comma else "."
    if separator == point:
        hint = "" if decimal_comma else " (with --decimal-comma the point groups thousands)"
        raise click.UsageError(f"{flag} {separator!r} is the decimal separator{hint}")
    if separator == delimiter:
        raise click.UsageError(f"{flag} {separator!r} is the field delimiter; numbers holding it would be split")


def _method(method_type: type[Method], p: dict) -> Method:
    """The command's method, from the options named as its fields (--range and --quantile-range give lo and hi)."""
    options = {f.name: p[f.name] for f in dataclasses.fields(method_type) if f.name in p}
    for pair in ("feature_range", "quantile_range"):
        if pair in p:
            options["lo"], options["hi"] = p[pair]
    return method_type(**options)


def _from_environment(ctx: click.Context, option: str) -> bool:
    return ctx.get_parameter_source(option) == ParameterSource.ENVIRONMENT


def _output_path(ctx: click.Context, p: dict) -> str | None:
    """Where the data goes (None: nowhere, with --fit-only), or a usage error."""
    input, output, in_place = p["input"], p["output"], p["in_place"]
    if p["fit_only"]:
        if in_place or ctx.get_parameter_source("output") == ParameterSource.COMMANDLINE:
            raise click.UsageError("--fit-only writes no data: drop -o/--in-place")
        return None
    if in_place:
        if input == STDIO:
            raise click.UsageError("--in-place needs an INPUT file, not stdin")
        if output != STDIO:
            raise click.UsageError("--in-place and -o cannot be used together")
        if format_from_path(input) == "excel":  # its other sheets, formulas and formatting would be lost
            raise click.UsageError("--in-place would replace a workbook by one sheet of values: write the result with -o NEW.xlsx")
        output = input
    elif output != STDIO and input != STDIO and _same_file(input, output):
        if os.path.isdir(input):
            raise click.UsageError(f"-o {output} is the input directory; write the output to another directory")
        raise click.UsageError(f"-o {output} is the input file; use --in-place to replace it")
    if p["summary_json"] == STDIO and output == STDIO:
        raise click.UsageError("--summary-json - needs the data to go elsewhere: use -o FILE")
    return output


def _check_parameters(method: Method, p: dict) -> None:
    """The combinations of grouping and saved parameters that cannot work, as usage errors."""
    if p["inverse"] and not method.invertible:
        raise click.UsageError(
            f"{method.name} has no inverse: it forgets a constant per group (shifted inputs give the same results)"
        )
    if p["inverse"] and not p["params"] and p["axis"] == "row":
        raise click.UsageError(
            f"{method.name} --axis row has no inverse: each row is fitted alone, and its statistics are not kept "
            "(fit with --axis column or all and --save-params to invert)"
        )
    if p["inverse"] and not p["params"]:
        raise click.UsageError("--inverse needs --params FILE: the statistics the values were normalized with")
    if p["fit_only"] and not p["save_params"]:
        raise click.UsageError("--fit-only needs --save-params FILE: where the statistics go")
    if p["save_params"] and p["params"]:
        raise click.UsageError("--save-params and --params cannot be used together: the parameters are already saved")
    if p["params"]:
        return  # the axis and keys come from the file
    if p["group_by"] and p["axis"] == "row":
        hint = f" ({method.name} normalizes each row by default)" if method.name in ("softmax", "unitnorm") else ""
        raise click.UsageError(f"--group-by needs --axis column or --axis all{hint}")
    if p["save_params"] and p["axis"] == "row":
        raise click.UsageError("--save-params needs --axis column or all: with --axis row each row is fitted alone")


def _check_engine(ctx: click.Context, p: dict, output: str | None, engine: str, parts: bool) -> None:
    """What a dataset or the Dask engine cannot do, as usage errors."""
    if p["scheduler"] and engine != "dask" and not _from_environment(ctx, "scheduler"):
        raise click.UsageError("--scheduler needs --engine dask")
    if not parts:
        return
    if p["input"] == STDIO:
        raise click.UsageError("--engine dask reads files: give a path, a glob or a directory, not stdin")
    if p["in_place"]:
        raise click.UsageError("--in-place works on one file, not on a dataset of parts or with --engine dask")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _check_workbook_name(output: str) -> None:
    """Only xlsx is written: a workbook named .xls, .xlsm, .xlsb or .ods would not be what its name says."""
    stem, extension = os.path.splitext(output)
    if extension.lower() in (".xls", ".xlsm", ".xlsb", ".ods"):
        raise click.UsageError(f"softnorm writes .xlsx workbooks, not {extension}: use -o {stem}.xlsx")

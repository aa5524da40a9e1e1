"""The ``softnorm`` command line: a thin Click layer over the engine.

Only Click is imported at start-up; numpy, polars and Rich load when a
command runs, so ``softnorm --help`` answers at once. Options are in
:mod:`~softnorm_cli.cli.options`, errors, signals and exit codes in
:mod:`~softnorm_cli.cli.exits`.
"""

from __future__ import annotations

import sys

import click

from softnorm_cli import __version__
from softnorm_cli.cli.exits import user_errors, warn
from softnorm_cli.cli.options import (
    RangeType,
    axis_option,
    engine_options,
    group_option,
    inf_option,
    input_options,
    output_options,
    params_options,
)
from softnorm_cli.cli.run import console, job, open_input, progress, run, split


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
      softnorm zscore 'exports/*.parquet' -c price -g day -o scaled/ --engine dask
    """


@cli.command()
@input_options
@output_options
@axis_option("row")
@group_option
@params_options
@engine_options
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
    from softnorm_cli.numeric.methods import Softmax

    run(Softmax(temperature, log, options.pop("nan")), inf="keep" if inf == "limit" else inf, **options)


@cli.command()
@input_options
@output_options
@axis_option("column")
@group_option
@params_options
@engine_options
@click.option("--range", "feature_range", type=RangeType(), default="0,1", show_default=True,
              help="Target range LO,HI with LO < HI.")
@click.option("--clip", is_flag=True, help="Clip results into the range (new data, with --params, can fall outside it).")
@inf_option("error", ("error", "missing"), "stop with an error, or treat them as missing")
def minmax(feature_range, clip, **options):
    """Min-max: scale each column linearly onto a range (default 0 to 1).

    y = lo + (x - min) * (hi - lo) / (max - min); a constant column becomes lo.

    \b
    Example:
      $ softnorm minmax sample_data/features.csv -c age,income --range -1,1
    """
    from softnorm_cli.numeric.methods import MinMax

    lo, hi = feature_range
    run(MinMax(lo, hi, clip, options.pop("nan")), **options)


@cli.command()
@input_options
@output_options
@axis_option("column")
@group_option
@params_options
@engine_options
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
    from softnorm_cli.numeric.methods import ZScore

    run(ZScore(ddof, options.pop("nan")), **options)


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
        from softnorm_cli.engine.local import describe
        from softnorm_cli.engine.summary import json_text, render, stats_json
        from softnorm_cli.numeric.methods import ZScore

        source_options, job_options = split(options)
        with open_input(**source_options) as source, progress(source, False) as on_batch:
            summary = describe(job(ZScore(), "column", **job_options), source, on_batch)
        for line in summary.warnings:
            warn(line)
        if as_json:
            click.echo(json_text(stats_json(summary)))
        else:
            render(summary, console(sys.stdout))

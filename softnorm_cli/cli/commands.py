"""The ``softnorm`` commands: each builds its request from its options and runs it.

Options are in :mod:`~softnorm_cli.cli.options`, the request in
:mod:`~softnorm_cli.cli.request`, the run in :mod:`~softnorm_cli.cli.run`.
Only Click is imported at start-up; numpy, polars and Rich load when a
command runs, so ``softnorm --help`` answers at once.
"""

from __future__ import annotations

import sys

import click

from softnorm_cli.cli import signals
from softnorm_cli.cli.completion import completion_option
from softnorm_cli.cli.help import SectionedGroup
from softnorm_cli.cli.options import (
    checked,
    inf_option,
    method_options,
    nan_option,
    quantile_range_option,
    quantiles_option,
    range_option,
    read_options,
    stats_group_option,
)
from softnorm_cli.numeric import parameters
from softnorm_cli.version import __version__


def _run(method_name: str) -> None:
    """Run the current command with the method it is named after."""
    from softnorm_cli.cli.request import build
    from softnorm_cli.cli.run import run
    from softnorm_cli.numeric.registry import METHODS

    signals.install_over_polars()
    run(build(click.get_current_context(), METHODS[method_name]))


@click.group(cls=SectionedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="softnorm")
@completion_option
def cli():
    """Normalize table columns: softmax, min-max, z-score, max-abs, unit norm, robust, quantile.

    Reads a file or stdin, writes the result to stdout or -o FILE, and prints
    a summary on stderr. Run `softnorm COMMAND --help` for each command.

    \b
    Examples:
      softnorm softmax sample_data/logits.csv -c cat,dog,bird
      cat sample_data/features.csv | softnorm zscore -c age,income > scaled.csv
      softnorm minmax sample_data/features.parquet -o scaled.parquet
      softnorm zscore 'sample_data/parts/*.csv' -c price -g region -o scaled/
    """


@cli.command(heading="Softmax options")
@method_options("row")
@click.option("-t", "--temperature", type=checked(parameters.SOFTMAX, "temperature", metavar="T"), default=1.0,
              show_default=True, help="Divide the shifted values by T > 0: above 1 flattens, below 1 sharpens.")
@click.option("--log", is_flag=True, help="Write log-softmax, computed stably.")
@inf_option(parameters.SOFTMAX, "limit takes their limits (+inf entries share the mass), missing treats them as missing")
@nan_option()
def softmax(**options):
    """Softmax: turn each row's scores into probabilities that sum to 1.

    y_i = exp((x_i - max) / T) / sum_j exp((x_j - max) / T)

    \b
    Examples:
      Each row's scores as probabilities:
        softnorm softmax sample_data/logits.csv -c cat,dog,bird
      Each query's documents share one probability mass, sharpened:
        softnorm softmax sample_data/ranking.csv -c score --axis column -g query_id -t 0.5
      Fit on one table, apply the same statistics to another, in Parquet:
        softnorm softmax sample_data/features.csv -c score --axis all --save-params score.json --fit-only
        softnorm softmax sample_data/features.parquet --params score.json -o probs.parquet
    """
    _run("softmax")


@cli.command(heading="Min-max options")
@method_options("column")
@range_option()
@click.option("--clip", is_flag=True, help="Clip results into the range (new data, with --params, can fall outside it).")
@inf_option(parameters.MINMAX, "error stops with an error, missing treats them as missing")
@nan_option()
def minmax(**options):
    """Min-max: scale each column linearly onto a range (default 0 to 1).

    y = lo + (x - min) * (hi - lo) / (max - min); a constant column becomes lo.

    \b
    Examples:
      Two columns onto -1 to 1:
        softnorm minmax sample_data/features.csv -c age,income --range -1,1
      Each region's customers against each other, Parquet in and out:
        softnorm minmax sample_data/features.parquet -c age,score -g region -o scaled.parquet
      Fit on one file, scale new data the same way, clipped into the range:
        softnorm minmax sample_data/features.csv -c age,income --save-params scale.json --fit-only
        softnorm minmax sample_data/features_new.csv --params scale.json --clip
    """
    _run("minmax")


@cli.command(heading="Z-score options")
@method_options("column")
@click.option("--ddof", type=checked(parameters.ZSCORE, "ddof", metavar="N"), default=0, show_default=True,
              help="Delta degrees of freedom of the std (0: population, 1: sample).")
@inf_option(parameters.ZSCORE, "error stops with an error, missing treats them as missing")
@nan_option()
def zscore(**options):
    """Z-score: shift each column to mean 0 and scale it to std 1.

    y = (x - mean) / std; a constant column becomes 0.

    \b
    Examples:
      From a pipe, with the sample std:
        cat sample_data/features.csv | softnorm zscore -c income --ddof 1 > scaled.csv
      Each region against itself, Parquet in and out:
        softnorm zscore sample_data/features.parquet -c age,score -g region -o scaled.parquet
      Fit on one file, apply to new data, and map the results back:
        softnorm zscore sample_data/features.csv -c age,income --save-params z.json --fit-only
        softnorm zscore sample_data/features_new.csv --params z.json -o new_z.csv
        softnorm zscore new_z.csv --params z.json --inverse
    """
    _run("zscore")


@cli.command(heading="Max-abs options")
@method_options("column")
@inf_option(parameters.MAXABS, "error stops with an error, missing treats them as missing")
@nan_option()
def maxabs(**options):
    """Max-abs: divide each column by its largest magnitude.

    y = x / max|x|, in -1 to 1; zeros stay zeros and signs are kept; a column of zeros is left as it is.

    \b
    Examples:
      Two columns into -1 to 1, zeros kept:
        softnorm maxabs sample_data/features.csv -c age,income
      Each region against its own largest values, Parquet in and out:
        softnorm maxabs sample_data/features.parquet -c age,score -g region -o scaled.parquet
      Fit on one file, scale new data the same way, and map it back:
        softnorm maxabs sample_data/features.csv -c age,income --save-params m.json --fit-only
        softnorm maxabs sample_data/features_new.csv --params m.json -o new_m.csv
        softnorm maxabs new_m.csv --params m.json --inverse
    """
    _run("maxabs")


@cli.command(heading="Unit-norm options")
@method_options("row")
@click.option("--norm", type=checked(parameters.UNITNORM, "norm", str), default="l2", show_default=True, metavar="NORM",
              help="l2: Euclidean length, l1: sum of magnitudes, max: largest magnitude.")
@inf_option(parameters.UNITNORM, "error stops with an error, missing treats them as missing")
@nan_option()
def unitnorm(**options):
    """Unit norm: divide each row by its norm, so that it has length 1.

    y = x / ||x||; a row of zeros stays zeros. With --nan omit the norm is
    over the values present, and missing cells stay missing. Each row's
    norm is not kept: --inverse needs --axis column or all.

    \b
    Examples:
      Each customer's figures as a unit vector:
        softnorm unitnorm sample_data/features.csv -c age,visits,score
      As shares of each row's sum of magnitudes, Parquet in and out:
        softnorm unitnorm sample_data/features.parquet -c age,visits --norm l1 -o shares.parquet
      Each region's columns by their Euclidean norms, fitted on one file and applied to another:
        softnorm unitnorm sample_data/features.csv -c age,income --axis column -g region --save-params n.json --fit-only
        softnorm unitnorm sample_data/features_new.csv --params n.json
    """
    _run("unitnorm")


@cli.command(heading="Robust options")
@method_options("column")
@quantile_range_option()
@click.option("--unit-variance", is_flag=True,
              help="Divide the scale by the normal's distance between the percentiles, so that normal data gets std 1.")
@click.option("--center/--no-center", default=True, show_default=True, help="Subtract the median.")
@click.option("--scale/--no-scale", default=True, show_default=True, help="Divide by the distance between the percentiles.")
@inf_option(parameters.ROBUST, "error stops with an error, missing treats them as missing")
@nan_option()
def robust(**options):
    """Robust: centre each column on its median, scale it by its IQR.

    y = (x - median) / (P75 - P25), with percentiles exact, as numpy's
    (linear interpolation) and scikit-learn's RobustScaler; outliers barely
    move the scale. A column whose percentiles coincide is only centred.
    The input is read twice for the percentiles (three times with -g, or
    when values crowd), then once more to write.

    \b
    Examples:
      Two columns with outliers, centred and scaled:
        softnorm robust sample_data/features.csv -c income,score
      Each region on its own 10th to 90th percentiles, scaled like a standard deviation:
        softnorm robust sample_data/features.parquet -c age,score -g region --quantile-range 10,90 --unit-variance -o scaled.parquet
      Fit on one file, scale new data the same way, and map it back:
        softnorm robust sample_data/features.csv -c age,income --save-params r.json --fit-only
        softnorm robust sample_data/features_new.csv --params r.json -o new_r.csv
        softnorm robust new_r.csv --params r.json --inverse
    """
    _run("robust")


@cli.command(heading="Quantile options")
@method_options("column")
@click.option("--n-quantiles", type=checked(parameters.QUANTILE, "n_quantiles", int, metavar="N"), default=1000,
              show_default=True, help="Points of each column's distribution function (fewer if the column has fewer rows).")
@click.option("--output-distribution", "distribution", type=checked(parameters.QUANTILE, "distribution", str),
              default="uniform", show_default=True, metavar="DIST",
              help="uniform: values from 0 to 1; normal: a standard normal, clipped at 5.2 standard deviations.")
@inf_option(parameters.QUANTILE, "error stops with an error, missing treats them as missing")
@nan_option()
def quantile(**options):
    """Quantile: map each column by its ranks onto 0 to 1 or a normal.

    y = F(x), F interpolated through N exact percentiles, as scikit-learn's
    QuantileTransformer(subsample=None); ranks are kept, skew and outliers
    are gone. The input is read twice for the percentiles (three times with
    -g, or when values crowd), then once more to write.

    \b
    Examples:
      A skewed column as percentile ranks from 0 to 1:
        softnorm quantile sample_data/features.csv -c income
      Each region's columns onto a standard normal, Parquet in and out:
        softnorm quantile sample_data/features.parquet -c age,score -g region --output-distribution normal -o gauss.parquet
      Fit on one file, map new data the same way, and back:
        softnorm quantile sample_data/features.csv -c income --save-params q.json --fit-only
        softnorm quantile sample_data/features_new.csv --params q.json -o new_q.csv
        softnorm quantile new_q.csv --params q.json --inverse
    """
    _run("quantile")


@cli.command(heading="Stats options")
@read_options
@stats_group_option
@quantiles_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON on stdout.")
def stats(as_json, group_by, quantiles, **options):
    """Statistics of columns: count, missing, min, max, mean, std, sum.

    Without -c it shows the columns the other commands would normalize,
    and why the others are left alone. INPUT may be a dataset of parts
    (a glob, a directory or a URL), described as one table.

    \b
    Examples:
      Every column, and why some are left alone:
        softnorm stats sample_data/features.csv
      Two columns of a Parquet file, as JSON:
        softnorm stats sample_data/features.parquet -c age,income --json
      Figures per region, over a directory of daily exports:
        softnorm stats sample_data/parts -c price,qty -g region
      The median and the 1st and 99th percentiles:
        softnorm stats sample_data/features.csv -c income --quantiles 1,50,99
    """
    from softnorm_cli.cli.exits import user_errors
    from softnorm_cli.cli.render import json_text, render
    from softnorm_cli.cli.request import input_of
    from softnorm_cli.cli.run import console, progress, report
    from softnorm_cli.engine.job import Job
    from softnorm_cli.engine.stats import describe, describe_dataset
    from softnorm_cli.engine.values import Numbers
    from softnorm_cli.io.dataset import find
    from softnorm_cli.numeric.methods import ZScore

    signals.install_over_polars()

    read = input_of(options)
    job = Job(ZScore(), "column", options["columns"], options["exclude"], Numbers.of(read.dialect), group_by=group_by)
    with user_errors():
        dataset = find(read.path, read.format, read.dialect, read.batch)
        if dataset is None:
            with progress(False) as on_batch, read.open() as source:
                if on_batch is not None:
                    on_batch.follow(source)
                summary = describe(job, source, on_batch, quantiles)
            summary.input = source.name
        else:
            summary = describe_dataset(job, dataset, quantiles=quantiles)
            summary.input = dataset.name
        report(summary, quiet=False, show=False)
    if as_json:
        click.echo(json_text(summary.stats_json()))
    else:
        render(summary, console(sys.stdout))

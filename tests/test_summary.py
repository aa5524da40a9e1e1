"""The summary's rendering: figures a person can read at a glance."""

import io

from rich.console import Console

from softnorm_cli.cli.render import render
from softnorm_cli.engine.summary import Summary


def _figures(**overrides):
    figures = {"count": 3, "missing": 0, "min": -1.2247, "max": 1.2247, "mean": 0.0, "std": 1.0, "sum": 0.0}
    figures.update(overrides)
    return figures


def _rendered(summary: Summary, width: int = 80) -> str:
    out = io.StringIO()
    render(summary, Console(file=out, width=width, color_system=None))
    return out.getvalue()


def test_rounding_noise_in_mean_and_sum_reads_as_zero():
    before = {"a": _figures(min=1.0, max=3.0, mean=2.0, std=0.8165, sum=6.0)}
    after = {"a": _figures(mean=-3.700743415417188e-17, sum=-1.1102230246251565e-16)}
    text = _rendered(Summary("zscore", "column", 3, before, after))
    assert "e-17" not in text and "e-16" not in text
    after_row = next(line for line in text.splitlines() if "after" in line)
    assert after_row.split()[-1] == "0" and after_row.split()[-3] == "0"


def test_small_values_that_are_the_data_are_shown():
    before = {"p": _figures(min=1e-20, max=3e-20, mean=2e-20, std=8e-21, sum=6e-20)}
    text = _rendered(Summary("stats", None, 3, before))
    assert "2e-20" in text and "6e-20" in text


def test_before_and_after_fit_an_80_column_terminal():
    figures = _figures(min=-31.666, max=27.093, mean=-0.50728, std=10.284, sum=-506.78, count=999)
    text = _rendered(Summary("zscore", "column", 999, {"f0": figures}, {"f0": figures}))
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "-506.78" in text and "…" not in text

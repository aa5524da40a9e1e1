"""The summary's rendering: figures a person can read at a glance."""

import io
import json
import subprocess
import sys
import time

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


def test_an_unnamed_index_is_shown_as_index():
    summary = Summary("zscore", "column", 3, {"": _figures()}, {"": _figures()}, skipped={"": "row labels (an index)"})
    lines = _rendered(summary).splitlines()
    assert "(index)" in lines
    assert "  (index)  row labels (an index)" in lines


def test_whole_numbers_up_to_1e15_are_written_out_with_separators():
    figures = _figures(min=6889.0, max=996790.0, mean=506821.93, std=278778.84, sum=174346743.0, count=344)
    text = _rendered(Summary("stats", None, 344, {"mass": figures}), width=120)
    row = next(line for line in text.splitlines() if line.startswith("  ") and "344" in line).split()
    assert row[2:] == ["6889", "996,790", "506,822", "278,779", "174,346,743"]  # four digits unseparated, as a year
    assert "e+" not in text


def test_beyond_1e15_numbers_keep_their_exponent():
    figures = _figures(min=1e16, max=3e16, mean=2e16, std=1e16, sum=6e16)
    text = _rendered(Summary("stats", None, 3, {"big": figures}), width=120)
    assert "1e+16" in text and "6e+16" in text


def test_the_sum_has_the_digits_of_the_other_figures():
    # min, mean and max need 7 digits to differ; the sum gets as many.
    figures = _figures(min=1000.001, max=1000.003, mean=1000.002, std=0.001, sum=3000.006)
    text = _rendered(Summary("stats", None, 3, {"a": figures}), width=120)
    assert text.splitlines()[-1].split()[2:] == ["1000.001", "1000.003", "1000.002", "0.001", "3000.006"]


def test_the_last_line_says_what_was_written_where():
    summary = Summary("zscore", "column", 344, {"a": _figures()}, {"a": _figures()}, output="out.csv", warnings=["w"])
    assert _rendered(summary).splitlines()[-2:] == ["wrote 344 rows to out.csv", "1 warning, listed above"]
    one = Summary("zscore", "column", 1, {"a": _figures()}, {"a": _figures()}, output="standard output")
    assert _rendered(one).splitlines()[-1] == "wrote 1 row to standard output"


def test_the_time_taken_is_the_whole_runs(tmp_path):
    # Starting Python and loading numpy and polars are most of a short run: they count.
    (tmp_path / "in.csv").write_text("a\n1\n2\n3\n")
    command = [sys.executable, "-m", "softnorm_cli", "zscore", "in.csv", "-o", "out.csv", "--summary-json", "s.json"]
    started = time.monotonic()
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    wall = time.monotonic() - started
    elapsed = json.loads((tmp_path / "s.json").read_text())["elapsed"]
    assert 0.5 * wall <= elapsed <= wall + 0.02  # the start is known to 10 ms; the exit is not counted

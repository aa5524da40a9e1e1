"""The summary's pictures: bin counts as np.histogram gives them, the same whatever the
batches, drawn as wide as the console allows, plain where colour or blocks are not wanted."""

from __future__ import annotations

import io
import json

import numpy as np
import polars as pl
import pytest
from rich.console import Console

from softnorm_cli.cli.render import render
from softnorm_cli.cli.sparkline import BLOCKS, PLAIN, sparkline
from softnorm_cli.engine.pictures import Picture
from softnorm_cli.engine.summary import Summary
from softnorm_cli.numeric.histogram import BINS, bin_counts


def _histogram(values, low, high) -> list[int]:
    values = np.asarray(values, dtype=np.float64)
    return np.histogram(values[~np.isnan(values)], bins=BINS, range=(low, high))[0].tolist()


# -- the kernel ---------------------------------------------------------------


def test_bin_counts_are_numpys_histogram():
    rng = np.random.default_rng(11)
    values = np.column_stack([rng.normal(size=100_000), rng.exponential(3.0, size=100_000), rng.uniform(-5, 5, 100_000)])
    values[::101, 1] = np.nan
    low, high = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    counts = bin_counts(np.asfortranarray(values), low, high)
    assert counts.shape == (3, BINS)
    for j in range(3):
        assert counts[j].tolist() == _histogram(values[:, j], low[j], high[j])
    assert counts[1].sum() == np.count_nonzero(~np.isnan(values[:, 1]))


def test_bin_counts_merge_by_addition():
    rng = np.random.default_rng(12)
    values = rng.normal(size=(9_999, 2))
    low, high = values.min(axis=0), values.max(axis=0)
    pieces = sum(bin_counts(values[i : i + 1000], low, high) for i in range(0, len(values), 1000))
    assert (pieces == bin_counts(values, low, high)).all()


def test_a_constant_column_counts_in_its_first_bin():
    counts = bin_counts(np.array([[2.0], [2.0], [np.nan]]), np.array([2.0]), np.array([2.0]))
    assert counts[0, 0] == 2 and counts.sum() == 2


# -- the command line ---------------------------------------------------------


def _table(rows: int = 3000, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "g": rng.choice(["a", "b", "c", "d"], rows, p=[0.4, 0.3, 0.2, 0.1]).tolist(),
            "x": rng.normal(10.0, 2.0, rows),
            "y": rng.gamma(2.0, 3.0, rows),
        }
    )


def _summary(invoke_ok, *args) -> dict:
    invoke_ok(*args, "--summary-json", "s.json")
    with open("s.json") as f:
        return json.load(f)


def test_before_and_after_bins_are_the_histograms_of_input_and_output(invoke_ok, workdir):
    frame = _table()
    frame.write_csv("in.csv")
    summary = _summary(invoke_ok, "zscore", "in.csv", "-c", "x,y", "-o", "out.csv")
    out = pl.read_csv("out.csv")
    for name in ("x", "y"):
        bins = summary["columns"][name]["bins"]
        before, after = frame[name].to_numpy(), out[name].to_numpy()
        assert (bins["before"]["low"], bins["before"]["high"]) == (before.min(), before.max())
        assert bins["before"]["counts"] == _histogram(before, before.min(), before.max())
        assert bins["after"]["low"] == pytest.approx(after.min(), rel=1e-12)
        assert bins["after"]["high"] == pytest.approx(after.max(), rel=1e-12)
        assert bins["after"]["counts"] == _histogram(after, bins["after"]["low"], bins["after"]["high"])


def test_group_bins_are_the_histograms_of_the_output_and_of_group_sizes(invoke_ok, workdir):
    frame = _table()
    frame.write_csv("in.csv")
    summary = _summary(invoke_ok, "minmax", "in.csv", "-c", "x,y", "-g", "g", "--range", "-1,1", "-o", "out.csv")
    out = pl.read_csv("out.csv")
    for name in ("x", "y"):
        after = summary["columns"][name]["bins"]["after"]
        assert (after["low"], after["high"]) == (-1.0, 1.0)
        assert after["counts"] == _histogram(out[name].to_numpy(), -1.0, 1.0)
    sizes = frame["g"].value_counts()["count"].to_numpy()
    bins = summary["groups"]["size_bins"]
    assert (bins["low"], bins["high"]) == (sizes.min(), sizes.max())
    assert bins["counts"] == _histogram(sizes, sizes.min(), sizes.max())


def test_row_softmax_bins_each_rows_largest_probability(invoke_ok, workdir):
    _table().write_csv("in.csv")
    summary = _summary(invoke_ok, "softmax", "in.csv", "-c", "x,y", "-o", "out.csv")
    probabilities = pl.read_csv("out.csv").select("x", "y").to_numpy()
    assert summary["row_max_bins"] == {"low": 0.0, "high": 1.0, "counts": _histogram(probabilities.max(axis=1), 0.0, 1.0)}
    # One pass: the input's range is not known before its rows are; the probabilities' is.
    assert list(summary["columns"]["x"]["bins"]) == ["after"]
    assert summary["columns"]["x"]["bins"]["after"]["counts"] == _histogram(probabilities[:, 0], 0.0, 1.0)


@pytest.mark.parametrize(
    "args",
    [["zscore", "-c", "x,y"], ["zscore", "-c", "x,y", "-g", "g"], ["softmax", "-c", "x,y"], ["minmax", "--axis", "all", "-c", "x,y"]],
    ids=lambda a: "-".join(a),
)
def test_bins_do_not_depend_on_the_batches(invoke_ok, workdir, args):
    _table(rows=5000).write_csv("in.csv")
    whole = _summary(invoke_ok, *args, "in.csv", "-o", "out.csv")
    batched = _summary(invoke_ok, *args, "in.csv", "-o", "out.csv", "--batch-rows", "333")
    assert [whole["columns"][n]["bins"] for n in ("x", "y")] == [batched["columns"][n]["bins"] for n in ("x", "y")]
    assert whole["row_max_bins"] == batched["row_max_bins"]
    assert (whole["groups"] or {}).get("size_bins") == (batched["groups"] or {}).get("size_bins")
    assert any(whole["columns"]["x"]["bins"].values())


def test_saved_parameters_draw_no_pictures(invoke_ok, workdir):
    # The fit's range is another table's: this one's values may lie anywhere.
    _table().write_csv("in.csv")
    invoke_ok("zscore", "in.csv", "-c", "x,y", "--save-params", "p.json", "-o", "out.csv")
    summary = _summary(invoke_ok, "zscore", "in.csv", "--params", "p.json", "-o", "out.csv")
    assert summary["columns"]["x"]["bins"] == {}


def test_no_color_draws_plain_characters(invoke_ok, workdir):
    _table().write_csv("in.csv")
    drawn = invoke_ok("zscore", "in.csv", "-c", "x,y", "-o", "out.csv", "--summary", env={"NO_COLOR": None}).stderr
    plain = invoke_ok("zscore", "in.csv", "-c", "x,y", "-o", "out.csv", "--summary", env={"NO_COLOR": "1"}).stderr
    assert set(BLOCKS[1:]) & set(drawn)
    assert not set(BLOCKS[1:]) & set(plain)
    assert "@" in plain  # the fullest bin


# -- drawing --------------------------------------------------------------------


def test_sparkline_heights_and_widths():
    counts = [0] * 60 + [1, 2, 4, 8]
    assert sparkline(counts, 64) == " " * 60 + BLOCKS[1] + BLOCKS[2] + BLOCKS[4] + BLOCKS[8]
    assert sparkline(counts, 16) == " " * 15 + BLOCKS[8]  # bins summed four by four
    assert sparkline(counts, 64, plain=True) == " " * 60 + PLAIN[1] + PLAIN[2] + PLAIN[4] + PLAIN[8]


def _figures():
    # As wide as figures get on an 80-column terminal.
    return {"count": 999, "missing": 0, "min": -31.666, "max": 27.093, "mean": -0.50728, "std": 10.284, "sum": -506.78}


def _rendered(width: int, **console) -> list[str]:
    counts = list(range(BINS))
    pictures = {"a": {"before": Picture(1.0, 3.0, counts), "after": Picture(-1.0, 1.0, counts)}}
    summary = Summary("zscore", "column", 3, {"a": _figures()}, {"a": _figures()}, pictures=pictures)
    out = io.StringIO()
    render(summary, Console(file=out, width=width, color_system=None, **console))
    return out.getvalue().splitlines()


def test_pictures_follow_the_console_width():
    wide = _rendered(200)
    before = next(line for line in wide if line.startswith("  before"))
    assert before.endswith(sparkline(list(range(BINS)), 64))
    narrow = _rendered(80)
    assert all(len(line) <= 80 for line in narrow)
    name = next(line for line in narrow if line.startswith("a "))
    assert name == "a  " + sparkline(list(range(BINS)), 16) + " → " + sparkline(list(range(BINS)), 16)


def test_a_terminal_without_block_characters_gets_plain_ones():
    from softnorm_cli.cli.sparkline import plain_console

    ascii_terminal = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    assert plain_console(Console(file=ascii_terminal, force_terminal=True))
    assert not plain_console(Console(file=io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), force_terminal=True, no_color=False))

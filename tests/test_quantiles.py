"""Exact percentiles read in passes (numeric.quantiles) and ``softnorm stats --quantiles``:
the figures of ``np.nanpercentile`` to the bit, whatever the batches, parts or passes."""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

import softnorm_cli.numeric.quantiles as quantiles_module
from helpers import expect_error, parts_table, write_parts
from softnorm_cli.numeric.percentile import from_keys, to_keys
from softnorm_cli.numeric.quantiles import QuantilePlan, percentiles

Q = [0, 1e-9, 1, 25, 33.3, 50, 75, 99, 99.999, 100]


def numpy_percentiles(column: np.ndarray, q=Q) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN, and inf - inf
        return np.asarray(np.nanpercentile(column, q), dtype=np.float64)


def streamed(column: np.ndarray, batch: int, q=Q) -> np.ndarray:
    values = column.reshape(-1, 1)
    return percentiles(lambda: (values[i : i + batch] for i in range(0, len(values), batch)), q, 1)[0]


def bits(values) -> list[int]:
    return np.asarray(values, dtype=np.float64).view(np.uint64).tolist()


rng = np.random.default_rng(7)
COLUMNS = {
    "normal": rng.normal(size=3000),
    "repeated": rng.integers(0, 4, 3000).astype(float),
    "ties": np.repeat([1.5, -2.0, 7.25], [1000, 3, 1]),
    "constant": np.full(500, 3.25),
    "huge": np.array([1e308, -1e308, 1.0, 1e308, -1e308]),
    "subnormal": np.array([5e-324, -5e-324, 1e-310, -1e-310, 2.5e-320, 0.0]),
    "with nan": np.where(rng.random(2000) < 0.3, np.nan, rng.normal(size=2000)),
    "infinities": np.array([1.0, np.inf, -np.inf, 2.0, np.inf, 3.0]),
    "one and inf": np.array([1.0, np.inf]),
    "both infinities": np.array([-np.inf, np.inf]),
    "single": np.array([42.0]),
    "all missing": np.full(4, np.nan),
    "negative zeros": np.array([-0.0, -0.0, -0.0, 1.0]),
    "zeros": np.array([0.0, 0.0, -1.0]),
}


@pytest.mark.parametrize("batch", [1, 7, 65_537, None], ids=["1", "7", "65537", "one"])
@pytest.mark.parametrize("name", list(COLUMNS))
def test_the_bits_of_nanpercentile_at_any_batch_size(name, batch):
    column = COLUMNS[name]
    if batch == 1 and column.size > 600:
        column = column[:600]  # a batch a row: the same code, in fewer calls
    got = streamed(column, batch or len(column))
    assert bits(got) == bits(numpy_percentiles(column))


def test_mixed_zeros_are_equal_to_numpys_but_their_sign_is_not_promised():
    # numpy's partition leaves -0.0 and 0.0 in no order: only the value is the same.
    column = np.array([0.0, -0.0, 0.0, -0.0, 2.0])
    assert (streamed(column, 2) == numpy_percentiles(column)).all()


def test_keys_keep_the_order_of_the_numbers_and_come_back_whole():
    values = np.array([-np.inf, -1e308, -1.0, -5e-324, -0.0, 0.0, 5e-324, 1.0, 1e308, np.inf])
    keys = to_keys(values)
    assert (np.diff(keys.astype(object)) > 0).all()
    assert bits(from_keys(keys)) == bits(values)


def test_five_parts_merged_are_the_whole_and_the_passes_travel_by_pickle():
    column = np.round(rng.normal(size=10_000), 2) + 0.0
    column[::13] = np.nan
    parts = np.array_split(column.reshape(-1, 1), 5)
    plan = QuantilePlan(Q, 1)
    while not plan.done:
        first = plan.start()
        works = []
        for part in parts:
            work = pickle.loads(pickle.dumps(first))  # as a cluster's task gets it
            work.add(part)
            works.append(pickle.loads(pickle.dumps(work)))
        merged = works[0]
        for work in works[1:]:
            merged = merged.merge(work)
        plan.finish(merged)
    assert bits(plan.result()[0]) == bits(numpy_percentiles(column))


def test_crowded_buckets_take_more_passes_with_no_more_memory(monkeypatch):
    monkeypatch.setattr(quantiles_module, "COLLECTED", 16)  # a bucket of more than 16 values is counted again
    column = np.concatenate([np.full(5000, 1.0) + np.arange(5000) * 2.0**-40, [-3.0, 9.0]])
    plan = QuantilePlan(Q, 1)
    while not plan.done:
        work = plan.start()
        for block in np.array_split(column.reshape(-1, 1), 3):
            work.add(block)
        assert sum(len(keys) for keys, _ in work.collected) <= 16 * len(work.probes)
        plan.finish(work)
    assert plan.passes > 2
    assert bits(plan.result()[0]) == bits(numpy_percentiles(column))


def test_columns_at_once_are_each_column_alone():
    block = np.column_stack([COLUMNS["normal"][:2000], COLUMNS["with nan"], COLUMNS["repeated"][:2000]])
    got = percentiles(lambda: iter(np.array_split(block, 4)), Q, 3)
    for i in range(3):
        assert bits(got[i]) == bits(numpy_percentiles(block[:, i]))


def test_percentiles_outside_0_to_100_are_refused():
    with pytest.raises(ValueError, match="from 0 to 100"):
        QuantilePlan([50, 100.5], 1)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, 1.0, -1.0]), min_size=1, max_size=60),
    st.lists(st.floats(0, 100), min_size=1, max_size=4),
    st.integers(1, 9),
)
def test_property_any_column_any_q(values, q, batch):
    column = np.array(values, dtype=np.float64)
    if ((column == 0) & np.signbit(column)).any() and ((column == 0) & ~np.signbit(column)).any():
        column[column == 0] = 0.0  # mixed zeros: see above
    assert bits(streamed(column, batch, q)) == bits(numpy_percentiles(column, q))


# -- softnorm stats --quantiles ------------------------------------------------


def test_stats_quantiles_of_a_csv_are_numpys(invoke_ok, workdir):
    frame = parts_table(3000)
    frame.to_pandas().to_csv("in.csv", index=False)
    result = invoke_ok("stats", "in.csv", "-c", "x,y,z", "--quantiles", "1,25,50,75,99", "--json")
    columns = json.loads(result.stdout)["columns"]
    for name in ("x", "y", "z"):
        want = numpy_percentiles(frame[name].to_numpy().astype(float), [1, 25, 50, 75, 99])
        assert [columns[name][f"p{q}"] for q in (1, 25, 50, 75, 99)] == want.tolist()
        assert columns[name]["count"] == frame[name].drop_nulls().len()


def test_stats_quantiles_from_standard_input_read_twice(invoke_ok, workdir):
    values = np.round(rng.normal(size=40_000), 3) + 0.0
    text = pd.DataFrame({"v": values}).to_csv(index=False)
    result = invoke_ok("stats", "--quantiles", "50,99.9", "--json", "--batch-rows", "64KB", input=text)
    figures = json.loads(result.stdout)["columns"]["v"]
    assert [figures["p50"], figures["p99.9"]] == numpy_percentiles(values, [50, 99.9]).tolist()


def test_stats_quantiles_of_a_dataset_are_those_of_the_single_file(invoke_ok, workdir):
    frame = parts_table(2000)
    frame.write_parquet("whole.parquet")
    write_parts("parts", frame, "parquet", parts=5)
    args = ["-c", "x,z", "--quantiles", "0,1,50,99,100", "--json"]
    whole = json.loads(invoke_ok("stats", "whole.parquet", *args).stdout)
    parted = json.loads(invoke_ok("stats", "parts", *args).stdout)
    assert parted["columns"] == whole["columns"]
    assert whole["columns"]["z"]["p50"] == numpy_percentiles(frame["z"].to_numpy().astype(float), [50])[0]


def test_stats_quantiles_in_the_summary_and_with_groups(invoke_ok, write_file):
    write_file("s.csv", "g,a\nx,1\nx,3\ny,5\ny,inf\n")
    result = invoke_ok("stats", "s.csv", "--quantiles", "25,50", "-g", "g")
    lines = result.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == ["column", "p25", "p50"])
    assert lines[header + 1].split() == ["a", "2.5", "4"]
    data = json.loads(invoke_ok("stats", "s.csv", "--quantiles", "25,50", "-g", "g", "--json").stdout)
    assert data["columns"]["a"]["p50"] == 4.0  # of the whole table; the groups keep their figures
    assert "p50" not in data["groups"]["figures"][0]["columns"]["a"]


def test_stats_quantiles_refuses_a_percentile_past_100(invoke, write_file):
    write_file("s.csv", "a\n1\n")
    result = invoke("stats", "s.csv", "--quantiles", "50,101")
    assert result.exit_code == 2
    assert "must be a comma list of numbers from 0 to 100, got '50,101'" in result.stderr


def test_stats_quantiles_of_a_bad_cell_is_one_line(invoke, write_file):
    write_file("s.csv", "a\n1\nzz\n")
    expect_error(invoke("stats", "s.csv", "-c", "a", "--quantiles", "50"), "column 'a', row 2: 'zz' is not a number")


def test_quantiles_on_a_dask_cluster_merge_to_the_whole():
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    column = np.round(rng.normal(size=20_000), 2) + 0.0
    parts = np.array_split(column.reshape(-1, 1), 5)

    def count(work, part):
        work.add(part)
        return work

    with distributed.Client(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address="127.0.0.1:0", silence_logs=50
    ) as client:
        plan = QuantilePlan(Q, 1)
        while not plan.done:
            work = plan.start()
            done = client.gather([client.submit(count, work, part, pure=False) for part in parts])
            merged = done[0]
            for other in done[1:]:
                merged = merged.merge(other)
            plan.finish(merged)
    assert bits(plan.result()[0]) == bits(numpy_percentiles(column))


@pytest.mark.parametrize("few", [0, 10**9])
def test_probes_selected_apart_or_sorted_all_at_once_give_the_same_bits(monkeypatch, few):
    monkeypatch.setattr(quantiles_module, "_FEW", few)
    rng = np.random.default_rng(21)
    values = np.round(rng.lognormal(size=(20_000, 3)), 2)  # ties
    values[::11, 1] = np.nan
    groups = rng.integers(0, 40, values.shape[0])
    q = np.linspace(0, 100, 101)
    plan = QuantilePlan(q, 40 * 3, counts=np.array([[np.sum((groups == g) & ~np.isnan(values[:, c])) for c in range(3)] for g in range(40)]).ravel())
    while not plan.done:
        work = plan.start()
        for rows in np.array_split(np.arange(values.shape[0]), 7):
            work.add(values[rows], groups[rows])
        plan.finish(work)
    got = plan.result().reshape(40, 3, -1)
    for g in (0, 17, 39):
        for c in range(3):
            assert bits(got[g, c]) == bits(numpy_percentiles(values[groups == g, c], q))


def test_columns_of_close_values_take_a_pass_less_when_their_extremes_are_known(monkeypatch):
    monkeypatch.setattr(quantiles_module, "COLLECTED", 1 << 12)  # a bucket of 1e9 + noise is counted again, and again
    rng = np.random.default_rng(31)
    values = np.column_stack([1e9 + rng.normal(size=300_000), 1.7e15 + rng.integers(0, 10**6, 300_000), -np.abs(rng.normal(size=300_000)) * 1e-300])
    q = [1, 25, 50, 75, 99]

    def passes(bounds):
        plan = QuantilePlan(q, 3, bounds=bounds)
        while not plan.done:
            work = plan.start()
            for block in np.array_split(values, 5):
                work.add(block)
            plan.finish(work)
        return plan.passes, plan.result()

    plain, without = passes(None)
    cut, within = passes((values.min(axis=0), values.max(axis=0)))
    assert cut < plain
    for c in range(3):
        assert bits(within[c]) == bits(without[c]) == bits(numpy_percentiles(values[:, c], q))

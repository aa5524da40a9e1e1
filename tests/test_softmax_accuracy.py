"""Softmax and log-softmax within a few ulps of the exact values at any temperature.

The reference is computed in 200-bit arithmetic (mpmath) from the very
doubles given. An error is counted in ulps of the exact value (in the
subnormal range, of the smallest subnormal): softmax must be within 4 ulps
and log-softmax within 2, per row, per column, fitted in one piece or
merged over chunks of 1 and 7 rows, and with -inf, +inf and missing values
in the rows.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import mpmath
import numpy as np
import pandas as pd
import pytest

from softnorm_cli.numeric.methods import Softmax
from softnorm_cli.numeric.reduce import Reduction

TEMPERATURES = [0.01, 0.1, 1.0, 100.0]
BOUND = {False: 4.0, True: 2.0}  # ulps: softmax, log-softmax


def logits(rows: int = 120, columns: int = 6, seed: int = 7) -> np.ndarray:
    """N(0, 10) logits, column-major as the readers lay out blocks."""
    return np.asfortranarray(np.random.default_rng(seed).normal(0.0, 10.0, size=(rows, columns)))


def with_infinities(x: np.ndarray, seed: int = 8) -> np.ndarray:
    """``x`` with about 6% -inf, 6% missing and, in a few rows, +inf."""
    rng = np.random.default_rng(seed)
    x = x.copy(order="F")
    draw = rng.random(x.shape)
    x[draw < 0.06] = -np.inf
    x[(draw >= 0.06) & (draw < 0.12)] = np.nan
    x[draw > 0.985] = np.inf
    x[0, :] = -np.inf  # a row of only -inf: no softmax
    x[1, 1:] = -np.inf  # a row whose one finite value takes all the mass
    return x


def exact(line: list[float], temperature: float, log: bool) -> list:
    """The exact softmax of one group (missing values omitted; +inf entries share the mass)."""
    present = [i for i, v in enumerate(line) if v == v]
    out: list = [mpmath.mpf("nan")] * len(line)
    top = [i for i in present if line[i] == np.inf]
    if top:
        for i in present:
            on = i in top
            out[i] = (-mpmath.log(len(top)) if on else -mpmath.inf) if log else (mpmath.mpf(1) / len(top) if on else 0)
        return out
    scaled = {i: mpmath.mpf(line[i]) / mpmath.mpf(temperature) for i in present if line[i] > -np.inf}
    if not scaled:
        return out
    first = max(scaled, key=scaled.get)
    peak = scaled[first]
    # log S = log1p(the sum without one maximum): S itself rounds to 1 when the maximum dominates.
    log_sum = mpmath.log1p(mpmath.fsum(mpmath.exp(q - peak) for i, q in scaled.items() if i != first))
    for i in present:
        if i not in scaled:
            out[i] = -mpmath.inf if log else mpmath.mpf(0)
        else:
            out[i] = scaled[i] - peak - log_sum if log else mpmath.exp(scaled[i] - peak - log_sum)
    return out


def exact_block(x: np.ndarray, temperature: float, log: bool, axis: int) -> np.ndarray:
    lines = x if axis == 1 else x.T
    out = np.array([exact(line.tolist(), temperature, log) for line in lines], dtype=object)
    return out if axis == 1 else out.T


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """|got - want| in ulps of ``want``; 0 where both are the same NaN or infinity, inf where only one is."""
    errors = np.empty(got.size)
    for k, (g, w) in enumerate(zip(got.ravel().tolist(), want.ravel().tolist())):
        if mpmath.isnan(w) or mpmath.isinf(w) or w == 0:
            same = (g != g) if mpmath.isnan(w) else g == w
            errors[k] = 0.0 if same else np.inf
            continue
        ulp = mpmath.mpf(2) ** max(mpmath.frexp(w)[1] - 53, -1074)
        errors[k] = float(abs(mpmath.mpf(g) - w) / ulp)
    return errors.reshape(got.shape)


def merged(method: Softmax, x: np.ndarray, rows: int | None) -> np.ndarray:
    """The column softmax fitted over chunks of ``rows`` rows (fed in batches of 5), merged."""
    reduction = Reduction(lambda block: method.fit(block, 0), method.merge, rows=rows)
    for start in range(0, len(x), 5):
        reduction.add(np.asfortranarray(x[start : start + 5]))
    return method.transform(x, method.finish(reduction.result()))


@pytest.fixture(autouse=True)
def precision():
    with mpmath.workprec(200):
        yield


@pytest.fixture(scope="module")
def block() -> np.ndarray:
    return logits()


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_rows_within_bound(block, temperature, log):
    method = Softmax(temperature=temperature, log=log)
    errors = ulps(method.fit_transform(block, 1)[0], exact_block(block, temperature, log, 1))
    assert errors.max() <= BOUND[log], f"max {errors.max():.3g} ulp"
    # The transform of fitted statistics (what --params applies) is as good.
    again = ulps(method.transform(block, method.finish(method.fit(block, 1))), exact_block(block, temperature, log, 1))
    assert again.max() <= BOUND[log]


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_columns_within_bound_whole_or_merged(block, temperature, log):
    method = Softmax(temperature=temperature, log=log)
    want = exact_block(block, temperature, log, 0)
    results = {"whole": method.fit_transform(block, 0)[0], **{rows: merged(method, block, rows) for rows in (1, 7, None)}}
    for rows, got in results.items():
        errors = ulps(got, want)
        assert errors.max() <= BOUND[log], f"chunks of {rows}: max {errors.max():.3g} ulp"


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("temperature", [0.01, 1.0, 100.0])
def test_infinities_and_missing_within_bound(block, temperature, log):
    x = with_infinities(block)
    method = Softmax(temperature=temperature, log=log)
    for axis in (1, 0):
        want = exact_block(x, temperature, log, axis)
        for name, got in (("whole", method.fit_transform(x, axis)[0]), ("merged", merged(method, x, 7) if axis == 0 else None)):
            if got is not None:
                errors = ulps(got, want)
                assert errors.max() <= BOUND[log], f"axis {axis}, {name}: max {errors.max():.3g} ulp"


def test_dominant_maximum_keeps_its_log_probability():
    # exp(-300) is lost next to 1 in a double: log(S) would be 0, and the
    # maximum's log-probability 0 instead of -exp(-300).
    got = Softmax(temperature=0.5, log=True).fit_transform(np.array([[150.0, 0.0]]), 1)[0]
    assert ulps(got, np.array([[-mpmath.exp(-300), -300 - mpmath.exp(-300)]], dtype=object)).max() <= 1.0


@pytest.mark.parametrize("extra", [[], ["--log"]])
@pytest.mark.parametrize("axis", ["row", "column"])
def test_command_within_bound_for_every_batch_size(invoke_ok, write_file, parse, to_floats, extra, axis):
    x = logits(rows=60, columns=4, seed=11)
    names = ["a", "b", "c", "d"]
    write_file("logits.csv", pd.DataFrame(x, columns=names).to_csv(index=False, float_format="%.17g"))
    want = exact_block(x, 0.01, bool(extra), 1 if axis == "row" else 0)
    outputs = set()
    for batch in ([], ["--batch-rows", "1"], ["--batch-rows", "7"]):
        text = invoke_ok("softmax", "logits.csv", "--temperature", "0.01", "--axis", axis, *extra, *batch).stdout
        outputs.add(text)
        table = parse(text)
        got = np.column_stack([to_floats(table[name]) for name in names])
        assert ulps(got, want).max() <= BOUND[bool(extra)]
    assert len(outputs) == 1


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("temperature", [1.0, 0.01])
@pytest.mark.parametrize("axis", [1, 0])
def test_large_blocks_give_the_bits_of_small_ones(temperature, axis, log):
    # Large blocks are worked through in tiles of rows that stay in the cache;
    # a value's result must not depend on them.
    x = logits(rows=40_000, columns=3, seed=12)
    method = Softmax(temperature=temperature, log=log)
    stats = method.finish(method.fit(x, axis))
    whole = method.transform(x, stats)
    starts = range(0, len(x), 999)
    if axis == 1:  # each row its own group: pieces fitted on their own
        pieces = np.vstack([method.fit_transform(x[s : s + 999], 1)[0] for s in starts])
        np.testing.assert_array_equal(method.fit_transform(x, 1)[0], pieces)
    else:
        pieces = np.vstack([method.transform(x[s : s + 999], stats) for s in starts])
    np.testing.assert_array_equal(whole, pieces)


def test_records_without_log_sum_exp_still_apply(invoke_ok, write_file):
    # Records saved before log_sum_exp was kept: it is made from sum_exp.
    x = logits(rows=30, columns=3, seed=13)
    write_file("train.csv", pd.DataFrame(x, columns=["a", "b", "c"]).to_csv(index=False, float_format="%.17g"))
    for extra in ([], ["--log"]):
        invoke_ok("softmax", "train.csv", "--axis", "column", *extra, "--fit-only", "--save-params", "p.json")
        record = json.loads(Path("p.json").read_text())
        for group in record["groups"]:
            for figures in group["statistics"].values():
                assert "log_sum_exp" in figures
                del figures["log_sum_exp"]
        Path("old.json").write_text(json.dumps(record))
        new = invoke_ok("softmax", "train.csv", "--params", "p.json").stdout
        old = invoke_ok("softmax", "train.csv", "--params", "old.json").stdout
        if extra:  # log S from S alone: a little less precise
            assert old.splitlines()[0] == new.splitlines()[0]
            read = [np.loadtxt(io.StringIO(text), delimiter=",", skiprows=1) for text in (old, new)]
            np.testing.assert_allclose(*read, rtol=1e-13)
        else:
            assert old == new

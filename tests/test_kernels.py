"""Unit tests of the numeric kernels and the methods (softnorm_cli.numeric.kernels, softnorm_cli.numeric.methods).

References: scipy.special.softmax / log_softmax, scipy.stats.zscore and
scikit-learn's MinMaxScaler / StandardScaler. The spec is the README, "The math".
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from functools import reduce

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special, stats
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from softnorm_cli.numeric.kernels import ExpSums, Moments
from softnorm_cli.numeric.methods import MinMax, Softmax, ZScore, normalize

AXES = [1, 0, None]
INF = np.inf
NAN = np.nan


@contextmanager
def no_warnings():
    """Any warning (numpy's RuntimeWarning included) inside the block is an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


def a2(rows):
    return np.array(rows, dtype=np.float64)


def groups(x, axis):
    """The groups of a 2-D block as 1-D arrays, in a fixed order."""
    if axis == 1:
        return [x[i, :] for i in range(x.shape[0])]
    if axis == 0:
        return [x[:, j] for j in range(x.shape[1])]
    return [x.ravel()]


def apply_groupwise(func, x, axis):
    """Apply a 1-D reference ``func`` to each group, writing results back in place."""
    out = np.empty_like(x)
    if axis == 1:
        for i in range(x.shape[0]):
            out[i, :] = func(x[i, :])
    elif axis == 0:
        for j in range(x.shape[1]):
            out[:, j] = func(x[:, j])
    else:
        out[...] = func(x.ravel()).reshape(x.shape)
    return out


def sklearn_groupwise(scaler, x, axis):
    """scikit-learn scales columns; rows are the columns of x.T; all is one column."""
    if axis == 0:
        return scaler.fit_transform(x)
    if axis == 1:
        return scaler.fit_transform(x.T).T
    return scaler.fit_transform(x.reshape(-1, 1)).reshape(x.shape)


def with_nans(x, rng, fraction=0.2):
    x = x.copy()
    x[rng.random(x.shape) < fraction] = NAN
    return x


# --------------------------------------------------------------------------
# Softmax against scipy
# --------------------------------------------------------------------------


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("temperature", [1.0, 0.25, 3.0])
def test_softmax_matches_scipy(rng, axis, temperature):
    x = rng.normal(0.0, 4.0, size=(9, 5))
    got = normalize(Softmax(temperature=temperature), x, axis)
    assert_allclose(got, special.softmax(x / temperature, axis=axis), rtol=1e-13, atol=0)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("temperature", [1.0, 0.25, 3.0])
def test_log_softmax_matches_scipy(rng, axis, temperature):
    x = rng.normal(0.0, 4.0, size=(9, 5))
    got = normalize(Softmax(temperature=temperature, log=True), x, axis)
    # Log values close to 0 only have an absolute precision of a few ulp of
    # the shifted logits, hence the small atol.
    assert_allclose(got, special.log_softmax(x / temperature, axis=axis), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("axis", AXES)
def test_softmax_groups_are_distributions(rng, axis):
    x = rng.normal(0.0, 10.0, size=(6, 4))
    got = normalize(Softmax(), x, axis)
    for g in groups(got, axis):
        assert math.isclose(g.sum(), 1.0, rel_tol=1e-14)
        assert (g >= 0).all()


def test_softmax_keeps_shape_and_dtype(rng):
    x = rng.normal(size=(3, 7))
    for axis in AXES:
        assert normalize(Softmax(), x, axis).shape == x.shape
        assert normalize(Softmax(), x, axis).dtype == np.float64


# --------------------------------------------------------------------------
# Softmax: numerical stability and infinities
# --------------------------------------------------------------------------


def test_softmax_large_logits_no_overflow():
    x = a2([[1000.0, 0.0], [0.0, 1000.0], [1000.0, 1000.0]])
    with no_warnings():
        got = normalize(Softmax(), x, 1)
    assert_allclose(got, [[1.0, math.exp(-1000)], [math.exp(-1000), 1.0], [0.5, 0.5]], rtol=1e-15, atol=0)
    assert np.isfinite(got).all()


def test_softmax_extreme_logits_no_overflow_no_warning():
    # The spec: shift by the max before dividing by T, so extreme logits never
    # overflow. The true softmax of [1e308, -1e308] is [1, 0] to float64.
    x = a2([[1e308, -1e308], [-1e308, 1e308], [1e308, 1e308]])
    with no_warnings():
        got = normalize(Softmax(), x, 1)
    assert_array_equal(got, [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])


def test_log_softmax_extreme_logits_no_warning():
    x = a2([[1e308, -1e308]])
    with no_warnings():
        got = normalize(Softmax(log=True), x, 1)
    # (-1e308 - 1e308) is -2e308, which float64 can only hold as -inf.
    assert_array_equal(got, [[0.0, -INF]])


def test_softmax_extreme_logits_all_axis_no_warning():
    x = a2([[1e308, -1e308], [0.0, -1e308]])
    with no_warnings():
        got = normalize(Softmax(), x, None)
    assert_array_equal(got, [[1.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize("log", [False, True])
def test_softmax_tiny_temperature_on_large_logits(log):
    x = a2([[1000.0, 999.99, 990.0], [5e5, 5e5 - 1e-3, -5e5]])
    with no_warnings():
        got = normalize(Softmax(temperature=1e-3, log=log), x, 1)
    # The reference is exact (200 bits, from the very doubles): rounding
    # (x - max) / T first, as scipy's softmax(x / T) does x / T, is off by
    # ~1e-12 relative once exp magnifies it.
    with mpmath.workprec(200):
        ref = np.array([_exact_softmax(row, 1e-3, log) for row in x.tolist()])
    assert np.isfinite(got[:, :2]).all()
    assert_allclose(got, ref, rtol=1e-13, atol=0)
    if log:
        assert -1.000001e9 < got[1, 2] < -0.999999e9  # finite, not -inf
    else:
        e = math.exp(-10.0)
        assert_allclose(got[0], [1 / (1 + e), e / (1 + e), 0.0], rtol=1e-8)  # 999.99 is not exactly 1000 - 0.01
        assert got[1, 2] == 0.0


def _exact_softmax(row: list[float], temperature: float, log: bool) -> list[float]:
    scaled = [mpmath.mpf(v) / mpmath.mpf(temperature) for v in row]
    log_sum = max(scaled) + mpmath.log(mpmath.fsum(mpmath.exp(q - max(scaled)) for q in scaled))
    return [float(q - log_sum) if log else float(mpmath.exp(q - log_sum)) for q in scaled]


def test_log_softmax_is_not_log_of_underflowed_softmax():
    x = a2([[0.0, -1000.0], [0.0, -745.2], [-3000.0, 0.0]])
    with no_warnings():
        got = normalize(Softmax(log=True), x, 1)
    assert np.isfinite(got).all()
    assert_allclose(got, [[0.0, -1000.0], [-math.exp(-745.2), -745.2], [-3000.0, 0.0]], rtol=1e-15, atol=0)
    assert_allclose(got, special.log_softmax(x, axis=1), rtol=1e-15)


def test_log_softmax_with_temperature_stays_finite():
    x = a2([[0.0, -1000.0]])
    got = normalize(Softmax(temperature=0.5, log=True), x, 1)
    assert_allclose(got, [[0.0, -2000.0]], rtol=1e-15)


def test_softmax_posinf_entries_share_mass():
    x = a2([[INF, 1.0, INF], [INF, -INF, 3.0], [2.0, INF, INF], [1.0, 2.0, 3.0]])
    with no_warnings():
        got = normalize(Softmax(), x, 1)
    assert_array_equal(got[0], [0.5, 0.0, 0.5])
    assert_array_equal(got[1], [1.0, 0.0, 0.0])
    assert_array_equal(got[2], [0.0, 0.5, 0.5])
    assert_allclose(got[3], special.softmax([1.0, 2.0, 3.0]), rtol=1e-15)


def test_log_softmax_posinf_entries_share_mass():
    x = a2([[INF, 1.0, INF], [INF, INF, INF]])
    with no_warnings():
        got = normalize(Softmax(log=True), x, 1)
    assert_allclose(got[0], [math.log(0.5), -INF, math.log(0.5)], rtol=1e-15)
    assert_allclose(got[1], [math.log(1 / 3)] * 3, rtol=1e-15)


def test_softmax_posinf_with_temperature_and_columns():
    x = a2([[INF, 0.0], [1.0, INF], [INF, 5.0], [INF, 6.0]])
    got = normalize(Softmax(temperature=0.1), x, 0)
    assert_allclose(got, [[1 / 3, 0.0], [0.0, 1.0], [1 / 3, 0.0], [1 / 3, 0.0]], rtol=1e-15)


def test_softmax_neginf_entries_get_zero():
    x = a2([[-INF, 0.0, 0.0], [-INF, 1.0, -INF]])
    with no_warnings():
        got = normalize(Softmax(), x, 1)
        log = normalize(Softmax(log=True), x, 1)
    assert_array_equal(got, [[0.0, 0.5, 0.5], [0.0, 1.0, 0.0]])
    assert_allclose(log, [[-INF, math.log(0.5), math.log(0.5)], [-INF, 0.0, -INF]], rtol=1e-15)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_all_neginf_group_is_missing_and_flagged(log):
    x = a2([[-INF, -INF], [0.0, 0.0], [-INF, NAN]])
    method = Softmax(log=log)
    with no_warnings():
        norm = method.fit(x, 1)
        got = method.transform(x, method.finish(norm))
    assert np.isnan(got[0]).all()
    assert_allclose(got[1], [math.log(0.5)] * 2 if log else [0.5, 0.5], rtol=1e-15)
    assert np.isnan(got[2]).all()
    (mask, message), (alone, _) = method.problems(method.finish(norm))
    assert_array_equal(mask, [[True], [False], [True]])
    assert isinstance(message, str) and message
    assert not alone.any()  # a lone -inf has no softmax at all: flagged once, as missing


def test_softmax_all_nan_group_is_missing_but_not_flagged():
    x = a2([[NAN, NAN], [1.0, 1.0]])
    method = Softmax()
    norm = method.fit(x, 1)
    got = method.transform(x, method.finish(norm))
    assert np.isnan(got[0]).all()
    assert_array_equal(got[1], [0.5, 0.5])
    assert not any(mask.any() for mask, _ in method.problems(method.finish(norm)))


def test_softmax_problems_flag_nothing_on_clean_data(rng):
    x = rng.normal(size=(4, 3))
    method = Softmax()
    for mask, _ in method.problems(method.finish(method.fit(x, 1))):
        assert mask.shape == (4, 1)
        assert not mask.any()


@pytest.mark.parametrize("log", [False, True])
def test_softmax_flags_groups_of_one_value(log):
    x = a2([[3.0, NAN], [1.0, 2.0], [NAN, INF]])
    method = Softmax(log=log)
    got = method.transform(x, method.finish(method.fit(x, 1)))
    assert_array_equal(got[[0, 2], [0, 1]], [0.0, 0.0] if log else [1.0, 1.0])
    _, (alone, message) = method.problems(method.finish(method.fit(x, 1)))
    assert_array_equal(alone, [[True], [False], [True]])
    assert message == f"one value; results set to {0 if log else 1}"


# --------------------------------------------------------------------------
# MinMax against scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("feature_range", [(0.0, 1.0), (-1.0, 1.0), (2.5, 7.0)])
def test_minmax_matches_sklearn(rng, axis, feature_range):
    x = rng.normal(3.0, 10.0, size=(11, 4))
    lo, hi = feature_range
    got = normalize(MinMax(lo, hi), x, axis)
    ref = sklearn_groupwise(MinMaxScaler(feature_range=feature_range), x, axis)
    # scikit-learn computes x * scale + offset: values at lo may differ by an ulp of 0.
    assert_allclose(got, ref, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("feature_range", [(0.0, 1.0), (-1.0, 1.0)])
def test_minmax_hits_ends_exactly(rng, axis, feature_range):
    x = rng.normal(0.0, 1e3, size=(8, 5))
    lo, hi = feature_range
    got = normalize(MinMax(lo, hi), x, axis)
    for g in groups(got, axis):
        assert g.min() == lo
        assert g.max() == hi


def test_minmax_constant_group_maps_to_lo_and_is_flagged():
    x = a2([[4.0, -0.087, 1.0], [4.0, -0.087, 2.0], [4.0, -0.087, 3.0]])
    method = MinMax(-1.0, 1.0)
    norm = method.fit(x, 0)
    with no_warnings():
        got = method.transform(x, method.finish(norm))
    assert_array_equal(got[:, 0], [-1.0] * 3)
    assert_array_equal(got[:, 1], [-1.0] * 3)
    assert_array_equal(got[:, 2], [-1.0, 0.0, 1.0])
    [(mask, message)] = method.problems(method.finish(norm))
    assert_array_equal(mask, [[True, True, False]])
    assert isinstance(message, str) and message
    # As scikit-learn does.
    assert_array_equal(got, MinMaxScaler(feature_range=(-1, 1)).fit_transform(x))


def test_minmax_constant_with_missing_keeps_missing():
    x = a2([[5.0], [NAN], [5.0]])
    got = normalize(MinMax(), x, 0)
    assert_array_equal(got, [[0.0], [NAN], [0.0]])


# --------------------------------------------------------------------------
# ZScore against scipy and scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("ddof", [0, 1])
def test_zscore_matches_scipy(rng, axis, ddof):
    x = rng.normal(-2.0, 7.0, size=(10, 6))
    got = normalize(ZScore(ddof=ddof), x, axis)
    assert_allclose(got, stats.zscore(x, axis=axis, ddof=ddof), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis", AXES)
def test_zscore_matches_standard_scaler(rng, axis):
    x = rng.normal(50.0, 0.5, size=(12, 3))
    got = normalize(ZScore(), x, axis)
    assert_allclose(got, sklearn_groupwise(StandardScaler(), x, axis), rtol=1e-12, atol=1e-13)


def test_zscore_constant_group_is_exactly_zero_and_flagged():
    # numpy's std of [-0.087] * 3 is ~1.4e-17, not 0: constancy must be decided exactly.
    x = a2([[-0.087, 1.0], [-0.087, 2.0], [-0.087, 4.0]])
    method = ZScore()
    norm = method.fit(x, 0)
    with no_warnings():
        got = method.transform(x, method.finish(norm))
    assert_array_equal(got[:, 0], [0.0, 0.0, 0.0])
    assert_allclose(got[:, 1], stats.zscore([1.0, 2.0, 4.0]), rtol=1e-14)
    constant_mask, constant_msg = method.problems(method.finish(norm))[0]
    assert_array_equal(constant_mask, [[True, False]])
    assert isinstance(constant_msg, str) and constant_msg
    assert not any(mask.any() for mask, _ in method.problems(method.finish(norm))[1:])


@pytest.mark.parametrize("axis", [1, None])
def test_zscore_constant_rows_and_block(axis):
    x = a2([[0.1, 0.1, 0.1], [0.1, 0.1, 0.1]])
    got = normalize(ZScore(ddof=1), x, axis)
    assert_array_equal(got, np.zeros_like(x))


def test_zscore_constant_group_with_missing():
    x = a2([[5.0], [NAN], [5.0]])
    got = normalize(ZScore(), x, 0)
    assert_array_equal(got, [[0.0], [NAN], [0.0]])


def test_zscore_too_few_values_for_ddof_is_missing_and_flagged():
    x = a2([[1.0, 1.0, 3.0, NAN], [NAN, 1.0, 4.0, NAN], [NAN, NAN, 5.0, NAN]])
    method = ZScore(ddof=2)
    norm = method.fit(x, 0)
    got = method.transform(x, method.finish(norm))
    # Column 0: one value, 1: two (constant but count <= ddof), 2: three, 3: none.
    assert np.isnan(got[:, 0]).all()
    assert np.isnan(got[:, 1]).all()
    assert_allclose(got[:, 2], stats.zscore([3.0, 4.0, 5.0], ddof=2), rtol=1e-14)
    assert np.isnan(got[:, 3]).all()
    messages = {msg: mask for mask, msg in method.problems(method.finish(norm))}
    too_few = [mask for msg, mask in messages.items() if "ddof" in msg]
    assert len(too_few) == 1
    assert_array_equal(too_few[0], [[True, True, False, False]])
    constant = [mask for msg, mask in messages.items() if "ddof" not in msg]
    assert len(constant) == 1
    # A two-value constant group with ddof=2 has no std: it is "too few", not "constant".
    assert not constant[0].any()


@pytest.mark.parametrize("ddof", [1, 2])
def test_zscore_count_equal_to_ddof_is_missing(ddof):
    x = np.arange(1.0, ddof + 1.0).reshape(1, -1)
    assert np.isnan(normalize(ZScore(ddof=ddof), x, 1)).all()
    y = np.arange(1.0, ddof + 2.0).reshape(1, -1)
    assert_allclose(normalize(ZScore(ddof=ddof), y, 1), stats.zscore(y, axis=1, ddof=ddof), rtol=1e-14)


def test_zscore_large_offset_small_noise(rng):
    # 1e9 + noise: the textbook E[x^2] - E[x]^2 loses all variance here.
    # Two limits on what any float64 algorithm can reach:
    # * the input only holds the noise to ulp(1e9)/2 ~ 6e-8, so the reference
    #   is the z-score of the noise *as represented*, x - 1e9 (an exact
    #   subtraction, Sterbenz), not of the original noise;
    # * the mean of n values near 1e9 summed in float64 carries a rounding
    #   error of order sqrt(n) * ulp(1e9) / 2, ~2e-6 for n = 1000 (numpy sums
    #   axis 0 sequentially; scipy and scikit-learn have the same error).
    # On unit-variance noise that is an absolute error on z, hence atol 3e-6
    # and rtol 1e-6. The textbook formula is off by O(1) or gives NaN.
    noise = rng.normal(0.0, 1.0, size=(1000, 3))
    x = 1e9 + noise
    represented = x - 1e9
    for axis in (0, 1, None):
        for ddof in (0, 1):
            got = normalize(ZScore(ddof=ddof), x, axis)
            ref = stats.zscore(represented, axis=axis, ddof=ddof)
            assert_allclose(got, ref, rtol=1e-6, atol=3e-6, err_msg=f"axis={axis} ddof={ddof}")
    # The whole block (pairwise summation) is much better than that.
    assert_allclose(normalize(ZScore(), x, None), stats.zscore(represented, axis=None), rtol=1e-6, atol=1e-6)


def test_zscore_large_offset_with_missing(rng):
    x = 1e9 + rng.normal(0.0, 1.0, size=(300, 2))
    x[rng.random(x.shape) < 0.2] = NAN
    got = normalize(ZScore(), x, 0)
    ref = stats.zscore(x - 1e9, axis=0, nan_policy="omit")
    assert_allclose(got, ref, rtol=1e-6, atol=3e-6)


# --------------------------------------------------------------------------
# Extremes of the float64 range (the results themselves are representable)
# --------------------------------------------------------------------------


@pytest.mark.parametrize("values", [[0.0, 1e-285], [-1e-300, 1e-300], [0.0, 1e200], [-1e300, 1e300]], ids=str)
def test_zscore_extreme_magnitudes(values):
    # A non-constant group of two values has z-scores exactly -1 and +1
    # (y = (x - mean) / std). Squaring deviations underflows / overflows here,
    # which must not turn the results into +-inf or 0.
    x = a2([values])
    with no_warnings():
        got = normalize(ZScore(), x, 1)
    assert_allclose(got, [[-1.0, 1.0]], rtol=1e-12)


def test_minmax_extreme_range():
    # max - min overflows to inf; the scaled values 0, 0.5, 1 are still exact.
    x = a2([[-1e308], [0.0], [1e308]])
    with no_warnings():
        got = normalize(MinMax(), x, 0)
    assert_allclose(got, [[0.0], [0.5], [1.0]], rtol=1e-12)


# --------------------------------------------------------------------------
# NaN policy
# --------------------------------------------------------------------------


def _softmax_omit_reference(temperature, log):
    def ref(g):
        out = np.full_like(g, NAN)
        ok = ~np.isnan(g)
        if ok.any():
            f = special.log_softmax if log else special.softmax
            out[ok] = f(g[ok] / temperature)
        return out

    return ref


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("log", [False, True])
def test_softmax_nan_omit(rng, axis, log):
    x = with_nans(rng.normal(0, 3, size=(8, 5)), rng)
    x[2, :] = NAN  # a row entirely missing
    got = normalize(Softmax(temperature=0.8, log=log), x, axis)
    ref = apply_groupwise(_softmax_omit_reference(0.8, log), x, axis)
    assert_array_equal(np.isnan(got), np.isnan(x))
    assert_allclose(got, ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("axis", AXES)
def test_softmax_nan_propagate(rng, axis):
    x = with_nans(rng.normal(0, 3, size=(8, 5)), rng, fraction=0.1)
    x[:, 1] = rng.normal(size=8)  # one NaN-free column
    x[3, :] = rng.normal(size=5)  # one NaN-free row
    x[0, 0] = NAN
    got = normalize(Softmax(nan="propagate"), x, axis)
    # scipy propagates: a NaN makes its whole group NaN.
    ref = special.softmax(x, axis=axis)
    assert_allclose(got, ref, rtol=1e-13)
    for g in groups(got, axis):
        assert np.isnan(g).all() or not np.isnan(g).any()
    assert np.isnan(got).any()
    if axis is not None:
        assert not np.isnan(got).all()


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("feature_range", [(0.0, 1.0), (-1.0, 1.0)])
def test_minmax_nan_omit_matches_sklearn(rng, axis, feature_range):
    x = with_nans(rng.normal(0, 3, size=(10, 4)), rng)
    got = normalize(MinMax(*feature_range), x, axis)
    ref = sklearn_groupwise(MinMaxScaler(feature_range=feature_range), x, axis)
    assert_array_equal(np.isnan(got), np.isnan(x))
    assert_allclose(got, ref, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("axis", AXES)
def test_zscore_nan_omit_matches_sklearn(rng, axis):
    x = with_nans(rng.normal(0, 3, size=(10, 4)), rng)
    got = normalize(ZScore(), x, axis)
    ref = sklearn_groupwise(StandardScaler(), x, axis)
    assert_array_equal(np.isnan(got), np.isnan(x))
    assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("ddof", [0, 1])
def test_zscore_nan_omit_matches_scipy_omit(rng, axis, ddof):
    x = with_nans(rng.normal(0, 3, size=(10, 4)), rng)
    got = normalize(ZScore(ddof=ddof), x, axis)
    ref = stats.zscore(x, axis=axis, ddof=ddof, nan_policy="omit")
    assert_array_equal(np.isnan(got), np.isnan(x))
    assert_allclose(got, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("ddof", [0, 1])
def test_zscore_nan_propagate_matches_scipy(rng, axis, ddof):
    x = with_nans(rng.normal(0, 3, size=(10, 4)), rng, fraction=0.05)
    x[0, 0] = NAN
    x[:, 2] = rng.normal(size=10)
    x[5, :] = rng.normal(size=4)
    got = normalize(ZScore(ddof=ddof, nan="propagate"), x, axis)
    ref = stats.zscore(x, axis=axis, ddof=ddof, nan_policy="propagate")
    assert_allclose(got, ref, rtol=1e-12, atol=1e-14)
    for g in groups(got, axis):
        assert np.isnan(g).all() or not np.isnan(g).any()


@pytest.mark.parametrize("axis", AXES)
def test_minmax_nan_propagate(rng, axis):
    x = rng.normal(0, 3, size=(6, 4))
    x[1, 2] = NAN
    got = normalize(MinMax(nan="propagate"), x, axis)

    def ref(g):
        if np.isnan(g).any():
            return np.full_like(g, NAN)
        return (g - g.min()) / (g.max() - g.min())

    assert_allclose(got, apply_groupwise(ref, x, axis), rtol=1e-14, atol=0)
    assert np.isnan(got).any()
    if axis is not None:
        assert not np.isnan(got).all()


def test_propagate_blanks_constant_group_too():
    x = a2([[5.0, 1.0], [NAN, 2.0], [5.0, 3.0]])
    assert np.isnan(normalize(ZScore(nan="propagate"), x, 0)[:, 0]).all()
    assert np.isnan(normalize(MinMax(nan="propagate"), x, 0)[:, 0]).all()
    assert not np.isnan(normalize(ZScore(nan="propagate"), x, 0)[:, 1]).any()


# --------------------------------------------------------------------------
# Mergeable statistics: the streaming path
# --------------------------------------------------------------------------


def split_rows(x, cuts):
    bounds = [0, *cuts, x.shape[0]]
    return [x[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def merged_fit(method, chunks, axis, order="left"):
    fits = [method.fit(c, axis) for c in chunks]
    if order == "right":
        fits = fits[::-1]
    if order == "tree":
        while len(fits) > 1:
            fits = [method.merge(fits[i], fits[i + 1]) if i + 1 < len(fits) else fits[i] for i in range(0, len(fits), 2)]
        return fits[0]
    return reduce(method.merge, fits)


def streamed(method, x, axis, cuts, order="left"):
    chunks = split_rows(x, cuts)
    stats_ = merged_fit(method, chunks, axis, order)
    return np.vstack([method.transform(c, method.finish(stats_)) for c in chunks]), stats_


CUTS = [3, 4, 11, 17]  # chunks of 3, 1, 7, 6 and the rest


@pytest.fixture
def messy_block(rng):
    """30 x 6 block: NaN, -inf and +inf in various chunks, an all-NaN chunk."""
    x = rng.normal(1.0, 3.0, size=(30, 6))
    x[rng.random(x.shape) < 0.1] = NAN
    x[4:11, :] = NAN  # the chunk rows 4..10 is entirely missing
    x[0, 2] = -INF
    x[20, 2] = -INF
    x[1, 3] = INF  # +inf in two different chunks of column 3
    x[25, 3] = INF
    x[:, 4] = -INF  # column 4: only -inf (and NaN in the missing chunk)
    x[:, 5] = NAN
    x[2, 5] = 7.0  # column 5: a single value
    return x


@pytest.mark.parametrize("axis", [0, None])
@pytest.mark.parametrize("temperature", [1.0, 0.7, 2.5, 0.01])
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("order", ["left", "right", "tree"])
def test_softmax_streaming_equals_whole(messy_block, axis, temperature, log, order):
    method = Softmax(temperature=temperature, log=log)
    whole_norm = method.fit(messy_block, axis)
    whole = method.transform(messy_block, method.finish(whole_norm))
    got, norm = streamed(method, messy_block, axis, CUTS, order)
    assert isinstance(norm, ExpSums)
    assert_allclose(got, whole, rtol=1e-12, atol=0)
    assert_array_equal(norm.maximum, whole_norm.maximum)
    assert_array_equal(norm.posinf, whole_norm.posinf)
    assert_array_equal(norm.count, whole_norm.count)
    assert_array_equal(norm.missing, whole_norm.missing)
    assert_allclose(norm.sumexp, whole_norm.sumexp, rtol=1e-12)
    assert_array_equal(method.problems(method.finish(norm))[0][0], method.problems(method.finish(whole_norm))[0][0])


def test_softmax_streaming_whole_is_right(messy_block):
    """The whole-block result the streaming test compares against is itself correct."""
    x = messy_block
    got = normalize(Softmax(temperature=0.7), x, 0)
    for j in (0, 1, 2):  # finite / NaN / -inf columns
        ref = _softmax_omit_reference(0.7, False)(x[:, j])
        assert_allclose(got[:, j], ref, rtol=1e-13)
    col3 = np.where(x[:, 3] == INF, 0.5, np.where(np.isnan(x[:, 3]), NAN, 0.0))
    assert_array_equal(got[:, 3], col3)
    assert np.isnan(got[:, 4]).all()
    assert_array_equal(got[2, 5], 1.0)


@pytest.mark.parametrize("axis", [0, None])
@pytest.mark.parametrize("temperature", [1.0, 0.3])
def test_softmax_streaming_extreme_chunk_maxima(rng, axis, temperature):
    # A later chunk raises the maximum a lot: the old sum must be rescaled, not overflow.
    x = rng.normal(0.0, 1.0, size=(12, 3))
    x[8:, :] += 800.0
    x[:4, :] -= 800.0
    with no_warnings():
        got, _ = streamed(Softmax(temperature=temperature), x, axis, [4, 8])
    assert_allclose(got, special.softmax(x / temperature, axis=axis), rtol=1e-12, atol=0)


@pytest.mark.parametrize("axis", [0, None])
def test_softmax_streaming_with_empty_chunk(rng, axis):
    x = rng.normal(size=(10, 3))
    got, _ = streamed(Softmax(temperature=1.5), x, axis, [0, 5, 5])
    assert_allclose(got, special.softmax(x / 1.5, axis=axis), rtol=1e-12)


@pytest.mark.parametrize("axis", [0, None])
@pytest.mark.parametrize(
    "method",
    [MinMax(), MinMax(-1.0, 1.0), ZScore(), ZScore(ddof=1), ZScore(nan="propagate"), MinMax(nan="propagate")],
    ids=repr,
)
@pytest.mark.parametrize("order", ["left", "right", "tree"])
def test_moments_streaming_equals_whole(messy_block, axis, method, order):
    x = np.where(np.isinf(messy_block), 0.5, messy_block)  # moments of finite data
    x[:, 4] = 3.0  # a constant column (NaN in the missing chunk below)
    x[4:11, :] = NAN
    whole = normalize(method, x, axis)
    got, m = streamed(method, x, axis, CUTS, order)
    assert_allclose(got, whole, rtol=1e-12, atol=1e-14)
    whole_m = method.fit(x, axis)
    for (mask, msg), (whole_mask, whole_msg) in zip(method.problems(method.finish(m)), method.problems(method.finish(whole_m))):
        assert msg == whole_msg
        assert_array_equal(mask, whole_mask)


@pytest.mark.parametrize("axis", [0, None])
def test_moments_merge_equals_whole_block_statistics(rng, axis):
    x = rng.normal(5.0, 2.0, size=(40, 4))
    x[rng.random(x.shape) < 0.15] = NAN
    x[10:15, :] = NAN
    x[:, 3] = NAN
    whole = Moments.of(x, axis)
    merged = merged_fit(ZScore(), split_rows(x, [1, 10, 15, 22, 39]), axis)
    assert_array_equal(merged.count, whole.count)
    assert_array_equal(merged.missing, whole.missing)
    assert_array_equal(merged.minimum, whole.minimum)
    assert_array_equal(merged.maximum, whole.maximum)
    assert_allclose(merged.mean, whole.mean, rtol=1e-12)
    assert_allclose(merged.total, whole.total, rtol=1e-12)
    for ddof in (0, 1):
        assert_allclose(merged.std(ddof), whole.std(ddof), rtol=1e-12)
    assert_array_equal(merged.constant, whole.constant)
    # And the whole-block figures are the nan-aware numpy ones.
    kw = {"axis": axis, "keepdims": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the all-NaN column
        assert_array_equal(whole.count, (~np.isnan(x)).sum(**kw))
        assert_array_equal(whole.missing, np.isnan(x).sum(**kw))
        present = ~np.isnan(x).all(axis=axis, keepdims=True)
        assert_array_equal(whole.minimum[present], np.nanmin(x, **kw)[present])
        assert_array_equal(whole.maximum[present], np.nanmax(x, **kw)[present])
        assert_allclose(whole.mean, np.nanmean(x, **kw), rtol=1e-13)
        assert_allclose(whole.total, np.nansum(x, **kw), rtol=1e-13)
        assert_allclose(whole.std(0), np.nanstd(x, **kw), rtol=1e-12)
        assert_allclose(whole.std(1), np.nanstd(x, ddof=1, **kw), rtol=1e-12)
    if axis == 0:
        assert whole.count[0, 3] == 0
        assert whole.minimum[0, 3] == INF and whole.maximum[0, 3] == -INF


def test_moments_merge_with_empty_chunk(rng):
    x = rng.normal(5.0, 2.0, size=(10, 2))
    whole = Moments.of(x, 0)
    merged = merged_fit(ZScore(), split_rows(x, [0, 4, 4, 10]), 0)
    assert_array_equal(merged.count, whole.count)
    assert_allclose(merged.mean, whole.mean, rtol=1e-13)
    assert_allclose(merged.std(), whole.std(), rtol=1e-12)
    got, _ = streamed(ZScore(), x, 0, [0, 4, 4, 10])
    assert_allclose(got, stats.zscore(x, axis=0), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("axis", [0, None])
def test_moments_streaming_large_offset(rng, axis):
    noise = rng.normal(0.0, 1.0, size=(3000, 3))
    x = 1e9 + noise
    cuts = [1, 700, 701, 2000]
    got, m = streamed(ZScore(), x, axis, cuts)
    whole = normalize(ZScore(), x, axis)
    # Here agreement to 1e-12 is impossible in principle: a mean near 1e9 is
    # only held to ulp(1e9)/2 ~ 6e-8, and each path rounds its own sums (see
    # test_zscore_large_offset_small_noise). Both must be right to ~1e-6.
    ref = stats.zscore(x - 1e9, axis=axis)
    assert_allclose(got, ref, rtol=1e-6, atol=5e-6)
    assert_allclose(whole, ref, rtol=1e-6, atol=5e-6)
    assert_allclose(got, whole, rtol=1e-6, atol=5e-6)
    # The standard deviation is kept much better than the mean: within a
    # block to ~1e-12; across a merge, Chan's delta**2 term turns each chunk
    # mean's ~1e-6 rounding into ~1e-8 relative (harmless for z-scores).
    assert_allclose(whole_std := Moments.of(x, axis).std(), np.std(x - 1e9, axis=axis, keepdims=True), rtol=1e-10)
    assert_allclose(m.std(), whole_std, rtol=1e-7)
    assert_allclose(m.mean, np.mean(x, axis=axis, keepdims=True), rtol=1e-14)
    # Min and max are exact, so min-max scaling streams exactly.
    mm, _ = streamed(MinMax(), x, axis, cuts)
    assert_allclose(mm, normalize(MinMax(), x, axis), rtol=1e-12, atol=0)


# --------------------------------------------------------------------------
# Properties (hypothesis)
# --------------------------------------------------------------------------

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
axes = st.sampled_from(AXES)
shapes = st.tuples(st.integers(1, 6), st.integers(1, 6))


def blocks(lo, hi):
    return arrays(np.float64, shapes, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False))


@PROPERTY
@given(x=blocks(-1e6, 1e6), axis=axes, temperature=st.floats(1e-3, 1e3))
def test_property_softmax_groups_sum_to_one(x, axis, temperature):
    with no_warnings():
        got = normalize(Softmax(temperature=temperature), x, axis)
    assert ((got >= 0) & (got <= 1)).all()
    for g in groups(got, axis):
        assert abs(g.sum() - 1.0) <= 1e-12


@PROPERTY
@given(x=blocks(-1e6, 1e6), axis=axes, temperature=st.floats(1e-3, 1e3))
def test_property_log_softmax_is_log_of_distribution(x, axis, temperature):
    with no_warnings():
        got = normalize(Softmax(temperature=temperature, log=True), x, axis)
    assert (got <= 0).all() and not np.isnan(got).any()
    for g in groups(got, axis):
        assert abs(special.logsumexp(g)) <= 1e-12


@PROPERTY
@given(
    x=blocks(-50.0, 50.0),
    c=st.floats(-1e3, 1e3),
    axis=axes,
    temperature=st.floats(0.5, 10.0),
    log=st.booleans(),
)
def test_property_softmax_shift_invariant(x, c, axis, temperature, log):
    method = Softmax(temperature=temperature, log=log)
    base = normalize(method, x, axis)
    shifted = normalize(method, x + c, axis)
    # x + c rounds each value by at most ulp(1050)/2 ~ 1.1e-13, so exponents
    # move by < 5e-13: relative error for softmax, absolute for log-softmax.
    if log:
        assert_allclose(shifted, base, rtol=1e-11, atol=1e-11)
    else:
        assert_allclose(shifted, base, rtol=1e-11, atol=0)


@PROPERTY
@given(
    x=blocks(-1e6, 1e6),
    axis=axes,
    feature_range=st.sampled_from([(0.0, 1.0), (-1.0, 1.0), (-5.0, 10.0), (100.0, 101.0)]),
)
def test_property_minmax_in_range_hitting_both_ends(x, axis, feature_range):
    lo, hi = feature_range
    got = normalize(MinMax(lo, hi), x, axis)
    assert ((got >= lo) & (got <= hi)).all()
    for g_in, g in zip(groups(x, axis), groups(got, axis)):
        if g_in.min() == g_in.max():
            assert (g == lo).all()
        else:
            assert g.min() == lo
            assert g.max() == hi
            assert (g[g_in == g_in.min()] == lo).all()
            assert (g[g_in == g_in.max()] == hi).all()


@PROPERTY
@given(
    x=blocks(-1e3, 1e3),
    axis=axes,
    lo=st.floats(-1e3, 1e3),
    width=st.floats(1e-3, 1e3),
)
def test_property_minmax_arbitrary_range_bounds(x, axis, lo, width):
    hi = lo + width
    assume(lo < hi)
    got = normalize(MinMax(lo, hi), x, axis)
    assert ((got >= lo) & (got <= hi)).all()
    tol = 4 * np.spacing(max(abs(lo), abs(hi), hi - lo))
    for g_in, g in zip(groups(x, axis), groups(got, axis)):
        assert g.min() == lo
        if g_in.min() != g_in.max():
            assert abs(g.max() - hi) <= tol


# Squares of deviations below ~1e-154 underflow: keep magnitudes sane here
# (the extremes have their own tests above).
sane = st.floats(-1e6, 1e6, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-100)


@PROPERTY
@given(x=arrays(np.float64, shapes, elements=sane), axis=axes, ddof=st.sampled_from([0, 1]))
def test_property_zscore_mean_zero_std_one(x, axis, ddof):
    got = normalize(ZScore(ddof=ddof), x, axis)
    for g_in, g in zip(groups(x, axis), groups(got, axis)):
        if g_in.size <= ddof:
            assert np.isnan(g).all()
        elif g_in.min() == g_in.max():
            assert (g == 0).all()
        else:
            assert np.isfinite(g).all()
            # Away from near-constant groups (where the data's own rounding
            # dominates the spread), the standardized group is exact to ~1e-9.
            if np.std(g_in) > 1e-6 * np.abs(g_in).max():
                assert abs(g.mean()) <= 1e-9
                assert abs(np.std(g, ddof=ddof) - 1.0) <= 1e-9


@PROPERTY
@given(
    x=arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 4)),
             elements=st.floats(-1e4, 1e4, allow_nan=False) | st.just(NAN)),
    cut=st.integers(0, 12),
    method=st.sampled_from([MinMax(), ZScore(), ZScore(ddof=1), Softmax(), Softmax(temperature=0.5, log=True)]),
    axis=st.sampled_from([0, None]),
)
def test_property_streaming_two_chunks_equals_whole(x, cut, method, axis):
    cut = min(cut, x.shape[0])
    got, _ = streamed(method, x, axis, [cut])
    assert_allclose(got, normalize(method, x, axis), rtol=1e-12, atol=1e-12)

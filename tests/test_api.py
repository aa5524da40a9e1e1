"""Tests of the Python API: ``from softnorm_cli import softmax, minmax, zscore``."""

from __future__ import annotations

import doctest
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special, stats
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import softnorm_cli
from softnorm_cli import minmax, softmax, zscore

NAN = np.nan


@pytest.fixture
def x():
    return np.random.default_rng(7).normal(1.0, 3.0, size=(6, 4))


@pytest.fixture
def frame(x):
    return pd.DataFrame(x, index=["r1", "r2", "r3", "r4", "r5", "r6"], columns=["cat", "dog", "bird", "fish"])


# --------------------------------------------------------------------------
# numpy arrays and defaults
# --------------------------------------------------------------------------


def test_softmax_default_is_row_wise(x):
    got = softmax(x)
    assert isinstance(got, np.ndarray)
    assert got.shape == x.shape and got.dtype == np.float64
    assert_allclose(got, special.softmax(x, axis=1), rtol=1e-13)
    assert_allclose(got.sum(axis=1), 1.0, rtol=1e-14)


def test_minmax_default_is_column_wise(x):
    assert_allclose(minmax(x), MinMaxScaler().fit_transform(x), rtol=1e-13, atol=1e-14)


def test_zscore_default_is_column_wise(x):
    assert_allclose(zscore(x), stats.zscore(x, axis=0), rtol=1e-12, atol=1e-14)
    assert_allclose(zscore(x), StandardScaler().fit_transform(x), rtol=1e-12, atol=1e-14)


def test_softmax_temperature_and_log(x):
    assert_allclose(softmax(x, temperature=2.5), special.softmax(x / 2.5, axis=1), rtol=1e-13)
    assert_allclose(softmax(x, log=True), special.log_softmax(x, axis=1), rtol=1e-13, atol=1e-14)
    assert_allclose(
        softmax(x, axis="column", temperature=0.5, log=True),
        special.log_softmax(x / 0.5, axis=0),
        rtol=1e-13,
        atol=1e-14,
    )
    # An integer temperature is a number like any other.
    assert_allclose(softmax(x, temperature=2), special.softmax(x / 2, axis=1), rtol=1e-13)


def test_minmax_feature_range(x):
    got = minmax(x, feature_range=(-1, 1))
    assert_allclose(got, MinMaxScaler(feature_range=(-1, 1)).fit_transform(x), rtol=1e-13, atol=1e-14)
    assert_array_equal(got.min(axis=0), -1.0)
    assert_array_equal(got.max(axis=0), 1.0)
    # Any two-element sequence.
    assert_allclose(minmax(x, feature_range=[2, 4]), 2 + 2 * minmax(x), rtol=1e-13)


def test_zscore_ddof(x):
    assert_allclose(zscore(x, ddof=1), stats.zscore(x, axis=0, ddof=1), rtol=1e-12, atol=1e-14)
    assert_allclose(zscore(x, ddof=1.0), zscore(x, ddof=1), rtol=0)  # a whole float is fine


def test_input_is_not_modified(x):
    before = x.copy()
    softmax(x)
    minmax(x)
    zscore(x, nan="propagate")
    assert_array_equal(x, before)


def test_integer_array_gives_floats():
    got = minmax(np.array([[1, 10], [2, 20], [3, 30]]))
    assert got.dtype == np.float64
    assert_array_equal(got, [[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]])


# --------------------------------------------------------------------------
# Lists and 1-D input
# --------------------------------------------------------------------------


def test_lists_are_accepted():
    got = softmax([[1, 2], [3, 3]])
    assert isinstance(got, np.ndarray)
    assert_allclose(got, special.softmax([[1.0, 2.0], [3.0, 3.0]], axis=1), rtol=1e-14)
    assert_array_equal(minmax([[1.0], [3.0], [2.0]]), [[0.0], [1.0], [0.5]])
    assert_allclose(zscore([[1.0, 5.0], [3.0, 5.0]]), [[-1.0, 0.0], [1.0, 0.0]], rtol=1e-14)


@pytest.mark.parametrize("axis", ["row", "column", "all", 0, 1, None])
def test_one_dimensional_input_is_one_group(axis):
    v = [3.0, 1.0, 2.0, 7.0]
    got = softmax(v, axis=axis)
    assert isinstance(got, np.ndarray) and got.shape == (4,)
    assert_allclose(got, special.softmax(v), rtol=1e-14)
    assert_allclose(softmax(v, axis=axis, log=True), special.log_softmax(v), rtol=1e-14)
    assert_array_equal(minmax(v, axis=axis), [1 / 3, 0.0, 1 / 6, 1.0])
    assert_allclose(zscore(v, axis=axis), stats.zscore(v), rtol=1e-14)
    assert_allclose(zscore(np.array(v), axis=axis, ddof=1), stats.zscore(v, ddof=1), rtol=1e-14)


def test_one_dimensional_with_nan():
    v = [1.0, NAN, 3.0]
    assert_array_equal(minmax(v), [0.0, NAN, 1.0])
    assert_array_equal(softmax([0.0, NAN, 0.0]), [0.5, NAN, 0.5])
    assert_allclose(zscore(v), [-1.0, NAN, 1.0], rtol=1e-14)
    assert np.isnan(zscore(v, nan="propagate")).all()


# --------------------------------------------------------------------------
# pandas
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "func,kwargs,ref",
    [
        (softmax, {}, lambda a: special.softmax(a, axis=1)),
        (softmax, {"axis": "column", "log": True}, lambda a: special.log_softmax(a, axis=0)),
        (minmax, {}, lambda a: MinMaxScaler().fit_transform(a)),
        (minmax, {"axis": "row", "feature_range": (-1, 1)}, lambda a: MinMaxScaler((-1, 1)).fit_transform(a.T).T),
        (zscore, {}, lambda a: stats.zscore(a, axis=0)),
        (zscore, {"axis": "all", "ddof": 1}, lambda a: stats.zscore(a, axis=None, ddof=1)),
    ],
)
def test_dataframe_in_dataframe_out(frame, func, kwargs, ref):
    got = func(frame, **kwargs)
    assert type(got) is pd.DataFrame
    pd.testing.assert_index_equal(got.index, frame.index)
    pd.testing.assert_index_equal(got.columns, frame.columns)
    assert (got.dtypes == np.float64).all()
    assert_allclose(got.to_numpy(), ref(frame.to_numpy()), rtol=1e-12, atol=1e-14)


def test_dataframe_integer_columns_and_custom_index():
    df = pd.DataFrame({"a": [1, 2, 3], "b": [10, 10, 40]}, index=pd.Index([30, 10, 20], name="id"))
    got = minmax(df)
    assert type(got) is pd.DataFrame
    pd.testing.assert_index_equal(got.index, df.index)
    assert list(got.columns) == ["a", "b"]
    assert_array_equal(got["a"].to_numpy(), [0.0, 0.5, 1.0])
    assert_array_equal(got["b"].to_numpy(), [0.0, 0.0, 1.0])
    assert got.index.name == "id"


def test_dataframe_with_nan(frame):
    df = frame.copy()
    df.iloc[1, 2] = NAN
    got = zscore(df)
    assert np.isnan(got.iloc[1, 2])
    assert got.isna().sum().sum() == 1
    ref = StandardScaler().fit_transform(df.to_numpy())
    assert_allclose(got.to_numpy(), ref, rtol=1e-12, atol=1e-14)
    blanked = zscore(df, nan="propagate")
    assert blanked["bird"].isna().all()
    assert blanked.drop(columns="bird").notna().all().all()


def test_dataframe_input_not_modified(frame):
    before = frame.copy()
    softmax(frame)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("axis", ["row", "column", "all"])
def test_series_in_series_out(axis):
    s = pd.Series([2.0, 0.0, 1.0, NAN], index=list("wxyz"), name="score")
    got = minmax(s, axis=axis)
    assert type(got) is pd.Series
    assert got.name == "score"
    pd.testing.assert_index_equal(got.index, s.index)
    assert_array_equal(got.to_numpy(), [1.0, 0.0, 0.5, NAN])
    sm = softmax(s, axis=axis)
    assert type(sm) is pd.Series and sm.name == "score"
    assert_allclose(sm.to_numpy()[:3], special.softmax([2.0, 0.0, 1.0]), rtol=1e-14)
    z = zscore(s.dropna(), axis=axis, ddof=1)
    assert type(z) is pd.Series
    assert_allclose(z.to_numpy(), stats.zscore([2.0, 0.0, 1.0], ddof=1), rtol=1e-14)


def test_series_without_name():
    s = pd.Series([1.0, 3.0])
    got = zscore(s)
    assert type(got) is pd.Series
    assert got.name is None
    assert_allclose(got.to_numpy(), [-1.0, 1.0], rtol=1e-14)


# --------------------------------------------------------------------------
# Axis aliases
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alias,numpy_axis",
    [
        ("row", 1),
        ("rows", 1),
        (1, 1),
        ("1", 1),
        ("column", 0),
        ("columns", 0),
        (0, 0),
        ("0", 0),
        ("all", None),
        (None, None),
        ("none", None),
    ],
)
def test_axis_aliases(x, alias, numpy_axis):
    assert_allclose(softmax(x, axis=alias), special.softmax(x, axis=numpy_axis), rtol=1e-13)
    assert_allclose(zscore(x, axis=alias), stats.zscore(x, axis=numpy_axis), rtol=1e-12, atol=1e-14)
    if numpy_axis is None:
        ref = MinMaxScaler().fit_transform(x.reshape(-1, 1)).reshape(x.shape)
    elif numpy_axis == 1:
        ref = MinMaxScaler().fit_transform(x.T).T
    else:
        ref = MinMaxScaler().fit_transform(x)
    assert_allclose(minmax(x, axis=alias), ref, rtol=1e-13, atol=1e-14)


def test_axes_really_differ(x):
    # Guards the alias test against an axis argument that is ignored.
    assert not np.allclose(softmax(x, axis="row"), softmax(x, axis="column"))
    assert not np.allclose(softmax(x, axis="row"), softmax(x, axis="all"))
    assert not np.allclose(zscore(x, axis="column"), zscore(x, axis="all"))


@pytest.mark.parametrize("axis", [2, -1, "diagonal", "", "index", 1.5, "r"])
@pytest.mark.parametrize("func", [softmax, minmax, zscore])
def test_invalid_axis(x, func, axis):
    with pytest.raises(ValueError):
        func(x, axis=axis)


# --------------------------------------------------------------------------
# NaN policies
# --------------------------------------------------------------------------


@pytest.mark.parametrize("func", [softmax, minmax, zscore])
def test_nan_raise(func):
    with pytest.raises(ValueError):
        func([[1.0, 2.0], [NAN, 3.0]], nan="raise")
    with pytest.raises(ValueError):
        func(pd.DataFrame({"a": [1.0, NAN, 2.0]}), nan="raise")
    with pytest.raises(ValueError):
        func([1.0, NAN], nan="raise")
    # Without missing values, "raise" is just "omit".
    clean = [[1.0, 2.0], [4.0, 3.0]]
    assert_array_equal(func(clean, nan="raise"), func(clean))


def test_nan_omit_and_propagate():
    a = np.array([[1.0, 2.0, NAN], [3.0, 5.0, 7.0], [2.0, 4.0, 6.0]])
    omit = minmax(a)  # default is omit
    assert_array_equal(omit, minmax(a, nan="omit"))
    assert_allclose(omit, MinMaxScaler().fit_transform(a), rtol=1e-14, atol=1e-15)
    assert_array_equal(omit[:, 1], [0.0, 1.0, 2 / 3])
    prop = minmax(a, nan="propagate")
    assert np.isnan(prop[:, 2]).all()
    assert_array_equal(prop[:, :2], omit[:, :2])
    sm = softmax(a, nan="propagate")
    assert np.isnan(sm[0]).all()
    assert_allclose(sm[1:], special.softmax(a[1:], axis=1), rtol=1e-14)
    assert_allclose(softmax(a)[0, :2], special.softmax([1.0, 2.0]), rtol=1e-14)
    assert_allclose(zscore(a, nan="propagate"), stats.zscore(a, axis=0), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nan", ["ignore", "OMIT", "", None, "drop"])
@pytest.mark.parametrize("func", [softmax, minmax, zscore])
def test_invalid_nan_policy(func, nan):
    with pytest.raises(ValueError):
        func([[1.0, 2.0]], nan=nan)


# --------------------------------------------------------------------------
# Invalid parameters
# --------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, -1e-300, NAN, -math.inf])
def test_invalid_temperature(temperature):
    with pytest.raises(ValueError):
        softmax([[1.0, 2.0]], temperature=temperature)


@pytest.mark.parametrize("feature_range", [(1, 1), (2, 1), (0, NAN), (NAN, 1), (0.5, 0.5), (0, 1, 2), (1,)])
def test_invalid_feature_range(feature_range):
    with pytest.raises(ValueError):
        minmax([[1.0], [2.0]], feature_range=feature_range)


@pytest.mark.parametrize("ddof", [-1, 1.5, -0.5])
def test_invalid_ddof(ddof):
    with pytest.raises(ValueError):
        zscore([[1.0], [2.0], [3.0]], ddof=ddof)


def test_three_dimensional_input_is_rejected():
    with pytest.raises(ValueError):
        softmax(np.zeros((2, 2, 2)))


def test_edge_values_through_api():
    assert_array_equal(softmax([[math.inf, 1.0, math.inf]]), [[0.5, 0.0, 0.5]])
    assert np.isnan(softmax([[-math.inf, -math.inf]])).all()
    assert_array_equal(zscore([[-0.087], [-0.087], [-0.087]]), [[0.0], [0.0], [0.0]])
    assert_array_equal(minmax([[4.0], [4.0]], feature_range=(-1, 1)), [[-1.0], [-1.0]])
    assert np.isnan(zscore([[1.0], [2.0]], ddof=2)).all()


# --------------------------------------------------------------------------
# Documentation and import cost
# --------------------------------------------------------------------------


def test_api_doctests_hold():
    from softnorm_cli import api

    result = doctest.testmod(api, verbose=False)
    assert result.attempted >= 3
    assert result.failed == 0


def test_package_doctest_holds():
    result = doctest.testmod(softnorm_cli, verbose=False)
    assert result.attempted >= 1
    assert result.failed == 0


def test_public_names():
    assert set(softnorm_cli.__all__) >= {"softmax", "minmax", "zscore"}
    assert softnorm_cli.softmax is softmax
    with pytest.raises(AttributeError):
        softnorm_cli.no_such_function  # noqa: B018


def _run_python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_does_not_load_numpy():
    out = _run_python("import sys, softnorm_cli; print(sorted(m for m in ('numpy', 'pandas', 'polars', 'pyarrow') if m in sys.modules))")
    assert out == "[]"


def test_numpy_users_do_not_load_pandas():
    out = _run_python(
        "import sys\n"
        "from softnorm_cli import softmax\n"
        "r = softmax([[1.0, 1.0]])\n"
        "print(r.tolist(), 'numpy' in sys.modules, 'pandas' in sys.modules)"
    )
    assert out == "[[0.5, 0.5]] True False"

"""The standard normal's CDF and inverse CDF (softnorm_cli.numeric.normal).

References: mpmath at 40 digits (the exact values, rounded once), scipy's
``special.ndtri`` and ``special.ndtr`` (an independent implementation, itself
off by up to 1.3e-15 in ``ndtri`` and by thousands of ulps in ``ndtr``'s far
tail, where mpmath is the judge), and CPython's ``statistics.NormalDist``,
which is AS241 as well.
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import warnings
from contextlib import contextmanager

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import special

from softnorm_cli.numeric.normal import cdf, ppf

EPS = 2.0**-52
TINY = np.finfo(np.float64).tiny  # results below are subnormal: absolute error, in units of their spacing
SUBNORMAL = 2.0**-1074
# Where AS241 changes region: |p - 0.5| = 0.425, and sqrt(-log p) = 5.
PPF_EDGES = [0.075, 0.925, math.exp(-25.0), 1.0 - math.exp(-25.0)]
# Where ANORM does: |x| = 0.66291 and sqrt(32).
CDF_EDGES = [-(32.0**0.5), -0.66291, 0.66291, 32.0**0.5]


@contextmanager
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def neighbours(values, steps: int = 3) -> np.ndarray:
    """Each value and its ``steps`` nearest doubles either side."""
    out = []
    for v in values:
        below = above = float(v)
        out.append(below)
        for _ in range(steps):
            below, above = math.nextafter(below, -math.inf), math.nextafter(above, math.inf)
            out += [below, above]
    return np.array(out)


def exact_ppf(p: float) -> mpmath.mpf:
    """``Phi^-1(p)`` to 40 digits: Newton's method on mpmath's ``ncdf`` from scipy's value."""
    with mpmath.workdps(40):
        target = mpmath.mpf(p)
        x = mpmath.mpf(float(special.ndtri(p)))
        for _ in range(4):
            x -= (mpmath.ncdf(x) - target) / mpmath.npdf(x)
        return x


def exact_cdf(x: float) -> mpmath.mpf:
    with mpmath.workdps(40):
        return mpmath.ncdf(mpmath.mpf(x))


def relative_errors(got: np.ndarray, exact: list) -> np.ndarray:
    with mpmath.workdps(40):
        return np.array([float(abs((mpmath.mpf(float(g)) - e) / e)) for g, e in zip(got, exact)])


@pytest.fixture(scope="module")
def probabilities() -> np.ndarray:
    """``p`` over ``(0, 1)``: log-uniform down to subnormals, uniform, ``1 - p`` down to 1e-16, and the named points."""
    rng = np.random.default_rng(20261204)
    named = [1e-300, 1e-7, 0.5, 1.0 - 1e-16, 5e-324, 1e-310, 0.25, 1e-20, *PPF_EDGES]
    p = np.concatenate(
        [
            10.0 ** rng.uniform(-323, 0, 500),
            rng.uniform(0.0, 1.0, 500),
            1.0 - 10.0 ** rng.uniform(-16, -0.3, 300),
            neighbours(named),
        ]
    )
    p = p[(p > 0.0) & (p < 1.0) & (p != 0.5)]  # ppf(0.5) is 0: no relative error (see test_ppf_edges)
    return p


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    """``x`` over ``[-38.4, 9]``, where ``Phi`` is not 0, and the regions' edges."""
    rng = np.random.default_rng(4122026)
    x = np.concatenate([rng.uniform(-38.4, 9.0, 800), rng.uniform(-1.0, 1.0, 200), np.linspace(-38.4, 9.0, 400)])
    return np.concatenate([x, neighbours([*CDF_EDGES, -38.0, -37.5, -5.0, -1e-8, 1e-8])])


def test_ppf_is_within_a_few_ulps_of_exact(probabilities):
    errors = relative_errors(ppf(probabilities), [exact_ppf(float(p)) for p in probabilities])
    # Measured over 7,500 p: 6.9e-16 (3.1 EPS); scipy's ndtri: 5.9e-16.
    assert errors.max() <= 5 * EPS


def test_ppf_agrees_with_scipy(probabilities):
    mine, theirs = ppf(probabilities), special.ndtri(probabilities)
    central = (probabilities >= 1e-7) & (probabilities <= 1.0 - 1e-7)
    # Both are a few ulps off, so they differ by up to 2.7e-15 where |ppf| nears 5.2
    # (ulp 8.9e-16); scipy alone is off by up to 1.2e-15 there, and this by 2.4e-15.
    assert np.abs(mine - theirs)[central].max() <= 4e-15
    assert (np.abs(mine - theirs) / np.abs(theirs))[~central].max() <= 1e-12


def test_ppf_is_cpython_s_as241():
    """The middle region is CPython's arithmetic to the bit; the tails differ only by numpy's log against libm's."""
    rng = np.random.default_rng(7)
    reference = statistics.NormalDist()
    middle = np.concatenate([rng.uniform(0.075, 0.925, 2000), neighbours([0.075, 0.925, 0.25, 0.5])])
    middle = middle[np.abs(middle - 0.5) <= 0.425]
    assert_array_equal(ppf(middle), [reference.inv_cdf(float(p)) for p in middle])
    tails = np.concatenate(
        [10.0 ** rng.uniform(-300, math.log10(0.075), 2000), 1.0 - 10.0 ** rng.uniform(-16, -1.2, 1000)]
    )
    expected = np.array([reference.inv_cdf(float(p)) for p in tails])
    assert (np.abs(ppf(tails) - expected) <= 2 * np.spacing(np.abs(expected))).all()


def test_ppf_edges():
    p = np.array([0.0, -0.0, 1.0, 0.5, -1e-300, -1.0, np.nextafter(1.0, 2.0), 2.0, -np.inf, np.inf, np.nan])
    with no_warnings():
        got = ppf(p)
    assert_array_equal(got, [-np.inf, -np.inf, np.inf, 0.0, *[np.nan] * 7])
    assert_array_equal(got, special.ndtri(p))


def test_cdf_is_within_a_few_ulps_of_exact(points):
    got = cdf(points)
    exact = [exact_cdf(float(x)) for x in points]
    normal = np.array([e >= TINY for e in exact])
    # Measured over 10,000 x: 6.3e-16 (2.9 EPS); scipy's ndtr: 2.3e-13 at x = -36.
    assert relative_errors(got[normal], [e for e, n in zip(exact, normal) if n]).max() <= 5 * EPS
    # Subnormal results (x below -37.5): within one spacing, 5e-324 (measured: rounded to nearest).
    with mpmath.workdps(40):
        off = [abs(mpmath.mpf(float(g)) - e) / SUBNORMAL for g, e, n in zip(got, exact, normal) if not n]
    assert off and max(off) <= 1.0


def test_cdf_is_not_zero_where_it_is_subnormal():
    got = cdf(np.array([-37.5, -38.0, -38.4, -38.5, -39.0, -40.0, -1e300]))
    assert (got[:3] > 0).all()
    # Phi(-38.5) is 1.4e-324 and Phi(-39) 5e-333: below half the least subnormal.
    assert got[3:].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert abs(got[1] - 2.8854283600687843e-316) <= 2 * SUBNORMAL


def test_cdf_agrees_with_scipy(points):
    def differences(x):
        return np.abs(cdf(x) - special.ndtr(x)) / special.ndtr(x)

    # scipy's own error stays below 7e-15 above -5.
    assert differences(points[points >= -5.0]).max() <= 1e-14
    # Below, scipy rounds x**2 in exp(-x**2 / 2): 3.7e-13 off at -37 (mpmath above is the judge).
    assert differences(points[(points < -5.0) & (points >= -37.0)]).max() <= 1e-12


def test_cdf_edges():
    x = np.array([-np.inf, np.inf, np.nan, 0.0, -0.0, 5e-324, -5e-324, 1e300, -1e300, 40.0, 9.0])
    with no_warnings():
        got = cdf(x)
    assert_array_equal(got, [0.0, 1.0, np.nan, 0.5, 0.5, 0.5, 0.5, 1.0, 0.0, 1.0, 1.0])
    assert_array_equal(got, special.ndtr(x))


def test_each_inverts_the_other():
    rng = np.random.default_rng(11)
    p = 10.0 ** rng.uniform(-300, math.log10(0.5), 3000)
    # Phi magnifies ppf's relative error by about x**2: 1e-12 at x = -37.
    np.testing.assert_allclose(cdf(ppf(p)), p, rtol=4e-12, atol=0)
    np.testing.assert_allclose(cdf(ppf(1.0 - p[p > 1e-15])), 1.0 - p[p > 1e-15], rtol=2 * EPS, atol=0)
    # ppf divides cdf's relative error by about |x|; near 0, Phi's absolute error shows.
    x = rng.uniform(-37.0, 0.0, 3000)
    np.testing.assert_allclose(ppf(cdf(x)), x, rtol=8 * EPS, atol=1e-15)


def test_symmetry():
    """``1 - p`` is exact for dyadic ``p``, and both tails use ``min(p, 1 - p)``."""
    p = np.arange(1, 2**16) / 2.0**17  # (0, 0.5)
    tail = p < 0.075
    assert_array_equal(ppf(1.0 - p[tail]), -ppf(p[tail]))
    x = np.linspace(0.0, 8.0, 4001)
    assert np.abs(cdf(x) + cdf(-x) - 1.0).max() <= EPS


def test_shapes_types_and_blocks():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.0, 1.0, (300, 401))  # more values than a block, and not a whole number of blocks
    original = p.copy()
    got = ppf(p)
    assert got.shape == p.shape and got.dtype == np.float64
    assert_array_equal(p, original)  # the input is left alone
    assert_array_equal(got.ravel(), np.concatenate([ppf(p.ravel()[i : i + 1000]) for i in range(0, p.size, 1000)]))
    assert_array_equal(cdf(got.T), cdf(got).T)
    assert_array_equal(ppf(p.astype(np.float32)), ppf(p.astype(np.float32).astype(np.float64)))
    assert ppf([0.5, 0.975]).tolist() == ppf(np.array([0.5, 0.975])).tolist()
    assert ppf(0.975).shape == () and float(ppf(0.975)) == statistics.NormalDist().inv_cdf(0.975)
    assert cdf(np.array([], dtype=np.float64)).shape == (0,)
    assert cdf(np.array([0, 1, -1])).tolist() == cdf(np.array([0.0, 1.0, -1.0])).tolist()


def test_imports_no_scipy():
    code = "import sys, softnorm_cli.numeric.normal; assert 'scipy' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)

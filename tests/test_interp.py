"""numeric.interp: np.interp with a table per group, against np.interp group by group, to the bit."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from softnorm_cli.numeric.interp import interp


def _tables(rng, groups: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Ascending tables of 0 to ``width`` entries (repeats included), NaN after each one's length, with ranks as values."""
    xp = np.full((groups, width), np.nan)
    fp = np.full((groups, width), np.nan)
    for g in range(groups):
        n = int(rng.integers(0, width + 1))
        xp[g, :n] = np.sort(np.round(rng.normal(size=n), 1))  # rounded: repeated entries
        fp[g, :n] = np.linspace(0, 1, n) if n > 1 else 0.5
    return xp, fp


@pytest.mark.parametrize("width", [1, 2, 7, 50])
def test_every_value_is_np_interp_in_its_own_groups_table(width):
    rng = np.random.default_rng(width)
    xp, fp = _tables(rng, 300, width)
    codes = rng.integers(0, 300, 20_000)
    x = np.round(rng.normal(size=codes.size) * 1.5, 1)  # values on table entries too, and beyond both ends
    x[::17] = np.nan
    x[::23] = xp[codes[::23], 0]  # exactly the first entry (NaN where the table is empty)
    got = interp(x, codes, xp, fp)
    want = np.full(x.shape, np.nan)
    for g in range(300):
        valid = ~np.isnan(xp[g])
        mine = (codes == g) & ~np.isnan(x)
        if valid.any():
            want[mine] = np.interp(x[mine], xp[g][valid], fp[g][valid])
    assert_array_equal(got, want)  # NaN where numpy gives NaN; every other value to the bit


def test_one_table_is_np_interp_and_missing_values_stay_missing():
    xp = np.array([[1.0, 2.0, 2.0, 4.0, np.nan]])
    fp = np.array([[0.0, 0.25, 0.5, 1.0, np.nan]])
    x = np.array([0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 9.0, np.nan])
    want = np.interp(x[:-1], xp[0, :4], fp[0, :4])
    assert_array_equal(interp(x, None, xp, fp)[:-1], want)
    assert_array_equal(interp(x, np.zeros(x.size, dtype=np.intp), xp, fp)[:-1], want)
    # np.interp with a table of one entry maps NaN to it; here NaN stays missing
    assert np.isnan(interp(np.array([np.nan]), None, np.array([[3.0]]), np.array([[0.0]]))).all()

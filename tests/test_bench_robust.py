"""The benchmark's robust suite: its numpy references against scikit-learn, its peers against the
checks, softnorm held to the exact tolerance, and the targets that compare softnorm with itself.

The benchmark is not part of the package: its ``bench`` package is imported from benchmarks/.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from numpy.testing import assert_allclose, assert_array_equal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from bench import checks, data, peers, references, report, suites  # noqa: E402

preprocessing = pytest.importorskip("sklearn.preprocessing")


def awkward_columns(rows: int) -> np.ndarray:
    """Normal values, a column of many ties, one near 1e9, one whose quartiles are equal, and NaN."""
    rng = np.random.default_rng(7)
    x = np.column_stack([
        rng.standard_normal(rows),
        rng.integers(0, 5, rows).astype(np.float64),
        1e9 + rng.standard_normal(rows),
        np.where(rng.random(rows) < 0.9, 3.0, rng.standard_normal(rows)),  # q25 == q75: divided by 1
    ])
    x[rng.random(x.shape) < 0.01] = np.nan
    return x


@pytest.mark.filterwarnings("ignore:n_quantiles .* is greater than")  # scikit-learn's, at 300 rows
@pytest.mark.parametrize("rows", [300, 5000])  # fewer rows than quantiles, and more
def test_references_are_scikit_learns(rows):
    x = awkward_columns(rows)
    assert_array_equal(references.robust(x), preprocessing.RobustScaler().fit_transform(x))
    qt = preprocessing.QuantileTransformer(n_quantiles=1000, subsample=None)
    assert_array_equal(references.quantile_uniform(x), qt.fit_transform(x))
    finite = x[~np.isnan(x).any(axis=1)]
    assert_allclose(references.maxabs(finite), preprocessing.MaxAbsScaler().fit_transform(finite), rtol=1e-15, atol=0)
    assert_allclose(references.unitnorm(finite), preprocessing.Normalizer().fit_transform(finite), rtol=1e-15, atol=0)


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> dict[str, Path]:
    return data.generate("standard", tmp_path_factory.mktemp("bench"), 3000, formats=["csv", "parquet"])


def peer_tools() -> list[str]:
    return ["polars", "pandas", *(["duckdb"] if importlib.util.find_spec("duckdb") else [])]


@pytest.mark.parametrize("job", ["robust", "maxabs", "unitnorm"])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_peers_agree_with_the_reference(table, tmp_path, job, fmt):
    outs = {}
    for tool in peer_tools():
        outs[tool] = tmp_path / f"{tool}.{fmt}"
        peers.PEERS[("standard", tool)](job, str(table[fmt]), str(outs[tool]))
    found = checks.check_long("standard", job, table[fmt], outs)
    assert all(v["ok"] for v in found.values()), found
    if job == "robust":  # every tool's largest error is noted, whatever its verdict
        assert all(v["notes"] and v["notes"][0].startswith("max error ") for v in found.values()), found


def test_softnorm_is_held_to_the_exact_tolerance(table, tmp_path):
    """An output 1e-10 off passes for a peer (rtol 1e-9) and fails for softnorm (1e-12)."""
    source = pl.read_csv(table["csv"], schema_overrides={"id": pl.String})
    floats = checks.LAYOUTS["standard"].float_names
    want = references.robust(source.select(floats).to_numpy())
    exact, off = tmp_path / "exact.csv", tmp_path / "off.csv"
    source.with_columns([pl.Series(c, want[:, j]) for j, c in enumerate(floats)]).write_csv(exact)
    source.with_columns([pl.Series(c, want[:, j] * (1 + 1e-10)) for j, c in enumerate(floats)]).write_csv(off)
    found = checks.check_long("standard", "robust", table["csv"], {"softnorm": exact, "polars": off})
    assert found["softnorm"]["ok"] and found["polars"]["ok"], found
    found = checks.check_long("standard", "robust", table["csv"], {"softnorm": off})["softnorm"]
    assert not found["ok"] and "rtol 1e-12" in found["problems"][0], found


def record(job: str, wall: float | None, tool: str = "softnorm", fmt: str = "csv") -> dict:
    return {"suite": "robust", "job": job, "rows": 1_000_000, "format": fmt, "tool": tool, "median_wall_s": wall,
            "peak_mib": 150.0, "error": None if wall else "exit 1"}


def robust_target(what: str) -> dict:
    suite = suites.SUITES["robust"]
    return next(t for t in suite.targets if t.what == what), suites.Plan(
        suite, list(suite.jobs), ["softnorm", "polars"], ["csv", "parquet"], [{"rows": 1_000_000}], 3)


def test_maxabs_is_measured_against_softnorms_own_minmax():
    target, plan = robust_target("max-abs against min-max")
    results = [record("maxabs", 1.04), record("minmax", 1.0), record("maxabs", 1.07, fmt="parquet"),
               record("minmax", 1.0, fmt="parquet"), record("minmax", 0.5, tool="polars")]
    found = report.evaluate(plan, target, results)
    assert found["status"] == "NOT MET", found
    assert found["met"] == ["robust suite maxabs 1,000,000 csv: softnorm maxabs/softnorm minmax = 1.04 (limit 1.05)"]
    assert found["not_met"] == ["robust suite maxabs 1,000,000 parquet: softnorm maxabs/softnorm minmax = 1.07 (limit 1.05)"]
    assert found["not_measured"] == ["5,000,000 rows: not in --rows"]
    assert "softnorm maxabs / softnorm minmax <= 1.05 at 1,000,000 rows" in found["target"]


def test_unitnorm_without_softmax_is_not_measured():
    target, plan = robust_target("unit norm against row softmax")
    found = report.evaluate(plan, target, [record("unitnorm", 1.0), record("softmax", None)])
    assert found["status"] == "NOT MEASURED"
    assert found["not_measured"][0] == "robust suite unitnorm 1,000,000 csv: softnorm softmax failed"


def test_robust_is_measured_against_polars_with_its_peak():
    target, plan = robust_target("robust, CSV and Parquet")
    found = report.evaluate(plan, target, [record("robust", 1.4), record("robust", 1.0, tool="polars")])
    assert found["status"] == "MET"
    assert found["met"][0].startswith("robust suite robust 1,000,000 csv: softnorm/polars = 1.40 (limit 1.5), softnorm peak")


def test_quantile_runs_softnorm_alone_with_the_references_options():
    assert suites.softnorm_args("standard", "quantile", "in.csv", "out.csv") == [
        "quantile", "in.csv", "-c", "f0,f1,f2,f3,f4,f5", "--n-quantiles", "1000", "--output-distribution", "uniform",
        "-o", "out.csv"]

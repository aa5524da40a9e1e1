"""Accuracy that does not depend on batching: z-scores of data far from zero within 1e-13 of
the exact values, and the same bytes out whatever the batch size, file, pipe or format."""

from __future__ import annotations

import decimal
import io

import numpy as np
import polars as pl
import pytest

N = 200_000
BATCHES = [[], ["--batch-rows", "1MB"], ["--batch-rows", "7777"], ["--batch-rows", "65537"], ["--batch-rows", "313"]]


def _data() -> dict[str, tuple[np.ndarray, int]]:
    """Columns far from zero, each with the power of two that makes its values integers."""
    rng = np.random.default_rng(13)
    return {
        "noise": (1e9 + rng.normal(size=N), 2**23),  # 1e9 + N(0, 1)
        "epoch_us": (1.7e15 + rng.integers(0, 1000, size=N).astype(np.float64), 4),  # timestamps in microseconds
    }


def exact_zscores_of_integers(x: np.ndarray, scale: int) -> np.ndarray:
    """Exact z-scores (population std) of values that are integers times 1/scale, rounded once or twice."""
    whole = np.rint(x * scale).astype(np.int64)
    assert np.array_equal(whole / scale, x)
    offset = whole - int(np.median(whole))
    n, total = len(offset), int(offset.sum())
    squares = sum(int(v) * int(v) for v in offset.tolist())
    root = float(decimal.Context(prec=40).sqrt(decimal.Decimal(n * squares - total * total)))
    return (n * offset - total).astype(np.float64) / root  # (n x_i - sum) / sqrt(n Q - S^2)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("accuracy")
    data = _data()
    frame = pl.DataFrame({name: x for name, (x, _) in data.items()})
    frame.write_csv(folder / "d.csv")  # shortest round-trip text: parsed back exactly
    frame.write_parquet(folder / "d.parquet", row_group_size=50_000)
    return folder, data


def _values(text: str, name: str) -> np.ndarray:
    return pl.read_csv(io.StringIO(text))[name].to_numpy()


def test_zscores_within_1e13_of_exact(invoke_ok, table):
    folder, data = table
    out = invoke_ok("zscore", folder / "d.csv").stdout
    for name, (x, scale) in data.items():
        error = np.abs(_values(out, name) - exact_zscores_of_integers(x, scale)).max()
        assert error <= 1e-13, f"{name}: {error:.3g}"


@pytest.mark.parametrize("command", [["zscore"], ["zscore", "--ddof", "1"], ["minmax"], ["softmax", "--axis", "column"]])
def test_same_bytes_for_every_batch_size_file_or_stdin(invoke_ok, table, command):
    folder, _ = table
    csv_bytes = (folder / "d.csv").read_bytes()
    outputs = {" ".join(batch): invoke_ok(*command, folder / "d.csv", *batch).stdout for batch in BATCHES}
    outputs["stdin"] = invoke_ok(*command, "--batch-rows", "300KB", input=csv_bytes).stdout
    outputs["parquet"] = invoke_ok(*command, folder / "d.parquet", "--to", "csv").stdout
    assert len(set(outputs.values())) == 1, {k: hash(v) for k, v in outputs.items()}


def test_summary_figures_do_not_depend_on_batching(invoke_ok, table):
    folder, _ = table
    figures = [
        invoke_ok("zscore", folder / "d.csv", "--summary-json", "-", "-o", "out.csv", *batch).stdout
        for batch in BATCHES[:3]
    ]
    strip = [text.split('"elapsed"')[0] + text.split('"columns"')[1] for text in figures]
    assert len(set(strip)) == 1


@pytest.mark.parametrize("command", [["softmax"], ["softmax", "--log"], ["zscore", "--axis", "row"], ["minmax", "--axis", "row"]])
def test_row_axis_same_bytes_for_every_batch_size(invoke_ok, write_file, command):
    # More than 8 columns: numpy sums short rows one way and long runs another.
    rng = np.random.default_rng(3)
    frame = pl.DataFrame({f"c{j}": rng.normal(size=500) * 10.0**j for j in range(12)})
    write_file("w.csv", frame.write_csv())
    outputs = {invoke_ok(*command, "w.csv", *batch).stdout for batch in ([], ["--batch-rows", "1"], ["--batch-rows", "7"])}
    assert len(outputs) == 1

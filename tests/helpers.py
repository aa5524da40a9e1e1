"""Assertions and parsers shared by the test modules."""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np
import polars as pl


def expect_error(result, line: str) -> None:
    """``result`` failed with exit 1 and exactly the one line ``softnorm: error: {line}``, writing nothing."""
    assert result.exit_code == 1, f"exit {result.exit_code}; stderr:\n{result.stderr}"
    assert result.stderr == f"softnorm: error: {line}\n"
    assert result.stdout == ""


def csv_records(text: str, delimiter: str = ",") -> list[list[str]]:
    """All records of a CSV text, fields as exact strings (the csv module, independent of polars)."""
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def strict_json(text: str):
    """Parse JSON, failing on NaN/Infinity (which strict JSON does not have)."""

    def reject(constant):
        raise AssertionError(f"non-strict JSON constant {constant!r}")

    return json.loads(text, parse_constant=reject)


def exact_zscores(values, ddof: int = 0):
    """z-scores of float64 ``values`` computed exactly (rational arithmetic, a 40-digit square
    root), rounded once to float64; NaN stays NaN."""
    import decimal
    from fractions import Fraction

    import numpy as np

    x = np.asarray(values, dtype=np.float64)
    present = [Fraction(float(v)) for v in x if not np.isnan(v)]
    mean = sum(present, Fraction(0)) / len(present)
    var = sum(((v - mean) ** 2 for v in present), Fraction(0)) / (len(present) - ddof)
    context = decimal.Context(prec=40)
    std = context.sqrt(context.divide(decimal.Decimal(var.numerator), decimal.Decimal(var.denominator)))
    out = []
    for v in x:
        if np.isnan(v):
            out.append(np.nan)
        else:
            d = Fraction(float(v)) - mean
            out.append(float(context.divide(context.divide(decimal.Decimal(d.numerator), decimal.Decimal(d.denominator)), std)))
    return np.array(out)


# Datasets of parts (tests/test_dataset.py, tests/test_dask.py)

PARTS = 4


def parts_table(rows: int = 2000, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "id": [f"{i:06d}" for i in range(rows)],
            "grp": rng.choice(["a", "b", "c", "", "d"], rows).tolist(),
            "x": rng.normal(size=rows) * 10 + 3,
            "y": 1e9 + rng.normal(size=rows),
            "z": rng.normal(size=rows),
        }
    ).with_columns(pl.when(pl.int_range(rows) % 97 == 5).then(None).otherwise(pl.col("z")).alias("z"))


def write_parts(folder, frame: pl.DataFrame, fmt: str, parts: int = PARTS) -> list[str]:
    """``frame`` cut into ``parts`` files of ``folder``, in order; their paths."""
    os.makedirs(folder, exist_ok=True)
    size = -(-frame.height // parts)
    paths = []
    for i in range(parts):
        path = os.path.join(folder, f"chunk{i:02d}.{fmt}")
        piece = frame.slice(i * size, size)
        piece.write_parquet(path) if fmt == "parquet" else piece.write_csv(path)
        paths.append(path)
    return paths


def read_parts(folder, fmt: str = "csv") -> pl.DataFrame:
    names = sorted(os.listdir(folder))
    assert names == [f"part-{i:05d}.{fmt}" for i in range(len(names))]
    read = pl.read_parquet if fmt == "parquet" else (lambda p: pl.read_csv(p, schema_overrides={"id": pl.String, "grp": pl.String}))
    return pl.concat([read(os.path.join(folder, n)) for n in names], how="vertical_relaxed")


def joined_csv(folder) -> bytes:
    """The CSV parts of ``folder`` as one text: the first part whole, the others without their header line."""
    names = sorted(os.listdir(folder))
    texts = [open(os.path.join(folder, n), "rb").read() for n in names]
    return texts[0] + b"".join(text.split(b"\n", 1)[1] for text in texts[1:])


def read_one(path: str) -> pl.DataFrame:
    return pl.read_csv(path, schema_overrides={"id": pl.String, "grp": pl.String})


def assert_same_table(got: pl.DataFrame, want: pl.DataFrame, numeric=("x", "y", "z")) -> None:
    assert got.columns == want.columns and got.height == want.height
    for name in got.columns:
        if name in numeric:
            values = [frame[name].cast(pl.Float64).to_numpy() for frame in (got, want)]
            np.testing.assert_allclose(*values, rtol=1e-12, atol=1e-12)
        else:
            assert got[name].fill_null("").to_list() == want[name].fill_null("").to_list(), name


PART_ARGS = [
    ["zscore", "-c", "x,y,z"],
    ["minmax", "-c", "x,y,z", "--range", "-1,1"],
    ["softmax", "-c", "x,z"],
    ["softmax", "-c", "x,z", "--axis", "column", "-g", "grp"],
    ["zscore", "-c", "x,y,z", "-g", "grp", "--ddof", "1", "--nan", "propagate"],
    ["minmax", "-c", "x,y,z", "--axis", "all", "-g", "grp"],
]


def reading_terminal(master: int, on_data):
    """A daemon thread, started, that hands ``on_data`` what the terminal ``master`` shows, until it closes."""
    import threading

    def pump():
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the other side closed: a pseudo-terminal's end of input
                return
            if not data:
                return
            on_data(data)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    return reader

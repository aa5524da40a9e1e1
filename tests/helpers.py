"""Assertions and parsers shared by the test modules."""

from __future__ import annotations

import csv
import io
import json


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

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

"""Wide tables cost what their cells cost: time linear in the number of columns.

A complexity test, not a benchmark: the same commands on 10,000 and 40,000
columns of two rows, timed in one run; four times the columns must take
less than eight times as long (linear is 4, quadratic 16), whatever the
speed of the machine.
"""

from __future__ import annotations

import time

import numpy as np
import pytest


def _wide(path, columns: int) -> None:
    rng = np.random.default_rng(columns)
    values = rng.normal(size=(2, columns)).round(6)
    header = ",".join(["id", *(f"c{i}" for i in range(columns))])
    rows = [",".join([f"{r:03d}", *map(str, values[r])]) for r in range(2)]
    path.write_text("\n".join([header, *rows]) + "\n")


@pytest.mark.parametrize("command", [["zscore"], ["stats", "--json"]], ids=["zscore", "stats"])
def test_time_grows_linearly_with_the_columns(invoke_ok, workdir, command):
    seconds = {}
    for columns in (10_000, 40_000):
        _wide(workdir / f"w{columns}.csv", columns)
        args = [*command, f"w{columns}.csv"] + (["-o", f"out{columns}.csv"] if command[0] != "stats" else [])
        invoke_ok(*args)  # once to warm up (imports, caches)
        started = time.perf_counter()
        invoke_ok(*args)
        seconds[columns] = time.perf_counter() - started
    assert seconds[40_000] / seconds[10_000] < 8, seconds
    if command[0] == "zscore":
        header = (workdir / "out40000.csv").read_text().split("\n", 1)[0].split(",")
        assert len(header) == 40_001

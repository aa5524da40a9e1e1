#!/usr/bin/env python
"""Benchmark softnorm against the tools a user would otherwise reach for.

    python benchmarks/run.py [--suite standard|small|wide|groups|all|big] [--rows 1000000 5000000] [--runs N]
                             [--wide-shapes 2000x500 100000x2] [--group-keys 1000] [--big] [--big-rows 12000000]
                             [--out benchmarks/results.json] [--data-dir benchmarks/data]
                             [--only softnorm,polars,duckdb,pandas]
                             [--jobs softmax,minmax,zscore,io,stats]
                             [--formats csv,parquet,parquet-pyarrow] [--markdown]

Every (job, size, format, tool) runs as a separate process, once to warm up and then
--runs times; the whole process is timed and its peak resident memory taken from GNU
time. The code is the package bench/ beside this file; see benchmarks/README.md.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

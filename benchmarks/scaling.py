#!/usr/bin/env python
"""Local engine against the Dask engine on a dataset of Parquet parts.

    python benchmarks/scaling.py [--rows 5000000] [--parts 8] [--more-parts 32 128] [--runs 3]

The data is the benchmark's standard table (id, group, f0..f5; see bench/tables.py), cut into
``--parts`` Parquet files. Each job runs as the whole ``softnorm`` process:

* ``local``: the local engine, one process reading the parts in turn;
* ``dask``: ``--engine dask`` starting its own LocalCluster (one worker process
  per core), so the wall time includes starting and stopping the cluster;
* ``dask, running cluster``: ``--scheduler`` pointed at a LocalCluster this
  script started before (two workers), restarted before each run so that
  each worker's peak memory is that run's.

Peak memory is the softnorm process's (GNU time, ``%M``) and, for the running
cluster, each worker process's (its ``ru_maxrss``, read on the worker). The
partition sweep repeats the grouped z-score with the same rows in
``--more-parts`` parts: the statistics come back as one small record per
part, so the cost grows with the parts only by per-task overhead.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import data, harness, tables  # noqa: E402  (the benchmark's data and the softnorm command)

JOBS = {
    "zscore, column": ["zscore", "-c", "f0,f1,f2,f3,f4,f5"],
    "zscore, -g group": ["zscore", "-c", "f0,f1,f2,f3,f4,f5", "-g", "group"],
    "softmax, row": ["softmax", "-c", "f0,f1,f2"],
}


def split(source: Path, parts: int, folder: Path) -> Path:
    """``source`` cut into ``parts`` Parquet files of about equal rows, once."""
    import polars as pl

    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    frame = pl.read_parquet(source)
    size = -(-frame.height // parts)
    for i in range(parts):
        frame.slice(i * size, size).write_parquet(folder / f"part-{i:05d}.parquet")
    done.touch()
    return folder


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one run of ``cmd``."""
    with tempfile.NamedTemporaryFile() as peak:
        start = time.perf_counter()
        subprocess.run([harness.GNU_TIME, "-f", "%M", "-o", peak.name, *cmd], check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        return wall, int(Path(peak.name).read_text().split()[-1]) / 1024


def _worker_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, cmd: list[str], runs: int, client=None) -> dict:
    walls, peaks, workers = [], [], []
    for _ in range(runs):
        if client is not None:
            client.restart()  # fresh worker processes: their peak is this run's
        wall, peak = timed(cmd)
        walls.append(wall)
        peaks.append(peak)
        if client is not None:
            workers.append(max(client.run(_worker_peak_mib).values()))
    row = {"name": name, "wall": statistics.median(walls), "peak": max(peaks), "worker_peak": max(workers) if workers else None}
    shown = f", workers {row['worker_peak']:.0f} MiB" if workers else ""
    print(f"  {name}: {row['wall']:.2f} s, softnorm {row['peak']:.0f} MiB{shown}", file=sys.stderr)
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--parts", type=int, default=8)
    p.add_argument("--more-parts", type=int, nargs="*", default=[32, 128])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parent / "data")
    args = p.parse_args()

    import distributed

    source = data.generate("standard", args.data_dir, args.rows, formats=["csv", "parquet"])["parquet"]
    softnorm = harness.softnorm_command()
    out = Path(tempfile.mkdtemp(prefix="softnorm-scaling-"))
    rows = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0", silence_logs=50) as cluster, distributed.Client(cluster) as client:
        for parts in [args.parts, *args.more_parts]:
            folder = split(source, parts, args.data_dir / f"softnorm-bench-{tables.DATA_VERSION}-{args.rows}-parts-{parts}")
            jobs = JOBS if parts == args.parts else {k: v for k, v in JOBS.items() if "-g" in v}
            for job, job_args in jobs.items():
                print(f"{job}, {args.rows:,} rows in {parts} parts:", file=sys.stderr)
                base = [*softnorm, *job_args, str(folder), "-o", str(out / "o"), "-q"]
                engines = [("local", base, None),
                           ("dask, running cluster", [*base, "--engine", "dask", "--scheduler", cluster.scheduler_address], client)]
                if parts == args.parts:
                    engines.insert(1, ("dask", [*base, "--engine", "dask"], None))
                for engine, cmd, attached in engines:
                    rows.append({"job": job, "parts": parts, **measure(engine, cmd, args.runs, attached)})
    print(f"\n{args.rows:,} rows; median wall of {args.runs} runs; peak RSS of the softnorm process (GNU time) and of "
          f"the largest worker; {os.cpu_count()} CPUs\n")
    print("| job | parts | engine | wall s | softnorm peak MiB | worker peak MiB |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for r in rows:
        worker = f"{r['worker_peak']:.0f}" if r["worker_peak"] else ""
        print(f"| {r['job']} | {r['parts']} | {r['name']} | {r['wall']:.2f} | {r['peak']:.0f} | {worker} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Scaling: the local engine's worker processes and the Dask engine, from one file to a 100M-row table.

    python benchmarks/scaling.py [--mode engines]       # the local engine against Dask on 8 Parquet parts (5M rows)
    python benchmarks/scaling.py --mode scale           # the 100M-row table: one CSV, one Parquet file, 64 parts
    python benchmarks/scaling.py --mode overhead        # the 1M and 5M tables, one file, small partitions too
    python benchmarks/scaling.py --fit A.json B.json    # fit the model to the runs of earlier results, run nothing

The data is the benchmark's standard table (id, group, f0..f5; see bench/tables.py), written once
by ``bench.data`` (chunk by chunk: the CSV 500,000 rows at a time, its Parquet file by polars'
streaming sink) and cut, in one streaming pass, into Parquet parts. Each run is the whole
``softnorm`` process, its output written to a temporary directory deleted after the run. Engines:

* ``local``: the local engine, ``--jobs N`` for each N of ``--jobs-list`` (``default``: no
  ``--jobs``, softnorm's default, the cores available);
* ``dask``: ``--scheduler`` pointed at a LocalCluster this script started (``--dask-workers``
  worker processes, one thread each), restarted before each run so that each worker's peak
  memory is that run's;
* ``dask-own``: ``--engine dask`` starting its own local cluster, so the wall time includes
  starting and stopping it.

Each run reports its wall time, its throughput (MB/s of input, rows/s), its partitions and
workers (from softnorm's ``--summary-json``) and two peaks of resident memory: that of the
largest single process (GNU time's %M, which is the largest of the process and the children it
waited for, not their sum; and each process's VmHWM, sampled) and the largest sum over the
process tree (softnorm, its worker processes, and for ``dask`` the cluster's workers), sampled
every ``--sample-interval`` seconds. The runs are then fitted, for each job and input format, to

    wall = startup[engine] + (bytes * per_byte + partitions * per_partition[engine]) / workers
           + partitions * merge

and the constants printed with a Markdown table of every run; ``--out`` gets it all as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import harness, machine, tables  # noqa: E402  (the benchmark's data, the softnorm command, the machine)
from bench.process_tree import run_once  # noqa: E402
from bench.scaling_model import MODEL, fit, print_fit  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
FLOATS = "f0,f1,f2,f3,f4,f5"
# name: (label, softnorm arguments)
JOBS = {
    "zscore": ("zscore, column", ["zscore", "-c", FLOATS]),
    "zscore-group": ("zscore, -g group", ["zscore", "-c", FLOATS, "-g", "group"]),
    "softmax": ("softmax, row", ["softmax", "-c", "f0,f1,f2"]),
    "robust": ("robust, column", ["robust", "-c", FLOATS]),
}
INPUTS = ["csv", "parquet", "parts"]
ENGINES = ["local", "dask", "dask-own"]
MODES = {
    # The comparison this script made first: the parts of the 5M table, each engine, and the grouped
    # z-score on more parts. Its local runs use softnorm's default --jobs unless --jobs-list says.
    "engines": dict(rows=[5_000_000], inputs=["parts"], only=["zscore", "zscore-group", "softmax"], parts=8,
                    more_parts=[32, 128], partition_sizes=["default"], engines=["local", "dask-own", "dask"],
                    jobs_list=["default"]),
    "scale": dict(rows=[100_000_000], inputs=INPUTS, only=list(JOBS), parts=64, more_parts=[],
                  partition_sizes=["default"], engines=["local", "dask"], jobs_list=["1", "2"]),
    "overhead": dict(rows=[1_000_000, 5_000_000], inputs=["csv", "parquet"], only=list(JOBS), parts=64, more_parts=[],
                     partition_sizes=["default", "4MB"], engines=["local", "dask"], jobs_list=["1", "2"]),
}
MANY_ROWS = 20_000_000  # from this size on, --runs defaults to 1 (else 3)
CSV_BYTES_PER_ROW, PARQUET_BYTES_PER_ROW = 131, 44  # the standard table's files, measured: for the disk check


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---- data -------------------------------------------------------------------------------------


def table_files(rows: int, data_dir: Path, formats: list[str]) -> dict[str, Path]:
    """The standard table's files, written once by ``bench.data`` in a process of its own."""
    out = harness.run_helper("data", "standard", "--rows", str(rows), "--formats", ",".join(formats),
                             "--data-dir", str(data_dir))
    return {fmt: Path(p) for fmt, p in json.loads(out).items()}


def split(source: Path, parts: int, folder: Path) -> Path:
    """``source`` cut into ``parts`` Parquet files of about equal rows (polars' ``write_parquet``), once.

    One pass over the source's record batches: only one part is held in memory at a time, so a
    100M-row table is cut as a 1M-row one."""
    import polars as pl
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = folder / ".complete"
    if done.exists():
        return folder
    t0 = time.perf_counter()
    log(f"cutting {source.name} into {parts} parts in {folder} ...")
    folder.mkdir(parents=True, exist_ok=True)
    f = pq.ParquetFile(source)
    size = -(-f.metadata.num_rows // parts)
    held: list = []
    count = written = 0

    def flush() -> None:
        nonlocal written
        table = pa.Table.from_batches(held, schema=f.schema_arrow)
        pl.from_arrow(table).rechunk().write_parquet(folder / f"part-{written:05d}.parquet")
        written += 1

    for batch in f.iter_batches(batch_size=65_536):
        while batch.num_rows:
            take = min(size - count, batch.num_rows)
            held.append(batch.slice(0, take))
            count += take
            batch = batch.slice(take)
            if count == size:
                flush()
                held, count = [], 0
    if held:
        flush()
    done.touch()
    log(f"cut in {time.perf_counter() - t0:.1f} s: {written} parts, {folder_bytes(folder) / 2**20:.0f} MiB")
    return folder


def folder_bytes(path: Path) -> int:
    """The bytes of a file, or of the files under a directory."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def row_groups(path: Path) -> int | None:
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_row_groups
    except Exception:  # noqa: BLE001 - only for the record
        return None


def check_disk(rows_list: list[int], inputs: list[str], data_dir: Path, tmp_dir: Path) -> None:
    """Warn when the data and the largest output may not fit on the disk (the output of a run, and
    the parts it is joined from, can be about twice its input)."""
    need_data = need_out = 0
    for rows in rows_list:
        csv, pq = rows * CSV_BYTES_PER_ROW, rows * PARQUET_BYTES_PER_ROW
        files = [csv] + ([pq] if {"parquet", "parts"} & set(inputs) else []) + ([pq] if "parts" in inputs else [])
        need_data += sum(files)
        need_out = max(need_out, 2 * max([csv] if "csv" in inputs else [pq]))
    data_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(data_dir).free
    same_disk = os.stat(data_dir).st_dev == os.stat(tmp_dir).st_dev
    free_tmp = shutil.disk_usage(tmp_dir).free
    if need_data + need_out > 1 << 30:
        elsewhere = "" if same_disk else f", {free_tmp / 1e9:.1f} GB in the tmp dir"
        log(f"disk: up to {need_data / 1e9:.1f} GB of data (less what is there already) and {need_out / 1e9:.1f} GB "
            f"for one run's output; free: {free / 1e9:.1f} GB{elsewhere}")
    if (same_disk and need_data + need_out > free) or (not same_disk and (need_data > free or need_out > free_tmp)):
        log("disk: WARNING, this may not fit (data already written counts as free here)")


# ---- the cases ----------------------------------------------------------------------------------


def command(softnorm: list[str], job: str, inp: Path, out: Path, summary: Path, config: dict, psize: str) -> list[str]:
    cmd = [*softnorm, *JOBS[job][1], str(inp), "-o", str(out) + ("/" if out.suffix == "" else ""), "-q",
           "--summary-json", str(summary)]
    if config["engine"] == "local" and config["jobs"] != "default":
        cmd += ["--jobs", config["jobs"]]
    if config["engine"] != "local":
        cmd += ["--engine", "dask"]
    if config.get("scheduler"):
        cmd += ["--scheduler", config["scheduler"]]
    if psize != "default":
        cmd += ["--partition-size", psize]
    return cmd


def output_path(work: Path, inp_kind: str, mode: str) -> Path:
    """The input's format: one file for one file; for parts a directory of parts (engines mode: one file)."""
    if inp_kind == "csv":
        return work / "out.csv"
    return work / ("out" if inp_kind == "parts" and mode != "engines" else "out.parquet")


def measure_case(case: dict, cmd: list[str], out: Path, summary: Path, work: Path, runs: int, args, client) -> dict:
    """``runs`` runs of one case: median wall, largest peaks, the partitions and workers of softnorm's summary."""
    rec = {**case, "command": cmd, "walls_s": [], "runs": []}
    for i in range(runs):
        extra = []
        if client is not None:
            try:
                client.restart(timeout=args.restart_timeout)  # fresh worker processes: their peak is this run's
                extra = list(client.run(os.getpid).values())
            except Exception as exc:  # noqa: BLE001 - a busy machine: this case fails, the next tries again
                rec["runs"].append({"error": f"the cluster did not restart: {type(exc).__name__}: {str(exc)[:200]}"})
                log(f"    {case_label(case)} run {i + 1}/{runs}: FAILED {rec['runs'][-1]['error']}")
                break
        summary.unlink(missing_ok=True)
        m = run_once(cmd, work, args.timeout, args.sample_interval, extra)
        m["output_bytes"] = folder_bytes(out) if out.exists() else None
        if out.is_dir():
            shutil.rmtree(out, ignore_errors=True)
        else:
            out.unlink(missing_ok=True)
        for left in work.iterdir():  # scratch a failed run left beside the output
            if left.name.startswith(".") or left.name.startswith("out"):
                shutil.rmtree(left, ignore_errors=True) if left.is_dir() else left.unlink(missing_ok=True)
        if "error" not in m:
            try:
                engine = json.loads(summary.read_text()).get("engine")
            except (OSError, ValueError) as exc:
                engine, m["error"] = None, f"no summary: {exc}"
            # No engine in the summary: one file streamed through the one process (--jobs 1).
            m["partitions"] = engine["partitions"] if engine else 1
            m["workers"] = engine["workers"] if engine else 1
            m["summary_engine"] = engine
        rec["runs"].append(m)
        shown = (f"FAILED {m['error']}" if "error" in m else
                 f"{m['wall_s']:.2f} s, {_n(m['partitions'], 'partition')}, {_n(m['workers'], 'worker')}, "
                 f"largest process {max(m['time_peak_mib'] or 0, m['sampled_peak_mib']):.0f} MiB, "
                 f"tree {m['sum_peak_mib']:.0f} MiB")
        log(f"    {case_label(case)} run {i + 1}/{runs}: {shown}")
        if "error" in m:
            break
    ok = [m for m in rec["runs"] if "error" not in m]
    rec["error"] = next((m["error"] for m in rec["runs"] if "error" in m), None)
    if ok and rec["error"] is None:
        rec["walls_s"] = [m["wall_s"] for m in ok]
        rec["wall_s"] = statistics.median(rec["walls_s"])
        rec["partitions"] = ok[-1]["partitions"]
        rec["workers"] = ok[-1]["workers"]
        rec["peak_mib"] = max(max(m["time_peak_mib"] or 0, m["sampled_peak_mib"]) for m in ok)
        rec["sum_peak_mib"] = max(m["sum_peak_mib"] for m in ok)
        rec["mb_per_s"] = rec["bytes"] / rec["wall_s"] / 1e6
        rec["mrows_per_s"] = rec["rows"] / rec["wall_s"] / 1e6
        rec["output_bytes"] = ok[-1]["output_bytes"]
    return rec


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def case_label(c: dict) -> str:
    engine = c["engine"] + (f" --jobs {c['jobs']}" if c["engine"] == "local" and c["jobs"] != "default" else "")
    psize = "" if c["partition_size"] == "default" else f", --partition-size {c['partition_size']}"
    return f"{c['job']}, {c['input']}, {c['rows']:,} rows, {engine}{psize}"


def plan(args) -> list[tuple[dict, Path]]:
    """Every case of the run, in order (each input's runs together: its file stays in the page cache),
    with its input; writes the data it needs."""
    cases = []
    for rows in args.rows:
        formats = ["csv"] + (["parquet"] if {"parquet", "parts"} & set(args.inputs) else [])
        files = table_files(rows, args.data_dir, formats)
        for kind in args.inputs:
            counts = [None] if kind != "parts" else [args.parts, *args.more_parts]
            for parts in counts:
                if kind == "parts":
                    folder = args.data_dir / f"softnorm-bench-{tables.DATA_VERSION}-{rows}-parts-{parts}"
                    inp = split(files["parquet"], parts, folder)
                else:
                    inp = files[kind]
                more = parts not in (None, args.parts)
                info = {"rows": rows, "input": kind, "parts": parts, "bytes": folder_bytes(inp),
                        "row_groups": row_groups(inp) if kind == "parquet" else None}
                for psize in args.partition_sizes:
                    for job in args.only:
                        if more and job != "zscore-group":
                            continue  # more parts: the grouped z-score alone, as the sweep of parts
                        for engine in args.engines:
                            if more and engine == "dask-own":
                                continue
                            for jobs in (args.jobs_list if engine == "local" else [None]):
                                cases.append(({**info, "job": job, "partition_size": psize, "engine": engine,
                                               "jobs": jobs}, inp))
    return cases


def run_cases(args) -> list[dict]:
    check_disk(args.rows, args.inputs, args.data_dir, args.tmp_dir)
    cases = plan(args)
    softnorm = harness.softnorm_command()
    cluster = client = None
    if "dask" in args.engines:
        import dask
        import distributed

        # The cluster closes a worker's nanny when no worker of its name has come back lost-worker-timeout
        # (15 s) after one left: a restart about 15 s after the one before would lose every worker for good.
        dask.config.set({"distributed.deploy.lost-worker-timeout": "1000000s"})
        cluster = distributed.LocalCluster(n_workers=args.dask_workers, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50)
        client = distributed.Client(cluster)
    work = Path(tempfile.mkdtemp(prefix="softnorm-scaling-", dir=args.tmp_dir))
    records = []
    try:
        log(f"{len(cases)} cases, {args.runs or 'default'} run(s) each; outputs in {work}, deleted after each run")
        for case, inp in cases:
            runs = args.runs or (1 if case["rows"] >= MANY_ROWS else 3)
            config = {"engine": case["engine"], "jobs": case["jobs"],
                      "scheduler": cluster.scheduler_address if case["engine"] == "dask" else None}
            out, summary = output_path(work, case["input"], args.mode), work / "summary.json"
            cmd = command(softnorm, case["job"], inp, out, summary, config, case["partition_size"])
            records.append(measure_case(case, cmd, out, summary, work, runs, args,
                                        client if case["engine"] == "dask" else None))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if client is not None:
            client.close()
            cluster.close()
    return records


def _mb(n: int) -> str:
    return f"{n / 1e9:,.2f} GB" if n >= 1e9 else f"{n / 1e6:,.1f} MB"


def print_table(records: list[dict]) -> None:
    print("\n| job | input | rows | bytes | partition size | partitions | engine | jobs | wall s | MB/s | Mrows/s "
          "| peak MiB, largest process | peak MiB, tree sum |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    failed = []
    for r in records:
        inp = r["input"] + (f" ({r['parts']})" if r["input"] == "parts" else "")
        engine = {"local": "local", "dask": "dask, running cluster", "dask-own": "dask, own cluster"}[r["engine"]]
        jobs = r["jobs"] if r["engine"] == "local" else "-"
        head = f"| {JOBS[r['job']][0]} | {inp} | {r['rows']:,} | {_mb(r['bytes'])} | {r['partition_size']} |"
        if r.get("wall_s") is None:
            failed.append(r)
            print(f"{head} | {engine} | {jobs} | FAILED | | | | |")
            continue
        if r["engine"] == "local":
            engine += ", 1 process" if r["workers"] == 1 else f", {r['workers']} worker processes"
        else:
            engine += f" ({r['workers']} workers)"
        print(f"{head} {r['partitions']} | {engine} | {jobs} | {r['wall_s']:.2f} | {r['mb_per_s']:.0f} | "
              f"{r['mrows_per_s']:.2f} | {r['peak_mib']:.0f} | {r['sum_peak_mib']:.0f} |")
    for r in failed:
        print(f"\nFAILED: {case_label(r)}: {r['error']}")


# ---- the command line ---------------------------------------------------------------------------


def _count(text: str) -> int:
    """200000, 200_000, 200k, 5M, 100M."""
    t = text.strip().lower().replace("_", "").replace(",", "")
    mult = {"k": 10**3, "m": 10**6, "g": 10**9}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def _list(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=list(MODES), default="engines", help="which measurement (default: engines)")
    p.add_argument("--rows", nargs="+", help="table sizes (comma lists too; 200k, 5M, 100M)")
    p.add_argument("--inputs", type=_list, help="csv, parquet (one file each), parts (a directory of --parts)")
    p.add_argument("--only", type=_list, help="jobs: " + ", ".join(JOBS))
    p.add_argument("--jobs-list", type=_list, help="--jobs of the local engine (default: softnorm's default)")
    p.add_argument("--engines", type=_list, help="local, dask (a running cluster), dask-own (softnorm starts one)")
    p.add_argument("--partition-size", type=_list, dest="partition_sizes",
                   help="softnorm's --partition-size, a comma list (default: softnorm's default)")
    p.add_argument("--parts", type=int, help="Parquet parts of the parts input")
    p.add_argument("--more-parts", type=int, nargs="*", help="the grouped z-score on these many parts too")
    p.add_argument("--runs", type=int, help=f"runs per case (default: 1 from {MANY_ROWS:,} rows, else 3)")
    p.add_argument("--dask-workers", type=int, default=2, help="worker processes of the running cluster")
    p.add_argument("--restart-timeout", type=float, default=300, help="seconds the cluster may take to restart")
    p.add_argument("--sample-interval", type=float, default=0.1, help="seconds between memory samples")
    p.add_argument("--timeout", type=float, default=7200, help="seconds; a run that takes longer is killed")
    p.add_argument("--data-dir", type=Path, default=BENCH_DIR / "data")
    p.add_argument("--tmp-dir", type=Path, default=Path(tempfile.gettempdir()))
    p.add_argument("--out", type=Path, help="JSON results (default: DATA_DIR/scaling-MODE.json)")
    p.add_argument("--fit", type=Path, nargs="+", metavar="JSON", help="run nothing: fit the runs of these results")
    p.add_argument("--no-compile", action="store_true", help="do not byte-compile softnorm before the runs")
    args = p.parse_args(argv)
    for key, value in MODES[args.mode].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    args.rows = [_count(v) for text in args.rows for v in (_list(text) if isinstance(text, str) else [str(text)])]
    for name, values, known in (("--only", args.only, JOBS), ("--inputs", args.inputs, INPUTS),
                                ("--engines", args.engines, ENGINES)):
        if bad := [v for v in values if v not in known]:
            p.error(f"{name}: unknown {', '.join(bad)} (known: {', '.join(known)})")
    if bad := [j for j in args.jobs_list if j != "default" and not j.isdigit()]:
        p.error(f"--jobs-list: {', '.join(bad)} (numbers, or default)")
    args.out = args.out or args.data_dir / f"scaling-{args.mode}.json"
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.fit:
        records = [r for path in args.fit for r in json.loads(path.read_text())["runs"]]
        print_table(records)
        print_fit(fit(records))
        return 0
    notes = [] if args.no_compile else machine.compile_bytecode()
    load_start = machine.loadavg()
    t0 = time.perf_counter()
    records = run_cases(args)
    fits = fit(records)
    print(f"\n{args.mode}: {', '.join(f'{r:,}' for r in args.rows)} rows; median wall of each case's runs, "
          f"the whole softnorm process; peak RSS of the largest process and largest sum over the process tree; "
          f"{os.cpu_count()} CPUs; load {load_start} at the start, {machine.loadavg()} at the end; "
          f"{time.perf_counter() - t0:.0f} s in all")
    print_table(records)
    print_fit(fits)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k not in ("fit", "out")}
    result = {"mode": args.mode, "model": MODEL, "config": {**config, "bytecode_notes": notes},
              "machine": {**machine.machine_info(), "loadavg_start": load_start, "loadavg_end": machine.loadavg()},
              "runs": records, "fit": fits}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    log(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

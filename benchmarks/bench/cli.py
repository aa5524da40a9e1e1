"""The user-facing options of ``benchmarks/run.py``, and the run: plan the suites, run them,
report, write the JSON."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import checks, harness, machine, report, tables
from .harness import GNU_TIME, log
from .suites import ALL, BIG_ROWS, EXCEL_ROWS, FLOOR, SMALL_ROWS, SUITES, TOOLS, Plan, run_suite
from .tables import FORMATS, UNSUPPORTED

JOBS = list(dict.fromkeys(j for s in SUITES.values() for j in s.jobs))
WIDE_SHAPES = ["2000x500", "100000x2"]  # columns x rows
GROUP_KEYS = [1000]


def parse_shape(text: str) -> tuple[int, int]:
    """'2000x500' -> (2000 columns, 500 rows)."""
    try:
        cols, rows = (int(v.replace("_", "").replace(",", "")) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shape {text!r} is not COLUMNSxROWS, e.g. 2000x500") from None
    if cols < 1 or rows < 1:
        raise argparse.ArgumentTypeError(f"shape {text!r}: columns and rows must be positive")
    return cols, rows


def csv_list(value: str, allowed: list[str], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(bad) or '(none)'}; choose from {','.join(allowed)}")
    return items


def parse_args(argv=None) -> argparse.Namespace:
    here = harness.BENCH_ROOT
    p = argparse.ArgumentParser(prog="run.py", description="Benchmark softnorm against polars, DuckDB and pandas.")
    p.add_argument("--suite", choices=[*SUITES, "all"], default="standard",
                   help=f"small: the first {SMALL_ROWS} rows of the standard table, CSV; standard: the long tables of --rows; "
                        "wide: the wide tables of --wide-shapes; groups: the group jobs (-g) on tables of --rows rows and "
                        f"--group-keys keys; excel: an .xlsx workbook of the standard table's first --excel-rows rows, CSV out; "
                        "robust: robust scaling, quantiles and the other scalers on the long tables of --rows; "
                        f"all: {', '.join(ALL)}; big: only the big CSV case of --big (default standard)")
    p.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000],
                   help="table sizes, of the standard and the group suite (default: 1000000 5000000)")
    p.add_argument("--wide-shapes", type=parse_shape, nargs="+", default=[parse_shape(v) for v in WIDE_SHAPES],
                   metavar="COLSxROWS", help=f"wide tables, columns x rows (default: {' '.join(WIDE_SHAPES)})")
    p.add_argument("--group-keys", type=int, nargs="+", default=GROUP_KEYS, metavar="N",
                   help=f"group suite: distinct keys of grp per table, each size of --rows with each (default: "
                        f"{' '.join(map(str, GROUP_KEYS))}; as many as the rows for groups of about one row)")
    p.add_argument("--excel-rows", type=int, default=EXCEL_ROWS,
                   help=f"rows of the excel suite's workbook, the standard table's first rows (default {EXCEL_ROWS})")
    p.add_argument("--runs", type=int, default=None,
                   help="timed runs per case after one warm-up (default: " + ", ".join(
                       f"{s.name} {s.runs}" for s in SUITES.values() if s.warmup) + f"); the big CSV: runs without warm-up "
                       f"(default {SUITES['big'].runs})")
    p.add_argument("--big", action="store_true",
                   help=f"also run the big CSV case: {BIG_ROWS:,} rows (--big-rows), {' and '.join(SUITES['big'].jobs)}, "
                        "CSV to CSV, softnorm and the polars one-liner")
    p.add_argument("--big-rows", type=int, default=BIG_ROWS, help=f"rows of the big CSV (default {BIG_ROWS})")
    p.add_argument("--out", type=Path, default=here / "results.json", help="JSON results (default benchmarks/results.json)")
    p.add_argument("--data-dir", type=Path, default=here / "data", help="generated data cache (default benchmarks/data)")
    p.add_argument("--only", type=lambda v: csv_list(v, TOOLS, "tool"), default=TOOLS,
                   help=f"tools to run (default {','.join(TOOLS)}); the I/O floor runs with job 'io'")
    p.add_argument("--jobs", type=lambda v: csv_list(v, JOBS, "job"), default=None,
                   help="jobs (default: " + "; ".join(f"{s.name} {','.join(s.jobs)}" for s in SUITES.values())
                        + "; 'io' being the I/O floor); each suite runs those of its jobs that are named")
    p.add_argument("--formats", type=lambda v: csv_list(v, FORMATS, "format"), default=FORMATS,
                   help=f"formats (default {','.join(FORMATS)}): CSV to CSV, Parquet to Parquet with the input written by "
                        "polars (parquet) or by pyarrow's defaults (parquet-pyarrow), JSON Lines to JSON Lines (jsonl), Arrow "
                        "IPC file to Arrow IPC file (arrow); the wide suite has only csv and parquet, the group suite csv and "
                        "parquet-pyarrow, the small suite and the big CSV only csv, the excel suite only its workbook")
    p.add_argument("--timeout", type=float, default=1800, help="seconds before one run is killed (default 1800)")
    p.add_argument("--tmp-dir", type=Path, default=None, help="where outputs are written (default: TMPDIR); deleted afterwards")
    p.add_argument("--plain", action="store_true", help="plain-text table even when rich is installed")
    p.add_argument("--markdown", action="store_true",
                   help="after the run, print Markdown tables of softnorm against the polars one-liner (the wide tables: "
                        "against the I/O floor), one row per job, size and format")
    args = p.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        p.error("--runs must be at least 1")
    if any(n < 1 for n in args.rows) or args.big_rows < 1 or args.excel_rows < 1:
        p.error("--rows, --big-rows and --excel-rows must be positive")
    if any(n < 1 for n in args.group_keys):
        p.error("--group-keys must be positive")
    # The helpers run in benchmarks/: the paths they are given must not depend on the current directory.
    for name in ("out", "data_dir", "tmp_dir"):
        if getattr(args, name) is not None:
            setattr(args, name, getattr(args, name).resolve())
    args.big = args.big or args.suite == "big"
    names = ALL if args.suite == "all" else [] if args.suite == "big" else [args.suite]
    args.suites = [*names, *(["big"] if args.big else [])]
    args.suite_jobs = {n: [j for j in SUITES[n].jobs if j in (args.jobs or SUITES[n].jobs)] for n in args.suites}
    jobs = ",".join(args.jobs or [])
    if args.big and not args.suite_jobs["big"]:
        p.error(f"--jobs {jobs}: the big CSV case runs only {','.join(SUITES['big'].jobs)}")
    if not any(args.suite_jobs[n] for n in names) and names:
        p.error(f"--jobs {jobs}: none of them is a job of the {args.suite} suite" + ("s" if args.suite == "all" else ""))
    return args


def softnorm_missing_jobs(args) -> dict[str, str]:
    """The jobs of the suites to run that softnorm has no command for (a command still being
    built), with why: they are left out with a note rather than failing every run."""
    jobs = dict.fromkeys(j for n in args.suites for j in args.suite_jobs[n] if j not in ("io", "stats"))
    missing = {j: harness.probe([*harness.softnorm_command(), j, "--help"]) for j in jobs}
    return {j: why for j, why in missing.items() if why}


def plan_suites(args) -> tuple[list[Plan], list[str]]:
    """The suites to run with their jobs, tools and formats, and notes on what is skipped and why."""
    notes = []
    wanted = {t for n in args.suites for t in SUITES[n].tools if t in args.only}
    if any("io" in args.suite_jobs[n] for n in args.suites):
        wanted.add(FLOOR)
    available = set()
    for tool in [t for t in [*TOOLS, FLOOR] if t in wanted]:
        if tool == "softnorm":
            cmd, cwd = [*harness.softnorm_command(), "--version"], None
        else:
            cmd, cwd = harness.bench_command("peers", "--probe", "polars" if tool == FLOOR else tool), harness.BENCH_ROOT
        failed = harness.probe(cmd, cwd)
        if failed:
            notes.append(f"{tool}: skipped, `{' '.join(cmd)}` failed: {failed}")
        else:
            available.add(tool)
    missing_jobs = softnorm_missing_jobs(args) if "softnorm" in available else {}
    notes += [f"{job}: not run, softnorm has no {job} command (`softnorm {job} --help` failed: {why})"
              for job, why in missing_jobs.items()]
    pyarrow_missing: list[str | None] = []  # probed once, when a suite first needs it
    plans = []
    for name in args.suites:
        suite = SUITES[name]
        jobs = [j for j in args.suite_jobs[name] if (j != "io" or FLOOR in available) and j not in missing_jobs]
        notes += [f"{t}: not run on the {name} suite (see benchmarks/README.md)" for t in args.only if t not in suite.tools]
        if len(suite.formats) == 1:
            formats = list(suite.formats)
        else:
            formats = [f for f in args.formats if f in suite.formats]
            notes += [f"{f}: not a format of the {name} suite" for f in args.formats if f not in suite.formats]
        if "parquet-pyarrow" in formats:
            if not pyarrow_missing:
                pyarrow_missing.append(harness.probe([sys.executable, "-c", "import pyarrow.csv, pyarrow.parquet"]))
                if pyarrow_missing[0]:
                    notes.append(f"parquet-pyarrow: skipped, writing it needs pyarrow: {pyarrow_missing[0]}")
            if pyarrow_missing[0]:
                formats.remove("parquet-pyarrow")
        tools = [t for t in args.only if t in suite.tools and t in available]
        notes += [f"{t}: not run on {f}: {why}" for (t, f), why in UNSUPPORTED.items() if t in tools and f in formats]
        if "pandas" in tools and name == "excel":
            engine = harness.run_helper("peers", "--excel-engine").strip()
            notes.append(f"pandas: reads the workbook with read_excel(engine={engine!r})"
                         + ("" if engine == "calamine" else ", as python-calamine is not installed"))
        if not (jobs and formats and tools):  # the I/O floor alone says nothing of softnorm
            if args.suite_jobs[name]:
                why = ("no format of it is in --formats" if not formats else "none of its tools runs" if not tools
                       else "its only job is the I/O floor, which does not run")
                notes.append(f"{name} suite: not run, {why}")
            continue
        plans.append(Plan(suite, jobs, tools, formats, suite.sizes(args), args.runs or suite.runs))
    return plans, notes


def runs_text(plans: list[Plan], big_rows: int) -> str:
    return "; ".join(
        (f"big CSV ({big_rows:,} rows): " if p.suite.name == "big" else f"{p.suite.name}: ")
        + (f"median of {p.runs} timed run(s) after 1 warm-up" if p.suite.warmup else f"{p.runs} run(s), no warm-up")
        for p in plans)


def checks_header(plans: list[Plan]) -> str:
    layouts = {p.suite.layout for p in plans}
    return ("Checks (every output against a numpy float64 reference computed from the input; "
            f"floats rtol {checks.RTOL:g} atol {checks.ATOL:g}"
            + (f", z-score of f5 (and a peer's robust f5) atol {checks.ATOL_ZSCORE_1E9:g}; id and group must be the input's text"
               if "standard" in layouts else "")
            + ("; wide tables: id must be the input's text, stats figures count/min/max/mean/std" if "wide" in layouts else "")
            + (f"; group jobs: the reference within each group, a constant group 0, z-scores atol at least {checks.ZSCORE_ULPS} "
               f"ulps of the group's mean over its std (f4: {checks.ATOL_ZSCORE_1E9:g}), id and {tables.GROUP_KEY} the input's text"
               if "groups" in layouts else "")
            + (f"; robust and quantile: softnorm within {checks.EXACT_TOL:g} of the numpy percentiles' results "
               "(rtol and atol), every tool's largest error noted" if any(p.suite.name == "robust" for p in plans) else "")
            + "):")


def main(argv=None) -> int:
    args = parse_args(argv)
    failed = harness.probe([sys.executable, "-c", "import numpy, polars"])
    if failed:
        sys.exit(f"run.py: generating and checking the data needs numpy and polars: {failed}")
    bytecode_notes = machine.compile_bytecode()
    for note in bytecode_notes:
        log(f"bytecode: {note}")
    plans, skipped = plan_suites(args)
    for note in skipped:
        log(note)

    results, found = [], []
    work = Path(tempfile.mkdtemp(prefix="softnorm-bench-", dir=args.tmp_dir))
    started, load_start = time.time(), machine.loadavg()
    try:
        no_gnu_time = harness.gnu_time_check(work)
        if no_gnu_time:
            log(f"peak memory from os.wait4's rusage: {no_gnu_time}")
        for plan in plans:
            recs, checked = run_suite(plan, args.data_dir, work, args.timeout, None if no_gnu_time else work / "time.txt")
            results += recs
            found += checked
    finally:
        shutil.rmtree(work, ignore_errors=True)

    harness_mib = harness.harness_peak_mib()  # before machine_info's imports: what the children inherited
    info = machine.machine_info()
    info["harness_peak_mib"] = round(harness_mib, 1)
    info["loadavg_start"], info["loadavg_end"] = load_start, machine.loadavg()
    runs = runs_text(plans, args.big_rows)
    print(f"softnorm benchmark: {info.get('cpus_usable') or info['cpu_count']} CPUs"
          + (f" ({info['cpu_model']})" if info.get("cpu_model") else "")
          + f", Python {info['python']}, " + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
          + f"; {runs}; whole process; peak RSS = max over timed runs, "
          + (f"from GNU time ({GNU_TIME} -f %M)" if not no_gnu_time else
             f"from os.wait4's rusage because {no_gnu_time} (on Linux a child's peak then starts at its parent's,"
             f" here the harness's {info['harness_peak_mib']:.0f} MiB)")
          + (f"; load average {info['loadavg_start'][0]:.1f} at the start, {info['loadavg_end'][0]:.1f} at the end"
             if info["loadavg_start"] and info["loadavg_end"] else ""))
    print("tool/softnorm wall: above 1 means softnorm is faster. wall/I/O floor: the tool's wall over polars read + write unchanged.")
    if module := machine.softnorm_module():
        print(f"softnorm_cli imported from {module}" + ("" if bytecode_notes else ", byte-compiled before the run"))
    plain = args.plain or not sys.stdout.isatty()
    for plan in plans:
        print()
        report.print_table(*report.table(plan, [r for r in results if r["suite"] == plan.suite.name]), plain)

    print()
    print(checks_header(plans))
    failed_runs = [r for r in results if r["error"]]
    for r in failed_runs:
        print(f"  FAILED  {report.case_label(r)} {r['tool']}: {r['error']}")
    for c in found:
        for prob in c["problems"]:
            print(f"  MISMATCH  {report.case_label(c)} {c['tool']}: {prob}")
        for note in c["notes"]:
            print(f"  note  {report.case_label(c)} {c['tool']}: {note}")
    print(f"  {sum(c['ok'] for c in found)} of {len(found)} outputs agree" + (f"; {len(failed_runs)} run(s) failed" if failed_runs else ""))
    for note in [*skipped, *(f"bytecode: {n}" for n in bytecode_notes)]:
        print(f"  {note}")

    targets = report.evaluate_targets(plans, results)
    report.print_targets(targets)
    if args.markdown and plans:
        print()
        print(f"Markdown ({runs}; peak RSS {'from GNU time' if not no_gnu_time else 'from rusage'}; ratio = softnorm s / reference s):")
        print()
        print(report.markdown(plans, results))

    big = next((p for p in plans if p.suite.name == "big"), None)
    out = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": info,
        "config": {"suite": args.suite, "suites": {p.suite.name: {"jobs": p.jobs, "tools": p.tools, "formats": p.formats,
                                                                   "runs": p.runs, "warmups": int(p.suite.warmup)} for p in plans},
                   "rows": args.rows, "small_rows": SMALL_ROWS,
                   "excel_rows": args.excel_rows if "excel" in args.suites else None, "wide_shapes": [f"{c}x{r}" for c, r in args.wide_shapes],
                   "runs": args.runs, "warmups": 1, "tools": args.only, "jobs": list(dict.fromkeys(j for p in plans for j in p.jobs)),
                   "formats": args.formats, "data_version": tables.DATA_VERSION, "wide_data_version": tables.WIDE_DATA_VERSION,
                   "seed": tables.SEED, "group_keys": args.group_keys if "groups" in args.suites else None,
                   "groups_data_version": tables.GROUPS_DATA_VERSION, "groups_seed": tables.GROUPS_SEED,
                   "big": args.big, "big_rows": args.big_rows if args.big else None, "big_runs": big.runs if big else None,
                   "big_warmups": 0, "big_jobs": big.jobs if big else [],
                   "peak_method": "rusage" if no_gnu_time else "gnu-time",
                   "peak_command": None if no_gnu_time else [GNU_TIME, "-f", "%M", "-o", "FILE"],
                   "peak_method_note": no_gnu_time, "bytecode_notes": bytecode_notes,
                   "softnorm_command": harness.softnorm_command(), "rtol": checks.RTOL, "atol": checks.ATOL,
                   "atol_zscore_f5": checks.ATOL_ZSCORE_1E9, "zscore_ulps": checks.ZSCORE_ULPS,
                   "exact_tol": checks.EXACT_TOL, "quantiles": tables.QUANTILES},
        "skipped": skipped,
        "results": results,
        "checks": found,
        "targets": targets,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    log(f"wrote {args.out}")
    return 0

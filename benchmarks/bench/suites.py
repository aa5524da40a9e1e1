"""The suites, one row each: the data, jobs, tools, formats and targets of each; and one loop,
``run_suite``, that runs any of them.

A case is one (job, size, format): every tool of it runs in its own process, once to warm up
and then ``runs`` times, interleaved; its outputs are then checked in a helper process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, NamedTuple

from . import harness
from .tables import EXCEL, FORMATS, GROUP_KEY, LAYOUTS, OUTPUT_EXT, QUANTILES, SOFTNORM_ONLY, UNSUPPORTED

TOOLS = ["softnorm", "polars", "duckdb", "pandas"]
FLOOR = "io-floor"  # the I/O floor's tool name: polars reads the file and writes it back unchanged (job io)
SMALL_ROWS = 200
BIG_ROWS = 12_000_000  # about 1.5 GB of CSV
EXCEL_ROWS = 100_000  # a workbook is read whole, by every tool: a size a spreadsheet has
MB = 1e6 / 2**20  # MiB per MB: peaks are measured in KiB and shown in MiB
PEAK_LIMIT_MB = 300.0  # softnorm's peak on every job of every suite (report.memory_targets)


class Target(NamedTuple):
    """softnorm's median wall over ``against``'s, for the same job, size and format, from the same run:
    at most the limit of each size of ``limits`` (sizes not listed are not in the target; a limit of
    None: no speed limit at that size, only ``peak_mb``). With ``against_job``, the reference is
    softnorm itself on that job, same size and format (``against`` is then "softnorm")."""

    what: str
    limits: tuple[tuple[dict, float | None], ...]  # (size, limit), a size as in a record: {"rows": ..} and keys or cols
    jobs: tuple[str, ...] | None = None  # None: every job but io
    against: str = "polars"  # the polars one-liner, or FLOOR
    peak_mb: float | None = None  # and softnorm's peak at most this, in MB
    formats: tuple[str, ...] | None = None  # None: every format of the suite
    against_job: str | None = None  # softnorm's own run of this job as the reference


class Suite(NamedTuple):
    name: str
    title: str  # of its table of results
    data: str  # the table generated (tables.table_of): standard, first, groups, wide
    layout: str  # its columns, as the peers and checks know them: standard, groups, wide
    jobs: tuple[str, ...]  # io: the I/O floor, run by FLOOR alone
    tools: tuple[str, ...]
    formats: tuple[str, ...]  # a suite of one format runs it whatever --formats says
    sizes: Callable  # the parsed options -> the sizes to run, as {"rows": .., "keys" or "cols": ..}
    size_option: str  # the options that choose the sizes, for a target's "not measured" lines
    runs: int  # timed runs per case unless --runs
    warmup: bool = True
    targets: tuple[Target, ...] = ()


_M = 1_000_000
SUITES = {s.name: s for s in [
    Suite("small", f"small table, the standard table's first {SMALL_ROWS} rows", "first", "standard",
          ("io", "softmax", "minmax", "zscore"), tuple(TOOLS), ("csv",),
          lambda a: [{"rows": SMALL_ROWS}], "", runs=10,
          targets=(Target("small table, every job", (({"rows": SMALL_ROWS}, 1.3),)),)),
    Suite("standard", "softnorm benchmark", "standard", "standard",
          ("io", "softmax", "minmax", "zscore"), tuple(TOOLS), tuple(FORMATS),
          lambda a: [{"rows": r} for r in a.rows], "--rows", runs=3,
          targets=(Target("every job, CSV and Parquet", (({"rows": _M}, 1.1), ({"rows": 5 * _M}, 1.0)),
                          formats=("csv", "parquet", "parquet-pyarrow")),
                   Target("JSON Lines z-score, memory", (({"rows": _M}, None),), jobs=("zscore",),
                          peak_mb=PEAK_LIMIT_MB, formats=("jsonl",)))),
    Suite("wide", "wide tables", "wide", "wide",
          ("io", "stats", "zscore", "softmax", "minmax"), ("softnorm", "polars", "pandas"), ("csv", "parquet"),
          lambda a: [{"rows": r, "cols": c} for c, r in a.wide_shapes], "--wide-shapes", runs=3,
          targets=(Target("wide table, every command", (({"rows": 2, "cols": 100_000}, 3.0),), against=FLOOR),)),
    Suite("groups", f"group jobs, -g {GROUP_KEY}", "groups", "groups",
          ("softmax", "minmax", "zscore"), tuple(TOOLS), ("csv", "parquet-pyarrow"),
          lambda a: [{"rows": r, "keys": k} for r in a.rows for k in a.group_keys], "--rows and --group-keys", runs=3,
          targets=(Target(f"group z-score (-g {GROUP_KEY}), every format",
                          (({"rows": _M, "keys": 1000}, 1.1), ({"rows": 5 * _M, "keys": 1000}, 1.1)),
                          jobs=("zscore",), peak_mb=PEAK_LIMIT_MB),)),
    Suite("excel", "Excel workbook in, CSV out", "first", "standard",
          ("io", "softmax", "minmax", "zscore"), ("softnorm", "polars", "pandas"), (EXCEL,),
          lambda a: [{"rows": a.excel_rows}], "--excel-rows", runs=3),
    Suite("robust", "robust scaling and the other scalers", "standard", "standard",
          ("robust", "quantile", "maxabs", "minmax", "unitnorm", "softmax"), tuple(TOOLS), ("csv", "parquet"),
          lambda a: [{"rows": r} for r in a.rows], "--rows", runs=3,
          targets=(Target("robust, CSV and Parquet", (({"rows": _M}, 1.5), ({"rows": 5 * _M}, 1.2)), jobs=("robust",),
                          peak_mb=PEAK_LIMIT_MB),
                   Target("max-abs against min-max", (({"rows": _M}, 1.05), ({"rows": 5 * _M}, 1.05)), jobs=("maxabs",),
                          against="softnorm", against_job="minmax"),
                   Target("unit norm against row softmax", (({"rows": _M}, 1.05), ({"rows": 5 * _M}, 1.05)),
                          jobs=("unitnorm",), against="softnorm", against_job="softmax"))),
    Suite("big", "big CSV", "standard", "standard",
          ("zscore", "softmax"), ("softnorm", "polars"), ("csv",),
          lambda a: [{"rows": a.big_rows}], "--big-rows", runs=1, warmup=False),
]}
# --suite all: these; big runs with --big or --suite big.
ALL = ["small", "standard", "wide", "groups", "excel", "robust"]
# softnorm's options for a job beyond its columns, the same the reference takes.
JOB_OPTIONS = {"quantile": ["--n-quantiles", str(QUANTILES), "--output-distribution", "uniform"]}


class Plan(NamedTuple):
    """A suite as this run runs it: the jobs, tools and formats chosen, the sizes, the timed runs."""

    suite: Suite
    jobs: list[str]
    tools: list[str]
    formats: list[str]
    sizes: list[dict]
    runs: int


def size_label(size: dict) -> str:
    """'1,000,000', '1,000,000/1,000 keys' or '2,000x500' (columns x rows)."""
    if "cols" in size:
        return f"{size['cols']:,}x{size['rows']:,}"
    return f"{size['rows']:,}" + (f"/{size['keys']:,} keys" if "keys" in size else "")


def size_words(size: dict) -> str:
    """'1,000,000 rows', '1,000,000 rows with 1,000 keys' or '100,000 columns x 2 rows'."""
    if "cols" in size:
        return f"{size['cols']:,} columns x {size['rows']:,} rows"
    return f"{size['rows']:,} rows" + (f" with {size['keys']:,} keys" if "keys" in size else "")


def softnorm_args(layout: str, job: str, inp: str, out: str) -> list[str]:
    if layout == "wide":  # no -c: softnorm takes the numeric columns; stats prints JSON
        return ["stats", inp, "--json"] if job == "stats" else [job, inp, "-o", out]
    cols = ["-c", ",".join(LAYOUTS[layout].job_columns[job])]
    if layout == "groups":  # softmax down each column, within each group
        return [job, inp, *cols, *(["--axis", "column"] if job == "softmax" else []), "-g", GROUP_KEY, "-o", out, "-q"]
    return [job, inp, *cols, *JOB_OPTIONS.get(job, []), "-o", out]


def tool_command(layout: str, tool: str, job: str, inp: str, out: str) -> tuple[list[str], Path | None]:
    """The command that runs ``tool`` on a case, and the directory it runs in (None: this one)."""
    if tool == "softnorm":
        return [*harness.softnorm_command(), *softnorm_args(layout, job, inp, out)], None
    peer, peer_job = ("polars", "io") if tool == FLOOR else (tool, job)
    return harness.bench_command("peers", layout, peer, peer_job, inp, "-" if job == "stats" else out), harness.BENCH_ROOT


def generate(plan: Plan, size: dict, data_dir: Path) -> dict[str, Path]:
    """The size's input files, in the plan's formats, written by a helper if missing."""
    args = [plan.suite.data, "--rows", str(size["rows"]), "--formats", ",".join(plan.formats), "--data-dir", str(data_dir)]
    args += [a for k in ("keys", "cols") if k in size for a in (f"--{k}", str(size[k]))]
    return {fmt: Path(p) for fmt, p in json.loads(harness.run_helper("data", *args)).items()}


def run_suite(plan: Plan, data_dir: Path, work: Path, timeout: float, time_file: Path | None) -> tuple[list[dict], list[dict]]:
    """Every case of the plan: for each size, each format, each job. Returns the results and the checks."""
    suite = plan.suite
    results, checks = [], []
    for size in plan.sizes:
        paths = generate(plan, size, data_dir)
        for fmt in [f for f in plan.formats if f in paths]:  # a wide table past 2,000 columns has no Parquet
            inp = paths[fmt]
            for job in plan.jobs:
                tools = ([FLOOR] if job == "io" else [t for t in plan.tools if (t, fmt) not in UNSUPPORTED
                                                      and (t == "softnorm" or job not in SOFTNORM_ONLY)])
                if not tools:
                    continue
                tag = "-".join([suite.name, job, *(str(size[k]) for k in ("cols", "rows", "keys") if k in size), fmt])
                outs = {t: work / f"{tag}-{t}{'.json' if job == 'stats' else OUTPUT_EXT[fmt]}" for t in tools}
                recs = {}
                for t in tools:
                    cmd, cwd = tool_command(suite.layout, t, job, str(inp), str(outs[t]))
                    recs[t] = {"suite": suite.name, "job": job, **size, "format": fmt, "tool": t, "command": cmd,
                               "cwd": None if cwd is None else str(cwd), "walls_s": [], "peaks_mib": [],
                               "warmup_s": None, "error": None}
                harness.run_case(recs, outs, work, plan.runs, timeout, warmup=suite.warmup, time_file=time_file,
                                 prints=job == "stats", label=f"{job:8} {size_label(size):>10} {fmt:15}")
                results += recs.values()
                done = {t: str(p) for t, p in outs.items() if not recs[t]["error"]}
                if done:
                    found = json.loads(harness.run_helper("checks", suite.layout, job, str(inp), json.dumps(done)))
                    checks += [{"suite": suite.name, "job": job, **size, "format": fmt, "tool": t, **c} for t, c in found.items()]
                for p in outs.values():
                    p.unlink(missing_ok=True)
    return results, checks

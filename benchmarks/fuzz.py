"""Run many seeded robustness cases against the softnorm command line and summarize the failures.

    python benchmarks/fuzz.py                       # 10,000 cases from seed 0, 2 workers
    python benchmarks/fuzz.py --cases 200 --seed 1  # seeds 1 to 200
    python benchmarks/fuzz.py --show 1234           # one case: command, expectation, outcome

The cases, the oracle and the checks are in tests/fuzzcases.py (the same
ones tests/test_fuzz.py runs). Each worker process imports softnorm once,
then runs cases in-process through Click's CliRunner, each in a fresh
temporary directory. The parent gives every case TIMEOUT seconds: a case
without an answer is a hang (the summary shows the worker's thread stacks,
taken with faulthandler, before the worker is killed and replaced), and a
worker that dies fails its case. The summary groups failures by kind, with
the number of cases and the seed of the smallest input that shows each;
``--show SEED`` prints that case, a shell command reproducing it, the
expected table and what went wrong.
"""

from __future__ import annotations

import argparse
import faulthandler
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from multiprocessing.connection import wait
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fuzzcases  # noqa: E402

TIMEOUT = 10.0  # seconds per case
STARTUP_TIMEOUT = 120.0  # seconds for a worker process to import softnorm and its libraries
CASES_PER_WORKER = 500  # a fresh worker after this many cases, so no state builds up


def run_case(seed: int, base: str | None = None) -> tuple[list[tuple[str, str]], str]:
    """The findings of one case as (kind, detail) pairs, and its report; it runs in a new directory in ``base``."""
    case = fuzzcases.generate(seed)
    workdir = tempfile.mkdtemp(prefix=f"case-{seed}-", dir=base)
    seen = {}

    def invoke(args, stdin):
        seen["outcome"] = fuzzcases.run_cli(args, stdin)
        return seen["outcome"]

    try:
        findings = fuzzcases.execute(case, workdir, invoke)
    except Exception:  # noqa: BLE001 - a failure of the harness is reported, not hidden
        findings = [fuzzcases.Finding("fuzz harness error", traceback.format_exc())]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = fuzzcases.describe(case, outcome=seen.get("outcome")) if findings else ""
    return [(f.kind, f.detail) for f in findings], report


def worker(conn, base: str) -> None:
    """Answer seeds from the parent until told to stop, working in ``base``.

    SIGUSR1 writes every thread's stack to ``base/stacks``, for the report of a hang.
    """
    os.environ.pop("SOFTNORM_DEBUG", None)
    stacks = open(os.path.join(base, "stacks"), "w")
    faulthandler.register(signal.SIGUSR1, file=stacks, all_threads=True)
    try:
        # Import what every case needs before saying ready: start-up is not part of any case's time.
        import click.testing  # noqa: F401
        import numpy  # noqa: F401
        import polars  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import softnorm_cli.cli  # noqa: F401

        conn.send("ready")
        while True:
            seed = conn.recv()
            if seed is None:
                break
            conn.send((seed, *run_case(seed, base)))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        conn.close()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)  # skip pyarrow's thread teardown at exit, which can abort


class Pool:
    """Worker processes fed one seed at a time, each case watched by a deadline."""

    def __init__(self, workers: int):
        self.ctx = mp.get_context("spawn")  # polars and pyarrow threads do not survive fork
        self.size = workers
        self.slots: list[dict] = []

    def _start(self) -> dict:
        parent, child = self.ctx.Pipe()
        base = tempfile.mkdtemp(prefix="softnorm-fuzz-")  # removed with the worker, even a killed one
        process = self.ctx.Process(target=worker, args=(child, base), daemon=True)
        process.start()
        child.close()
        slot = {"process": process, "conn": parent, "seed": None, "deadline": None, "done": 0, "base": base}
        try:
            ready = parent.poll(STARTUP_TIMEOUT) and parent.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            raise RuntimeError(f"a worker process did not start within {STARTUP_TIMEOUT:.0f} s")
        return slot

    def _stacks(self, slot: dict) -> str:
        """The stacks of a hung worker's threads (faulthandler), for the report."""
        try:
            os.kill(slot["process"].pid, signal.SIGUSR1)
            time.sleep(1.0)
            with open(os.path.join(slot["base"], "stacks"), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _stop(self, slot: dict, kill: bool = False) -> None:
        if kill:
            slot["process"].kill()
        else:
            try:
                slot["conn"].send(None)
            except OSError:
                pass
        slot["process"].join(5)
        if slot["process"].is_alive():
            slot["process"].kill()
            slot["process"].join()
        slot["conn"].close()
        shutil.rmtree(slot["base"], ignore_errors=True)

    def run(self, seeds, on_result) -> None:
        pending = list(seeds)
        pending.reverse()
        self.slots = [self._start() for _ in range(min(self.size, len(pending)) or 1)]
        try:
            while True:
                for i, slot in enumerate(self.slots):
                    if slot["seed"] is None and pending:
                        if slot["done"] >= CASES_PER_WORKER:
                            self._stop(slot)
                            slot = self.slots[i] = self._start()
                        slot["seed"] = pending.pop()
                        slot["deadline"] = time.monotonic() + TIMEOUT
                        slot["conn"].send(slot["seed"])
                busy = [s for s in self.slots if s["seed"] is not None]
                if not busy:
                    return
                timeout = max(0.0, min(s["deadline"] for s in busy) - time.monotonic())
                ready = wait([s["conn"] for s in busy], timeout)
                for i, slot in enumerate(self.slots):
                    if slot["seed"] is None:
                        continue
                    if slot["conn"] in ready:
                        try:
                            seed, findings, report = slot["conn"].recv()
                        except (EOFError, OSError):
                            code = slot["process"].exitcode
                            on_result(slot["seed"], [("worker process died", f"exit status {code}")], "")
                            self._stop(slot, kill=True)
                            self.slots[i] = self._start()
                            continue
                        slot["seed"], slot["done"] = None, slot["done"] + 1
                        on_result(seed, findings, report)
                    elif time.monotonic() >= slot["deadline"]:
                        stacks = self._stacks(slot)
                        detail = f"no answer within {TIMEOUT:.0f} s; the worker's threads:\n{stacks}"
                        on_result(slot["seed"], [("hang", detail)], "")
                        self._stop(slot, kill=True)
                        self.slots[i] = self._start()
        finally:
            for slot in self.slots:
                self._stop(slot)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=10_000, help="number of cases (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--show", type=int, metavar="SEED", help="run one case here and print it in full")
    parser.add_argument("--examples", type=int, default=1, metavar="N",
                        help="seeds to list per kind of failure (default 1)")
    parser.add_argument("--verbose", action="store_true", help="print every failing case as it comes")
    args = parser.parse_args(argv)

    if args.show is not None:
        findings, _ = run_case(args.show)
        case = fuzzcases.generate(args.show)
        print(fuzzcases.describe(case))
        print("  options:", case.options)
        print("  input bytes:", repr(case.data[:2000]))
        if case.data[:2] == b"\x1f\x8b":
            import gzip
            import zlib

            try:
                print("  decompressed:", repr(gzip.decompress(case.data)[:2000]))
            except (OSError, EOFError, zlib.error) as e:
                print("  decompressed: not readable:", e)
        expected = fuzzcases.expect(case)
        if expected.outcome == "success":
            print("  expected output:", expected.names)
            for i in range(expected.rows):
                print("   ", [col[i] for col in expected.columns])
        print("findings:" if findings else "passed")
        for kind, detail in findings:
            print(f"- {kind}\n  {detail[:3000]}")
        sys.stdout.flush()
        os._exit(1 if findings else 0)

    seeds = range(args.seed, args.seed + args.cases)
    kinds: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)  # kind -> [(size, seed, detail, report)]
    failed: set[int] = set()
    counts = {"run": 0}
    started = time.monotonic()
    sizes: dict[int, int] = {}

    def on_result(seed, findings, report):
        counts["run"] += 1
        if findings:
            failed.add(seed)
            if seed not in sizes:
                case = fuzzcases.generate(seed)
                sizes[seed] = len(case.data) + len(case.options)
            for kind, detail in findings:
                kinds[kind].append((sizes[seed], seed, detail, report))
            if args.verbose:
                print(report or f"seed {seed}", *(f"- {k}: {d[:300]}" for k, d in findings), sep="\n", flush=True)
        if counts["run"] % 500 == 0:
            rate = counts["run"] / (time.monotonic() - started)
            print(f"... {counts['run']} cases, {len(failed)} failing ({rate:.0f} cases/s)", file=sys.stderr, flush=True)

    Pool(args.workers).run(seeds, on_result)
    elapsed = time.monotonic() - started

    run = counts["run"]
    print(f"cases run: {run} (seeds {args.seed} to {args.seed + args.cases - 1}) in {elapsed:.0f} s")
    print(f"passed:    {run - len(failed)}")
    print(f"failed:    {len(failed)}")
    if kinds:
        print(f"\nfailures by kind ({len(kinds)} kinds; cases, then the seed with the smallest input):\n")
        for kind, hits in sorted(kinds.items(), key=lambda item: (-len(item[1]), item[0])):
            size, seed, detail, _ = min(hits)
            print(f"{len(hits):6d}  {kind}")
            print(f"        seed {seed}: python benchmarks/fuzz.py --show {seed}")
            if kind == "hang":  # the stacks of the hung worker, to see where it waits
                print("        " + "\n        ".join(detail.strip().splitlines()[:80]))
            elif detail:
                print("        " + detail.strip().splitlines()[-1][:200])
            if args.examples > 1:
                others = sorted(hits)[1 : args.examples]
                print("        also seeds: " + " ".join(str(s) for _, s, _, _ in others))
    sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)

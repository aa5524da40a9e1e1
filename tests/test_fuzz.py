"""Seeded robustness cases for the command line (see fuzzcases.py for the generator and the oracle,
and fuzzformats.py for the inputs in Arrow, JSON Lines, JSON and workbooks).

Each case runs in-process through Click's CliRunner in a directory of its
own and must: exit 0, 1 or 2 without a traceback; print one
``softnorm: error: ...`` line when it exits 1, leaving -o FILE absent or
unchanged; never modify its input; exit 1 whenever the oracle says the input
or request is invalid; and on exit 0 write exactly the table the oracle
computed. A failure names its seed; ``python benchmarks/fuzz.py --show SEED``
prints the case and a shell command that reproduces it.

``SOFTNORM_FUZZ_CASES`` sets how many seeds run (default 400: seeds 0 to 399).
"""

from __future__ import annotations

import os
import sys
import threading
import traceback

import pytest

import fuzzcases

CASES = int(os.environ.get("SOFTNORM_FUZZ_CASES", "400"))
TIMEOUT = 10.0  # seconds per case; more is a hang


@pytest.mark.parametrize("seed", range(CASES), ids=lambda seed: f"seed={seed}")
def test_fuzz(seed: int, tmp_path) -> None:
    case = fuzzcases.generate(seed)
    recorded: dict[str, fuzzcases.Outcome] = {}
    done: dict[str, list] = {}

    def invoke(args, stdin):
        recorded["outcome"] = fuzzcases.run_cli(args, stdin)
        return recorded["outcome"]

    def work():
        done["findings"] = fuzzcases.execute(case, tmp_path, invoke)

    # A watchdog: the case runs in a thread so that a hang fails the test instead of the whole run.
    worker = threading.Thread(target=work, name=f"fuzz-seed-{seed}", daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    if worker.is_alive():
        frame = sys._current_frames().get(worker.ident)
        stack = "".join(traceback.format_stack(frame)) if frame else ""
        pytest.fail(f"no answer within {TIMEOUT:.0f} s (hang)\n{fuzzcases.describe(case)}\n{stack}", pytrace=False)
    if "findings" not in done:
        pytest.fail(f"the fuzz harness itself failed\n{fuzzcases.describe(case)}", pytrace=False)
    findings = done["findings"]
    if findings:
        lines = [fuzzcases.describe(case, outcome=recorded.get("outcome"))]
        lines += [f"- {f.kind}" + (f": {f.detail[:800]}" if f.detail else "") for f in findings]
        pytest.fail("\n".join(lines), pytrace=False)

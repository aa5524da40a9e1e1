"""Running and timing one whole process: wall time around it, its own peak resident memory from
GNU time (``/usr/bin/time -f %M``) or, where that is missing, from os.wait4's rusage; timeouts.

Standard library only, and the harness does its heavy work (data, checks) in helper processes:
on Linux a child's ru_maxrss starts at the resident size of the process that spawned it, which
under the rusage fallback is the harness (under GNU time it is time, about 2 MiB).
"""

from __future__ import annotations

import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

GNU_TIME = "/usr/bin/time"
# The helpers (peers, data, checks) run as ``python -m bench.NAME`` from here, which puts this
# directory first on their sys.path; the environment is passed on unchanged.
BENCH_ROOT = Path(__file__).resolve().parent.parent


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def softnorm_command() -> list[str]:
    """The ``softnorm`` script next to the running Python, else ``python -m softnorm_cli``."""
    script = Path(sys.executable).parent / "softnorm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "softnorm_cli"]


def bench_command(module: str, *args: str) -> list[str]:
    """A helper of this package, to run with cwd=BENCH_ROOT."""
    return [sys.executable, "-m", f"bench.{module}", *args]


def run_helper(module: str, *args: str) -> str:
    """Run a helper to its end (data generation, a check) and return what it printed."""
    r = subprocess.run(bench_command(module, *args), cwd=BENCH_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        sys.exit(f"run.py: helper `python -m bench.{module} {' '.join(args)}` failed with exit {r.returncode}")
    return r.stdout


def probe(cmd: list[str], cwd: Path | None = None) -> str | None:
    """None if ``cmd`` runs and exits 0, else the last line it wrote on stderr."""
    r = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]


def harness_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def gnu_time_check(work: Path) -> str | None:
    """None if ``/usr/bin/time -f %M -o FILE`` works here (GNU time), else why not."""
    if not Path(GNU_TIME).exists():
        return f"{GNU_TIME} not found"
    report = work / "time-probe.txt"
    try:
        r = subprocess.run([GNU_TIME, "-f", "%M", "-o", str(report), "true"], check=False,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if r.returncode != 0 or _time_report(report)[1] is None:
            return f"`{GNU_TIME} -f %M -o FILE true` failed (not GNU time?): " + (r.stderr.strip().splitlines() or ["?"])[-1]
    except OSError as exc:
        return f"{GNU_TIME}: {exc}"
    return None


def _time_report(path: Path) -> tuple[int | None, float | None]:
    """Read GNU time's ``-f %M -o FILE``: (the command's exit code if time says it was not 0, peak MiB).

    The last line is %M, the peak RSS in KiB; before it, time writes "Command exited with
    non-zero status N" or "Command terminated by signal N".
    """
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return None, None
    code = None
    for line in lines[:-1]:
        words = line.split()
        if line.startswith("Command exited with non-zero status") and words[-1].isdigit():
            code = int(words[-1])
        elif line.startswith("Command terminated by signal") and words[-1].isdigit():
            code = -int(words[-1])
    peak = int(lines[-1]) / 1024 if lines and lines[-1].strip().isdigit() else None
    return code, peak


def _children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    try:
        return [int(v) for v in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        pass
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                    kids.append(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
    return kids


def _kill_timed(proc: subprocess.Popen, wrapped: bool) -> None:
    """On timeout: kill the timed command. Under /usr/bin/time that is time's child (time then
    reports and exits); killing time itself would leave the command running."""
    kids = _children(proc.pid) if wrapped else []
    for pid in kids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if not kids:
        proc.kill()


def measure(cmd: list[str], err_path: Path, timeout: float, out_path: Path | None = None,
            time_file: Path | None = None, cwd: Path | None = None) -> dict:
    """Run ``cmd`` once: wall seconds around the whole process, and its own peak RSS.

    With ``time_file``, the command runs as ``/usr/bin/time -f %M -o time_file CMD...`` and the
    peak is GNU time's %M; the wall time is then that of the time process, the command plus a
    small wrapper. Without it, the peak is the ru_maxrss of os.wait4. Standard output goes to
    /dev/null, or to ``out_path`` if given.
    """
    if time_file is not None:
        time_file.unlink(missing_ok=True)
        cmd = [GNU_TIME, "-f", "%M", "-o", str(time_file), *cmd]
    with open(err_path, "wb") as err, open(out_path or os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(timeout, _kill_timed, (proc, time_file is not None))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if time_file is not None:
        cmd_code, maxrss = _time_report(time_file)
        if cmd_code is not None:
            code = cmd_code  # the command's own exit code or signal, rather than time's 128 + N
    else:
        maxrss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)  # bytes on macOS, KiB on Linux
    result = {"wall_s": wall, "peak_mib": maxrss, "exit": code}
    if code == 0 and maxrss is None:
        result["error"] = f"no peak memory in {GNU_TIME}'s report {time_file}"
    if code != 0:
        tail = err_path.read_text(errors="replace").strip().splitlines()[-5:]
        killed = f" (killed by signal {-code}{', out of memory?' if code == -9 and wall < timeout else ''})" if code < 0 else ""
        result["error"] = ("timed out; " if wall >= timeout else "") + f"exit {code}{killed}: " + " | ".join(tail)
    return result


def run_case(recs: dict[str, dict], outs: dict[str, Path], work: Path, runs: int, timeout: float, *, warmup: bool = True,
             time_file: Path | None = None, prints: bool = False, label: str = "") -> None:
    """Warm up every tool once (unless not ``warmup``), then ``runs`` rounds, the tools interleaved in
    each round (so that a slow spell of the machine falls on all of them). Fills each tool's record
    (``command``, ``cwd`` given) with its walls, peaks, median wall and max peak, or its error.

    ``prints``: the job writes its result on standard output (stats); the warm-up's is kept as
    the tool's output, for the check, and the timed runs print to /dev/null.
    """
    for rnd in range(0 if warmup else 1, runs + 1):
        for tool, rec in recs.items():
            if rec["error"]:
                continue
            capture = outs[tool] if prints and rnd == 0 else None
            if not prints or capture:
                outs[tool].unlink(missing_ok=True)
            m = measure(rec["command"], work / f"{tool}.stderr", timeout, capture, time_file, rec["cwd"])
            when = "warm-up" if rnd == 0 else f"run {rnd}/{runs}"
            if m.get("error"):
                rec["error"] = m["error"]
                log(f"  {label} {tool:9} {when}: FAILED {m['error']}")
                continue
            log(f"  {label} {tool:9} {when}: {m['wall_s']:.3f} s, {m['peak_mib']:.0f} MiB")
            if rnd == 0:
                rec["warmup_s"] = m["wall_s"]
            else:
                rec["walls_s"].append(m["wall_s"])
                rec["peaks_mib"].append(m["peak_mib"])
    for rec in recs.values():
        ok = rec["walls_s"] and not rec["error"]
        rec["median_wall_s"] = statistics.median(rec["walls_s"]) if ok else None
        rec["peak_mib"] = max(rec["peaks_mib"]) if ok else None

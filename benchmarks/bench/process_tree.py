"""One whole run of a command, timed, with the memory of its process tree sampled as it runs.

Standard library only (psutil if it is installed), as the rest of the harness: the peak of the largest
process (GNU time's ``%M``, or ``os.wait4``'s ``ru_maxrss``, and each process's VmHWM) and the largest
sum over the tree at one sample (``benchmarks/scaling.py``: worker processes and cluster workers).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

from bench import harness


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of ``pid`` in KiB, from /proc (Linux), else None."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M))
    if "VmRSS" not in found:
        return None  # a zombie has no memory left
    return int(found["VmRSS"]), int(found.get("VmHWM", found["VmRSS"]))


def _descendants(root: int) -> list[int]:
    """Every process under ``root`` (psutil, else the parent pids of /proc)."""
    try:
        import psutil

        return [p.pid for p in psutil.Process(root).children(recursive=True)]
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - the process is gone
        return []
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                parent[int(d.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = [c for c, p in parent.items() if p == pid]
        found += kids
        todo += kids
    return found


def _memory_kib(pid: int) -> tuple[int, int] | None:
    """(RSS, peak RSS) of ``pid`` in KiB: /proc's VmRSS and VmHWM, else psutil's RSS for both."""
    found = _status_kib(pid)
    if found is not None:
        return found
    try:
        import psutil

        rss = psutil.Process(pid).memory_info().rss // 1024
        return rss, rss
    except Exception:  # noqa: BLE001 - gone, or no psutil
        return None


class TreeSampler(threading.Thread):
    """Samples the memory of the processes under ``root`` (and of ``extra`` pids) every ``interval`` s.

    ``peaks``: each process's largest VmHWM seen (its peak RSS up to its last sample); ``max_sum``:
    the largest sum of the RSS of all of them at one sample. The root itself (GNU time) is left out.
    """

    def __init__(self, root: int, extra: list[int], interval: float, include_root: bool):
        super().__init__(daemon=True)
        self.root, self.extra, self.interval, self.include_root = root, extra, interval, include_root
        self.peaks: dict[int, int] = {}
        self.max_sum = 0
        self.samples = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        pids = ([self.root] if self.include_root else []) + _descendants(self.root) + self.extra
        total = 0
        for pid in dict.fromkeys(pids):
            mem = _memory_kib(pid)
            if mem is None:
                continue
            total += mem[0]
            self.peaks[pid] = max(self.peaks.get(pid, 0), mem[1])
        self.max_sum = max(self.max_sum, total)
        self.samples += 1

    def run(self) -> None:
        while True:
            self.sample()
            if self._halt.wait(self.interval):
                return

    def stop(self) -> None:
        self._halt.set()
        self.join()
        for pid in self.extra:  # processes that outlive the run (the cluster's workers): their peak now
            mem = _memory_kib(pid)
            if mem is not None:
                self.peaks[pid] = max(self.peaks.get(pid, 0), mem[1])


def _kill_tree(root: int) -> None:
    for pid in [*_descendants(root), root]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


_GNU_TIME: list[bool] = []


def run_once(cmd: list[str], work: Path, timeout: float, interval: float, extra: list[int]) -> dict:
    """One run of ``cmd`` under GNU time (if there is one), its process tree sampled."""
    if not _GNU_TIME:
        _GNU_TIME.append(harness.gnu_time_check(work) is None)
    gnu = _GNU_TIME[0]
    time_file = work / "time.txt"
    full = [harness.GNU_TIME, "-f", "%M", "-o", str(time_file), *cmd] if gnu else cmd
    err_path = work / "stderr.txt"
    with open(err_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        sampler = TreeSampler(proc.pid, extra, interval, include_root=not gnu)
        sampler.start()
        timer = threading.Timer(timeout, _kill_tree, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            _kill_tree(proc.pid)
            raise
        finally:
            timer.cancel()
            wall = time.perf_counter() - t0
            sampler.stop()
    code = os.waitstatus_to_exitcode(status)
    if gnu:
        time_code, time_peak = harness._time_report(time_file)
        code = time_code if time_code is not None else code
    else:
        time_peak = usage.ru_maxrss / 1024  # the largest of the process and its waited-for children
    result = {"wall_s": wall, "exit": code, "time_peak_mib": time_peak,
              "sampled_peak_mib": max(sampler.peaks.values(), default=0) / 1024,
              "sum_peak_mib": sampler.max_sum / 1024, "processes": len(sampler.peaks), "samples": sampler.samples,
              "peak_method": "gnu-time" if gnu else "rusage"}
    if code != 0:
        tail = err_path.read_text(errors="replace").strip().splitlines()[-4:]
        result["error"] = ("timed out; " if wall >= timeout else "") + f"exit {code}: " + " | ".join(tail)
    return result

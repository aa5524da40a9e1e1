"""What a run ran on (recorded with its results), and softnorm's bytecode, compiled before it."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from .harness import BENCH_ROOT

_MODULE: list[str | None] = []


def softnorm_module() -> str | None:
    """The directory of the ``softnorm_cli`` that the measured softnorm imports (PYTHONPATH may point
    away from this checkout). Asked from a neutral directory: ``python -c`` puts the current one
    first on sys.path."""
    if not _MODULE:
        r = subprocess.run([sys.executable, "-c", "import softnorm_cli, os; print(os.path.dirname(softnorm_cli.__file__))"],
                           check=False, stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=tempfile.gettempdir())
        _MODULE.append(r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None)
    return _MODULE[0]


def compile_bytecode() -> list[str]:
    """Byte-compile softnorm's package, and this one, before anything is timed; returns what failed.

    With PYTHONDONTWRITEBYTECODE=1 (set on the project's machines) and an editable install, every
    softnorm start would otherwise compile its modules again (about 30 ms), which a pip-installed
    package does once, at install. The peers run from this package, so it is compiled too: neither
    side should pay for compiling the benchmark's own source. compileall writes the .pyc files
    whatever PYTHONDONTWRITEBYTECODE says, and Python reads them whatever it says.
    """
    notes = []
    for what, folder in (("softnorm_cli", softnorm_module()), ("bench", str(BENCH_ROOT / "bench"))):
        if folder is None:
            notes.append(f"{what}: not compiled, it does not import")
            continue
        r = subprocess.run([sys.executable, "-m", "compileall", "-q", folder], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True)
        if r.returncode != 0:
            notes.append(f"{what}: `python -m compileall -q {folder}` failed: " + (r.stdout + r.stderr).strip()[-300:])
    return notes


def loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages: how quiet the machine was."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_info() -> dict:
    from importlib import metadata  # imported late: it grows the harness, whose RSS every child inherits

    info = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_mib"] = int(line.split()[1]) // 1024
                break
    except OSError:
        pass
    versions = {}
    for dist in ("softnorm", "polars", "numpy", "pandas", "duckdb", "pyarrow"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    info["versions"] = versions
    info["softnorm_module"] = module = softnorm_module()
    # The commit of the checkout softnorm is imported from, which need not be this one.
    repo = Path(module).parent if module else None
    try:
        top = repo and subprocess.run(["git", "-C", str(repo), "rev-parse", "--show-toplevel", "HEAD"],
                                      capture_output=True, text=True)
        lines = top.stdout.splitlines() if top and top.returncode == 0 else []
        if len(lines) == 2 and Path(lines[0]).resolve() == repo.resolve():
            dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", Path(module).name],
                                   capture_output=True, text=True)
            info["softnorm_commit"] = lines[1]
            info["softnorm_cli_modified"] = bool(dirty.stdout.strip())
    except OSError:
        pass
    return info

"""The README's examples run as written from the repository root, and leave nothing behind."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    """Every softnorm command line in the README's ``sh`` blocks (after ``pip install ... &&``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            line = line.split(" && ", 1)[-1].strip() if line.startswith("pip ") else line.strip()
            if re.match(r"(softnorm|cat) ", line) and "softnorm" in line:
                commands.append(line)
    return commands


def test_the_readme_has_examples():
    assert len(readme_commands()) >= 12


@pytest.mark.parametrize("command", readme_commands())
def test_readme_example_runs_from_the_repository_root(tmp_path, command):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "sample_data", root / "sample_data")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "TMPDIR": str(scratch), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    if not shutil.which("softnorm", path=env["PATH"]):
        pytest.skip("the softnorm script is not installed next to this Python")
    proc = subprocess.run(["bash", "-c", f"set -eo pipefail; {command}"], cwd=root, env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"Traceback" not in proc.stderr
    assert sorted(p.name for p in root.iterdir()) == ["sample_data"]  # nothing left in the repository


def test_readme_engine_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "engine.Job" in b]
    scope: dict = {}
    exec(block, scope)  # noqa: S102 - the README's own example
    frame = scope["sink"].frame
    assert frame["price"].round(3).to_list() == [2.449] and frame["qty"].round(3).to_list() == [-3.674]

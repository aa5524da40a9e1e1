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


def readme_blocks() -> list[list[str]]:
    """The softnorm command lines of each of the README's ``sh`` blocks (after ``pip install ... &&``),
    in order: a later line may use what an earlier one wrote."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        commands = []
        for line in block.splitlines():
            line = line.split(" && ", 1)[-1].strip() if line.startswith("pip ") else line.strip()
            if re.match(r"(softnorm|cat) ", line) and "softnorm" in line:
                commands.append(line)
        if commands:
            blocks.append(commands)
    return blocks


def test_the_readme_has_examples():
    assert sum(map(len, readme_blocks())) >= 12


@pytest.mark.parametrize("commands", readme_blocks(), ids=lambda commands: commands[0])
def test_readme_examples_run_from_the_repository_root(tmp_path, commands):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "sample_data", root / "sample_data")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "TMPDIR": str(scratch), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    if not shutil.which("softnorm", path=env["PATH"]):
        pytest.skip("the softnorm script is not installed next to this Python")
    for command in commands:
        proc = subprocess.run(
            ["bash", "-c", f"set -eo pipefail; {command}"], cwd=root, env=env, capture_output=True, timeout=60
        )
        assert proc.returncode == 0, f"{command}\n{proc.stderr.decode()}"
        assert b"Traceback" not in proc.stderr
    assert sorted(p.name for p in root.iterdir()) == ["sample_data"]  # nothing left in the repository


def test_readme_engine_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "engine.Job" in b]
    scope: dict = {}
    exec(block, scope)  # noqa: S102 - the README's own example
    frame = scope["sink"].frame
    assert frame["price"].round(3).to_list() == [2.449] and frame["qty"].round(3).to_list() == [-3.674]

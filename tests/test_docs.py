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


# --------------------------------------------------------------------------
# --help: headings, examples, descriptions, metavars
# --------------------------------------------------------------------------

COMMANDS = ("softmax", "minmax", "zscore", "maxabs", "unitnorm", "robust", "quantile", "stats")
OWN = {
    "softmax": ("Softmax options", {"--temperature", "--log", "--inf", "--nan"}),
    "maxabs": ("Max-abs options", {"--inf", "--nan"}),
    "unitnorm": ("Unit-norm options", {"--norm", "--inf", "--nan"}),
    "minmax": ("Min-max options", {"--range", "--clip", "--inf", "--nan"}),
    "zscore": ("Z-score options", {"--ddof", "--inf", "--nan"}),
    "robust": ("Robust options", {"--quantile-range", "--unit-variance", "--center", "--scale", "--inf", "--nan"}),
    "quantile": ("Quantile options", {"--n-quantiles", "--output-distribution", "--inf", "--nan"}),
    "stats": ("Stats options", {"--quantiles", "--json"}),
}
SHARED = ["Input", "Output", "Groups", "Saved parameters", "Engine", "Other"]


def help_text(*args: str, width: int = 80) -> str:
    from click.testing import CliRunner

    from softnorm_cli.cli import cli

    result = CliRunner().invoke(cli, [*args, "--help"], prog_name="softnorm", terminal_width=width)
    assert result.exit_code == 0, result.output
    return result.output


def sections(text: str) -> dict[str, list[str]]:
    """The options listed under each heading of a help text (a heading is an unindented ``Name:`` line),
    each by its long name."""
    found: dict[str, list[str]] = {}
    heading = None
    for line in text.splitlines():
        if re.fullmatch(r"\S[^:]*:", line):
            heading = line[:-1]
            found[heading] = []
        elif heading and line.startswith("  ") and not line.startswith("   "):
            names = re.findall(r"--?[a-z][\w-]*|\[INPUT\]", line[2:].split("  ")[0])
            found[heading].append(next((n for n in names if n.startswith("--")), names[0]))
    return found


def help_examples(*args: str) -> list[str]:
    """The command lines of a help text's Examples block."""
    block = help_text(*args).split("Examples:\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines() if re.match(r"(softnorm|cat) ", line.strip())]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_lists_own_options_first_then_each_group_under_its_heading(command):
    own_heading, own = OWN[command]
    found = sections(help_text(command))
    expected = [own_heading, *SHARED] if command != "stats" else [own_heading, "Input", "Groups", "Other"]
    assert list(found) == expected
    assert set(found[own_heading]) == own
    assert found["Input"][:2] == ["[INPUT]", "--cols"]
    assert found["Other"] == ["--help"]
    if command != "stats":
        assert {"--output", "--to", "--suffix", "--in-place"} <= set(found["Output"])
        assert found["Groups"] == ["--axis", "--group-by"]
        assert found["Saved parameters"] == ["--save-params", "--params", "--fit-only", "--inverse", "--unseen"]
        assert found["Engine"] == ["--engine", "--scheduler", "--jobs", "--partition-size"]


def test_stats_help_lists_only_what_stats_uses_worded_for_reading():
    from softnorm_cli.cli import cli

    text = help_text("stats")
    listed = {name for names in sections(text).values() for name in names}
    accepted = {"[INPUT]", "--help"} | {
        max(param.opts, key=len) for param in cli.commands["stats"].params if param.param_type_name == "option"
    }
    assert listed == accepted
    options_part = text.split("Stats options:", 1)[1]
    for word in ("normalize", "output", "written", "Output"):
        assert word not in options_part, word
    assert "Columns to describe" in options_part


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_two_to_four_examples_covering_groups_saved_parameters_and_parquet(command):
    examples = help_examples(command)
    # a fit and the applications of its file count as one example: the lines after a --fit-only
    count = len(examples) - sum(1 for e in examples if "--params" in e)
    assert 2 <= count <= 4, examples
    assert all(f"softnorm {command} " in e for e in examples)
    assert any(".parquet" in e for e in examples)
    if command != "stats":
        assert any(re.search(r" -g \w", e) for e in examples)
        assert any("--params " in e for e in examples)


@pytest.mark.parametrize("args", [(), *((c,) for c in COMMANDS)], ids=lambda args: " ".join(args) or "softnorm")
def test_help_examples_run_as_written(tmp_path, args):
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    if not shutil.which("softnorm", path=env["PATH"]):
        pytest.skip("the softnorm script is not installed next to this Python")
    examples = help_examples(*args)
    assert examples
    for command in examples:  # in order: a --params example uses the file an earlier one saved
        proc = subprocess.run(
            ["bash", "-c", f"set -eo pipefail; {command} > /dev/null"], cwd=tmp_path, env=env, capture_output=True, timeout=60
        )
        assert proc.returncode == 0, f"{command}\n{proc.stderr.decode()}"
        assert proc.stderr == b"", f"{command}\n{proc.stderr.decode()}"  # no warning either: an example shows a clean run


@pytest.mark.parametrize("width", [80, 60])
def test_main_help_shows_each_command_s_whole_description(width):
    from softnorm_cli.cli import cli

    entries: dict[str, list[str]] = {}
    for line in help_text(width=width).split("Commands:\n", 1)[1].splitlines():
        if match := re.fullmatch(r"  (\w+)\s+(.*)", line):
            entries[match[1]] = [match[2]]
        elif line.startswith("    "):  # a description wrapped onto the next line
            entries[list(entries)[-1]].append(line.strip())
    assert sorted(entries) == sorted(COMMANDS)
    for name, lines in entries.items():
        assert " ".join(lines) == cli.commands[name].help.split("\n", 1)[0]
        if width == 80:  # each fits one line of an 80-column terminal
            assert len(lines) == 1, lines


def test_every_option_value_has_one_style_of_metavar():
    import click

    from softnorm_cli.cli import cli

    for name in (None, *COMMANDS):
        command = cli if name is None else cli.commands[name]
        ctx = click.Context(command, info_name="softnorm")
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag:  # an option that takes a value
                metavar = param.make_metavar(ctx)
                assert re.fullmatch(r"[A-Z]+(,[A-Z]+)?", metavar), (name, param.name, metavar)

"""The layers are checked, not hoped for: the import contracts of pyproject.toml, and the numbers' independence."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "softnorm_cli"


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter")
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (function-level imports too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((PACKAGE / "numeric").glob("*.py")), ids=lambda p: p.name)
def test_no_module_of_numeric_imports_a_table_library_or_io(path):
    roots = {name.split(".")[0] for name in _imported(path)}
    assert not roots & {"polars", "pyarrow", "pandas", "click", "rich"}
    assert not any(name.startswith(("softnorm_cli.io", "softnorm_cli.engine", "softnorm_cli.cli")) for name in _imported(path))


def _loaded(imports: str, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after ``imports``."""
    script = f"import sys\n{imports}\nprint(sorted(m for m in {modules!r} if m in sys.modules))\n"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return ast.literal_eval(out)


def test_the_numbers_load_without_polars():
    imports = "from softnorm_cli.numeric import kernels, methods, parameters, reduce, segments"
    assert _loaded(imports, ("polars", "pyarrow", "pandas")) == []


def test_a_worker_needs_no_command_line():
    """What runs on a cluster worker (the parts' work, the Dask executor) loads neither Click nor Rich."""
    imports = "import softnorm_cli.engine.parts, softnorm_cli.engine.dask"
    assert _loaded(imports, ("click", "rich", "softnorm_cli.cli")) == []

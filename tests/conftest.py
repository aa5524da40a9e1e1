"""Shared fixtures for the softnorm tests.

* ``invoke`` runs the Click command in-process (CliRunner, separate stdout and
  stderr), from a scratch working directory (``workdir``), so error messages
  name files as the tests wrote them.
* ``parse_csv`` / ``floats`` turn a command's CSV output into exact text
  (polars, no type inference) and into numbers for ``assert_allclose``.
* ``write_file`` and the ``*_csv`` fixtures write tiny inputs to ``tmp_path``.
* The session hooks at the bottom keep pyarrow's rare exit-time abort from
  failing a run that passed.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from softnorm_cli.cli import cli

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def parse_csv(text: str, separator: str = ",", has_header: bool = True) -> pl.DataFrame:
    """A CSV text as a DataFrame of exact strings (empty cells are null)."""
    return pl.read_csv(io.StringIO(text), infer_schema=False, separator=separator, has_header=has_header)


def floats(values) -> np.ndarray:
    """A column of CSV text (or numbers) as float64, NaN where the cell is empty or null."""
    if isinstance(values, pl.Series):
        values = values.to_list()
    return np.array([np.nan if v is None or v == "" else float(v) for v in values], dtype=np.float64)


def block(df: pl.DataFrame, columns) -> np.ndarray:
    """Several columns of a text DataFrame as a 2-D float64 array (rows x columns)."""
    return np.column_stack([floats(df.get_column(c)) for c in columns])


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path``, made the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def sample_data() -> Path:
    return SAMPLE_DATA


@pytest.fixture
def invoke(runner: CliRunner, workdir: Path):
    """``invoke("softmax", "in.csv", "-c", "a", input=..., env=...)`` -> click Result.

    Unexpected exceptions propagate (catch_exceptions=False), so a crash in
    softnorm shows its traceback instead of a puzzling exit code.
    """

    def run(*args, input: str | bytes | None = None, env: dict[str, str] | None = None):
        return runner.invoke(
            cli, [str(a) for a in args], input=input, env=env, prog_name="softnorm", catch_exceptions=False
        )

    return run


@pytest.fixture
def invoke_ok(invoke):
    """Like ``invoke`` but asserts exit code 0 (showing stderr otherwise)."""

    def run(*args, **kwargs):
        result = invoke(*args, **kwargs)
        assert result.exit_code == 0, f"exit {result.exit_code}; stderr:\n{result.stderr}"
        return result

    return run


@pytest.fixture
def write_file(workdir: Path):
    """``write_file("name.csv", text_or_bytes)`` -> Path; text is written byte for byte as UTF-8."""

    def write(name: str, content: str | bytes) -> Path:
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture
def parse():
    """The ``parse_csv`` helper as a fixture."""
    return parse_csv


@pytest.fixture
def to_floats():
    """The ``floats`` helper as a fixture."""
    return floats


@pytest.fixture
def to_block():
    """The ``block`` helper as a fixture."""
    return block


@pytest.fixture
def ab_csv(write_file) -> Path:
    """Two numeric columns and an identifier column with leading zeros."""
    return write_file("ab.csv", "id,a,b\n007,1,2\n008,3,5\n009,6,4\n")


@pytest.fixture
def mixed_csv(write_file) -> Path:
    """Numeric (int and float) columns among text, ids with leading zeros and empty cells."""
    return write_file(
        "mixed.csv",
        "id,name,n,x,zip,gaps\n"
        "007,ann,1,0.5,01234,\n"
        "010,bob,2,1.5,02345,3\n"
        "011,cy,4,-2.0,12345,\n",
    )


@pytest.fixture(scope="session")
def large_files(tmp_path_factory) -> Path:
    """One table as single files that read as several partitions, written once per test process:

    * ``large.csv``: 620,000 rows, about 40 MB, more than a run starts worker processes for;
    * ``medium.csv``, ``medium.parquet``: 210,000 rows (14 MB; the Parquet in 20 row groups),
      four partitions at ``--partition-size 1MB``: they start at rows 65,536, 131,072 and 196,608.
    """
    from helpers import parts_table

    folder = tmp_path_factory.mktemp("large")
    parts_table(rows=620_000, seed=11).write_csv(folder / "large.csv")
    medium = parts_table(rows=210_000, seed=12)
    medium.write_csv(folder / "medium.csv")
    medium.write_parquet(folder / "medium.parquet", row_group_size=10_500)
    return folder


PASSTHROUGH_TEXT = (
    "id,big,empty,text,uni,a,b,c\n"
    '007,9007199254740993,,"x, y",héllo 日本,1,2,0.5\n'
    '010,18446744073709551617,,"say ""hi""",😀 emoji,3,4,1.5\n'
    '0001,-9007199254740993,,"line1\nline2",ÅÄÖ ß,5,,2.5\n'
    '1.50,  1e3  ,,"a ""quoted"", multi\nline, field",中文,-1,7,3.5\n'
)


@pytest.fixture
def passthrough_csv(write_file) -> Path:
    """Unselected columns with text that must come back exactly; a, b, c are numeric."""
    return write_file("pass.csv", PASSTHROUGH_TEXT)


# --------------------------------------------------------------------------
# pyarrow exit-time abort guard
# --------------------------------------------------------------------------
#
# pyarrow 26 sometimes aborts while its thread pools are torn down at
# interpreter exit ("terminate called without an active exception", status
# -6, about one run in 17 under load). Any test that makes softnorm read or
# write Parquet (or a compressed CSV) in this process loads pyarrow, so a run
# whose tests all passed could still end with SIGABRT. When pyarrow is loaded
# we therefore leave with os._exit once pytest is completely done, after
# flushing our streams, with pytest's own exit status.
#
# The status is stored in pytest_sessionfinish (pytest computes it before that
# hook), and os._exit happens in a trylast pytest_unconfigure, so every other
# plugin's sessionfinish/unconfigure work (terminal summary, junit XML, cache)
# is already done. Skipped in pytest-xdist workers, whose results travel back
# to the controller after this point.

_session_exitstatus: int | None = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _session_exitstatus
    _session_exitstatus = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _session_exitstatus is None or "pyarrow" not in sys.modules or hasattr(config, "workerinput"):
        return
    if "coverage" in sys.modules:
        # `coverage run -m pytest` saves its data in an atexit handler that
        # os._exit would skip.
        try:
            import coverage

            current = coverage.Coverage.current()
            if current is not None:
                current.stop()
                current.save()
        except Exception:
            pass
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(_session_exitstatus)

"""softnorm as a real process: shell pipelines, exit codes, closed pipes, start-up imports."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
import scipy.special
from numpy.testing import assert_allclose
from sklearn.preprocessing import MinMaxScaler

SOFTNORM = [sys.executable, "-m", "softnorm_cli"]
SH_SOFTNORM = " ".join(shlex.quote(part) for part in SOFTNORM)
TIMEOUT = 60


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SOFTNORM_DEBUG", "FORCE_COLOR")}
    return env


def run(*args, cwd, input: bytes | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SOFTNORM, *map(str, args)], cwd=cwd, input=input, capture_output=True, env=_env(), timeout=TIMEOUT, **kwargs
    )


def bash(script: str, cwd) -> subprocess.CompletedProcess:
    """Run a bash pipeline with pipefail; ``$SN`` is the softnorm command."""
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; SN={shlex.quote(SH_SOFTNORM)}; {script}"],
        cwd=cwd, capture_output=True, env=_env(), timeout=TIMEOUT,
    )


def test_real_pipe(tmp_path):
    (tmp_path / "f.csv").write_text("id,a,b,c\n007,1,2,x\n008,3,1,y\n009,0,0,z\n", encoding="utf-8")
    proc = bash("cat f.csv | $SN softmax -c a,b | $SN minmax -c a > out.csv", tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    out = pl.read_csv(tmp_path / "out.csv", infer_schema=False)
    assert out.columns == ["id", "a", "b", "c"]
    assert out["id"].to_list() == ["007", "008", "009"]
    assert out["c"].to_list() == ["x", "y", "z"]
    soft = scipy.special.softmax(np.array([[1.0, 2.0], [3.0, 1.0], [0.0, 0.0]]), axis=1)
    a = soft[:, 0]
    assert_allclose([float(v) for v in out["a"]], (a - a.min()) / (a.max() - a.min()), rtol=1e-14, atol=1e-15)
    assert_allclose([float(v) for v in out["b"]], soft[:, 1], rtol=1e-14)


def test_parquet_through_stdin_and_stdout(tmp_path, sample_data):
    src = sample_data / "features.parquet"
    proc = bash(f"cat {shlex.quote(str(src))} | $SN minmax | $SN minmax -c age --range -1,1 > out.parquet", tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stderr == b""
    data = (tmp_path / "out.parquet").read_bytes()
    assert data[:4] == b"PAR1"
    out = pl.read_parquet(io.BytesIO(data))
    original = pl.read_parquet(src)
    assert out.columns == original.columns
    assert out["customer_id"].to_list() == original["customer_id"].to_list()
    x = original.select("income", "visits", "score").to_numpy().astype(float)
    assert_allclose(
        out.select("income", "visits", "score").to_numpy().astype(float),
        MinMaxScaler().fit_transform(x), rtol=1e-13, atol=1e-15,
    )
    age = original["age"].to_numpy().astype(float)
    assert_allclose(out["age"].to_numpy(), MinMaxScaler((-1, 1)).fit_transform(age[:, None])[:, 0], rtol=1e-13, atol=1e-15)


def test_stdout_has_only_the_table_even_with_summary(tmp_path, sample_data):
    logits = sample_data / "logits.csv"
    plain = run("softmax", logits, "--no-summary", cwd=tmp_path)
    with_summary = run("softmax", logits, "--summary", cwd=tmp_path)
    assert plain.returncode == with_summary.returncode == 0
    assert with_summary.stdout == plain.stdout
    assert plain.stdout.decode().splitlines()[0] == "id,cat,dog,bird"
    assert len(plain.stdout.decode().splitlines()) == 11
    err = with_summary.stderr.decode()
    assert "softnorm softmax (axis: row)" in err and "10 rows" in err and "row sums: min 1, max 1" in err
    assert plain.stderr == b""


def test_exit_codes(tmp_path):
    (tmp_path / "ok.csv").write_text("a,b\n1,2\n3,4\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,abc\n", encoding="utf-8")
    ok = run("zscore", "ok.csv", cwd=tmp_path)
    assert ok.returncode == 0 and ok.stdout == b"a,b\n-1.0,-1.0\n1.0,1.0\n" and ok.stderr == b""
    bad = run("zscore", "bad.csv", "-c", "a,b", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr == b"softnorm: error: column 'b', row 2: 'abc' is not a number\n"
    assert bad.stdout == b""
    usage = run("softmax", "ok.csv", "--temperature", "0", cwd=tmp_path)
    assert usage.returncode == 2
    assert b"Invalid value for '-t' / '--temperature'" in usage.stderr
    assert b"Traceback" not in bad.stderr + usage.stderr


def test_closed_stdout_ends_quietly(tmp_path):
    rows = "\n".join(f"r{i},{i % 97},{(i * 7) % 13}" for i in range(20000))
    (tmp_path / "big.csv").write_text("id,a,b\n" + rows + "\n", encoding="utf-8")
    proc = bash("$SN softmax big.csv 2>err.txt | head -1 > first.txt", tmp_path)
    assert proc.returncode == 0  # with pipefail: softnorm's own status too
    assert (tmp_path / "err.txt").read_bytes() == b""
    assert (tmp_path / "first.txt").read_text() == "id,a,b\n"


def test_help_does_not_import_heavy_modules(tmp_path):
    script = (
        "import sys\n"
        "from softnorm_cli.cli import cli\n"
        "for args in (['--help'], ['softmax', '--help'], ['minmax', '--help'], ['zscore', '--help'], ['stats', '--help'], ['--version']):\n"
        "    try:\n"
        "        cli(args, prog_name='softnorm')\n"
        "    except SystemExit as e:\n"
        "        assert e.code in (0, None), e.code\n"
        "heavy = {'polars', 'pyarrow', 'pandas', 'numpy', 'rich'}\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "LOADED []"
    # and the real entry point answers
    help_proc = run("--help", cwd=tmp_path)
    assert help_proc.returncode == 0 and help_proc.stdout.startswith(b"Usage: ")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_binary_parquet_to_a_terminal_is_refused(tmp_path):
    import pty

    (tmp_path / "f.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [*SOFTNORM, "minmax", "f.csv", "--to", "parquet"],
            cwd=tmp_path, stdout=slave, stderr=subprocess.PIPE, env=_env(), timeout=TIMEOUT,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 1
    assert proc.stderr == b"softnorm: error: refusing to write binary Parquet to a terminal; use -o FILE or a pipe\n"


def test_extreme_logits_leave_stderr_clean(tmp_path):
    (tmp_path / "ex.csv").write_text("a,b\n1e308,-1e308\n", encoding="utf-8")
    proc = run("softmax", "ex.csv", cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout == b"a,b\n1.0,0.0\n"
    assert proc.stderr == b""  # no numpy RuntimeWarning text


def test_no_format_loads_pandas_on_the_command_line(tmp_path):
    """pandas takes a sixth of a second to import, and the command line needs none of it,
    whatever it reads or writes (pyarrow's Schema.empty_table, for one, would load it)."""
    import polars as pl

    frame = pl.DataFrame({"a": [1.0, 2.0, 4.0], "b": ["x", "y", None], "c": pl.Series(["p", "q", "p"], dtype=pl.Categorical)})
    frame.write_csv(tmp_path / "t.csv")
    frame.write_parquet(tmp_path / "t.parquet")
    frame.write_ipc(tmp_path / "t.arrow")
    frame.write_ipc_stream(tmp_path / "t.arrows")
    frame.write_ndjson(tmp_path / "t.jsonl")
    frame.write_excel(tmp_path / "t.xlsx")
    script = (
        "import sys\n"
        "from softnorm_cli.cli import cli\n"
        "for name in sys.argv[1:]:\n"
        "    for out in ('csv', 'parquet', 'arrow', 'jsonl', 'xlsx'):\n"
        "        try:\n"
        "            cli(['zscore', name, '-c', 'a', '-q', '-o', 'out.' + out], prog_name='softnorm')\n"
        "        except SystemExit as e:\n"
        "            assert e.code in (0, None), (name, out, e.code)\n"
        "print('pandas' in sys.modules)\n"
    )
    names = ["t.csv", "t.parquet", "t.arrow", "t.arrows", "t.jsonl", "t.xlsx"]
    proc = subprocess.run(
        [sys.executable, "-c", script, *names], cwd=tmp_path, capture_output=True, text=True, env=_env(), timeout=TIMEOUT
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"

"""Shell completion: Click's protocol for bash, zsh and fish, with the column names of the INPUT typed so far."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

CSV_COLUMNS = ["customer_id", "region", "age", "income", "visits", "score", "note"]


@pytest.fixture
def complete(invoke):
    """``complete("zscore data.csv -c a")`` -> the completions of the last word, as bash gets them.

    ``shell="zsh"`` or ``"fish"`` gives that shell's format; a command line ending in a space completes an empty word.
    """

    def run(line: str, shell: str = "bash") -> str:
        words = ["softnorm", *shlex.split(line)] + ([""] if line.endswith(" ") else [])
        env = {"_SOFTNORM_COMPLETE": f"{shell}_complete", "COMP_WORDS": shlex.join(words[:-1]) + " " + words[-1]}
        # bash and zsh say which word is being completed; fish passes that word itself.
        env["COMP_CWORD"] = words[-1] if shell == "fish" else str(len(words) - 1)
        result = invoke(env=env)
        assert result.exit_code == 0 and result.stderr == ""
        return result.stdout

    return run


def bash_values(output: str) -> list[str]:
    return [line.split(",", 1)[1] for line in output.splitlines()]


@pytest.fixture
def tables(workdir, sample_data):
    (workdir / "features.csv").write_bytes((sample_data / "features.csv").read_bytes())
    (workdir / "features.parquet").write_bytes((sample_data / "features.parquet").read_bytes())
    return workdir


def test_columns_of_a_csv_header(complete, tables):
    assert bash_values(complete("zscore features.csv -c ")) == pl.read_csv(tables / "features.csv").columns
    assert complete("zscore features.csv -c a") == "plain,age\n"


def test_columns_of_a_parquet_schema(complete, tables):
    expected = pl.read_parquet_schema(tables / "features.parquet").names()
    assert bash_values(complete("minmax features.parquet -c ")) == expected
    assert bash_values(complete("minmax features.parquet --exclude in")) == ["income"]


def test_the_last_name_of_a_comma_list_is_completed_without_repeating_the_others(complete, tables):
    assert bash_values(complete("zscore features.csv -c age,i")) == ["age,income"]
    assert bash_values(complete("zscore features.csv -c age,income,")) == [
        f"age,income,{name}" for name in CSV_COLUMNS if name not in ("age", "income")
    ]


@pytest.mark.parametrize("option", ["-c", "--cols", "--exclude", "-g", "--group-by"])
def test_every_column_option_completes_names(complete, tables, option):
    assert bash_values(complete(f"softmax features.csv --axis column {option} re")) == ["region"]


def test_input_typed_after_other_options(complete, tables):
    assert bash_values(complete("zscore -c age features.parquet -g r")) == ["region"]
    assert bash_values(complete("zscore --ddof 1 features.csv --exclude v")) == ["visits"]


def test_zsh_format(complete, tables):
    # zsh: type, value and help on lines of their own
    assert complete("zscore features.csv -c age,i", shell="zsh") == "plain\nage,income\n_\n"


def test_fish_format(complete, tables):
    assert complete("zscore features.parquet -g reg", shell="fish") == "plain,region\n"
    assert complete("zscore features.csv --exclude ", shell="fish").splitlines() == [f"plain,{n}" for n in CSV_COLUMNS]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize("line", ["zscore missing.csv -c ", "zscore -c ", "zscore - -g a", "zscore empty.csv -c ",
                                  "zscore binary.parquet -c ", "zscore folder -c ", "zscore t.csv --skip-rows 9 -c "])
def test_nothing_and_no_error_when_the_names_cannot_be_read(complete, write_file, workdir, shell, line):
    write_file("empty.csv", "")
    write_file("binary.parquet", b"PAR1\x00\xff garbage PAR1")
    write_file("t.csv", "a,b\n1,2\n")
    (workdir / "folder").mkdir()
    assert complete(line, shell=shell).strip() == ""  # Click ends even no completions with a newline


def test_the_dialect_options_typed_so_far_are_used(complete, write_file):
    write_file("semi.txt", "title line\nx;y z;w\n1;2;3\n")
    assert bash_values(complete("zscore semi.txt --skip-rows 1 --delimiter ';' -c ")) == ["x", "y z", "w"]
    assert bash_values(complete("zscore semi.txt --skip-rows 1 --no-header -c ")) == ["1", "2", "3"]
    write_file("t.tsv", "one\ttwo,three\n1\t2\n")
    assert bash_values(complete("zscore t.tsv -c ")) == ["one", "two,three"]
    for encoding in ("utf-8-sig", "utf-16"):  # each with its byte-order mark
        write_file("excel.csv", "prix,\"quantité, totale\"\n1,2\n".encode(encoding))
        assert bash_values(complete("zscore excel.csv -c ")) == ["prix", "quantité, totale"]
    write_file("latin.csv", "prix;quantité\n1;2\n".encode("latin-1"))
    assert bash_values(complete("zscore latin.csv --encoding latin-1 -c q")) == ["quantité"]


def test_a_dataset_completes_the_columns_of_its_first_part(complete, write_file):
    write_file("parts/a.csv", "day,price\n1,2\n")
    write_file("parts/b.csv", "day,price\n1,2\n")
    assert bash_values(complete("zscore parts -c p")) == ["price"]
    assert bash_values(complete("zscore 'parts/*.csv' -g d")) == ["day"]


def test_only_the_header_is_read(complete, write_file):
    # what follows the header is never looked at: rows of garbage, bytes that are not UTF-8
    write_file("big.csv", b"a,b\n" + b"1,\xff\xfe\x00,,,\n" * 100_000)
    assert bash_values(complete("zscore big.csv -c ")) == ["a", "b"]


def test_commands_options_and_choices(complete):
    assert bash_values(complete("mi")) == ["minmax"]
    assert bash_values(complete("zscore --dd")) == ["--ddof"]
    assert bash_values(complete("zscore --axis ")) == ["row", "column", "all"]
    assert bash_values(complete("softmax --inf ")) == ["limit", "missing"]
    assert bash_values(complete("minmax --from p")) == ["parquet"]
    assert complete("stats features.csv -", shell="bash").count("--json") == 1


@pytest.mark.parametrize(
    "shell, marker",
    [("bash", "_SOFTNORM_COMPLETE=bash_complete"), ("zsh", "#compdef softnorm"), ("fish", "complete --no-files --command softnorm")],
)
def test_completion_prints_the_script(invoke_ok, shell, marker):
    script = invoke_ok("--completion", shell).stdout
    assert marker in script
    assert script == invoke_ok(env={"_SOFTNORM_COMPLETE": f"{shell}_source"}).stdout  # Click's own, byte for byte


def test_completion_refuses_another_shell(invoke):
    result = invoke("--completion", "tcsh")
    assert result.exit_code == 2
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr


def test_completing_columns_loads_no_table_library(tmp_path, sample_data):
    # at every Tab: a few milliseconds of header, not the import of polars or pyarrow
    script = (
        "import os, sys\n"
        "from softnorm_cli.cli import cli\n"
        f"for path in ({str(sample_data / 'features.csv')!r}, {str(sample_data / 'features.parquet')!r}):\n"
        "    os.environ.update(_SOFTNORM_COMPLETE='bash_complete', COMP_WORDS=f'softnorm zscore {path} -c ', COMP_CWORD='4')\n"
        "    try:\n"
        "        cli(prog_name='softnorm')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = {'polars', 'pyarrow', 'pandas', 'numpy', 'rich'}\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:-1] == [f"plain,{name}" for name in CSV_COLUMNS] * 2
    assert lines[-1] == "LOADED []"


def test_parquet_footer_names_top_level_columns_of_nested_schemas(tmp_path):
    from softnorm_cli.io.row_groups import column_names as parquet_column_names

    frame = pl.DataFrame({"a": [1], "s": [{"x": 1, "y": [1, 2]}], "l": [[1.5]], "z": ["q"], "é": [1.0]})
    frame.write_parquet(tmp_path / "nested.parquet")
    assert parquet_column_names(str(tmp_path / "nested.parquet")) == frame.columns


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_the_bash_script_completes_column_names_in_bash(tmp_path, sample_data):
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "softnorm").exists():
        pytest.skip("the softnorm script is not installed next to this Python")
    shutil.copy(sample_data / "features.parquet", tmp_path)
    script = (
        'eval "$(softnorm --completion bash)"\n'
        "COMP_WORDS=(softnorm zscore features.parquet -c age,in); COMP_CWORD=4\n"
        "_softnorm_completion softnorm\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "age,income\n"

"""The ``softnorm`` command line: Click commands over the engine, and the process around them.

Only Click is imported at start-up; numpy, polars and Rich load when a
command runs, so ``softnorm --help`` answers at once.
"""

from softnorm_cli.cli.commands import cli

__all__ = ["cli", "main"]


def main() -> None:
    """The console script (and ``python -m softnorm_cli``)."""
    from softnorm_cli.cli.exits import run_process

    run_process(cli)

"""The ``softnorm`` command line: Click commands over the engine, and the process around them."""

from softnorm_cli.cli.commands import cli
from softnorm_cli.cli.exits import main

__all__ = ["cli", "main"]

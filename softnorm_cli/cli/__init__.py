"""The ``softnorm`` command line: Click commands over the engine, and the process around them.

Nothing is imported until it is needed: the console script installs its
signal handlers before Click, and numpy, polars and Rich load when a command
runs, so ``softnorm --help`` answers at once.
"""

__all__ = ["cli", "main"]


def main() -> None:
    """The console script (and ``python -m softnorm_cli``)."""
    from softnorm_cli.cli import signals

    signals.install()  # first: a Ctrl-C during the imports below is one line too
    try:
        from softnorm_cli.cli.commands import cli
        from softnorm_cli.cli.exits import run_process

        code = run_process(cli)
    except BaseException:
        if signals.received() is None:
            raise
        signals.leave(signals.stopped_status(), stopped=True)
    signals.leave(code)


def __getattr__(name):
    if name == "cli":
        from softnorm_cli.cli.commands import cli

        return cli
    raise AttributeError(f"module 'softnorm_cli.cli' has no attribute {name!r}")

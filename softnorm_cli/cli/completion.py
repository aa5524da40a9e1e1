"""Shell completion: the scripts for bash, zsh and fish, and the column names of the INPUT typed so far.

Click completes commands, options, choices and paths itself when the shell
calls ``softnorm`` with ``_SOFTNORM_COMPLETE`` set; what it cannot know is
which columns a file has. Those come from the file's header line or its
Parquet footer (:mod:`softnorm_cli.io.header`), read afresh at each Tab.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

SHELLS = ("bash", "zsh", "fish")
#: The variable the scripts set when they call softnorm to complete.
COMPLETE_VAR = "_SOFTNORM_COMPLETE"


def complete_columns(ctx: click.Context, param: click.Parameter, incomplete: str):
    """The INPUT's columns that complete the last name of a comma list (``age,inc`` -> ``age,income``)."""
    from click.shell_completion import CompletionItem

    from softnorm_cli.io.base import STDIO, Dialect
    from softnorm_cli.io.header import column_names

    p = ctx.params
    path = p.get("input")
    if ctx.get_parameter_source("input") in (None, ParameterSource.DEFAULT) and ctx.args:
        # The option being completed lacks its value, so Click stops parsing there, before it assigns
        # the positional arguments: an INPUT typed before the option is still among the leftovers.
        path = ctx.args[0]
    dialect = Dialect(p.get("delimiter"), not p.get("no_header"), p.get("encoding"), skip_rows=p.get("skip_rows") or 0, sheet=p.get("sheet"))
    fmt = p.get("from_format")
    try:
        names = column_names(path or STDIO, fmt and fmt.lower(), dialect)
    except Exception:  # whatever stops the names from being read, a Tab must not print an error into the shell
        return []
    typed, _, last = incomplete.rpartition(",")
    before = typed + "," if typed else ""
    chosen = set(typed.split(","))
    return [CompletionItem(before + name) for name in names if name and name.startswith(last) and name not in chosen]


def _print_script(ctx: click.Context, param: click.Parameter, shell: str | None) -> None:
    if shell is None or ctx.resilient_parsing:
        return
    from click.shell_completion import get_completion_class

    completion = get_completion_class(shell)(ctx.command, {}, "softnorm", COMPLETE_VAR)
    click.echo(completion.source(), nl=False)  # as Click prints it for _SOFTNORM_COMPLETE=bash_source
    ctx.exit()


completion_option = click.option(
    "--completion", type=click.Choice(SHELLS), metavar="SHELL", expose_value=False, is_eager=True,
    callback=_print_script,
    help="Print the completion script for SHELL (bash, zsh or fish) and exit; see the README to install it.",
)

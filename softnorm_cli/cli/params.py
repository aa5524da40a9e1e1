"""Saved parameters on the command line: the options a ``--params`` file fixes.

A parameters file is a :class:`~softnorm_cli.engine.fitted.Fitted` record as
JSON. Applied to new data, it decides the command, the method's options, the
axis, the columns and the group keys: the command line may repeat them, but
not contradict them, or the numbers would silently stop meaning what the
file says. Only how the results are written (and ``--clip``, ``--inverse``,
``--unseen``) is the command line's to choose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click
from click.core import ParameterSource

#: The options a parameters file fixes, as the commands name them, each with
#: how the file says it; a value of the command line is compared with that.
FIXED: Mapping[str, Callable[[Any], Any]] = {
    "axis": lambda fitted: fitted.axis,
    "columns": lambda fitted: list(fitted.columns),
    "exclude": lambda fitted: None,  # the file names the columns: any --exclude contradicts it
    "group_by": lambda fitted: list(fitted.group_by),
    "feature_range": lambda fitted: (fitted.options["lo"], fitted.options["hi"]),
    "quantile_range": lambda fitted: (fitted.options["lo"], fitted.options["hi"]),
    **{
        name: (lambda fitted, name=name: fitted.options.get(name))
        for name in ("nan", "inf", "temperature", "log", "ddof", "norm", "center", "scale", "unit_variance", "n_quantiles", "distribution")
    },
}
_FLAGS = {
    "columns": "-c/--cols", "group_by": "-g/--group-by", "feature_range": "--range", "center": "--center/--no-center",
    "scale": "--scale/--no-scale", "distribution": "--output-distribution",
}


def check_command_line(ctx: click.Context, path: str, fitted, command: str) -> None:
    """Refuse (a usage error) a command, or an option the user set, that contradicts the file."""
    if fitted.command != command:
        raise click.UsageError(f"{path} holds {fitted.command} parameters; run softnorm {fitted.command} --params {path}")
    for option, saved in FIXED.items():
        if option not in ctx.params or ctx.get_parameter_source(option) not in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
            continue  # a default agrees with anything
        value = ctx.params[option]
        if option in ("columns", "exclude"):
            value = [part.strip() for item in value for part in item.split(",") if part.strip()]
        elif option == "group_by":
            value = list(value)
        if value != saved(fitted):
            flag = _FLAGS.get(option, "--" + option.replace("_", "-"))
            raise click.UsageError(
                f"{flag} conflicts with {path}, which fixes it ({_shown(saved(fitted))}); "
                "the options come from the parameters file"
            )


def _shown(value) -> str:
    if value is None or isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value or ()) or "none"
    return str(value)

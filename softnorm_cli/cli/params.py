"""Saved parameters on the command line: reading a ``--params`` file, and the options it fixes.

A parameters file is a :class:`~softnorm_cli.engine.fitted.Fitted` record as JSON.
Applied to new data, it decides the command, the method's options, the axis,
the columns and the group keys: the command line may repeat them, but not
contradict them, or the numbers would silently stop meaning what the file
says. Only how the results are written (and ``--clip``, ``--inverse``,
``--unseen``) is the command line's to choose.
"""

from __future__ import annotations

import json

import click
from click.core import ParameterSource

from softnorm_cli.errors import SoftnormError


class ParametersError(SoftnormError):
    pass


def load(path: str):
    """The fitted record in the file at ``path``; a file that is not one is an error naming it."""
    from softnorm_cli.engine.fitted import Fitted, FittedFormatError

    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError:
        raise ParametersError(f"{path}: not a parameters file (not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        raise ParametersError(f"{path}: not a parameters file (invalid JSON at line {e.lineno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise ParametersError(f"{path}: not a parameters file (a JSON {type(data).__name__}, not an object)")
    try:
        return Fitted.from_dict(data)
    except FittedFormatError as e:
        raise ParametersError(f"{path}: {e}") from None


def check_command_line(path: str, fitted, command: str, given: dict) -> None:
    """Refuse (a usage error) a command or option on the command line that contradicts the file.

    ``given``: the options as the command parsed them; only those the user
    set count (a default agrees with anything).
    """
    if fitted.command != command:
        raise click.UsageError(
            f"{path} holds {fitted.command} parameters; run softnorm {fitted.command} --params {path}"
        )
    ctx = click.get_current_context()
    for option, value in given.items():
        if ctx.get_parameter_source(option) not in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
            continue
        saved = _saved(fitted, option)
        if option in ("columns", "group_by", "exclude"):
            value = [part.strip() for item in value for part in item.split(",") if part.strip()]
        if option == "exclude" or value != saved:
            flag = _FLAGS.get(option, "--" + option.replace("_", "-"))
            raise click.UsageError(
                f"{flag} conflicts with {path}, which fixes it ({_shown(saved)}); "
                "the options come from the parameters file"
            )


#: The options of a command that a parameters file decides, as the commands name them.
FIXED = ("axis", "columns", "exclude", "group_by", "nan", "inf", "temperature", "log", "feature_range", "ddof")
_FLAGS = {"columns": "-c/--cols", "group_by": "-g/--group-by", "feature_range": "--range"}


def _saved(fitted, option: str):
    options = fitted.options
    if option == "axis":
        return fitted.axis
    if option == "columns":
        return list(fitted.columns)
    if option == "group_by":
        return list(fitted.group_by)
    if option == "exclude":
        return []
    if option == "feature_range":
        return (options["lo"], options["hi"])
    return options.get(option)


def _shown(value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "none"
    return str(value)

"""``--help`` under headings: a command's own options first, then each group it shares.

Click lists every option under one ``Options:`` heading, in the order of the
decorators; a command of forty options reads better in sections. An option
names its section (:class:`HeadedOption`); an option without one is the
command's own and is listed first, under the command's heading. So is an
argument (:class:`HeadedArgument`), with a line of help Click does not give it.
"""

from __future__ import annotations

import sys

import click

INPUT, OUTPUT, GROUPS, PARAMETERS, ENGINE = "Input", "Output", "Groups", "Saved parameters", "Engine"
#: The shared sections, in the order they follow a command's own options.
SECTIONS = (INPUT, OUTPUT, GROUPS, PARAMETERS, ENGINE)
OTHER = "Other"


class HeadedOption(click.Option):
    """An option listed in ``--help`` under ``heading``."""

    def __init__(self, *param_decls, heading: str, **attrs):
        super().__init__(*param_decls, **attrs)
        self.heading = heading


class HeadedArgument(click.Argument):
    """An argument listed in ``--help`` under ``heading``, with a ``help`` text as an option has."""

    def __init__(self, param_decls, heading: str, help: str, **attrs):
        super().__init__(param_decls, **attrs)
        self.heading = heading
        self.help = help

    def get_help_record(self, ctx: click.Context) -> tuple[str, str]:
        return self.make_metavar(ctx), self.help


class SectionedCommand(click.Command):
    """A command whose options are listed under ``heading`` (its own), then under :data:`SECTIONS`."""

    def __init__(self, *args, heading: str = "Options", **kwargs):
        super().__init__(*args, **kwargs)
        self.heading = heading

    def format_arguments(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        pass  # listed among the options, each under its heading (Click from 8.5 gives them a section of their own)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        help_option = self.get_help_option(ctx)
        sections: dict[str, list[tuple[str, str]]] = {self.heading: []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                heading = OTHER if param is help_option else getattr(param, "heading", self.heading)
                sections.setdefault(heading, []).append(record)
        order = [self.heading, *SECTIONS, OTHER]
        for heading in sorted(sections, key=lambda h: order.index(h) if h in order else len(order)):
            if sections[heading]:
                with formatter.section(heading):
                    formatter.write_dl(sections[heading])


class SectionedGroup(click.Group):
    """The ``softnorm`` group: its commands are sectioned, and its list shows their whole first lines."""

    command_class = SectionedCommand

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Click cuts a description to fit the terminal ("scale each column linearly onto a range (default 0 to...");
        # a whole line, wrapped where it must be, says what the command does.
        rows = [
            (name, command.get_short_help_str(limit=sys.maxsize))
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

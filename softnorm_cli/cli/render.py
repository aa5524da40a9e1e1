"""The summary for people: a Rich rendering on stderr, and indented JSON text.

The figures come from the engine (:class:`~softnorm_cli.engine.summary.Summary`);
this module only decides how they look.
"""

from __future__ import annotations

import json
import math

from softnorm_cli.engine.keys import describe
from softnorm_cli.engine.summary import FIGURES, Summary


def json_text(value, level: int = 0) -> str:
    """``value`` as indented JSON, each column's figures on one line.

    The standard library indents in pure Python, which takes seconds for
    100,000 columns; below the second level its C encoder writes each
    object in one go.
    """
    pad = "  " * (level + 1)
    if isinstance(value, dict) and value and level < 2:
        items = ",\n".join(f"{pad}{json.dumps(key)}: {json_text(item, level + 1)}" for key, item in value.items())
        return "{\n" + items + "\n" + "  " * level + "}"
    if isinstance(value, list) and value and level < 3 and all(isinstance(item, dict) for item in value):
        # A list of objects (the groups of `stats -g`): one a line.
        return "[\n" + ",\n".join(pad + json.dumps(item) for item in value) + "\n" + "  " * level + "]"
    return json.dumps(value)


#: Columns shown in the table; the JSON has them all.
MAX_SHOWN = 20


def render(summary: Summary, console) -> None:
    """Print the summary for people (to a stderr console): what ran on what, then the figures.

    Each column's name has a line of its own, so a long name stays whole and
    the figures keep their alignment; figures get as many digits as it takes
    to tell min, mean and max apart (``1e9 + noise`` is not ``1e+09`` thrice).
    """
    from rich.text import Text

    title = f"softnorm {summary.command}" + (f" (axis: {summary.axis})" if summary.axis else "")
    facts = []
    if summary.input:
        facts.append(f"{summary.input} → {summary.output}" if summary.output else summary.input)
    facts.append(f"{summary.rows:,} rows")
    if summary.elapsed is not None:
        facts.append(f"{summary.elapsed:.2f} s")
    _print(console, Text(title, style="bold"))
    _print(console, Text(" · ".join(facts)))
    for role, path in summary.parameters.items():
        _print(console, Text(f"parameters {role} {path}"))
    if summary.groups is not None:
        _print(console, Text(_groups_line(summary.groups)))
    if summary.engine is not None:
        _print(console, Text(_engine_line(summary.engine)))
    lines = _table(summary.before, summary.after)
    if lines:
        _print(console, Text(""))
        for line in lines:
            _print(console, line)
    if summary.groups is not None and "figures" in summary.groups:
        _group_tables(summary.groups, console)
    if summary.row_sums is not None:
        low, high = summary.row_sums
        _print(console, Text(f"{summary.row_sums_label}: min {_number(low)}, max {_number(high)}"))
    if summary.skipped:
        _print(console, Text(f"left out ({len(summary.skipped)}):", style="bold"))
        width = min(24, max(map(len, summary.skipped)))
        for name, why in list(summary.skipped.items())[:MAX_SHOWN]:
            _print(console, Text(f"  {name:<{width}}  {why}"))
        if len(summary.skipped) > MAX_SHOWN:
            _print(console, Text(f"  ... and {len(summary.skipped) - MAX_SHOWN:,} more (all in --summary-json)"))
    if summary.warnings:
        # The warnings themselves were printed as they were found, one line each.
        count = len(summary.warnings)
        _print(console, Text(f"{count} warning{'s' if count != 1 else ''}, listed above", style="yellow"))


def _groups_line(groups: dict) -> str:
    """``1,000 groups by grp; rows per group: 812 (grp='k0421') to 1,204 (grp='k0007')``."""
    line = f"{_count(groups['count'], 'group')} by {', '.join(groups['by'])}"
    if "smallest" in groups:
        small, large = groups["smallest"], groups["largest"]
        line += (
            f"; rows per group: {small['rows']:,} ({describe(groups['by'], small['key'])})"
            f" to {large['rows']:,} ({describe(groups['by'], large['key'])})"
        )
    if groups.get("unseen_rows"):
        line += f"; {_count(groups['unseen_rows'], 'row')} in groups the parameters lack (results missing)"
    return line


def _engine_line(engine: dict) -> str:
    """``engine: dask (tcp://10.0.0.5:8786), 4 workers, 8 partitions``."""
    where = f" ({engine['scheduler']})" if engine.get("scheduler") else ""
    return f"engine: {engine['name']}{where}, {_count(engine['workers'], 'worker')}, {_count(engine['partitions'], 'partition')}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _print(console, text) -> None:
    # Never folded or cut by Rich: a terminal narrower than a line wraps it, whole.
    console.print(text, soft_wrap=True)


def _group_tables(groups: dict, console) -> None:
    """``stats -g``: each group's key and rows, then its figures, the first groups only."""
    from rich.text import Text

    for group in groups["figures"][:MAX_SHOWN]:
        _print(console, Text(""))
        _print(console, Text(f"{describe(groups['by'], group['key'])} · {_count(group['rows'], 'row')}", style="bold"))
        for line in _table(group["columns"], None):
            _print(console, line)
    if len(groups["figures"]) > MAX_SHOWN:
        _print(console, Text(f"... and {len(groups['figures']) - MAX_SHOWN:,} more groups (all in --json)"))


def _table(before: dict[str, dict], after: dict[str, dict] | None) -> list:
    """The figures as aligned lines: a header, then per column its name and one row per stage."""
    from rich.text import Text

    rows: list[tuple[str, str, list[str]]] = []  # (name, stage, cells); a name row has no cells
    shown = list(before.items())[:MAX_SHOWN]
    for name, figures in shown:
        rows.append((name, "", []))
        if after is None:
            rows.append(("", "", _cells(figures)))
        else:
            rows.append(("", "before", _cells(figures)))
            rows.append(("", "after", _cells(after[name])))
    if not rows:
        return []
    label = max(len("column"), *(len(stage) + 2 for _, stage, cells in rows if cells))
    widths = [max(len(key), *(len(cells[i]) for _, _, cells in rows if cells)) for i, key in enumerate(FIGURES)]
    lines = [Text("column".ljust(label) + "".join("  " + key.rjust(w) for key, w in zip(FIGURES, widths)), style="bold")]
    for name, stage, cells in rows:
        if not cells:
            lines.append(Text(name, style="bold"))
        else:
            text = ("  " + stage).ljust(label) + "".join("  " + cell.rjust(w) for cell, w in zip(cells, widths))
            lines.append(Text(text, style="dim" if stage == "before" else ""))
    if len(before) > MAX_SHOWN:
        lines.append(Text(f"... and {len(before) - MAX_SHOWN:,} more columns (all in --summary-json)"))
    return lines


def _cells(figures: dict[str, float]) -> list[str]:
    # A mean or sum that is rounding noise next to the values (the mean of
    # z-scores, -3.6e-17) reads as 0; the JSON keeps the exact figure.
    scale = max(abs(figures["min"]), abs(figures["max"])) if figures["count"] else 0.0
    noise = {"mean": 1e-12 * scale, "sum": 1e-12 * scale * figures["count"]}
    shown = {key: 0.0 if key in noise and abs(figures[key]) < noise[key] else figures[key] for key in FIGURES}
    digits = _digits(shown["min"], shown["mean"], shown["max"])
    return [_number(shown[key], digits if key in ("min", "mean", "max") else 5) for key in FIGURES]


def _digits(*values: float) -> int:
    """The fewest significant digits (at least 5) that keep different values apart."""
    present = [v for v in values if isinstance(v, float) and math.isfinite(v)]
    for digits in range(5, 18):
        if len({f"{v:.{digits}g}" for v in present}) == len(set(present)):
            return digits
    return 17


def _number(value: float, digits: int = 5) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "–"
    return f"{value:.{digits}g}"

"""The summary for people: a Rich rendering on stderr, and indented JSON text.

The figures come from the engine (:class:`~softnorm_cli.engine.summary.Summary`);
this module only decides how they look.
"""

from __future__ import annotations

import json
import math

from softnorm_cli.cli.sparkline import WIDTHS, fitting, plain_console, sparkline
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
#: How a picture looks (the before one is dimmed with its row).
PICTURE = "cyan"


def render(summary: Summary, console) -> None:
    """Print the summary for people (to a stderr console): what ran on what, then the figures.

    Each column's name has a line of its own, so a long name stays whole and
    the figures keep their alignment; figures get as many digits as it takes
    to tell min, mean and max apart (``1e9 + noise`` is not ``1e+09`` thrice).
    Each stage's distribution is drawn after its figures, as wide as the
    console allows, or on the name's line when the figures leave no room.
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
    plain = plain_console(console)
    if summary.groups is not None:
        _print(console, Text(_groups_line(summary.groups)))
        if summary.group_sizes is not None:
            _print(console, _picture_line("group sizes", summary.group_sizes, console, plain))
    if summary.engine is not None:
        _print(console, Text(_engine_line(summary.engine)))
    lines = _table(summary.before, summary.after, summary.pictures, console, plain)
    if lines:
        _print(console, Text(""))
        for line in lines:
            _print(console, line)
    quantiles = _quantile_table(summary.before)
    if quantiles:
        _print(console, Text(""))
        for line in quantiles:
            _print(console, line)
    if summary.groups is not None and "figures" in summary.groups:
        _group_tables(summary.groups, console, plain)
    if summary.row_sums is not None:
        low, high = summary.row_sums
        _print(console, Text(f"{summary.row_sums_label}: min {_number(low)}, max {_number(high)}"))
    if summary.row_max is not None:
        _print(console, _picture_line("largest probability per row", summary.row_max, console, plain))
    if summary.skipped:
        _print(console, Text(f"left out ({len(summary.skipped)}):", style="bold"))
        names = [_name(name) for name in summary.skipped]
        width = min(24, max(map(len, names)))
        for name, why in list(zip(names, summary.skipped.values()))[:MAX_SHOWN]:
            _print(console, Text(f"  {name:<{width}}  {why}"))
        if len(summary.skipped) > MAX_SHOWN:
            _print(console, Text(f"  ... and {len(summary.skipped) - MAX_SHOWN:,} more (all in --summary-json)"))
    if summary.output:
        _print(console, Text(f"wrote {_count(summary.rows, 'row')} to {summary.output}"))
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


def _name(column: str) -> str:
    # pandas writes its row labels as a first column without a name.
    return column or "(index)"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _print(console, text) -> None:
    # Never folded or cut by Rich: a terminal narrower than a line wraps it, whole.
    console.print(text, soft_wrap=True)


def _group_tables(groups: dict, console, plain: bool) -> None:
    """``stats -g``: each group's key and rows, then its figures, the first groups only."""
    from rich.text import Text

    for group in groups["figures"][:MAX_SHOWN]:
        _print(console, Text(""))
        _print(console, Text(f"{describe(groups['by'], group['key'])} · {_count(group['rows'], 'row')}", style="bold"))
        for line in _table(group["columns"], None, {}, console, plain):
            _print(console, line)
    if len(groups["figures"]) > MAX_SHOWN:
        _print(console, Text(f"... and {len(groups['figures']) - MAX_SHOWN:,} more groups (all in --json)"))


def _picture_line(label: str, picture, console, plain: bool):
    """``group sizes: 44 █     █  █   █ 124``: the label, the low edge, the picture, the high edge."""
    from rich.text import Text

    low, high = _number(picture.low), _number(picture.high)
    width = fitting(console.width - len(label) - len(low) - len(high) - 4) or WIDTHS[-1]
    return Text(f"{label}: {low} ").append(sparkline(picture.counts, width, plain), style=PICTURE).append(f" {high}")


def _table(before: dict[str, dict], after: dict[str, dict] | None, pictures: dict, console, plain: bool) -> list:
    """The figures as aligned lines: a header, then per column its name and one row per stage,
    each stage's picture after its figures (or both on the name's line, if the figures leave no room)."""
    from rich.text import Text

    rows: list[tuple[str, str, list[str]]] = []  # (column, stage, cells); a name row has no cells
    for name, figures in list(before.items())[:MAX_SHOWN]:
        rows.append((name, "", []))
        if after is None:
            rows.append((name, "", _cells(figures)))
        else:
            rows.append((name, "before", _cells(figures)))
            rows.append((name, "after", _cells(after[name])))
    if not rows:
        return []
    label = max(len("column"), *(len(stage) + 2 for _, stage, cells in rows if cells))
    widths = [max(len(key), *(len(cells[i]) for _, _, cells in rows if cells)) for i, key in enumerate(FIGURES)]
    lines = [Text("column".ljust(label) + "".join("  " + key.rjust(w) for key, w in zip(FIGURES, widths)), style="bold")]
    beside = fitting(console.width - label - sum(2 + w for w in widths) - 2)
    for name, stage, cells in rows:
        drawn = pictures.get(name, {})
        if not cells:
            line = Text(_name(name), style="bold")
            if beside is None:
                for i, picture in enumerate(drawn.values()):
                    line.append("  " if i == 0 else " → ").append(sparkline(picture.counts, WIDTHS[-1], plain), style=PICTURE)
        else:
            text = ("  " + stage).ljust(label) + "".join("  " + cell.rjust(w) for cell, w in zip(cells, widths))
            line = Text(text, style="dim" if stage == "before" else "")
            if beside is not None and stage in drawn:
                line.append("  ").append(sparkline(drawn[stage].counts, beside, plain), style=PICTURE)
        lines.append(line)
    if len(before) > MAX_SHOWN:
        lines.append(Text(f"... and {len(before) - MAX_SHOWN:,} more columns (all in --summary-json)"))
    return lines


def _quantile_table(before: dict[str, dict]) -> list:
    """``stats --quantiles``: per column its percentiles (the figures past :data:`FIGURES`), aligned."""
    from rich.text import Text

    shown = list(before.items())[:MAX_SHOWN]
    keys = [key for key in shown[0][1] if key not in FIGURES] if shown else []
    if not keys:
        return []
    rows = []
    for name, figures in shown:
        digits = _digits(*(figures[key] for key in keys))
        rows.append((_name(name), [_number(figures[key], digits) for key in keys]))
    label = max(len("column"), *(len(name) for name, _ in rows))
    widths = [max(len(key), *(len(cells[i]) for _, cells in rows)) for i, key in enumerate(keys)]
    lines = [Text("column".ljust(label) + "".join("  " + key.rjust(w) for key, w in zip(keys, widths)), style="bold")]
    lines += [Text(name.ljust(label) + "".join("  " + cell.rjust(w) for cell, w in zip(cells, widths))) for name, cells in rows]
    return lines


def _cells(figures: dict[str, float]) -> list[str]:
    # A mean or sum that is rounding noise next to the values (the mean of
    # z-scores, -3.6e-17) reads as 0; the JSON keeps the exact figure.
    scale = max(abs(figures["min"]), abs(figures["max"])) if figures["count"] else 0.0
    noise = {"mean": 1e-12 * scale, "sum": 1e-12 * scale * figures["count"]}
    shown = {key: 0.0 if key in noise and abs(figures[key]) < noise[key] else figures[key] for key in FIGURES}
    digits = _digits(shown["min"], shown["mean"], shown["max"])
    return [_number(shown[key], digits if key in ("min", "mean", "max", "sum") else 5) for key in FIGURES]


def _digits(*values: float) -> int:
    """The fewest significant digits (at least 5) that keep different values apart."""
    present = [v for v in values if isinstance(v, float) and math.isfinite(v)]
    for digits in range(5, 18):
        if len({f"{v:.{digits}g}" for v in present}) == len(set(present)):
            return digits
    return 17


#: Below this, a number too large for its significant digits is written out
#: whole (``174,346,743``, not ``1.7435e+08``); beyond, the digits are noise.
WRITTEN_OUT = 1e15
#: Thousands are separated from here up: a year reads 2007, not 2,007.
SEPARATED = 10_000


def _number(value: float, digits: int = 5) -> str:
    """``value`` with ``digits`` significant digits, thousands separated; whole up to 10^15."""
    if isinstance(value, float) and math.isnan(value):
        return "–"
    separator = "," if abs(value) >= SEPARATED else ""
    if isinstance(value, int):
        return f"{value:{separator}}"
    if 10.0 ** digits <= abs(value) < WRITTEN_OUT:
        return f"{value:{separator}.0f}"
    return f"{value:{separator}.{digits}g}"

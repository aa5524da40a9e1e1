"""The summary of a run: figures per column before and after, then their rendering.

Figures are plain numbers gathered by the pipeline; this module turns them into
a Rich table for people or strict JSON for programs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from softnorm_cli.kernels import Moments

FIGURES = ("count", "missing", "min", "max", "mean", "std", "sum")


def column_figures(moments: Moments, columns: list[str]) -> dict[str, dict[str, float]]:
    """Per-column figures from column-axis :class:`Moments`; ``std`` is the population std."""
    flat = {
        "count": moments.count,
        "missing": moments.missing,
        "min": np.where(moments.count > 0, moments.minimum, np.nan),
        "max": np.where(moments.count > 0, moments.maximum, np.nan),
        "mean": moments.mean,
        "std": moments.std(0),
        "sum": moments.total,
    }
    flat = {key: np.ravel(value) for key, value in flat.items()}
    return {
        name: {key: (int(flat[key][i]) if key in ("count", "missing") else float(flat[key][i])) for key in FIGURES}
        for i, name in enumerate(columns)
    }


@dataclass
class Summary:
    command: str
    axis: str | None
    rows: int
    before: dict[str, dict[str, float]]
    after: dict[str, dict[str, float]] | None = None
    row_sums: tuple[float, float] | None = None
    row_sums_label: str = "row sums"
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The figures as strict JSON data: NaN and infinities become null."""
        columns = {
            name: {"before": _strict(figures), "after": _strict(self.after[name])} for name, figures in self.before.items()
        }
        return {
            "command": self.command,
            "axis": self.axis,
            "rows": self.rows,
            "columns": columns,
            "row_sums": None if self.row_sums is None else _strict(dict(zip(("min", "max"), self.row_sums))),
            "warnings": list(self.warnings),
        }


def stats_json(rows: int, figures: dict[str, dict[str, float]]) -> dict:
    return {"rows": rows, "columns": {name: _strict(f) for name, f in figures.items()}}


def _strict(figures: dict[str, float]) -> dict:
    return {k: (v if isinstance(v, int) or math.isfinite(v) else None) for k, v in figures.items()}


def render(summary: Summary, console) -> None:
    """Print the summary as a Rich table (to a stderr console)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    title = f"softnorm {summary.command}"
    if summary.axis:
        title += f" (axis: {summary.axis})"
    # A light box leaves room for the figures in an 80-column terminal.
    table = Table(
        title=title, title_justify="left", caption=f"{summary.rows:,} rows", caption_justify="left", box=box.SIMPLE_HEAD,
        collapse_padding=True, pad_edge=False,
    )
    table.add_column("column", style="bold", overflow="fold", min_width=6)
    if summary.after is not None:
        table.add_column("", no_wrap=True)
    for key in FIGURES:
        table.add_column(key, justify="right")
    for name, before in summary.before.items():
        if summary.after is None:
            table.add_row(name, *_cells(before))
        else:
            table.add_row(name, Text("before", style="dim"), *_cells(before), style="dim")
            table.add_row("", "after", *_cells(summary.after[name]), end_section=True)
    console.print(table)
    if summary.row_sums is not None:
        low, high = summary.row_sums
        console.print(f"{summary.row_sums_label}: min {_number(low)}, max {_number(high)}")
    if summary.warnings:
        # The warnings themselves were printed as they were found, one line each.
        console.print(Text(f"{len(summary.warnings)} warning(s), listed above", style="yellow"))


def _cells(figures: dict[str, float]) -> list[str]:
    # A mean or sum that is rounding noise next to the values (the mean of
    # z-scores, -3.6e-17) reads as 0; the JSON keeps the exact figure.
    scale = max(abs(figures["min"]), abs(figures["max"])) if figures["count"] else 0.0
    noise = {"mean": 1e-12 * scale, "sum": 1e-12 * scale * figures["count"]}
    return [
        _number(0.0 if key in noise and abs(figures[key]) < noise[key] else figures[key]) for key in FIGURES
    ]


def _number(value: float) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "–"
    return f"{value:.5g}"

"""Option vocabularies shared by the Python API and the command line.

Kept free of heavy imports: the command line parses options with it before
numpy or polars are loaded.
"""

from __future__ import annotations

#: Canonical axis names and the spellings accepted for each.
AXES = {
    "row": ("row", "rows", "1"),
    "column": ("column", "columns", "0"),
    "all": ("all", "none"),
}
NAN_POLICIES = ("omit", "propagate", "raise")


def canonical_axis(axis: str | int | None) -> str:
    """Return ``'row'``, ``'column'`` or ``'all'`` for any accepted spelling."""
    if axis is None:
        return "all"
    text = str(axis).strip().lower()
    for name, spellings in AXES.items():
        if text in spellings:
            return name
    accepted = ", ".join(s for spellings in AXES.values() for s in spellings)
    raise ValueError(f"unknown axis {axis!r}; use one of {accepted}")


def numpy_axis(axis: str) -> int | None:
    """The numpy ``axis`` argument of a canonical axis name."""
    return {"row": 1, "column": 0, "all": None}[axis]

"""The fitted record: everything needed to transform rows, and nothing about how they are read.

A :class:`Fitted` holds the command and its options, the axis, the columns,
and the finished statistics of each group of rows (one group, with the
empty key, until rows are grouped by key values). It is the seam between
fitting and applying: the one-shot run fits then applies it, a saved
parameters file is its :meth:`~Fitted.to_dict` as JSON, and a cluster
engine merges partial statistics into one before applying it everywhere.

JSON keeps every float in shortest round-trip form, so a record read back
gives the same results, byte for byte; NaN and infinities, which JSON lacks,
are written as the strings ``"nan"``, ``"inf"`` and ``"-inf"``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from softnorm_cli.methods import Method, Stats, method_from

#: The version of the dictionary layout; a different one is refused.
FORMAT = 1
#: The statistics of ``axis="all"`` describe the whole block, not one column.
BLOCK = "*"
_INTEGER_FIGURES = ("count", "missing", "posinf")


class FittedFormatError(ValueError):
    """A dictionary that is not a fitted record this version can read."""


@dataclass
class Fitted:
    """What a fit learned, with what was asked of it.

    ``statistics`` maps each figure to an array of shape ``(groups,
    targets)``: the targets are the columns for ``axis="column"`` and the
    whole block for ``axis="all"``; the row axis fits nothing (None).
    """

    command: str
    options: dict[str, Any]
    axis: str
    columns: list[str]
    statistics: Stats | None = None
    group_by: list[str] = field(default_factory=list)
    keys: list[tuple] = field(default_factory=lambda: [()])
    version: str = ""
    #: How the columns were chosen, and how many rows the fit saw, for the summary; not part of the record.
    selection: Any = field(default=None, compare=False, repr=False)
    rows: int = field(default=0, compare=False, repr=False)
    #: The source of the fit and the group code of each of its rows, when few enough to keep,
    #: so that applying to the same source need not look them up again; not part of the record.
    row_codes: tuple[Any, np.ndarray] | None = field(default=None, compare=False, repr=False)

    @property
    def method(self) -> Method:
        return method_from(self.command, self.options)

    @property
    def targets(self) -> list[str]:
        return [BLOCK] if self.axis == "all" else list(self.columns)

    # -- JSON -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        groups = []
        if self.statistics is not None:
            for g, key in enumerate(self.keys):
                figures = {
                    target: {name: _encode(values[g, t], name) for name, values in self.statistics.items()}
                    for t, target in enumerate(self.targets)
                }
                groups.append({"key": list(key), "statistics": figures})
        return {
            "format": FORMAT,
            "softnorm": self.version,
            "command": self.command,
            "options": {k: _encode(v) for k, v in self.options.items()},
            "axis": self.axis,
            "columns": list(self.columns),
            "group_by": list(self.group_by),
            "groups": groups,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text for people too: a line per field, and per group."""
        data = self.to_dict()
        groups = data.pop("groups")
        lines = [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in data.items()]
        if groups:
            body = ",\n".join(f"    {json.dumps(group)}" for group in groups)
            lines.append(f'  "groups": [\n{body}\n  ]')
        else:
            lines.append('  "groups": []')
        return "{\n" + "\n".join(lines) + "\n}\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fitted:
        try:
            if data.get("format") != FORMAT:
                raise FittedFormatError(f"format {data.get('format')!r}; this softnorm reads format {FORMAT}")
            fitted = cls(
                command=data["command"],
                options={k: _decode(v) for k, v in data["options"].items()},
                axis=data["axis"],
                columns=list(data["columns"]),
                group_by=list(data.get("group_by", [])),
                version=data.get("softnorm", ""),
            )
            names = fitted.method.figures  # the command and its options must make a method
            groups = data["groups"]
            if fitted.axis not in ("row", "column", "all") or (fitted.axis == "row" and groups):
                raise ValueError(f"axis {fitted.axis!r} with {len(groups)} groups of statistics")
            for number, group in enumerate(groups, 1):
                if len(group["key"]) != len(fitted.group_by):
                    raise ValueError(f"group {number}: key {group['key']!r} does not match group_by {fitted.group_by!r}")
                for target in fitted.targets:
                    have = set(group["statistics"][target])
                    if have != set(names):
                        raise ValueError(
                            f"group {number}, column {target!r} has the figures {', '.join(sorted(have)) or 'none'}; "
                            f"{fitted.command} needs {', '.join(names)}"
                        )
            if groups:
                fitted.keys = [tuple(group["key"]) for group in groups]
                fitted.statistics = {
                    name: np.array(
                        [[_decode(group["statistics"][t][name]) for t in fitted.targets] for group in groups],
                        dtype=np.int64 if name in _INTEGER_FIGURES else np.float64,
                    )
                    for name in names
                }
        except FittedFormatError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            raise FittedFormatError(f"not a softnorm parameters record ({type(e).__name__}: {e})") from None
        return fitted


def _encode(value, name: str = ""):
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool) or name in _INTEGER_FIGURES:
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value  # json writes the shortest text that reads back as the same float
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value

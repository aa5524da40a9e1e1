"""The fitted record: everything needed to transform rows, and nothing about how they are read.

A :class:`Fitted` holds the command and its options, the axis, the columns
(and which of them held integers), and the finished statistics of each group of rows (one group, with the
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import atomic
from softnorm_cli.numeric.methods import Method, Stats
from softnorm_cli.numeric.registry import method_from

#: The version of the dictionary layout; a different one is refused.
FORMAT = 1
#: The statistics of ``axis="all"`` describe the whole block, not one column.
BLOCK = "*"
_INTEGER_FIGURES = ("count", "missing", "posinf")


class FittedFormatError(ValueError):
    """A dictionary that is not a fitted record this version can read."""


class ParametersError(SoftnormError):
    """A parameters file that cannot be read as a fitted record."""


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
    #: The columns that held integers when fitted (:mod:`~softnorm_cli.engine.integers`), which
    #: ``--inverse`` writes back as integers; records saved before it was learned have none.
    integers: list[str] = field(default_factory=list)
    #: How the columns were chosen, and how many rows the fit saw, for the summary; not part of the record.
    selection: Any = field(default=None, compare=False, repr=False)
    rows: int = field(default=0, compare=False, repr=False)

    @property
    def method(self) -> Method:
        return method_from(self.command, self.options)

    @property
    def targets(self) -> list[str]:
        return [BLOCK] if self.axis == "all" else list(self.columns)

    # -- JSON -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {**self._head(), "groups": [json.loads(line) for line in self._group_lines()]}

    def to_json(self) -> Iterator[str]:
        """:meth:`to_dict` as JSON text for people too, in pieces: a line per field, and per group.

        Groups are encoded a block at a time, so that a million groups take
        memory for their figures, not for a million dictionaries.
        """
        yield "{\n"
        for key, value in self._head().items():
            yield f"  {json.dumps(key)}: {json.dumps(value)},\n"
        yield '  "groups": ['
        for number, line in enumerate(self._group_lines()):
            yield ("\n    " if number == 0 else ",\n    ") + line
        yield "\n  ]\n}\n" if self.statistics is not None else "]\n}\n"

    def _head(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "softnorm": self.version,
            "command": self.command,
            "options": {k: _encode(v) for k, v in self.options.items()},
            "axis": self.axis,
            "columns": list(self.columns),
            "group_by": list(self.group_by),
            "integer_columns": list(self.integers),
        }

    def _group_lines(self, block: int = 4096) -> Iterator[str]:
        # Written from the text of each figure, a block of groups at a time:
        # json.dumps of a dictionary per group takes seconds per 100,000 groups.
        if self.statistics is None:
            return
        prefixes = [(json.dumps(target), [json.dumps(name) + ": " for name in self.statistics]) for target in self.targets]
        for start in range(0, len(self.keys), block):
            stop = min(start + block, len(self.keys))
            texts = {name: _texts(values[start:stop], name) for name, values in self.statistics.items()}
            columns = []
            for t, (target, names) in enumerate(prefixes):
                figures = zip(*([prefix + text for text in texts[name][:, t]] for prefix, name in zip(names, texts)))
                columns.append([f"{target}: {{{', '.join(row)}}}" for row in figures])
            for g, targets in enumerate(zip(*columns)):
                yield f'{{"key": {json.dumps(list(self.keys[start + g]))}, "statistics": {{{", ".join(targets)}}}}}'

    def save(self, path: str) -> None:
        """Write the record as JSON to ``path`` (``-``: standard output), atomically."""
        atomic.write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str) -> Fitted:
        """The record in the parameters file at ``path``; a file that is not one is an error naming it."""
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
            return cls.from_dict(data)
        except FittedFormatError as e:
            raise ParametersError(f"{path}: {e}") from None

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
                integers=list(data.get("integer_columns", [])),
            )
            strangers = set(fitted.integers) - set(fitted.columns)
            if strangers:
                raise ValueError(f"integer_columns names {min(strangers)!r}, which is not one of the columns")
            names = fitted.method.figures  # the command and its options must make a method
            groups = data["groups"]
            if fitted.axis not in ("row", "column", "all") or (fitted.axis == "row" and groups):
                raise ValueError(f"axis {fitted.axis!r} with {len(groups)} groups of statistics")
            needed, targets = set(names), fitted.targets
            derived = fitted.method.derived  # figures older records lack, made from the others
            for number, group in enumerate(groups, 1):
                if len(group["key"]) != len(fitted.group_by):
                    raise ValueError(f"group {number}: key {group['key']!r} does not match group_by {fitted.group_by!r}")
                for target in targets:
                    have = group["statistics"][target].keys()
                    if not needed - set(derived) <= have <= needed:
                        raise ValueError(
                            f"group {number}, column {target!r} has the figures {', '.join(sorted(have)) or 'none'}; "
                            f"{fitted.command} needs {', '.join(names)}"
                        )
            if groups:
                fitted.keys = [tuple(group["key"]) for group in groups]
                figures = [group["statistics"] for group in groups]
                stored = [name for name in names if name in figures[0][targets[0]]]
                statistics = {
                    name: _array([f[t][name] for f in figures for t in targets], name, (len(groups), len(targets)))
                    for name in stored
                }
                fitted.statistics = {name: statistics[name] if name in statistics else derived[name](statistics) for name in names}
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


def _texts(values: np.ndarray, name: str) -> np.ndarray:
    """Each figure of a block as JSON text, as :func:`_encode` and ``json.dumps`` write it: ``(groups,
    targets)`` texts, a table (the quantile transform's) as one list of numbers."""
    if name in _INTEGER_FIGURES:
        texts = list(map(str, values.astype(np.int64).ravel().tolist()))
    else:
        # polars writes the shortest text that reads back as the same float, as
        # Python's repr does, about fifteen times faster.
        texts = pl.Series(values.astype(np.float64).ravel()).cast(pl.String).to_list()
        for i in np.flatnonzero(~np.isfinite(values.ravel())):
            texts[i] = json.dumps(_encode(values.ravel()[i]))
    if values.ndim == 3:
        size = values.shape[2]
        texts = ["[" + ", ".join(texts[i : i + size]) + "]" for i in range(0, len(texts), size)]
    return np.array(texts, dtype=object).reshape(values.shape[:2])


def _array(values: list, name: str, shape: tuple[int, int]) -> np.ndarray:
    """Figures read from JSON as an array of ``shape`` (groups, targets): numbers, or for floats the strings
    of :func:`_encode`; a table of numbers per target (the quantile transform's) adds an axis."""
    if name in _INTEGER_FIGURES:
        if not all(type(v) is int for v in values):
            raise ValueError(f"{name} must be whole numbers")
        return np.array(values, dtype=np.int64).reshape(shape)
    tables = [v for v in values if type(v) is list]
    if tables:
        if len(tables) != len(values) or len({len(t) for t in tables}) != 1 or not tables[0]:
            raise ValueError(f"{name} must be lists of numbers of one length")
        values = [item for table in tables for item in table]
    if not all(type(v) in (float, int) or v in ("nan", "inf", "-inf") for v in values):
        raise ValueError(f"{name} must be numbers")
    # numpy reads "nan", "inf" and "-inf" as float() does
    return np.array(values, dtype=np.float64).reshape(*shape, *((len(tables[0]),) if tables else ()))


def _decode(value):
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return value

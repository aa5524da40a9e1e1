"""Hive-style directories: ``date=2024-01-01/desk=fx/part-0.parquet``, the folder names a part's columns.

Spark, Hive, pyarrow, DuckDB and polars write a dataset partitioned by key
columns as folders named ``key=value``, one level per key, and leave the key
columns out of the files. :func:`hive_parts` finds such a layout and the keys
of each file; :class:`WithKeys` gives a part's reader those columns back, as
text (as pyarrow and DuckDB read them), so that ``-g`` can use them; a
directory written back has the same folders (:mod:`~softnorm_cli.io.dataset`).
Values are URL-decoded, as Hive encodes them; ``__HIVE_DEFAULT_PARTITION__``
is a missing value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from urllib.parse import quote, unquote

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io import sniff
from softnorm_cli.io.base import Batch, Closing

#: A folder of one key's value.
FOLDER = re.compile(r"([^=/\\]+)=([^/\\]*)")
#: How Hive writes a missing key.
MISSING = "__HIVE_DEFAULT_PARTITION__"

Keys = tuple[tuple[str, "str | None"], ...]


def hive_parts(path: str) -> tuple[list[str], list[Keys]] | None:
    """The files under ``path`` with the keys of their folders, in order; None when ``path`` holds no ``key=value`` folder."""
    if not any(FOLDER.fullmatch(name) and os.path.isdir(os.path.join(path, name)) for name in os.listdir(path)):
        return None
    files: list[str] = []
    keys: list[Keys] = []
    names: tuple[str, ...] | None = None
    for folder, subfolders, filenames in os.walk(path):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith((".", "_")))
        relative = os.path.relpath(folder, path)
        levels = [] if relative == "." else relative.split(os.sep)
        matched = [FOLDER.fullmatch(level) for level in levels]
        if not all(matched):
            raise SoftnormError(f"{folder}: a folder of a partitioned dataset is not named key=value")
        data = sorted(n for n in filenames if not n.startswith((".", "_")) and sniff.format_from_path(n))
        if not data:
            continue
        found = tuple(m.group(1) for m in matched)
        if names is not None and found != names:
            raise SoftnormError(f"{folder}: its keys ({', '.join(found) or 'none'}) are not those of the other folders ({', '.join(names)})")
        names = found
        pairs = tuple((m.group(1), None if m.group(2) == MISSING else unquote(m.group(2))) for m in matched)
        for name in data:
            files.append(os.path.join(folder, name))
            keys.append(pairs)
    return files, keys


def folder_of(keys: Keys) -> str:
    """The folders of ``keys``, as Hive names them: ``date=2024-01-01/desk=fx``."""
    return os.path.join(*(f"{name}={MISSING if value is None else quote(value, safe='')}" for name, value in keys)) if keys else ""


class WithKeys(Closing):
    """A part's reader with its folders' keys as text columns after its own."""

    def __init__(self, reader, keys: Keys):
        clash = [name for name, _ in keys if name in reader.columns]
        if clash:
            raise SoftnormError(f"{reader.name}: column {clash[0]!r} is both in the file and in its folder's name")
        self._reader, self._keys = reader, keys
        self.names = [name for name, _ in keys]

    def __getattr__(self, attribute):
        return getattr(self._reader, attribute)

    @property
    def columns(self) -> list[str]:
        return [*self._reader.columns, *self.names]

    @property
    def first_row(self) -> int:  # Closing's 0 would hide a partition's
        return self._reader.first_row

    @property
    def labels(self) -> set[str]:
        # Keys label rows, as an index does: never chosen to be normalized (year=2024 looks like a number).
        return {*self._reader.labels, *self.names}

    def close(self) -> None:
        self._reader.close()

    def _with_keys(self, frame):
        import polars as pl

        return frame.with_columns(pl.lit(value, dtype=pl.String).alias(name) for name, value in self._keys)

    def sample(self):
        return self._with_keys(self._reader.sample())

    def batches(self, numeric: Sequence[str] = (), needed: Sequence[str] | None = None, replay: bool = False) -> Iterator[Batch]:
        own = [name for name in numeric if name not in self.names]
        needed = None if needed is None else [name for name in needed if name not in self.names]
        for batch in self._reader.batches(own, needed=needed, replay=replay):
            yield Batch(self._with_keys(batch.frame), batch.first_row)

    def size_in_memory(self, numeric: Sequence[str] = ()) -> int | None:
        return self._reader.size_in_memory([name for name in numeric if name not in self.names])

"""A table in memory as a source, and a sink that collects one: the API's way through the engine.

The Python API normalizes arrays and DataFrames with the same engine as the
command line; in memory, a table is a source of one batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import polars as pl

from softnorm_cli.io.base import Batch, Closing, Layout


class FrameSource(Closing):
    """A polars DataFrame read as one batch; its columns are typed, like Parquet's."""

    format = "memory"
    typed = True  # columns come with their types
    delimiter = None
    metadata: dict[str, str] = {}
    warnings: tuple[str, ...] = ()

    def __init__(self, frame: pl.DataFrame, name: str = "array"):
        self.name = name
        self.frame = frame
        self.columns = frame.columns
        self.schema = frame.schema
        self.labels: set[str] = set()
        self.position = (0, frame.height, "rows")

    def sample(self) -> pl.DataFrame:
        return self.frame.head(10_000)

    def size_in_memory(self, numeric: Sequence[str] = ()) -> int | None:
        return None  # already in memory: nothing to gain by keeping it

    def batches(self, numeric: Sequence[str] = (), needed: Sequence[str] | None = None, replay: bool = False) -> Iterator[Batch]:
        self.position = (self.frame.height, self.frame.height, "rows")
        yield Batch(self.frame if needed is None else self.frame.select(needed), 1)


class FrameSink:
    """Collects the batches written to it into one DataFrame."""

    format = "memory"
    name = "memory"
    layout = Layout("memory")

    def __init__(self) -> None:
        self._frames: list[pl.DataFrame] = []

    def write(self, frame: pl.DataFrame) -> None:
        self._frames.append(frame)

    @property
    def frame(self) -> pl.DataFrame:
        return pl.concat(self._frames) if len(self._frames) != 1 else self._frames[0]

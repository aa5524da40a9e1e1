"""A table stored as many files: a glob or a directory of parts, each of a format softnorm reads.

A dataset is read part by part (each part by the reader of its format, as a
single file is). Its result is one file or stream (:mod:`~softnorm_cli.io.joined`),
or, for ``-o DIR/`` or an existing directory of parts, a directory with one
part per input part, in the same order. The directory is written under a
temporary name beside the target and renamed into place once every part is
written, so a failed run leaves no half-written dataset and an older one
stays whole.

A path with ``://`` is an fsspec URL: its parts are listed and read with the
filesystems the user has installed (``s3://``, ``gs://``, ``memory://``, ...);
each part is copied to a local temporary file for reading.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import re
import shutil
import tempfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from softnorm_cli.errors import SoftnormError, install_hint
from softnorm_cli.io import atomic, formats, hive, sniff
from softnorm_cli.io.base import BatchSize, Dialect
from softnorm_cli.io.partitions import Partition, split, whole_parts
from softnorm_cli.io.source import open_partition, open_source

if TYPE_CHECKING:  # the sink loads polars, which finding a dataset's parts (and completing a command line) does not need
    from softnorm_cli.io.base import Layout
    from softnorm_cli.io.sink import Sink

#: Output part names: part-00000.parquet, part-00001.parquet, ...
PART = "part-{:05d}{}"
PART_NAME = re.compile(r"part-(\d{5,})(" + "|".join(re.escape(e) for e in sorted(set(formats.PART_EXTENSIONS.values()))) + ")")


@dataclass(frozen=True)
class Dataset:
    """The parts of a table, in order, and how to open each."""

    name: str  # as the user gave it
    parts: tuple[str, ...]  # paths as the user would write them (relative to where softnorm started), or URLs
    format: str | None = None  # --from; else each part's extension (Parquet is known by its bytes)
    dialect: Dialect = Dialect()
    batch: BatchSize = BatchSize()
    base: str = field(default_factory=os.getcwd)  # the directory relative paths start from
    #: Each part's keys from its folders' names, for a Hive-style directory (:mod:`~softnorm_cli.io.hive`); else empty.
    keys: tuple[hive.Keys, ...] = ()
    #: What is read apart, in order (:mod:`~softnorm_cli.io.partitions`): by default each part whole.
    partitions: tuple[Partition, ...] = ()
    #: Why a large part is read whole, for the summary.
    whole_because: tuple[str, ...] = ()

    @property
    def pieces(self) -> tuple[Partition, ...]:
        """The partitions, or each part whole."""
        return self.partitions or whole_parts(len(self.parts))

    @property
    def local_bytes(self) -> int | None:
        """The bytes of its files (None for URLs: not known without asking)."""
        if any(_is_url(part) for part in self.parts):
            return None
        return sum(os.path.getsize(os.path.join(self.base, part)) for part in self.parts)

    def partitioned(self, size: int, run) -> Dataset:
        """This dataset with its large files as partitions of about ``size`` (:func:`~softnorm_cli.io.partitions.split`;
        ``run(fn, items)``: ``[fn(item) for item in items]``, perhaps by workers)."""
        # Files of URLs are copied whole to be read; Excel, JSON and Arrow are read whole.
        if any(_is_url(part) for part in self.parts) or (self.format or "") in ("excel", "json", "jsonl", "arrow"):
            return self
        paths = [os.path.join(self.base, part) for part in self.parts]
        found, reasons = split(paths, lambda part: self.open(part, keys=False), size, run)
        if len(found) == len(self.parts) and not reasons:
            return self
        return dataclasses.replace(self, partitions=tuple(found), whole_because=tuple(reasons))

    @contextmanager
    def open(self, index: int, partition: Partition | None = None, keys: bool = True):
        """The reader of part ``index`` (a context manager), or of one of its partitions;
        ``keys``: with the columns of its folders' names."""
        part = self.parts[index]
        if not _is_url(part):
            # From where softnorm started: a worker of a cluster has a working directory of its own.
            path = os.path.join(self.base, part)
            if partition is None or partition.whole:
                opened = open_source(path, self.format, self.dialect, self.batch, part)
            else:
                opened = open_partition(path, self.format, self.dialect, self.batch, part, partition)
            with opened as reader:
                yield hive.WithKeys(reader, self.keys[index]) if keys and self.keys and self.keys[index] else reader
            return
        import fsspec

        # The copy keeps the part's extensions, which tell its format and compression.
        fd, local = tempfile.mkstemp(prefix="softnorm-", suffix="".join(PurePosixPath(part).suffixes))
        try:
            with os.fdopen(fd, "wb") as out, fsspec.open(part, "rb") as remote:
                shutil.copyfileobj(remote, out, 1 << 20)
            with open_source(local, self.format, self.dialect, self.batch, part) as reader:
                yield reader
        finally:
            os.unlink(local)


def find(path: str, fmt: str | None = None, dialect: Dialect = Dialect(), batch: BatchSize = BatchSize()) -> Dataset | None:
    """The dataset ``path`` names when it is a glob, a directory or a URL; None for one local file or stdin."""
    if path == "-":
        return None
    if _is_url(path):
        parts = _remote_parts(path)
    elif os.path.isdir(path):
        partitioned = hive.hive_parts(path)
        if partitioned is not None:
            parts, keys = partitioned
            if not parts:
                raise SoftnormError(f"{path}: no files of a format softnorm reads in its key=value folders")
            return _checked(path, parts, fmt, dialect, batch, tuple(keys))
        parts = _in_directory(path)
    elif _is_glob(path):
        parts = sorted(p for p in glob.glob(path) if os.path.isfile(p))
        if not parts:
            raise SoftnormError(f"{path}: matches no file")
    else:
        return None
    if not parts:
        raise SoftnormError(f"{path}: no files of a format softnorm reads in it (CSV, TSV, Parquet, Arrow, JSON Lines, Excel)")
    return _checked(path, parts, fmt, dialect, batch)


def _checked(path: str, parts: list[str], fmt: str | None, dialect: Dialect, batch: BatchSize, keys: tuple = ()) -> Dataset:
    """The dataset of ``parts``, which must all be of one format."""
    formats = [fmt or sniff.format_from_path(part) for part in parts]
    if len(set(formats)) > 1 or None in formats:
        raise SoftnormError(f"{path}: parts of one dataset must be of one format {_mixed(parts, formats)}")
    return Dataset(path, tuple(parts), fmt, dialect, batch, keys=keys)


def _mixed(parts: list[str], formats: list[str | None]) -> str:
    """What formats the parts are of, and what reads them: a glob for each format, or --from for unknown extensions.

    --from cannot separate two known formats: a Parquet part is read as Parquet whatever it says.
    """
    counts = Counter(formats)
    found = ", ".join(f"{count} {kind or 'unknown'}" for kind, count in sorted(counts.items(), key=lambda kc: kc[0] or "~"))
    known = [kind for kind in counts if kind is not None]
    if len(known) < 2:
        return f"(found {found}); use --from to say which"
    most = max(known, key=counts.__getitem__)
    example = parts[formats.index(most)]
    suffixes = PurePosixPath(example).suffixes
    extension = "".join(suffixes[-2:] if suffixes[-1].lower() in sniff.COMPRESSIONS else suffixes[-1:])
    glob_of_one = os.path.join(os.path.dirname(example), "*" + extension)
    return f"(found {found}); read one format at a time with a glob, e.g. '{glob_of_one}'"


def names_many(path: str) -> bool:
    """Whether ``path`` names a dataset (a glob, a directory or a URL), without listing it."""
    return path != "-" and (_is_url(path) or os.path.isdir(path) or _is_glob(path))


def writes_parts(output: str | None) -> bool:
    """Whether ``-o output`` asks for a directory of parts: a path that ends in a slash, or an existing directory."""
    return output not in (None, "-") and (output.endswith(("/", os.sep)) or os.path.isdir(output))


def _is_glob(path: str) -> bool:
    # A file whose name has glob characters ("scores[1].csv") is that file.
    return glob.has_magic(path) and not os.path.exists(path)


def _is_url(path: str) -> bool:
    return "://" in path


def _in_directory(path: str) -> list[str]:
    # Files that start with "." or "_" are a writer's bookkeeping (_SUCCESS, _metadata, .crc), not data.
    names = sorted(n for n in os.listdir(path) if not n.startswith((".", "_")) and sniff.format_from_path(n))
    return [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]


def _remote_parts(url: str) -> list[str]:
    try:
        import fsspec
    except ImportError:
        raise SoftnormError(f"{url}: reading URLs needs fsspec ({install_hint('dask', 'fsspec')})") from None
    fs, root = fsspec.core.url_to_fs(url)
    if glob.has_magic(root):
        found = fs.glob(root)
    elif fs.isdir(root):
        found = [p for p in fs.ls(root, detail=False) if not os.path.basename(p).startswith((".", "_"))]
    else:
        found = [root]
    files = sorted(p for p in found if sniff.format_from_path(p) and fs.isfile(p))
    return [fs.unstrip_protocol(p) for p in files]


class PartsOutput:
    """A directory of parts, written under a temporary name beside ``path`` and renamed into place on success.

    An existing directory is replaced only if it holds nothing but parts
    (an earlier run's output): anything else in it is refused, not deleted.
    """

    def __init__(self, path: str, layout: Layout, keys: tuple[hive.Keys, ...] = ()):
        self.path = path.rstrip("/") or path
        self.name = self.path
        self.layout = layout
        self.extension = formats.PART_EXTENSIONS[layout.format]
        self.tmp: str | None = None
        self.keys = keys  # a Hive-style input's: each part goes into its folders, without their columns

    def __enter__(self) -> PartsOutput:
        if os.path.exists(self.path):
            if not os.path.isdir(self.path):
                raise SoftnormError(f"{self.path}: exists and is not a directory; a dataset is written as a directory of parts")
            others = [n for n in _files(self.path) if not PART_NAME.fullmatch(os.path.basename(n))]
            if others:
                raise SoftnormError(f"{self.path}: holds other files than parts ({others[0]}, ...); choose another -o")
        self.tmp = atomic.temporary_directory(self.path)
        return self

    def sink(self, index: int, part: int | None = None) -> Sink:
        """Where output part ``index`` is written: of input part ``part`` (by default the same), or of a partition of it."""
        from softnorm_cli.io.sink import Sink

        if not self.keys:
            return Sink(os.path.join(self.tmp, PART.format(index, self.extension)), self.layout)
        keys = self.keys[index if part is None else part]
        folder = os.path.join(self.tmp, hive.folder_of(keys))
        os.makedirs(folder, exist_ok=True)
        dropped = [name for name, _ in keys]
        return Sink(os.path.join(folder, PART.format(index, self.extension)), self.layout, dropped=dropped)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        for name in _files(self.tmp):
            if not PART_NAME.fullmatch(os.path.basename(name)):  # what a killed attempt at a part left behind
                os.unlink(os.path.join(self.tmp, name))
        atomic.replace_directory(self.tmp, self.path)


def _files(directory: str) -> list[str]:
    """The files under ``directory``, in its key=value folders too, relative to it."""
    found = []
    for folder, _, names in os.walk(directory):
        for name in names:
            found.append(os.path.relpath(os.path.join(folder, name), directory))
    return found

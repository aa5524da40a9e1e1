"""Writing Arrow IPC, a file or a stream, batch by batch, and joining parts into one (see :mod:`softnorm_cli.io.arrow`)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import polars as pl
import pyarrow as pa

from softnorm_cli.io.arrow.reader import SCHEMA_KEY, polars_type, record_batches
from softnorm_cli.io.base import Layout

#: What ``--compression`` names that IPC buffers can be compressed with (others: uncompressed).
COMPRESSIONS = {"zstd": "zstd", "lz4": "lz4"}


def write_table(batches: Iterator[pl.DataFrame], schema: pl.Schema, stream, layout: Layout) -> None:
    """The batches as one Arrow IPC file or stream (``layout.stream``), each written as it comes."""
    out = _Writer(stream, output_schema(schema, layout.metadata), layout)
    for frame in batches:
        out.write(frame.to_arrow())
    out.close()


def join_parts(parts: list[tuple[str, str]], stream, layout: Layout) -> None:
    """Every record batch of ``parts`` (Arrow files or streams), in order, as one IPC file or stream."""
    from softnorm_cli.io.joined import _common_schema, _other_columns

    schemas = [_open_part(path).schema for path, _ in parts]
    for schema, (_, source) in zip(schemas[1:], parts[1:]):
        if schema.names != schemas[0].names:
            raise _other_columns(source, parts[0][1])
    # The first part's schema carries the metadata kept from the input.
    out = _Writer(stream, _common_schema(schemas).with_metadata(schemas[0].metadata), layout)
    for path, _ in parts:
        for batch in record_batches(_open_part(path), []):
            out.write(pa.Table.from_batches([batch]))
    out.close()


def output_schema(schema: pl.Schema, metadata: dict[str, str]) -> pa.Schema:
    """The Arrow schema of output of polars ``schema``: a column polars holds as it held the
    input's (kept in ``metadata``) gets the input's Arrow type back (``string``, not
    ``large_string``; its dictionary's index type), with the input's key-value metadata."""
    written = pl.DataFrame(schema=schema).to_arrow().schema
    stored = _stored_schema(metadata.get(SCHEMA_KEY))
    fields = []
    for field in written:
        before = stored.field(field.name) if stored is not None and field.name in stored.names else None
        if before is not None and before.type != field.type and polars_type(before) == schema[field.name]:
            field = before
        fields.append(field)
    kept = {k: v for k, v in metadata.items() if k != SCHEMA_KEY}
    return pa.schema(fields, metadata=kept or None)


def _stored_schema(text: str | None) -> pa.Schema | None:
    if not text:
        return None
    try:
        return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))
    except (ValueError, pa.ArrowException):
        return None  # not one this version reads: polars' types it is


def _open_part(path: str):
    """A part this module wrote: a file or a stream, told by its first bytes."""
    with open(path, "rb") as f:
        head = f.read(6)
    source = pa.memory_map(path)
    return pa.ipc.open_file(source) if head == b"ARROW1" else pa.ipc.open_stream(source)


class _Writer:
    """Tables of ``schema`` to an IPC file or stream, cast to it, a dictionary's new values as deltas."""

    def __init__(self, stream, schema: pa.Schema, layout: Layout):
        options = pa.ipc.IpcWriteOptions(compression=COMPRESSIONS.get(layout.compression), emit_dictionary_deltas=True)
        self._schema = schema
        self._dictionaries = _Dictionaries(schema)
        self._out = (pa.ipc.new_stream if layout.stream else pa.ipc.new_file)(stream, schema, options=options)

    def write(self, table: pa.Table) -> None:
        if not table.schema.equals(self._schema, check_metadata=False):
            table = table.cast(self._schema)
        for batch in table.to_batches():
            self._out.write_batch(self._dictionaries.delta(batch))

    def close(self) -> None:
        self._out.close()


class _Dictionaries:
    """The values each dictionary column has had so far, so that every batch's dictionary is the
    one before with new values after it: a delta, which an IPC file allows (a new dictionary it does not)."""

    def __init__(self, schema: pa.Schema):
        self._values: dict[int, pa.Array | None] = {i: None for i, f in enumerate(schema) if pa.types.is_dictionary(f.type)}

    def delta(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if not self._values:
            return batch
        import pyarrow.compute as pc  # only for dictionaries: its import takes a while

        columns = list(batch.columns)
        for i, seen in self._values.items():
            column = columns[i]
            if seen is None or column.dictionary.equals(seen):
                self._values[i] = column.dictionary
                continue
            new = column.dictionary.filter(pc.invert(pc.is_in(column.dictionary, value_set=seen)))
            values = pa.concat_arrays([seen, new]) if len(new) else seen
            indices = pc.take(pc.index_in(column.dictionary, value_set=values), column.indices).cast(column.indices.type)
            columns[i] = pa.DictionaryArray.from_arrays(indices, values)
            self._values[i] = values
        return pa.RecordBatch.from_arrays(columns, schema=batch.schema)

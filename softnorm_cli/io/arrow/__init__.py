"""Arrow IPC, the file format (``.arrow``, ``.feather``, ``.ipc``) and the stream format (``.arrows``, pipes), by record batch.

A file is memory-mapped and read a record batch at a time; a stream is read
a message at a time, from a file, a compressed file or standard input. The
input's record batches, whatever their size, are joined or cut into batches
of about :class:`~softnorm_cli.io.base.BatchSize`.

Standard input is read once: its first record batches are read when it is
opened (the sample), and a pass that another will follow copies the bytes
aside as pyarrow reads them, those of the sample included. The file format
keeps its index at its end, so on standard input or compressed it is copied
aside first (:func:`~softnorm_cli.io.source.open_source`).

Output is the file format, or the stream format on standard output and for
``.arrows`` names. Columns keep the types they were read with (the input's
Arrow schema, also what a Parquet file stores, travels in the metadata as
``ARROW:schema``); a dictionary-encoded column is a polars Categorical in
between, written back as a dictionary whose values grow batch by batch (an
IPC file allows deltas, not replaced dictionaries).
"""

from softnorm_cli.io.arrow.reader import ArrowReader
from softnorm_cli.io.arrow.writer import join_parts, write_table

__all__ = ["ArrowReader", "join_parts", "write_table"]

"""JSON Lines and JSON arrays of objects: reading in batches, and writing. (To be built.)"""

from __future__ import annotations

from softnorm_cli.errors import SoftnormError


def write_table(batches, schema, stream, layout) -> None:
    raise SoftnormError("writing JSON is not built yet")


def join_parts(parts, stream, layout) -> None:
    raise SoftnormError("joining JSON parts is not built yet")

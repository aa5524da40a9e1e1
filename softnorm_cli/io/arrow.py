"""Arrow IPC, the file and the stream format: reading and writing by record batch. (To be built.)"""

from __future__ import annotations

from softnorm_cli.errors import SoftnormError


class ArrowReader:
    def __init__(self, source, kind: str, name: str, batch) -> None:
        raise SoftnormError(f"{name}: reading Arrow IPC is not built yet")


def write_table(batches, schema, stream, layout) -> None:
    raise SoftnormError("writing Arrow IPC is not built yet")


def join_parts(parts, stream, layout) -> None:
    raise SoftnormError("joining Arrow IPC parts is not built yet")

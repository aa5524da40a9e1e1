"""JSON Lines (``.jsonl``, ``.ndjson``) and JSON arrays of objects (``.json``), in and out.

:mod:`.reader` reads either in batches (an array cut into items by
:mod:`.array`), with the kinds of the keys and the exact parse in
:mod:`.values`; :mod:`.writer` writes an object a line, or one array, and
joins a dataset's parts.
"""

from softnorm_cli.io.json.reader import JsonReader
from softnorm_cli.io.json.writer import join_parts, write_table

__all__ = ["JsonReader", "join_parts", "write_table"]

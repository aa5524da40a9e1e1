"""The table formats softnorm reads and writes: their names, their extensions, and what each keeps.

Kept free of any table library: the command line's choices and a dataset's
listing come from here before polars loads.
"""

from __future__ import annotations

#: The names ``--from`` and ``--to`` take.
FORMATS = ("csv", "tsv", "parquet", "arrow", "jsonl", "json", "excel")

#: How messages name each format.
NAMES = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "arrow": "Arrow", "jsonl": "JSON Lines", "json": "JSON", "excel": "Excel"}

#: The format each extension implies (after a compression's extension, if any).
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow",  # Arrow's name for its stream format
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xls": "excel",
    ".ods": "excel",
}

#: The extension of each format's output parts (``part-00000.jsonl``).
PART_EXTENSIONS = {
    "csv": ".csv",
    "tsv": ".tsv",
    "parquet": ".parquet",
    "arrow": ".arrow",
    "jsonl": ".jsonl",
    "json": ".json",
    "excel": ".xlsx",
}

#: Formats that are not text: never written to a terminal.
BINARY = frozenset({"parquet", "arrow", "excel"})

#: Output formats that store types: a column read as text is written with the
#: narrowest type that holds its values, and integer results stay integers.
TYPED = frozenset({"parquet", "arrow", "jsonl", "json", "excel"})

#: Formats whose parts are joined by putting their bytes one after another (under one header).
CONCATENATED = frozenset({"csv", "tsv", "jsonl"})

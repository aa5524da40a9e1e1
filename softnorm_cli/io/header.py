"""The names of an input's columns, from as little of it as tells them.

Shell completion asks at every Tab, so nothing is parsed beyond a text's
header line or a Parquet file's footer, and no table library is loaded.
"""

from __future__ import annotations

import csv
import io

from softnorm_cli.io import sniff
from softnorm_cli.io.base import STDIO, Dialect
from softnorm_cli.io.dataset import find
from softnorm_cli.io.delimited.decode import TextInput
from softnorm_cli.io.delimited.dialect import sniff_delimiter
from softnorm_cli.io.row_groups import column_names as parquet_column_names


def column_names(path: str, fmt: str | None = None, dialect: Dialect = Dialect()) -> list[str]:
    """The columns of the file at ``path``, or of the first part of the dataset it names.

    Raises ``OSError`` or :class:`~softnorm_cli.errors.SoftnormError` when
    they cannot be told; standard input and URLs have none to tell here.
    """
    if path == STDIO or "://" in path:
        return []
    dataset = find(path, fmt, dialect)
    if dataset is not None:
        path = dataset.parts[0]
    with open(path, "rb") as f:
        head = f.read(8)
    if sniff.is_parquet(head):
        return parquet_column_names(path)
    if sniff.arrow_kind(head) is not None:  # its schema is a flatbuffer that only pyarrow reads
        return []
    if sniff.workbook(head, path, path):
        from softnorm_cli.io.excel.book import column_names as workbook_column_names

        return workbook_column_names(path, dialect)
    text = TextInput(path, sniff.compression(head, path), dialect.encoding, dialect.skip_rows)
    try:
        head, complete = text.head, text.complete
    finally:
        text.close()
    if sniff.is_parquet(head):  # compressed Parquet: its footer is at the end of the whole stream
        return []
    if sniff.json_start(head) == "lines":  # the keys of the first object (an array's are not read here)
        import json

        try:
            first = json.loads(head.split(b"\n", 1)[0])
        except ValueError:
            return []
        return list(first) if isinstance(first, dict) else []
    if sniff.json_start(head):
        return []
    text_format = fmt or sniff.format_from_path(path) or "csv"
    delimiter = dialect.delimiter or ("\t" if text_format == "tsv" else sniff_delimiter(head, complete))
    first = next(csv.reader(io.StringIO(head.decode("utf-8", errors="replace")), delimiter=delimiter), [])
    return first if dialect.header else [str(i) for i in range(1, len(first) + 1)]

"""The typed formats of the fuzzer (see fuzzcases.py): a table of Python values written
as Arrow IPC, JSON Lines, JSON or a workbook by an independent writer, damaged now and
then, and typed output read back.

A typed table is what ``fuzzcases._parquet_table`` makes: columns of floats
(with None, NaN and infinities), ints, text and identifiers. Each format
holds what it can of it, and the cells it cannot hold are changed here, in
``case.rows``, before the oracle looks: a workbook has no NaN, no infinity
and no empty string (an empty cell is missing).
"""

from __future__ import annotations

import io
import json
import math

#: Input formats made from a typed table, and their file names (None: standard input).
TYPED_SOURCES = {
    "arrow": "in.arrow",
    "arrow-stream": "in.arrows",
    "stdin-arrow": None,
    "jsonl": "in.jsonl",
    "stdin-jsonl": None,
    "json": "in.json",
    "xlsx": "in.xlsx",
}
#: What each source holds, as the oracle names the content.
CONTENT = {
    "arrow": "arrow", "arrow-stream": "arrow", "stdin-arrow": "arrow",
    "jsonl": "jsonl", "stdin-jsonl": "jsonl", "json": "json", "xlsx": "excel",
}
#: Output formats whose cells come back as Python values.
TYPED_OUTPUTS = ("parquet", "arrow", "jsonl", "json")


def typed_bytes(rng, case, source: str) -> bytes:
    """The bytes of ``case``'s typed table in the format of ``source``, sometimes damaged."""
    content = CONTENT[source]
    if content == "arrow":
        return _arrow(rng, case, stream=source != "arrow" or rng.chance(0.2))
    if content == "excel":
        return _workbook(rng, case)
    return _json(rng, case, lines=content == "jsonl")


def _arrow_table(case):
    import pyarrow as pa

    types = {"float": pa.float64(), "int": pa.int64(), "text": pa.string(), "id": pa.string()}
    columns = list(zip(*case.rows)) if case.rows else [[] for _ in case.names]
    arrays = [pa.array(list(col), type=types[kind]) for col, kind in zip(columns, case.kinds)]
    return pa.Table.from_arrays(arrays, names=case.names)


def _arrow(rng, case, stream: bool) -> bytes:
    import pyarrow as pa

    table = _arrow_table(case)
    if case.rows and rng.chance(0.3):  # text as a dictionary, as pandas' categoricals are written
        for i, kind in enumerate(case.kinds):
            if kind == "text":
                table = table.set_column(i, table.field(i).name, table.column(i).dictionary_encode())
    sink = io.BytesIO()
    writer = pa.ipc.new_stream if stream else pa.ipc.new_file
    with writer(sink, table.schema) as out:
        for batch in table.to_batches(max_chunksize=rng.pick((1, 2, 5, 1000))):
            out.write_batch(batch)
    data = sink.getvalue()
    if rng.chance(0.05):
        case.problems.append("truncated Arrow " + ("stream" if stream else "file"))
        data = data[: rng.randint(8, len(data) - 8)]
    return data


def _json_value(value):
    return value  # NaN and infinities go out as Python's json writes them: NaN, Infinity


def _json(rng, case, lines: bool) -> bytes:
    if not case.rows:
        case.problems.append("JSON without a record: no columns")
    floats = [j for j, kind in enumerate(case.kinds) if kind == "float"]
    if floats and case.rows and rng.chance(0.15):
        # Mixed types: a number field holding a string in one record.
        j = rng.pick(floats)
        case.rows[rng.randrange(len(case.rows))][j] = rng.pick(("abc", "1.5", "NA", "", "1e3", "null"))
        case.kinds[j] = "mixed"
    records = [dict(zip(case.names, row)) for row in case.rows]
    if rng.chance(0.1) and records:
        # A key missing from a record: a missing value in its row.
        i, name = rng.randrange(len(records)), rng.pick(case.names)
        del records[i][name]
        case.rows[i][case.names.index(name)] = None
        if all(name not in r for r in records):
            case.problems.append("a key in no record")
    texts = [json.dumps(r, ensure_ascii=rng.chance(0.5)) for r in records]
    if rng.chance(0.05) and texts:
        at = rng.randrange(len(texts))
        texts[at] = rng.pick(("[1, 2]", '"text"', "{\"a\": 1", "42", "nul"))
        case.problems.append(f"record {at + 1} is not a JSON object")
    if lines:
        ends = "\r\n" if rng.chance(0.1) else "\n"
        text = ends.join(texts) + (ends if rng.chance(0.8) else "")
    else:
        text = "[" + ",\n".join(texts) + "]"
        if rng.chance(0.03):
            text = text[:-1]
            case.problems.append("JSON array without its end")
    return text.encode("utf-8")


def _workbook(rng, case) -> bytes:
    import xlsxwriter

    for row in case.rows:  # what a workbook cannot hold is missing
        for j, cell in enumerate(row):
            if cell == "" or isinstance(cell, float) and not math.isfinite(cell):
                row[j] = None
    while case.rows and all(cell is None for cell in case.rows[-1]):
        case.rows.pop()  # a sheet ends at its last cell: empty rows after it are not rows
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "nan_inf_to_errors": False})
    sheet = book.add_worksheet(rng.pick(("Sheet1", "Data", "Résumé")))
    for j, name in enumerate(case.names):
        sheet.write_string(0, j, name)
    for i, row in enumerate(case.rows, start=1):
        for j, cell in enumerate(row):
            if isinstance(cell, str):
                sheet.write_string(i, j, cell)
            elif cell is not None:
                sheet.write_number(i, j, cell)
    book.close()
    data = buffer.getvalue()
    if rng.chance(0.05):
        case.problems.append("truncated workbook")
        data = data[: rng.randint(4, len(data) - 1)]
    return data


def read_typed(data: bytes, fmt: str) -> tuple[list[str], list[list]]:
    """The header and rows of typed output, as Python values; ValueError if unreadable."""
    if fmt in ("jsonl", "json"):
        text = data.decode("utf-8")
        records = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines() if line.strip()]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError("not a list of JSON objects")
        names = list(records[0]) if records else []
        return names, [[r.get(n) for n in names] for r in records]
    import pyarrow as pa
    import pyarrow.parquet as pq

    if fmt == "parquet":
        table = pq.read_table(io.BytesIO(data))
    else:
        try:
            table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
        except pa.ArrowInvalid:
            table = pa.ipc.open_stream(pa.BufferReader(data)).read_all()
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return table.column_names, [list(r) for r in zip(*columns)] if columns else [[] for _ in range(table.num_rows)]

"""How large a Parquet file's row groups are, and what its columns are called, read from its footer.

The reader needs only one figure per row group (its decoded size) to
choose how to read the file, and polars does not tell it. pyarrow does, but
importing it takes about 50 ms, a tenth of a whole run over a million-row
file; shell completion needs only the columns' names, at every Tab. So the
footer's few fields are read here. The footer is Thrift's
compact protocol (the Parquet format's ``FileMetaData``): fields this reader
does not need are skipped by their type, whatever they hold.
"""

from __future__ import annotations

import struct

from softnorm_cli.errors import MalformedInputError

_MAGIC = b"PAR1"
# Compact protocol types.
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)
# FileMetaData.schema and .row_groups; RowGroup.total_byte_size (the decoded size of its columns);
# SchemaElement.name and .num_children.
_SCHEMA, _ROW_GROUPS, _TOTAL_BYTE_SIZE = 2, 4, 2
_NAME, _NUM_CHILDREN = 4, 5


def row_group_sizes(path: str) -> list[int]:
    """The decoded size in bytes of each row group of the Parquet file at ``path``."""
    return _parsed(path, _Compact.row_group_sizes)


def column_names(path: str) -> list[str]:
    """The names of the top-level columns of the Parquet file at ``path``, in order."""
    return _parsed(path, _Compact.column_names)


def _parsed(path: str, parse):
    """What ``parse`` reads from the footer of the Parquet file at ``path``."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        if size < 12:
            raise MalformedInputError(f"{path}: not a readable Parquet file (too short)")
        f.seek(size - 8)
        length, magic = struct.unpack("<I4s", f.read(8))
        if magic != _MAGIC or length > size - 12:
            raise MalformedInputError(f"{path}: not a readable Parquet file (no footer)")
        f.seek(size - 8 - length)
        footer = f.read(length)
    try:
        return parse(_Compact(footer))
    except (IndexError, ValueError, RecursionError) as e:  # a name that is not UTF-8 is a ValueError too
        raise MalformedInputError(f"{path}: not a readable Parquet file (damaged footer: {e})") from None


class _Compact:
    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    def row_group_sizes(self) -> list[int]:
        sizes: list[int] = []
        for field, kind in self._fields():
            if field == _ROW_GROUPS and kind == _LIST:
                count, element = self._list_header()
                if element != _STRUCT:
                    raise ValueError("row groups that are not structs")
                sizes.extend(self._row_group_size() for _ in range(count))
            else:
                self._skip(kind)
        return sizes

    def column_names(self) -> list[str]:
        for field, kind in self._fields():
            if field == _SCHEMA and kind == _LIST:
                count, element = self._list_header()
                if element != _STRUCT:
                    raise ValueError("schema elements that are not structs")
                return _top_level([self._schema_element() for _ in range(count)])
            self._skip(kind)
        raise ValueError("no schema")

    def _schema_element(self) -> tuple[str, int]:
        name, children = "", 0
        for field, kind in self._fields():
            if field == _NAME and kind == _BINARY:
                length = self._varint()
                name = self.data[self.at:self.at + length].decode("utf-8")
                self.at += length
            elif field == _NUM_CHILDREN and kind == _I32:
                children = self._zigzag()
            else:
                self._skip(kind)
        return name, children

    def _row_group_size(self) -> int:
        size = 0
        for field, kind in self._fields():
            if field == _TOTAL_BYTE_SIZE and kind == _I64:
                size = self._zigzag()
            else:
                self._skip(kind)
        return size

    def _fields(self):
        """The (field id, type) of each field of the struct that starts here, up to its end."""
        field = 0
        while True:
            header = self._byte()
            kind = header & 0x0F
            if kind == _STOP:
                return
            delta = header >> 4
            field = field + delta if delta else self._zigzag()
            yield field, kind

    def _skip(self, kind: int) -> None:
        if kind in (_TRUE, _FALSE):
            return
        if kind == _BYTE:
            self.at += 1
        elif kind in (_I16, _I32, _I64):
            self._varint()
        elif kind == _DOUBLE:
            self.at += 8
        elif kind == _BINARY:
            length = self._varint()  # read before adding: the read moves the position
            self.at += length
        elif kind in (_LIST, _SET):
            count, element = self._list_header()
            for _ in range(count):
                self._element(element)
        elif kind == _MAP:
            count = self._varint()
            if count:
                types = self._byte()
                for _ in range(count):
                    self._element(types >> 4)
                    self._element(types & 0x0F)
        elif kind == _STRUCT:
            for _, inner in self._fields():
                self._skip(inner)
        else:
            raise ValueError(f"unknown type {kind}")

    def _element(self, kind: int) -> None:
        # A boolean inside a list or a map is a byte of its own.
        if kind in (_TRUE, _FALSE):
            self.at += 1
        else:
            self._skip(kind)

    def _list_header(self) -> tuple[int, int]:
        header = self._byte()
        count = header >> 4
        return (self._varint() if count == 15 else count), header & 0x0F

    def _byte(self) -> int:
        value = self.data[self.at]
        self.at += 1
        return value

    def _varint(self) -> int:
        value = shift = 0
        while True:
            byte = self._byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7

    def _zigzag(self) -> int:
        value = self._varint()
        return (value >> 1) ^ -(value & 1)


def _top_level(elements: list[tuple[str, int]]) -> list[str]:
    """The root's children among the schema's elements, which list a tree depth first as (name, children)."""
    if not elements:
        raise ValueError("an empty schema")
    names, at = [], 1
    for _ in range(elements[0][1]):
        names.append(elements[at][0])
        pending = elements[at][1]  # the column's nested fields follow it: skip them
        at += 1
        while pending:
            pending += elements[at][1] - 1
            at += 1
    return names

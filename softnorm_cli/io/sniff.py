"""Telling what an input is from its first bytes: format, compression, encoding, delimiter.

Names can lie (Parquet bytes in ``data.csv``, a gzip stream on a pipe), so
the content decides wherever it can; a file's extension is the fallback.
"""

from __future__ import annotations

import codecs
import re
import struct
from pathlib import Path

from softnorm_cli.errors import SoftnormError
from softnorm_cli.io.formats import EXTENSIONS

#: Compression by extension, in pyarrow's codec names.
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4", ".br": "brotli"}
PARQUET_MAGIC = b"PAR1"
#: An Arrow IPC file starts with ``ARROW1``; a stream with a message's continuation marker.
ARROW_FILE_MAGIC = b"ARROW1"
ARROW_STREAM_MAGIC = b"\xff\xff\xff\xff"
FEATHER_V1_MAGIC = b"FEA1"  # Feather before version 2, which is Arrow IPC
#: Compressed streams recognised by their first bytes (brotli has no magic).
_COMPRESSION_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bz2",
    b"\x04\x22\x4d\x18": "lz4",
}
#: Files that are tables, but not in a format softnorm reads: what each is, and what to do instead.
_OTHER_FORMATS = {
    "zip": ("a zip archive", "unzip it and give softnorm the files inside"),
}
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office documents
ZIP_MAGIC = b"PK\x03\x04"
_ZIP_ENTRY = struct.Struct("<4sHHHHHIIIHH")  # a zip's local file header, before each member
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# JSON Lines' first object opens with a key (or closes), an array with an object, an array, a
# string (or closes): a header of bracketed names, such as "[a],b", does not open that way.
_JSON_START = re.compile(rb'\s*(\{\s*["}]|\[\s*[\[{"\]])')
#: Byte-order marks, longest first: UTF-32's starts like UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def format_from_path(path: str) -> str | None:
    """The format a file name implies (``data.csv.gz`` is CSV), or None."""
    return EXTENSIONS.get(_table_suffix(path))


def _table_suffix(path: str) -> str | None:
    """The extension that names a file's table, past a compression's (``.csv`` of ``data.csv.gz``), lower case."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes.pop()
    return suffixes[-1] if suffixes else None


def compression_from_path(path: str) -> str | None:
    return COMPRESSIONS.get(Path(path).suffix.lower())


def compression(head: bytes, path: str | None = None) -> str | None:
    """The compression of a stream starting with ``head``: by its magic bytes, or
    for brotli, which has none, by the extension of ``path``."""
    codec = next((codec for magic, codec in _COMPRESSION_MAGIC.items() if head.startswith(magic)), None)
    if codec is None and path is not None and compression_from_path(path) == "brotli":
        codec = "brotli"
    return codec


def is_parquet(head: bytes) -> bool:
    return head.startswith(PARQUET_MAGIC)


def arrow_kind(head: bytes) -> str | None:
    """``"file"`` or ``"stream"`` for the two Arrow IPC formats, by their first bytes; else None."""
    if head.startswith(ARROW_FILE_MAGIC):
        return "file"
    if head.startswith(ARROW_STREAM_MAGIC):
        return "stream"
    return None


def writes_arrow_stream(path: str) -> bool:
    """Whether Arrow output to ``path`` is the stream format: on standard output, or to an ``.arrows`` name."""
    return path == "-" or _table_suffix(path) == ".arrows"


def byte_order_mark(head: bytes) -> tuple[str | None, int]:
    """The encoding a byte-order mark at the start of ``head`` declares, and the mark's length."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    return None, 0


def check_text(head: bytes, name: str) -> None:
    """Refuse input that is not text: it would parse into garbage, not fail."""
    if b"\x00" in head:
        raise SoftnormError(
            f"{name}: not text (it holds binary data); "
            "if it is text in another encoding, name it with --encoding (e.g. utf-16)"
        )


def workbook(head: bytes, name: str, path: str | None = None) -> str | None:
    """``"xlsx"``, ``"xls"`` or ``"ods"`` for a spreadsheet, by its first bytes; None for anything
    else but a zip archive, which is refused, naming what it is and what to do.

    ``path``: the file ``head`` starts, whose zip listing is then read whole;
    on a pipe only the members within ``head`` are seen.
    """
    if head.startswith(_OLE2_MAGIC):
        return "xls"
    if not head.startswith(ZIP_MAGIC):
        return None
    names, mimetype = _zip_listing(head, path)
    if mimetype.startswith(_ODS_MIMETYPE):
        return "ods"
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsx"
    raise _other_format(name, "zip")


def json_start(head: bytes) -> str | None:
    """``"lines"`` for text that starts as JSON Lines (an object), ``"array"`` for a JSON array; else None."""
    found = _JSON_START.match(head[len(codecs.BOM_UTF8) :] if head.startswith(codecs.BOM_UTF8) else head)
    if found is None:
        return None
    return "lines" if found.group(1).startswith(b"{") else "array"


def _other_format(name: str, kind: str) -> SoftnormError:
    what, instead = _OTHER_FORMATS[kind]
    return SoftnormError(f"{name}: is {what}; softnorm reads CSV, TSV, Parquet, Arrow, JSON Lines and Excel: {instead}")


def _zip_listing(head: bytes, path: str | None) -> tuple[set[str], bytes]:
    """The member names of a zip, and the start of its ``mimetype`` member (OpenDocument's) if it has one."""
    if path is not None:
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
                return names, mimetype
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError):
            # Damaged or cut short (its directory is at the end): what its first members show.
            with open(path, "rb") as f:
                head = f.read(1 << 16)
    names, mimetype, at = set(), b"", 0
    while head.startswith(ZIP_MAGIC, at) and at + _ZIP_ENTRY.size <= len(head):
        _, _, flags, _, _, _, _, size, _, name_length, extra_length = _ZIP_ENTRY.unpack_from(head, at)
        start = at + _ZIP_ENTRY.size + name_length + extra_length
        member = head[at + _ZIP_ENTRY.size : at + _ZIP_ENTRY.size + name_length].decode("utf-8", "replace")
        names.add(member)
        if member == "mimetype":
            mimetype = head[start : start + size]
        if flags & 0x08:  # its size follows its data: the next member cannot be found
            break
        at = start + size
    return names, mimetype

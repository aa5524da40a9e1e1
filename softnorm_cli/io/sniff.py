"""Telling what an input is from its first bytes: format, compression, encoding, delimiter.

Names can lie (Parquet bytes in ``data.csv``, a gzip stream on a pipe), so
the content decides wherever it can; a file's extension is the fallback.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from softnorm_cli.errors import SoftnormError

FORMATS = ("csv", "tsv", "parquet")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}
#: Compression by extension, in pyarrow's codec names.
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4", ".br": "brotli"}
PARQUET_MAGIC = b"PAR1"
#: Compressed streams recognised by their first bytes (brotli has no magic).
_COMPRESSION_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"BZh": "bz2",
    b"\x04\x22\x4d\x18": "lz4",
}
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
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes.pop()
    return EXTENSIONS.get(suffixes[-1]) if suffixes else None


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

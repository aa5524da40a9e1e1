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
DELIMITERS = (",", "\t", ";", "|")
#: Lines looked at to choose a delimiter.
SNIFF_LINES = 50


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


def sniff_delimiter(text: bytes, header: bool = True) -> str:
    """The delimiter among ``, \\t ; |`` that splits the first lines of ``text`` most consistently.

    A candidate is consistent when every complete record of the sample has as
    many delimiters outside quotes as the first one, and at least one. The
    header decides between candidates that also occur in the data, such as
    the decimal commas of a ``;`` export (``a;b`` / ``1,5;2,5``). Among
    consistent candidates the one giving the most fields wins, ties in the
    order above; without any, a comma.
    """
    records = _sample_records(text)
    if not records:
        return ","
    best, best_fields = ",", 0
    for delimiter in DELIMITERS:
        counts = [_count_outside_quotes(record, delimiter) for record in records]
        if counts[0] and all(count == counts[0] for count in counts) and counts[0] > best_fields:
            best, best_fields = delimiter, counts[0]
    if best_fields:
        return best
    # Nothing consistent (a ragged file): the delimiter of the first line, for a clear error later.
    first = records[0]
    counts = {d: _count_outside_quotes(first, d) for d in DELIMITERS}
    winner = max(DELIMITERS, key=lambda d: counts[d])
    return winner if counts[winner] else ","


def _sample_records(text: bytes) -> list[str]:
    """Up to SNIFF_LINES complete records from the start of ``text``, newlines in quotes kept inside."""
    decoded = text.decode("utf-8", errors="replace")
    records, current, quoted = [], [], False
    for line in decoded.splitlines(keepends=True):
        current.append(line)
        quoted ^= line.count('"') % 2 == 1
        if not quoted and line.endswith(("\n", "\r")):
            record = "".join(current).rstrip("\r\n")
            current = []
            if record:
                records.append(record)
            if len(records) >= SNIFF_LINES:
                break
    if current and not quoted and len(text) < 4096:
        # A short input: its last line is complete even without a newline.
        record = "".join(current).rstrip("\r\n")
        if record:
            records.append(record)
    return records


def _count_outside_quotes(record: str, delimiter: str) -> int:
    if '"' not in record:
        return record.count(delimiter)
    return sum(part.count(delimiter) for part in record.split('"')[::2])

"""Guessing the delimiter of a text table from its first lines."""

from __future__ import annotations

DELIMITERS = (",", "\t", ";", "|")
#: Lines looked at to choose a delimiter.
SNIFF_LINES = 50
#: Lines of a title before the header, at most: the delimiter is looked for past them, and skipping them suggested.
TITLE_LINES = 10


def sniff_delimiter(text: bytes, header: bool = True, decimal_comma: bool = False) -> str:
    """The delimiter among ``, \\t ; |`` that splits the first lines of ``text`` most consistently.

    A candidate is consistent when every complete record of the sample has as
    many delimiters outside quotes as the first one, and at least one. The
    header decides between candidates that also occur in the data, such as
    the decimal commas of a ``;`` export (``a;b`` / ``1,5;2,5``). Among
    consistent candidates the one giving the most fields wins, ties in the
    order above. Without any, the records after a title of a few lines
    decide (the reader then says to skip the title); else the delimiter most
    frequent on the first line (for a clear error later), else a comma.

    With ``decimal_comma`` a comma is a decimal separator unless the header
    has commas too (a comma-delimited export, its decimals quoted): without
    a header it is never the delimiter, and a one-column export of ``1,5``
    stays one column, its delimiter a semicolon (a comma only when every
    comma is quoted, as a comma-delimited export writes them).
    """
    candidates = DELIMITERS[1:] if decimal_comma and not header else DELIMITERS
    records = _sample_records(text)
    default = ","
    if decimal_comma and any(_count_outside_quotes(record, ",") for record in records):
        default = ";"
    if not records:
        return default
    found = _most_consistent(records, candidates)
    if found is not None:
        return found
    # Past a title the header is unknown: with decimal commas, no comma can be told to be a delimiter.
    past_title = tuple(d for d in candidates if d != ",") if decimal_comma else candidates
    for title in range(1, min(TITLE_LINES, len(records) - 1)):
        found = _most_consistent(records[title:], past_title)
        if found is not None:
            return found
    # Nothing consistent (a ragged file): the delimiter of the first line, for a clear error later.
    first = records[0]
    counts = {d: _count_outside_quotes(first, d) for d in candidates}
    winner = max(candidates, key=lambda d: counts[d])
    return winner if counts[winner] else default


def _most_consistent(records: list[str], candidates: tuple[str, ...]) -> str | None:
    """The candidate splitting every record into as many fields as the first, the most fields; None if none does."""
    best, best_fields = None, 0
    for delimiter in candidates:
        counts = [_count_outside_quotes(record, delimiter) for record in records]
        if counts[0] and all(count == counts[0] for count in counts) and counts[0] > best_fields:
            best, best_fields = delimiter, counts[0]
    return best


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

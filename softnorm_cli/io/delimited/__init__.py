"""Delimited text (CSV, TSV): decoding, blocks of whole records, their checks, the reader and the writer."""

"""Reading and writing tables: CSV, TSV and Parquet, files or standard streams.

Tables travel as polars DataFrames, one batch at a time, so memory stays
bounded whatever the input size. :mod:`~softnorm_cli.io.source` opens an
input and chooses its reader (:mod:`~softnorm_cli.io.delimited.reader`,
:mod:`~softnorm_cli.io.parquet`) from what its bytes are;
:mod:`~softnorm_cli.io.sink` writes the result atomically.
"""

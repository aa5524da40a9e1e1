"""The numbers: mergeable statistics and the methods, on numpy arrays alone.

Nothing here reads a file, knows a column name or imports polars: a block
of float64 values goes in, statistics and results come out.
"""

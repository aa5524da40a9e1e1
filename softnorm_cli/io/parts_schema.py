"""One table from a dataset's parts: the columns they must share, and one type for each column.

Parts must agree on their columns to make one table. Their types may not
(each CSV part written as Parquet gets the narrowest lossless type of its
own text): a column whose parts differ gets one type that holds them all.
"""

from __future__ import annotations

from softnorm_cli.errors import SoftnormError


def common_schema(schemas: list):
    """One type per column for all ``schemas``: the type they share; else float64 for numbers, else text."""
    import pyarrow as pa

    fields = []
    for i, field in enumerate(schemas[0]):
        types = {schema.field(i).type for schema in schemas}
        if len(types) == 1:
            fields.append(field)
        elif all(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t) for t in types):
            fields.append(field.with_type(pa.float64()))
        else:
            fields.append(field.with_type(pa.large_string()))
    return pa.schema(fields)


def other_columns(source: str, first: str) -> SoftnormError:
    """The error of a part whose columns are not the first part's."""
    return SoftnormError(
        f"{source}: its columns differ from those of {first}; one output file needs the same columns in every part "
        "(-o DIR/ writes a directory of parts)"
    )

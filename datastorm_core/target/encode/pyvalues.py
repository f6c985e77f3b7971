"""Columns as Python values: for sqlite's executemany and for JSON documents.

sqlite has no decimal, date or boolean storage: NUMERIC goes in as its exact
decimal string (the column's NUMERIC affinity stores it as a number), dates
and timestamps as ISO 8601 text with a space (the form of sqlite's own
``datetime()``, so comparisons with it work), booleans as 0/1.
JSON gets decimals as strings (exact), ISO 8601 ``T`` timestamps, and null
for NaN and infinities, which JSON cannot spell.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.target.encode.text import apply_nulls, column_text

__all__ = ["json_values", "sqlite_rows", "sqlite_values"]


def sqlite_values(column: Column, col: ColumnSchema) -> list[object]:
    """Values for sqlite3 parameters, None for NULL."""
    kind = col.type
    if kind is ColumnType.BIGINT:
        values: list[object] = np.asarray(column.values, dtype=np.int64).tolist()
    elif kind is ColumnType.DOUBLE:
        values = np.asarray(column.values, dtype=np.float64).tolist()
    elif kind is ColumnType.BOOLEAN:
        values = np.asarray(column.values, dtype=bool).astype(np.int64).tolist()
    else:
        values = column_text(column, col, timestamp_sep=" ")  # type: ignore[assignment]
    return apply_nulls(values, column, None)


def sqlite_rows(chunk: Chunk, schema: TableSchema,
                order: Sequence[str] | None = None) -> list[tuple[object, ...]]:
    """The chunk as parameter tuples in schema column order (or in ``order``)."""
    names = order or schema.column_names
    columns = [sqlite_values(chunk.columns[n], schema.column(n)) for n in names]
    return list(zip(*columns, strict=True))


def json_values(column: Column, col: ColumnSchema) -> list[object]:
    """Values ``json.dumps`` can write as they are, None for NULL."""
    kind = col.type
    if kind is ColumnType.BIGINT:
        values: list[object] = np.asarray(column.values, dtype=np.int64).tolist()
    elif kind is ColumnType.DOUBLE:
        values = [v if math.isfinite(v) else None
                  for v in np.asarray(column.values, dtype=np.float64).tolist()]
    elif kind is ColumnType.BOOLEAN:
        values = np.asarray(column.values, dtype=bool).tolist()
    else:
        values = column_text(column, col)  # type: ignore[assignment]
    return apply_nulls(values, column, None)

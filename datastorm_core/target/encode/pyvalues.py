"""A chunk as sqlite3 parameter tuples (``executemany``).

Each value is the plain Python form of ``core.values.python_values``
(decimals and dates as text, booleans as 0/1), which is all sqlite stores.
"""

from __future__ import annotations

from collections.abc import Sequence

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.core.values import python_values

__all__ = ["sqlite_rows"]


def sqlite_rows(chunk: Chunk, schema: TableSchema,
                order: Sequence[str] | None = None) -> list[tuple[object, ...]]:
    """The chunk as parameter tuples in schema column order (or in ``order``)."""
    names = order or schema.column_names
    columns = [python_values(chunk.columns[n], schema.column(n)) for n in names]
    return list(zip(*columns, strict=True))

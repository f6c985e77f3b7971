"""Reference pools: a parent's keys at any row index, without a copy of the parent.

A pool is a small description (parent table, key field, row count) plus
a function that computes the parent's key at given row indices, the same
pure function that generated the parent. Dagster hands pools from parent
assets to children; here they come from the source context. A parent that
datastorm does not generate (an existing table) has its keys read from the
database once, sorted, into a pool of its own (``existing_pool``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from datastorm_core.core.schema import ColumnSchema, ColumnType, ValueSpace

__all__ = ["ReferencePool", "as_column_values", "existing_pool"]


@dataclass(frozen=True)
class ReferencePool:
    table: str
    field: str
    rows: int
    column_type: ColumnType
    precision: int | None
    scale: int | None
    lookup: Callable[[np.ndarray], np.ndarray]
    # What the key column can hold, and the PostgreSQL syntax of its text: a
    # reference's column has both (a foreign key must match its key's type).
    space: ValueSpace | None = None
    syntax: str | None = None

    def keys_at(self, indices: np.ndarray) -> np.ndarray:
        """The parent's key values at row ``indices``."""
        return self.lookup(indices)


def existing_pool(table: str, field: str, column: ColumnSchema, keys: np.ndarray
                  ) -> ReferencePool:
    """A pool over keys read from an existing table (sorted, so the rows do not depend
    on the order the database returned them in)."""
    values = np.sort(as_column_values(keys, column))
    space = None
    if len(values):
        if column.type is ColumnType.TEXT or column.type is ColumnType.UUID:
            space = ValueSpace(max_length=int(np.strings.str_len(values.astype(str)).max()))
        elif column.type is ColumnType.BIGINT:
            space = ValueSpace(low=int(values[0]), high=int(values[-1]))

    def lookup(indices: np.ndarray) -> np.ndarray:
        return values[indices]

    return ReferencePool(table, field, len(values), column.type, column.precision,
                         column.scale, lookup, space=space, syntax=column.syntax)


def as_column_values(keys: Sequence[Any] | np.ndarray, column: ColumnSchema) -> np.ndarray:
    """Python values read from a database as the array the column's generator would make.

    NUMERIC travels as int64 counts of ``10**-scale``; dates and timestamps as
    numpy datetimes; everything else as it reads.
    """
    if column.type is ColumnType.BIGINT:
        return np.asarray(keys, dtype=np.int64)
    if column.type is ColumnType.NUMERIC:
        scale = Decimal(10) ** (column.scale or 0)
        return np.asarray([int(Decimal(k) * scale) for k in keys], dtype=np.int64)
    if column.type is ColumnType.DOUBLE:
        return np.asarray(keys, dtype=np.float64)
    if column.type is ColumnType.DATE:
        return np.asarray(keys, dtype="datetime64[D]")
    if column.type is ColumnType.TIMESTAMP:
        return np.asarray([k.replace(tzinfo=None) if getattr(k, "tzinfo", None) else k
                           for k in keys], dtype="datetime64[us]")
    return np.asarray([str(k) for k in keys], dtype=str) if len(keys) else np.array([], dtype="U1")

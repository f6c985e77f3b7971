"""Values between the generators and the database (no I/O).

The generators make ``Column`` s (numpy arrays, NULL masks); statements take
values as text cast to the column's type (``%s::type``), the same text COPY
text would write; rows read back (a live parent's key, a field's current
value) come as Python values and go back into a ``Column`` when a generator
needs them. ``NONE`` is "no value exists", apart from NULL (None).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType
from datastorm_core.target.encode.text import column_text

__all__ = ["NONE", "column_of", "texts", "typed"]


class _Missing:
    def __repr__(self) -> str:
        return "<none>"


#: No value exists (no live parent, no next state): not NULL, which is None.
NONE: Any = _Missing()


def texts(column: Column, col: ColumnSchema) -> list[str | None]:
    """A column's values as text for ``%s::type`` parameters, None for NULL."""
    found: list[str | None] = list(column_text(column, col, timestamp_sep=" "))
    if column.nulls is not None:
        for i in np.flatnonzero(column.nulls).tolist():
            found[i] = None
    return found


def column_of(value: object, col: ColumnSchema) -> Column:
    """A database value as a one-row Column of the generators' representation."""
    if value is None:
        filler = {ColumnType.BIGINT: np.zeros(1, np.int64),
                  ColumnType.NUMERIC: np.zeros(1, np.int64),
                  ColumnType.DOUBLE: np.zeros(1, np.float64),
                  ColumnType.BOOLEAN: np.zeros(1, bool),
                  ColumnType.DATE: np.zeros(1, "datetime64[D]"),
                  ColumnType.TIMESTAMP: np.zeros(1, "datetime64[s]")}.get(
            col.type, np.array([""]))
        return Column(filler, np.ones(1, dtype=bool))
    if col.type is ColumnType.BIGINT:
        return Column(np.array([int(value)], dtype=np.int64))  # type: ignore[call-overload]
    if col.type is ColumnType.NUMERIC:
        scaled = Decimal(str(value)).scaleb(col.scale or 0)
        return Column(np.array([int(scaled)], dtype=np.int64))
    if col.type is ColumnType.DOUBLE:
        return Column(np.array([float(value)], dtype=np.float64))  # type: ignore[arg-type]
    if col.type is ColumnType.BOOLEAN:
        return Column(np.array([bool(value)]))
    if col.type is ColumnType.DATE:
        return Column(np.array([np.datetime64(value, "D")]))
    if col.type is ColumnType.TIMESTAMP:
        return Column(np.array([np.datetime64(value, "s")]))
    return Column(np.array([str(value)]))


def typed(text: str | None, col: ColumnSchema) -> object:
    """A key value from its text: int for BIGINT (as the database returns it)."""
    if text is not None and col.type is ColumnType.BIGINT:
        return int(text)
    return text

"""Values between the generators and the database (no I/O).

The generators make ``Column`` s (numpy arrays, NULL masks); statements take
values as text cast to the column's type (``%s::type``), the same text COPY
text would write; rows read back (a live parent's key, a field's current
value) come as Python values and go back into a ``Column`` when a generator
needs them. ``NONE`` is "no value exists", apart from NULL (None).
"""

from __future__ import annotations

from typing import Any

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType
from datastorm_core.core.values import python_column, spaced_text

__all__ = ["NONE", "column_of", "texts", "typed"]


class _Missing:
    def __repr__(self) -> str:
        return "<none>"


#: No value exists (no live parent, no next state): not NULL, which is None.
NONE: Any = _Missing()


def texts(column: Column, col: ColumnSchema) -> list[str | None]:
    """A column's values as text for ``%s::type`` parameters, None for NULL."""
    return spaced_text(column, col)


def column_of(value: object, col: ColumnSchema) -> Column:
    """A database value as a one-row Column of the generators' representation."""
    return python_column(value, col)


def typed(text: str | None, col: ColumnSchema) -> object:
    """A key value from its text: int for BIGINT (as the database returns it)."""
    if text is not None and col.type is ColumnType.BIGINT:
        return int(text)
    return text

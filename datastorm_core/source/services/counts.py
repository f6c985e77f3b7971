"""``per_parent = "REF.FIELD"``: a parent's children counted by a field of the parent.

The count of parent *j* is the parent's field at row *j*, made by the
parent's own generators (as a reference pool makes its keys): no database
read, no copy of the parent. ``core.cardinality`` lays the children out
from these counts; ``source.sizing`` sums them into the child's row count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from datastorm_core.core.cardinality import Counts
from datastorm_core.core.schema import ColumnSchema, ColumnType

if TYPE_CHECKING:
    from datastorm_core.source.generators.base import Rows

__all__ = ["MAX_CHILDREN", "count_problems", "field_counts"]

# The most children a parent's field may ask for: beyond it, a mistaken field
# (an amount instead of a number of months) would size a table in billions.
MAX_CHILDREN = 1_000_000


def count_problems(column: ColumnSchema, name: str) -> list[str]:
    """Why the parent's field ``name`` (its ``column``) cannot count children; [] if it can."""
    head = f'per_parent = "{name}"'
    if column.type is not ColumnType.BIGINT:
        return [f"{head}: a child count is a whole number, and {column.name} makes "
                f"{column.type.value} values"]
    space = column.space
    if space is None or space.low is None or space.high is None:
        return [f"{head}: a child count beyond the declared range: {column.name} has no "
                f"known bounds, and a count must lie in [0, {MAX_CHILDREN:,}]"]
    if space.low < 0 or space.high > MAX_CHILDREN:
        return [f"{head}: a child count beyond the declared range: {column.name} goes from "
                f"{space.low:,} to {space.high:,}, and a count must lie in "
                f"[0, {MAX_CHILDREN:,}]"]
    return []


def field_counts(parent: Rows, name: str, column: Callable[[], ColumnSchema]) -> Counts:
    """The children of each parent row: its field ``name`` (NULL: none).

    ``column`` describes the field; one that cannot count (``count_problems``,
    reported by the reference's check) gives every parent no child, so that
    sizing never runs away before the check speaks.
    """
    usable: list[bool] = []

    def counts(parents: np.ndarray) -> np.ndarray:
        if not usable:
            usable.append(not count_problems(column(), name))
        if not usable[0]:
            return np.zeros(len(parents), dtype=np.int64)
        made = parent.columns(parents, [name])[name]
        found = np.clip(made.values.astype(np.int64), 0, MAX_CHILDREN)
        if made.nulls is not None:
            found[made.nulls] = 0
        return found

    return counts

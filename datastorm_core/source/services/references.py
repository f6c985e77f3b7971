"""Reference pools: a parent's keys at any row index, without a copy of the parent.

A pool is a small description (parent table, key field, row count) plus
a function that computes the parent's key at given row indices, the same
pure function that generated the parent. Dagster hands pools from parent
assets to children; here they come from the source context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from datastorm_core.core.schema import ColumnType

__all__ = ["ReferencePool"]


@dataclass(frozen=True)
class ReferencePool:
    table: str
    field: str
    rows: int
    column_type: ColumnType
    precision: int | None
    scale: int | None
    lookup: Callable[[np.ndarray], np.ndarray]

    def keys_at(self, indices: np.ndarray) -> np.ndarray:
        """The parent's key values at row ``indices``."""
        return self.lookup(indices)

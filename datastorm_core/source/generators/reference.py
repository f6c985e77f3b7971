"""reference: a foreign key, drawn from the parent's key at a random parent row.

The parent's key at row *j* is computed, not looked up: rows are pure
functions of their index, so a child needs no copy of its parent. With
``distribution = "zipf"`` a few parents get most children; which parents
are hot is itself a keyed permutation, so they are spread over the table.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.source.generators.base import Generator, ReferencePoolLike
from datastorm_core.source.services.distributions import DEFAULT_ZIPF_EXPONENT, zipf_ranks
from datastorm_core.source.services.permutation import KeyedPermutation

__all__ = ["ReferenceGenerator"]


class ReferenceGenerator(Generator):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        parent, column = self.field.ref or ("", "")
        self.pool: ReferencePoolLike = self.ctx.reference_pool(parent, column)
        self.column_type = self.pool.column_type
        self.precision, self.scale = self.pool.precision, self.pool.scale
        self._hot = None
        if self.field.param("distribution") == "zipf" and self.pool.rows > 0:
            self._hot = KeyedPermutation(self.pool.rows, self.stream.sub("hot").key)

    def problems(self) -> list[str]:
        if self.pool.rows == 0 and self.ctx.table_rows > 0:
            return [f"references {self.field.param('ref')}, but that table has no rows"]
        return []

    def parent_rows(self, indices: np.ndarray) -> np.ndarray:
        """Which parent row each child row points at."""
        rows = self.pool.rows
        if self._hot is None:
            return self.stream.integers(indices, 0, rows - 1)
        exponent = self.field.param("exponent", DEFAULT_ZIPF_EXPONENT)
        return self._hot(zipf_ranks(self.stream, indices, rows, exponent))

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.pool.keys_at(self.parent_rows(indices))

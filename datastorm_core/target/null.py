"""``null:``: rows are generated and then dropped.

Measures the generator's own ceiling (``datastorm run G --target null:``)
and dry-runs a Genfile at full size without a database. It still goes
through the whole pipeline, buffer and batches included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.target.base import BaseTarget, TargetSettings

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["NullTarget"]


class NullTarget(BaseTarget):
    """Counts rows and keeps none."""

    kind = "null"
    default_batch_size = 65_536
    partition_replace_ok = True  # nothing is stored, so nothing is replaced

    def __init__(self, url: str = "null:", **settings: Unpack[TargetSettings]) -> None:
        super().__init__(url, **settings)
        self.rows: dict[str, int] = {}

    def describe(self) -> str:
        return "null: (rows dropped)"

    def open(self) -> None:
        self.rows = {}

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        self.rows[schema.name] = self.rows.get(schema.name, 0) + sum(c.rows for c in chunks)

    def commit(self) -> None:
        """Nothing was stored."""

    def rollback(self) -> None:
        """Nothing was stored."""

    def close(self) -> None:
        """Nothing to release."""

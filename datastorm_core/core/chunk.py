"""A chunk: a few thousand consecutive rows of one table, stored by column.

Chunks are what travels through the buffer. Carrying columns (numpy
arrays) instead of rows removes the per-row Python cost from generation
and lets targets encode whole columns at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Chunk", "Column"]


@dataclass(frozen=True)
class Column:
    """Values of one column; ``nulls`` marks NULL rows (their value is filler)."""

    values: np.ndarray
    nulls: np.ndarray | None = None
    # Dictionary encoding, when the values were drawn from a word list:
    # values == categories[codes]. Targets ignore it; a derived field (an
    # e-mail from a name) works once per category instead of once per row.
    codes: np.ndarray | None = None
    categories: np.ndarray | None = None

    def to_pylist(self) -> list[object]:
        """Python values with None for NULL (for row-wise targets and previews)."""
        values = self.values.tolist()
        if self.nulls is not None and self.nulls.any():
            for i in np.flatnonzero(self.nulls).tolist():
                values[i] = None
        return values


@dataclass(frozen=True)
class Chunk:
    """Rows ``[start, start + rows)`` of ``table``; ``seq`` orders it in its stream."""

    table: str
    seq: int
    start: int
    rows: int
    columns: dict[str, Column]

    def rows_as_tuples(self, names: tuple[str, ...] | None = None) -> list[tuple[object, ...]]:
        """The chunk as Python row tuples, in ``names`` order (default: column order)."""
        order = names or tuple(self.columns)
        return list(zip(*(self.columns[n].to_pylist() for n in order), strict=False))

"""``REF.FIELD``: a field of the row that this row's reference ``REF`` points at.

A parent's value is computed by the parent's own generators at the
parent's row index (the one the reference generator draws), exactly as a
reference pool computes the parent's key: no database read, no copy of the
parent. ``REF.REF2.FIELD`` goes on from the parent, whose compiled table
reads its own ``REF2.FIELD`` the same way. A self-reference's roots and a
NULL reference give NULL.

Children that outnumber their parents read the same parent rows chunk after
chunk (a million transactions on 200,000 accounts): ``KeptColumns`` keeps a
parent's column of every row, computed once in pieces, when it is small
(numbers, dates, timestamps, booleans; at most ``KEPT_BYTES``), and the
children's chunks gather from it. The values are the same either way: a
row is a function of its index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.source.generators.base import Rows
from datastorm_core.source.generators.reference import ReferenceGenerator

__all__ = ["KEPT_BYTES", "KeptColumns", "dotted", "read_parent", "take"]

# A parent's column is kept whole when its values take at most this much (a million
# 8-byte values).
KEPT_BYTES = 8 << 20
# Rows computed at once while a column is made whole.
_PIECE = 1 << 16


def dotted(name: str) -> tuple[str, str] | None:
    """``("REF", "FIELD")`` of a name read through a reference (the rest may hold more
    dots); None for a field of the row itself."""
    ref, dot, rest = name.partition(".")
    return (ref, rest) if dot else None


def take(column: Column, positions: np.ndarray) -> Column:
    """The column's rows at ``positions`` (a dictionary encoding kept)."""
    return Column(column.values[positions],
                  None if column.nulls is None else column.nulls[positions],
                  None if column.codes is None else column.codes[positions],
                  column.categories)


class KeptColumns:
    """Columns of every row of one table (of ``rows`` rows), kept for its children."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        # name -> its whole column, or None: not kept (text, or too large)
        self._columns: dict[str, Column | None] = {}

    def read(self, parent: Rows, rows: np.ndarray, names: Sequence[str], readers: int
             ) -> dict[str, Column]:
        """Columns ``names`` at the parent ``rows`` (rising), for a child table of
        ``readers`` rows: gathered from whole columns when the children are at least as
        many as the parent's rows, else computed for those rows."""
        if not 0 < self.rows <= readers or not len(rows) or rows[-1] >= self.rows:
            return parent.columns(rows, names)
        found: dict[str, Column] = {}
        rest = []
        for name in names:
            whole = self._whole(parent, name)
            if whole is None:
                rest.append(name)
            else:
                column = take(whole, rows)
                if column.nulls is not None and not column.nulls.any():
                    column = Column(column.values)  # no NULL here: no mask, as computed
                found[name] = column
        if rest:
            found.update(parent.columns(rows, rest))
        return found

    def _whole(self, parent: Rows, name: str) -> Column | None:
        if name in self._columns:
            return self._columns[name]
        pieces: list[Column] = []
        for start in range(0, self.rows, _PIECE):
            rows = np.arange(start, min(start + _PIECE, self.rows), dtype=np.int64)
            column = parent.columns(rows, [name])[name]
            kind = column.values.dtype
            if column.codes is not None or kind.kind not in "biufMm" or \
                    self.rows * kind.itemsize > KEPT_BYTES:
                self._columns[name] = None  # text, or too large: computed row by row
                return None
            pieces.append(column)
        nulls = None
        if any(p.nulls is not None for p in pieces):
            nulls = np.concatenate([p.nulls if p.nulls is not None
                                    else np.zeros(len(p.values), dtype=bool) for p in pieces])
        whole = Column(np.concatenate([p.values for p in pieces]), nulls)
        # Two threads may both have made it: the same values, whichever is kept.
        self._columns[name] = whole
        return whole


def read_parent(reference: ReferenceGenerator, parent: Rows, indices: np.ndarray,
                pointer: Column, names: Sequence[str],
                kept: KeptColumns | None = None) -> dict[str, Column]:
    """Fields ``names`` of the parent rows that ``pointer`` (the reference's column at
    ``indices``) points at, each NULL where the pointer is; ``kept``: the parent's whole
    columns, where it keeps them."""
    rows = reference.pointed_rows(indices)
    key = reference.field.ref[1] if reference.field.ref else None
    wanted = [n for n in names if n != key]
    found: dict[str, Column] = {}
    if wanted:
        # Children tied by per_parent come in runs of one parent (sorted rows): their
        # parents' fields are computed once per parent, not once per child.
        if len(rows) > 1 and bool((rows[1:] >= rows[:-1]).all()):
            starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
            distinct = rows[starts]
            where = np.cumsum(np.concatenate(([0], (rows[1:] != rows[:-1]).astype(np.int64))))
        else:
            # Children drawn at random (a zipf reference: hot parents again and again):
            # each distinct parent once, in row order, which its own references locate
            # fastest.
            distinct, where = _distinct(rows, reference.pool.rows)
        made = parent.columns(distinct, wanted) if kept is None else \
            kept.read(parent, distinct, wanted, reference.ctx.table_rows)
        found = {name: take(column, where) for name, column in made.items()}
    result = {}
    for name in names:
        # The parent's key is the reference's own value: nothing to compute.
        column = found[name] if name != key else Column(pointer.values, None, pointer.codes,
                                                        pointer.categories)
        nulls = column.nulls
        if pointer.nulls is not None:
            nulls = pointer.nulls if nulls is None else (nulls | pointer.nulls)
        result[name] = Column(column.values, nulls, column.codes, column.categories)
    return result


def _distinct(rows: np.ndarray, parents: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows, rising, and where each row is among them: marked in an array
    of the parents when it is not much longer than the rows (no sort: a scan of the
    marks and a rank written for the marked ones only), else sorted."""
    if 0 < parents <= 64 * len(rows):
        seen = np.zeros(parents, dtype=bool)
        seen[rows] = True
        distinct = np.flatnonzero(seen)
        rank = np.empty(parents, dtype=np.int64)  # read only where marked
        rank[distinct] = np.arange(len(distinct), dtype=np.int64)
        return distinct, rank[rows]
    distinct, where = np.unique(rows, return_inverse=True)
    return distinct, where.reshape(-1)

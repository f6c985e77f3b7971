"""Fields that follow a parent's children (``per_parent``): ordinal and total.

Both stand on the child table's layout (``core.cardinality``): parent *j*'s
children are the child rows ``[S(j), S(j+1))``.

- ``ordinal`` (in the child): a row's place among its parent's children,
  ``i - S(j) + start``.
- ``total`` (in the parent): a sum, count, min, max or avg of a child field
  over the children's rows, computed by the child's own generators. As in
  SQL, NULL values are left out; a sum or count over no value is 0, a min,
  max or avg over none is NULL.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datastorm_core.core.cardinality import Cardinality
from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, ValueSpace
from datastorm_core.source.generators.base import Generator, Tables

__all__ = ["OrdinalGenerator", "TotalGenerator"]

_SUMMABLE = (ColumnType.BIGINT, ColumnType.DOUBLE, ColumnType.NUMERIC)
# Child rows a total computes at once: its memory stays bounded whatever the counts.
_CHILD_ROWS = 1 << 20
_ORDERED = (*_SUMMABLE, ColumnType.DATE, ColumnType.TIMESTAMP)


class OrdinalGenerator(Generator):
    """``type = "ordinal"``, ``of = "REF"``: 1..n within the parent (``start`` = 1)."""

    column_type = ColumnType.BIGINT

    def _layout(self) -> Cardinality:
        assert self.ctx.tables is not None
        layout = self.ctx.tables.layout(self.ctx.table)
        assert layout is not None  # validated: `of` names this table's tie
        return layout

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        _, starts = self._layout().locate(indices)
        return indices - starts + np.int64(self.field.param("start", 1))

    def value_space(self) -> ValueSpace:
        start = self.field.param("start", 1)
        most = self._layout().most
        return ValueSpace(low=start, high=None if most is None else start + max(most, 1) - 1)


class TotalGenerator(Generator):
    """``type = "total"``: a function of a child field over each parent row's children."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        child, _, column = self.field.param("of").partition(".")
        self.child, self.child_field = child, column or None
        self.function = self.field.param("function")
        self._read: ColumnSchema | None = None
        # A min, max or avg of no value (no child, or only NULLs) is NULL.
        self.makes_nulls = self.function in ("min", "max", "avg")

    # The child table is compiled after this one (it references it): what it makes is
    # asked for once both are, never while this table compiles.
    def _tables(self) -> Tables:
        assert self.ctx.tables is not None
        return self.ctx.tables

    def _child_column(self) -> ColumnSchema | None:
        if self.child_field is None:
            return None
        if self._read is None:
            self._read = self._tables().column(self.child, self.child_field)
        return self._read

    @property  # type: ignore[override]
    def column_type(self) -> ColumnType:
        read = self._child_column()
        if self.function == "count" or read is None:
            return ColumnType.BIGINT
        if self.function == "avg" and read.type is not ColumnType.NUMERIC:
            return ColumnType.DOUBLE
        return read.type

    @property  # type: ignore[override]
    def scale(self) -> int | None:
        read = self._child_column()
        return read.scale if read is not None and self.column_type is ColumnType.NUMERIC \
            else None

    @property  # type: ignore[override]
    def precision(self) -> int | None:
        read = self._child_column()
        if read is None or self.column_type is not ColumnType.NUMERIC:
            return None
        # A sum grows past its terms' digits: numeric of the widest int64 count.
        return None if self.function == "sum" else read.precision

    def late_problems(self) -> list[str]:
        read = self._child_column()
        if read is None or self.function == "count":
            return []
        allowed = _SUMMABLE if self.function in ("sum", "avg") else _ORDERED
        if read.type not in allowed:
            return [f"function = \"{self.function}\" cannot take {read.type.value} values "
                    f"({self.child}.{self.child_field})"]
        return []

    def value_space(self) -> ValueSpace | None:
        layout = self._tables().layout(self.child)
        most = None if layout is None else layout.most
        read = self._child_column()
        if self.function == "count":
            return ValueSpace(low=0, high=most)
        space = None if read is None else read.space
        if space is None or space.low is None or space.high is None:
            return None
        if self.function in ("min", "max", "avg"):
            return ValueSpace(low=space.low, high=space.high)
        if most is None:
            return None
        # A sum of up to `most` terms, none of which leaves [low, high]; 0 for none (a
        # zero of the values' own type: a Decimal of their scale, a float).
        zero = space.low * 0
        return ValueSpace(low=min(zero, space.low * most), high=max(zero, space.high * most))

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray | Column:
        layout = self._tables().layout(self.child)
        assert layout is not None
        starts = layout.first_children(indices)
        # A row past the parent's last (inserted by the change stream) has no child yet.
        real = indices < layout.parents
        counts = np.zeros(len(indices), dtype=np.int64)
        if real.any():
            counts[real] = layout.counts(indices[real])
        if self.child_field is None:
            return counts
        # Parents in pieces of about _CHILD_ROWS children (a parent may have a million).
        ends = np.cumsum(counts)
        cuts = np.flatnonzero(np.diff(ends // _CHILD_ROWS)) + 1
        pieces = [self._piece(starts[a:b], counts[a:b])
                  for a, b in zip([0, *cuts.tolist()], [*cuts.tolist(), len(indices)],
                                  strict=True)]
        if len(pieces) == 1:
            return pieces[0]
        masks = [p.nulls if p.nulls is not None else np.zeros(len(p.values), dtype=bool)
                 for p in pieces]
        nulls = np.concatenate(masks)
        return Column(np.concatenate([p.values for p in pieces]),
                      nulls if nulls.any() else None)

    def _piece(self, starts: np.ndarray, counts: np.ndarray) -> Column:
        """The function over the children of some parent rows (their first child rows and
        counts), one run of child rows per parent row."""
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        rows = np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()),
                                                               dtype=np.int64)
        made = self._tables().compiled(self.child).columns(rows, [self.child_field])
        return self._reduce(made[self.child_field], counts, offsets)

    def _reduce(self, column: Column, counts: np.ndarray, offsets: np.ndarray) -> Column:
        """The function over each run of ``column`` (``counts`` values from ``offsets``):
        the runs are contiguous, so each is one ``reduceat`` segment; a NULL value is
        replaced by the function's identity (0, or the far end of the range) and left
        out of the count."""
        filled = counts > 0
        starts = offsets[filled]  # empty runs add no row: the others stay contiguous
        present = None if column.nulls is None else ~column.nulls
        kept = counts.copy() if present is None else np.zeros(len(counts), dtype=np.int64)
        if present is not None and len(starts):
            kept[filled] = np.add.reduceat(present.astype(np.int64), starts)
        if self.function == "count":
            return Column(kept)
        values = column.values
        dated = values.dtype.kind == "M"
        numbers = values.view(np.int64) if dated else values
        if self.function in ("sum", "avg"):
            result = np.zeros(len(counts), dtype=numbers.dtype)
            if len(starts):
                terms = numbers if present is None else np.where(present, numbers, 0)
                result[filled] = np.add.reduceat(terms, starts)
            if self.function == "sum":
                return Column(result)
            return Column(self._average(result, kept), kept == 0)
        lowest = self.function == "min"
        if numbers.dtype.kind == "f":
            identity = np.inf if lowest else -np.inf
        else:
            limits = np.iinfo(np.int64)
            identity = limits.max if lowest else limits.min + 1  # min is NaT for dates
        result = np.full(len(counts), identity, dtype=numbers.dtype)
        if len(starts):
            terms = numbers if present is None else np.where(present, numbers, identity)
            pick = np.minimum if lowest else np.maximum
            result[filled] = pick.reduceat(terms, starts)
        empty = kept == 0
        result[empty] = 0  # filler under the NULL
        return Column(result.view(values.dtype) if dated else result,
                      empty if empty.any() else None)

    def _average(self, sums: np.ndarray, kept: np.ndarray) -> np.ndarray:
        divisor = np.maximum(kept, 1).astype(np.int64)
        if self.column_type is ColumnType.NUMERIC:
            # Unscaled counts, divided exactly and rounded half to even at the child's
            # scale: floor division, then up where the remainder passes half (or is half
            # of an odd quotient).
            quotient, remainder = np.divmod(sums.astype(np.int64), divisor)
            twice = 2 * remainder
            up = (twice > divisor) | ((twice == divisor) & (quotient % 2 == 1))
            return quotient + up
        return sums.astype(np.float64) / divisor

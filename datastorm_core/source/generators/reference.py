"""reference: a foreign key, drawn from the parent's key at a parent row.

The parent's key at row *j* is computed, not looked up: rows are pure
functions of their index, so a child needs no copy of its parent. Which
parent row a child row points at:

- uniform over the parent's rows, or ``zipf`` (a few hot parents, spread
  over the table by a keyed permutation);
- ``per_parent = [min, max]``: the child rows are laid out parent by
  parent (``core.cardinality``), so row *i* belongs to one parent and each
  parent has between min and max children; ``per_parent = "REF.FIELD"``:
  as many as the parent's field says (``services.counts``); ``per_parent =
  "STATE"``: as many as the states of the parent's path (``lifecycle``);
- a self-reference (an employee's manager) points at an earlier row of
  the same table, so the hierarchy is acyclic by construction; row 0 and a
  ``root_rate`` share of rows are roots (NULL);
- the references of a link table's composite key are drawn together from
  a keyed permutation of all parent pairs, so every pair is unique.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import numpy as np

from datastorm_core.core.cardinality import cardinality
from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.source.generators.base import Generator, ReferencePoolLike
from datastorm_core.source.services.counts import count_problems
from datastorm_core.source.services.distributions import DEFAULT_ZIPF_EXPONENT, zipf_ranks
from datastorm_core.source.services.permutation import MAX_DOMAIN, KeyedPermutation

__all__ = ["JointDraw", "ReferenceGenerator"]


class JointDraw:
    """Parent rows of several references drawn together: distinct rows, distinct tuples."""

    def __init__(self, sizes: Sequence[int], key: int) -> None:
        self.sizes = list(sizes)
        self.space = int(np.prod([max(s, 0) for s in self.sizes], dtype=object))
        self._permutation = (KeyedPermutation(min(self.space, MAX_DOMAIN), key)
                             if self.space > 0 else None)

    def parent_rows(self, position: int, indices: np.ndarray) -> np.ndarray:
        """The parent row of reference ``position`` for each child row."""
        assert self._permutation is not None
        remaining = self._permutation(indices)
        for size in reversed(self.sizes[position + 1:]):
            remaining = remaining // size
        return remaining % self.sizes[position]


class ReferenceGenerator(Generator):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        parent, column = self.field.ref or ("", "")
        self.pool: ReferencePoolLike = self.ctx.reference_pool(parent, column)
        self.column_type = self.pool.column_type
        self.precision, self.scale = self.pool.precision, self.pool.scale
        # A foreign key holds the parent's values, in the parent's syntax (an inet key).
        self.syntax = getattr(self.pool, "syntax", None)
        self.self_reference = parent == self.ctx.table
        self.joint: tuple[JointDraw, int] | None = None  # set by the table for link tables
        # Set by the table for ``same_row_as``: the reference whose parent row this follows.
        self.partner: ReferenceGenerator | None = None
        self._hot = None
        if self.field.param("distribution") == "zipf" and self.pool.rows > 0:
            self._hot = KeyedPermutation(self.pool.rows, self.stream.sub("hot").key)
        self._last = threading.local()  # the rows last found, for the same array
        self._tie = None
        per_parent = self.field.param("per_parent")
        if isinstance(per_parent, str) and self.ctx.tables is not None:
            # The parent's field, or a lifecycle's paths, count the children: the run's
            # layout of this table.
            self._tie = self.ctx.tables.layout(self.ctx.table)
        elif isinstance(per_parent, list):
            # Keyed like the Genfile's sizing (genfile.sizing): same counts, same rows.
            self._tie = cardinality(self.stream.key, self.pool.rows, *per_parent)
            # At most one child per parent: distinct rows have distinct parents.
            self.unique_by_nature = per_parent[1] <= 1

    def problems(self) -> list[str]:
        if self.pool.rows == 0 and self.ctx.table_rows > 0 and not self.self_reference:
            return [f"references {self.field.param('ref')}, but that table has no rows"]
        return []

    def late_problems(self) -> list[str]:
        counted = self.field.counted_by
        if counted is None or self.ctx.tables is None:
            return []
        column = self.ctx.tables.column(self.ctx.table, counted)
        return count_problems(column, counted)

    def value_space(self) -> ValueSpace | None:
        # The parent's keys, a self-reference's too (its pool is the table's own).
        return getattr(self.pool, "space", None)

    def parent_rows(self, indices: np.ndarray) -> np.ndarray:
        """Which parent row each child row points at."""
        # A chunk asks twice for the very same array (its keys, then the parent fields it
        # reads through REF.FIELD): the second time is the first answer, per thread.
        last = getattr(self._last, "rows", None)
        if last is not None and last[0] is indices:
            return last[1]
        found = self._parent_rows(indices)
        self._last.rows = (indices, found)
        return found

    def _parent_rows(self, indices: np.ndarray) -> np.ndarray:
        if self.partner is not None:
            return self.partner.parent_rows(indices)
        if self.joint is not None:
            draw, position = self.joint
            return draw.parent_rows(position, indices)
        if self._tie is not None:
            return self._tie.parents_of(indices)
        rows = self.pool.rows
        if self._hot is None:
            return self.stream.integers(indices, 0, rows - 1)
        exponent = self.field.param("exponent", DEFAULT_ZIPF_EXPONENT)
        return self._hot(zipf_ranks(self.stream, indices, rows, exponent))

    def pointed_rows(self, indices: np.ndarray) -> np.ndarray:
        """The parent row each row's value is the key of (filler where it is NULL)."""
        leader = self.partner or self
        if leader.self_reference:
            return leader._earlier_rows(indices)[0]
        return self.parent_rows(indices)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray | Column:
        leader = self.partner or self  # a composite key's columns share one parent row
        if leader.self_reference:
            earlier, roots = leader._earlier_rows(indices)
            return Column(self.pool.keys_at(earlier), roots if roots.any() else None)
        return self.pool.keys_at(self.parent_rows(indices))

    def _earlier_rows(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A row earlier than each row (uniformly), and which rows are roots (NULL)."""
        earlier = np.floor(self.stream.uniform(indices) * indices).astype(np.int64)
        roots = indices == 0
        root_rate = float(self.field.param("root_rate", 0.0))
        if root_rate > 0:
            roots |= self.stream.sub("root").below(indices, root_rate)
        earlier[roots] = 0  # filler: a root's value is NULL
        return earlier, roots

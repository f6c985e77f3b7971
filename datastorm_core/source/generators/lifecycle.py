"""lifecycle: each parent's rows walk one path through states (an event log).

Row *i* of a table tied to its parent by ``per_parent = "STATE"`` is child
*k* of parent *j* (``core.cardinality``'s layout); its value is the k-th
state of parent *j*'s path (``core.state_paths``), drawn from this field's
own key at the parent's index. The layout counts the same paths (sized by
``genfile.sizing`` from the same key), so each parent has exactly one row
per state of its path.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datastorm_core.core.cardinality import Cardinality
from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType, ValueSpace
from datastorm_core.genfile.lifecycle import state_machine
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.services.text import longest

__all__ = ["LifecycleGenerator"]


class LifecycleGenerator(Generator):
    """``type = "lifecycle"``: the row's state, one step of its parent's path."""

    column_type = ColumnType.TEXT

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.machine = state_machine(self.field.params)
        self.states = np.array(self.machine.states, dtype=str)

    def _layout(self) -> Cardinality:
        assert self.ctx.tables is not None
        layout = self.ctx.tables.layout(self.ctx.table)
        assert layout is not None  # validated: `of` names this table's tie
        return layout

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> Column:
        parents, starts = self._layout().locate(indices)
        codes = self.machine.states_at(self.stream.key, parents, indices - starts)
        # Dictionary-encoded: a field reading the state works once per state.
        return Column(self.states[codes], codes=codes, categories=self.states)

    def value_space(self) -> ValueSpace:
        return ValueSpace(values=tuple(self.machine.states), max_length=longest(self.states))

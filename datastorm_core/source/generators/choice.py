"""choice: one of a list of values, optionally weighted, or weighted by the first case
whose condition holds (``cases``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType, ValueSpace
from datastorm_core.genfile.types import choice_column_type
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.generators.expr import Expression
from datastorm_core.source.services.text import longest

__all__ = ["ChoiceGenerator"]

_DTYPES = {
    ColumnType.BOOLEAN: np.bool_,
    ColumnType.BIGINT: np.int64,
    ColumnType.DOUBLE: np.float64,
}


class ChoiceGenerator(Generator):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        values = list(self.field.param("values"))
        self.column_type = choice_column_type(values)
        dtype = _DTYPES.get(self.column_type)
        self.values = np.array(values if dtype else [str(v) for v in values], dtype=dtype)
        weights = self.field.param("weights") or [1.0] * len(values)
        self.cumulative = np.cumsum(np.array(weights, dtype=np.float64))
        # (condition, cumulative weights); a condition of None is the default case.
        self.cases: list[tuple[Expression | None, np.ndarray]] = []
        for number, case in enumerate(self.field.param("cases") or [], start=1):
            when = case.get("when")
            condition = None if when is None else Expression(
                when, self.ctx, self.field.name, f"cases[{number}].when", condition=True)
            self.cases.append((condition, np.cumsum(np.array(case["weights"],
                                                             dtype=np.float64))))
        if self.cases:
            # The cases' NULLs are theirs (a NULL condition does not hold); no default
            # case leaves a row that none matches NULL.
            self.nulls_from_reads = False
            self.makes_nulls = self.cases[-1][0] is not None

    def problems(self) -> list[str]:
        found = [c.problem for c, _ in self.cases if c is not None and c.problem]
        if self.cases and self.field.unique:
            found.append("a choice with cases cannot be unique: its weights depend on the row")
        return found

    def space(self) -> int:
        return len(self.values)

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.values[ordinals]

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray | Column:
        if not self.cases:
            return self.values[self.stream.weighted(indices, self.cumulative)]
        # One draw per row, whichever case weighs it: a row's value depends on its index
        # and the case it falls in, never on the other rows of its chunk.
        positions = np.zeros(len(indices), dtype=np.int64)
        pending = np.ones(len(indices), dtype=bool)
        for condition, cumulative in self.cases:
            chosen = pending if condition is None else pending & condition.holds(row, len(indices))
            only = _only_value(cumulative)
            if only is not None:  # one value has all the weight: nothing to draw
                positions[chosen] = only
            elif chosen.any():
                positions[chosen] = self.stream.weighted(indices[chosen], cumulative)
            pending &= ~chosen
        return Column(self.values[positions], pending if pending.any() else None)

    def value_space(self) -> ValueSpace:
        # Every listed value, even one of weight 0: a bound, and what an enum must hold.
        values = tuple(self.values.tolist())
        if self.column_type is ColumnType.TEXT:
            return ValueSpace(values=values, max_length=longest(self.values))
        if self.column_type is ColumnType.BOOLEAN:
            return ValueSpace(values=values)
        return ValueSpace(low=min(values), high=max(values), values=values)


def _only_value(cumulative: np.ndarray) -> int | None:
    """The position of the one value with a positive weight, if only one has."""
    positive = np.flatnonzero(np.diff(cumulative, prepend=0.0) > 0)
    return int(positive[0]) if len(positive) == 1 else None

"""choice: one of a list of values, optionally weighted."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType, ValueSpace
from datastorm_core.genfile.types import choice_column_type
from datastorm_core.source.generators.base import Generator
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

    def space(self) -> int:
        return len(self.values)

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.values[ordinals]

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.values[self.stream.weighted(indices, self.cumulative)]

    def value_space(self) -> ValueSpace:
        # Every listed value, even one of weight 0: a bound, and what an enum must hold.
        values = tuple(self.values.tolist())
        if self.column_type is ColumnType.TEXT:
            return ValueSpace(values=values, max_length=longest(self.values))
        if self.column_type is ColumnType.BOOLEAN:
            return ValueSpace(values=values)
        return ValueSpace(low=min(values), high=max(values), values=values)

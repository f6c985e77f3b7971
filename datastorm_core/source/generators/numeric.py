"""Numbers: sequence, int, float, decimal, bool."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.services.distributions import draw_continuous, draw_integers

__all__ = ["BoolGenerator", "DecimalGenerator", "FloatGenerator", "IntGenerator",
           "SequenceGenerator"]

DEFAULT_INT_MAX = 1_000_000
# Without a scale, unique floats are points of a grid this fine over [min, max].
FLOAT_GRID = 1 << 52


def _distribution_problem(gen: Generator) -> list[str]:
    if gen.field.unique and gen.field.param("distribution", "uniform") != "uniform":
        return ["unique values cannot follow a distribution: remove `distribution` or `unique`"]
    return []


class SequenceGenerator(Generator):
    column_type = ColumnType.BIGINT
    unique_by_nature = True

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        start, step = self.field.param("start", 1), self.field.param("step", 1)
        return np.int64(start) + np.int64(step) * indices.astype(np.int64)


class IntGenerator(Generator):
    column_type = ColumnType.BIGINT

    @property
    def bounds(self) -> tuple[int, int]:
        return self.field.param("min", 0), self.field.param("max", DEFAULT_INT_MAX)

    def problems(self) -> list[str]:
        return _distribution_problem(self)

    def space(self) -> int:
        low, high = self.bounds
        return high - low + 1

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return ordinals + np.int64(self.bounds[0])

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        low, high = self.bounds
        return draw_integers(self.stream, indices, low, high, self.field.params)


class FloatGenerator(Generator):
    column_type = ColumnType.DOUBLE

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.field.param("min", 0.0)), float(self.field.param("max", 1.0))

    def problems(self) -> list[str]:
        return _distribution_problem(self)

    def space(self) -> int:
        low, high = self.bounds
        scale = self.field.param("scale")
        if scale is None:
            return FLOAT_GRID if high > low else 1
        return math.floor(round((high - low) * 10**scale, 6)) + 1

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        low, high = self.bounds
        scale = self.field.param("scale")
        if scale is None:
            return low + ordinals.astype(np.float64) * ((high - low) / (FLOAT_GRID - 1))
        return np.round(low + ordinals.astype(np.float64) / 10**scale, scale)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        low, high = self.bounds
        values = draw_continuous(self.stream, indices, low, high, self.field.params)
        scale = self.field.param("scale")
        return np.clip(np.round(values, scale), low, high) if scale is not None else values


class DecimalGenerator(Generator):
    """Exact decimals, carried as int64 counts of 10**-scale (see core.schema)."""

    column_type = ColumnType.NUMERIC

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.scale = self.field.param("scale", 2)
        factor = 10**self.scale
        self.low = math.ceil(round(self.field.param("min", 0) * factor, 6))
        self.high = math.floor(round(self.field.param("max", 1000) * factor, 6))
        digits = len(str(max(abs(self.low), abs(self.high), 1)))
        self.precision = self.field.param("precision", max(digits, self.scale + 1))

    def problems(self) -> list[str]:
        if self.low > self.high:
            return [f"no value with {self.scale} decimal places lies in [min, max]"]
        return _distribution_problem(self)

    def space(self) -> int:
        return self.high - self.low + 1

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return ordinals + np.int64(self.low)

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return draw_integers(self.stream, indices, self.low, self.high, self.field.params)


class BoolGenerator(Generator):
    column_type = ColumnType.BOOLEAN

    def space(self) -> int:
        return 2

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return ordinals == 1

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.stream.below(indices, float(self.field.param("probability", 0.5)))

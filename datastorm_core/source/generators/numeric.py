"""Numbers: sequence, int, float, decimal, bool."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType, ValueSpace
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.services.distributions import draw_continuous, draw_integers

__all__ = ["BoolGenerator", "DecimalGenerator", "FloatGenerator", "IntGenerator",
           "SequenceGenerator"]

DEFAULT_INT_MAX = 1_000_000
# Unique floats with a scale are n / 10**scale for integers |n| below this:
# there, consecutive quotients are further apart than a double's spacing, so
# distinct n give distinct doubles. Wider ranges use the binary grid below.
_DECIMAL_GRID_LIMIT = 1 << 52


def _units(low: float, high: float, scale: int) -> tuple[int, int]:
    """The integers n with n / 10**scale in [low, high]: ``(first, last)``.

    Computed in decimal from each bound's shortest repr, which is what the
    Genfile wrote: 0.1 * 10 is exactly 1, and a tiny positive min is not
    rounded down to 0 (as rounding float products to absorb their noise did).
    """
    factor = Decimal(10) ** scale
    return math.ceil(Decimal(repr(low)) * factor), math.floor(Decimal(repr(high)) * factor)


def _distribution_problem(gen: Generator) -> list[str]:
    if gen.field.unique and gen.field.param("distribution", "uniform") != "uniform":
        return ["unique values cannot follow a distribution: remove `distribution` or `unique`"]
    return []


class SequenceGenerator(Generator):
    column_type = ColumnType.BIGINT
    unique_by_nature = True

    def problems(self) -> list[str]:
        start, step = self.field.param("start", 1), self.field.param("step", 1)
        last = start + step * max(self.ctx.table_rows - 1, 0)
        if not -(2**63) <= last < 2**63:
            return [f"start + step * (rows - 1) is {last:,}, beyond a 64-bit integer: the "
                    "sequence would wrap around; lower start or step"]
        return []

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        start, step = self.field.param("start", 1), self.field.param("step", 1)
        return np.int64(start) + np.int64(step) * indices.astype(np.int64)

    def value_space(self) -> ValueSpace:
        # The table's rows 0 .. rows - 1; a table of no rows has no value, and
        # (start, start) is as true a bound as any. Where rows go on (days after
        # `now`), only the start bounds the values.
        start, step = self.field.param("start", 1), self.field.param("step", 1)
        if self.ctx.rows_grow:
            return ValueSpace(low=start) if step > 0 else ValueSpace(high=start)
        last = start + step * max(self.ctx.table_rows - 1, 0)
        return ValueSpace(low=min(start, last), high=max(start, last))


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

    def value_space(self) -> ValueSpace:
        low, high = self.bounds
        return ValueSpace(low=low, high=high)  # every distribution is clipped to [min, max]


class FloatGenerator(Generator):
    column_type = ColumnType.DOUBLE

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.field.param("min", 0.0)), float(self.field.param("max", 1.0))

    def problems(self) -> list[str]:
        grid = self._decimal_grid()
        if grid is not None and grid[0] > grid[1]:
            return [f"no value with {self.field.param('scale')} decimal places lies in "
                    "[min, max]"]
        return _distribution_problem(self)

    def _decimal_grid(self) -> tuple[int, int] | None:
        """``[first, last]``: the n with n / 10**scale in [min, max]; None if unscaled.

        Also None where |n| reaches 2**52: there doubles are as coarse as
        10**-scale, so rounding to `scale` places means nothing (and
        min * 10**scale may not even be finite).
        """
        scale = self.field.param("scale")
        if scale is None:
            return None
        first, last = _units(*self.bounds, scale)
        if max(abs(first), abs(last)) >= _DECIMAL_GRID_LIMIT:
            return None
        return first, last

    def _grid(self) -> tuple[int, int, float, float]:
        """Unique values: integers n in [first, last], each giving n * multiplier / divisor.

        Distinct n must give distinct doubles within [min, max]. A grid of
        2**52 points spread evenly over [min, max] does not: far from zero,
        doubles are coarser than its step and neighbouring points collapse
        into one value. So the grid is either n / 10**scale for |n| <
        2**52, or multiples of the spacing of doubles at the bounds'
        magnitude (a power of two), which are exact doubles.
        """
        grid = self._decimal_grid()
        if grid is not None:
            return grid[0], grid[1], 1.0, float(10 ** self.field.param("scale"))
        low, high = self.bounds
        unit = math.ulp(max(abs(low), abs(high)))
        return math.ceil(low / unit), math.floor(high / unit), unit, 1.0

    def space(self) -> int:
        first, last, _, _ = self._grid()
        return max(0, last - first + 1)

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        first, _, multiplier, divisor = self._grid()
        n = (ordinals + np.int64(first)).astype(np.float64)
        return n * multiplier / divisor

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        low, high = self.bounds
        values = draw_continuous(self.stream, indices, low, high, self.field.params)
        grid = self._decimal_grid()
        if grid is None:
            return values
        # Clip to the bounds rounded inwards to `scale` places: clipping to a
        # bound with more decimals than `scale` would let it through as it is.
        scale = self.field.param("scale")
        return np.clip(np.round(values, scale), grid[0] / 10**scale, grid[1] / 10**scale)

    def value_space(self) -> ValueSpace:
        grid = self._decimal_grid()
        if grid is not None:  # rounded to `scale` places, then clipped inside [min, max]
            scale = 10 ** self.field.param("scale")
            return ValueSpace(low=grid[0] / scale, high=grid[1] / scale)
        low, high = self.bounds
        return ValueSpace(low=low, high=high)


class DecimalGenerator(Generator):
    """Exact decimals, carried as int64 counts of 10**-scale (see core.schema)."""

    column_type = ColumnType.NUMERIC

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.scale = self.field.param("scale", 2)
        self.low, self.high = _units(self.field.param("min", 0), self.field.param("max", 1000),
                                     self.scale)
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
        # Values travel as counts of 10**-scale; the Genfile's mean and stddev are in the
        # column's own units, so they are counted the same way.
        params = dict(self.field.params)
        unit = 10**self.scale
        for name in ("mean", "stddev"):
            if params.get(name) is not None:
                params[name] = params[name] * unit
        return draw_integers(self.stream, indices, self.low, self.high, params)

    def value_space(self) -> ValueSpace:
        # Decimal(1250).scaleb(-2) is Decimal("12.50"): the bound carries the scale.
        return ValueSpace(low=Decimal(self.low).scaleb(-self.scale),
                          high=Decimal(self.high).scaleb(-self.scale))


class BoolGenerator(Generator):
    column_type = ColumnType.BOOLEAN

    def space(self) -> int:
        return 2

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return ordinals == 1

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.stream.below(indices, float(self.field.param("probability", 0.5)))

    def value_space(self) -> ValueSpace:
        return ValueSpace(values=(False, True))

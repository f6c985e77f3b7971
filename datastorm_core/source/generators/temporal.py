"""Dates and timestamps in a range, with an optional distribution."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType
from datastorm_core.genfile.model import DailyPartitioning, Field
from datastorm_core.genfile.timeexpr import resolve_time
from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.services.distributions import draw_integers

__all__ = ["DailyTimeGenerator", "DateGenerator", "TimestampGenerator"]

_EPOCH = datetime(1970, 1, 1)
DEFAULT_START, DEFAULT_END = "-5y", "now"


class _TimeGenerator(Generator):
    """Whole units (days or seconds) since 1970 in [start, end]."""

    unit = "s"
    unit_seconds = 1

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        start = resolve_time(self.field.param("start", DEFAULT_START), self.ctx.now)
        end = resolve_time(self.field.param("end", DEFAULT_END), self.ctx.now)
        self.low = -(-int((start - _EPOCH).total_seconds()) // self.unit_seconds)  # ceil
        self.high = int((end - _EPOCH).total_seconds()) // self.unit_seconds

    def problems(self) -> list[str]:
        if self.low > self.high:
            return ["no whole value lies between start and end"]
        if self.field.unique and self.field.param("distribution", "uniform") != "uniform":
            return ["unique values cannot follow a distribution: remove `distribution` or `unique`"]
        return []

    def space(self) -> int:
        return self.high - self.low + 1

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return (ordinals + np.int64(self.low)).astype(f"datetime64[{self.unit}]")

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        units = draw_integers(self.stream, indices, self.low, self.high, self.field.params)
        return units.astype(f"datetime64[{self.unit}]")


class DateGenerator(_TimeGenerator):
    column_type = ColumnType.DATE
    unit = "D"
    unit_seconds = 86_400


class TimestampGenerator(_TimeGenerator):
    column_type = ColumnType.TIMESTAMP


class DailyTimeGenerator(Generator):
    """The time field of a table partitioned by day: row *i* falls inside its day.

    Day *d* holds rows ``[d * R, (d + 1) * R)``; inside a day the times rise
    with the row index (as an event log's do), each row at a random second
    of its own slice of the day.
    """

    def __init__(self, field: Field, ctx: GeneratorContext, daily: DailyPartitioning) -> None:
        super().__init__(field, ctx)
        self.column_type = ColumnType.DATE if field.type == "date" else ColumnType.TIMESTAMP
        self.first_day = (daily.start - _EPOCH.date()).days
        self.rows_per_day = daily.rows_per_day

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        days = np.int64(self.first_day) + indices // self.rows_per_day
        if self.column_type is ColumnType.DATE:
            return days.astype("datetime64[D]")
        slot = (indices % self.rows_per_day).astype(np.float64) + self.stream.uniform(indices)
        seconds = np.floor(slot * (86_400 / self.rows_per_day)).astype(np.int64)
        return (days * 86_400 + seconds).astype("datetime64[s]")

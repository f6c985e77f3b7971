"""Dates and timestamps in a range, with an optional distribution; durations and times of day.

``interval`` and ``time`` are text in PostgreSQL's input syntax of those
types ("2 days 03:00:00", "08:30:00"), so that an application's interval
and time columns can be filled; they are whole seconds drawn in a range,
formatted on whole arrays with lookup tables of two-digit numbers.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType, ValueSpace
from datastorm_core.core.values import format_numeric
from datastorm_core.genfile import fieldspecs
from datastorm_core.genfile.model import DailyPartitioning, Field
from datastorm_core.genfile.timeexpr import resolve_time
from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.services.distributions import draw_integers

__all__ = ["DailyTimeGenerator", "DateGenerator", "IntervalGenerator", "TimeGenerator",
           "TimestampGenerator", "interval_text"]

_EPOCH = datetime(1970, 1, 1)
DEFAULT_START, DEFAULT_END = "-5y", "now"
DEFAULT_INTERVAL = ("0s", "30d")
DEFAULT_TIME = ("00:00:00", "23:59:59")
SECONDS_A_DAY = 86_400


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

    def value_space(self) -> ValueSpace:
        low, high = (_EPOCH + timedelta(seconds=units * self.unit_seconds)
                     for units in (self.low, self.high))
        if self.column_type is ColumnType.DATE:
            return ValueSpace(low=low.date(), high=high.date())
        return ValueSpace(low=low, high=high)


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

    def value_space(self) -> ValueSpace:
        # From the first day on: `--day` may write any later day, after `now` too.
        first = _EPOCH + timedelta(days=self.first_day)
        return ValueSpace(low=first.date() if self.column_type is ColumnType.DATE else first)


@lru_cache(maxsize=1)
def _two_digits() -> np.ndarray:
    """"00" to "99": hours, minutes and seconds are gathered from it, not formatted."""
    return np.array([f"{n:02d}" for n in range(100)])


def _clock(seconds: np.ndarray) -> np.ndarray:
    """"HH:MM:SS" of seconds within a day (0 to 86399)."""
    two = _two_digits()
    hours, rest = np.divmod(seconds, 3600)
    minutes, secs = np.divmod(rest, 60)
    return np.strings.add(np.strings.add(np.strings.add(np.strings.add(
        two[hours], ":"), two[minutes]), ":"), two[secs])


def interval_text(seconds: np.ndarray) -> np.ndarray:
    """PostgreSQL's text of whole-second intervals: "03:00:00", "1 day 00:00:05", "3 days ..."."""
    seconds = np.asarray(seconds, dtype=np.int64)
    days, rest = np.divmod(seconds, SECONDS_A_DAY)
    clock = _clock(rest)
    if not len(seconds) or not days.any():
        return clock
    # Day counts are formatted once for the whole chunk, then chosen per row.
    counted = np.strings.add(format_numeric(days), " days ")
    prefix = np.where(days == 0, "", np.where(days == 1, "1 day ", counted))
    return np.strings.add(prefix, clock)


class _SecondsGenerator(Generator):
    """Whole seconds in [low, high], drawn uniformly, or enumerated for unique fields."""

    low: int
    high: int

    def problems(self) -> list[str]:
        return [] if self.low <= self.high else ["no whole second lies between the bounds"]

    def space(self) -> int:
        return self.high - self.low + 1

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        return self.text(ordinals.astype(np.int64) + np.int64(self.low))

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        return self.text(self.stream.integers(indices, self.low, self.high))

    @abstractmethod
    def text(self, seconds: np.ndarray) -> np.ndarray:
        """The values' text, from their seconds."""


class IntervalGenerator(_SecondsGenerator):
    """A duration in [min, max] as PostgreSQL's interval text ("2 days 03:00:00")."""

    syntax = "interval"

    def __init__(self, field: Field, ctx: GeneratorContext) -> None:
        super().__init__(field, ctx)
        # Validation has read both bounds (genfile.validate): they parse here.
        self.low = fieldspecs.parse_duration(field.param("min", DEFAULT_INTERVAL[0]))
        self.high = fieldspecs.parse_duration(field.param("max", DEFAULT_INTERVAL[1]))

    def text(self, seconds: np.ndarray) -> np.ndarray:
        return interval_text(seconds)

    def value_space(self) -> ValueSpace:
        # The text grows with the duration (8, 14 for "1 day ...", then day digits):
        # the longest is the text of max.
        return ValueSpace(max_length=len(str(interval_text(np.array([self.high]))[0])))


class TimeGenerator(_SecondsGenerator):
    """A time of day in [start, end], to the second: "08:30:00"."""

    syntax = "time"

    def __init__(self, field: Field, ctx: GeneratorContext) -> None:
        super().__init__(field, ctx)
        self.low = fieldspecs.parse_time_of_day(field.param("start", DEFAULT_TIME[0]))
        self.high = fieldspecs.parse_time_of_day(field.param("end", DEFAULT_TIME[1]))

    def text(self, seconds: np.ndarray) -> np.ndarray:
        return _clock(seconds)

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=8)

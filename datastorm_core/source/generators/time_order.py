"""A date or timestamp after (or before) another field, at a drawn gap.

``value = base + gap`` (after) or ``base - gap`` (before), in the column's
units (days or seconds), the gap drawn per row in [min, max] with the
field's distribution (``genfile.time_order`` reads the parameters). An
absolute bound (after: ``end``; before: ``start``) shrinks each row's max
gap so the value stays inside it; the min gap never shrinks: order wins,
and ``late_problems`` refuses a base whose latest value leaves no room.

``cumulative = true`` (a table tied by ``per_parent``, after a parent's
field): the k-th child of a parent gets ``base + gap_1 + ... + gap_k``, so
one parent's rows rise in time. The gaps of the children before a row are
drawn again, from the parent's first child on: a row stays a pure function
of its index, whatever chunk or partition it falls in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, ValueSpace
from datastorm_core.genfile.model import Field
from datastorm_core.genfile.time_order import TimeOrder, read_order
from datastorm_core.source.generators.base import Generator, GeneratorContext
from datastorm_core.source.services.randomness import Stream

__all__ = ["OrderedTimeGenerator", "draw_gaps", "is_ordered"]

_EPOCH = datetime(1970, 1, 1)


def is_ordered(f: Field) -> bool:
    """Whether a field is a date or timestamp placed after or before another field."""
    return f.type in ("date", "timestamp") and ("after" in f.params or "before" in f.params)


def draw_gaps(stream: Stream, indices: np.ndarray, order: TimeOrder,
              high: np.ndarray) -> np.ndarray:
    """Gaps in whole units, each in ``[order.gap_min, high]`` (``high`` per row, never
    below the min), shaped by the order's distribution."""
    low = order.gap_min
    width = (high - low).astype(np.float64)
    if order.distribution == "exponential":
        # The gap's mean is low + scale; the draw is cut at each row's max by inverting
        # the truncated CDF, so nothing piles up at the bound.
        scale = (order.mean - low) if order.mean is not None else (order.gap_max - low) / 4
        if not scale > 0:
            return np.full(len(indices), low, dtype=np.int64)
        tail = -np.expm1(-(width + 1.0) / scale)
        drawn = low + np.floor(-scale * np.log1p(-stream.uniform(indices) * tail))
    elif order.distribution == "normal":
        mean = order.mean if order.mean is not None else (low + order.gap_max) / 2
        stddev = order.stddev or max((order.gap_max - low) / 6, 1.0)
        drawn = np.rint(mean + stddev * stream.normal(indices))
    else:
        drawn = low + np.floor(stream.uniform(indices) * (width + 1.0))
    return np.clip(drawn, low, high).astype(np.int64)


class OrderedTimeGenerator(Generator):
    """``after``/``before``: a date or timestamp at a gap from its base field."""

    def __init__(self, field: Field, ctx: GeneratorContext) -> None:
        super().__init__(field, ctx)
        dated = field.type == "date"
        self.column_type = ColumnType.DATE if dated else ColumnType.TIMESTAMP
        self.unit, self.unit_seconds = ("D", 86_400) if dated else ("s", 1)
        order = read_order(field.params, ctx.now, self.unit_seconds)  # validated already
        assert order is not None
        self.order = order
        self.bound: int | None = None
        if order.bound is not None:
            seconds = int((order.bound - _EPOCH).total_seconds())
            # An end rounds down to a whole unit, a start up: the value stays inside.
            self.bound = seconds // self.unit_seconds if order.after \
                else -(-seconds // self.unit_seconds)

    # -- checks -------------------------------------------------------------------

    def _base(self) -> ColumnSchema:
        assert self.ctx.tables is not None
        return self.ctx.tables.column(self.ctx.table, self.order.base)

    def _most(self) -> int:
        """Gaps a row's value adds up: the most children of a parent when cumulative."""
        if not self.order.cumulative or self.ctx.tables is None:
            return 1
        layout = self.ctx.tables.layout(self.ctx.table)
        return max(1, layout.most) if layout is not None and layout.most is not None else 1

    def late_problems(self) -> list[str]:
        order, word = self.order, "after" if self.order.after else "before"
        base = self._base()
        if base.type not in (ColumnType.DATE, ColumnType.TIMESTAMP):
            return [f"{word} reads {order.base}, which makes {base.type.value} values: it "
                    "must name a date or timestamp field"]
        space = base.space
        edge = None if space is None else (space.high if order.after else space.low)
        if self.bound is None or edge is None:
            return []
        most = self._most()
        least = self._units(edge, up=order.after) + (most * order.gap_min if order.after
                                                     else -order.gap_min)
        if (least <= self.bound) if order.after else (least >= self.bound):
            return []
        each = f" for each of up to {most:,} children" if order.cumulative else ""
        side, which = ("before end", "latest") if order.after else ("after start", "earliest")
        return [f"{word} {order.base} by at least {order.shown_min}{each} leaves no room "
                f"{side} = {order.shown_bound}: the {which} {base.name} is {edge}"]

    def value_space(self) -> ValueSpace | None:
        base = self._base()
        if base.type not in (ColumnType.DATE, ColumnType.TIMESTAMP):
            return None  # refused by late_problems; a schema may be asked for before
        space = base.space
        order = self.order
        low = high = None
        gaps = self._most()
        if space is not None:
            if order.after:
                low = None if space.low is None else self._units(space.low, up=True) + \
                    order.gap_min
                if space.high is not None:
                    high = self.bound if self.bound is not None else \
                        self._units(space.high, up=True) + gaps * order.gap_max
            else:
                high = None if space.high is None else self._units(space.high, up=False) - \
                    order.gap_min
                if space.low is not None:
                    low = self.bound if self.bound is not None else \
                        self._units(space.low, up=False) - order.gap_max
        if low is None and high is None:
            return None
        return ValueSpace(low=self._moment(low), high=self._moment(high))

    def _units(self, moment: date, up: bool) -> int:
        """A base's bound (a date or a datetime) in this column's units, rounded up or down."""
        if not isinstance(moment, datetime):
            moment = datetime(moment.year, moment.month, moment.day)
        seconds = int((moment - _EPOCH).total_seconds())
        return -(-seconds // self.unit_seconds) if up else seconds // self.unit_seconds

    def _moment(self, units: int | None) -> date | datetime | None:
        if units is None:
            return None
        moment = _EPOCH + timedelta(seconds=units * self.unit_seconds)
        return moment.date() if self.column_type is ColumnType.DATE else moment

    # -- values -------------------------------------------------------------------

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        order = self.order
        base = self._base_units(row[order.base].values)
        if order.cumulative:
            gaps = self._cumulative_gaps(indices, base)
        else:
            gaps = draw_gaps(self.stream, indices, order, self._highs(base, 1))
        values = base + gaps if order.after else base - gaps
        return values.astype(f"datetime64[{self.unit}]")

    def _base_units(self, values: np.ndarray) -> np.ndarray:
        """The base in this column's units: a timestamp base of a date rounds up after it
        (the date is not before the moment) and down before it."""
        seconds = values.astype("datetime64[s]").astype(np.int64)
        if self.unit_seconds == 1:
            return seconds
        days = seconds // self.unit_seconds
        if self.order.after:
            days += (seconds % self.unit_seconds != 0)
        return days

    def _highs(self, base: np.ndarray, gaps: np.ndarray | int) -> np.ndarray:
        """Each row's max gap: the order's, shrunk so ``gaps`` of them stay in the bound."""
        order = self.order
        high = np.full(len(base), order.gap_max, dtype=np.int64)
        if self.bound is not None:
            room = (self.bound - base) if order.after else (base - self.bound)
            high = np.minimum(high, room // gaps)
        return np.maximum(high, order.gap_min)

    def _cumulative_gaps(self, indices: np.ndarray, base: np.ndarray) -> np.ndarray:
        """gap_1 + ... + gap_k for the k-th child of each row's parent."""
        assert self.ctx.tables is not None
        layout = self.ctx.tables.layout(self.ctx.table)
        assert layout is not None  # checked: cumulative only in a tied table
        parents, starts = layout.locate(indices)
        if not len(indices):
            return np.zeros(0, dtype=np.int64)
        # Every parent's children from its first up to the last one asked for, as one
        # array of rows (runs per parent); the gaps summed along each run.
        distinct, first, where, last = _by_parent(parents, indices)
        run_start = starts[first]
        lengths = last - run_start + 1
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        rows = np.repeat(run_start - offsets, lengths) + np.arange(int(lengths.sum()))
        # A parent's max gap: its room shared among all its children (base is the
        # parent's field, so the same for each of them).
        highs = self._highs(base[first], np.maximum(layout.counts(distinct), 1))
        drawn = draw_gaps(self.stream, rows, self.order, np.repeat(highs, lengths))
        summed = np.concatenate(([0], np.cumsum(drawn)))
        position = offsets[where] + (indices - starts) + 1
        return summed[position] - summed[offsets[where]]


def _by_parent(parents: np.ndarray, indices: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct parents, the position of each one's first row, each row's parent (as
    a position in the distinct ones) and each parent's last row asked for."""
    if bool((np.diff(indices) > 0).all()):  # a chunk: rows rising, parents in runs
        changes = np.flatnonzero(parents[1:] != parents[:-1])
        first = np.concatenate(([0], changes + 1))
        where = np.repeat(np.arange(len(first)), np.diff(np.append(first, len(parents))))
        last = indices[np.append(changes, len(parents) - 1)]
        return parents[first], first, where, last
    distinct, first, where = np.unique(parents, return_index=True, return_inverse=True)
    where = where.reshape(-1)
    last = np.zeros(len(distinct), dtype=np.int64)
    np.maximum.at(last, where, indices)
    return distinct, first, where, last

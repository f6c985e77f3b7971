"""The language's functions over whole arrays, one per entry of the language's table.

``genfile.expressions.functions`` says what each takes and makes; this is
how. A NULL argument gives NULL (``coalesce`` aside).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from datastorm_core.genfile.expressions import ExprType
from datastorm_core.genfile.expressions.tree import Call, Literal
from datastorm_core.source.services import expr_numbers as num
from datastorm_core.source.services.expr_calendar import (
    MAX_MONTHS,
    MAX_SECONDS,
    SECONDS_A_DAY,
    age,
    date_parts,
)
from datastorm_core.source.services.expr_values import Interval, Value, text_of

__all__ = ["FUNCTIONS", "either", "where"]


def either(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """Rows NULL in either mask."""
    if a is None:
        return b
    return a if b is None else a | b


def where(chosen: np.ndarray, then: Value, other: Value) -> Value:
    """``then`` where ``chosen``, else ``other``, NULLs with them."""
    if isinstance(then.data, Interval):
        data: object = Interval(np.where(chosen, then.data.months, other.data.months),
                                np.where(chosen, then.data.seconds, other.data.seconds))
    else:
        data = np.where(chosen, then.data, other.data)
    if then.nulls is None and other.nulls is None:
        return Value(data)
    nulls = np.where(chosen, False if then.nulls is None else then.nulls,
                     False if other.nulls is None else other.nulls)
    return Value(data, nulls)


def _all_nulls(args: list[Value]) -> np.ndarray | None:
    nulls = None
    for a in args:
        nulls = either(nulls, a.nulls)
    return nulls


def _type(call: Call, position: int) -> ExprType:
    kind = call.args[position].type
    assert kind is not None
    return kind


def _round(args: list[Value], call: Call) -> Value:
    kind = _type(call, 0)
    value = args[0]
    if kind.kind == "int":
        return value
    if len(call.args) == 2:
        places = call.args[1]
        assert isinstance(places, Literal) and isinstance(places.value, int)
        if kind.kind == "float":
            # From 2**52 on a double has no fraction left; rounding it would scale it by
            # 10**n first, and overflow.
            with np.errstate(over="ignore", invalid="ignore"):
                rounded = np.round(value.data, places.value)
            return Value(np.where(np.abs(value.data) < 2.0**52, rounded, value.data),
                         value.nulls)
        return Value(num.half_away(value.data, max(kind.scale - places.value, 0)), value.nulls)
    if kind.kind == "decimal":
        return Value(num.half_away(value.data, kind.scale), value.nulls)
    data, bad = num.to_int(np.rint(value.data))  # Python's round: half to even
    return Value(data, either(value.nulls, bad))


def _floor_or_ceil(up: bool) -> Callable[[list[Value], Call], Value]:
    def compute(args: list[Value], call: Call) -> Value:
        kind = _type(call, 0)
        value = args[0]
        if kind.kind == "int":
            return value
        if kind.kind == "decimal":
            unit = np.int64(10**kind.scale)
            data = -np.floor_divide(-value.data, unit) if up else \
                np.floor_divide(value.data, unit)
            return Value(data, value.nulls)
        data, bad = num.to_int(np.ceil(value.data) if up else np.floor(value.data))
        return Value(data, either(value.nulls, bad))
    return compute


def _abs(args: list[Value], call: Call) -> Value:
    value = args[0]
    if _type(call, 0).kind == "float":
        return Value(np.abs(value.data), value.nulls)
    negated, bad = num.checked_negate(value.data)
    return Value(np.where(value.data < 0, negated, value.data),
                 either(value.nulls, None if bad is None else bad & (value.data < 0)))


def _extreme(smallest: bool) -> Callable[[list[Value], Call], Value]:
    def compute(args: list[Value], call: Call) -> Value:
        data = args[0].data
        for other in args[1:]:
            pick = other.data < data if smallest else other.data > data
            data = np.where(pick, other.data, data)
        return Value(data, _all_nulls(args))
    return compute


def _coalesce(args: list[Value], call: Call) -> Value:
    result = args[-1]
    for value in reversed(args[:-1]):
        result = value if value.nulls is None else where(~value.nulls, value, result)
    return result


def _span(months: int, seconds: int) -> Callable[[list[Value], Call], Value]:
    """``months(n)``, ``days(n)``...: n of a unit; beyond the calendar is no value."""
    def compute(args: list[Value], call: Call) -> Value:
        n = np.asarray(args[0].data, dtype=np.int64)
        limit = MAX_MONTHS // months if months else MAX_SECONDS // seconds
        far = (n > limit) | (n < -limit)  # not abs(): the smallest int64 has no opposite
        safe = np.where(far, 0, n)
        data = Interval(safe * months, safe * seconds)
        return Value(data, either(args[0].nulls, far if np.any(far) else None))
    return compute


def _days_of(value: Value, kind: ExprType) -> np.ndarray:
    return np.floor_divide(value.data, SECONDS_A_DAY) if kind.kind == "timestamp" \
        else value.data


def _date(args: list[Value], call: Call) -> Value:
    return Value(_days_of(args[0], _type(call, 0)), args[0].nulls)


def _part(index: int) -> Callable[[list[Value], Call], Value]:
    def compute(args: list[Value], call: Call) -> Value:
        return Value(date_parts(_days_of(args[0], _type(call, 0)))[index], args[0].nulls)
    return compute


def _age(args: list[Value], call: Call) -> Value:
    seconds = [v.data * SECONDS_A_DAY if _type(call, i).kind == "date" else v.data
               for i, v in enumerate(args)]
    return Value(age(np.asarray(seconds[0]), np.asarray(seconds[1])), _all_nulls(args))


def _text(args: list[Value], call: Call) -> Value:
    return Value(text_of(args[0].data, _type(call, 0)), args[0].nulls)


def _concat(args: list[Value], call: Call) -> Value:
    texts = [text_of(v.data, _type(call, i)) for i, v in enumerate(args)]
    joined = texts[0]
    for text in texts[1:]:
        joined = np.strings.add(joined, text)
    return Value(np.asarray(joined), _all_nulls(args))


def _case(upper: bool) -> Callable[[list[Value], Call], Value]:
    def compute(args: list[Value], call: Call) -> Value:
        change = np.strings.upper if upper else np.strings.lower
        return Value(change(args[0].data), args[0].nulls)
    return compute


FUNCTIONS: dict[str, Callable[[list[Value], Call], Value]] = {
    "round": _round, "floor": _floor_or_ceil(up=False), "ceil": _floor_or_ceil(up=True),
    "abs": _abs, "min": _extreme(smallest=True), "max": _extreme(smallest=False),
    "coalesce": _coalesce, "years": _span(12, 0), "months": _span(1, 0),
    "days": _span(0, SECONDS_A_DAY), "hours": _span(0, 3600), "minutes": _span(0, 60),
    "seconds": _span(0, 1), "date": _date, "year": _part(0), "month": _part(1),
    "day": _part(2), "age": _age, "text": _text, "concat": _concat, "lower": _case(False),
    "upper": _case(True),
}

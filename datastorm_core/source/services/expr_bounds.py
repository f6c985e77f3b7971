"""What an expression can make, without making it: bounds, and whether it may be NULL.

Interval arithmetic over the tree, from the value spaces of the fields it
reads (an ``int`` in [1, 10] times a ``decimal`` in [0, 1000.00]). Bounds
are in the evaluator's units (decimal counts, dates in days, timestamps in
seconds) and are always true bounds, never estimates: a target refuses a
column they do not fit. ``partial`` says whether a row whose inputs are all
values can still be NULL (a division by a range holding 0, a sum that may
pass 64 bits): the column is then nullable.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from datastorm_core.core.schema import ValueSpace
from datastorm_core.genfile.expressions import ExprType, Node
from datastorm_core.genfile.expressions.tree import (
    Binary,
    Call,
    Convert,
    IfElse,
    Literal,
    Name,
    Unary,
)
from datastorm_core.source.services.expr_calendar import MAX_MONTHS, MAX_SECONDS, SECONDS_A_DAY
from datastorm_core.source.services.expr_numbers import INT64_LIMIT
from datastorm_core.source.services.expr_values import DAYS, SECONDS

__all__ = ["Analysis", "analyse", "value_space"]

_EPOCH = datetime(1970, 1, 1)
Bounds = tuple[Any, Any] | None  # (low, high); an interval's are ((months), (seconds))


@dataclass(frozen=True)
class Analysis:
    bounds: Bounds
    partial: bool  # may be NULL where every input is a value
    # The int and decimal nodes (by id) whose bounds fit 64 bits: the evaluator skips
    # their overflow checks, the costliest part of integer arithmetic on arrays.
    exact: frozenset[int] = frozenset()


def analyse(node: Node, space_of: Callable[[str], ValueSpace | None]) -> Analysis:
    """Bounds of ``node`` (None: unknown) and whether it is partial, over the whole tree."""
    analyser = _Analyser(space_of)
    found = analyser.node(node)
    return Analysis(found.bounds, found.partial, frozenset(analyser.exact))


def value_space(analysis: Analysis, kind: ExprType) -> ValueSpace | None:
    """The column's ValueSpace from its bounds (numbers, dates, timestamps; booleans)."""
    if kind.kind == "bool":
        return ValueSpace(values=(False, True))
    if analysis.bounds is None or kind.kind in ("text", "interval"):
        return None
    low, high = analysis.bounds
    convert: Callable[[Any], Any] = {
        "int": int, "float": float, "decimal": lambda c: Decimal(int(c)).scaleb(-kind.scale),
        "date": lambda d: date(1970, 1, 1) + timedelta(days=int(d)),
        "timestamp": lambda s: _EPOCH + timedelta(seconds=int(s))}[kind.kind]
    return ValueSpace(low=convert(low), high=convert(high))


def _places(kind: ExprType) -> int:
    return kind.scale if kind.kind == "decimal" else 0


def _fits(bounds: Bounds, kind: ExprType) -> bool:
    if bounds is None:
        return False
    low, high = bounds
    if kind.kind == "float":
        return math.isfinite(low) and math.isfinite(high)
    if kind.kind in ("int", "decimal"):
        return low > -INT64_LIMIT and high < INT64_LIMIT
    if kind.kind == "date":
        return DAYS[0] <= low and high <= DAYS[1]
    if kind.kind == "timestamp":
        return SECONDS[0] <= low and high <= SECONDS[1]
    if kind.kind == "interval":
        if bounds[0] is None or bounds[1] is None:
            return False
        (m_low, m_high), (s_low, s_high) = bounds
        return m_low >= -MAX_MONTHS and m_high <= MAX_MONTHS and \
            s_low >= -MAX_SECONDS and s_high <= MAX_SECONDS
    return True


def _corners(a: Bounds, b: Bounds, op: Callable[[Any, Any], Any]) -> Bounds:
    if a is None or b is None:
        return None
    values = [op(x, y) for x in a for y in b]
    return min(values), max(values)


def _union(parts: list[Bounds], interval: bool = False) -> Bounds:
    """Bounds holding every part's values. An interval's bounds are not (low, high)
    but (months, seconds), each a (low, high) of its own: taken apart, the smallest
    "low" of the pairs was the months of one part and the largest "high" the seconds
    of another (a branch's -30 days came out as a shift of at most 4 days)."""
    if any(p is None for p in parts):
        return None
    if interval:
        return (_union([p[0] for p in parts]),  # type: ignore[index]
                _union([p[1] for p in parts]))  # type: ignore[index]
    return min(p[0] for p in parts), max(p[1] for p in parts)  # type: ignore[index]


def _is_interval(node: Node) -> bool:
    return node.type is not None and node.type.kind == "interval"


def _month_days(months: tuple[int, int]) -> tuple[int, int]:
    """How many days a shift of months moves a date, at least and at most (a month has 28
    to 31 days, and a day clipped to a month's end moves up to 3 days less)."""
    low, high = months
    return min(28 * low, 31 * low) - 4, max(28 * high, 31 * high) + 4


class _Analyser:
    def __init__(self, space_of: Callable[[str], ValueSpace | None]) -> None:
        self.space_of = space_of
        self.exact: set[int] = set()

    def node(self, node: Node) -> Analysis:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:  # comparisons, and/or, in: booleans, NULL only from their inputs
            return Analysis(None, any(self.node(c).partial for c in _children(node)))
        found: Analysis = method(node)
        return found

    def _literal(self, node: Literal) -> Analysis:
        value = node.value
        kind = node.type
        assert kind is not None
        if isinstance(value, (bool, str)):
            return Analysis(None, False)
        if isinstance(value, datetime):
            seconds = (value - _EPOCH) // timedelta(seconds=1)
            return Analysis((seconds, seconds), False)
        if kind.kind == "decimal":
            count = int(Decimal(value).scaleb(kind.scale))  # type: ignore[arg-type]
            return Analysis((count, count), False)
        return Analysis((value, value), False)

    def _name(self, node: Name) -> Analysis:
        kind = node.type
        assert kind is not None
        space = self.space_of(node.name)
        if space is None or space.low is None or space.high is None:
            return Analysis(None, False)
        units = {"int": lambda v: v, "float": float,
                 "decimal": lambda v: Decimal(v).scaleb(kind.scale),
                 "date": lambda v: (v - date(1970, 1, 1)).days,
                 "timestamp": lambda v: math.floor((v - _EPOCH).total_seconds())}.get(kind.kind)
        if units is None:
            return Analysis(None, False)
        low, high = units(space.low), units(space.high)
        if kind.kind == "decimal":
            low, high = math.floor(low), math.ceil(high)
        return Analysis((low, high), False)

    def _result(self, node: Node, bounds: Bounds, partial: bool) -> Analysis:
        assert node.type is not None
        fits = _fits(bounds, node.type)
        if fits and node.type.kind in ("int", "decimal"):
            self.exact.add(id(node))
        return Analysis(bounds if fits else None, partial or not fits)

    def _convert(self, node: Convert) -> Analysis:
        inner = self.node(node.operand)
        have, want = node.operand.type, node.type
        assert have is not None and want is not None
        bounds = inner.bounds
        if want.kind == "text":
            return Analysis(None, inner.partial)
        if bounds is None:
            # Without bounds, only what cannot fail is sure: to a float, a date to a
            # timestamp and back, an int or a decimal to fewer places.
            safe = want.kind in ("float", "date", "timestamp") or (
                have.kind != "float" and _places(want) <= _places(have))
            return Analysis(None, inner.partial or not safe)
        low, high = bounds
        if want.kind == "timestamp":
            return self._result(node, (low * SECONDS_A_DAY, high * SECONDS_A_DAY), inner.partial)
        if want.kind == "date":
            return self._result(node, (low // SECONDS_A_DAY, high // SECONDS_A_DAY),
                                inner.partial)
        if want.kind == "float":
            return self._result(node, (low / 10**_places(have), high / 10**_places(have)),
                                inner.partial)
        factor = Decimal(10) ** (_places(want) - _places(have))
        return self._result(node, (math.floor(Decimal(low) * factor),
                                   math.ceil(Decimal(high) * factor)), inner.partial)

    def _unary(self, node: Unary) -> Analysis:
        inner = self.node(node.operand)
        if node.op == "not":
            return Analysis(None, inner.partial)
        if inner.bounds is None:
            return self._result(node, None, inner.partial)
        if node.type is not None and node.type.kind == "interval":
            (m_low, m_high), (s_low, s_high) = inner.bounds
            return self._result(node, ((-m_high, -m_low), (-s_high, -s_low)), inner.partial)
        return self._result(node, (-inner.bounds[1], -inner.bounds[0]), inner.partial)

    def _binary(self, node: Binary) -> Analysis:
        left, right = self.node(node.left), self.node(node.right)
        partial = left.partial or right.partial
        kinds = {node.left.type.kind, node.right.type.kind}  # type: ignore[union-attr]
        if kinds & {"interval", "date", "timestamp"}:
            return self._result(node, _calendar(node, left.bounds, right.bounds), partial)
        if kinds == {"text"}:
            return Analysis(None, partial)
        a, b = left.bounds, right.bounds
        op = node.op
        if op in ("+", "-", "*"):
            combine = {"+": lambda x, y: x + y, "-": lambda x, y: x - y,
                       "*": lambda x, y: x * y}[op]
            return self._result(node, _corners(a, b, combine), partial)
        if op == "**" or a is None or b is None or b[0] <= 0 <= b[1]:
            return self._result(node, None, True)  # by zero (or a power): may be NULL
        if op == "/":
            return self._result(node, _corners(a, b, lambda x, y: x / y), partial)
        if op == "//":
            return self._result(node, _corners(a, b, lambda x, y: math.floor(x / y)), partial)
        if b[0] > 0:  # % takes the divisor's sign
            return self._result(node, (0, b[1]), partial)
        return self._result(node, (b[0], 0), partial)

    def _ifelse(self, node: IfElse) -> Analysis:
        parts = [self.node(n) for n in (node.condition, node.then, node.other)]
        return Analysis(_union([parts[1].bounds, parts[2].bounds], _is_interval(node)),
                        any(p.partial for p in parts))

    def _call(self, node: Call) -> Analysis:
        args = [self.node(a) for a in node.args]
        partial = any(a.partial for a in args)
        bounds = [a.bounds for a in args]
        kind = node.args[0].type
        assert kind is not None
        name = node.function
        if name in ("min", "max"):
            if any(b is None for b in bounds):
                return Analysis(None, partial)
            if _is_interval(node):  # every argument's shifts: a bound of the least and most
                return Analysis(_union(bounds, interval=True), partial)
            pick = min if name == "min" else max
            return Analysis((pick(b[0] for b in bounds),  # type: ignore[index]
                             pick(b[1] for b in bounds)), partial)  # type: ignore[index]
        if name == "coalesce":
            return Analysis(_union(bounds, _is_interval(node)), partial)
        if name in ("month", "day"):
            return Analysis((1, 12) if name == "month" else (1, 31), partial)
        if name in ("years", "months", "days", "hours", "minutes", "seconds"):
            return self._result(node, _span(name, bounds[0]), partial)
        if name in ("round", "floor", "ceil"):
            return self._result(node, _whole(name, kind, node, bounds[0]), partial)
        if name == "abs" and bounds[0] is not None:
            low, high = bounds[0]
            least = 0 if low <= 0 <= high else min(abs(low), abs(high))
            return self._result(node, (least, max(abs(low), abs(high))), partial)
        if name == "abs":
            return self._result(node, None, partial)
        if name == "date" and bounds[0] is not None and kind.kind == "timestamp":
            return Analysis((bounds[0][0] // SECONDS_A_DAY, bounds[0][1] // SECONDS_A_DAY),
                            partial)
        if name == "date":
            return Analysis(bounds[0], partial)
        if name == "year":
            return Analysis((1, 9999), partial)
        return Analysis(None, partial)  # age, text, concat, lower, upper


def _children(node: Node) -> list[Node]:
    found: list[Node] = []
    for child in vars(node).values():
        found.extend(c for c in (child if isinstance(child, tuple) else (child,))
                     if isinstance(c, Node))
    return found


_UNITS = {"years": (12, 0), "months": (1, 0), "days": (0, SECONDS_A_DAY), "hours": (0, 3600),
          "minutes": (0, 60), "seconds": (0, 1)}


def _span(name: str, n: Bounds) -> Bounds:
    if n is None:
        return None
    months, seconds = _UNITS[name]
    return (n[0] * months, n[1] * months), (n[0] * seconds, n[1] * seconds)


def _whole(name: str, kind: ExprType, node: Call, n: Bounds) -> Bounds:
    if n is None or kind.kind == "int":
        return n
    scale = kind.scale if kind.kind == "decimal" else 0
    places = 0
    if len(node.args) == 2 and isinstance(node.args[1], Literal):
        if kind.kind == "float":
            return n[0] - 1, n[1] + 1  # rounded to places: within one unit of the value
        places = min(int(node.args[1].value), scale)  # type: ignore[arg-type]
    unit = 10 ** (scale - places)  # rounding lands between the floor and the ceiling
    return math.floor(Decimal(n[0]) / unit), math.ceil(Decimal(n[1]) / unit)


def _calendar(node: Binary, a: Bounds, b: Bounds) -> Bounds:
    """Bounds of dates, timestamps and intervals combined (the checker's pairs)."""
    if a is None or b is None:
        return None
    left, right = node.left.type, node.right.type
    assert left is not None and right is not None and node.type is not None
    if left.kind == "interval" and right.moment:
        left, right, a, b = right, left, b, a
    sign = -1 if node.op == "-" else 1
    if left.moment and right.kind == "interval":
        (m_low, m_high), (s_low, s_high) = b
        if sign < 0:
            m_low, m_high, s_low, s_high = -m_high, -m_low, -s_high, -s_low
        shift_low, shift_high = _month_days((m_low, m_high))
        if node.type.kind == "date":
            return (a[0] + shift_low + s_low // SECONDS_A_DAY,
                    a[1] + shift_high + -(-s_high // SECONDS_A_DAY))
        return (a[0] + shift_low * SECONDS_A_DAY + s_low,
                a[1] + shift_high * SECONDS_A_DAY + s_high)
    if left.moment and right.moment:
        difference = (a[0] - b[1], a[1] - b[0])
        return difference if node.type.kind == "int" else ((0, 0), difference)
    if left.kind == right.kind == "interval":
        (am, as_), (bm, bs) = a, b
        if sign < 0:
            bm, bs = (-bm[1], -bm[0]), (-bs[1], -bs[0])
        return (am[0] + bm[0], am[1] + bm[1]), (as_[0] + bs[0], as_[1] + bs[1])
    interval, n = (a, b) if left.kind == "interval" else (b, a)  # interval * n
    return _corners(interval[0], n, lambda x, y: x * y), \
        _corners(interval[1], n, lambda x, y: x * y)

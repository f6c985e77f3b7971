"""The functions of the expression language: their arguments and what they make.

The table is the language's: the parser knows the names, the checker the
rules, the docs list them, and ``source.services.evaluate`` has one
implementation per entry (a test checks that none is missing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from datastorm_core.genfile.expressions.rules import Rule, unify
from datastorm_core.genfile.expressions.tree import (
    DATE,
    INT,
    MAX_SCALE,
    TEXT,
    ExpressionError,
    ExprType,
    Literal,
    Node,
    decimal,
    interval,
)

__all__ = ["FUNCTIONS", "Function"]


@dataclass(frozen=True)
class Function:
    name: str
    usage: str
    summary: str
    least: int  # arguments
    most: int | None  # None: any number
    # The argument types (and the argument nodes, for a literal `n`) -> result and conversions.
    rule: Callable[[tuple[ExprType, ...], tuple[Node, ...], int], Rule]


def _numbers(types: tuple[ExprType, ...], name: str, at: int) -> None:
    for t in types:
        if not t.numeric:
            raise ExpressionError(f"{name}() takes numbers, got {t}", at)


def _round(types: tuple[ExprType, ...], args: tuple[Node, ...], at: int) -> Rule:
    _numbers(types[:1], "round", at)
    if len(args) == 1:
        return INT, (None,)
    places = args[1]
    if not isinstance(places, Literal) or isinstance(places.value, bool) \
            or not isinstance(places.value, int) or not 0 <= places.value <= MAX_SCALE:
        raise ExpressionError(f"round(x, n): n must be a whole number from 0 to {MAX_SCALE} "
                              "written as it is (it decides the result's places)", places.at)
    kind = types[0]
    if kind.kind == "decimal":
        return decimal(min(kind.scale, places.value)), (None, None)
    return kind, (None, None)  # an int is already round; a float stays a float


def _whole(name: str) -> Callable[[tuple[ExprType, ...], tuple[Node, ...], int], Rule]:
    def rule(types: tuple[ExprType, ...], args: tuple[Node, ...], at: int) -> Rule:
        _numbers(types, name, at)
        return INT, (None,)
    return rule


def _abs(types: tuple[ExprType, ...], args: tuple[Node, ...], at: int) -> Rule:
    _numbers(types, "abs", at)
    return types[0], (None,)


def _common(name: str, ordered: bool
            ) -> Callable[[tuple[ExprType, ...], tuple[Node, ...], int], Rule]:
    def rule(types: tuple[ExprType, ...], args: tuple[Node, ...], at: int) -> Rule:
        common = unify(list(types), f"{name}()", at)
        if ordered and common.kind in ("bool", "interval"):
            raise ExpressionError(f"{name}() takes numbers, dates, timestamps or text, "
                                  f"got {common}", at)
        return common, tuple(None if t == common else common for t in types)
    return rule


def _span(months: bool, whole_days: bool
          ) -> Callable[[tuple[ExprType, ...], tuple[Node, ...], int], Rule]:
    def rule(types: tuple[ExprType, ...], args: tuple[Node, ...], at: int) -> Rule:
        if types[0] != INT:
            raise ExpressionError(f"takes a whole number, got {types[0]}: write round(x), "
                                  "floor(x) or ceil(x)", at)
        return interval(months, whole_days), (None,)
    return rule


def _moments(name: str, result: ExprType
             ) -> Callable[[tuple[ExprType, ...], tuple[Node, ...], int], Rule]:
    def rule(types: tuple[ExprType, ...], args: tuple[Node, ...], at: int) -> Rule:
        for t in types:
            if not t.moment:
                raise ExpressionError(f"{name}() takes a date or a timestamp, got {t}", at)
        return result, tuple(None for _ in types)
    return rule


def _texts(name: str, only_text: bool
           ) -> Callable[[tuple[ExprType, ...], tuple[Node, ...], int], Rule]:
    def rule(types: tuple[ExprType, ...], args: tuple[Node, ...], at: int) -> Rule:
        for t in types:
            if only_text and t != TEXT:
                raise ExpressionError(f"{name}() takes text, got {t}: write {name}(text(x))", at)
            if t.kind == "interval":
                raise ExpressionError(f"{name}() cannot write an interval as text", at)
        return TEXT, tuple(None for _ in types)
    return rule


FUNCTIONS: dict[str, Function] = {f.name: f for f in (
    Function("round", "round(x) or round(x, n)",
             "x rounded to a whole number (an int), or to n places; half away from zero for "
             "ints and decimals, half to even for floats", 1, 2, _round),
    Function("floor", "floor(x)", "the largest whole number <= x (an int)", 1, 1,
             _whole("floor")),
    Function("ceil", "ceil(x)", "the smallest whole number >= x (an int)", 1, 1,
             _whole("ceil")),
    Function("abs", "abs(x)", "x without its sign", 1, 1, _abs),
    Function("min", "min(a, b, ...)", "the smallest of its arguments", 2, None,
             _common("min", ordered=True)),
    Function("max", "max(a, b, ...)", "the largest of its arguments", 2, None,
             _common("max", ordered=True)),
    Function("coalesce", "coalesce(a, b, ...)", "the first argument that is not NULL", 2,
             None, _common("coalesce", ordered=False)),
    Function("years", "years(n)", "an interval of n years (12 months)", 1, 1,
             _span(True, True)),
    Function("months", "months(n)", "an interval of n months: added to Jan 31, one month "
             "gives the end of February", 1, 1, _span(True, True)),
    Function("days", "days(n)", "an interval of n days", 1, 1, _span(False, True)),
    Function("hours", "hours(n)", "an interval of n hours", 1, 1, _span(False, False)),
    Function("minutes", "minutes(n)", "an interval of n minutes", 1, 1, _span(False, False)),
    Function("seconds", "seconds(n)", "an interval of n seconds", 1, 1, _span(False, False)),
    Function("date", "date(ts)", "the date of a timestamp", 1, 1, _moments("date", DATE)),
    Function("year", "year(d)", "the year of a date or timestamp", 1, 1, _moments("year", INT)),
    Function("month", "month(d)", "the month (1 to 12)", 1, 1, _moments("month", INT)),
    Function("day", "day(d)", "the day of the month (1 to 31)", 1, 1, _moments("day", INT)),
    Function("age", "age(birth, at)", "whole years from birth to at (negative if at is "
             "earlier)", 2, 2, _moments("age", INT)),
    Function("text", "text(x)", "x as text, written as a template writes it", 1, 1,
             _texts("text", only_text=False)),
    Function("concat", "concat(a, b, ...)", "the texts of its arguments, joined", 1, None,
             _texts("concat", only_text=False)),
    Function("lower", "lower(t)", "t in lower case", 1, 1, _texts("lower", only_text=True)),
    Function("upper", "upper(t)", "t in upper case", 1, 1, _texts("upper", only_text=True)),
)}

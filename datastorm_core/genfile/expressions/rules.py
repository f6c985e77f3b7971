"""Typing rules: which types mix, and what each operator makes of its operands.

A rule returns the result type and the type each operand is converted to
first (``None``: as it is); the checker turns those into ``Convert`` nodes.
Decimal arithmetic stays exact where an int64 count of its places can hold
the result (``+ - * % //`` and ``round``); ``/`` and ``**`` go through float64.
"""

from __future__ import annotations

from datastorm_core.genfile.expressions.tree import (
    BOOL,
    DATE,
    FLOAT,
    INT,
    MAX_SCALE,
    TEXT,
    TIMESTAMP,
    ExpressionError,
    ExprType,
    decimal,
    interval,
)

__all__ = ["Rule", "arithmetic", "comparable", "unify"]

#: The result type, and what each operand becomes first (None: unchanged).
Rule = tuple[ExprType, tuple[ExprType | None, ...]]


def unify(types: list[ExprType], what: str, at: int) -> ExprType:
    """The one type values of ``types`` all fit in (branches, lists, min, coalesce)."""
    first = types[0]
    if all(t.numeric for t in types):
        if any(t.kind == "float" for t in types):
            return FLOAT
        scales = [t.scale for t in types if t.kind == "decimal"]
        return decimal(max(scales)) if scales else INT
    if all(t.moment for t in types):
        return TIMESTAMP if any(t.kind == "timestamp" for t in types) else DATE
    if all(t.kind == "interval" for t in types):
        return interval(any(t.months for t in types), all(t.whole_days for t in types))
    if all(t.kind == first.kind for t in types):
        return first
    kinds = sorted({str(t) for t in types})
    raise ExpressionError(f"{what} mixes {' and '.join(kinds)}, which do not mix", at)


def _to(types: tuple[ExprType, ...], target: ExprType) -> tuple[ExprType | None, ...]:
    return tuple(None if t == target else target for t in types)


def comparable(left: ExprType, right: ExprType, op: str, at: int) -> tuple[ExprType | None, ...]:
    """What the two sides of a comparison become; refuse what cannot be compared."""
    common = unify([left, right], f"{op}", at)
    if op not in ("==", "!=") and common.kind == "bool":
        raise ExpressionError(f"{op} orders values; true and false have no order: use == or !=",
                              at)
    if common.kind == "interval" and common.months:
        raise ExpressionError(f"{op} cannot compare intervals holding months or years (a month "
                              "has no fixed length): compare the dates instead", at)
    return _to((left, right), common)


def arithmetic(op: str, left: ExprType, right: ExprType, at: int) -> Rule:
    """``left op right`` for + - * / // % **."""
    if left.numeric and right.numeric:
        return _numeric(op, left, right, at)
    if op == "+" and left.kind == right.kind == "text":
        return TEXT, (None, None)
    if left.kind == "interval" or right.kind == "interval" or left.moment or right.moment:
        return _calendar(op, left, right, at)
    raise ExpressionError(f"{op} cannot combine {left} and {right}", at)


def _numeric(op: str, left: ExprType, right: ExprType, at: int) -> Rule:
    types = (left, right)
    common = unify([left, right], op, at)
    if op in ("/", "**"):
        return FLOAT, _to(types, FLOAT)
    if op == "//":
        # Floored like Python's; exact on ints and decimals (both counted at one scale).
        return (FLOAT, _to(types, FLOAT)) if common.kind == "float" else (INT, _to(types, common))
    if op == "*" and common.kind == "decimal":
        places = left.scale + right.scale
        if places > MAX_SCALE:
            return FLOAT, _to(types, FLOAT)
        # Each side keeps its own scale: the product's count has the sum of the places.
        return decimal(places), (None, None)
    return common, _to(types, common)


def _calendar(op: str, left: ExprType, right: ExprType, at: int) -> Rule:
    """Dates, timestamps and intervals."""
    if op == "+" and right.moment and left.kind == "interval":
        result, (to_right, to_left) = _calendar("+", right, left, at)
        return result, (to_left, to_right)
    if op in ("+", "-") and left.moment and right.kind == "interval":
        if left.kind == "date" and right.whole_days:
            return DATE, (None, None)
        return TIMESTAMP, (None if left.kind == "timestamp" else TIMESTAMP, None)
    if op == "-" and left.moment and right.moment:
        if left.kind == right.kind == "date":
            return INT, (None, None)  # days between, as in SQL
        return interval(False, False), _to((left, right), TIMESTAMP)
    if op in ("+", "-") and left.kind == right.kind == "interval":
        return interval(left.months or right.months, left.whole_days and right.whole_days), \
            (None, None)
    if op == "*" and {left.kind, right.kind} == {"interval", "int"}:
        return (left if left.kind == "interval" else right), (None, None)
    if (left.moment and right.numeric) or (left.numeric and right.moment):
        moment = left if left.moment else right
        hint = "days(n)" if moment.kind == "date" else "days(n), hours(n)..."
        raise ExpressionError(f"{op} cannot combine {left} and {right}: a number of what? "
                              f"write {hint}", at)
    raise ExpressionError(f"{op} cannot combine {left} and {right}", at)


def negate(operand: ExprType, at: int) -> ExprType:
    if operand.numeric or operand.kind == "interval":
        return operand
    raise ExpressionError(f"- cannot negate {operand}", at)


def need_bool(operand: ExprType, what: str, at: int) -> None:
    if operand != BOOL:
        raise ExpressionError(f"{what} needs a condition (true or false), got {operand}", at)

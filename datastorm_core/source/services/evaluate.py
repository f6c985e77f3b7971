"""The evaluator: a checked expression tree over a chunk's columns, node by node.

Each node is computed for the whole chunk at once (numpy), never row by
row. The tree is the one ``genfile.expressions`` checked: every node has
its type and every conversion is a node, so nothing is decided here but
how. NULL in gives NULL out (``coalesce`` aside); ``and``, ``or`` and
``x if c else y`` treat NULL as SQL does; a result with no value (beyond
64 bits, a division by zero, a date beyond year 9999) is NULL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.genfile.expressions import ExprType, Node
from datastorm_core.genfile.expressions.tree import (
    Binary,
    Call,
    Compare,
    Convert,
    IfElse,
    Literal,
    Logical,
    Member,
    Name,
    Unary,
)
from datastorm_core.source.services import expr_numbers as num
from datastorm_core.source.services.expr_calendar import (
    SECONDS_A_DAY,
    add_interval,
    clip_calendar,
)
from datastorm_core.source.services.expr_functions import FUNCTIONS, either, where
from datastorm_core.source.services.expr_values import (
    Interval,
    Value,
    from_column,
    literal,
    text_of,
    to_column,
)

__all__ = ["evaluate", "evaluate_column"]

# Integer arithmetic whose bounds are known to fit 64 bits: no overflow to look for.
_UNCHECKED: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add, "-": np.subtract, "*": np.multiply}
_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal}


def evaluate_column(node: Node, row: Mapping[str, Column], rows: int,
                    exact: frozenset[int] = frozenset()) -> Column:
    """The expression's values for a chunk of ``rows`` rows, as a column of its type."""
    assert node.type is not None
    return to_column(evaluate(node, row, exact), node.type, rows)


def evaluate(node: Node, row: Mapping[str, Column], exact: frozenset[int] = frozenset()
             ) -> Value:
    """The value of ``node`` (typed) over the columns ``row`` (the fields it names).

    ``exact``: the ids of the int and decimal nodes whose bounds fit 64 bits
    (``expr_bounds``), computed without overflow checks.
    """
    return _Evaluation(row, exact).node(node)


def _kind(node: Node) -> ExprType:
    assert node.type is not None
    return node.type


class _Evaluation:
    def __init__(self, row: Mapping[str, Column], exact: frozenset[int]) -> None:
        self.row = row
        self.exact = exact
        self.handlers: dict[type, Callable[..., Value]] = {
            Literal: self._literal, Name: self._name, Unary: self._unary,
            Binary: self._binary, Compare: self._compare, Logical: self._logical,
            IfElse: self._if_else, Member: self._member, Call: self._call,
            Convert: self._convert}

    def node(self, node: Node) -> Value:
        return self.handlers[type(node)](node)

    def _literal(self, node: Literal) -> Value:
        return literal(node.value, _kind(node))

    def _name(self, node: Name) -> Value:
        return from_column(self.row[node.name], _kind(node))

    def _unary(self, node: Unary) -> Value:
        value = self.node(node.operand)
        if node.op == "not":
            return Value(~value.data, value.nulls)
        if isinstance(value.data, Interval):
            return Value(Interval(-value.data.months, -value.data.seconds), value.nulls)
        if _kind(node).kind == "float" or id(node) in self.exact:
            return Value(-value.data, value.nulls)
        data, bad = num.checked_negate(value.data)
        return Value(data, either(value.nulls, bad))

    def _binary(self, node: Binary) -> Value:
        left, right = self.node(node.left), self.node(node.right)
        nulls = either(left.nulls, right.nulls)
        kinds = (_kind(node.left).kind, _kind(node.right).kind)
        if "interval" in kinds or "date" in kinds or "timestamp" in kinds:
            data, bad = _calendar(node.op, left.data, right.data, kinds, _kind(node))
        elif kinds == ("text", "text"):
            data, bad = np.strings.add(left.data, right.data), None
        elif id(node) in self.exact and node.op in _UNCHECKED:
            data, bad = _UNCHECKED[node.op](left.data, right.data), None
        else:
            data, bad = _ARITHMETIC[node.op](left.data, right.data, _kind(node).kind)
        return Value(data, either(nulls, bad))

    def _compare(self, node: Compare) -> Value:
        left, right = (self.node(o) for o in node.operands)
        a, b = left.data, right.data
        if isinstance(a, Interval):  # months are refused by the checker: seconds compare
            a, b = a.seconds, b.seconds
        return Value(_COMPARE[node.ops[0]](a, b), either(left.nulls, right.nulls))

    def _logical(self, node: Logical) -> Value:
        # SQL's three values: false and NULL is false, true or NULL is true.
        values = [self.node(o) for o in node.operands]
        decisive = node.op == "or"  # the value that settles it
        settled: np.ndarray | bool = False
        unknown: np.ndarray | None = None
        for v in values:
            known = v.data if v.nulls is None else v.data & ~v.nulls
            hit = known if decisive else ~v.data if v.nulls is None else ~v.data & ~v.nulls
            settled = settled | hit
            unknown = either(unknown, v.nulls)
        nulls = None if unknown is None else unknown & ~settled
        return Value(np.asarray(settled if decisive else ~settled), nulls)

    def _if_else(self, node: IfElse) -> Value:
        condition = self.node(node.condition)
        chosen = condition.data if condition.nulls is None else condition.data & ~condition.nulls
        return where(chosen, self.node(node.then), self.node(node.other))

    def _member(self, node: Member) -> Value:
        operand = self.node(node.operand)
        found: np.ndarray | bool = False
        unknown: np.ndarray | None = None
        for option in (self.node(o) for o in node.options):
            a, b = operand.data, option.data
            if isinstance(a, Interval):
                a, b = a.seconds, b.seconds
            equal = a == b
            found = found | (equal if option.nulls is None else equal & ~option.nulls)
            unknown = either(unknown, option.nulls)
        found = np.asarray(found)
        # x in [a, NULL] is NULL unless x equals a (SQL's IN).
        nulls = either(operand.nulls, None if unknown is None else unknown & ~found)
        return Value(~found if node.negated else found, nulls)

    def _call(self, node: Call) -> Value:
        args = [self.node(a) for a in node.args]
        return FUNCTIONS[node.function](args, node)

    def _convert(self, node: Convert) -> Value:
        value = self.node(node.operand)
        data, bad = convert(value.data, _kind(node.operand), _kind(node),
                            id(node) in self.exact)
        return Value(data, either(value.nulls, bad))


def convert(data: np.ndarray, have: ExprType, want: ExprType, exact: bool = False
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """Values of ``have`` as values of ``want`` (the checker allowed the pair); ``exact``:
    the result is known to fit 64 bits."""
    if want.kind == "text":
        return text_of(data, have), None
    if have.kind == "date" and want.kind == "timestamp":
        return clip_calendar(np.asarray(data) * SECONDS_A_DAY, True)
    if have.kind == "timestamp" and want.kind == "date":
        return np.floor_divide(data, SECONDS_A_DAY), None
    if want.kind == "float":
        counts = np.asarray(data, dtype=np.float64)
        return (counts / 10**have.scale if have.kind == "decimal" else counts), None
    if have.kind == "float":  # to int, or to decimal: rounded half away from zero
        scaled = np.asarray(data) * 10.0**want.scale if want.kind == "decimal" else data
        return num.to_int(np.where(scaled < 0, -np.floor(-scaled + 0.5), np.floor(scaled + 0.5)))
    places = (want.scale if want.kind == "decimal" else 0) - \
        (have.scale if have.kind == "decimal" else 0)
    if places >= 0 and exact:
        return np.asarray(data, dtype=np.int64) * np.int64(10**places), None
    if places >= 0:
        return num.rescale(np.asarray(data, dtype=np.int64), places)
    return num.half_away(np.asarray(data, dtype=np.int64), -places), None


def _arithmetic_int(op: str) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray,
                                                                       np.ndarray | None]]:
    return {"+": num.checked_add, "-": num.checked_subtract, "*": num.checked_multiply,
            "//": num.checked_floor_divide, "%": num.checked_modulo}[op]


def _numbers(op: str) -> Callable[[np.ndarray, np.ndarray, str],
                                  tuple[np.ndarray, np.ndarray | None]]:
    def compute(a: np.ndarray, b: np.ndarray, kind: str) -> tuple[np.ndarray,
                                                                   np.ndarray | None]:
        if op == "/":
            return num.checked_divide(a, b)
        if op == "**":
            with np.errstate(all="ignore"):
                return num.float_result(np.power(np.asarray(a, dtype=np.float64), b))
        floats = np.asarray(a).dtype.kind == "f" or np.asarray(b).dtype.kind == "f"
        if floats and op in ("+", "-", "*"):
            with np.errstate(all="ignore"):
                return num.float_result({"+": np.add, "-": np.subtract,
                                         "*": np.multiply}[op](a, b))
        return _arithmetic_int(op)(a, b)
    return compute


_ARITHMETIC = {op: _numbers(op) for op in ("+", "-", "*", "/", "//", "%", "**")}


def _calendar(op: str, a: object, b: object, kinds: tuple[str, str], result: ExprType
              ) -> tuple[object, np.ndarray | None]:
    """Dates, timestamps and intervals (the checker made both sides fit)."""
    if kinds[0] == "interval" and kinds[1] in ("date", "timestamp"):
        return _calendar(op, b, a, (kinds[1], kinds[0]), result)
    if isinstance(b, Interval) and not isinstance(a, Interval):
        if kinds[1] == "interval" and kinds[0] == "int":  # n * interval
            return _calendar(op, b, a, (kinds[1], kinds[0]), result)
        sign = -1 if op == "-" else 1
        return add_interval(np.asarray(a), sign * b.months, sign * b.seconds,
                            timestamp=result.kind == "timestamp")
    if isinstance(a, Interval) and isinstance(b, Interval):
        sign = -1 if op == "-" else 1
        return Interval(a.months + sign * b.months, a.seconds + sign * b.seconds), None
    if isinstance(a, Interval):  # interval * n
        months, bad_months = num.checked_multiply(a.months, np.asarray(b))
        seconds, bad_seconds = num.checked_multiply(a.seconds, np.asarray(b))
        return Interval(months, seconds), either(bad_months, bad_seconds)
    # moment - moment: days between dates, or an interval of seconds between timestamps
    difference = np.subtract(a, b)
    if result.kind == "int":
        return difference, None
    return Interval(np.zeros_like(difference), difference), None

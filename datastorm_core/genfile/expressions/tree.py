"""The expression tree: its types and its nodes.

One tree serves both passes: ``parse`` builds it from Python's ``ast``
(untyped), ``check`` returns a copy where every node carries its type and
where every conversion is a node of its own (an int added to a decimal is
``Convert(int -> decimal(2))``), so the evaluator in ``source`` never
decides a type: it follows the tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

__all__ = [
    "BOOL",
    "DATE",
    "FLOAT",
    "INT",
    "KINDS",
    "TEXT",
    "TIMESTAMP",
    "Binary",
    "Call",
    "Compare",
    "Convert",
    "ExprType",
    "ExpressionError",
    "IfElse",
    "Literal",
    "Logical",
    "Member",
    "Name",
    "Node",
    "Unary",
    "decimal",
    "interval",
]

# What an expression's value can be; `as` names one of them but "interval", which
# no column holds (an interval is added to a date or compared).
KINDS = ("int", "float", "decimal", "date", "timestamp", "interval", "bool", "text")
MAX_SCALE = 18  # a decimal's places: its int64 count of 10**-scale holds 18 digits


@dataclass(frozen=True)
class ExprType:
    """The static type of a value.

    ``scale``: a decimal's places. ``months`` and ``whole_days`` describe an
    interval: whether it may hold calendar months (``months(n)``, ``years(n)``),
    and whether its time part is whole days (a date plus it stays a date).
    """

    kind: str
    scale: int = 0
    months: bool = False
    whole_days: bool = True

    def __str__(self) -> str:
        return f"decimal({self.scale})" if self.kind == "decimal" else self.kind

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "float", "decimal")

    @property
    def moment(self) -> bool:
        return self.kind in ("date", "timestamp")


INT = ExprType("int")
FLOAT = ExprType("float")
BOOL = ExprType("bool")
TEXT = ExprType("text")
DATE = ExprType("date")
TIMESTAMP = ExprType("timestamp")


def decimal(scale: int) -> ExprType:
    return ExprType("decimal", scale=scale)


def interval(months: bool, whole_days: bool) -> ExprType:
    return ExprType("interval", months=months, whole_days=whole_days)


class ExpressionError(ValueError):
    """An expression that cannot be used; ``at`` is the offset of the culprit in its text."""

    def __init__(self, message: str, at: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


@dataclass(frozen=True, kw_only=True)
class Node:
    """A node: where it starts in the text (``at``, 0-based) and, once checked, its type."""

    at: int
    type: ExprType | None = None


@dataclass(frozen=True, kw_only=True)
class Literal(Node):
    """A constant: a number (int, float, or Decimal for ``1.50``), text, true/false, or
    a moment (``now``)."""

    value: int | float | Decimal | str | bool | date | datetime


@dataclass(frozen=True, kw_only=True)
class Name(Node):
    """A field: ``amount`` of this row, or ``account_id.opened_at`` of the referenced row."""

    name: str


@dataclass(frozen=True, kw_only=True)
class Unary(Node):
    op: str  # "-", "+", "not"
    operand: Node


@dataclass(frozen=True, kw_only=True)
class Binary(Node):
    op: str  # "+", "-", "*", "/", "//", "%", "**"
    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class Compare(Node):
    """``a < b <= c``: each adjacent pair compared, the results and-ed (as in Python)."""

    ops: tuple[str, ...]  # "==", "!=", "<", "<=", ">", ">="
    operands: tuple[Node, ...]


@dataclass(frozen=True, kw_only=True)
class Logical(Node):
    op: str  # "and", "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True, kw_only=True)
class IfElse(Node):
    condition: Node
    then: Node
    other: Node


@dataclass(frozen=True, kw_only=True)
class Member(Node):
    """``x in [a, b]`` (``negated``: ``not in``)."""

    operand: Node
    options: tuple[Node, ...]
    negated: bool = False


@dataclass(frozen=True, kw_only=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True, kw_only=True)
class Convert(Node):
    """A value turned into ``type`` (an int into a decimal, a date into a timestamp);
    only ``check`` makes these."""

    operand: Node

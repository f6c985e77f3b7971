"""The type checker: every node typed, every conversion made a node, or an error.

Names are typed by a ``Scope`` (the fields of the table and of the tables
its references point at: ``scope``); ``now`` is the dataset's anchor.
Nothing is evaluated here but literals' own checks (an int that does not
fit 64 bits).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from datastorm_core.genfile.expressions import tree as nodes
from datastorm_core.genfile.expressions.functions import FUNCTIONS
from datastorm_core.genfile.expressions.parse import NOW
from datastorm_core.genfile.expressions.rules import (
    arithmetic,
    comparable,
    need_bool,
    negate,
    unify,
)
from datastorm_core.genfile.expressions.tree import (
    BOOL,
    FLOAT,
    INT,
    TEXT,
    TIMESTAMP,
    Call,
    Compare,
    Convert,
    ExpressionError,
    ExprType,
    Literal,
    Logical,
    Node,
    decimal,
)

__all__ = ["Scope", "UnknownName", "check", "convert"]

INT64 = 2**63


class UnknownName(LookupError):
    """A name the scope cannot type; its message says why (no such field, not a reference)."""


class Scope(Protocol):
    """What names mean where an expression is written."""

    @property
    def now(self) -> datetime: ...

    def type_of(self, name: str) -> ExprType:
        """The type of field ``name`` (``REF.FIELD`` too); raise UnknownName."""
        ...


def check(node: Node, scope: Scope) -> Node:
    """``node`` with every node typed; raise ExpressionError at the first problem."""
    return _Checker(scope).node(node)


def convert(node: Node, to: ExprType, what: str) -> Node:
    """``node`` as a value of ``to`` (a field's `as`); raise ExpressionError if it cannot be."""
    have = node.type
    assert have is not None
    if have == to:
        return node
    allowed = (have.numeric and to.numeric) or (have.moment and to.moment) or \
        (to == TEXT and have.kind != "interval")
    if not allowed:
        raise ExpressionError(f"{what} makes {have}, which cannot be made {to}", node.at)
    if to == TEXT:
        return Call(at=node.at, type=TEXT, function="text", args=(node,))
    return Convert(at=node.at, type=to, operand=node)


class _Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def node(self, node: Node) -> Node:
        method = getattr(self, "_" + type(node).__name__.lower())
        typed: Node = method(node)
        return typed

    def _to(self, node: Node, to: ExprType | None) -> Node:
        if to is None or node.type == to:
            return node
        if node.type is not None and node.type.kind == to.kind == "interval":
            return node  # intervals differ in what they may hold, not in how they are held
        return Convert(at=node.at, type=to, operand=node)

    def _literal(self, node: Literal) -> Node:
        value = node.value
        if isinstance(value, bool):
            return replace(node, type=BOOL)
        if isinstance(value, int):
            if not -INT64 <= value < INT64:
                raise ExpressionError(f"{value} does not fit a 64-bit integer", node.at)
            return replace(node, type=INT)
        if isinstance(value, Decimal):
            places = -value.as_tuple().exponent  # type: ignore[operator]
            return replace(node, type=decimal(int(places)))
        if isinstance(value, float):
            return replace(node, type=FLOAT)
        if isinstance(value, str):
            return replace(node, type=TEXT)
        return replace(node, type=TIMESTAMP)  # pragma: no cover - only `now` is a moment

    def _name(self, node: nodes.Name) -> Node:
        if node.name == NOW:
            return Literal(at=node.at, type=TIMESTAMP, value=self.scope.now)
        try:
            return replace(node, type=self.scope.type_of(node.name))
        except UnknownName as exc:
            if node.name in FUNCTIONS:  # no field of that name: the function was meant
                raise ExpressionError(f"{node.name} is a function: write "
                                      f"{FUNCTIONS[node.name].usage}", node.at) from None
            raise ExpressionError(str(exc), node.at) from None

    def _unary(self, node: nodes.Unary) -> Node:
        operand = self.node(node.operand)
        assert operand.type is not None
        if node.op == "not":
            need_bool(operand.type, "not", node.at)
            return replace(node, type=BOOL, operand=operand)
        if node.op == "+":
            if not operand.type.numeric:
                raise ExpressionError(f"+ needs a number, got {operand.type}", node.at)
            return operand
        return replace(node, type=negate(operand.type, node.at), operand=operand)

    def _binary(self, node: nodes.Binary) -> Node:
        left, right = self.node(node.left), self.node(node.right)
        assert left.type is not None and right.type is not None
        result, (to_left, to_right) = arithmetic(node.op, left.type, right.type, node.at)
        return replace(node, type=result, left=self._to(left, to_left),
                       right=self._to(right, to_right))

    def _compare(self, node: Compare) -> Node:
        operands = [self.node(o) for o in node.operands]
        # Each pair is compared at its own common type: one node per pair, and-ed.
        pairs: list[Node] = []
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            assert left.type is not None and right.type is not None
            to_left, to_right = comparable(left.type, right.type, op, right.at)
            pairs.append(Compare(at=left.at, type=BOOL, ops=(op,),
                                 operands=(self._to(left, to_left), self._to(right, to_right))))
        if len(pairs) == 1:
            return pairs[0]
        return Logical(at=node.at, type=BOOL, op="and", operands=tuple(pairs))

    def _logical(self, node: Logical) -> Node:
        operands = tuple(self.node(o) for o in node.operands)
        for o in operands:
            assert o.type is not None
            need_bool(o.type, node.op, o.at)
        return replace(node, type=BOOL, operands=operands)

    def _ifelse(self, node: nodes.IfElse) -> Node:
        condition = self.node(node.condition)
        assert condition.type is not None
        need_bool(condition.type, "if", condition.at)
        then, other = self.node(node.then), self.node(node.other)
        common = unify([then.type, other.type], "x if c else y",  # type: ignore[list-item]
                       node.at)
        return replace(node, type=common, condition=condition, then=self._to(then, common),
                       other=self._to(other, common))

    def _member(self, node: nodes.Member) -> Node:
        operand = self.node(node.operand)
        options = [self.node(o) for o in node.options]
        common = unify([o.type for o in (operand, *options)],  # type: ignore[misc]
                       "in [...]", node.at)
        if common.kind == "interval" and common.months:
            raise ExpressionError("in cannot compare intervals holding months or years",
                                  node.at)
        return replace(node, type=BOOL, operand=self._to(operand, common),
                       options=tuple(self._to(o, common) for o in options))

    def _call(self, node: Call) -> Node:
        function = FUNCTIONS[node.function]
        count = len(node.args)
        if count < function.least or (function.most is not None and count > function.most):
            raise ExpressionError(f"{node.function}() takes {_arity(function.least, function.most)}"
                                  f", got {count}: {function.usage}", node.at)
        args = tuple(self.node(a) for a in node.args)
        try:
            result, conversions = function.rule(
                tuple(a.type for a in args), args, node.at)  # type: ignore[misc]
        except ExpressionError as exc:
            if exc.message.startswith("takes"):  # the interval constructors' short message
                raise ExpressionError(f"{node.function}(n) {exc.message}", exc.at) from None
            raise
        return replace(node, type=result,
                       args=tuple(self._to(a, c) for a, c in zip(args, conversions, strict=True)))

    def _convert(self, node: Convert) -> Node:  # pragma: no cover - never parsed
        return node


def _arity(least: int, most: int | None) -> str:
    if most is None:
        return f"at least {least} arguments"
    if least == most:
        return f"{least} argument{'s' if least > 1 else ''}"
    return f"{least} or {most} arguments"

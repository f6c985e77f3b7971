"""Expression text to tree: Python's parser, then a whitelist of its nodes.

``ast.parse`` only reads the text; nothing of it is compiled or run. Every
node the language does not have (attributes other than dotted field names,
subscripts, lambdas, comprehensions, f-strings, keyword arguments...) is
refused here with the offset of the culprit, so the checker and the
evaluator only ever see the nodes of ``tree``.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from functools import lru_cache

from datastorm_core.genfile.expressions.functions import FUNCTIONS
from datastorm_core.genfile.expressions.tree import (
    MAX_SCALE,
    Binary,
    Call,
    Compare,
    ExpressionError,
    IfElse,
    Literal,
    Logical,
    Member,
    Name,
    Node,
    Unary,
)

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "NOW", "names_in", "parse", "position"]

# A Genfile's expression is a line or two; these bounds keep both passes (recursive)
# far from Python's recursion limit and the parser's memory.
MAX_LENGTH = 4000
MAX_DEPTH = 64

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
            ast.GtE: ">="}
_BOOLEANS = {"true": True, "false": False}
NOW = "now"  # [dataset] now, not a field (the checker makes it a constant)
# What Python has and this language does not, with what to write instead.
_REFUSED: dict[type, str] = {
    ast.Subscript: "subscripts (x[i]) are not part of the language",
    ast.Lambda: "lambdas are not part of the language",
    ast.ListComp: "comprehensions are not part of the language",
    ast.SetComp: "comprehensions are not part of the language",
    ast.DictComp: "comprehensions are not part of the language",
    ast.GeneratorExp: "comprehensions are not part of the language",
    ast.JoinedStr: "f-strings are not part of the language: use concat(a, b, ...)",
    ast.FormattedValue: "f-strings are not part of the language: use concat(a, b, ...)",
    ast.NamedExpr: "assignments (:=) are not part of the language",
    ast.Starred: "* and ** arguments are not part of the language",
    ast.Dict: "dictionaries are not part of the language",
    ast.Set: "sets are not part of the language: write x in [a, b]",
    ast.List: "a list only follows `in`: x in [a, b]",
    ast.Tuple: "tuples are not part of the language",
    ast.Slice: "slices are not part of the language",
    ast.Await: "await is not part of the language",
}
_BIT_OPERATORS = (ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift, ast.MatMult)


def parse(text: str) -> Node:
    """The untyped tree of ``text``; raise ExpressionError (with the culprit's offset)."""
    return _parse(text)


@lru_cache(maxsize=4096)
def _parse(text: str) -> Node:
    if not text.strip():
        raise ExpressionError("the expression is empty", 0)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", 0)
    # Line breaks (a TOML multi-line string) become spaces, so that the expression needs
    # no parentheses to span lines; offsets stay those of the text as written.
    flat = text.replace("\r", " ").replace("\n", " ")
    start = len(flat) - len(flat.lstrip())
    try:
        tree = ast.parse(flat[start:], mode="eval")
    except SyntaxError as exc:
        reason = (exc.msg or "invalid syntax").split(" (")[0]
        if not exc.offset:  # Python's way of saying the text stopped short
            raise ExpressionError(f"syntax error: {reason} (the expression ends too early)",
                                  len(flat.rstrip())) from None
        at = start + _char_offset(flat[start:], exc.offset - 1, in_bytes=False)
        raise ExpressionError(f"syntax error: {reason}", at) from None
    except (ValueError, MemoryError, RecursionError):
        raise ExpressionError("the expression cannot be read (nested too deeply?)", 0) from None
    return _Reader(flat[start:], start).node(tree.body, 0)


def names_in(text: str) -> tuple[str, ...]:
    """The field names ``text`` reads, dotted ones as written, each once; () if it does
    not parse (the parse error is reported where the expression is checked)."""
    try:
        tree = parse(text)
    except ExpressionError:
        return ()
    found: list[Name] = []
    _collect(tree, found)
    return tuple(dict.fromkeys(n.name for n in sorted(found, key=lambda n: n.at)
                               if n.name != NOW))


def _collect(node: Node, found: list[Name]) -> None:
    if isinstance(node, Name):
        found.append(node)
        return
    for child in vars(node).values():
        for item in child if isinstance(child, tuple) else (child,):
            if isinstance(item, Node):
                _collect(item, found)


def position(text: str, at: int) -> str:
    """``column C`` (1-based) of an offset, or ``line L, column C`` in a multi-line text."""
    before = text[:at]
    line = before.count("\n") + 1
    column = at - (before.rfind("\n") + 1) + 1
    return f"column {column}" if "\n" not in text else f"line {line}, column {column}"


def _char_offset(text: str, offset: int, in_bytes: bool = True) -> int:
    """Python's offsets count UTF-8 bytes (ast) or characters (SyntaxError)."""
    if not in_bytes:
        return max(0, min(offset, len(text)))
    return len(text.encode()[:offset].decode(errors="ignore"))


class _Reader:
    """Turns ``ast`` nodes into the language's nodes, refusing the rest."""

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.start = start

    def at(self, node: ast.AST) -> int:
        return self.start + _char_offset(self.text, getattr(node, "col_offset", 0))

    def node(self, node: ast.expr, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep",
                                  self.at(node))
        at = self.at(node)
        read = {ast.Constant: self._constant, ast.Name: self._name,
                ast.Attribute: self._attribute, ast.UnaryOp: self._unary,
                ast.BinOp: self._binary, ast.BoolOp: self._logical,
                ast.Compare: self._compare, ast.IfExp: self._if_else,
                ast.Call: self._call}.get(type(node))
        if read is None:
            raise ExpressionError(_REFUSED.get(type(node), f"{type(node).__name__} is not part "
                                                           "of the language"), at)
        return read(node, at, depth + 1)

    def _constant(self, node: ast.Constant, at: int, depth: int) -> Node:
        value = node.value
        if value is None:
            raise ExpressionError("None is not part of the language: a field is NULL where "
                                  "its `when` does not hold", at)
        if isinstance(value, (bool, int, str)):
            return Literal(at=at, value=value)
        if isinstance(value, float):
            return Literal(at=at, value=self._number(node, value, at))
        raise ExpressionError(f"{type(value).__name__} constants are not part of the language",
                              at)

    def _number(self, node: ast.Constant, value: float, at: int) -> float | Decimal:
        """``1.50`` is an exact decimal of 2 places (as in SQL); ``1.5e3`` is a float."""
        written = ast.get_source_segment(self.text, node) or ""
        if any(c in written for c in "eE") or "." not in written:
            return value
        places = len(written.split(".", 1)[1].replace("_", ""))
        if places > MAX_SCALE or abs(value) >= 1e18 / 10**places:
            return value  # more than an int64 count of its places holds: a float
        return Decimal(written.replace("_", ""))

    def _name(self, node: ast.Name, at: int, depth: int) -> Node:
        if node.id in _BOOLEANS:
            return Literal(at=at, value=_BOOLEANS[node.id])
        # A function's name alone may still be a field's (an admission's `days`): the
        # checker, which knows the fields, decides (check._name).
        return Name(at=at, name=node.id)

    def _attribute(self, node: ast.Attribute, at: int, depth: int) -> Node:
        parts = [node.attr]
        inner: ast.expr = node.value
        while isinstance(inner, ast.Attribute):
            parts.append(inner.attr)
            inner = inner.value
        if not isinstance(inner, ast.Name):
            raise ExpressionError("attributes are not part of the language: a dot only joins "
                                  "a reference and a field of its parent (account_id.opened_at)",
                                  at)
        return Name(at=at, name=".".join([inner.id, *reversed(parts)]))

    def _unary(self, node: ast.UnaryOp, at: int, depth: int) -> Node:
        ops = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}
        if type(node.op) not in ops:
            raise ExpressionError("~ is not part of the language", at)
        operand = self.node(node.operand, depth)
        if ops[type(node.op)] == "-" and isinstance(operand, Literal) \
                and not isinstance(operand.value, (bool, str)) \
                and isinstance(operand.value, (int, float, Decimal)):
            return Literal(at=at, value=-operand.value)  # a negative constant stays one
        return Unary(at=at, op=ops[type(node.op)], operand=operand)

    def _binary(self, node: ast.BinOp, at: int, depth: int) -> Node:
        if isinstance(node.op, _BIT_OPERATORS):
            # The operator itself: the first character after the left operand but blanks.
            end = self.start + _char_offset(self.text, node.left.end_col_offset or 0)
            while end - self.start < len(self.text) and self.text[end - self.start] in " \t":
                end += 1
            raise ExpressionError("bit operators (& | ^ << >> @) are not part of the language; "
                                  "write and, or, not for conditions", end)
        return Binary(at=at, op=_BINARY[type(node.op)], left=self.node(node.left, depth),
                      right=self.node(node.right, depth))

    def _logical(self, node: ast.BoolOp, at: int, depth: int) -> Node:
        op = "and" if isinstance(node.op, ast.And) else "or"
        return Logical(at=at, op=op, operands=tuple(self.node(v, depth) for v in node.values))

    def _compare(self, node: ast.Compare, at: int, depth: int) -> Node:
        operands = [self.node(node.left, depth)]
        ops: list[str] = []
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.In, ast.NotIn)):
                if len(node.ops) > 1:
                    raise ExpressionError("`in` cannot be chained with other comparisons: "
                                          "use and", self.at(right))
                if not isinstance(right, (ast.List, ast.Tuple)):
                    raise ExpressionError("`in` takes a list: x in [a, b]", self.at(right))
                if not right.elts:
                    raise ExpressionError("the list after `in` is empty", self.at(right))
                return Member(at=at, operand=operands[0],
                              options=tuple(self.node(e, depth) for e in right.elts),
                              negated=isinstance(op, ast.NotIn))
            if isinstance(op, (ast.Is, ast.IsNot)):
                raise ExpressionError("`is` is not part of the language: compare with ==",
                                      self.at(right))
            ops.append(_COMPARE[type(op)])
            operands.append(self.node(right, depth))
        return Compare(at=at, ops=tuple(ops), operands=tuple(operands))

    def _if_else(self, node: ast.IfExp, at: int, depth: int) -> Node:
        return IfElse(at=at, condition=self.node(node.test, depth),
                      then=self.node(node.body, depth), other=self.node(node.orelse, depth))

    def _call(self, node: ast.Call, at: int, depth: int) -> Node:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only the language's functions can be called "
                                  f"({', '.join(FUNCTIONS)})", at)
        name = node.func.id
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name!r}; the functions are "
                                  f"{', '.join(FUNCTIONS)}", at)
        if node.keywords:
            raise ExpressionError(f"{name}() takes no keyword arguments: {FUNCTIONS[name].usage}",
                                  self.at(node.keywords[0]))
        return Call(at=at, function=name, args=tuple(self.node(a, depth) for a in node.args))

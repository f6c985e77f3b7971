"""pglast's AST, piece by piece: names, columns, constants and arrays in an expression."""

from __future__ import annotations

from collections.abc import Sequence

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind

from datastorm_core.target.postgres.constraints.literals import NUMBER
from datastorm_core.target.postgres.constraints.readings import Constant


class Unreadable(Exception):
    """A piece of the expression this module does not understand."""


_LENGTH_FUNCTIONS = frozenset({"length", "char_length", "character_length"})


def _names(nodes: Sequence[ast.Node] | None) -> list[str]:
    names = [node.sval for node in nodes or () if isinstance(node, ast.String)]
    if not names or len(names) != len(nodes or ()):
        raise Unreadable
    return names


def system_name(nodes: Sequence[ast.Node] | None) -> str:
    """A function or operator name, bare or qualified by ``pg_catalog``."""
    names = _names(nodes)
    if len(names) == 2 and names[0] == "pg_catalog":
        return names[1]
    if len(names) != 1:
        raise Unreadable
    return names[0]


def _type_name(type_name: ast.TypeName) -> str:
    if type_name.pct_type or type_name.setof:
        raise Unreadable
    names = _names(type_name.names)
    # pglast already spells the SQL-standard names (integer, double precision,
    # timestamp with time zone...) as pg_catalog.int4 and so on.
    if names[0] == "pg_catalog" and len(names) == 2:
        return names[1]
    return ".".join(names)


def _uncast(node: ast.Node | None) -> ast.Node | None:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node


def column_of(node: ast.Node | None) -> str | None:
    """The column's name if the node is a plain column reference, casts looked through."""
    node = _uncast(node)
    if isinstance(node, ast.ColumnRef) and len(node.fields or ()) == 1:
        name = node.fields[0]
        if isinstance(name, ast.String):
            return name.sval
    return None


def length_of(node: ast.Node | None) -> str | None:
    """The column whose character length the node is (``char_length((c)::text)``), or None."""
    node = _uncast(node)
    if not isinstance(node, ast.FuncCall) or len(node.args or ()) != 1:
        return None
    if (node.agg_star or node.agg_distinct or node.func_variadic or node.over is not None
            or node.agg_filter is not None or node.agg_order is not None):
        return None
    try:
        name = system_name(node.funcname)
    except Unreadable:
        return None
    return column_of(node.args[0]) if name in _LENGTH_FUNCTIONS else None


def _prefix(node: ast.Node | None) -> tuple[str, ast.Node | None] | None:
    """(operator, operand) if the node is a prefix operator such as ``- 1000``, else None."""
    if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP and node.lexpr is None:
        return system_name(node.name), node.rexpr
    return None


def constant_of(node: ast.Node | None) -> Constant | None:
    """The literal the node is, casts and signs included; None for NULL."""
    type_name: str | None = None
    negative = False
    while True:
        if isinstance(node, ast.TypeCast):
            if node.typeName.arrayBounds:
                raise Unreadable
            type_name = _type_name(node.typeName)  # the last one seen is the innermost
            node = node.arg
            continue
        prefix = _prefix(node)
        if prefix is None:
            break
        sign, node = prefix
        if sign == "-":
            negative = not negative
        elif sign != "+":
            raise Unreadable
    if not isinstance(node, ast.A_Const):
        raise Unreadable
    if node.isnull:
        return None
    value = node.val
    if isinstance(value, ast.Integer):
        text = str(value.ival)
    elif isinstance(value, ast.Float):
        text = value.fval
    elif isinstance(value, ast.String):
        text = value.sval
    elif isinstance(value, ast.Boolean):
        text = "true" if value.boolval else "false"
        type_name = type_name or "bool"
    else:
        raise Unreadable
    if negative:
        if not NUMBER.fullmatch(text):
            raise Unreadable
        text = text.strip()
        text = text[1:] if text.startswith("-") else "-" + text.lstrip("+")
    return Constant(text, type_name)


def _array_literal(text: str, element_type: str | None) -> list[Constant | None]:
    """The elements of a one-dimensional array literal such as ``{1,2,NULL}``."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise Unreadable
    body = body[1:-1]
    items: list[Constant | None] = []
    if not body.strip():
        return items
    position = 0
    while True:
        while position < len(body) and body[position].isspace():
            position += 1
        if position < len(body) and body[position] == '"':
            position += 1
            chars = []
            while position < len(body) and body[position] != '"':
                if body[position] == "\\":
                    position += 1
                if position < len(body):
                    chars.append(body[position])
                    position += 1
            if position >= len(body):
                raise Unreadable
            position += 1
            items.append(Constant("".join(chars), element_type))
        else:
            end = body.find(",", position)
            end = len(body) if end < 0 else end
            word = body[position:end].strip()
            if not word or any(c in word for c in '{}"\\'):
                raise Unreadable  # nested arrays, stray quotes
            items.append(None if word.upper() == "NULL" else Constant(word, element_type))
            position = end
        while position < len(body) and body[position].isspace():
            position += 1
        if position == len(body):
            return items
        if body[position] != ",":
            raise Unreadable
        position += 1


def array_of(node: ast.Node | None) -> list[Constant | None]:
    """The elements of ``ARRAY[...]`` or of an array literal cast to an array type."""
    element_type: str | None = None
    while isinstance(node, ast.TypeCast):
        if node.typeName.arrayBounds:
            element_type = _type_name(node.typeName)
        node = node.arg
    if isinstance(node, ast.A_ArrayExpr):
        return [constant_of(element) for element in node.elements or ()]
    if (isinstance(node, ast.A_Const) and isinstance(node.val, ast.String)
            and element_type is not None):
        return _array_literal(node.val.sval, element_type)
    raise Unreadable

def parse_one(sql: str) -> ast.Node | None:
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return None
    if len(statements) != 1:
        return None
    return statements[0].stmt

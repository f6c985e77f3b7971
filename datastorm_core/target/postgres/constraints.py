"""What PostgreSQL's catalog says about allowed values, read from its own text.

A run that writes into an application's existing table should find out
before loading that a generated value breaks one of the table's CHECK
constraints or falls outside every partition, and a Genfile written from a
live schema should draw values the schema accepts. PostgreSQL already says
what it accepts, as text: ``pg_get_constraintdef(oid)`` for CHECK and domain
constraints, ``pg_get_expr(relpartbound, oid)`` for partitions. This module
turns the simple, common shapes of that text into data: bounds, value lists,
lengths, partition ranges.

It reads shapes, it does not evaluate SQL: whatever it does not understand it
leaves out and says so (``CheckReading.complete``, a None bound), and it never
raises on such text. The parsing is pglast's (PostgreSQL's own parser), so
quoting, casts and precedence are read as the server reads them. No I/O here:
the caller queries the catalog and passes the text in.

NULL is outside every rule: a CHECK passes when its expression is NULL, so
the rules say which non-null values are allowed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, ConstrType, NullTestType

__all__ = [
    "MAXVALUE",
    "MINVALUE",
    "Bound",
    "CheckReading",
    "ColumnRule",
    "Constant",
    "PartitionBound",
    "Sentinel",
    "covered_ranges",
    "read_check",
    "read_partition_bound",
]

PythonValue = int | float | Decimal | str | date | datetime | time | bool


@dataclass(frozen=True)
class Constant:
    """A literal from the SQL text, kept as written, with the type it was cast to.

    ``type_name`` is the innermost cast's type as pglast names it, without a
    ``pg_catalog.`` prefix (``int4``, ``numeric``, ``varchar``, ``bpchar``,
    ``timestamptz``...; an enum or other type as written, schema-qualified if
    it was); ``bool`` for ``true``/``false``; None for a bare number or an
    untyped string.
    """

    text: str
    type_name: str | None = None

    def as_python(self) -> PythonValue:
        """The value as Python sees it, best effort; the text when it cannot tell.

        Integer types give ``int``, ``numeric`` gives ``Decimal``, the float
        types ``float``, ``date`` a ``date``, ``timestamp`` a naive and
        ``timestamptz`` an aware ``datetime``, ``time`` a ``time``, ``bool`` a
        ``bool``. Untyped text that looks like an integer gives ``int``, like
        another number ``Decimal``. NaN and a ``timestamptz`` written without
        an offset (its instant depends on the session's time zone) stay text.
        """
        convert = _CONVERTERS.get(self.type_name) if self.type_name else _bare
        if convert is None:
            return self.text
        try:
            return convert(self.text)
        except (ValueError, ArithmeticError):
            return self.text


class Sentinel(enum.Enum):
    """``MINVALUE``/``MAXVALUE`` in a range partition's bound: below or above every value."""

    MINVALUE = "minvalue"
    MAXVALUE = "maxvalue"

    def __repr__(self) -> str:
        return self.name


MINVALUE = Sentinel.MINVALUE
MAXVALUE = Sentinel.MAXVALUE


@dataclass(frozen=True)
class Bound:
    """One end of an allowed range."""

    value: Constant
    inclusive: bool


@dataclass(frozen=True)
class ColumnRule:
    """What one CHECK constraint allows in one column; every part that is set must hold.

    ``values``: the only values allowed (an empty tuple: none); ``excluded``:
    values not allowed; ``min_length``/``max_length``: in characters. The
    parts are kept as read, not reconciled with each other.
    """

    column: str
    low: Bound | None = None
    high: Bound | None = None
    values: tuple[Constant, ...] | None = None
    excluded: tuple[Constant, ...] = ()
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class CheckReading:
    """The rules read from one CHECK constraint, by column name.

    ``complete`` is False when part of the expression was not understood and
    left out: the constraint may then refuse values the rules allow.
    """

    rules: dict[str, ColumnRule]
    complete: bool


@dataclass(frozen=True)
class PartitionBound:
    """A partition's bound: ``kind`` is ``"range"``, ``"list"``, ``"hash"`` or ``"default"``.

    Range: ``lower`` (inclusive) and ``upper`` (exclusive), one datum per
    partition key column. List: ``values``, None for NULL. Hash: ``modulus``
    and ``remainder``.
    """

    kind: str
    lower: tuple[Constant | Sentinel, ...] = ()
    upper: tuple[Constant | Sentinel, ...] = ()
    values: tuple[Constant | None, ...] = ()
    modulus: int | None = None
    remainder: int | None = None


# --- literals -------------------------------------------------------------------------------

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
# PostgreSQL's ISO output (DateStyle ISO, the default): fractions of up to 6 digits,
# offsets of +HH, +HH:MM or +HH:MM:SS. Parsed by hand: datetime.fromisoformat only
# takes all of these from Python 3.11 on.
_DATETIME = re.compile(
    r"\s*(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<fraction>\d{1,6}))?)?"
    r"(?P<offset>[+-]\d{2}(?::?\d{2}){0,2})?\s*"
)
_TIME = re.compile(r"\s*(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*")
_TRUE = frozenset({"t", "true", "y", "yes", "on", "1"})
_FALSE = frozenset({"f", "false", "n", "no", "off", "0"})


def _bare(text: str) -> PythonValue:
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return Decimal(text.strip())
    return text


def _integer(text: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _decimal(text: str) -> Decimal:
    value = Decimal(text.strip())
    if value.is_nan():  # NaN compares with nothing: keep it as text
        raise ValueError(text)
    return value


def _float(text: str) -> float:
    value = float(text)
    if value != value:
        raise ValueError(text)
    return value


def _date(text: str) -> date:
    match = _DATETIME.fullmatch(text)
    if match is None or match["time"] or match["offset"]:
        raise ValueError(text)
    return date.fromisoformat(match["date"])


def _clock(match: re.Match[str]) -> tuple[int, int, int, int]:
    hour, minute, *second = (match["time"] or "00:00").split(":")
    micro = int((match["fraction"] or "").ljust(6, "0"))
    return int(hour), int(minute), int(second[0]) if second else 0, micro


def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    parts = [int(digits[i:i + 2]) for i in range(0, len(digits), 2)] + [0, 0]
    return timezone(sign * timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2]))


def _timestamp(text: str) -> datetime:
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    # A timestamp without time zone ignores an offset, as PostgreSQL does.
    return datetime.combine(date.fromisoformat(match["date"]), time(*_clock(match)))


def _timestamptz(text: str) -> datetime:
    match = _DATETIME.fullmatch(text)
    if match is None or not match["offset"]:
        raise ValueError(text)
    clock = time(*_clock(match), tzinfo=_offset(match["offset"]))
    return datetime.combine(date.fromisoformat(match["date"]), clock)


def _time(text: str) -> time:
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    hour, minute, second, fraction = match.groups()
    return time(int(hour), int(minute), int(second or 0), int((fraction or "").ljust(6, "0")))


def _bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(text)


_CONVERTERS: dict[str, Callable[[str], PythonValue]] = {
    "int2": _integer,
    "int4": _integer,
    "int8": _integer,
    "numeric": _decimal,
    "float4": _float,
    "float8": _float,
    "date": _date,
    "timestamp": _timestamp,
    "timestamptz": _timestamptz,
    "time": _time,
    "bool": _bool,
}


def _key(constant: Constant) -> Any:
    """What two constants are compared by: their values (1 and 1::numeric are the same)."""
    value = constant.as_python()
    # True == 1 in Python; a boolean and a number are not the same SQL value.
    return ("bool", value) if isinstance(value, bool) else value


def _distinct(constants: Iterable[Constant]) -> tuple[Constant, ...]:
    seen: set[Any] = set()
    kept = []
    for constant in constants:
        key = _key(constant)
        if key not in seen:
            seen.add(key)
            kept.append(constant)
    return tuple(kept)


# --- the AST, piece by piece ----------------------------------------------------------------


class _Unreadable(Exception):
    """A piece of the expression this module does not understand."""


_COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_MIRRORED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEGATED = {"=": "<>", "<>": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_LENGTH_FUNCTIONS = frozenset({"length", "char_length", "character_length"})


def _names(nodes: Sequence[ast.Node] | None) -> list[str]:
    names = [node.sval for node in nodes or () if isinstance(node, ast.String)]
    if not names or len(names) != len(nodes or ()):
        raise _Unreadable
    return names


def _system_name(nodes: Sequence[ast.Node] | None) -> str:
    """A function or operator name, bare or qualified by ``pg_catalog``."""
    names = _names(nodes)
    if len(names) == 2 and names[0] == "pg_catalog":
        return names[1]
    if len(names) != 1:
        raise _Unreadable
    return names[0]


def _type_name(type_name: ast.TypeName) -> str:
    if type_name.pct_type or type_name.setof:
        raise _Unreadable
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


def _column(node: ast.Node | None) -> str | None:
    """The column's name if the node is a plain column reference, casts looked through."""
    node = _uncast(node)
    if isinstance(node, ast.ColumnRef) and len(node.fields or ()) == 1:
        name = node.fields[0]
        if isinstance(name, ast.String):
            return name.sval
    return None


def _length_of(node: ast.Node | None) -> str | None:
    """The column whose character length the node is (``char_length((c)::text)``), or None."""
    node = _uncast(node)
    if not isinstance(node, ast.FuncCall) or len(node.args or ()) != 1:
        return None
    if (node.agg_star or node.agg_distinct or node.func_variadic or node.over is not None
            or node.agg_filter is not None or node.agg_order is not None):
        return None
    try:
        name = _system_name(node.funcname)
    except _Unreadable:
        return None
    return _column(node.args[0]) if name in _LENGTH_FUNCTIONS else None


def _prefix(node: ast.Node | None) -> tuple[str, ast.Node | None] | None:
    """(operator, operand) if the node is a prefix operator such as ``- 1000``, else None."""
    if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP and node.lexpr is None:
        return _system_name(node.name), node.rexpr
    return None


def _constant(node: ast.Node | None) -> Constant | None:
    """The literal the node is, casts and signs included; None for NULL."""
    type_name: str | None = None
    negative = False
    while True:
        if isinstance(node, ast.TypeCast):
            if node.typeName.arrayBounds:
                raise _Unreadable
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
            raise _Unreadable
    if not isinstance(node, ast.A_Const):
        raise _Unreadable
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
        raise _Unreadable
    if negative:
        if not _NUMBER.fullmatch(text):
            raise _Unreadable
        text = text.strip()
        text = text[1:] if text.startswith("-") else "-" + text.lstrip("+")
    return Constant(text, type_name)


def _array_literal(text: str, element_type: str | None) -> list[Constant | None]:
    """The elements of a one-dimensional array literal such as ``{1,2,NULL}``."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise _Unreadable
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
                raise _Unreadable
            position += 1
            items.append(Constant("".join(chars), element_type))
        else:
            end = body.find(",", position)
            end = len(body) if end < 0 else end
            word = body[position:end].strip()
            if not word or any(c in word for c in '{}"\\'):
                raise _Unreadable  # nested arrays, stray quotes
            items.append(None if word.upper() == "NULL" else Constant(word, element_type))
            position = end
        while position < len(body) and body[position].isspace():
            position += 1
        if position == len(body):
            return items
        if body[position] != ",":
            raise _Unreadable
        position += 1


def _array(node: ast.Node | None) -> list[Constant | None]:
    """The elements of ``ARRAY[...]`` or of an array literal cast to an array type."""
    element_type: str | None = None
    while isinstance(node, ast.TypeCast):
        if node.typeName.arrayBounds:
            element_type = _type_name(node.typeName)
        node = node.arg
    if isinstance(node, ast.A_ArrayExpr):
        return [_constant(element) for element in node.elements or ()]
    if (isinstance(node, ast.A_Const) and isinstance(node.val, ast.String)
            and element_type is not None):
        return _array_literal(node.val.sval, element_type)
    raise _Unreadable


def _listed(column: str, constants: Sequence[Constant | None], equal: bool) -> list[ColumnRule]:
    """``column IN (...)`` (``equal``) or ``column NOT IN (...)`` as rules."""
    if equal:
        # x IN (1, NULL) is NULL, not false, for any x but 1: the CHECK lets every value through.
        if any(c is None for c in constants):
            return []
        return [ColumnRule(column, values=_distinct(c for c in constants if c is not None))]
    excluded = _distinct(c for c in constants if c is not None)
    return [ColumnRule(column, excluded=excluded)] if excluded else []


def _length_rule(column: str, op: str, constant: Constant) -> ColumnRule:
    count = constant.as_python()
    if isinstance(count, bool) or not isinstance(count, int | Decimal):
        raise _Unreadable
    if count != int(count):
        raise _Unreadable
    n = int(count)
    if op == "=":
        return ColumnRule(column, min_length=max(n, 0), max_length=n)
    if op in (">", ">="):
        return ColumnRule(column, min_length=max(n + (op == ">"), 0))
    if op in ("<", "<="):
        return ColumnRule(column, max_length=n - (op == "<"))
    raise _Unreadable


def _comparison(node: ast.A_Expr, negated: bool) -> list[ColumnRule]:
    """``column op constant``, ``constant op column``, or the same on a length function."""
    op = _system_name(node.name)
    if op not in _COMPARISONS or node.lexpr is None:
        raise _Unreadable
    subject, other = node.lexpr, node.rexpr
    if _column(subject) is None and _length_of(subject) is None:
        subject, other, op = other, subject, _MIRRORED[op]
    if negated:
        op = _NEGATED[op]
    constant = _constant(other)
    column = _column(subject)
    if column is not None:
        if constant is None:
            return []  # a comparison with NULL is NULL: the CHECK passes
        if op == "=":
            return [ColumnRule(column, values=(constant,))]
        if op == "<>":
            return [ColumnRule(column, excluded=(constant,))]
        bound = Bound(constant, inclusive=op in ("<=", ">="))
        if op in (">", ">="):
            return [ColumnRule(column, low=bound)]
        return [ColumnRule(column, high=bound)]
    column = _length_of(subject)
    if column is None:
        raise _Unreadable
    if constant is None:
        return []
    return [_length_rule(column, op, constant)]


def _between(node: ast.A_Expr, symmetric: bool) -> list[ColumnRule]:
    ends = list(node.rexpr) if isinstance(node.rexpr, tuple | list) else []
    if len(ends) != 2:
        raise _Unreadable
    low, high = (_constant(end) for end in ends)
    if symmetric:
        if low is None or high is None:
            raise _Unreadable
        first: Any = low.as_python()
        try:
            if first > high.as_python():
                low, high = high, low
        except (TypeError, ArithmeticError):
            raise _Unreadable from None
    column = _column(node.lexpr)
    if column is not None:
        return [ColumnRule(column, low=None if low is None else Bound(low, True),
                           high=None if high is None else Bound(high, True))]
    column = _length_of(node.lexpr)
    if column is None:
        raise _Unreadable
    shortest = None if low is None else _length_rule(column, ">=", low).min_length
    longest = None if high is None else _length_rule(column, "<=", high).max_length
    return [ColumnRule(column, min_length=shortest, max_length=longest)]


def _read_operator_expression(node: ast.A_Expr, negated: bool) -> list[ColumnRule]:
    kind = node.kind
    if kind == A_Expr_Kind.AEXPR_OP:
        return _comparison(node, negated)
    if kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM) and not negated:
        return _between(node, kind == A_Expr_Kind.AEXPR_BETWEEN_SYM)
    column = _column(node.lexpr)
    if column is None:
        raise _Unreadable
    op = _system_name(node.name)
    if kind == A_Expr_Kind.AEXPR_IN and op in ("=", "<>"):
        items = list(node.rexpr) if isinstance(node.rexpr, tuple | list) else []
        return _listed(column, [_constant(item) for item in items], (op == "=") != negated)
    # x = ANY (array) is x IN (...); x <> ALL (array) is x NOT IN (...).
    if (kind, op) in ((A_Expr_Kind.AEXPR_OP_ANY, "="), (A_Expr_Kind.AEXPR_OP_ALL, "<>")):
        return _listed(column, _array(node.rexpr), (op == "=") != negated)
    raise _Unreadable


def _disjuncts(node: ast.Node) -> Iterator[ast.Node]:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.OR_EXPR:
        for arg in node.args or ():
            yield from _disjuncts(arg)
    else:
        yield node


def _is_equality(node: ast.Node) -> bool:
    """Whether the node has the shape of ``col = c``, ``col IN (...)``, ``col = ANY (...)``."""
    if isinstance(node, ast.ColumnRef):  # a boolean column alone: col = true
        return True
    if isinstance(node, ast.BoolExpr):
        return (node.boolop == BoolExprType.NOT_EXPR and len(node.args or ()) == 1
                and isinstance(node.args[0], ast.ColumnRef))
    return (isinstance(node, ast.A_Expr) and node.kind in (
        A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_IN, A_Expr_Kind.AEXPR_OP_ANY)
        and _system_name(node.name) == "=")


def _disjunction(node: ast.BoolExpr) -> list[ColumnRule]:
    """An OR of equalities on one column: the union of their values."""
    columns: set[str] = set()
    values: list[Constant] = []
    anything = False
    for branch in _disjuncts(node):
        if not _is_equality(branch):
            raise _Unreadable
        rules = _read(branch)
        if not rules:  # an equality with NULL: that branch is NULL, so the OR never fails
            anything = True
            continue
        rule = rules[0]
        if len(rules) != 1 or rule.values is None:
            raise _Unreadable  # length(c) = n, say
        columns.add(rule.column)
        values.extend(rule.values)
    if anything:
        return []
    if len(columns) != 1:
        raise _Unreadable
    return [ColumnRule(columns.pop(), values=_distinct(values))]


def _read(node: ast.Node | None, negated: bool = False) -> list[ColumnRule]:
    """The rules one conjunct states ([] when it restricts no value); _Unreadable if unknown."""
    if isinstance(node, ast.BoolExpr):
        if node.boolop == BoolExprType.NOT_EXPR and len(node.args or ()) == 1:
            return _read(node.args[0], not negated)
        if node.boolop == BoolExprType.OR_EXPR and not negated:
            return _disjunction(node)
        raise _Unreadable  # AND under NOT, OR under NOT: not the simple shapes
    if isinstance(node, ast.NullTest):
        # IS NOT NULL restricts no value; IS NULL would allow none but NULL.
        if (node.nulltesttype == NullTestType.IS_NOT_NULL) != negated and _column(node.arg):
            return []
        raise _Unreadable
    if isinstance(node, ast.ColumnRef):
        column = _column(node)
        if column is None:
            raise _Unreadable
        return [ColumnRule(column, values=(Constant("false" if negated else "true", "bool"),))]
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
        if node.val.boolval != negated:
            return []  # CHECK (true)
        raise _Unreadable
    if isinstance(node, ast.A_Expr):
        return _read_operator_expression(node, negated)
    raise _Unreadable


def _conjuncts(node: ast.Node) -> Iterator[ast.Node]:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for arg in node.args or ():
            yield from _conjuncts(arg)
    else:
        yield node


def _tighter(old: Bound | None, new: Bound | None, lower: bool) -> Bound | None:
    """The tighter of two bounds on the same side; TypeError if they cannot be compared."""
    if old is None or new is None:
        return new if old is None else old
    a: Any = old.value.as_python()
    b: Any = new.value.as_python()
    if a == b:
        return old if not old.inclusive else new  # x > 5 is tighter than x >= 5
    return old if (a > b) == lower else new


def _merge(old: ColumnRule | None, new: ColumnRule) -> tuple[ColumnRule, bool]:
    """Both rules at once (AND), and whether all of ``new`` could be combined."""
    if old is None:
        return new, True
    complete = True
    low, high = old.low, old.high
    try:
        low = _tighter(old.low, new.low, lower=True)
    except (TypeError, ArithmeticError):
        complete = False  # 5 and '5'::text, a date and a timestamp: keep the first
    try:
        high = _tighter(old.high, new.high, lower=False)
    except (TypeError, ArithmeticError):
        complete = False
    values = old.values
    if new.values is not None:
        if values is None:
            values = new.values
        else:
            keys = {_key(c) for c in new.values}
            values = tuple(c for c in values if _key(c) in keys)
    lengths = [n for n in (old.min_length, new.min_length) if n is not None]
    limits = [n for n in (old.max_length, new.max_length) if n is not None]
    merged = replace(old, low=low, high=high, values=values,
                     excluded=_distinct((*old.excluded, *new.excluded)),
                     min_length=max(lengths) if lengths else None,
                     max_length=min(limits) if limits else None)
    return merged, complete


def _parse_one(sql: str) -> ast.Node | None:
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return None
    if len(statements) != 1:
        return None
    return statements[0].stmt


def _check_expression(definition: str) -> ast.Node | None:
    """The expression of ``CHECK (...) [NOT VALID] [NO INHERIT]``, or of a bare expression.

    The whole definition is parsed as ``ALTER TABLE ... ADD <definition>``,
    the statement it came from, so pglast deals with the suffixes. A bare
    expression (``information_schema.check_constraints`` drops the ``CHECK``)
    is read as ``SELECT <expression>``.
    """
    text = definition.strip()
    statement = _parse_one(f"ALTER TABLE t ADD {text}")
    if isinstance(statement, ast.AlterTableStmt) and len(statement.cmds or ()) == 1:
        constraint = statement.cmds[0].def_
        if isinstance(constraint, ast.Constraint):
            if constraint.contype == ConstrType.CONSTR_CHECK:
                return constraint.raw_expr
            return None  # a key or other kind of constraint
    statement = _parse_one(f"SELECT {text}")
    if not isinstance(statement, ast.SelectStmt) or len(statement.targetList or ()) != 1:
        return None
    others = (statement.fromClause, statement.whereClause, statement.groupClause,
              statement.havingClause, statement.windowClause, statement.sortClause,
              statement.limitCount, statement.limitOffset, statement.lockingClause,
              statement.withClause, statement.intoClause, statement.distinctClause,
              statement.valuesLists, statement.larg)
    target = statement.targetList[0]
    if any(part is not None for part in others) or target.name is not None:
        return None
    return target.val


def read_check(definition: str) -> CheckReading:
    """The rules a CHECK constraint's definition states, by column, as far as they can be read.

    ``definition`` is ``pg_get_constraintdef(oid)`` of a table's or a
    domain's CHECK constraint (a domain's column is ``value``). Conjuncts
    (AND) are read one by one; one that is not understood is left out and
    makes the reading incomplete. Never raises.
    """
    try:
        expression = _check_expression(definition)
    except Exception:
        expression = None
    if expression is None:
        return CheckReading({}, complete=False)
    rules: dict[str, ColumnRule] = {}
    complete = True
    for conjunct in _conjuncts(expression):
        try:
            facts = _read(conjunct)
        # _Unreadable, or a shape of AST this reader did not foresee: the promise is
        # to read what it can and say what it could not, never to raise.
        except Exception:
            complete = False
            continue
        for fact in facts:
            rules[fact.column], combined = _merge(rules.get(fact.column), fact)
            complete = complete and combined
    return CheckReading(rules, complete)


# --- partitions -----------------------------------------------------------------------------


def _datum(node: ast.Node) -> Constant | Sentinel:
    name = _column(node) if isinstance(node, ast.ColumnRef) else None
    if name in ("minvalue", "maxvalue"):
        return Sentinel(name)
    constant = _constant(node)
    if constant is None:
        raise _Unreadable  # PostgreSQL refuses NULL in a range bound
    return constant


def read_partition_bound(text: str) -> PartitionBound | None:
    """A partition's bound from ``pg_get_expr(relpartbound, oid)``; None if it cannot be read.

    The bound's constants are as PostgreSQL prints them: untyped (``'-5'``,
    ``'2022-01-01 00:00:00+00'``), so their ``type_name`` is None.
    """
    try:
        statement = _parse_one(f"CREATE TABLE t PARTITION OF p {text.strip()}")
        spec = statement.partbound if isinstance(statement, ast.CreateStmt) else None
        if not isinstance(spec, ast.PartitionBoundSpec):
            return None
        if spec.is_default:
            return PartitionBound("default")
        if spec.strategy == "r":
            return PartitionBound("range",
                                  lower=tuple(_datum(d) for d in spec.lowerdatums or ()),
                                  upper=tuple(_datum(d) for d in spec.upperdatums or ()))
        if spec.strategy == "l":
            return PartitionBound("list",
                                  values=tuple(_constant(d) for d in spec.listdatums or ()))
        if spec.strategy == "h":
            return PartitionBound("hash", modulus=spec.modulus, remainder=spec.remainder)
    except Exception:  # never raise, as read_check
        return None
    return None


_INFINITE = frozenset({"infinity", "-infinity"})
_TIME_TYPES = frozenset({"date", "timestamp", "timestamptz"})


def _guess_type(texts: Sequence[str]) -> str | None:
    """The one type that fits every untyped bound of a table (they are all of one column)."""
    if not texts:
        return None
    if all(_INTEGER.fullmatch(t) for t in texts):
        return "int8"
    if all(_NUMBER.fullmatch(t) for t in texts):
        return "numeric"
    kinds = set()
    for text in texts:
        if text.strip().lower() in _INFINITE:
            continue
        match = _DATETIME.fullmatch(text)
        if match is None:
            return "text"
        kinds.add("timestamptz" if match["offset"] else "timestamp" if match["time"] else "date")
    if len(kinds) > 1:
        return "text"
    return kinds.pop() if kinds else "timestamp"


def _endpoint(datum: Constant | Sentinel, type_name: str | None, upper: bool) -> tuple[bool, Any]:
    """(usable, value) of one end of [lower, upper): None is unbounded on that side."""
    if isinstance(datum, Sentinel):
        # FROM (MAXVALUE) or TO (MINVALUE) is an empty range.
        return datum == (MAXVALUE if upper else MINVALUE), None
    kind = datum.type_name or type_name
    value = Constant(datum.text, kind).as_python()
    if isinstance(value, str) and kind in _TIME_TYPES and value.strip().lower() in _INFINITE:
        # 'infinity' and '-infinity' are ends of time: unbounded, if on their own side.
        return value.strip().lower() == ("infinity" if upper else "-infinity"), None
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return True, value


def _coalesce(intervals: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    ordered = sorted(intervals, key=lambda interval: (interval[0] is not None, interval[0]))
    merged: list[tuple[Any, Any]] = []
    for low, high in ordered:
        if low is not None and high is not None and not low < high:
            continue
        if merged:
            last_low, last_high = merged[-1]
            if last_high is None:
                continue  # the last one already runs to the end
            if low is None or low <= last_high:  # overlapping or adjacent: [a, b) + [b, c)
                merged[-1] = (last_low, None if high is None else max(last_high, high))
                continue
        merged.append((low, high))
    return merged


def covered_ranges(bounds: Sequence[PartitionBound],
                   type_name: str | None = None) -> tuple[list[tuple[Any, Any]], bool]:
    """The values a single-column range-partitioned table's partitions take, as [low, high).

    Returns the partitions' intervals sorted and coalesced (adjacent ones
    merged), with None for an unbounded end (MINVALUE, MAXVALUE), and whether
    one of ``bounds`` is a DEFAULT partition (which takes every other value).
    Values are ``Constant.as_python``'s; aware datetimes are given in UTC.
    Untyped bound constants (as PostgreSQL prints them) are read as
    ``type_name`` (the partition key's type, e.g. ``"timestamptz"``) or, if
    None, as the one type that fits them all (integer, numeric, date,
    timestamp, timestamptz, else text).

    Bounds that are not single-column ranges are left out, and so are all
    ranges if their values cannot be compared with each other: what is left
    out counts as not covered, the cautious side for checking rows fit.
    """
    has_default = any(bound.kind == "default" for bound in bounds)
    ranges = [bound for bound in bounds
              if bound.kind == "range" and len(bound.lower) == 1 and len(bound.upper) == 1]
    untyped = [datum.text for bound in ranges for datum in (*bound.lower, *bound.upper)
               if isinstance(datum, Constant) and datum.type_name is None]
    kind = type_name or _guess_type(untyped)
    intervals = []
    for bound in ranges:
        low_ok, low = _endpoint(bound.lower[0], kind, upper=False)
        high_ok, high = _endpoint(bound.upper[0], kind, upper=True)
        if low_ok and high_ok:
            intervals.append((low, high))
    try:
        return _coalesce(intervals), has_default
    except (TypeError, ArithmeticError):
        return [], has_default

"""A CHECK constraint's definition read into rules on its columns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, ConstrType, NullTestType

from datastorm_core.target.postgres.constraints.nodes import (
    Unreadable,
    array_of,
    column_of,
    constant_of,
    length_of,
    parse_one,
    system_name,
)
from datastorm_core.target.postgres.constraints.readings import (
    Bound,
    CheckReading,
    ColumnRule,
    Constant,
    distinct,
    key_of,
)

_COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_MIRRORED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEGATED = {"=": "<>", "<>": "=", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _listed(column: str, constants: Sequence[Constant | None], equal: bool) -> list[ColumnRule]:
    """``column IN (...)`` (``equal``) or ``column NOT IN (...)`` as rules."""
    if equal:
        # x IN (1, NULL) is NULL, not false, for any x but 1: the CHECK lets every value through.
        if any(c is None for c in constants):
            return []
        return [ColumnRule(column, values=distinct(c for c in constants if c is not None))]
    excluded = distinct(c for c in constants if c is not None)
    return [ColumnRule(column, excluded=excluded)] if excluded else []


def _length_rule(column: str, op: str, constant: Constant) -> ColumnRule:
    count = constant.as_python()
    if isinstance(count, bool) or not isinstance(count, int | Decimal):
        raise Unreadable
    if count != int(count):
        raise Unreadable
    n = int(count)
    if op == "=":
        return ColumnRule(column, min_length=max(n, 0), max_length=n)
    if op in (">", ">="):
        return ColumnRule(column, min_length=max(n + (op == ">"), 0))
    if op in ("<", "<="):
        return ColumnRule(column, max_length=n - (op == "<"))
    raise Unreadable


def _comparison(node: ast.A_Expr, negated: bool) -> list[ColumnRule]:
    """``column op constant``, ``constant op column``, or the same on a length function."""
    op = system_name(node.name)
    if op not in _COMPARISONS or node.lexpr is None:
        raise Unreadable
    subject, other = node.lexpr, node.rexpr
    if column_of(subject) is None and length_of(subject) is None:
        subject, other, op = other, subject, _MIRRORED[op]
    if negated:
        op = _NEGATED[op]
    constant = constant_of(other)
    column = column_of(subject)
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
    column = length_of(subject)
    if column is None:
        raise Unreadable
    if constant is None:
        return []
    return [_length_rule(column, op, constant)]


def _between(node: ast.A_Expr, symmetric: bool) -> list[ColumnRule]:
    ends = list(node.rexpr) if isinstance(node.rexpr, tuple | list) else []
    if len(ends) != 2:
        raise Unreadable
    low, high = (constant_of(end) for end in ends)
    if symmetric:
        if low is None or high is None:
            raise Unreadable
        first: Any = low.as_python()
        try:
            if first > high.as_python():
                low, high = high, low
        except (TypeError, ArithmeticError):
            raise Unreadable from None
    column = column_of(node.lexpr)
    if column is not None:
        return [ColumnRule(column, low=None if low is None else Bound(low, True),
                           high=None if high is None else Bound(high, True))]
    column = length_of(node.lexpr)
    if column is None:
        raise Unreadable
    shortest = None if low is None else _length_rule(column, ">=", low).min_length
    longest = None if high is None else _length_rule(column, "<=", high).max_length
    return [ColumnRule(column, min_length=shortest, max_length=longest)]


def _read_operator_expression(node: ast.A_Expr, negated: bool) -> list[ColumnRule]:
    kind = node.kind
    if kind == A_Expr_Kind.AEXPR_OP:
        return _comparison(node, negated)
    if kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_BETWEEN_SYM) and not negated:
        return _between(node, kind == A_Expr_Kind.AEXPR_BETWEEN_SYM)
    column = column_of(node.lexpr)
    if column is None:
        raise Unreadable
    op = system_name(node.name)
    if kind == A_Expr_Kind.AEXPR_IN and op in ("=", "<>"):
        items = list(node.rexpr) if isinstance(node.rexpr, tuple | list) else []
        return _listed(column, [constant_of(item) for item in items], (op == "=") != negated)
    # x = ANY (array) is x IN (...); x <> ALL (array) is x NOT IN (...).
    if (kind, op) in ((A_Expr_Kind.AEXPR_OP_ANY, "="), (A_Expr_Kind.AEXPR_OP_ALL, "<>")):
        return _listed(column, array_of(node.rexpr), (op == "=") != negated)
    raise Unreadable


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
        and system_name(node.name) == "=")


def _disjunction(node: ast.BoolExpr) -> list[ColumnRule]:
    """An OR of equalities on one column: the union of their values."""
    columns: set[str] = set()
    values: list[Constant] = []
    anything = False
    for branch in _disjuncts(node):
        if not _is_equality(branch):
            raise Unreadable
        rules = _read(branch)
        if not rules:  # an equality with NULL: that branch is NULL, so the OR never fails
            anything = True
            continue
        rule = rules[0]
        if len(rules) != 1 or rule.values is None:
            raise Unreadable  # length(c) = n, say
        columns.add(rule.column)
        values.extend(rule.values)
    if anything:
        return []
    if len(columns) != 1:
        raise Unreadable
    return [ColumnRule(columns.pop(), values=distinct(values))]


def _read(node: ast.Node | None, negated: bool = False) -> list[ColumnRule]:
    """The rules one conjunct states ([] when it restricts no value); Unreadable if unknown."""
    if isinstance(node, ast.BoolExpr):
        if node.boolop == BoolExprType.NOT_EXPR and len(node.args or ()) == 1:
            return _read(node.args[0], not negated)
        if node.boolop == BoolExprType.OR_EXPR and not negated:
            return _disjunction(node)
        raise Unreadable  # AND under NOT, OR under NOT: not the simple shapes
    if isinstance(node, ast.NullTest):
        # IS NOT NULL restricts no value; IS NULL would allow none but NULL.
        if (node.nulltesttype == NullTestType.IS_NOT_NULL) != negated and column_of(node.arg):
            return []
        raise Unreadable
    if isinstance(node, ast.ColumnRef):
        column = column_of(node)
        if column is None:
            raise Unreadable
        return [ColumnRule(column, values=(Constant("false" if negated else "true", "bool"),))]
    if isinstance(node, ast.A_Const) and isinstance(node.val, ast.Boolean):
        if node.val.boolval != negated:
            return []  # CHECK (true)
        raise Unreadable
    if isinstance(node, ast.A_Expr):
        return _read_operator_expression(node, negated)
    raise Unreadable


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
            keys = {key_of(c) for c in new.values}
            values = tuple(c for c in values if key_of(c) in keys)
    lengths = [n for n in (old.min_length, new.min_length) if n is not None]
    limits = [n for n in (old.max_length, new.max_length) if n is not None]
    merged = replace(old, low=low, high=high, values=values,
                     excluded=distinct((*old.excluded, *new.excluded)),
                     min_length=max(lengths) if lengths else None,
                     max_length=min(limits) if limits else None)
    return merged, complete




def _check_expression(definition: str) -> ast.Node | None:
    """The expression of ``CHECK (...) [NOT VALID] [NO INHERIT]``, or of a bare expression.

    The whole definition is parsed as ``ALTER TABLE ... ADD <definition>``,
    the statement it came from, so pglast deals with the suffixes. A bare
    expression (``information_schema.check_constraints`` drops the ``CHECK``)
    is read as ``SELECT <expression>``.
    """
    text = definition.strip()
    statement = parse_one(f"ALTER TABLE t ADD {text}")
    if isinstance(statement, ast.AlterTableStmt) and len(statement.cmds or ()) == 1:
        constraint = statement.cmds[0].def_
        if isinstance(constraint, ast.Constraint):
            if constraint.contype == ConstrType.CONSTR_CHECK:
                return constraint.raw_expr
            return None  # a key or other kind of constraint
    statement = parse_one(f"SELECT {text}")
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
        # Unreadable, or a shape of AST this reader did not foresee: the promise is
        # to read what it can and say what it could not, never to raise.
        except Exception:
            complete = False
            continue
        for fact in facts:
            rules[fact.column], combined = _merge(rules.get(fact.column), fact)
            complete = complete and combined
    return CheckReading(rules, complete)

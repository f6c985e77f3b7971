"""The SQL of the stream, built with ``psycopg.sql`` (no I/O).

Rows are found in key order: "the first row whose key is at or after this
one" is a B-tree range scan on the primary key (or on the unique column a
reference points at), whatever the key's type, and the database's state
alone decides the answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

__all__ = ["Where", "cast_row", "columns", "row", "select_first"]

Where = tuple[sql.Composable, tuple[object, ...]]


def columns(names: Sequence[str], alias: str | None = None) -> sql.Composed:
    """``"t"."a", "t"."b"``."""
    if alias is None:
        return sql.SQL(", ").join(map(sql.Identifier, names))
    return sql.SQL(", ").join(sql.Identifier(alias, n) for n in names)


def row(names: Sequence[str], alias: str | None = None) -> sql.Composed:
    """``("t"."a", "t"."b")``: a row constructor, comparable as a whole."""
    return sql.SQL("({})").format(columns(names, alias))


def cast_row(types: Sequence[str]) -> sql.Composed:
    """``(%s::bigint, %s::text)``: parameters given as text, cast to the columns' types."""
    return sql.SQL("({})").format(sql.SQL(", ").join(
        sql.SQL("%s::" + t) for t in types))


def select_first(table: sql.Composable, key: Sequence[str], wanted: Sequence[sql.Composable],
                 where: Sequence[Where], *,
                 after: tuple[str, Sequence[str], Sequence[object]] | None = None,
                 limit: int = 1, for_update: bool = False) -> tuple[sql.Composed, list[object]]:
    """Rows of ``table`` (alias ``t``) in ``key`` order, optionally ``(key) >= (start)``
    or ``(key) < (start)`` (``after = (">=" or "<", casts, start)``), filtered by ``where``."""
    clauses: list[sql.Composable] = []
    params: list[object] = []
    if after is not None:
        op, casts, start = after
        clauses.append(sql.SQL("{} " + op + " {}").format(row(key, "t"), cast_row(casts)))
        params.extend(start)
    for clause, values in where:
        clauses.append(clause)
        params.extend(values)
    statement = sql.SQL("SELECT {} FROM {} AS t{} ORDER BY {} LIMIT {}{}").format(
        sql.SQL(", ").join(wanted), table,
        sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL(""),
        columns(key, "t"), sql.Literal(limit),
        sql.SQL(" FOR UPDATE OF t") if for_update else sql.SQL(""))
    return statement, params

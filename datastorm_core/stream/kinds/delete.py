"""Delete: the first row at or after a drawn key that no row references.

A candidate must not be referenced through a restricting foreign key (one
of the Genfile's references without ``on_delete = "cascade"``, or any
foreign key the catalog knows from a table outside the Genfile). Rows that
reference it through a cascading one are deleted first, deepest first,
unless one of them is itself referenced: then the next candidate is tried,
up to ``DELETE_CANDIDATES``. Where the client counts the references onto
the table (``live_keys.py``: bigint keys, no cascade onto it), the first
unreferenced key is found there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psycopg import sql

from datastorm_core.stream import live_keys
from datastorm_core.stream.catalog import Link
from datastorm_core.stream.events import Change
from datastorm_core.stream.kinds.base import EventContext, Resolved
from datastorm_core.stream.session import Write
from datastorm_core.stream.spec import StreamTable
from datastorm_core.stream.sql import Where, columns, row

__all__ = ["DELETE_CANDIDATES", "MAX_CASCADE_DEPTH", "resolve"]

# Candidates a delete looks at before it gives up on a table for this event.
DELETE_CANDIDATES = 16
# How deep a cascade may go (the Genfile's references are acyclic; this is a guard).
MAX_CASCADE_DEPTH = 16


def resolve(ctx: EventContext, n: int, t: StreamTable, attempt: int) -> Resolved | None:
    start = ctx.planner.start_index(n, t.name, ctx.rows_of(t.name), "delete", attempt)
    if ctx.search.live.deletable(t.name):  # the client counts the references onto it
        free = ctx.search.live.first_free(t.name, ctx.search.start_key(t, start))
        if free is None:
            return None
        change = Change(t.name, "delete", free)
        return Resolved((change,), (_delete_row(ctx, change, checked=True),))
    links = ctx.links.get(t.name, [])
    wanted_names = _wanted(t.key, links)
    where = [_unreferenced(lk) for lk in links if not lk.cascade]
    # Only a cascade can turn a candidate down: without one the first is the row, and
    # the scan past rows still referenced stops there (a table whose rows are nearly
    # all referenced is walked far for sixteen).
    limit = DELETE_CANDIDATES if any(lk.cascade for lk in links) else 1
    candidates = ctx.search.rows(("delete", t.name), sql.Identifier(t.name), list(t.key),
                                 ctx.search.key_schema(t), ctx.search.start_key(t, start),
                                 where, [sql.Identifier("t", c) for c in wanted_names],
                                 limit=limit)
    for found in candidates:
        values = dict(zip(wanted_names, found, strict=True))
        children = _cascade(ctx, t.name, values, 0)
        if children is None:
            continue
        key = tuple(values[k] for k in t.key)
        changes = (*children, Change(t.name, "delete", key))
        return Resolved(changes, tuple(_delete_row(ctx, change) for change in changes))
    return None


def _wanted(key: Sequence[str], links: Sequence[Link]) -> list[str]:
    """The key, then the columns cascading children reference (to find them)."""
    return list(dict.fromkeys([*key, *(lk.parent_column for lk in links if lk.cascade)]))


def _unreferenced(link: Link) -> Where:
    return (sql.SQL("NOT EXISTS (SELECT 1 FROM {} AS c WHERE {} = {})").format(
        link.child_sql, sql.Identifier("c", link.column),
        sql.Identifier("t", link.parent_column)), ())


def _cascade(ctx: EventContext, table: str, values: Mapping[str, object], depth: int
             ) -> list[Change] | None:
    """The rows a delete of ``table``'s row takes with it, deepest first; None when
    one of them is referenced through a restricting foreign key."""
    changes: list[Change] = []
    for link in ctx.links.get(table, []):
        if not link.cascade:
            continue
        if depth >= MAX_CASCADE_DEPTH:
            return None
        child = ctx.spec.table(link.child)
        below = ctx.links.get(child.name, [])
        wanted_names = _wanted(child.key, below)
        statement = ctx.session.statement(("cascade", link.child, link.column, link.parent),
                                          _children, link, child, wanted_names, below)
        for found in ctx.session.query(statement, (values[link.parent_column],)):
            if not found[-1]:  # the child is referenced itself: the parent stays
                return None
            row_values = dict(zip(wanted_names, found[:-1], strict=True))
            deeper = _cascade(ctx, child.name, row_values, depth + 1)
            if deeper is None:
                return None
            changes += deeper
            changes.append(Change(child.name, "delete",
                                  tuple(row_values[k] for k in child.key)))
    return changes


def _children(link: Link, child: StreamTable, wanted_names: Sequence[str],
              below: Sequence[Link]) -> sql.Composed:
    """The rows of ``child`` that reference the parent through ``link``, each with
    whether it is free to go (no restricting reference onto it)."""
    blocked = [_unreferenced(lk)[0] for lk in below if not lk.cascade]
    return sql.SQL("SELECT {}, {} FROM {} AS t WHERE {} = %s ORDER BY {}").format(
        columns(wanted_names, "t"),
        sql.SQL(" AND ").join(blocked) if blocked else sql.SQL("true"),
        sql.Identifier(child.name), sql.Identifier("t", link.column),
        columns(child.key, "t"))


def _delete_row(ctx: EventContext, change: Change, checked: bool = False) -> Write:
    """The DELETE of one row; ``checked``: failing when the row is gone (found in the
    live keys, it may have been deleted by another session)."""
    key = ctx.spec.table(change.table).key
    return (ctx.session.statement(("delete-row", change.table, checked), _delete, change.table,
                                  key, checked), change.key)


def _delete(table: str, key: Sequence[str], checked: bool) -> sql.Composed:
    delete = sql.SQL("DELETE FROM {} WHERE {} = ({})").format(
        sql.Identifier(table), row(key), sql.SQL(", ").join(sql.Placeholder() * len(key)))
    return live_keys.checked(delete) if checked else delete

"""Insert: row ``next_index`` of the table's generators, its references on live rows.

Each reference gets the first live parent at or after a drawn parent key
(for a one-to-one reference, a parent without a child yet); a key made of
references (a link table's pair) or a unique reference that is taken is
drawn again, up to ``ATTEMPTS`` times.
"""

from __future__ import annotations

from collections.abc import Mapping

from psycopg import sql

from datastorm_core.core.chunk import Column
from datastorm_core.stream.draw import reference_value
from datastorm_core.stream.events import Change
from datastorm_core.stream.kinds.base import EventContext, Resolved
from datastorm_core.stream.plan import ATTEMPTS
from datastorm_core.stream.spec import StreamTable
from datastorm_core.stream.sql import cast_row, columns, row
from datastorm_core.stream.values import NONE, column_of, texts, typed
from datastorm_core.target.postgres.sql import column_type

__all__ = ["resolve"]


def resolve(ctx: EventContext, n: int, t: StreamTable, attempt: int) -> Resolved | None:
    if t.name in ctx.full:
        return None
    index = ctx.rows_of(t.name)
    for tries in range(ATTEMPTS):
        given: dict[str, Column] = {}
        for ref in t.references:
            value = reference_value(ctx.planner, ctx.search, n, t, ref, index,
                                    attempt * ATTEMPTS + tries)
            if value is NONE:
                return None
            given[ref.field] = column_of(value, t.schema.column(ref.field))
        try:
            made = ctx.planner.insert_row(t.name, index, given)
        except ValueError:  # beyond a unique field's space: no new value exists
            ctx.full.add(t.name)
            return None
        values = {name: texts(column, t.schema.column(name))[0]
                  for name, column in made.items()}
        if _taken(ctx, t, values):
            continue
        statement = ctx.session.statement(("insert", t.name), _insert, t)
        key = tuple(typed(values[k], t.schema.column(k)) for k in t.key)
        return Resolved((Change(t.name, "insert", key),),
                        ((statement, [values[c.name] for c in t.schema.columns]),), values)
    return None


def _taken(ctx: EventContext, t: StreamTable, values: Mapping[str, str | None]) -> bool:
    """Whether a unique key made of references (a link table's pair) is taken."""
    checks: list[tuple[str, ...]] = []
    if len(t.key) > 1:
        checks.append(t.key)
    checks += [(f.name,) for f in t.table.references if f.unique and (f.name,) != t.key]
    for names in checks:
        wanted = [values[name] for name in names]
        if any(v is None for v in wanted):
            continue
        if names == t.key and ctx.search.live.knows(t.name, t.key):
            if ctx.search.live.holds(t.name, wanted):  # type: ignore[arg-type]
                return True
            continue
        statement = ctx.session.statement(("taken", t.name, names), _exists, t, names)
        if ctx.session.query(statement, wanted)[0][0]:
            return True
    return False


def _insert(t: StreamTable) -> sql.Composed:
    return sql.SQL("INSERT INTO {} ({}) VALUES {}").format(
        sql.Identifier(t.name), columns([c.name for c in t.schema.columns]),
        cast_row([column_type(c) for c in t.schema.columns]))


def _exists(t: StreamTable, names: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} = {})").format(
        sql.Identifier(t.name), row(names),
        cast_row([column_type(t.schema.column(name)) for name in names]))

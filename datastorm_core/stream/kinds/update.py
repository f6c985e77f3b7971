"""Update: the first row at or after a drawn key whose chosen field can change.

The fields are tried in an order the event draws. A transition field only
matches rows in a state that has a next state; a row is locked
(``FOR UPDATE``) while its new value is drawn from its current one. Any
other field's new value does not depend on the current one: where the
client keeps the table's live keys, the row is found there and the UPDATE
checks that it changed it (``live_keys.checked``). The
``on_update`` fields move forward to the stream's clock, never back.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import sql

from datastorm_core.core.schema import ColumnType
from datastorm_core.stream.draw import new_value
from datastorm_core.stream.events import Change
from datastorm_core.stream.kinds.base import EventContext, Resolved
from datastorm_core.stream.live_keys import checked
from datastorm_core.stream.spec import StreamTable
from datastorm_core.stream.sql import Where, row
from datastorm_core.stream.values import NONE
from datastorm_core.target.postgres.sql import column_type

__all__ = ["resolve"]


def resolve(ctx: EventContext, n: int, t: StreamTable, attempt: int) -> Resolved | None:
    fields: list[str | None] = list(ctx.planner.update_fields(n, t, attempt)) or [None]
    for name in fields:  # None: no mutable field, only the on_update clock moves
        where: list[Where] = []
        if name is not None and name in t.transitions:
            sources = [k for k, targets in t.transitions[name].items() if targets]
            if not sources:
                continue
            col = t.schema.column(name)
            where.append((sql.SQL("{} = ANY (%s::{}[])").format(
                sql.Identifier("t", name), sql.SQL(column_type(col))), (sources,)))
        start = ctx.planner.start_index(n, t.name, ctx.rows_of(t.name), "update",
                                        attempt, name)
        wanted = [sql.Identifier("t", k) for k in t.key]
        if name is not None:
            wanted.append(sql.Identifier("t", name))
        # Known keys serve a field whose new value ignores the current one.
        known = not where and ctx.search.live.knows(t.name, t.key)
        found: Sequence[object] | None
        if known:
            live = ctx.search.live.first(t.name, ctx.search.start_key(t, start))
            found = None if live is None else (*live, None)
        else:
            found = ctx.search.first(("update", t.name, name), sql.Identifier(t.name),
                                     list(t.key), ctx.search.key_schema(t),
                                     ctx.search.start_key(t, start), where, wanted,
                                     for_update=True)
        if found is None:
            continue
        key = tuple(found[:len(t.key)])
        sets: list[sql.Composable] = []
        params: list[object] = []
        if name is not None:
            value = new_value(ctx.planner, ctx.search, n, t, name, found[-1], attempt)
            if value is NONE:
                continue
            col = t.schema.column(name)
            sets.append(sql.SQL("{} = %s::" + column_type(col)).format(sql.Identifier(name)))
            params.append(value)
        moment = ctx.planner.event_time(n)
        for moving in t.on_update:
            col = t.schema.column(moving)
            if col.type is ColumnType.DATE:
                sets.append(sql.SQL("{0} = GREATEST({0}, %s::date)").format(
                    sql.Identifier(moving)))
                params.append(moment.date().isoformat())
            else:
                sets.append(sql.SQL(
                    "{0} = GREATEST({0} + interval '1 second', %s::timestamp)").format(
                    sql.Identifier(moving)))
                params.append(moment.isoformat(sep=" "))
        # The same (table, field) always sets the same columns: one statement each.
        statement = ctx.session.statement(("set", t.name, name, known), _update, t, sets,
                                          known)
        return Resolved((Change(t.name, "update", key),), ((statement, [*params, *key]),),
                        {} if name is None else {name: params[0]})
    return None


def _update(t: StreamTable, sets: Sequence[sql.Composable], known: bool) -> sql.Composed:
    update = sql.SQL("UPDATE {} SET {} WHERE {} = ({})").format(
        sql.Identifier(t.name), sql.SQL(", ").join(sets), row(t.key),
        sql.SQL(", ").join(sql.Placeholder() * len(t.key)))
    return checked(update) if known else update

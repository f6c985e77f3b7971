"""Finding rows: the key a search starts at, and the first live rows at or after it.

A search starts at the key that row ``index`` of a table has by its
generators (``Planner.start_index`` draws the index) and takes the first
rows at or after that key in key order, wrapping around to the table's
first key: a B-tree range scan on the primary key (or on the unique column a
reference points at), whatever the key's type, so the database's state alone
decides the answer. Keys of tables up to ``KEY_CACHE_ROWS`` rows are computed
``KEY_BLOCK`` rows at a time and kept, so a start is a lookup. Where the
client keeps a table's live keys (``live_keys.py``), a search of a live
parent is answered from them, without a round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg import sql

from datastorm_core.core.schema import ColumnSchema, TableSchema
from datastorm_core.stream.live_keys import LiveKeys
from datastorm_core.stream.plan import Planner
from datastorm_core.stream.session import StreamSession
from datastorm_core.stream.spec import Reference, StreamTable
from datastorm_core.stream.sql import Where, select_first
from datastorm_core.stream.values import NONE, texts
from datastorm_core.target.postgres.sql import column_type

__all__ = ["KEY_BLOCK", "KEY_CACHE_ROWS", "KeySearch"]

# Keys of tables up to this many rows are computed in blocks and kept in memory;
# a bigger table's would weigh too much, and its starts are computed one at a time.
KEY_CACHE_ROWS = 1 << 18
KEY_BLOCK = 4096


class KeySearch:
    """Row searches over one session; ``rows_of(table)``: the row indices a table has used."""

    def __init__(self, session: StreamSession, planner: Planner,
                 rows_of: Callable[[str], int]) -> None:
        self.session = session
        self.planner = planner
        self.rows_of = rows_of
        self.live = LiveKeys()
        self._schemas: dict[str, TableSchema] = {}
        self._key_blocks: dict[tuple[str, tuple[str, ...], int], list[tuple[str | None, ...]]] = {}

    # -- where a search starts -----------------------------------------------------

    def schema(self, table: str) -> TableSchema:
        found = self._schemas.get(table)
        if found is None:
            found = self._schemas[table] = self.planner.source.schema(table)
        return found

    def key_schema(self, t: StreamTable) -> list[ColumnSchema]:
        return [t.schema.column(k) for k in t.key]

    def start_key(self, t: StreamTable, index: int) -> list[str | None]:
        """The primary key of ``t``'s row ``index``, as text."""
        return self.keys(t.name, t.key, index)

    def keys(self, table: str, names: tuple[str, ...], index: int) -> list[str | None]:
        """The text of ``names`` at row ``index`` of ``table``, as its generators make them."""
        schema = self.schema(table)
        if self.rows_of(table) > KEY_CACHE_ROWS:
            made = self.planner.key_at(table, index, names)
            return [texts(made[k], schema.column(k))[0] for k in names]
        block, offset = divmod(index, KEY_BLOCK)
        cached = self._key_blocks.get((table, names, block))
        if cached is None:
            start = block * KEY_BLOCK
            try:
                made = self.planner.key_rows(table, start, start + KEY_BLOCK, names)
            except ValueError:  # past a unique field's space: one row at a time
                made = self.planner.key_at(table, index, names)
                return [texts(made[k], schema.column(k))[0] for k in names]
            cached = list(zip(*(texts(made[k], schema.column(k)) for k in names), strict=True))
            self._key_blocks[table, names, block] = cached
        return list(cached[offset])

    # -- the search ------------------------------------------------------------------

    def rows(self, name: tuple[object, ...], table: sql.Composable, key: Sequence[str],
             schema: Sequence[ColumnSchema], start: Sequence[str | None],
             where: Sequence[Where], wanted: Sequence[sql.Composable], *, limit: int = 1,
             for_update: bool = False) -> list[Any]:
        """The first ``limit`` rows at or after ``start`` in key order, wrapping around.

        ``name`` identifies the statement (same table, columns and conditions):
        it is composed once and prepared by the server."""
        casts = [column_type(c) for c in schema]
        params = [*start, *(v for _, values in where for v in values)]
        found: list[Any] = []
        for op in (">=", "<"):  # from the start to the end, then from the first key
            wanted_rows = limit - len(found)
            statement = self.session.statement(
                (*name, op, wanted_rows, for_update), _scan, table, key, wanted, where,
                (op, casts, start), wanted_rows, for_update)
            found += self.session.query(statement, params)
            if len(found) >= limit:
                break
        return found

    def first(self, name: tuple[object, ...], table: sql.Composable, key: Sequence[str],
              schema: Sequence[ColumnSchema], start: Sequence[str | None],
              where: Sequence[Where], wanted: Sequence[sql.Composable], *,
              for_update: bool = False) -> Any | None:
        """The first row at or after ``start`` (see ``rows``), or None."""
        found = self.rows(name, table, key, schema, start, where, wanted,
                          for_update=for_update)
        return found[0] if found else None

    def live_parent(self, n: int, t: StreamTable, ref: Reference, attempt: int,
                    purpose: str) -> object:
        """The key of a live parent for ``t.field``, or ``NONE``."""
        parent_rows = self.rows_of(ref.parent)
        start = self.planner.parent_index(n, t, ref.field, parent_rows, attempt, purpose)
        column = self.schema(ref.parent).column(ref.parent_column)
        start_value = self.keys(ref.parent, (ref.parent_column,), start)
        one_to_one = t.table.field(ref.field).unique and len(t.key) < 2
        if not one_to_one and self.live.knows(ref.parent, (ref.parent_column,)):
            live = self.live.first(ref.parent, start_value)
            return NONE if live is None else live[0]
        where: list[Where] = []
        if one_to_one:
            # One-to-one: a parent that has no child in this table yet.
            where.append((sql.SQL("NOT EXISTS (SELECT 1 FROM {} AS c WHERE {} = {})").format(
                sql.Identifier(t.name), sql.Identifier("c", ref.field),
                sql.Identifier("t", ref.parent_column)), ()))
        found = self.first(("parent", t.name, ref.field), sql.Identifier(ref.parent),
                           [ref.parent_column], [column], start_value, where,
                           [sql.Identifier("t", ref.parent_column)])
        return NONE if found is None else found[0]


def _scan(table: sql.Composable, key: Sequence[str], wanted: Sequence[sql.Composable],
          where: Sequence[Where], after: tuple[str, Sequence[str], Sequence[object]],
          limit: int, for_update: bool) -> sql.Composed:
    """``select_first``'s statement alone: its parameters are the caller's."""
    return select_first(table, key, wanted, where, after=after, limit=limit,
                        for_update=for_update)[0]

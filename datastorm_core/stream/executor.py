"""Events against PostgreSQL: one transaction per event, the ledger inside it.

``execute(n)`` resolves event *n*'s plan against the database (which rows
exist, which are referenced) and runs its statements; ``commit()`` ends the
transaction. The runner calls them apart so that a connection lost during
COMMIT can be settled by reading the ledger back.

How each kind finds its row:

- insert: row ``next_index`` of the table's generators; each reference gets
  the first live parent at or after a drawn parent key (a one-to-one
  reference: a parent without a child yet), and a link table's key pair is
  drawn again while it is taken;
- update: the first row at or after a drawn key whose chosen field can
  change (a transition field: a row in a state that has a next state);
- delete: the first row at or after a drawn key that no row references
  through a restricting foreign key; rows that reference it through a
  cascading one (``on_delete = "cascade"``) are deleted first, deepest first,
  unless one of them is itself referenced.

The foreign keys considered are the Genfile's references and every
single-column foreign key the catalog knows, so a table outside the
Genfile that references a streamed one also protects its parents.
"""

from __future__ import annotations

# Statements are built by lambdas that ``_sql`` calls at once (or never): the
# loop variables they read are the current ones.
# ruff: noqa: B023
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.errors import TargetError, UsageError
from datastorm_core.stream import state
from datastorm_core.stream.plan import ATTEMPTS, Planner
from datastorm_core.stream.spec import Reference, StreamSpec, StreamTable, allowed_transitions
from datastorm_core.stream.sql import Where, cast_row, columns, row, select_first
from datastorm_core.target.encode.text import column_text
from datastorm_core.target.postgres import catalog, ownership
from datastorm_core.target.postgres.connection import ConnectionSettings
from datastorm_core.target.postgres.sql import column_type

__all__ = ["APPLICATION_NAME", "Change", "Event", "Link", "PostgresStream"]

APPLICATION_NAME = "datastorm-stream"
# Candidates a delete looks at before it gives up on a table for this event.
DELETE_CANDIDATES = 16
# How deep a cascade may go (the Genfile's references are acyclic; this is a guard).
MAX_CASCADE_DEPTH = 16
# Keys of tables up to this many rows are computed in blocks and kept in memory.
KEY_CACHE_ROWS = 1 << 18
KEY_BLOCK = 4096


@dataclass(frozen=True)
class Change:
    """One row changed: ``op`` is insert, update or delete; ``key`` its primary key."""

    table: str
    op: str
    key: tuple[Any, ...]


@dataclass(frozen=True)
class Event:
    """Event ``n``: its kind, the table it chose, and the rows it changed in order."""

    n: int
    kind: str
    table: str
    changes: tuple[Change, ...]

    def as_json(self) -> dict[str, Any]:
        return {"n": self.n, "kind": self.kind, "table": self.table,
                "changes": [{"table": c.table, "op": c.op, "key": [_json(v) for v in c.key]}
                            for c in self.changes]}


@dataclass(frozen=True)
class Link:
    """A foreign key pointing at a streamed table: ``child.column -> parent.parent_column``."""

    child: str  # the Genfile's table name, or the catalog's name of another table
    child_sql: sql.Composable
    column: str
    parent: str
    parent_column: str
    cascade: bool  # the child is streamed and its reference says on_delete = "cascade"


@dataclass
class Setup:
    """What preparing the database did (reported in the summary)."""

    ledger: state.Ledger
    indexes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class PostgresStream:
    """One connection to the target, and the events run through it."""

    def __init__(self, url: str, spec: StreamSpec, planner: Planner,
                 options: Mapping[str, Any] | None = None) -> None:
        self.settings = ConnectionSettings(url, _connection_options(options),
                                           application_name=APPLICATION_NAME)
        self.url = url
        self.spec = spec
        self.planner = planner
        self.conn: psycopg.Connection[Any] | None = None
        self.cur: psycopg.Cursor[Any] | None = None
        self.relids: dict[str, int] = {}
        self.links: dict[str, list[Link]] = {}
        self.next_index: dict[str, int] = {}
        self.full: set[str] = set()  # tables whose unique fields have no value left
        self.pid: int | None = None
        self._statements: dict[tuple[object, ...], str] = {}
        self._schemas: dict[str, TableSchema] = {}
        self._key_blocks: dict[tuple[str, tuple[str, ...], int], list[tuple[str | None, ...]]] = {}
        self._writes: list[tuple[str, Sequence[object]]] = []
        self._bind: psycopg.ClientCursor[Any] | None = None
        # The event whose writes were sent, until its COMMIT is acknowledged.
        self.pending: Event | None = None

    def describe(self) -> str:
        return self.settings.describe()

    # -- connection ----------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection and take the database's stream lock.

        Raises:
            psycopg.OperationalError: the server cannot be reached.
            TargetError: another stream holds the lock.
        """
        self.close()
        # psycopg's own errors on purpose: the runner reconnects on OperationalError.
        conn = psycopg.connect(autocommit=False, **self.settings.params)
        try:
            self.settings.setup(conn)
            cur = conn.cursor()
            locked, pid = cur.execute("SELECT pg_try_advisory_lock(%s), pg_backend_pid()",
                                      (state.LOCK_KEY,)).fetchone()
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not locked:
            conn.close()
            raise TargetError(f"another datastorm stream is running against "
                              f"{self.describe()}; one stream per database")
        self.conn, self.cur, self.pid = conn, cur, int(pid)

    def close(self) -> None:
        conn, self.conn, self.cur = self.conn, None, None
        if conn is not None:
            with suppress(Exception):  # the connection is gone anyway
                conn.close()

    def _c(self) -> psycopg.Cursor[Any]:
        assert self.cur is not None, "not connected"
        return self.cur

    def _sql(self, key: tuple[object, ...], build: Callable[[], sql.Composable]) -> str:
        """The statement ``key`` names, composed once (composing costs more than sending)."""
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = build().as_string(self.conn)
        return found

    def commit(self) -> None:
        assert self.conn is not None
        self.conn.commit()

    def rollback(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.rollback()

    # -- setup ---------------------------------------------------------------------

    def setup(self) -> Setup:
        """Check the tables, index the foreign keys, open the ledger; one transaction."""
        cur = self._c()
        genfile = self.spec.genfile
        for table in genfile.tables:
            relid = catalog.oid_of(cur, table.name)
            if relid is not None:
                self.relids[table.name] = relid
        missing = [t for t in self.spec.names if t not in self.relids]
        parents = {r.parent for t in self.spec.tables for r in t.references}
        missing += [p for p in sorted(parents) if p not in self.relids and p not in missing]
        if missing:
            self.rollback()
            raise UsageError(f"{', '.join(map(repr, missing))} "
                             f"{'is' if len(missing) == 1 else 'are'} not in {self.describe()}:"
                             " the stream changes tables that `datastorm run` loaded; load "
                             "them first")
        for t in self.spec.tables:
            key = catalog.primary_key(cur, self.relids[t.name])
            if tuple(sorted(key)) != tuple(sorted(t.key)):
                self.rollback()
                has = f"primary key ({', '.join(key)})" if key else "no primary key"
                raise UsageError(f"table {t.name!r} in the database has {has}, not "
                                 f"({', '.join(t.key)}): load it with `datastorm run` "
                                 "(a partitioned or interrupted load may lack its keys)")
        self._read_links()
        setup = Setup(state.Ledger(0, 0))
        setup.indexes = self._index_foreign_keys()
        first = {}
        for t in self.spec.tables:
            count = cur.execute(sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(t.name))).fetchone()[0]
            first[t.name] = (self.relids[t.name], max(t.records, int(count)))
        setup.ledger = state.Ledger.open(cur, self.planner.seed, first)
        setup.notes = list(setup.ledger.notes)
        self._load(setup.ledger)
        return setup

    def resync(self) -> int:
        """After a reconnect: the ledger's next event, and the tables still the same."""
        cur = self._c()
        ledger = state.Ledger.read(cur)
        for name in self.spec.names:
            relid = catalog.oid_of(cur, name)
            if relid is None or relid != self.relids[name]:
                self.rollback()
                raise TargetError(f"table {name!r} was dropped or reloaded while the stream "
                                  "ran; start the stream again")
        self.commit()
        self._load(ledger)
        return ledger.next_event

    def _load(self, ledger: state.Ledger) -> None:
        if ledger.seed != self.planner.seed:
            raise TargetError(f"the ledger says seed {ledger.seed}, this stream has seed "
                              f"{self.planner.seed}")
        self.next_index = {name: t.next_index for name, t in ledger.tables.items()}

    def _read_links(self) -> None:
        """Every single-column foreign key pointing at a table of the Genfile."""
        by_oid = {oid: name for name, oid in self.relids.items()}
        streamed = set(self.spec.names)
        links: dict[tuple[str, str, str, str], Link] = {}
        for ref in self.spec.references:
            if ref.table in self.relids and ref.parent in self.relids:
                links[ref.table, ref.field, ref.parent, ref.parent_column] = Link(
                    ref.table, sql.Identifier(ref.table), ref.field, ref.parent,
                    ref.parent_column, ref.cascade and ref.table in streamed
                    and ref.parent in streamed)
        rows = catalog.single_column_foreign_keys_onto(self._c(), list(self.relids.values()))
        for child_oid, child_text, column, parent_oid, parent_column in rows:
            parent = by_oid[int(parent_oid)]
            child = by_oid.get(int(child_oid), child_text)
            child_sql = sql.Identifier(child) if child in self.relids else sql.SQL(child_text)
            links.setdefault((child, column, parent, parent_column), Link(
                child, child_sql, column, parent, parent_column, False))
        self.links = {}
        for link in links.values():
            self.links.setdefault(link.parent, []).append(link)

    def _index_foreign_keys(self) -> list[str]:
        """An index on every Genfile foreign key column into a streamed table that has none,
        as an OLTP schema has: finding a parent's children must not scan the child.

        Only on tables datastorm created, and recorded as datastorm's: an
        application's table is never altered (its own indexes are what it has).
        """
        created = []
        cur = self._c()
        owned = ownership.read_ownership(cur)
        for name in self.spec.names:
            for link in self.links.get(name, []):
                if link.child not in self.relids or not owned.owns(self.relids[link.child]):
                    continue
                if not catalog.has_index_on(cur, self.relids[link.child], link.column):
                    index = f"{link.child}_{link.column}_stream_idx"[:63]
                    cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                        sql.Identifier(index), link.child_sql, sql.Identifier(link.column)))
                    ownership.record(cur, index, "index")
                    created.append(index)
        return created

    # -- events --------------------------------------------------------------------

    def execute(self, n: int) -> Event:
        """Apply event ``n``: find its rows, then send its writes, the ledger's move
        and COMMIT in one round trip.

        If the connection is lost, ``pending`` holds the event: the ledger,
        read back after reconnecting, says whether it was committed.
        """
        self.pending = None
        self._writes = []
        excluded: list[tuple[str, str]] = []
        pairs = len(self.spec.tables) * 3
        for attempt in range(pairs + 1):
            choice = self.planner.choose(n, attempt, excluded)
            if choice is None:
                break
            kind, table = choice
            changes = getattr(self, f"_{kind}")(n, table, attempt)
            if changes is not None:
                return self._apply(n, kind, table.name, changes)
            excluded.append((kind, table.name))
        self.rollback()
        raise TargetError(f"event {n}: no event is possible (no row to update or delete, no "
                          "parent or key left to insert a row); tried "
                          + ", ".join(f"{k} {t}" for k, t in excluded))

    def _apply(self, n: int, kind: str, table: str, changes: list[Change]) -> Event:
        counts: dict[str, list[int]] = {}
        for change in changes:
            entry = counts.setdefault(change.table, [0, 0, 0, 0])
            position = {"insert": 1, "update": 2, "delete": 3}[change.op]
            entry[position] += 1
            if change.op == "insert":
                entry[0] += 1
        event = Event(n, kind, table, tuple(changes))
        self.pending = event
        binder = self._binder()
        # One simple-protocol query, bound client side by psycopg: the writes, the
        # ledger's move, COMMIT. Statements after a failing one are not run.
        moves = state.advance(n, {t: (c[0], c[1], c[2], c[3]) for t, c in counts.items()})
        batch = [binder.mogrify(write, values) for write, values in self._writes]
        batch += [binder.mogrify(statement, values) for statement, values in moves]
        self._c().execute("; ".join([*batch, "COMMIT"]))
        for name, entry in counts.items():
            self.next_index[name] = self.rows_of(name) + entry[0]
        self.pending = None
        return event

    def _binder(self) -> psycopg.ClientCursor[Any]:
        assert self.conn is not None
        if self._bind is None or self._bind.connection is not self.conn:
            self._bind = psycopg.ClientCursor(self.conn)
        return self._bind

    def rows_of(self, table: str) -> int:
        """The row indices a table has used so far (generated and inserted)."""
        return self.next_index.get(table, self.spec.genfile.table(table).records)

    # -- insert ----------------------------------------------------------------------

    def _insert(self, n: int, t: StreamTable, attempt: int) -> list[Change] | None:
        if t.name in self.full:
            return None
        index = self.rows_of(t.name)
        for tries in range(ATTEMPTS):
            given: dict[str, Column] = {}
            for ref in t.references:
                value = self._reference_value(n, t, ref, index, attempt * ATTEMPTS + tries)
                if value is _NONE:
                    return None
                given[ref.field] = _column_of(value, t.schema.column(ref.field))
            try:
                made = self.planner.insert_row(t.name, index, given)
            except ValueError:  # beyond a unique field's space: no new value exists
                self.full.add(t.name)
                return None
            texts = {name: _texts(column, t.schema.column(name))[0]
                     for name, column in made.items()}
            if self._taken(t, texts):
                continue
            names = [c.name for c in t.schema.columns]
            self._writes.append((self._sql(("insert", t.name), lambda: sql.SQL(
                "INSERT INTO {} ({}) VALUES {}").format(
                sql.Identifier(t.name), columns(names),
                cast_row([column_type(c) for c in t.schema.columns]))),
                [texts[name] for name in names]))
            key = tuple(_typed(texts[k], t.schema.column(k)) for k in t.key)
            return [Change(t.name, "insert", key)]
        return None

    def _reference_value(self, n: int, t: StreamTable, ref: Reference, index: int,
                         attempt: int) -> object:
        f = t.table.field(ref.field)
        if self.planner.row_null(t.name, ref.field, index, f.null_rate):
            return None
        if ref.self_reference:
            root_rate = float(f.param("root_rate", 0.0))
            if self.planner.unit(n, "root", t.name, ref.field) < root_rate:
                return None
        found = self._live_parent(n, t, ref, attempt, "insert")
        if found is _NONE and ref.self_reference:
            return None  # the first row of a hierarchy is a root
        return found

    def _live_parent(self, n: int, t: StreamTable, ref: Reference, attempt: int,
                     purpose: str) -> object:
        """The key of a live parent for ``t.field``, or ``_NONE``."""
        parent_rows = self.rows_of(ref.parent)
        start = self.planner.parent_index(n, t, ref.field, parent_rows, attempt, purpose)
        column = self._schema(ref.parent).column(ref.parent_column)
        start_value = self._keys(ref.parent, (ref.parent_column,), start)
        where: list[Where] = []
        if t.table.field(ref.field).unique and len(t.key) < 2:
            # One-to-one: a parent that has no child in this table yet.
            where.append((sql.SQL("NOT EXISTS (SELECT 1 FROM {} AS c WHERE {} = {})").format(
                sql.Identifier(t.name), sql.Identifier("c", ref.field),
                sql.Identifier("t", ref.parent_column)), ()))
        found = self._first(("parent", t.name, ref.field), sql.Identifier(ref.parent),
                            [ref.parent_column], [column], start_value, where,
                            [sql.Identifier("t", ref.parent_column)])
        return _NONE if found is None else found[0]

    def _taken(self, t: StreamTable, texts: Mapping[str, str | None]) -> bool:
        """Whether a unique key made of references (a link table's pair) is taken."""
        checks: list[tuple[str, ...]] = []
        if len(t.key) > 1:
            checks.append(t.key)
        checks += [(f.name,) for f in t.table.references if f.unique and (f.name,) != t.key]
        for names in checks:
            values = [texts[name] for name in names]
            if any(v is None for v in values):
                continue
            casts = [column_type(t.schema.column(name)) for name in names]
            statement = self._sql(("taken", t.name, names), lambda: sql.SQL(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE {} = {})").format(
                sql.Identifier(t.name), row(names), cast_row(casts)))
            taken = self._c().execute(statement, values).fetchone()[0]
            if taken:
                return True
        return False

    # -- update ----------------------------------------------------------------------

    def _update(self, n: int, t: StreamTable, attempt: int) -> list[Change] | None:
        fields: list[str | None] = list(self.planner.update_fields(n, t, attempt)) or [None]
        for name in fields:
            where: list[Where] = []
            if name is not None and name in t.transitions:
                sources = [k for k, targets in t.transitions[name].items() if targets]
                if not sources:
                    continue
                col = t.schema.column(name)
                where.append((sql.SQL("{} = ANY (%s::{}[])").format(
                    sql.Identifier("t", name), sql.SQL(column_type(col))), (sources,)))
            start = self.planner.start_index(n, t.name, self.rows_of(t.name), "update",
                                             attempt, name)
            wanted = [sql.Identifier("t", k) for k in t.key]
            if name is not None:
                wanted.append(sql.Identifier("t", name))
            found = self._first(("update", t.name, name), sql.Identifier(t.name), list(t.key),
                                self._key_schema(t), self._start_key(t, start), where, wanted,
                                for_update=True)
            if found is None:
                continue
            key = tuple(found[:len(t.key)])
            sets: list[sql.Composable] = []
            params: list[object] = []
            if name is not None:
                value = self._new_value(n, t, name, found[-1], attempt)
                if value is _NONE:
                    continue
                col = t.schema.column(name)
                sets.append(sql.SQL("{} = %s::" + column_type(col)).format(sql.Identifier(name)))
                params.append(value)
            moment = self.planner.event_time(n)
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
            statement = self._sql(("set", t.name, name), lambda: sql.SQL(
                "UPDATE {} SET {} WHERE {} = ({})").format(
                sql.Identifier(t.name), sql.SQL(", ").join(sets), row(t.key),
                sql.SQL(", ").join(sql.Placeholder() * len(t.key))))
            self._writes.append((statement, [*params, *key]))
            return [Change(t.name, "update", key)]
        return None

    def _new_value(self, n: int, t: StreamTable, name: str, current: object,
                   attempt: int) -> object:
        """The new value of ``t.name`` as text for a cast (None: NULL), or ``_NONE``."""
        col = t.schema.column(name)
        if name in t.transitions:
            allowed = allowed_transitions(t, name, current)
            if not allowed:
                return _NONE
            chosen = self.planner.transition(n, t, name, allowed)
            return _texts(Column(np.array([chosen])), col)[0] if not isinstance(chosen, bool) \
                else ("true" if chosen else "false")
        ref = next((r for r in t.references if r.field == name), None)
        if ref is not None:
            f = t.table.field(name)
            if self.planner.is_null(n, t.name, name, f.null_rate, "update"):
                return None
            found = self._live_parent(n, t, ref, attempt, "update")
            if found is _NONE:
                return _NONE
            return _texts(_column_of(found, col), col)[0]
        return _texts(self.planner.new_value(n, t.name, name), col)[0]

    # -- delete ----------------------------------------------------------------------

    def _delete(self, n: int, t: StreamTable, attempt: int) -> list[Change] | None:
        start = self.planner.start_index(n, t.name, self.rows_of(t.name), "delete", attempt)
        links = self.links.get(t.name, [])
        wanted_names = list(dict.fromkeys([*t.key, *(lk.parent_column for lk in links
                                                     if lk.cascade)]))
        where = [self._unreferenced(lk) for lk in links if not lk.cascade]
        candidates = self._first(("delete", t.name), sql.Identifier(t.name), list(t.key),
                                 self._key_schema(t), self._start_key(t, start), where,
                                 [sql.Identifier("t", c) for c in wanted_names],
                                 limit=DELETE_CANDIDATES, many=True)
        for found in candidates:
            values = dict(zip(wanted_names, found, strict=True))
            children = self._cascade(t.name, values, 0)
            if children is None:
                continue
            key = tuple(values[k] for k in t.key)
            changes = [*children, Change(t.name, "delete", key)]
            for change in changes:
                self._delete_row(change)
            return changes
        return None

    def _unreferenced(self, link: Link) -> Where:
        return (sql.SQL("NOT EXISTS (SELECT 1 FROM {} AS c WHERE {} = {})").format(
            link.child_sql, sql.Identifier("c", link.column),
            sql.Identifier("t", link.parent_column)), ())

    def _cascade(self, table: str, values: Mapping[str, object], depth: int
                 ) -> list[Change] | None:
        """The rows a delete of ``table``'s row takes with it, deepest first; None when
        one of them is referenced through a restricting foreign key."""
        changes: list[Change] = []
        for link in self.links.get(table, []):
            if not link.cascade:
                continue
            if depth >= MAX_CASCADE_DEPTH:
                return None
            child = self.spec.table(link.child)
            below = self.links.get(child.name, [])
            wanted_names = list(dict.fromkeys([*child.key, *(lk.parent_column for lk in below
                                                             if lk.cascade)]))
            blocked = [self._unreferenced(lk)[0] for lk in below if not lk.cascade]
            name = ("cascade", link.child, link.column, link.parent)
            statement = self._sql(name, lambda: sql.SQL(
                "SELECT {}, {} FROM {} AS t WHERE {} = %s ORDER BY {}").format(
                columns(wanted_names, "t"),
                sql.SQL(" AND ").join(blocked) if blocked else sql.SQL("true"),
                sql.Identifier(child.name), sql.Identifier("t", link.column),
                columns(child.key, "t")))
            for found in self._c().execute(statement, (values[link.parent_column],)).fetchall():
                if not found[-1]:
                    return None
                row_values = dict(zip(wanted_names, found[:-1], strict=True))
                deeper = self._cascade(child.name, row_values, depth + 1)
                if deeper is None:
                    return None
                changes += deeper
                changes.append(Change(child.name, "delete",
                                      tuple(row_values[k] for k in child.key)))
        return changes

    def _delete_row(self, change: Change) -> None:
        key = self.spec.table(change.table).key
        self._writes.append((self._sql(("delete-row", change.table), lambda: sql.SQL(
            "DELETE FROM {} WHERE {} = ({})").format(
            sql.Identifier(change.table), row(key),
            sql.SQL(", ").join(sql.Placeholder() * len(key)))), change.key))

    # -- finding rows ------------------------------------------------------------------

    def _key_schema(self, t: StreamTable) -> list[ColumnSchema]:
        return [t.schema.column(k) for k in t.key]

    def _schema(self, table: str) -> TableSchema:
        found = self._schemas.get(table)
        if found is None:
            found = self._schemas[table] = self.planner.source.schema(table)
        return found

    def _start_key(self, t: StreamTable, index: int) -> list[str | None]:
        return self._keys(t.name, t.key, index)

    def _keys(self, table: str, names: tuple[str, ...], index: int) -> list[str | None]:
        """The text of ``names`` at row ``index`` of ``table``, as its generators make them.

        Tables up to ``KEY_CACHE_ROWS`` rows compute their keys ``KEY_BLOCK`` rows
        at a time and keep them: a search start is then a lookup."""
        schema = self._schema(table)
        if self.rows_of(table) > KEY_CACHE_ROWS:
            made = self.planner.key_at(table, index, names)
            return [_texts(made[k], schema.column(k))[0] for k in names]
        block, offset = divmod(index, KEY_BLOCK)
        cached = self._key_blocks.get((table, names, block))
        if cached is None:
            start = block * KEY_BLOCK
            try:
                made = self.planner.key_rows(table, start, start + KEY_BLOCK, names)
            except ValueError:  # past a unique field's space: one row at a time
                made = self.planner.key_at(table, index, names)
                return [_texts(made[k], schema.column(k))[0] for k in names]
            cached = list(zip(*(_texts(made[k], schema.column(k)) for k in names),
                              strict=True))
            self._key_blocks[table, names, block] = cached
        return list(cached[offset])

    def _first(self, name: tuple[object, ...], table: sql.Composable, key: Sequence[str],
               schema: Sequence[ColumnSchema], start: Sequence[str | None],
               where: Sequence[Where], wanted: Sequence[sql.Composable], *, limit: int = 1,
               for_update: bool = False, many: bool = False) -> Any:
        """The first ``limit`` rows at or after ``start`` in key order, wrapping around.

        ``name`` identifies the statement (same table, columns and conditions)."""
        casts = [column_type(c) for c in schema]
        cur = self._c()
        params = [*start, *(v for _, values in where for v in values)]
        rows: list[Any] = []
        for op in (">=", "<"):
            wanted_rows = limit - len(rows)
            statement = self._sql((*name, op, wanted_rows, for_update), lambda: select_first(
                table, key, wanted, where, after=(op, casts, start),
                limit=wanted_rows, for_update=for_update)[0])
            rows += cur.execute(statement, params).fetchall()
            if len(rows) >= limit:
                break
        if many:
            return rows
        return rows[0] if rows else None

    # -- CDC ----------------------------------------------------------------------------

    def publish(self, name: str) -> dict[str, Any]:
        """Create (or point) publication ``name`` at the streamed tables, keyed for CDC."""
        from datastorm_core.stream.publication import publish

        return publish(self._c(), name, self.spec.names)


class _Missing:
    def __repr__(self) -> str:
        return "<none>"


_NONE: Any = _Missing()


def _texts(column: Column, col: ColumnSchema) -> list[str | None]:
    """A column's values as text for ``%s::type`` parameters, None for NULL."""
    texts: list[str | None] = list(column_text(column, col, timestamp_sep=" "))
    if column.nulls is not None:
        for i in np.flatnonzero(column.nulls).tolist():
            texts[i] = None
    return texts


def _column_of(value: object, col: ColumnSchema) -> Column:
    """A database value as a one-row Column of the generators' representation."""
    if value is None:
        filler = {ColumnType.BIGINT: np.zeros(1, np.int64),
                  ColumnType.NUMERIC: np.zeros(1, np.int64),
                  ColumnType.DOUBLE: np.zeros(1, np.float64),
                  ColumnType.BOOLEAN: np.zeros(1, bool),
                  ColumnType.DATE: np.zeros(1, "datetime64[D]"),
                  ColumnType.TIMESTAMP: np.zeros(1, "datetime64[s]")}.get(
            col.type, np.array([""]))
        return Column(filler, np.ones(1, dtype=bool))
    if col.type is ColumnType.BIGINT:
        return Column(np.array([int(value)], dtype=np.int64))  # type: ignore[call-overload]
    if col.type is ColumnType.NUMERIC:
        scaled = Decimal(str(value)).scaleb(col.scale or 0)
        return Column(np.array([int(scaled)], dtype=np.int64))
    if col.type is ColumnType.DOUBLE:
        return Column(np.array([float(value)], dtype=np.float64))  # type: ignore[arg-type]
    if col.type is ColumnType.BOOLEAN:
        return Column(np.array([bool(value)]))
    if col.type is ColumnType.DATE:
        return Column(np.array([np.datetime64(value, "D")]))
    if col.type is ColumnType.TIMESTAMP:
        return Column(np.array([np.datetime64(value, "s")]))
    return Column(np.array([str(value)]))


def _typed(text: str | None, col: ColumnSchema) -> object:
    """A key value from its text: int for BIGINT (as the database returns it)."""
    if text is not None and col.type is ColumnType.BIGINT:
        return int(text)
    return text


def _json(value: object) -> object:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[attr-defined]
    return str(value)


def _connection_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The target options that say how to connect (the stream ignores COPY's)."""
    return {k: v for k, v in (options or {}).items() if k in ("connect_timeout", "schema")}

"""The live keys of the tables, kept by the client: a search without a round trip.

A search asks for the first live row at or after a key, in key order
(``search.py``). For a table whose key is made of integers, that order is
Python's order of the key tuples, so the stream reads the keys once (at the
start, and again after a reconnect or a rollback), keeps them sorted, and
moves them with every event it applies: an insert adds its key, a delete
(its cascade too) removes them. A search of a live parent, of a row to
update (a field that is not a transition's) or of a link table's taken
pair is then a bisection, answered as the database would answer it.

For a table no cascade reaches, whose every referencing table has such
keys too, the client also counts the references onto each row (reading
the referencing columns once, then moving the counts with every insert,
delete and update of a reference), so a delete's search for the first
unreferenced row is a bisection of the rows counted zero: that search in
the database walks every referenced row on its way.

What the keys cannot tell stays a query: a row's current state (a
transition), a delete with a cascade, a one-to-one reference, a key of
text or uuid (its order is the server's collation or byte order), a table
of more than ``LIVE_KEYS_ROWS`` rows.

The stream is the writer of its tables while it runs. A row another
session deletes is noticed: the UPDATE or DELETE of it changes no row and
fails its check (``checked``), an INSERT referencing it breaks its foreign
key (so does deleting a row another session made referenced), the
transaction is rolled back, and the runner reads the keys again and
applies the event once more. A row another session inserts is seen at
the next start or reconnect, and so is a reference another session
removes.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from psycopg import sql

from datastorm_core.core.schema import ColumnType, TableSchema
from datastorm_core.stream.events import Change

__all__ = ["LIVE_KEYS_ROWS", "LiveKeys", "checked"]

#: Tables with more rows than this keep their searches in the database.
LIVE_KEYS_ROWS = 1 << 20

Key = tuple[int, ...]


class Reference(Protocol):
    """A foreign key onto a table (``catalog.Link``)."""

    child: str
    column: str
    parent: str
    parent_column: str
    cascade: bool


class LiveKeys:
    """Sorted integer keys of the tables that have them (and are small enough)."""

    def __init__(self) -> None:
        self._keys: dict[str, list[Key]] = {}
        self._sets: dict[str, set[Key]] = {}
        self.names: dict[str, tuple[str, ...]] = {}  # table -> its key's columns
        # Tables whose references are counted: parent -> {key: references onto it},
        # and its keys counted zero, sorted.
        self._counts: dict[str, dict[int, int]] = {}
        self._free: dict[str, list[Key]] = {}
        # child -> [(column, parent, {child key: the parent key it holds})]
        self._held: dict[str, list[tuple[str, str, dict[Key, int]]]] = {}

    def load(self, cur: Any, tables: Mapping[str, tuple[tuple[str, ...], TableSchema]],
             links: Mapping[str, Sequence[Reference]] | None = None) -> None:
        """Read the keys of ``tables`` (name -> (key columns, schema)) in key order, and
        count the references onto those ``links`` (parent -> its foreign keys) allow."""
        self.clear()
        self._load_keys(cur, tables)
        for parent, onto in (links or {}).items():
            self._load_counts(cur, parent, onto)

    def _load_keys(self, cur: Any,
                   tables: Mapping[str, tuple[tuple[str, ...], TableSchema]]) -> None:
        for name, (key, schema) in tables.items():
            if not key or any(schema.column(k).type is not ColumnType.BIGINT for k in key):
                continue
            names = sql.SQL(", ").join(map(sql.Identifier, key))
            rows = cur.execute(sql.SQL("SELECT {} FROM {} ORDER BY {} LIMIT {}").format(
                names, sql.Identifier(name), names, sql.Literal(LIVE_KEYS_ROWS + 1))).fetchall()
            if len(rows) > LIVE_KEYS_ROWS:
                continue
            keys = [tuple(int(v) for v in row) for row in rows]
            self._keys[name], self._sets[name], self.names[name] = keys, set(keys), key

    def _load_counts(self, cur: Any, parent: str, onto: Sequence[Reference]) -> None:
        """Count the references onto ``parent`` when every one can be followed here."""
        key = self.names.get(parent)
        if key is None or len(key) != 1 or any(
                r.cascade or r.parent_column != key[0] or r.child not in self.names
                for r in onto):
            return
        counts = dict.fromkeys((k[0] for k in self._keys[parent]), 0)
        for r in onto:
            child_key = self.names[r.child]
            held: dict[Key, int] = {}
            rows = cur.execute(sql.SQL("SELECT {}, {} FROM {} WHERE {} IS NOT NULL").format(
                sql.SQL(", ").join(map(sql.Identifier, child_key)), sql.Identifier(r.column),
                sql.Identifier(r.child), sql.Identifier(r.column)))
            for *child, value in rows:
                held[tuple(int(v) for v in child)] = int(value)
                counts[int(value)] = counts.get(int(value), 0) + 1
            self._held.setdefault(r.child, []).append((r.column, parent, held))
        self._counts[parent] = counts
        self._free[parent] = sorted((k,) for k, c in counts.items() if c == 0)

    def clear(self) -> None:
        """Forget every key: searches go to the database until the next ``load``."""
        self._keys.clear()
        self._sets.clear()
        self.names.clear()
        self._counts.clear()
        self._free.clear()
        self._held.clear()

    def deletable(self, table: str) -> bool:
        """Whether the references onto ``table`` are counted here."""
        return table in self._free

    def first_free(self, table: str, start: Sequence[str | None]) -> Key | None:
        """The first key no row references at or after ``start``, wrapping around."""
        free = self._free[table]
        if not free:
            return None
        at = bisect_left(free, tuple(int(v) for v in start))  # type: ignore[arg-type]
        return free[at] if at < len(free) else free[0]

    def knows(self, table: str, columns: Sequence[str]) -> bool:
        """Whether a search of ``table`` in the order of ``columns`` can be answered here."""
        return self.names.get(table) == tuple(columns)

    def first(self, table: str, start: Sequence[str | None]) -> Key | None:
        """The first live key at or after ``start`` (the key's text), wrapping around to
        the first key; None when the table is empty."""
        keys = self._keys[table]
        if not keys:
            return None
        at = bisect_left(keys, tuple(int(v) for v in start))  # type: ignore[arg-type]
        return keys[at] if at < len(keys) else keys[0]

    def holds(self, table: str, key: Iterable[str]) -> bool:
        """Whether ``key`` (as text) is live in ``table``."""
        return tuple(int(v) for v in key) in self._sets[table]

    def apply(self, changes: Iterable[Change], fields: Mapping[str, object]) -> None:
        """Move the keys and counts by an event's changes (sent, in the open
        transaction); ``fields``: the values the inserted or updated row got."""
        for change in changes:
            keys = self._keys.get(change.table)
            if keys is None:
                continue
            key = tuple(int(v) for v in change.key)  # type: ignore[call-overload]
            held = self._held.get(change.table, [])
            if change.op == "insert":
                insort(keys, key)
                self._sets[change.table].add(key)
                if change.table in self._counts:
                    self._counts[change.table][key[0]] = 0
                    insort(self._free[change.table], key)
                for column, parent, of in held:
                    self._hold(parent, of, key, fields.get(column))
            elif change.op == "update":
                for column, parent, of in held:
                    if column in fields:
                        self._release(parent, of.pop(key, None))
                        self._hold(parent, of, key, fields[column])
            else:
                _discard(keys, key)
                self._sets[change.table].discard(key)
                for _, parent, of in held:
                    self._release(parent, of.pop(key, None))
                if change.table in self._counts:
                    self._counts[change.table].pop(key[0], None)
                    _discard(self._free[change.table], key)

    def _hold(self, parent: str, of: dict[Key, int], child: Key, value: object) -> None:
        if value is None:
            return
        target = int(value)  # type: ignore[call-overload]
        of[child] = target
        counts = self._counts[parent]
        counts[target] = counts.get(target, 0) + 1
        if counts[target] == 1:
            _discard(self._free[parent], (target,))

    def _release(self, parent: str, target: int | None) -> None:
        if target is None:
            return
        counts = self._counts[parent]
        counts[target] = counts.get(target, 1) - 1
        if counts[target] == 0 and (target,) in self._sets[parent]:
            insort(self._free[parent], (target,))


def _discard(keys: list[Key], key: Key) -> None:
    at = bisect_left(keys, key)
    if at < len(keys) and keys[at] == key:
        del keys[at]


def checked(statement: sql.Composable) -> sql.Composed:
    """An UPDATE or DELETE failing (division by zero) when it changes no row: the row
    was deleted by another session, and the event must not commit as if it had
    changed it."""
    return sql.SQL("WITH changed AS ({} RETURNING 1) SELECT 1 / count(*) FROM changed").format(
        statement)

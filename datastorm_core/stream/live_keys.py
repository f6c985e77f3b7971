"""The live keys of the tables, kept by the client: a search without a round trip.

A search asks for the first live row at or after a key, in key order
(``search.py``). For a table whose key is made of integers, that order is
Python's order of the key tuples, so the stream reads the keys once (at the
start, and again after a reconnect or a rollback), keeps them sorted, and
moves them with every event it applies: an insert adds its key, a delete
(its cascade too) removes them. A search of a live parent, of a row to
update (a field that is not a transition's) or of a link table's taken
pair is then a bisection, answered as the database would answer it.

What the keys cannot tell stays a query: a row's current state (a
transition), whether a row is referenced (a delete, a one-to-one
reference), a key of text or uuid (its order is the server's collation or
byte order), a table of more than ``LIVE_KEYS_ROWS`` rows.

The stream is the writer of its tables while it runs. A row another
session deletes is noticed: the UPDATE of it changes no row and fails its
check (``checked_update``), an INSERT referencing it breaks its foreign
key, the transaction is rolled back, and the runner reads the keys again
and applies the event once more. A row another session inserts is seen at
the next start or reconnect.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from psycopg import sql

from datastorm_core.core.schema import ColumnType, TableSchema
from datastorm_core.stream.events import Change

__all__ = ["LIVE_KEYS_ROWS", "LiveKeys", "checked_update"]

#: Tables with more rows than this keep their searches in the database.
LIVE_KEYS_ROWS = 1 << 20

Key = tuple[int, ...]


class LiveKeys:
    """Sorted integer keys of the tables that have them (and are small enough)."""

    def __init__(self) -> None:
        self._keys: dict[str, list[Key]] = {}
        self._sets: dict[str, set[Key]] = {}
        self.names: dict[str, tuple[str, ...]] = {}  # table -> its key's columns

    def load(self, cur: Any, tables: Mapping[str, tuple[tuple[str, ...], TableSchema]]) -> None:
        """Read the keys of ``tables`` (name -> (key columns, schema)) in key order."""
        self.clear()
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

    def clear(self) -> None:
        """Forget every key: searches go to the database until the next ``load``."""
        self._keys.clear()
        self._sets.clear()
        self.names.clear()

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

    def apply(self, changes: Iterable[Change]) -> None:
        """Move the keys by an event's changes (sent, in the open transaction)."""
        for change in changes:
            keys = self._keys.get(change.table)
            if keys is None or change.op == "update":
                continue
            key = tuple(int(v) for v in change.key)  # type: ignore[call-overload]
            if change.op == "insert":
                insort(keys, key)
                self._sets[change.table].add(key)
            else:
                at = bisect_left(keys, key)
                if at < len(keys) and keys[at] == key:
                    del keys[at]
                self._sets[change.table].discard(key)


def checked_update(update: sql.Composable) -> sql.Composed:
    """``update`` failing (division by zero) when it changes no row: the row was deleted
    by someone else, and the event must not commit as if it had changed it."""
    return sql.SQL("WITH changed AS ({} RETURNING 1) SELECT 1 / count(*) FROM changed").format(
        update)

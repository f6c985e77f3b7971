"""sqlite: the embedded default target (``sqlite:///datastorm.db``).

The whole run is one transaction (sqlite's DDL is transactional too), so a
failed run leaves the file as it was. Only the tables datastorm created are
dropped and created again; any other table is emptied and loaded in place
(``sqlite_ownership.py``). Keys are declared at CREATE TABLE
(sqlite cannot add them later) and ``PRAGMA foreign_keys=ON`` makes sqlite
check them. With ``constraints="after_load"`` foreign keys are checked at
commit (``PRAGMA defer_foreign_keys``): that lets a replaced parent be
dropped and reloaded under children outside the run, and lets a table
reference rows of itself that come later. Append mode upserts by primary
key (``ON CONFLICT DO UPDATE``). A partition (``--partition K/N``) may
reference parent rows of partitions not written yet, so its run leaves
foreign keys unchecked; they hold once every partition is in.

Types: BIGINT is INTEGER (a single-column INTEGER primary key becomes the
rowid, the fastest layout), DOUBLE REAL, NUMERIC ``NUMERIC(p, s)`` (stored
as a number by affinity: exact up to 15 significant digits), BOOLEAN 0/1,
DATE and TIMESTAMP ISO 8601 text, UUID and TEXT text.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from datastorm_core.core import interrupts
from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.core.values import INT64_DIGITS
from datastorm_core.errors import GenfileError, Problem, TargetError, UsageError
from datastorm_core.target import sqlite_ownership as ownership
from datastorm_core.target.base import (
    BaseTarget,
    TargetSettings,
    require_primary_keys,
)
from datastorm_core.target.encode import sqlite_rows
from datastorm_core.target.urls import file_url_path

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["BUSY_TIMEOUT_SECONDS", "SqliteTarget", "quote_identifier"]

# How long to wait for another process's lock on the file before giving up.
BUSY_TIMEOUT_SECONDS = 30.0
# The wait is taken in tries this long, so Ctrl-C ends it at once.
BUSY_POLL_SECONDS = 0.05
# Orphan rows named in the error of a failed foreign key check: enough to find the bug.
ORPHANS_SHOWN = 3
MEMORY = ":memory:"

_TYPES = {
    ColumnType.BIGINT: "INTEGER",
    ColumnType.DOUBLE: "REAL",
    ColumnType.BOOLEAN: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.UUID: "TEXT",
    ColumnType.TEXT: "TEXT",
}


def quote_identifier(name: str) -> str:
    """``name`` as a double-quoted sqlite identifier (embedded quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def _names(names: Sequence[str]) -> str:
    return ", ".join(map(quote_identifier, names))


def column_type(col: ColumnSchema) -> str:
    """The declared sqlite type of a column (it decides the column's affinity)."""
    if col.type is ColumnType.NUMERIC:
        return f"NUMERIC({col.precision or INT64_DIGITS}, {col.scale or 0})"
    return _TYPES[col.type]


def create_table(schema: TableSchema, *, if_not_exists: bool) -> str:
    """CREATE TABLE with every key declared inline."""
    parts = [f"{quote_identifier(c.name)} {column_type(c)}{'' if c.nullable else ' NOT NULL'}"
             for c in schema.columns]
    if schema.primary_key:
        parts.append(f"PRIMARY KEY ({_names(schema.primary_key)})")
    parts += [f"UNIQUE ({quote_identifier(c)})" for c in schema.unique
              if (c,) != tuple(schema.primary_key)]
    parts += [f"FOREIGN KEY ({quote_identifier(fk.column)}) REFERENCES "
              f"{quote_identifier(fk.parent_table)} ({quote_identifier(fk.parent_column)})"
              for fk in schema.foreign_keys]
    head = "CREATE TABLE IF NOT EXISTS" if if_not_exists else "CREATE TABLE"
    return f"{head} {quote_identifier(schema.name)} ({', '.join(parts)})"


def update_statement(schema: TableSchema) -> str:
    """UPDATE of a fill's columns by primary key: parameters are the columns, then the key."""
    rest = [c for c in schema.column_names if c not in schema.primary_key]
    sets = ", ".join(f"{quote_identifier(c)} = ?" for c in rest)
    match = " AND ".join(f"{quote_identifier(c)} = ?" for c in schema.primary_key)
    return f"UPDATE {quote_identifier(schema.name)} SET {sets} WHERE {match}"


def insert_statement(schema: TableSchema, *, upsert: bool) -> str:
    """INSERT with one parameter per column; an upsert by primary key when asked."""
    names = schema.column_names
    marks = ", ".join("?" * len(names))
    statement = f"INSERT INTO {quote_identifier(schema.name)} ({_names(names)}) VALUES ({marks})"
    if not upsert:
        return statement
    rest = [c for c in names if c not in schema.primary_key]
    action = ("DO UPDATE SET " + ", ".join(
        f"{quote_identifier(c)} = excluded.{quote_identifier(c)}" for c in rest)
        if rest else "DO NOTHING")
    return f"{statement} ON CONFLICT ({_names(schema.primary_key)}) {action}"


class SqliteTarget(BaseTarget):
    """Writes a run into one sqlite file, all or nothing."""

    kind = "sqlite"
    enforces_references = True
    # executemany binds row by row; 10k rows keep a batch's Python tuples small.
    default_batch_size = 10_000
    accepted_options = ("timeout",)

    def __init__(self, url: str, **settings: Unpack[TargetSettings]) -> None:
        super().__init__(url, **settings)
        self.path = file_url_path(url, "sqlite:///datastorm.db")
        timeout = self.options.get("timeout", BUSY_TIMEOUT_SECONDS)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise UsageError(f"the sqlite option timeout must be a number of seconds >= 0, "
                             f"got {timeout!r}")
        self._conn: sqlite3.Connection | None = None
        self._inserts: dict[str, str] = {}
        self._updates: dict[str, str] = {}
        self._created = False  # the file did not exist before this run opened it
        self._failed = False
        self._aborted = False

    @classmethod
    def declared_type(cls, column: ColumnSchema) -> str:
        return column_type(column)

    def describe(self) -> str:
        return self.url

    def open(self) -> None:
        # A run that fails must leave the file system as it was: no empty database file.
        self._created = self.path != MEMORY and not os.path.exists(self.path)
        try:
            if self.path != MEMORY:
                parent = os.path.dirname(os.path.abspath(self.path))
                os.makedirs(parent, exist_ok=True)
            # Calls come from the runner's threads one after another, never at once. The
            # driver's own busy wait is short: longer waits for another connection's lock
            # are ours (_waiting), so that Ctrl-C ends them at once.
            conn = sqlite3.connect(self.path, timeout=BUSY_POLL_SECONDS, isolation_level=None,
                                   check_same_thread=False)
            self._conn = conn  # from here on, close() releases it whatever happens
            # A partition's rows may reference parent rows of partitions not written
            # yet (references draw from the whole parent), and sqlite cannot add a key
            # later: a partitioned run declares the keys but leaves them unchecked;
            # they hold once every partition is in.
            checked = "ON" if self.partition.is_whole else "OFF"
            conn.execute(f"PRAGMA foreign_keys = {checked}")
            self._waiting(conn, "BEGIN IMMEDIATE")  # take the write lock now, not mid-run
            if self.constraints == "after_load":
                conn.execute("PRAGMA defer_foreign_keys = ON")  # lasts until COMMIT
        except (OSError, sqlite3.Error) as exc:
            raise TargetError(f"cannot open {self.describe()}: {exc}") from exc

    def read_keys(self, table: str, column: str) -> list[Any]:
        if self.path == MEMORY or not os.path.exists(self.path):
            raise UsageError(f"table {table!r} is an existing table (existing = true), but "
                             f"{self.describe()} does not exist yet")
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise TargetError(f"cannot open {self.describe()}: {exc}") from exc
        try:
            return [value for (value,) in conn.execute(
                f"SELECT DISTINCT {quote_identifier(column)} FROM {quote_identifier(table)} "
                f"WHERE {quote_identifier(column)} IS NOT NULL ORDER BY 1").fetchall()]
        except sqlite3.Error as exc:
            raise TargetError(f"reading the keys of the existing table {table!r} "
                              f"({self.describe()}): {exc}") from exc
        finally:
            conn.close()

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        """Create what is missing, replace datastorm's own tables, empty the others.

        Only tables datastorm created (``sqlite_ownership``) are dropped; any
        other table is emptied and loaded in place, keeping its columns,
        triggers, indexes and views.
        """
        for fill in (s for s in schemas if s.update):  # rows set by key after the load
            self._updates[fill.name] = update_statement(fill)
        schemas = [s for s in schemas if not s.update]
        super().prepare(schemas)
        if self.append:
            require_primary_keys(schemas)
        with self._errors("preparing the tables") as conn:
            states = ownership.survey(conn, [s.name for s in schemas])
            found = [p for s in schemas for p in ownership.problems(s, states[s.name])
                     if states[s.name].action == "in_place" or (self.append and
                                                                states[s.name].exists)]
            if found:
                raise GenfileError(found)
            if any(state.action != "in_place" for state in states.values()):
                ownership.ensure_ledger(conn)
            for schema in reversed(schemas):  # children first
                state = states[schema.name]
                if self.append:
                    continue
                if state.action == "replace":
                    conn.execute(f"DROP TABLE {quote_identifier(schema.name)}")
                    ownership.forget(conn, [schema.name])
                elif state.action == "in_place":
                    conn.execute(f"DELETE FROM {quote_identifier(schema.name)}")
            for schema in schemas:
                self._check_outside_parents(conn, schema)
                if states[schema.name].action != "in_place" and not (
                        self.append and states[schema.name].exists):
                    conn.execute(create_table(schema, if_not_exists=False))
                    ownership.record(conn, schema.name)
                self._inserts[schema.name] = insert_statement(schema, upsert=self.append)

    def check_schemas(self, schemas: Sequence[TableSchema]) -> list[Problem]:
        """Fields naming no column of a table that exists, NOT NULL columns nobody fills.

        A file another connection holds locked is not waited for here: the run
        waits for it (interruptibly) when it opens, and checks again then.
        """
        if self.path == MEMORY or not os.path.exists(self.path):
            return []
        try:
            with self._reader() as conn:
                states = ownership.survey(conn, [s.name for s in schemas])
        except TargetError as exc:
            if "locked" in str(exc):
                return []
            raise
        return [p for s in schemas for p in ownership.problems(s, states[s.name])
                if states[s.name].action == "in_place"
                or (self.append and states[s.name].exists)]

    def survey(self, schemas: Sequence[TableSchema]) -> list[dict[str, str]]:
        if self.path == MEMORY or not os.path.exists(self.path):
            states = {s.name: ownership.SqliteTable(s.name, False, False) for s in schemas}
        else:
            with self._reader() as conn:
                states = ownership.survey(conn, [s.name for s in schemas])
        actions = {"create": "created", "replace": "dropped and created again",
                   "in_place": "emptied and loaded; kept as it is"}
        return [{"table": name, "owner": state.owner,
                 "action": "rows upserted by primary key" if self.append
                 else actions[state.action]
                 + (f" ({', '.join(state.attachments)} attached)" if state.attachments
                    else "")}
                for name, state in states.items()]

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                   timeout=BUSY_POLL_SECONDS)
        except sqlite3.Error as exc:
            raise TargetError(f"cannot open {self.describe()}: {exc}") from exc
        try:
            yield conn
        except sqlite3.Error as exc:
            raise TargetError(f"reading {self.describe()}: {exc}") from exc
        finally:
            conn.close()

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        if schema.update:
            # The key last, as the statement's WHERE wants it.
            order = tuple(c for c in schema.column_names if c not in schema.primary_key) + \
                schema.primary_key
            with self._errors(f"setting the deferred references of {schema.name!r}") as conn:
                for chunk in chunks:
                    conn.executemany(self._updates[schema.name],
                                     sqlite_rows(chunk, schema, order))
            return
        statement = self._inserts[schema.name]
        with self._errors(f"loading table {schema.name!r}") as conn:
            for chunk in chunks:
                conn.executemany(statement, sqlite_rows(chunk, schema))

    def commit(self) -> None:
        if self._conn is None:
            return
        try:
            self._waiting(self._conn, "COMMIT", publishes=True)
        except sqlite3.IntegrityError as exc:
            # A deferred foreign key failed; the transaction is still open, so say where.
            raise TargetError(f"committing the run ({self.describe()}): "
                              f"{_orphans(self._conn) or exc}") from exc
        except sqlite3.Error as exc:
            raise TargetError(f"committing the run ({self.describe()}): {exc}") from exc

    def _waiting(self, conn: sqlite3.Connection, statement: str, *,
                 publishes: bool = False) -> None:
        """Run ``statement``, waiting up to the ``timeout`` option for another
        connection's lock in short tries; a signal between them stops the wait at once.
        ``publishes``: the statement is the COMMIT (signals held while it runs)."""
        timeout = float(self.options.get("timeout", BUSY_TIMEOUT_SECONDS))
        deadline = time.monotonic() + timeout
        while True:
            try:
                if publishes:
                    with interrupts.deferred():
                        conn.execute(statement)
                        self.committed = True
                else:
                    conn.execute(statement)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise TargetError(f"{self.describe()} is locked by another connection; "
                                      f"waited {timeout:g} s (the timeout option)") from exc
                time.sleep(BUSY_POLL_SECONDS)

    def rollback(self) -> None:
        self._failed = True
        if self._conn is not None and self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._failed and self._created:
            for leftover in (self.path, f"{self.path}-journal", f"{self.path}-wal"):
                with suppress(OSError):
                    os.remove(leftover)

    def abort(self) -> None:
        """Interrupt the statement in flight (sqlite3 allows this from another thread)."""
        self._aborted = True
        conn = self._conn
        if conn is not None:
            with suppress(sqlite3.Error):
                conn.interrupt()

    def _check_outside_parents(self, conn: sqlite3.Connection, schema: TableSchema) -> None:
        """A parent outside the run must exist already, or the foreign key dangles."""
        for fk in schema.foreign_keys:
            if fk.parent_table in self.schemas:
                continue
            found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                 (fk.parent_table,)).fetchone()
            if found is None:
                raise TargetError(
                    f"table {schema.name!r} references {fk.parent_table!r}, which is not in "
                    f"this run and does not exist in {self.describe()}: write "
                    f"{fk.parent_table!r} first, or include it in the run")

    @contextmanager
    def _errors(self, doing: str) -> Iterator[sqlite3.Connection]:
        if self._conn is None:
            raise TargetError(f"{doing}: the target was not opened")
        try:
            yield self._conn
        except sqlite3.OperationalError as exc:
            reason = "interrupted by abort" if self._aborted else str(exc)
            raise TargetError(f"{doing} ({self.describe()}): {reason}") from exc
        except sqlite3.Error as exc:
            raise TargetError(f"{doing} ({self.describe()}): {exc}") from exc


def _orphans(conn: sqlite3.Connection) -> str:
    """Which foreign keys point nowhere, from ``PRAGMA foreign_key_check``."""
    try:
        rows = conn.execute("PRAGMA foreign_key_check").fetchmany(ORPHANS_SHOWN)
    except sqlite3.Error:
        return ""
    found = [f"table {table!r} row {rowid} references a missing row of {parent!r}"
             for table, rowid, parent, _ in rows]
    return "FOREIGN KEY constraint failed: " + "; ".join(found) if found else ""

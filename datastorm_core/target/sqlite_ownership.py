"""What datastorm created in a sqlite file, and what a run may therefore drop.

The same rule as PostgreSQL's (``postgres/ownership.py``): datastorm only
drops or alters what it created. sqlite has no OIDs, so the ledger
(``datastorm_owned_tables``) records each table datastorm creates by name
and by the exact ``CREATE TABLE`` text sqlite keeps for it: a table whose
text differs (someone altered it, or it is another table of that name) is
not datastorm's. Neither is one with a trigger, an index or a view of
someone else's on it. Those are emptied with ``DELETE`` and loaded in
place, in the run's transaction; their columns must take the run's rows.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import Problem

__all__ = ["LEDGER", "SqliteTable", "ensure_ledger", "forget", "problems", "record", "survey"]

LEDGER = "datastorm_owned_tables"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class SqliteTable:
    """A table of the run as the file has it now."""

    name: str
    exists: bool
    owned: bool
    attachments: tuple[str, ...] = ()
    columns: tuple[tuple[str, bool, bool], ...] = ()  # (name, NOT NULL, has a default)

    @property
    def action(self) -> str:
        if not self.exists:
            return "create"
        return "replace" if self.owned and not self.attachments else "in_place"

    @property
    def owner(self) -> str:
        return "-" if not self.exists else ("datastorm" if self.owned else "application")


def ensure_ledger(conn: sqlite3.Connection) -> None:
    conn.execute(f"CREATE TABLE IF NOT EXISTS {LEDGER} (name TEXT PRIMARY KEY, ddl TEXT NOT NULL)")


def record(conn: sqlite3.Connection, table: str) -> None:
    """Record ``table``, just created, with the CREATE text sqlite keeps for it."""
    conn.execute(f"INSERT OR REPLACE INTO {LEDGER} (name, ddl) SELECT name, sql FROM "
                 "sqlite_master WHERE type = 'table' AND name = ?", (table,))


def forget(conn: sqlite3.Connection, tables: Iterable[str]) -> None:
    if _has_ledger(conn):
        conn.executemany(f"DELETE FROM {LEDGER} WHERE name = ?", [(t,) for t in tables])


def _has_ledger(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (LEDGER,)).fetchone() is not None


def survey(conn: sqlite3.Connection, names: Sequence[str]) -> dict[str, SqliteTable]:
    owned = dict(conn.execute(f"SELECT name, ddl FROM {LEDGER}").fetchall()) \
        if _has_ledger(conn) else {}
    found = {}
    for name in names:
        row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                           (name,)).fetchone()
        if row is None:
            found[name] = SqliteTable(name, False, False)
            continue
        columns = tuple((c[1], bool(c[3]), c[4] is not None or bool(c[5]))
                        for c in conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall())
        is_ours = owned.get(name) == row[0]
        found[name] = SqliteTable(name, True, is_ours,
                                  tuple(_attachments(conn, name)) if is_ours else (), columns)
    return found


def _attachments(conn: sqlite3.Connection, table: str) -> list[str]:
    """Triggers, indexes (beyond the keys' own) and views of someone else's on ``table``."""
    found = [f"{kind} {name}" for kind, name in conn.execute(
        "SELECT type, name FROM sqlite_master WHERE tbl_name = ? AND type IN ('trigger', "
        "'index') AND sql IS NOT NULL", (table,)).fetchall()]
    mention = re.compile(r'\b' + re.escape(table) + r'\b|"' + re.escape(table) + '"')
    found += [f"view {name}" for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'view'").fetchall()
        if mention.search(sql or "")]
    return found


def problems(schema: TableSchema, table: SqliteTable) -> list[Problem]:
    """Why the rows of ``schema`` would not load into the existing ``table``."""
    found = []
    names = {c[0] for c in table.columns}
    for column in schema.column_names:
        if column not in names:
            found.append(Problem(f"table {table.name!r} has no column {column!r} (its columns: "
                                 f"{', '.join(sorted(names))})", schema.name, column))
    written = set(schema.column_names)
    for name, not_null, has_default in table.columns:
        if not_null and not has_default and name not in written:
            found.append(Problem(f"column {name!r} of {table.name!r} is NOT NULL and has no "
                                 "default: add a field for it", schema.name))
    return found

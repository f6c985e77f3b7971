"""Read-only questions to PostgreSQL's catalog: what exists, and how it hangs together.

Every function takes a cursor and reads; nothing here writes. Table names
are the Genfile's (unquoted, case kept) and resolve through the session's
``search_path``, as the target's own statements do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

__all__ = [
    "existing",
    "has_foreign_key",
    "has_index_on",
    "keys_of",
    "lock_holders",
    "oid_of",
    "oids",
    "outside_foreign_keys",
    "primary_key",
    "regclass",
    "single_column_foreign_keys_onto",
]

Cursor = psycopg.Cursor[Any]


def regclass(cur: Cursor, table: str) -> str | None:
    """The table's name as ``regclass`` prints it (schema-qualified if need be), or None."""
    name = sql.Identifier(table).as_string(cur)
    row = cur.execute("SELECT to_regclass(%s)::text", (name,)).fetchone()
    return None if row is None else row[0]


def existing(cur: Cursor, tables: Sequence[str]) -> list[str]:
    """The ``regclass`` text of each of ``tables`` that exists, in order."""
    found = (regclass(cur, t) for t in tables)
    return [name for name in found if name is not None]


def oids(cur: Cursor, tables: Sequence[str]) -> list[int]:
    """The OIDs of those of ``tables`` that exist."""
    found = []
    for table in tables:
        row = cur.execute("SELECT to_regclass(%s)::oid",
                          (sql.Identifier(table).as_string(cur),)).fetchone()
        if row is not None and row[0] is not None:
            found.append(int(row[0]))
    return found


def oid_of(cur: Cursor, table: str) -> int | None:
    """The OID of ``table`` (a name the search_path resolves), or None."""
    found = oids(cur, [table])
    return found[0] if found else None


def primary_key(cur: Cursor, oid: int) -> tuple[str, ...]:
    """The primary key's columns of the table ``oid``, in key order."""
    rows = cur.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = %s AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)", (oid,)).fetchall()
    return tuple(r[0] for r in rows)


def single_column_foreign_keys_onto(cur: Cursor, parents: Sequence[int]
                                    ) -> list[tuple[int, str, str, int, str]]:
    """(child OID, child as regclass prints it, column, parent OID, parent column) of every
    one-column foreign key onto the tables ``parents``."""
    return [(int(c), text, column, int(p), parent_column) for c, text, column, p, parent_column
            in cur.execute(
                "SELECT con.conrelid, con.conrelid::regclass::text, ca.attname, con.confrelid, "
                "pa.attname FROM pg_constraint con "
                "JOIN pg_attribute ca ON ca.attrelid = con.conrelid "
                "AND ca.attnum = con.conkey[1] "
                "JOIN pg_attribute pa ON pa.attrelid = con.confrelid "
                "AND pa.attnum = con.confkey[1] "
                "WHERE con.contype = 'f' AND cardinality(con.conkey) = 1 "
                "AND con.confrelid = ANY (%s) ORDER BY 2, 3", (list(parents),)).fetchall()]


def has_index_on(cur: Cursor, oid: int, column: str) -> bool:
    """Whether an index of the table ``oid`` starts with ``column``."""
    row = cur.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        "WHERE i.indrelid = %s AND a.attname = %s)", (oid, column)).fetchone()
    return bool(row and row[0])


_LOCK_HOLDERS = """
SELECT DISTINCT a.pid, coalesce(nullif(a.application_name, ''), '?'), a.usename,
       coalesce(a.state, '?'), now() - a.xact_start, left(coalesce(a.query, ''), 80)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.relation = ANY(%s::regclass[]) AND l.pid <> pg_backend_pid()
ORDER BY 1
"""


def lock_holders(cur: Cursor, tables: Sequence[str]) -> list[str]:
    """Who holds locks on ``tables`` now: pid, application, user, state, for how long."""
    present = existing(cur, tables)
    if not present:
        return []
    return [f"pid {pid} ({application}, user {user}, {state} for {str(age).split('.')[0]}: "
            f"{query!r})"
            for pid, application, user, state, age, query
            in cur.execute(_LOCK_HOLDERS, (present,)).fetchall()]


# Foreign keys held by tables outside a run on the tables the run replaces:
# DROP ... CASCADE removes them, so they are read first and added back after.
_OUTSIDE_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
FROM pg_constraint AS c
WHERE c.contype = 'f'
  AND c.confrelid = ANY(%(replaced)s::regclass[])
  AND NOT c.conrelid = ANY(%(replaced)s::regclass[])
ORDER BY 1, 2
"""


def outside_foreign_keys(cur: Cursor, tables: Sequence[str]) -> list[tuple[str, str, str]]:
    """(child, constraint name, definition) of foreign keys from other tables onto ``tables``.

    ``child`` is the ``regclass`` text of the referencing table (already quoted).
    """
    present = existing(cur, tables)
    if not present:
        return []
    rows = cur.execute(_OUTSIDE_FOREIGN_KEYS, {"replaced": present}).fetchall()
    return [(child, name, definition) for child, name, definition in rows]


# Whether the table %(child)s (a quoted name) already has this one-column foreign key.
_HAS_FOREIGN_KEY = """
SELECT EXISTS (
  SELECT 1 FROM pg_constraint AS c
  JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
  JOIN pg_attribute AS p ON p.attrelid = c.confrelid AND p.attnum = c.confkey[1]
  WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
    AND c.conrelid = %(child)s::regclass AND c.confrelid = %(parent)s::regclass
    AND a.attname = %(column)s AND p.attname = %(parent_column)s)
"""


def has_foreign_key(cur: Cursor, child: str, column: str, parent: str,
                    parent_column: str) -> bool:
    """Whether ``child.column`` already has a foreign key onto ``parent.parent_column``."""
    names = {"child": sql.Identifier(child).as_string(cur),
             "parent": sql.Identifier(parent).as_string(cur),
             "column": column, "parent_column": parent_column}
    row = cur.execute(_HAS_FOREIGN_KEY, names).fetchone()
    return bool(row is not None and row[0])


# The keys of a table in the current schema: (name, kind p/u/f, [columns]) in creation order.
_KEYS_OF = """
SELECT c.conname, c.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
             ORDER BY k.n)
FROM pg_constraint c
WHERE c.conrelid = (SELECT oid FROM pg_class WHERE relname = %s
                      AND relnamespace = (SELECT oid FROM pg_namespace
                                          WHERE nspname = current_schema()))
  AND c.contype IN ('p', 'u', 'f')
ORDER BY c.oid
"""


def keys_of(cur: Cursor, table: str) -> list[tuple[str, str, list[str]]]:
    """The primary, unique and foreign keys of ``table``, in the order they were made."""
    return [(name, kind, list(columns))
            for name, kind, columns in cur.execute(_KEYS_OF, (table,)).fetchall()]

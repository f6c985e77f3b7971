"""What datastorm created, and what a run may therefore drop or alter.

The rule: datastorm only drops or alters what it created. It records every
relation it creates (tables, a staged load's scratch tables, the change
stream's indexes) in a ledger table of its own, ``datastorm_owned_tables``,
in the schema it writes, by OID and name. A table is datastorm's when the
ledger holds its current OID under its current name; anything else (a
table the application's migrations made, a table restored from a dump of
one datastorm made, a user's table that happens to be named like a
scratch table) belongs to the application and is never dropped, renamed
or altered: a run empties it with TRUNCATE and loads it in place.

Even a table datastorm created stops being only datastorm's once someone
hangs something of their own on it (a view, a trigger, an index, a
policy, a grant, a comment, a column, a foreign key of another table, a
publication): replacing it would silently destroy that, so it is loaded
in place too (``foreign_attachments`` says why).

The ledger is written in the same transaction as what it records, so a
rolled-back run leaves no row behind; a staged load's scratch tables are
recorded by the session that creates them, committed at once, so the
next run can tell a dead run's leftovers from a user's table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from datastorm_core.errors import TargetError

__all__ = [
    "LEDGER",
    "Ownership",
    "drop_ledger_if_empty",
    "ensure_ledger",
    "foreign_attachments",
    "forget",
    "read_ownership",
    "record",
    "scratch_leftovers",
]

LEDGER = "datastorm_owned_tables"
# Serializes the ledger's creation (and datastorm's other DDL) across runs started
# side by side; the same key as append mode's DDL lock.
DDL_LOCK_KEY = 0x64617461_73746F72 & 0x7FFFFFFFFFFFFFFF  # "datastor"
_COLUMNS = ("relid", "relname", "kind", "run_id", "columns", "acl", "created_at")

Cursor = Any  # psycopg.Cursor[Any]


@dataclass(frozen=True)
class Ownership:
    """The relations of the current schema the ledger vouches for, by OID."""

    tables: frozenset[int]
    others: frozenset[int]  # indexes and scratch tables
    columns: dict[int, tuple[str, ...]]  # the columns each owned table was created with
    acls: dict[int, str | None]  # and its privileges then

    def owns(self, oid: int | None) -> bool:
        return oid is not None and oid in self.tables

    @property
    def all(self) -> frozenset[int]:
        return self.tables | self.others


def _ledger_exists(cur: Cursor) -> bool:
    row = cur.execute("SELECT to_regclass(quote_ident(current_schema()) || '.' || %s)",
                      (LEDGER,)).fetchone()
    return row is not None and row[0] is not None


def ensure_ledger(cur: Cursor) -> bool:
    """Create the ledger if it is missing, in the caller's transaction; True if it did.

    Refuses a table of that name that is not one. Creating takes datastorm's
    DDL lock (held to the end of the transaction), so two first runs side by
    side do not both create it.
    """
    if _ledger_exists(cur):
        _check_shape(cur)
        return False
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
    if _ledger_exists(cur):  # created by a run that held the lock before us
        _check_shape(cur)
        return False
    cur.execute(sql.SQL(
        "CREATE TABLE {} (relid oid PRIMARY KEY, relname text NOT NULL, kind text NOT NULL, "
        "run_id text, columns text[], acl text, created_at timestamptz NOT NULL DEFAULT now())"
    ).format(sql.Identifier(LEDGER)))
    cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(
        sql.Identifier(LEDGER), sql.Literal(
            "datastorm: the tables it created here, which a run may drop and create again; "
            "every other table is loaded in place and never altered")))
    return True


def drop_ledger_if_empty(cur: Cursor) -> None:
    """Undo ``ensure_ledger`` after a failed first run whose ledger was committed early."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
    if _ledger_exists(cur) and cur.execute(sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(
            sql.Identifier(LEDGER))).fetchone()[0]:
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(LEDGER)))


def _check_shape(cur: Cursor) -> None:
    names = [n for (n,) in cur.execute(
        "SELECT attname::text FROM pg_attribute WHERE attrelid = "
        "to_regclass(quote_ident(current_schema()) || '.' || %s) AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum", (LEDGER,)).fetchall()]
    if tuple(names) != _COLUMNS:
        raise TargetError(f"a table named {LEDGER} exists in this schema but is not "
                          "datastorm's ledger of the tables it created; rename it, or write "
                          "into another schema (the target's schema option)")


def read_ownership(cur: Cursor) -> Ownership:
    """What the ledger vouches for: rows whose OID still has the recorded name."""
    if not _ledger_exists(cur):
        return Ownership(frozenset(), frozenset(), {}, {})
    _check_shape(cur)
    tables, others, columns, acls = set(), set(), {}, {}
    for relid, kind, cols, acl in cur.execute(sql.SQL(
            "SELECT l.relid, l.kind, l.columns, l.acl FROM {} l JOIN pg_class c "
            "ON c.oid = l.relid AND c.relname = l.relname").format(
            sql.Identifier(LEDGER))).fetchall():
        oid = int(relid)
        if kind == "table":
            tables.add(oid)
            columns[oid] = tuple(cols or ())
            acls[oid] = acl
        else:
            others.add(oid)
    return Ownership(frozenset(tables), frozenset(others), columns, acls)


def record(cur: Cursor, relation: str, kind: str = "table", run_id: str | None = None) -> None:
    """Record ``relation`` (a name the search_path resolves), just created, as datastorm's."""
    quoted = sql.Identifier(relation).as_string(cur)
    cur.execute(sql.SQL(
        "INSERT INTO {} (relid, relname, kind, run_id, columns, acl) "
        "SELECT c.oid, c.relname, %s, %s, ARRAY(SELECT attname::text FROM pg_attribute "
        "WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum), "
        "c.relacl::text FROM pg_class c WHERE c.oid = to_regclass(%s) "
        "ON CONFLICT (relid) DO UPDATE SET relname = EXCLUDED.relname, kind = EXCLUDED.kind, "
        "run_id = EXCLUDED.run_id, columns = EXCLUDED.columns, acl = EXCLUDED.acl").format(
        sql.Identifier(LEDGER)), (kind, run_id, quoted))


def forget(cur: Cursor, oids: Iterable[int]) -> None:
    """Drop the ledger's rows of relations that are gone (or about to be, in this transaction)."""
    listed = [int(o) for o in oids]
    if listed and _ledger_exists(cur):
        cur.execute(sql.SQL("DELETE FROM {} WHERE relid = ANY(%s)").format(
            sql.Identifier(LEDGER)), (listed,))


def scratch_leftovers(cur: Cursor) -> list[tuple[int, str, str]]:
    """(oid, name, run id) of scratch tables the ledger vouches for."""
    if not _ledger_exists(cur):
        return []
    return [(int(oid), name, run) for oid, name, run in cur.execute(sql.SQL(
        "SELECT l.relid, l.relname, l.run_id FROM {} l JOIN pg_class c ON c.oid = l.relid "
        "AND c.relname = l.relname WHERE l.kind = 'scratch' ORDER BY l.relname").format(
        sql.Identifier(LEDGER))).fetchall()]


# Everything that can hang on a table and that replacing it (DROP ... CASCADE,
# CREATE) would destroy or change: what someone other than datastorm added.
_ATTACHMENTS = """
SELECT 'view ' || v.oid::regclass::text
FROM pg_depend d JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
JOIN pg_class v ON v.oid = r.ev_class
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = %(oid)s AND v.oid <> %(oid)s
UNION
SELECT 'rule ' || rulename FROM pg_rewrite WHERE ev_class = %(oid)s
UNION
SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = %(oid)s AND NOT tgisinternal
UNION
SELECT 'policy ' || polname FROM pg_policy WHERE polrelid = %(oid)s
UNION
SELECT 'index ' || i.indexrelid::regclass::text FROM pg_index i
WHERE i.indrelid = %(oid)s AND NOT i.indexrelid = ANY(%(owned)s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                  AND c.conrelid = %(oid)s AND c.contype IN ('p', 'u'))
UNION
SELECT 'constraint ' || conname FROM pg_constraint
WHERE conrelid = %(oid)s AND contype NOT IN ('p', 'u', 'f')
UNION
SELECT 'foreign key ' || conname || ' of ' || conrelid::regclass::text FROM pg_constraint
WHERE confrelid = %(oid)s AND contype = 'f' AND conrelid <> %(oid)s
  AND NOT conrelid = ANY(%(owned)s)
UNION
SELECT 'comment' FROM pg_description WHERE objoid = %(oid)s AND classoid = 'pg_class'::regclass
UNION
SELECT 'default of column ' || a.attname FROM pg_attrdef d
JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = %(oid)s
UNION
SELECT 'publication ' || p.pubname FROM pg_publication_rel r
JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = %(oid)s
UNION
SELECT 'row level security' FROM pg_class WHERE oid = %(oid)s AND relrowsecurity
UNION
SELECT 'inheritance child ' || inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %(oid)s
"""


def foreign_attachments(cur: Cursor, oid: int, ownership: Ownership,
                        live_columns: Sequence[str], acl: str | None) -> list[str]:
    """What someone other than datastorm hung on datastorm's table ``oid`` (empty: nothing)."""
    found = sorted(row[0] for row in cur.execute(
        _ATTACHMENTS, {"oid": oid, "owned": sorted(ownership.all)}).fetchall())
    created_with = ownership.columns.get(oid, ())
    found += [f"column {c}" for c in live_columns if created_with and c not in created_with]
    if acl != ownership.acls.get(oid):
        found.append("privileges granted or revoked since datastorm created it")
    return found

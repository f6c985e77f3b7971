"""SQL of a staged load: tables loaded under a scratch name, swapped in at commit.

Several COPY sessions cannot write into a table that the run's transaction
created and has not committed yet. So each table of a staged run is loaded
into ``datastorm_load_<run>_<n>``, committed by the loader sessions but
invisible under the table's own name, and gets its primary and unique keys
there, in the background. The run's one transaction then drops the old
tables, renames the staged ones into place and names their keys as
PostgreSQL would have: readers see the old tables until that commit and
the new ones after it, never a mix. Foreign keys are validated on the
staged tables too, in the background, so the swap itself takes no time.

A staged table of a run that died (kill -9) is left behind; the next staged
run drops it, once the session advisory lock of its run is free, and only
if datastorm's ledger (``ownership.py``) vouches for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from psycopg import sql

from datastorm_core.core.schema import TableSchema
from datastorm_core.target.postgres.sql import column_type, unique_columns

__all__ = [
    "PREFIX",
    "create_staged",
    "default_key_name",
    "key_renames",
    "run_lock_key",
    "staged_foreign_keys",
    "staged_keys",
    "staged_name",
]

PREFIX = "datastorm_load_"
# PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes.
_MAX_NAME = 63

def staged_name(run: str, number: int) -> str:
    return f"{PREFIX}{run}_{number}"


def run_lock_key(run: str) -> int:
    """The session advisory lock a staged run holds while its tables exist."""
    return int(run, 16) & 0x7FFFFFFFFFFFFFFF


def create_staged(staged: str, schema: TableSchema) -> sql.Composed:
    """The table's columns under its scratch name, no keys yet."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}{}").format(sql.Identifier(c.name), sql.SQL(column_type(c)),
                                  sql.SQL("" if c.nullable else " NOT NULL"))
        for c in schema.columns)
    return sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(staged), columns)


def staged_keys(staged: str, schema: TableSchema) -> sql.Composed | None:
    """The primary key and UNIQUEs, built on the staged table (None if none)."""
    clauses: list[sql.Composable] = []
    if schema.primary_key:
        clauses.append(sql.SQL("ADD PRIMARY KEY ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, schema.primary_key))))
    clauses += [sql.SQL("ADD UNIQUE ({})").format(sql.Identifier(c))
                for c in unique_columns(schema)]
    if not clauses:
        return None
    return sql.SQL("ALTER TABLE {} {}").format(sql.Identifier(staged),
                                               sql.SQL(", ").join(clauses))


def staged_foreign_keys(staged: str, schema: TableSchema,
                        staged_names: Mapping[str, str]) -> sql.Composed | None:
    """The foreign keys, between staged tables (or to a parent outside the run).

    Validated in the background like the other keys; they follow their
    tables through the rename, since a key points at a table, not a name.
    """
    if not schema.foreign_keys:
        return None
    clauses = [sql.SQL("ADD FOREIGN KEY ({}) REFERENCES {} ({})").format(
        sql.Identifier(fk.column),
        sql.Identifier(staged_names.get(fk.parent_table, fk.parent_table)),
        sql.Identifier(fk.parent_column)) for fk in schema.foreign_keys]
    return sql.SQL("ALTER TABLE {} {}").format(sql.Identifier(staged),
                                               sql.SQL(", ").join(clauses))


def default_key_name(table: str, columns: Sequence[str], label: str) -> str:
    """The name PostgreSQL gives a key it names itself (``makeObjectName``).

    ``<table>_pkey`` for a primary key, ``<table>_<column>_key`` for a
    UNIQUE, with the longer of the two parts shortened until the whole fits
    in 63 bytes.
    """
    name1 = table.encode()
    name2 = "_".join(columns).encode() if label != "pkey" else b""
    overhead = len(label) + 1 + (1 if name2 else 0)
    room = _MAX_NAME - overhead
    len1, len2 = len(name1), len(name2)
    while len1 + len2 > room:
        if len1 > len2:
            len1 -= 1
        else:
            len2 -= 1
    parts = [_clip(name1, len1)] + ([_clip(name2, len2)] if name2 else []) + [label]
    return "_".join(parts)


def _clip(raw: bytes, length: int) -> str:
    """The first ``length`` bytes, never cutting a UTF-8 character in two."""
    return raw[:length].decode("utf-8", errors="ignore")


_LABELS = {"p": "pkey", "u": "key", "f": "fkey"}


def key_renames(table: str, keys: Sequence[tuple[str, str, Sequence[str]]]
                ) -> list[sql.Composed]:
    """After the rename, give the keys (``catalog.keys_of``) the names of a plain load.

    PostgreSQL names a key ``<table>_<columns>_<label>`` and adds 1, 2, ...
    to the label when that name is taken; the same happens here, in the
    order the keys were created.
    """
    taken: set[str] = set()
    statements = []
    for old, kind, columns in keys:
        label = _LABELS[kind]
        parts = () if kind == "p" else tuple(columns)
        new = default_key_name(table, parts, label)
        number = 0
        while new in taken:
            number += 1
            new = default_key_name(table, parts, f"{label}{number}")
        taken.add(new)
        if new != old:
            statements.append(sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                sql.Identifier(table), sql.Identifier(old), sql.Identifier(new)))
    return statements

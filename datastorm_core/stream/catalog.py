"""The streamed tables as the database has them: OIDs, keys, the foreign keys onto them.

Reads go through the PostgreSQL target's catalog (``target.postgres.catalog``:
OIDs, primary keys, one-column foreign keys, indexes), so a table means the
same to the stream as to the run that loaded it. What is the stream's own:

- the checks that the tables ``datastorm run`` loaded are there, with the
  Genfile's primary keys (a partitioned or interrupted load may lack them);
- the ``Link`` s a delete must respect: the Genfile's references and every
  one-column foreign key the catalog knows, so a table outside the Genfile
  that references a streamed one also protects its parents;
- an index on each foreign key column of datastorm's own tables that has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from datastorm_core.errors import UsageError
from datastorm_core.stream.spec import StreamSpec
from datastorm_core.target.postgres import catalog, ownership

__all__ = ["Link", "check_primary_keys", "index_foreign_keys", "read_links", "row_count",
           "table_oids"]

Cursor = psycopg.Cursor[Any]


@dataclass(frozen=True)
class Link:
    """A foreign key pointing at a streamed table: ``child.column -> parent.parent_column``."""

    child: str  # the Genfile's table name, or the catalog's name of another table
    child_sql: sql.Composable
    column: str
    parent: str
    parent_column: str
    cascade: bool  # the child is streamed and its reference says on_delete = "cascade"


def table_oids(cur: Cursor, spec: StreamSpec, where: str) -> dict[str, int]:
    """The OID of every table of the Genfile the database has.

    Raises:
        UsageError: a streamed table, or a parent of one, is not in the database.
    """
    relids: dict[str, int] = {}
    for table in spec.genfile.tables:
        relid = catalog.oid_of(cur, table.name)
        if relid is not None:
            relids[table.name] = relid
    missing = [t for t in spec.names if t not in relids]
    parents = {r.parent for t in spec.tables for r in t.references}
    missing += [p for p in sorted(parents) if p not in relids and p not in missing]
    if missing:
        raise UsageError(f"{', '.join(map(repr, missing))} "
                         f"{'is' if len(missing) == 1 else 'are'} not in {where}:"
                         " the stream changes tables that `datastorm run` loaded; load "
                         "them first")
    return relids


def check_primary_keys(cur: Cursor, spec: StreamSpec, relids: Mapping[str, int]) -> None:
    """Raise UsageError unless every streamed table has the Genfile's primary key: rows
    are found and named by it."""
    for t in spec.tables:
        key = catalog.primary_key(cur, relids[t.name])
        if tuple(sorted(key)) != tuple(sorted(t.key)):
            has = f"primary key ({', '.join(key)})" if key else "no primary key"
            raise UsageError(f"table {t.name!r} in the database has {has}, not "
                             f"({', '.join(t.key)}): load it with `datastorm run` "
                             "(a partitioned or interrupted load may lack its keys)")


def read_links(cur: Cursor, spec: StreamSpec, relids: Mapping[str, int]
               ) -> dict[str, list[Link]]:
    """Parent table -> every single-column foreign key pointing at it."""
    by_oid = {oid: name for name, oid in relids.items()}
    streamed = set(spec.names)
    links: dict[tuple[str, str, str, str], Link] = {}
    for ref in spec.references:
        if ref.table in relids and ref.parent in relids:
            links[ref.table, ref.field, ref.parent, ref.parent_column] = Link(
                ref.table, sql.Identifier(ref.table), ref.field, ref.parent,
                ref.parent_column, ref.cascade and ref.table in streamed
                and ref.parent in streamed)
    rows = catalog.single_column_foreign_keys_onto(cur, list(relids.values()))
    for child_oid, child_text, column, parent_oid, parent_column in rows:
        parent = by_oid[int(parent_oid)]
        child = by_oid.get(int(child_oid), child_text)
        child_sql = sql.Identifier(child) if child in relids else sql.SQL(child_text)
        links.setdefault((child, column, parent, parent_column), Link(
            child, child_sql, column, parent, parent_column, False))
    by_parent: dict[str, list[Link]] = {}
    for link in links.values():
        by_parent.setdefault(link.parent, []).append(link)
    return by_parent


def index_foreign_keys(cur: Cursor, spec: StreamSpec, relids: Mapping[str, int],
                       links: Mapping[str, Sequence[Link]]) -> list[str]:
    """An index on every Genfile foreign key column into a streamed table that has none,
    as an OLTP schema has: finding a parent's children must not scan the child.

    Only on tables datastorm created, and recorded as datastorm's: an
    application's table is never altered (its own indexes are what it has).
    Returns the indexes created.
    """
    created = []
    owned = ownership.read_ownership(cur)
    for name in spec.names:
        for link in links.get(name, []):
            if link.child not in relids or not owned.owns(relids[link.child]):
                continue
            if not catalog.has_index_on(cur, relids[link.child], link.column):
                index = f"{link.child}_{link.column}_stream_idx"[:63]
                cur.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                    sql.Identifier(index), link.child_sql, sql.Identifier(link.column)))
                ownership.record(cur, index, "index")
                created.append(index)
    return created


def row_count(cur: Cursor, table: str) -> int:
    """The rows ``table`` has now (a reloaded table's inserts start past them)."""
    return int(cur.execute(sql.SQL("SELECT count(*) FROM {}").format(
        sql.Identifier(table))).fetchone()[0])

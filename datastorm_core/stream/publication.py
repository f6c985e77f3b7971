"""CDC setup: a logical-replication publication for the streamed tables.

Debezium's PostgreSQL connector (and any ``pgoutput`` client) reads the
changes of the tables in a publication. An UPDATE or DELETE is only
published for a table with a replica identity, which a primary key gives
(``REPLICA IDENTITY DEFAULT``); the stream refuses tables without one, and
a table whose identity was set to ``NOTHING`` is set back to ``DEFAULT``.
The publication never includes the stream's own ledger tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import sql

__all__ = ["publish"]

_IDENTITY = {"d": "default", "n": "nothing", "f": "full", "i": "index"}


def publish(cur: Any, name: str, tables: Sequence[str]) -> dict[str, Any]:
    """Create publication ``name`` for ``tables``, or set its tables if it exists.

    Returns what was done: the publication, its tables with their replica
    identity, whether it was created, and the server's ``wal_level``.
    """
    identities: dict[str, str] = {}
    for table in tables:
        code = cur.execute("SELECT relreplident FROM pg_class WHERE oid = to_regclass("
                           "quote_ident(%s))", (table,)).fetchone()[0]
        if code == "n":
            cur.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY DEFAULT").format(
                sql.Identifier(table)))
            code = "d"
        identities[table] = _IDENTITY.get(code, code)
    exists = cur.execute("SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = %s)",
                         (name,)).fetchone()[0]
    listed = sql.SQL(", ").join(map(sql.Identifier, tables))
    if exists:
        cur.execute(sql.SQL("ALTER PUBLICATION {} SET TABLE {}").format(
            sql.Identifier(name), listed))
    else:
        cur.execute(sql.SQL("CREATE PUBLICATION {} FOR TABLE {}").format(
            sql.Identifier(name), listed))
    wal_level = cur.execute("SHOW wal_level").fetchone()[0]
    return {"name": name, "created": not exists, "tables": identities, "wal_level": wal_level}

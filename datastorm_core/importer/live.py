"""What ``datastorm import`` reads from a live database: the tables to describe.

Tables are those of one schema (the connection's search_path by default)
that an application would call its own: ordinary and partitioned tables,
not partitions (their rows go through their parent), not tables of an
extension, not datastorm's own bookkeeping. ``read_schema`` returns them
with their foreign keys, the order to write them in, and which excluded
tables the selected ones reference (those stay as they are, and their
keys are read back when a run needs them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from datastorm_core.errors import UsageError
from datastorm_core.target.postgres.live_tables import Catalog, LiveTable
from datastorm_core.target.postgres.ownership import LEDGER

__all__ = ["LiveSchema", "read_schema"]

# Tables datastorm keeps beside the data: never described as the application's.
_BOOKKEEPING = (LEDGER, "datastorm_stream_state", "datastorm_stream_tables")

_TABLES = """
SELECT c.relname FROM pg_class c
WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
  AND NOT (c.relname = ANY(%(bookkeeping)s) OR c.relname LIKE 'datastorm\\_load\\_%%')
ORDER BY c.relname
"""


# Tables a trigger function writes into: ``INSERT INTO [schema.]name`` in its source.
_INSERT_TARGET = re.compile(r'\binsert\s+into\s+(?:"?[\w$]+"?\s*\.\s*)?"?([\w$]+)"?',
                            re.IGNORECASE)
_TRIGGER_SOURCES = """
SELECT t.tgname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
WHERE t.tgrelid = %s AND NOT t.tgisinternal
"""


@dataclass
class LiveSchema:
    """The tables to describe, and the ones they reference but leave be."""

    schema: str
    tables: dict[str, LiveTable]  # selected, by name
    kept: dict[str, LiveTable] = field(default_factory=dict)  # excluded but referenced
    skipped_references: list[str] = field(default_factory=list)  # into other schemas
    # Tables the application's triggers fill (an audit log): left out, with why.
    trigger_filled: dict[str, str] = field(default_factory=dict)

    def all(self) -> dict[str, LiveTable]:
        return {**self.kept, **self.tables}


def read_schema(cur: Any, schema: str | None, tables: Sequence[str] | None,
                exclude: Sequence[str] | None) -> LiveSchema:
    """Read the selected tables of ``schema`` (None: the session's current schema).

    Raises:
        UsageError: the schema does not exist, or ``tables``/``exclude`` name a table it
            does not have.
    """
    if schema is None:
        schema = cur.execute("SELECT current_schema()").fetchone()[0]
    if cur.execute("SELECT to_regnamespace(%s)", (sql.Identifier(schema).as_string(cur),)
                   ).fetchone()[0] is None:
        raise UsageError(f"there is no schema {schema!r} in the database")
    cur.execute(sql.SQL("SELECT set_config('search_path', {}, false)").format(
        sql.Literal(sql.Identifier(schema).as_string(cur) + ", public")))
    names = [n for (n,) in cur.execute(_TABLES, {"schema": schema,
                                                  "bookkeeping": list(_BOOKKEEPING)})]
    for option, given in (("--tables", tables), ("--exclude", exclude)):
        unknown = [t for t in given or () if t not in names]
        if unknown:
            raise UsageError(f"{option}: no table {', '.join(map(repr, unknown))} in schema "
                             f"{schema!r}; its tables: {', '.join(names) or 'none'}")
    chosen = [n for n in names if (not tables or n in tables) and n not in (exclude or ())]
    catalog = Catalog(cur)
    found = LiveSchema(schema, {})
    for name in chosen:
        live = catalog.table(name)
        if live is not None:
            found.tables[name] = live
    # A table a trigger of another fills gets the trigger's rows while that one loads:
    # writing rows of its own too would collide with them (and double them).
    # (Named in --tables, it is the user's to generate all the same.)
    for live in list(found.tables.values()):
        for trigger, source in cur.execute(_TRIGGER_SOURCES, (live.oid,)).fetchall():
            for target in _INSERT_TARGET.findall(source or ""):
                if target in found.tables and target != live.name and target not in (
                        tables or ()):
                    found.trigger_filled[target] = f"trigger {trigger} of {live.name}"
    for name in found.trigger_filled:
        found.tables.pop(name, None)
    # Parents the selected tables reference but leave out: kept as they are.
    pending = list(found.tables.values())
    while pending:
        table = pending.pop()
        for fk in table.foreign_keys:
            if fk.parent in found.tables or fk.parent in found.kept:
                continue
            parent_schema = cur.execute("SELECT n.nspname FROM pg_class c JOIN pg_namespace n "
                                        "ON n.oid = c.relnamespace WHERE c.oid = %s",
                                        (fk.parent_oid,)).fetchone()[0]
            if parent_schema != schema:
                found.skipped_references.append(
                    f"{table.name}.{', '.join(fk.columns)} -> {parent_schema}.{fk.parent}")
                continue
            parent = catalog.table(fk.parent)
            if parent is not None:
                found.kept[fk.parent] = parent
    return found

"""What an existing table looks like, read from the catalog: columns, keys, checks, triggers.

``Catalog.table`` gives a ``LiveTable``: the columns with their types (domains
resolved), defaults, identity and generated columns, the keys, CHECK
constraints, triggers and partitioning. The PostgreSQL target compares it with
the Genfile's table before loading (``compat.py``), and ``datastorm import``
writes a Genfile from it. Read only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

__all__ = ["Catalog", "LiveColumn", "LiveForeignKey", "LivePartitioning", "LiveTable",
           "LiveTrigger", "LiveType"]

Cursor = psycopg.Cursor[Any]


@dataclass(frozen=True)
class LiveType:
    """A column's type as the server knows it, domains resolved to their base type.

    ``name`` is the base type's ``typname`` (``int4``, ``varchar``,
    ``timestamptz``, ``mpaa_rating``, ``_text`` for ``text[]``) and
    ``category`` its ``typcategory`` (N numeric, S string, D date/time, B
    boolean, E enum, A array, I network, T interval, U user-defined...).
    """

    display: str
    name: str
    category: str
    length: int | None = None  # varchar(n), char(n)
    precision: int | None = None  # numeric(p, s)
    scale: int | None = None
    labels: tuple[str, ...] | None = None  # an enum's labels, in order
    element: str | None = None  # an array's element type (base type name)
    domain_checks: tuple[str, ...] = ()  # CHECKs of the domains on the way to the base type
    domain_not_null: bool = False

    @property
    def is_array(self) -> bool:
        return self.category == "A"


@dataclass(frozen=True)
class LiveColumn:
    """One column of an existing table."""

    name: str
    type: LiveType
    not_null: bool
    default: str | None  # the default's expression, as pg_get_expr prints it
    identity: str  # "a" GENERATED ALWAYS, "d" BY DEFAULT, "" neither
    generated: bool  # GENERATED ALWAYS AS (...) STORED: never written
    sequence: str | None  # the sequence an identity or a nextval() default draws from

    @property
    def fills_itself(self) -> bool:
        """Whether the database gives the column a value when a row leaves it out."""
        return (self.default is not None or bool(self.identity) or self.generated
                or not self.not_null)


@dataclass(frozen=True)
class LiveForeignKey:
    """A foreign key of an existing table: ``columns`` -> ``parent(parent_columns)``."""

    name: str
    columns: tuple[str, ...]
    parent: str  # the parent's relname (its schema is resolved by search_path like ours)
    parent_columns: tuple[str, ...]
    deferrable: bool
    parent_oid: int


@dataclass(frozen=True)
class LiveTrigger:
    name: str
    enabled: str  # pg_trigger.tgenabled: O origin, D disabled, R replica, A always


@dataclass(frozen=True)
class LivePartitioning:
    """A partitioned table's key and its partitions' bounds (``pg_get_expr`` text)."""

    strategy: str  # "range", "list", "hash"
    key: tuple[str, ...]  # key columns; empty when the key is an expression
    bounds: tuple[str, ...]


@dataclass(frozen=True)
class LiveTable:
    """An existing table: columns, keys, checks, partitions, triggers."""

    oid: int
    schema: str
    name: str
    partitioned: bool
    columns: tuple[LiveColumn, ...]
    primary_key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]  # UNIQUE constraints and plain unique indexes
    foreign_keys: tuple[LiveForeignKey, ...]
    checks: tuple[tuple[str, str], ...]  # (name, pg_get_constraintdef)
    triggers: tuple[LiveTrigger, ...]
    partitioning: LivePartitioning | None
    row_estimate: int  # pg_class.reltuples; -1 when never analyzed
    acl: str | None

    def column(self, name: str) -> LiveColumn | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    @property
    def qualified(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(self.name))


_PARTITION_STRATEGIES = {"r": "range", "l": "list", "h": "hash"}
_COLUMNS = """
SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
       a.attidentity::text, a.attgenerated::text,
       coalesce(pg_get_serial_sequence(%(table)s, a.attname),
                (SELECT dep.refobjid::regclass::text FROM pg_depend dep
                 JOIN pg_class s ON s.oid = dep.refobjid AND s.relkind = 'S'
                 WHERE dep.classid = 'pg_attrdef'::regclass AND dep.objid = d.oid
                   AND dep.refclassid = 'pg_class'::regclass LIMIT 1))
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_CONSTRAINTS = """
SELECT con.conname, con.contype::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       con.confrelid, pc.relname,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
       con.condeferrable, pg_get_constraintdef(con.oid)
FROM pg_constraint con
LEFT JOIN pg_class pc ON pc.oid = con.confrelid
WHERE con.conrelid = ANY(%(oids)s) AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY con.conrelid = %(oid)s DESC, con.conname
"""
# Plain unique indexes (no predicate, no expression) that back no constraint.
_UNIQUE_INDEXES = """
SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY AS k(n, j)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.j)
FROM pg_index i
WHERE i.indrelid = %s AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY i.indexrelid
"""


class Catalog:
    """Reads existing tables (``table``) with a cache of the types it met."""

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur
        self._types: dict[tuple[int, int], LiveType] = {}

    def table(self, name: str) -> LiveTable | None:
        """The table ``name`` resolves to (search_path), or None when there is none."""
        quoted = sql.Identifier(name).as_string(self.cur)
        row = self.cur.execute(
            "SELECT c.oid, n.nspname, c.relname, c.relkind::text, c.reltuples::bigint, "
            "c.relacl::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.oid = to_regclass(%s) AND c.relkind IN ('r', 'p')", (quoted,)).fetchone()
        if row is None:
            return None
        oid, schema, relname, kind, estimate, acl = row
        qualified = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(relname)
                                            ).as_string(self.cur)
        columns = tuple(
            LiveColumn(attname, self.type_of(typid, typmod), bool(notnull), default,
                       identity or "", bool(generated), sequence)
            for attname, typid, typmod, notnull, default, identity, generated, sequence
            in self.cur.execute(_COLUMNS, {"table": qualified, "oid": oid}).fetchall())
        partitions = self._partitions(oid) if kind == "p" else []
        primary: tuple[str, ...] = ()
        unique: list[tuple[str, ...]] = []
        foreign: dict[tuple[tuple[str, ...], int, tuple[str, ...]], LiveForeignKey] = {}
        checks = []
        # A partitioned table's rows are checked by its partitions' constraints too
        # (pagila's payment has its foreign keys on the partitions only).
        oids = [oid, *(p for p, _ in partitions)]
        for name_, kind_, cols, parent_oid, parent, parent_cols, deferrable, definition in \
                self.cur.execute(_CONSTRAINTS, {"oids": oids, "oid": oid}).fetchall():
            cols = tuple(cols)
            if kind_ == "p" and not primary:
                primary = cols
            elif kind_ == "u" and cols not in unique:
                unique.append(cols)
            elif kind_ == "f":
                key = (cols, int(parent_oid), tuple(parent_cols))
                foreign.setdefault(key, LiveForeignKey(name_, cols, parent, tuple(parent_cols),
                                                       bool(deferrable), int(parent_oid)))
            elif kind_ == "c" and all(definition != d for _, d in checks):
                checks.append((name_, definition))
        for (cols,) in self.cur.execute(_UNIQUE_INDEXES, (oid,)).fetchall():
            if tuple(cols) not in unique and tuple(cols) != primary:
                unique.append(tuple(cols))
        triggers = tuple(LiveTrigger(n, e) for n, e in self.cur.execute(
            "SELECT tgname, tgenabled::text FROM pg_trigger WHERE tgrelid = %s "
            "AND NOT tgisinternal ORDER BY tgname", (oid,)).fetchall())
        return LiveTable(int(oid), schema, relname, kind == "p", columns, primary,
                         tuple(unique), tuple(foreign.values()), tuple(checks), triggers,
                         self._partitioning(oid, partitions) if kind == "p" else None,
                         int(estimate), acl)

    def type_of(self, typid: int, typmod: int) -> LiveType:
        """A type by OID and modifier, following domains down to their base type."""
        key = (int(typid), int(typmod))
        if key not in self._types:
            self._types[key] = self._resolve(int(typid), int(typmod))
        return self._types[key]

    def _resolve(self, typid: int, typmod: int) -> LiveType:
        display = self.cur.execute("SELECT format_type(%s, %s)", (typid, typmod)).fetchone()[0]
        checks: list[str] = []
        not_null = False
        for _ in range(32):  # domains over domains; a guard, not a limit anyone meets
            name, typtype, category, base, base_mod, elem, domain_not_null = self.cur.execute(
                "SELECT typname, typtype::text, typcategory::text, typbasetype, typtypmod, "
                "typelem, typnotnull FROM pg_type WHERE oid = %s", (typid,)).fetchone()
            if typtype != "d":
                break
            checks += [d for (d,) in self.cur.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contypid = %s "
                "AND contype = 'c' ORDER BY conname", (typid,)).fetchall()]
            not_null = not_null or bool(domain_not_null)
            typid = int(base)
            typmod = typmod if typmod >= 0 else int(base_mod)
        length = precision = scale = None
        if name in ("varchar", "bpchar") and typmod >= 4:
            length = typmod - 4
        if name == "numeric" and typmod >= 4:
            precision = ((typmod - 4) >> 16) & 0xFFFF
            scale = (((typmod - 4) & 0x7FF) ^ 1024) - 1024  # PostgreSQL 15 allows a negative scale
        labels = None
        if typtype == "e":
            labels = tuple(label for (label,) in self.cur.execute(
                "SELECT enumlabel FROM pg_enum WHERE enumtypid = %s ORDER BY enumsortorder",
                (typid,)).fetchall())
        element = None
        if category == "A" and elem:
            element = self.type_of(int(elem), -1).name
        return LiveType(display, name, category, length, precision, scale, labels, element,
                        tuple(checks), not_null)

    def _partitions(self, oid: int) -> list[tuple[int, str]]:
        return [(int(p), bound) for p, bound in self.cur.execute(
            "SELECT c.oid, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s ORDER BY c.relname",
            (oid,)).fetchall()]

    def _partitioning(self, oid: int, partitions: list[tuple[int, str]]) -> LivePartitioning:
        strategy, key = self.cur.execute(
            "SELECT p.partstrat::text, ARRAY(SELECT a.attname::text FROM unnest(p.partattrs) "
            "WITH ORDINALITY AS k(n, i) JOIN pg_attribute a ON a.attrelid = p.partrelid "
            "AND a.attnum = k.n ORDER BY k.i) FROM pg_partitioned_table p "
            "WHERE p.partrelid = %s", (oid,)).fetchone()
        return LivePartitioning(_PARTITION_STRATEGIES.get(strategy, strategy), tuple(key),
                                tuple(bound for _, bound in partitions))

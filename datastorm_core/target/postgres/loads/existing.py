"""The application's tables: emptied and loaded in place, never altered.

A table datastorm did not create (``ownership.py``) keeps everything its
migrations gave it: columns datastorm does not write get their defaults,
its constraints check every row, its triggers fire (Pagila's
``film.fulltext`` is filled by one), its indexes are maintained, and its
views, grants, policies, comments and partitions stay as they are. In the
run's one transaction:

1. ``TRUNCATE`` the run's tables, and only them: a table outside the run
   whose foreign key would force a cascade, and that holds rows, makes the
   run refuse before writing, naming it, unless it may be emptied too (a
   table of the same Genfile when the caller allows it, e.g. a Dagster
   asset materialized alone, or any table with the target option
   ``truncate = "cascade"``);
2. with ``triggers = "disable"``, the application's enabled triggers are
   disabled for the load, as ``pg_restore --disable-triggers`` does, and
   put back in their exact state before the commit;
3. ``COPY`` the rows (identity columns included: COPY always writes the
   values it is given, like ``OVERRIDING SYSTEM VALUE``). Where the session
   may set ``session_replication_role`` and no trigger of the application's
   would fire on the table, the server's per-row foreign key checks are left
   out and every foreign key is checked once over the loaded rows before the
   commit (``check_references``, an anti-join a key): the same guarantee, a
   fraction of the work, and no ALTER of anything; a violation fails the run;
4. every sequence behind a written identity or ``nextval()`` column is
   moved past the largest key, so the application's next ``INSERT`` works
   (``move_sequences``).

Indexes stay in place during the load. Dropping and rebuilding them would
be faster, but an index is the application's schema: dropping it is
altering it, and a run that died between the drop and the rebuild (or a
concurrent session) would see a table without its unique guarantees.
PostgreSQL has no way to suspend an index short of editing the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import TargetError, UsageError
from datastorm_core.target.postgres.live_tables import LiveTable
from datastorm_core.target.postgres.loads.base import Copy, Load, LoadContext
from datastorm_core.target.postgres.loads.common import copy_on_main

__all__ = ["REFERENCE_CHECKS", "TRIGGER_MODES", "TRUNCATE_MODES", "ExistingLoad",
           "check_references", "disable_triggers", "move_sequences", "restore_triggers"]

#: ``truncate``: refuse a cascade onto tables outside the run (default), or empty them too.
TRUNCATE_MODES = ("restrict", "cascade")
#: ``triggers``: the application's triggers fire on loaded rows (default), or not.
TRIGGER_MODES = ("fire", "disable")
#: ``reference_checks``: each foreign key checked once over the loaded rows where the
#: session may do so (default), or by the server row by row.
REFERENCE_CHECKS = ("bulk", "row")
_ENABLE = {"O": "ENABLE TRIGGER", "A": "ENABLE ALWAYS TRIGGER", "R": "ENABLE REPLICA TRIGGER"}

# Tables whose foreign keys point at the given tables, or at their partitions (a
# partition's own foreign keys are named by the partitioned table they belong to).
_REFERENCING = """
SELECT DISTINCT root.oid, root.oid::regclass::text, root.relname
FROM pg_constraint c
JOIN pg_class root ON root.oid = coalesce(pg_partition_root(c.conrelid), c.conrelid)
WHERE c.contype = 'f'
  AND (c.confrelid = ANY(%(oids)s::oid[])
       OR c.confrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = ANY(%(oids)s::oid[])))
"""


class ExistingLoad(Load):
    """TRUNCATE and COPY into tables that exist, keeping everything about them."""

    def __init__(self, ctx: LoadContext, live: Mapping[str, LiveTable], *,
                 run_tables: frozenset[str] = frozenset(),
                 may_empty: frozenset[str] = frozenset(), truncate: str = "restrict",
                 triggers: str = "fire", reference_checks: str = "bulk") -> None:
        super().__init__(ctx)
        self.live = dict(live)
        # Every table of the run: one datastorm drops and creates again may reference
        # these too, and is no reason to refuse.
        self.run_tables = run_tables | frozenset(live)
        self.may_empty = may_empty
        self.truncate = truncate
        self.triggers = triggers
        self._disabled: Disabled = []
        self._schemas: list[TableSchema] = []
        self.reference_checks = reference_checks
        self._bulk = False  # whether this session may leave out the per-row checks
        self._unchecked: dict[str, LiveTable] = {}  # loaded without per-row checks
        self._quiet: dict[str, bool] = {}  # per table: no user trigger would fire

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        self._schemas = list(schemas)
        tables = [self.live[s.name] for s in schemas]
        with self.session.cursor("emptying the application's tables") as cur:
            emptied = self._closure(cur, tables)
            extra = [name for name in emptied if name not in self.run_tables]
            # A table outside the run that TRUNCATE must empty with them: harmless when it
            # holds no row (locked first, so none arrives before the TRUNCATE).
            holding = []
            for name in extra:
                cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                    sql.SQL(emptied[name])))
                if cur.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(
                        sql.SQL(emptied[name]))).fetchone()[0]:
                    holding.append(name)
            refused = [name for name in holding if name not in self.may_empty]
            if refused and self.truncate != "cascade":
                them = "it" if len(refused) == 1 else "them"
                raise UsageError(
                    f"emptying {', '.join(t.name for t in tables)} would also empty "
                    f"{', '.join(refused)}, which {'holds rows' if them == 'it' else 'hold rows'}"
                    f" and whose foreign keys reference "
                    f"{'it' if len(tables) == 1 else 'them'}; nothing was written. Include "
                    f"{them} in the run, or set truncate = \"cascade\" in [target] to empty "
                    f"{them} too")
            if holding:
                self.ctx.warnings.append(
                    f"{', '.join(holding)} {'was' if len(holding) == 1 else 'were'} emptied "
                    f"too: {'its' if len(holding) == 1 else 'their'} foreign keys reference a "
                    "table this run replaced; write them again")
            cur.execute(sql.SQL("TRUNCATE {}").format(
                sql.SQL(", ").join(sql.SQL(quoted) for quoted in emptied.values())))
            if self.triggers == "disable":
                self._disabled = disable_triggers(cur, tables)
            self._quiet = {t.name: not _fires_triggers(cur, t) for t in tables}
        self._bulk = self.reference_checks == "bulk" and self.session.may_skip_row_checks()

    def checks_rows(self, schema: TableSchema) -> bool:
        """Per-row foreign key checks left to the server unless this load checks each key
        once after the load: where the session may (``session_replication_role``) and no
        trigger of the application's would fire on the table (that role silences ORIGIN
        triggers and wakes REPLICA ones, which would change what a load does)."""
        if not self._bulk or not self._quiet.get(schema.name, False):
            return True
        self._unchecked[schema.name] = self.live[schema.name]
        return False

    def write(self, schema: TableSchema, copy: Copy) -> None:
        copy_on_main(self.ctx, schema, schema.name, copy)

    def before_commit(self) -> None:
        self.session.check_rows(True)
        for table in self._unchecked.values():
            with self.session.cursor(f"checking the foreign keys of {table.name!r}") as cur:
                check_references(cur, table)
        self._unchecked = {}
        with self.session.cursor("putting the application's triggers back") as cur:
            restore_triggers(cur, self._disabled)
        self._disabled = []
        with self.session.cursor("moving the sequences past the loaded keys") as cur:
            move_sequences(cur, [(self.live[s.name], s) for s in self._schemas],
                           {self.live[s.name].oid for s in self._schemas})

    def _closure(self, cur: Any, tables: Sequence[LiveTable]) -> dict[str, str]:
        """Every table TRUNCATE must empty with ``tables``: its name -> its quoted name."""
        found = {t.name: t.qualified.as_string(cur) for t in tables}
        oids = [t.oid for t in tables]
        seen = set(oids)
        while oids:
            rows = cur.execute(_REFERENCING, {"oids": oids}).fetchall()
            oids = []
            for oid, quoted, relname in rows:
                if int(oid) not in seen:
                    seen.add(int(oid))
                    found.setdefault(relname, quoted)
                    oids.append(int(oid))
        return found



Disabled = list[tuple[LiveTable, str, str]]  # (table, trigger, its state before)


def disable_triggers(cur: Any, tables: Sequence[LiveTable]) -> Disabled:
    """Disable the enabled user triggers of ``tables``; what to put back, and how."""
    disabled: Disabled = []
    for table in tables:
        for trigger in table.triggers:
            if trigger.enabled in _ENABLE:
                cur.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
                    table.qualified, sql.Identifier(trigger.name)))
                disabled.append((table, trigger.name, trigger.enabled))
    return disabled


def restore_triggers(cur: Any, disabled: Disabled) -> None:
    """Each trigger back in the state it had (ORIGIN, ALWAYS or REPLICA)."""
    for table, trigger, state in disabled:
        cur.execute(sql.SQL("ALTER TABLE {} {} {}").format(
            table.qualified, sql.SQL(_ENABLE[state]), sql.Identifier(trigger)))


# Enabled user triggers of a table or anywhere in its partition tree (pg_partition_tree
# returns nothing for a table that is not partitioned).
_FIRING = """
SELECT EXISTS (SELECT 1 FROM pg_trigger t
               WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'
                 AND (t.tgrelid = %(table)s::regclass OR t.tgrelid IN
                      (SELECT relid FROM pg_partition_tree(%(table)s::regclass))))
"""
# Foreign keys of a table and of its partitions: (relation, name, columns, parent,
# parent columns), each relation and parent as regclass prints it.
_OWN_FOREIGN_KEYS = """
SELECT c.conrelid::regclass::text, c.conname,
       ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
       c.confrelid::regclass::text,
       ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint c
WHERE c.contype = 'f' AND c.conparentid = 0
  AND (c.conrelid = %(table)s::regclass
       OR c.conrelid IN (SELECT relid FROM pg_partition_tree(%(table)s::regclass)))
ORDER BY 1, 2
"""


def _fires_triggers(cur: Any, table: LiveTable) -> bool:
    row = cur.execute(_FIRING, {"table": table.qualified.as_string(cur)}).fetchone()
    return bool(row and row[0])


def check_references(cur: Any, table: LiveTable) -> None:
    """Every foreign key of ``table`` (and of its partitions) over all its rows at once:
    one anti-join a key, which stands in for the server's check of each row. A row
    whose parent is missing fails the run, naming the key and the row.

    Raises:
        TargetError: a row references a parent row that does not exist.
    """
    for child, name, columns, parent, parent_columns in cur.execute(
            _OWN_FOREIGN_KEYS, {"table": table.qualified.as_string(cur)}).fetchall():
        keys = [sql.Identifier(c) for c in columns]
        match = sql.SQL(" AND ").join(
            sql.SQL("p.{} = c.{}").format(sql.Identifier(pc), sql.Identifier(cc))
            for pc, cc in zip(parent_columns, columns, strict=True))
        # MATCH SIMPLE, PostgreSQL's default: a key with a NULL column references nothing.
        present = sql.SQL(" AND ").join(sql.SQL("c.{} IS NOT NULL").format(k) for k in keys)
        orphan = cur.execute(sql.SQL(
            "SELECT {} FROM {} AS c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} AS p WHERE {}) "
            "LIMIT 1").format(sql.SQL(", ").join(sql.SQL("c.{}").format(k) for k in keys),
                              sql.SQL(child), present, sql.SQL(parent), match)).fetchone()
        if orphan is not None:
            shown = ", ".join(f"{c}={v!r}" for c, v in zip(columns, orphan, strict=True))
            raise TargetError(f"foreign key {name} of {child}: a row with {shown} references "
                              f"no row of {parent}")


_SEQUENCE_USERS = """
SELECT DISTINCT coalesce(pg_partition_root(ad.adrelid), ad.adrelid)::oid
FROM pg_depend d JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = %s::regclass
"""


def move_sequences(cur: Any, tables: Sequence[tuple[LiveTable, TableSchema]],
                   loaded: set[int]) -> None:
    """Each sequence behind a column of the loaded tables, ready for the next insert.

    A sequence behind a written column is moved past the column's largest
    value; one behind a column the database filled starts over (the table
    was emptied, so a rerun gives the same rows). A sequence that other
    tables draw from too only ever moves forward, so their next insert
    cannot collide either. ``ALTER SEQUENCE ... RESTART`` is transactional,
    unlike ``setval``: a run that fails after it leaves the sequence as it
    was; without the right to alter the sequence, ``setval`` does it.
    """
    for live, schema in tables:
        written = set(schema.column_names)
        for column in live.columns:
            if column.sequence is None:
                continue
            increment, last, called = cur.execute(sql.SQL(
                "SELECT s.seqincrement, q.last_value, q.is_called FROM pg_sequence s, {} q "
                "WHERE s.seqrelid = %s::regclass").format(sql.SQL(column.sequence)),
                (column.sequence,)).fetchone()
            users = {int(u) for (u,) in cur.execute(_SEQUENCE_USERS,
                                                     (column.sequence,)).fetchall()}
            alone = bool(column.identity) or users <= loaded
            if column.name not in written:
                if alone:
                    _restart(cur, column.sequence, None)
                continue
            edge = "max" if int(increment) > 0 else "min"
            value = cur.execute(sql.SQL("SELECT {}({}) FROM {}").format(
                sql.SQL(edge), sql.Identifier(column.name), live.qualified)).fetchone()[0]
            if value is None:
                continue
            if not alone:
                issued = int(last) if called else int(last) - int(increment)
                value = max(value, issued) if edge == "max" else min(value, issued)
            _restart(cur, column.sequence, int(value) + int(increment))


def _restart(cur: Any, sequence: str, next_value: int | None) -> None:
    """The sequence's next value becomes ``next_value`` (None: its START)."""
    target = sql.SQL("") if next_value is None else sql.SQL(" WITH {}").format(
        sql.Literal(next_value))
    try:
        with cur.connection.transaction():  # a savepoint: no right to alter it is no failure
            cur.execute(sql.SQL("ALTER SEQUENCE {} RESTART{}").format(sql.SQL(sequence), target))
    except psycopg.errors.InsufficientPrivilege:
        if next_value is None:
            cur.execute("SELECT setval(%s::regclass, (SELECT seqstart FROM pg_sequence "
                        "WHERE seqrelid = %s::regclass), false)", (sequence, sequence))
        else:
            cur.execute("SELECT setval(%s::regclass, %s, false)", (sequence, next_value))

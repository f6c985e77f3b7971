"""Append mode: rows merged by primary key, so a rerun of a partition rewrites its rows.

Missing tables are created first, in a short transaction of their own;
then each batch is COPYed into a temporary staging table and moved with
``INSERT ... ON CONFLICT (primary key) DO UPDATE``. Foreign keys wait for
the commit: a partition may reference parent rows of partitions that are
not written yet, so each is added once no orphan is left (by whichever
partition run finishes last).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress

import psycopg
from psycopg import sql

from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import TargetError
from datastorm_core.target.base import require_primary_keys
from datastorm_core.target.postgres import catalog, ownership
from datastorm_core.target.postgres import sql as q
from datastorm_core.target.postgres.live_tables import LiveTable
from datastorm_core.target.postgres.loads.base import Copy, Load, LoadContext
from datastorm_core.target.postgres.loads.common import copy_on_main
from datastorm_core.target.postgres.loads.existing import (
    Disabled,
    disable_triggers,
    move_sequences,
    restore_triggers,
)

__all__ = ["DDL_LOCK_KEY", "UpsertLoad"]

# Serializes datastorm's DDL across runs started side by side.
DDL_LOCK_KEY = ownership.DDL_LOCK_KEY


class UpsertLoad(Load):
    """COPY into a temporary staging table, then upsert by primary key."""

    def __init__(self, ctx: LoadContext, live: Mapping[str, LiveTable] | None = None, *,
                 triggers: str = "fire") -> None:
        super().__init__(ctx)
        # Tables that existed before the run (the application's, or a partition
        # run's): kept as they are, their identity columns written over.
        self.live = dict(live or {})
        self.triggers = triggers
        self._disabled: Disabled = []
        self._staging: dict[str, str] = {}
        self._schemas: list[TableSchema] = []
        # Tables whose foreign keys are added after the commit.
        self._keys_to_complete: list[TableSchema] = []

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        require_primary_keys(schemas)
        self._schemas = list(schemas)
        self._create_missing_tables(schemas)
        if self.triggers == "disable" and self.live:
            with self.session.cursor("disabling the application's triggers") as cur:
                self._disabled = disable_triggers(cur, list(self.live.values()))

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:
        staging = f"datastorm_staging_{len(self._staging)}"
        with self.session.cursor(f"staging table {schema.name!r}") as cur:
            cur.execute(q.create_staging(staging, schema.name))
        self._staging[schema.name] = staging

    def write(self, schema: TableSchema, copy: Copy) -> None:
        staging = self._staging[schema.name]
        copy_on_main(self.ctx, schema, staging, copy)
        live = self.live.get(schema.name)
        # COPY writes identity columns as given; INSERT must be told to.
        overriding = live is not None and any(
            c.identity == "a" for c in live.columns if c.name in schema.column_names)
        with self.session.cursor(f"loading table {schema.name!r}") as cur:
            cur.execute(q.upsert_from(schema, staging, overriding=overriding))
            cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(staging)))

    def end_table(self, schema: TableSchema) -> None:
        staging = self._staging.pop(schema.name)
        with self.session.cursor(f"finishing table {schema.name!r}") as cur:
            cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(staging)))
        self._keys_to_complete.append(schema)  # after the commit: see after_commit()

    def before_commit(self) -> None:
        with self.session.cursor("putting the application's triggers back") as cur:
            restore_triggers(cur, self._disabled)
        self._disabled = []
        tables = [(self.live[s.name], s) for s in self._schemas if s.name in self.live]
        if tables:
            with self.session.cursor("moving the sequences past the loaded keys") as cur:
                move_sequences(cur, tables, {live.oid for live, _ in tables})

    def after_commit(self) -> None:
        """After an append run commits, add each foreign key that now holds.

        Outside the data transaction, under the DDL lock, and without ever
        waiting for a table: both tables are locked with NOWAIT first, because
        an ALTER that held one table while waiting for the other would
        deadlock with a partition still loading them. A run that ends while
        other partitions load skips; the last one to finish adds the key.
        """
        schemas, self._keys_to_complete = self._keys_to_complete, []
        for schema in schemas:
            doing = f"adding the foreign keys of table {schema.name!r}"
            try:
                with self.session.cursor(doing) as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
                    for fk in schema.foreign_keys:
                        if catalog.has_foreign_key(cur, schema.name, fk.column, fk.parent_table,
                                                   fk.parent_column):
                            continue
                        cur.execute(sql.SQL("LOCK TABLE {}, {} IN SHARE ROW EXCLUSIVE MODE NOWAIT")
                                    .format(sql.Identifier(schema.name),
                                            sql.Identifier(fk.parent_table)))
                        orphans = cur.execute(q.has_orphans(schema, fk)).fetchone()
                        if orphans is not None and not orphans[0]:
                            cur.execute(q.add_foreign_key(schema, fk))
                self.session.commit(doing)
            except TargetError as exc:
                # The rows are committed; the key comes with a later partition's run.
                with suppress(psycopg.Error):
                    self.session.rollback()
                self.ctx.warnings.append(f"the foreign keys of {schema.name!r} come with the "
                                         f"last partition run to finish ({exc})")

    def _create_missing_tables(self, schemas: Sequence[TableSchema]) -> None:
        """Create missing tables in a short transaction of their own.

        Partition runs started side by side (a Dagster backfill) would race
        to create the same tables; an advisory lock serializes the creation,
        and committing it at once lets every run see the tables. An empty
        table left by a run that fails later is harmless. Foreign keys wait:
        a partition may reference parent rows of partitions not written yet.
        """
        with self.session.cursor("creating the tables") as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
            for schema in schemas:
                if catalog.regclass(cur, schema.name) is not None:
                    continue  # created by a partition run beside this one, or the application's
                ownership.ensure_ledger(cur)
                cur.execute(q.create_table(schema, with_keys=True,
                                           with_foreign_keys=self.ctx.partition.is_whole))
                ownership.record(cur, schema.name)
        self.session.commit("creating the tables")

"""Datastorm's own tables, loaded by several COPY sessions and swapped in at commit.

One PostgreSQL backend parses COPY on one core, and several sessions
cannot write into a table that the run's uncommitted transaction created.
So each table goes into a scratch table (``scratch.py``) that the loader
sessions commit into, invisible under the table's own name; its primary,
unique and foreign keys are built there on a background session while
the next table loads; the run's one transaction then drops the old
tables, renames the staged ones into place and gives their keys
PostgreSQL's default names. Readers see the old tables or the new ones,
never a mix. No transaction stays open during the load, so hosted
servers' ``idle_in_transaction_session_timeout`` cannot end the run.

A failed run drops its scratch tables; a killed one leaves them, and the
next staged run drops those whose run's session advisory lock is free.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import sql

from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import TargetError
from datastorm_core.target.postgres import catalog, ownership, scratch
from datastorm_core.target.postgres import sql as q
from datastorm_core.target.postgres.connection import server_message
from datastorm_core.target.postgres.loaders import LoaderPool
from datastorm_core.target.postgres.loads.base import Copy, Load, LoadContext
from datastorm_core.target.postgres.loads.common import restore_outside_keys

__all__ = ["StagedLoad"]

# Seconds a failed run waits for locks while dropping its scratch tables.
CLEANUP_LOCK_TIMEOUT_SECONDS = 10


class StagedLoad(Load):
    """``ctx.sessions`` COPY sessions into scratch tables, swapped in by the run's transaction."""

    def __init__(self, ctx: LoadContext) -> None:
        super().__init__(ctx)
        self._run_id = uuid.uuid4().hex[:12]
        self._side: psycopg.Connection[Any] | None = None
        self._pool: LoaderPool | None = None
        self._staged_names: dict[str, str] = {}
        self._key_builds: list[tuple[str, Future[None]]] = []
        self._outside_keys: list[tuple[str, str, str]] = []
        self._schemas: list[TableSchema] = []
        self._created_ledger = False

    # -- the load --------------------------------------------------------------------

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        """Lock this run, drop what dead runs left, create the scratch tables, start loaders."""
        self._schemas = list(schemas)
        # Nothing to hold open during the load: a session idle in a transaction
        # for an hour is what hosted servers time out. The swap reads the outside
        # keys again, in its own transaction.
        self.session.commit("preparing the tables")
        self._side = self._connect_side()
        try:
            with self._side.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", (scratch.run_lock_key(self._run_id),))
                self._drop_leftovers(cur)
                # Recorded as they are made, committed at once: a run killed from here on
                # leaves scratch tables the next run knows to be datastorm's.
                with self._side.transaction():
                    self._created_ledger = ownership.ensure_ledger(cur)
                    for number, schema in enumerate(schemas):
                        name = scratch.staged_name(self._run_id, number)
                        cur.execute(scratch.create_staged(name, schema))
                        ownership.record(cur, name, "scratch", self._run_id)
                        self._staged_names[schema.name] = name
        except psycopg.Error as exc:
            raise TargetError(f"creating the staged tables ({self.ctx.describe()}): "
                              f"{server_message(exc)}") from exc
        self._pool = LoaderPool(self._connect_side, self.ctx.sessions)

    def write(self, schema: TableSchema, copy: Copy) -> None:
        statement = q.copy_from_stdin(self._staged_names[schema.name], schema.column_names,
                                      copy.format)
        with self._pooled(f"loading table {schema.name!r}") as pool:
            pool.submit(statement, copy.payloads)

    def end_table(self, schema: TableSchema) -> None:
        with self._pooled(f"loading table {schema.name!r}") as pool:
            pool.drain()  # every row is in (committed in the staged table)
            staged = self._staged_names[schema.name]
            keys = [k for k in (scratch.staged_keys(staged, schema),
                                scratch.staged_foreign_keys(staged, schema, self._staged_names))
                    if k is not None]
            if keys:  # built while the next table loads
                self._key_builds.append((schema.name, pool.background(keys)))

    def before_commit(self) -> None:
        self._swap_in()
        restore_outside_keys(self.ctx, self._outside_keys)
        self._outside_keys = []

    def after_commit(self) -> None:
        self._staged_names = {}  # renamed for good: no scratch table is left to drop

    def after_rollback(self) -> None:
        """A failed staged run: stop the loaders, drop the scratch tables.

        Runs after the main transaction ended: a failed swap holds locks on
        the scratch tables until then, and the DROP would wait for it.
        """
        if self._pool is not None:
            self._pool.cancel()
            self._pool.close()
            self._pool = None
        if self._side is None or self._side.closed or not self._staged_names:
            return
        with suppress(psycopg.Error), self._side.cursor() as cur:
            # Best effort and bounded: what stays is dropped by the next staged run.
            cur.execute(sql.SQL("SET lock_timeout = {}").format(
                sql.Literal(f"{CLEANUP_LOCK_TIMEOUT_SECONDS}s")))
            with self._side.transaction():
                names = list(self._staged_names.values())
                ownership.forget(cur, catalog.oids(cur, names))
                cur.execute(q.drop_tables(names))
                if self._created_ledger:  # the database as it was: no ledger either
                    ownership.drop_ledger_if_empty(cur)
        self._staged_names = {}

    def abort(self) -> None:
        if self._pool is not None:
            self._pool.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._side is not None:
            self._side.close()  # ends the session: its advisory lock goes with it
            self._side = None

    # -- helpers ---------------------------------------------------------------------

    def _connect_side(self) -> psycopg.Connection[Any]:
        return self.ctx.settings.connect(autocommit=True, doing="opening a COPY session to")

    def _drop_leftovers(self, cur: psycopg.Cursor[Any]) -> None:
        """Scratch tables of runs whose session is gone (a kill -9) are dropped.

        Only tables the ledger vouches for: a user's table that merely looks
        like a scratch table is never touched. All of a dead run's tables go
        in one DROP ... CASCADE: they may hold foreign keys on each other.
        """
        runs: dict[str, list[tuple[int, str]]] = {}
        for oid, table, run in ownership.scratch_leftovers(cur):
            if run and run != self._run_id:
                runs.setdefault(run, []).append((oid, table))
        for run, tables in runs.items():
            try:
                key = scratch.run_lock_key(run)
            except ValueError:
                continue
            if cur.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                with self._side.transaction():  # type: ignore[union-attr]
                    ownership.forget(cur, [oid for oid, _ in tables])
                    cur.execute(q.drop_tables([name for _, name in tables]))
                cur.execute("SELECT pg_advisory_unlock(%s)", (key,))

    @contextmanager
    def _pooled(self, doing: str) -> Iterator[LoaderPool]:
        """The loader pool, with its sessions' errors as TargetErrors saying what failed."""
        if self._pool is None:
            raise TargetError(f"{doing}: the target was not prepared")
        try:
            yield self._pool
        except psycopg.errors.QueryCanceled as exc:
            reason = "cancelled by abort" if self.session.aborted else self._unstaged(exc)
            raise TargetError(f"{doing} ({self.ctx.describe()}): {reason}") from exc
        except psycopg.Error as exc:
            raise TargetError(f"{doing} ({self.ctx.describe()}): {self._unstaged(exc)}"
                              ) from exc

    def _unstaged(self, exc: psycopg.Error) -> str:
        """The server's message with scratch names (and their keys) named after their tables."""
        message = server_message(exc)
        # Longest first: datastorm_load_<run>_1 is a prefix of datastorm_load_<run>_10.
        for table, staged in sorted(self._staged_names.items(), key=lambda p: -len(p[1])):
            message = message.replace(staged, table)
        return message

    def _swap_in(self) -> None:
        """In the run's transaction: old tables out, staged tables (with their keys) in."""
        for table, build in self._key_builds:
            with self._pooled(f"adding the keys of table {table!r}"):
                build.result()
        self._key_builds = []
        names = [s.name for s in self._schemas]
        with self.session.cursor("swapping the loaded tables in") as cur:
            self._outside_keys = catalog.outside_foreign_keys(cur, names)
            # Only datastorm's own tables come here (survey.py).
            ownership.forget(cur, catalog.oids(cur, names))
            cur.execute(q.drop_tables(list(reversed(names))))
            for schema in self._schemas:
                staged = self._staged_names[schema.name]
                keys = catalog.keys_of(cur, staged)
                cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                    sql.Identifier(staged), sql.Identifier(schema.name)))
                ownership.record(cur, schema.name)  # the scratch table's row, now a table's
                for statement in scratch.key_renames(schema.name, keys):
                    cur.execute(statement)

"""PostgreSQL through psycopg 3: COPY into tables, in one transaction per run.

PostgreSQL has transactional DDL, so the whole run (drops, creates, COPY,
keys) is one transaction: ``finish(None)`` commits it, ``finish(error)``
rolls it back and the database is exactly as before the run.

- replace: drop the run's tables (children first), create them (parents
  first), COPY. With ``constraints="after_load"`` the keys are added after
  each table is loaded, which PostgreSQL's bulk-load advice (and
  ``pgbench -i``) recommends: about 3x faster than checking every row.
- append: create missing tables with their keys, COPY each batch into a
  temporary staging table, then upsert by primary key, so a rerun of the
  same partition rewrites its rows instead of duplicating them.

COPY goes in PostgreSQL's binary format by default (``encode/copy_binary``):
the server parses it in about 1.9 us a row against 2.8 us for text. The
``copy_format = "text"`` option switches back to ``encode/copy_text``.

With ``copy_connections = N`` (N > 1) a replace run is *staged*
(``postgres_staging.py``): N sessions COPY each table into a scratch table
at once, its keys are built in the background while the next table loads,
and the run's one transaction swaps the tables in and adds the foreign
keys, so readers still see the old tables or the new ones, never a mix.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import TargetError, UsageError
from datastorm_core.target import postgres_sql as q
from datastorm_core.target import postgres_staging as staged_sql
from datastorm_core.target.base import (
    BaseTarget,
    TargetSettings,
    require_primary_keys,
)
from datastorm_core.target.encode import copy_binary, copy_text
from datastorm_core.target.pg_loaders import LoaderPool
from datastorm_core.target.urls import redact

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "APPLICATION_NAME",
    "CONNECT_TIMEOUT_SECONDS",
    "COPY_ENCODERS",
    "DEFAULT_COPY_FORMAT",
    "CopyEncoder",
    "PostgresTarget",
]

# Fail fast on an unreachable server instead of libpq's default of waiting forever;
# a URL's own connect_timeout (or the connect_timeout option) wins.
CONNECT_TIMEOUT_SECONDS = 10
# Seconds abort() waits for the server to acknowledge a cancel request.
CANCEL_TIMEOUT_SECONDS = 5.0
# Seconds a failed run waits for locks while dropping its scratch tables.
CLEANUP_LOCK_TIMEOUT_SECONDS = 10
# Serializes datastorm's DDL across runs started side by side (any fixed number
# works: it only has to be the same in every run).
DDL_LOCK_KEY = 0x64617461_73746F72 & 0x7FFFFFFFFFFFFFFF  # "datastor"
# Shown in pg_stat_activity, so a DBA can tell what is loading.
APPLICATION_NAME = "datastorm"


class CopyEncoder(Protocol):
    """A COPY format: a module such as ``encode.copy_binary`` or ``encode.copy_text``.

    One COPY statement sends ``HEADER``, the ``encode_chunk`` payloads of
    its chunks, then ``TRAILER`` (both empty for text).
    """

    FORMAT: str
    HEADER: bytes
    TRAILER: bytes

    def encode_chunk(self, chunk: Chunk, schema: TableSchema) -> bytes: ...


#: The encoders the ``copy_format`` option chooses from.
COPY_ENCODERS: dict[str, CopyEncoder] = {"binary": copy_binary, "text": copy_text}
# Binary: the server parses it in ~1.9 us a row against ~2.8 for text, and it
# encodes ~5x faster (bench/bank.toml end to end: ~260k rows/s against ~135k).
# Text is kept to compare with, and for proxies that cannot pass binary COPY.
DEFAULT_COPY_FORMAT = "binary"
# COPY sessions per run. One backend parses COPY on one core; a second one
# lets the server use another core, and the keys of a table are built while
# the next one loads (bench/: 1.28x for the pre-encoded bank load on 2 cores).
DEFAULT_COPY_CONNECTIONS = 2
MAX_COPY_CONNECTIONS = 32


class PostgresTarget(BaseTarget):
    """Writes a run into PostgreSQL with COPY, all or nothing."""

    kind = "postgres"
    # COPY's cost per statement is small, but a batch is one round of encoding in
    # memory, and with several COPY sessions several batches are in flight: 25k
    # rows kept the bank bench as fast as 50k with 140 MB peak RSS instead of 170.
    default_batch_size = 25_000
    accepted_options = ("connect_timeout", "copy_format", "copy_connections")
    #: The COPY format when the ``copy_format`` option does not name one.
    encoder: CopyEncoder = COPY_ENCODERS[DEFAULT_COPY_FORMAT]

    def __init__(self, url: str, **settings: Unpack[TargetSettings]) -> None:
        super().__init__(url, **settings)
        try:
            self._params: dict[str, Any] = conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise UsageError(f"bad PostgreSQL URL {redact(url)!r}: {' '.join(str(exc).split())}"
                             ) from exc
        # libpq only parses the port when connecting; a typo is a usage error, found now.
        ports = str(self._params.get("port", "")).split(",")
        if not all(p.isdigit() or not p for p in ports):
            raise UsageError(f"bad PostgreSQL URL {redact(url)!r}: the port must be a number, "
                             f"got {self._params['port']!r}")
        self._params.setdefault(
            "connect_timeout", self.options.get("connect_timeout", CONNECT_TIMEOUT_SECONDS))
        self._params.setdefault("application_name", APPLICATION_NAME)
        if "copy_format" in self.options:
            fmt = self.options["copy_format"]
            if not isinstance(fmt, str) or fmt not in COPY_ENCODERS:
                raise UsageError(f"copy_format must be one of {', '.join(COPY_ENCODERS)}, "
                                 f"got {fmt!r}")
            self.encoder = COPY_ENCODERS[fmt]
        sessions = self.options.get("copy_connections", DEFAULT_COPY_CONNECTIONS)
        if not isinstance(sessions, int) or isinstance(sessions, bool) or \
                not 1 <= sessions <= MAX_COPY_CONNECTIONS:
            raise UsageError(f"copy_connections must be a whole number from 1 to "
                             f"{MAX_COPY_CONNECTIONS}, got {sessions!r}")
        # Staging pays off for a whole replace run with keys after the load; an
        # append run upserts, and keys at CREATE are checked row by row anyway.
        self.staged = sessions > 1 and not self.append and self.constraints == "after_load"
        self._sessions = sessions
        self._run_id = uuid.uuid4().hex[:12]
        self._pool: LoaderPool | None = None
        self._side: psycopg.Connection[Any] | None = None  # holds the run's lock
        self._staged_names: dict[str, str] = {}
        self._key_builds: list[tuple[str, Future[None]]] = []
        self._conn: psycopg.Connection[Any] | None = None
        self._staging: dict[str, str] = {}
        self._aborted = False
        self._in_flight = 0  # statements running now (another thread may be stuck in one)
        # (child table, constraint name, definition) of foreign keys that tables
        # outside the run hold on tables this run replaces.
        self._outside_keys: list[tuple[str, str, str]] = []
        # Append mode: tables whose foreign keys are added after the commit.
        self._keys_to_complete: list[TableSchema] = []

    def describe(self) -> str:
        return redact(self.url)

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        try:
            self._conn = psycopg.connect(autocommit=False, **self._params)
        except psycopg.Error as exc:
            cause = " ".join(str(exc).split())
            raise TargetError(f"cannot connect to {self.describe()}: {cause}") from exc

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        super().prepare(schemas)
        if self.append:
            require_primary_keys(schemas)
        if self.append:
            self._create_missing_tables(schemas)
        with self._cursor("preparing the tables") as cur:
            self._check_outside_parents(cur, schemas)
            if self.append:
                return
            if self.staged:
                # Nothing to hold open during the load: a session idle in a
                # transaction for an hour is what hosted servers time out. The
                # swap reads the outside keys again, in its own transaction.
                self._commit_step("preparing the tables")
                self._prepare_staged(schemas)
                return
            self._outside_keys = self._foreign_keys_from_outside(cur, schemas)
            cur.execute(q.drop_tables([s.name for s in reversed(schemas)]))
            keys_now = self.constraints == "immediate"
            for schema in schemas:
                cur.execute(q.create_table(schema, with_keys=keys_now))

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:
        if not self.append:
            return
        staging = f"datastorm_staging_{len(self._staging)}"
        with self._cursor(f"staging table {schema.name!r}") as cur:
            cur.execute(q.create_staging(staging, schema.name))
        self._staging[schema.name] = staging

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        encoder = self.encoder
        try:
            payloads = [encoder.encode_chunk(chunk, schema) for chunk in chunks]
        except ValueError as exc:  # a value the column type cannot hold
            raise TargetError(f"encoding rows of table {schema.name!r} for COPY: {exc}"
                              ) from exc
        if self.staged:
            statement = q.copy_from_stdin(self._staged_names[schema.name], schema.column_names,
                                          encoder.FORMAT)
            # Header and trailer frame the whole statement, once (binary only).
            with self._pooled(f"loading table {schema.name!r}") as pool:
                pool.submit(statement, [encoder.HEADER, *payloads, encoder.TRAILER])
            return
        into = self._staging.get(schema.name, schema.name)
        with self._cursor(f"loading table {schema.name!r}") as cur:
            with cur.copy(q.copy_from_stdin(into, schema.column_names, encoder.FORMAT)
                          ) as copy:
                # Header and trailer frame the whole statement, once (binary only).
                copy.write(encoder.HEADER)
                for payload in payloads:
                    copy.write(payload)
                copy.write(encoder.TRAILER)
            if self.append:
                cur.execute(q.upsert_from(schema, into))
                cur.execute(sql.SQL("TRUNCATE {}").format(sql.Identifier(into)))

    def end_table(self, schema: TableSchema) -> None:
        if self.staged:
            with self._pooled(f"loading table {schema.name!r}") as pool:
                pool.drain()  # every row is in (committed in the staged table)
                staged = self._staged_names[schema.name]
                keys = [k for k in (staged_sql.staged_keys(staged, schema),
                                    staged_sql.staged_foreign_keys(staged, schema,
                                                                   self._staged_names))
                        if k is not None]
                if keys:  # built while the next table loads
                    self._key_builds.append((schema.name, pool.background(keys)))
            return
        if self.append:
            staging = self._staging.pop(schema.name)
            with self._cursor(f"finishing table {schema.name!r}") as cur:
                cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(staging)))
            self._keys_to_complete.append(schema)  # after the commit: see commit()
            return
        if self.constraints != "after_load":
            return
        with self._cursor(f"adding the keys of table {schema.name!r}") as cur:
            statement = q.add_keys(schema)
            if statement is not None:
                cur.execute(statement)
        with self._cursor(f"adding the foreign keys of table {schema.name!r}") as cur:
            statement = q.add_foreign_keys(schema)
            if statement is not None:
                cur.execute(statement)

    def commit(self) -> None:
        if self._conn is None:
            return
        if self.staged:
            self._swap_in()
        self._restore_outside_keys()
        try:
            self._conn.commit()
        except psycopg.Error as exc:
            raise TargetError(f"committing the run ({self.describe()}): "
                              f"{_server_message(exc)}") from exc
        self._staged_names = {}  # renamed for good: no scratch table is left to drop
        self._complete_foreign_keys()

    def rollback(self) -> None:
        try:
            self._rollback_main()
        finally:
            if self.staged:
                # After the main transaction ended: a failed swap holds locks on
                # the scratch tables until then, and the DROP would wait for it.
                self._drop_staged()

    def _rollback_main(self) -> None:
        if self._conn is None or self._conn.closed:
            return
        if self._in_flight:
            # A write the runner gave up on still holds the connection's lock, so an
            # explicit ROLLBACK would wait for it forever. Closing the connection ends
            # the session, and the server rolls the transaction back by itself.
            if self.staged:
                self._conn.close()  # now: the scratch tables are dropped next
            return
        self._conn.rollback()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._side is not None:
            self._side.close()  # ends the session: its advisory lock goes with it
            self._side = None
        if self._conn is not None:
            self._conn.close()

    def abort(self) -> None:
        """Ask the server to cancel the statement in flight (thread-safe, best effort)."""
        self._aborted = True
        if self._pool is not None:
            self._pool.cancel()
        conn = self._conn
        if conn is None or conn.closed:
            return
        # Best effort: the run is failing already, a failed cancel changes nothing.
        with suppress(Exception):
            conn.cancel_safe(timeout=CANCEL_TIMEOUT_SECONDS)

    def probe(self, schemas: Sequence[TableSchema]) -> None:
        """Connect and disconnect: a later target that is down fails before any commit."""
        self._connect_side().close()

    # -- a staged load (copy_connections > 1) ----------------------------------

    def _connect_side(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(autocommit=True, **self._params)
        except psycopg.Error as exc:
            raise TargetError(f"opening a COPY session to {self.describe()}: "
                              f"{_server_message(exc)}") from exc

    def _prepare_staged(self, schemas: Sequence[TableSchema]) -> None:
        """Lock this run, drop what dead runs left, create the scratch tables, start loaders."""
        self._side = self._connect_side()
        doing = "creating the staged tables"
        try:
            with self._side.cursor() as cur:
                cur.execute("SELECT pg_advisory_lock(%s)", (staged_sql.run_lock_key(self._run_id),))
                self._drop_leftovers(cur)
                for number, schema in enumerate(schemas):
                    name = staged_sql.staged_name(self._run_id, number)
                    cur.execute(staged_sql.create_staged(name, schema))
                    self._staged_names[schema.name] = name
        except psycopg.Error as exc:
            raise TargetError(f"{doing} ({self.describe()}): {_server_message(exc)}") from exc
        self._pool = LoaderPool(self._connect_side, self._sessions)

    def _drop_leftovers(self, cur: psycopg.Cursor[Any]) -> None:
        """Scratch tables of runs whose session is gone (a kill -9) are dropped.

        All of a dead run's tables go in one DROP ... CASCADE: they may hold
        foreign keys on each other.
        """
        runs: dict[str, list[str]] = {}
        for table, run in cur.execute(staged_sql.LEFTOVER_TABLES).fetchall():
            if run and run != self._run_id:
                runs.setdefault(run, []).append(table)
        for run, tables in runs.items():
            try:
                key = staged_sql.run_lock_key(run)
            except ValueError:
                continue  # not one of ours: a table that only looks like it
            if cur.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:
                cur.execute(q.drop_tables(tables))
                cur.execute("SELECT pg_advisory_unlock(%s)", (key,))

    @contextmanager
    def _pooled(self, doing: str) -> Iterator[LoaderPool]:
        """The loader pool, with its sessions' errors as TargetErrors saying what failed."""
        if self._pool is None:
            raise TargetError(f"{doing}: the target was not prepared")
        try:
            yield self._pool
        except psycopg.errors.QueryCanceled as exc:
            reason = "cancelled by abort" if self._aborted else self._unstaged(exc)
            raise TargetError(f"{doing} ({self.describe()}): {reason}") from exc
        except psycopg.Error as exc:
            raise TargetError(f"{doing} ({self.describe()}): {self._unstaged(exc)}") from exc

    def _unstaged(self, exc: psycopg.Error) -> str:
        """The server's message with scratch names (and their keys) named after their tables."""
        message = _server_message(exc)
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
        schemas = list(self.schemas.values())
        with self._cursor("swapping the loaded tables in") as cur:
            self._outside_keys = self._foreign_keys_from_outside(cur, schemas)
            cur.execute(q.drop_tables([s.name for s in reversed(schemas)]))
            for schema in schemas:
                staged = self._staged_names[schema.name]
                keys = cur.execute(staged_sql.KEYS_OF, (staged,)).fetchall()
                cur.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                    sql.Identifier(staged), sql.Identifier(schema.name)))
                for statement in staged_sql.key_renames(schema.name, keys):
                    cur.execute(statement)

    def _drop_staged(self) -> None:
        """A failed staged run: stop the loaders, drop the scratch tables."""
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
            cur.execute(q.drop_tables(list(self._staged_names.values())))
        self._staged_names = {}

    # -- helpers ---------------------------------------------------------------

    def _check_outside_parents(self, cur: psycopg.Cursor[Any],
                               schemas: Sequence[TableSchema]) -> None:
        """A parent outside the run (``--tables``) must already exist in the database."""
        for schema in schemas:
            for fk in schema.foreign_keys:
                if fk.parent_table in self.schemas:
                    continue
                name = sql.Identifier(fk.parent_table).as_string(cur)
                cur.execute("SELECT to_regclass(%s)", (name,))
                row = cur.fetchone()
                if row is None or row[0] is None:
                    raise TargetError(
                        f"table {schema.name!r} references {fk.parent_table!r}, which is not "
                        f"in this run and does not exist in {self.describe()}: write "
                        f"{fk.parent_table!r} first, or include it in the run")

    def _create_missing_tables(self, schemas: Sequence[TableSchema]) -> None:
        """Append mode: create missing tables in a short transaction of their own.

        Partition runs started side by side (a Dagster backfill) would race
        to create the same tables; an advisory lock serializes the creation,
        and committing it at once lets every run see the tables. An empty
        table left by a run that fails later is harmless. Foreign keys wait:
        a partition may reference parent rows of partitions not written yet.
        """
        with self._cursor("creating the tables") as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
            for schema in schemas:
                cur.execute(q.create_table(schema, with_keys=True, if_not_exists=True,
                                           with_foreign_keys=self.partition.is_whole))
        self._commit_step("creating the tables")

    def _complete_foreign_keys(self) -> None:
        """After an append run commits, add each foreign key that now holds.

        Outside the data transaction, under the DDL lock, and without ever
        waiting for a table: both tables are locked with NOWAIT first, because
        an ALTER that held one table while waiting for the other would
        deadlock with a partition still loading them. A run that ends while
        other partitions load skips; the last one to finish adds the key.
        """
        schemas, self._keys_to_complete = self._keys_to_complete, []
        for schema in schemas:
            try:
                with self._cursor(f"adding the foreign keys of table {schema.name!r}") as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK_KEY,))
                    for fk in schema.foreign_keys:
                        names = {"child": sql.Identifier(schema.name).as_string(cur),
                                 "parent": sql.Identifier(fk.parent_table).as_string(cur),
                                 "column": fk.column, "parent_column": fk.parent_column}
                        exists = cur.execute(q.HAS_FOREIGN_KEY, names).fetchone()
                        if exists is not None and exists[0]:
                            continue
                        cur.execute(sql.SQL("LOCK TABLE {}, {} IN SHARE ROW EXCLUSIVE MODE NOWAIT")
                                    .format(sql.Identifier(schema.name),
                                            sql.Identifier(fk.parent_table)))
                        orphans = cur.execute(q.has_orphans(schema, fk)).fetchone()
                        if orphans is not None and not orphans[0]:
                            cur.execute(q.add_foreign_key(schema, fk))
                self._commit_step(f"adding the foreign keys of table {schema.name!r}")
            except TargetError as exc:
                # The rows are committed; the key comes with a later partition's run.
                with suppress(psycopg.Error):
                    self._conn.rollback()  # type: ignore[union-attr]
                self.warnings.append(f"the foreign keys of {schema.name!r} come with the last "
                                     f"partition run to finish ({exc})")

    def _commit_step(self, doing: str) -> None:
        assert self._conn is not None
        try:
            self._conn.commit()
        except psycopg.Error as exc:
            raise TargetError(f"{doing} ({self.describe()}): {_server_message(exc)}") from exc

    def _foreign_keys_from_outside(self, cur: psycopg.Cursor[Any],
                                   schemas: Sequence[TableSchema]) -> list[tuple[str, str, str]]:
        existing = []
        for schema in schemas:
            name = sql.Identifier(schema.name).as_string(cur)
            cur.execute("SELECT to_regclass(%s)::text", (name,))
            row = cur.fetchone()
            if row is not None and row[0] is not None:
                existing.append(row[0])
        if not existing:
            return []
        cur.execute(q.OUTSIDE_FOREIGN_KEYS, {"replaced": existing})
        return [(child, name, definition) for child, name, definition in cur.fetchall()]

    def _restore_outside_keys(self) -> None:
        """Add back the foreign keys that replacing their parents dropped.

        Each is validated when its child's rows still match the new parent
        (the usual case: same seed, same keys). If they no longer do (the
        parent's definition changed), it comes back NOT VALID: new rows are
        checked, and the child's asset check reports the orphans until the
        child is regenerated too.
        """
        for child, name, definition in self._outside_keys:
            with self._cursor(f"restoring foreign key {name} of {child}") as cur:
                try:
                    with self._conn.transaction():  # type: ignore[union-attr]  # a savepoint
                        cur.execute(q.restore_foreign_key(child, name, definition, valid=True))
                except psycopg.errors.ForeignKeyViolation:
                    cur.execute(q.restore_foreign_key(child, name, definition, valid=False))
                    self.warnings.append(
                        f"{child} holds rows whose {name} no longer matches the replaced "
                        "parent; the key is back as NOT VALID: regenerate the child too")
        self._outside_keys = []

    @contextmanager
    def _cursor(self, doing: str) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor whose psycopg errors become TargetErrors saying what failed."""
        if self._conn is None:
            raise TargetError(f"{doing}: the target was not opened")
        self._in_flight += 1
        try:
            with self._conn.cursor() as cur:
                yield cur
        except psycopg.errors.QueryCanceled as exc:
            reason = "cancelled by abort" if self._aborted else _server_message(exc)
            raise TargetError(f"{doing} ({self.describe()}): {reason}") from exc
        except psycopg.Error as exc:
            raise TargetError(f"{doing} ({self.describe()}): {_server_message(exc)}") from exc
        finally:
            self._in_flight -= 1


def _server_message(exc: psycopg.Error) -> str:
    """The server's message and detail (e.g. which key is duplicated), on one line."""
    diag = exc.diag
    primary = diag.message_primary
    if not primary:
        return " ".join(str(exc).split())
    detail = diag.message_detail
    return f"{primary}: {detail}" if detail else primary

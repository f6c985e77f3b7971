"""PostgreSQL through psycopg 3: COPY into tables, in one transaction per run.

PostgreSQL has transactional DDL, so the whole run is one transaction:
``finish(None)`` commits it, ``finish(error)`` rolls it back and the
database is exactly as before the run. This class owns the connection
settings, the run's main session and the COPY encoders; what happens to
the tables is a ``Load``'s job (``loads/``): datastorm's own tables are
dropped and created again (direct) or loaded by several sessions and
swapped in (staged); the application's tables are emptied and loaded in
place, never altered (existing); append mode upserts (upsert). Which
tables are whose is the survey's answer (``survey.py``), and a table that
exists is checked against the Genfile before anything is written
(``compat.py``).

COPY goes in PostgreSQL's binary format by default (``encode/copy_binary``):
the server parses it in about 1.9 us a row against 2.8 us for text. The
``copy_format = "text"`` option switches back to ``encode/copy_text``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg import sql

from datastorm_core.core import interrupts
from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import ColumnSchema, TableSchema
from datastorm_core.errors import GenfileError, Problem, TargetError, UsageError
from datastorm_core.target.base import BaseTarget, TargetSettings
from datastorm_core.target.encode import copy_binary, copy_text
from datastorm_core.target.postgres import catalog
from datastorm_core.target.postgres import sql as q
from datastorm_core.target.postgres.compat import storage_of, table_problems
from datastorm_core.target.postgres.connection import ConnectionSettings, mapped_errors
from datastorm_core.target.postgres.loads.base import Copy, Load, LoadContext
from datastorm_core.target.postgres.loads.common import copy_on_main
from datastorm_core.target.postgres.loads.direct import DirectLoad
from datastorm_core.target.postgres.loads.existing import (
    REFERENCE_CHECKS,
    TRIGGER_MODES,
    TRUNCATE_MODES,
    ExistingLoad,
)
from datastorm_core.target.postgres.loads.routed import RoutedLoad
from datastorm_core.target.postgres.loads.staged import StagedLoad
from datastorm_core.target.postgres.loads.upsert import UpsertLoad
from datastorm_core.target.postgres.session import Session
from datastorm_core.target.postgres.survey import TableState, survey

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "COPY_ENCODERS",
    "DEFAULT_COPY_FORMAT",
    "CopyEncoder",
    "PostgresTarget",
]


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
    enforces_references = True
    # COPY's cost per statement is small, but a batch is one round of encoding in
    # memory, and with several COPY sessions several batches are in flight: 25k
    # rows kept the bank bench as fast as 50k with 140 MB peak RSS instead of 170.
    default_batch_size = 25_000
    accepted_options = ("connect_timeout", "copy_format", "copy_connections", "schema",
                        "truncate", "triggers", "reference_checks", "lock_timeout")
    #: The COPY format when the ``copy_format`` option does not name one.
    encoder: CopyEncoder = COPY_ENCODERS[DEFAULT_COPY_FORMAT]

    def __init__(self, url: str, **settings: Unpack[TargetSettings]) -> None:
        super().__init__(url, **settings)
        self.connection = ConnectionSettings(url, self.options)
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
        self.truncate = self._choice("truncate", TRUNCATE_MODES)
        self.triggers = self._choice("triggers", TRIGGER_MODES)
        self.reference_checks = self._choice("reference_checks", REFERENCE_CHECKS)
        self.session = Session(self.connection)
        self._ctx = LoadContext(self.connection, self.session, self.partition,
                                self.constraints, sessions, self.warnings)
        self._load: Load | None = None
        self._states: dict[str, TableState] = {}
        # Per table: the schema its COPY encodes (live column types filled in) and how.
        self._wire: dict[str, tuple[TableSchema, CopyEncoder]] = {}

    def _choice(self, option: str, choices: Sequence[str]) -> str:
        value = self.options.get(option, choices[0])
        if value not in choices:
            raise UsageError(f"{option} must be one of {', '.join(map(repr, choices))}, "
                             f"got {value!r}")
        return str(value)

    @classmethod
    def declared_type(cls, column: ColumnSchema) -> str:
        return q.column_type(column)

    def describe(self) -> str:
        return self.connection.describe()

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        self.session.open()

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        with self._lock_waits([s.name for s in schemas]):
            self._prepare(schemas)

    def _prepare(self, schemas: Sequence[TableSchema]) -> None:
        fills = [s for s in schemas if s.update]  # set after the load: see _fill
        schemas = [s for s in schemas if not s.update]
        super().prepare(schemas)
        with self.session.cursor("reading the tables") as cur:
            self._check_outside_parents(cur, schemas)
            self._states = survey(cur, [s.name for s in schemas])
            problems = self._problems(schemas)
            if problems:  # the run checked them already; the database changed since
                raise GenfileError(problems)
        self._wire = {(s.name, s.update): self._encoding(s) for s in [*schemas, *fills]}
        # A fill updates rows in the run's transaction, which a staged load's scratch
        # tables are not in: such a run loads on one session.
        self._load = self._choose_load(staged=self.staged and not fills)
        self._load.prepare(schemas)

    def _choose_load(self, *, staged: bool) -> Load:
        live = {name: state.live for name, state in self._states.items()
                if state.live is not None}
        if self.append:
            return UpsertLoad(self._ctx, live, triggers=self.triggers)
        in_place = {name for name, state in self._states.items() if state.action == "in_place"}
        if not in_place:
            return StagedLoad(self._ctx) if staged else DirectLoad(self._ctx)
        existing = ExistingLoad(self._ctx, {n: live[n] for n in in_place},
                                run_tables=frozenset(self._states), may_empty=self.may_empty,
                                truncate=self.truncate, triggers=self.triggers,
                                reference_checks=self.reference_checks)
        if len(in_place) == len(self._states):
            return existing
        # Datastorm's own tables beside them: dropped and created in the same transaction.
        direct = DirectLoad(self._ctx)
        routes = {name: existing if name in in_place else direct for name in self._states}
        return RoutedLoad(self._ctx, [existing, direct], routes)

    def _encoding(self, schema: TableSchema) -> tuple[TableSchema, CopyEncoder]:
        """The schema a table's COPY encodes, and the format it goes in.

        A column of a table that exists is encoded for its live type; one of
        a table datastorm creates, for the type datastorm gives it. Binary
        unless a column's type has no binary form here (inet, arrays...),
        then text, which the server parses with each type's input function.
        """
        state = self._states.get(schema.name)
        keep = state is not None and state.live is not None and (
            state.action == "in_place" or self.append)
        columns = []
        for col in schema.columns:
            if keep:
                assert state is not None and state.live is not None
                live_column = state.live.column(col.name)
                storage = storage_of(live_column) if live_column is not None else None
            else:
                storage = q.storage_type(col)
            columns.append(replace(col, storage=storage))
        wire = replace(schema, columns=tuple(columns))
        encoder = self.encoder
        if encoder is copy_binary and not all(copy_binary.binary_storable(c) for c in columns):
            encoder = copy_text
        return wire, encoder

    def check_schemas(self, schemas: Sequence[TableSchema]) -> list[Problem]:
        """Fields that do not fit the tables that exist, found before anything is written."""
        conn = self.connection.connect(autocommit=True)
        try:
            with mapped_errors("reading the tables", self.describe()), conn.cursor() as cur:
                self._states = survey(cur, [s.name for s in schemas])
        finally:
            conn.close()
        return self._problems(schemas)

    def survey(self, schemas: Sequence[TableSchema]) -> list[dict[str, str]]:
        conn = self.connection.connect(autocommit=True)
        try:
            with mapped_errors("reading the tables", self.describe()), conn.cursor() as cur:
                states = survey(cur, [s.name for s in schemas])
        finally:
            conn.close()
        return [{"table": name, "owner": state.owner, "action": state.explain(self.append)}
                for name, state in states.items()]

    def read_keys(self, table: str, column: str) -> list[Any]:
        conn = self.connection.connect(autocommit=True)
        try:
            with mapped_errors(f"reading the keys of the existing table {table!r}",
                               self.describe()), conn.cursor() as cur:
                if catalog.regclass(cur, table) is None:
                    raise TargetError(f"the existing table {table!r} is not in "
                                      f"{self.describe()}")
                return [value for (value,) in cur.execute(sql.SQL(
                    "SELECT DISTINCT {0} FROM {1} WHERE {0} IS NOT NULL ORDER BY 1").format(
                    sql.Identifier(column), sql.Identifier(table))).fetchall()]
        finally:
            conn.close()

    def _problems(self, schemas: Sequence[TableSchema]) -> list[Problem]:
        """Problems of the tables loaded in place (or upserted into): datastorm's own
        tables are created from the Genfile, so they always fit."""
        problems: list[Problem] = []
        for schema in schemas:
            state = self._states.get(schema.name)
            if state is None or state.live is None:
                continue
            if state.action == "in_place" or self.append:
                problems += table_problems(schema, state.live)
        return problems

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:
        self.session.check_rows(self._loaded().checks_rows(schema))
        if schema.update:
            with self.session.cursor(f"setting the deferred references of {schema.name!r}"
                                     ) as cur:
                cur.execute(q.create_fill(schema))
            return
        self._loaded().begin_table(schema, start, stop)

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        wire, encoder = self._wire.get((schema.name, schema.update), (schema, self.encoder))
        try:
            payloads = [encoder.encode_chunk(chunk, wire) for chunk in chunks]
        except ValueError as exc:  # a value the column type cannot hold
            raise TargetError(f"encoding rows of table {schema.name!r} for COPY: {exc}"
                              ) from exc
        # Header and trailer frame the whole statement, once (binary only).
        copy = Copy(encoder.FORMAT, [encoder.HEADER, *payloads, encoder.TRAILER])
        if schema.update:
            copy_on_main(self._ctx, schema, q.FILL_TABLE, copy)
            return
        self._loaded().write(schema, copy)

    def end_table(self, schema: TableSchema) -> None:
        if schema.update:
            with self.session.cursor(f"setting the deferred references of {schema.name!r}"
                                     ) as cur:
                cur.execute(q.update_from_fill(schema))
                cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(q.FILL_TABLE)))
            return
        self._loaded().end_table(schema)

    def commit(self) -> None:
        if self.session.conn is None:
            return
        if self._load is not None:
            with self._lock_waits(list(self.schemas)):
                self._load.before_commit()
        with interrupts.deferred():  # a signal now would leave nobody sure it is in
            self.session.commit()
            self.committed = True
        if self._load is not None:
            self._load.after_commit()

    def rollback(self) -> None:
        try:
            self.session.rollback()
        finally:
            if self._load is not None:
                self._load.after_rollback()

    def close(self) -> None:
        if self._load is not None:
            self._load.close()
        self.session.close()

    def abort(self) -> None:
        """Ask the server to cancel what is in flight (thread-safe, best effort)."""
        self.session.aborted = True
        if self._load is not None:
            self._load.abort()
        self.session.cancel()

    def probe(self, schemas: Sequence[TableSchema]) -> None:
        """Connect and disconnect: a later target that is down fails before any commit."""
        self.connection.connect(autocommit=True, doing="opening a COPY session to").close()

    # -- helpers ---------------------------------------------------------------

    @contextmanager
    def _lock_waits(self, tables: Sequence[str]) -> Iterator[None]:
        """A lock that took longer than ``lock_timeout`` to come: say who holds it."""
        try:
            yield
        except TargetError as exc:
            if not isinstance(exc.__cause__, psycopg.errors.LockNotAvailable):
                raise
            holders = self._lock_holders(tables)
            raise TargetError(
                f"{exc}: waited {self.connection.lock_timeout:g} s (lock_timeout) for a lock "
                f"another session holds on {', '.join(map(repr, tables))}; nothing was "
                f"changed. {holders or 'The session has gone since.'} Let it finish, or "
                "raise lock_timeout in [target] (or --lock-timeout)") from exc.__cause__

    def _lock_holders(self, tables: Sequence[str]) -> str:
        """The sessions holding locks on ``tables`` now, as a sentence."""
        try:
            conn = self.connection.connect(autocommit=True)
        except TargetError:
            return ""
        try:
            with conn.cursor() as cur:
                found = catalog.lock_holders(cur, tables)
        except psycopg.Error:
            return ""
        finally:
            conn.close()
        return "Held by " + "; ".join(found) + "." if found else ""

    def _loaded(self) -> Load:
        if self._load is None:
            raise TargetError("the PostgreSQL target was not prepared")
        return self._load

    def _check_outside_parents(self, cur: catalog.Cursor, schemas: Sequence[TableSchema]
                               ) -> None:
        """A parent outside the run (``--tables``) must already exist in the database."""
        for schema in schemas:
            for fk in schema.foreign_keys:
                if fk.parent_table in self.schemas:
                    continue
                if catalog.regclass(cur, fk.parent_table) is None:
                    raise TargetError(
                        f"table {schema.name!r} references {fk.parent_table!r}, which is not "
                        f"in this run and does not exist in {self.describe()}: write "
                        f"{fk.parent_table!r} first, or include it in the run")


"""PostgreSQL through psycopg 3: COPY into tables, in one transaction per run.

PostgreSQL has transactional DDL, so the whole run is one transaction:
``finish(None)`` commits it, ``finish(error)`` rolls it back and the
database is exactly as before the run. This class owns the connection
settings, the run's main session and the COPY encoders; what happens to
the tables is a ``Load``'s job (``loads/``): dropped and created again
(direct), loaded by several sessions and swapped in (staged), or upserted
(append).

COPY goes in PostgreSQL's binary format by default (``encode/copy_binary``):
the server parses it in about 1.9 us a row against 2.8 us for text. The
``copy_format = "text"`` option switches back to ``encode/copy_text``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import TargetError, UsageError
from datastorm_core.target.base import BaseTarget, TargetSettings
from datastorm_core.target.encode import copy_binary, copy_text
from datastorm_core.target.postgres import catalog
from datastorm_core.target.postgres.connection import ConnectionSettings
from datastorm_core.target.postgres.loads.base import Copy, Load, LoadContext
from datastorm_core.target.postgres.loads.direct import DirectLoad
from datastorm_core.target.postgres.loads.staged import StagedLoad
from datastorm_core.target.postgres.loads.upsert import UpsertLoad
from datastorm_core.target.postgres.session import Session

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
    # COPY's cost per statement is small, but a batch is one round of encoding in
    # memory, and with several COPY sessions several batches are in flight: 25k
    # rows kept the bank bench as fast as 50k with 140 MB peak RSS instead of 170.
    default_batch_size = 25_000
    accepted_options = ("connect_timeout", "copy_format", "copy_connections", "schema")
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
        self.session = Session(self.connection)
        self._ctx = LoadContext(self.connection, self.session, self.partition,
                                self.constraints, sessions, self.warnings)
        self._load: Load | None = None

    def describe(self) -> str:
        return self.connection.describe()

    # -- lifecycle -----------------------------------------------------------

    def open(self) -> None:
        self.session.open()

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        super().prepare(schemas)
        with self.session.cursor("preparing the tables") as cur:
            self._check_outside_parents(cur, schemas)
        self._load = self._choose_load()
        self._load.prepare(schemas)

    def _choose_load(self) -> Load:
        if self.append:
            return UpsertLoad(self._ctx)
        if self.staged:
            return StagedLoad(self._ctx)
        return DirectLoad(self._ctx)

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:
        self._loaded().begin_table(schema, start, stop)

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        encoder = self.encoder
        try:
            payloads = [encoder.encode_chunk(chunk, schema) for chunk in chunks]
        except ValueError as exc:  # a value the column type cannot hold
            raise TargetError(f"encoding rows of table {schema.name!r} for COPY: {exc}"
                              ) from exc
        # Header and trailer frame the whole statement, once (binary only).
        self._loaded().write(schema, Copy(encoder.FORMAT,
                                          [encoder.HEADER, *payloads, encoder.TRAILER]))

    def end_table(self, schema: TableSchema) -> None:
        self._loaded().end_table(schema)

    def commit(self) -> None:
        if self.session.conn is None:
            return
        if self._load is not None:
            self._load.before_commit()
        self.session.commit()
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


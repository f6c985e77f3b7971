"""The change stream's one connection: its lock, its statements, one round trip an event.

Events run in psycopg's pipeline mode, entered at the first event and kept
until the connection closes: a read's BEGIN rides with it, an event's writes
are queued without waiting and go with ``COMMIT`` in one round trip, and
every statement is prepared by the server the first time it is sent (its
parse and plan are paid once per connection, not once per event). The setup
before the first event runs outside the pipeline, as any session does.

It connects through the PostgreSQL target's ``ConnectionSettings``: the URL
read once, every session in UTC with a bounded ``lock_timeout`` and on the
target's ``schema``, and the message of a connect that fails. It is not the
target's ``Session``, though: that one turns every psycopg error into a
``TargetError`` at the statement, and the stream's runner must see psycopg's
own ``OperationalError`` to tell a lost server (reconnect, read the ledger
back) from a refusal (stop). So errors leave this module as psycopg raised
them, and ``runner.py`` puts them in our words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, suppress
from typing import Any, ParamSpec

import psycopg
from psycopg import sql

from datastorm_core.errors import TargetError
from datastorm_core.stream.state import LOCK_KEY
from datastorm_core.target.postgres.connection import ConnectionSettings

__all__ = ["APPLICATION_NAME", "StreamSession", "Write", "connection_options"]

#: Shown in pg_stat_activity, apart from a run's "datastorm".
APPLICATION_NAME = "datastorm-stream"

#: A statement and its parameters, sent with the event's others in one round trip.
Write = tuple[str | sql.Composable, Sequence[object]]

P = ParamSpec("P")


class StreamSession:
    """One connection to the target (autocommit off), holding the stream's advisory lock."""

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        self.settings = ConnectionSettings(url, connection_options(options),
                                           application_name=APPLICATION_NAME)
        self.conn: psycopg.Connection[Any] | None = None
        self.pid: int | None = None  # the backend holding the lock (pg_stat_activity.pid)
        self._cur: psycopg.Cursor[Any] | None = None
        self._statements: dict[tuple[object, ...], str] = {}
        self._texts: dict[int, tuple[sql.Composable, str]] = {}
        # Leaves the pipeline on close; None until the first event's statement.
        self._pipeline: ExitStack | None = None

    def describe(self) -> str:
        return self.settings.describe()

    def connect(self) -> None:
        """Open the connection and take the database's stream lock.

        Raises:
            psycopg.OperationalError: the server cannot be reached.
            TargetError: another stream holds the lock.
        """
        self.close()
        # psycopg's own errors on purpose: the runner reconnects on OperationalError.
        conn = self.settings.connect_unmapped(autocommit=False)
        try:
            cur = conn.cursor()
            locked, pid = cur.execute("SELECT pg_try_advisory_lock(%s), pg_backend_pid()",
                                      (LOCK_KEY,)).fetchone()
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not locked:
            conn.close()
            raise TargetError(f"another datastorm stream is running against "
                              f"{self.describe()}; one stream per database")
        self.conn, self._cur, self.pid = conn, cur, int(pid)

    def close(self) -> None:
        conn, self.conn, self._cur = self.conn, None, None
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            with suppress(Exception):  # a lost connection cannot sync; closing is enough
                pipeline.close()
        if conn is not None:
            with suppress(Exception):  # the connection is gone anyway
                conn.close()

    @property
    def cursor(self) -> psycopg.Cursor[Any]:
        assert self._cur is not None, "not connected"
        return self._cur

    def statement(self, key: tuple[object, ...], build: Callable[P, sql.Composable],
                  *args: P.args, **kwargs: P.kwargs) -> str:
        """The statement ``key`` names, composed by ``build(*args, **kwargs)`` the first
        time only: composing costs more than sending, and an event sends a few."""
        found = self._statements.get(key)
        if found is None:
            found = self._statements[key] = build(*args, **kwargs).as_string(self.conn)
        return found

    def query(self, statement: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows of a read: one round trip (with the transaction's BEGIN, and the
        writes queued before it, on the first read of a transaction)."""
        self._pipelined()
        return self.cursor.execute(statement, params, prepare=True).fetchall()

    def send(self, writes: Sequence[Write]) -> None:
        """Queue ``writes`` without waiting for them: they reach the server now and
        are answered with the ``COMMIT`` (or the next read) that follows.

        An error in one of them is raised there, and the server skips what
        follows it until the transaction is rolled back.
        """
        self._pipelined()
        cur = self.cursor
        for statement, values in writes:
            cur.execute(statement if isinstance(statement, str) else self._text(statement),
                        values, prepare=True)

    def _text(self, statement: sql.Composable) -> str:
        """A composed statement's text, composed once (the ledger's are module constants,
        kept alive with their text)."""
        found = self._texts.get(id(statement))
        if found is None or found[0] is not statement:
            found = self._texts[id(statement)] = (statement, statement.as_string(self.conn))
        return found[1]

    def _pipelined(self) -> None:
        """Enter pipeline mode for the events, once per connection."""
        if self._pipeline is None:
            assert self.conn is not None, "not connected"
            stack = ExitStack()
            stack.enter_context(self.conn.pipeline())
            self._pipeline = stack

    def commit(self) -> None:
        assert self.conn is not None
        self.conn.commit()

    def rollback(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.rollback()


def connection_options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """The target options that say how to connect (the stream ignores COPY's)."""
    return {k: v for k, v in (options or {}).items() if k in ("connect_timeout", "schema")}

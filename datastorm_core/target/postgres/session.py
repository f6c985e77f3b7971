"""The run's main session: one transaction, and every statement's error in our words.

PostgreSQL has transactional DDL, so everything a run does to the tables
it owns (drops, creates, TRUNCATE, COPY, keys) goes through this one
transaction: committing it publishes the run, rolling it back leaves the
database exactly as it was. The loader sessions of a staged load are
separate (``loaders.py``); they write only into scratch tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg

from datastorm_core.errors import TargetError
from datastorm_core.target.postgres.connection import ConnectionSettings, mapped_errors

__all__ = ["CANCEL_TIMEOUT_SECONDS", "Session"]

# Seconds abort() waits for the server to acknowledge a cancel request.
CANCEL_TIMEOUT_SECONDS = 5.0


class Session:
    """The main connection of a run (autocommit off)."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.conn: psycopg.Connection[Any] | None = None
        #: Set by ``cancel``: statements cancelled from now on were cancelled on purpose.
        self.aborted = False
        self._in_flight = 0  # statements running now (another thread may be stuck in one)
        self._rows_checked = True  # session_replication_role is origin

    def open(self) -> None:
        self.conn = self.settings.connect(autocommit=False)

    @property
    def busy(self) -> bool:
        """Whether a statement is running (perhaps in a thread the runner gave up on)."""
        return self._in_flight > 0

    @contextmanager
    def cursor(self, doing: str) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor whose psycopg errors become TargetErrors saying what failed."""
        if self.conn is None:
            raise TargetError(f"{doing}: the target was not opened")
        self._in_flight += 1
        try:
            with mapped_errors(doing, self.settings.describe(), aborted=lambda: self.aborted), \
                    self.conn.cursor() as cur:
                yield cur
        finally:
            self._in_flight -= 1

    def commit(self, doing: str = "committing the run") -> None:
        """Commit what the transaction did so far (a step, or the whole run)."""
        if self.conn is None:
            return
        with mapped_errors(doing, self.settings.describe()):
            self.conn.commit()

    def rollback(self) -> None:
        """Undo the transaction; the server does it itself if a statement is stuck."""
        if self.conn is None or self.conn.closed:
            return
        if self.busy:
            # A write the runner gave up on still holds the connection's lock, so an
            # explicit ROLLBACK would wait for it forever. Closing the connection ends
            # the session, and the server rolls the transaction back by itself.
            self.conn.close()
            return
        self.conn.rollback()

    def savepoint(self) -> Any:
        """A savepoint: a statement inside may fail without ending the run's transaction."""
        assert self.conn is not None
        return self.conn.transaction()

    def may_skip_row_checks(self) -> bool:
        """Whether this session may set ``session_replication_role`` (superuser, or a role
        granted SET on it): the server's per-row foreign key checks can then be left out
        and replaced by one check per key after the load (``loads/existing.py``)."""
        assert self.conn is not None
        try:
            with self.savepoint(), self.conn.cursor() as cur:
                cur.execute("SET LOCAL session_replication_role = replica")
                cur.execute("SET LOCAL session_replication_role = origin")
        except psycopg.errors.InsufficientPrivilege:
            return False
        return True

    def check_rows(self, checked: bool) -> None:
        """Turn the server's per-row trigger work (foreign key checks) on or off for what
        the transaction writes next; only the caller's own checks stand in for it."""
        if checked == self._rows_checked:
            return
        with self.cursor("setting session_replication_role") as cur:
            cur.execute("SET LOCAL session_replication_role = "
                        + ("origin" if checked else "replica"))
        self._rows_checked = checked

    def cancel(self) -> None:
        """Ask the server to cancel the statement in flight (thread-safe, best effort)."""
        self.aborted = True
        conn = self.conn
        if conn is None or conn.closed:
            return
        # Best effort: the run is failing already, a failed cancel changes nothing.
        with suppress(Exception):
            conn.cancel_safe(timeout=CANCEL_TIMEOUT_SECONDS)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

"""Several COPY sessions at once: a pool of connections, each in a thread of its own.

One PostgreSQL backend parses COPY on one core; with several sessions the
server spreads a table's load over several cores. Each loader owns an
autocommit connection and COPYs the batches it takes from a bounded queue
(at most one waiting batch per loader, so memory stays flat whatever the
row count). A batch that fails keeps its error; the next ``submit`` or
``drain`` raises the first one, and the loaders skip what is left.

A side session (``background``) runs slow statements, such as building a
table's keys, while the loaders go on with the next table.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any

import psycopg
from psycopg import sql

from datastorm_core.errors import TargetError

__all__ = ["LoaderPool"]

# Seconds a cancel request may take when the run is aborted.
CANCEL_TIMEOUT_SECONDS = 5.0

Connect = Callable[[], "psycopg.Connection[Any]"]
_STOP = object()


class LoaderPool:
    """``size`` COPY sessions and one background session, all autocommit."""

    def __init__(self, connect: Connect, size: int) -> None:
        self._connect = connect
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=size)
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._connections: list[psycopg.Connection[Any]] = []
        self._threads: list[threading.Thread] = []
        self._background = ThreadPoolExecutor(1, thread_name_prefix="datastorm-keys")
        self._stopped = False
        try:
            # Connected now, so that cancel() always reaches it.
            self._background_conn = self._track(connect())
            for number in range(size):
                conn = self._track(connect())
                thread = threading.Thread(target=self._load, args=(conn,), daemon=True,
                                          name=f"datastorm-copy-{number}")
                thread.start()
                self._threads.append(thread)
        except BaseException:  # e.g. too many connections: release what was opened
            self.close()
            raise

    # -- loading -----------------------------------------------------------------

    def submit(self, statement: sql.Composed, payloads: Sequence[bytes]) -> None:
        """Queue one COPY statement and its payloads; blocks while every loader is busy."""
        self.raise_error()
        if self._stopped:
            raise TargetError("the COPY sessions were cancelled")
        self._queue.put((statement, payloads))

    def drain(self) -> None:
        """Wait until every queued COPY is done (committed); raise the first error."""
        self._queue.join()
        self.raise_error()

    def _load(self, conn: psycopg.Connection[Any]) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if self._error is None:  # after a failure, the rest is dropped
                    statement, payloads = item
                    with conn.cursor() as cur, cur.copy(statement) as copy:
                        for payload in payloads:
                            copy.write(payload)
            except BaseException as exc:  # reported to the consumer thread
                self._fail(exc)
            finally:
                self._queue.task_done()

    # -- the background session -----------------------------------------------------

    def background(self, statements: Sequence[sql.Composable]) -> Future[None]:
        """Run ``statements`` one after the other on the background session."""
        return self._background.submit(self._execute, list(statements))

    def _execute(self, statements: list[sql.Composable]) -> None:
        if self._stopped:
            raise TargetError("the COPY sessions were cancelled")
        with self._background_conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)

    # -- errors and the end ----------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            if self._error is None:
                self._error = exc

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _track(self, conn: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
        with self._lock:
            self._connections.append(conn)
        return conn

    def cancel(self) -> None:
        """Cancel what every session is running, and refuse new work (thread-safe)."""
        self._stopped = True
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(Exception):
                conn.cancel_safe(timeout=CANCEL_TIMEOUT_SECONDS)

    def close(self) -> None:
        """Stop the loaders and close every session (after drain, or to give up)."""
        # Only after a failure is anything still queued: drop it, so that each
        # loader finds its stop marker at once.
        with suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
                self._queue.task_done()
        for _ in self._threads:
            with suppress(queue.Full):  # a loader that never takes it is a daemon thread
                self._queue.put(_STOP, timeout=CANCEL_TIMEOUT_SECONDS)
        for thread in self._threads:
            thread.join(timeout=CANCEL_TIMEOUT_SECONDS)
        self._background.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with suppress(Exception):
                conn.close()

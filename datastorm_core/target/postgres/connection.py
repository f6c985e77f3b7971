"""Connecting to PostgreSQL: settings from a URL, sessions, and errors in our words.

Every part of datastorm that talks to PostgreSQL (the target, its loader
sessions, the change stream, the asset checks, ``import``) connects
through ``ConnectionSettings``, so they share one way of reading a URL,
one connect timeout, one session setup and one error mapping:

- a URL libpq cannot parse, or a port that is not a number, is a
  ``UsageError`` found before anything connects, with the password
  redacted;
- every session runs with ``TimeZone = UTC`` (a generated timestamp means
  the same instant in binary and text COPY, whatever the server's zone),
  a bounded ``lock_timeout`` and, when the target names a ``schema``, that
  schema first on its ``search_path``;
- psycopg's errors become ``TargetError`` saying what was being done,
  with the server's message and detail on one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from datastorm_core.errors import TargetError, UsageError
from datastorm_core.secrets import remember
from datastorm_core.target.urls import redact

__all__ = [
    "APPLICATION_NAME",
    "CONNECT_TIMEOUT_SECONDS",
    "DEFAULT_LOCK_TIMEOUT_SECONDS",
    "ConnectionSettings",
    "mapped_errors",
    "one_line",
    "server_message",
    "undone_on_error",
]

# Fail fast on an unreachable server instead of libpq's default of waiting forever;
# a URL's own connect_timeout (or the connect_timeout option) wins.
CONNECT_TIMEOUT_SECONDS = 10
# Shown in pg_stat_activity, so a DBA can tell what is loading.
APPLICATION_NAME = "datastorm"
# Seconds a statement waits for a lock held by another session (a reader in an open
# transaction holds off a TRUNCATE or a swap, and every reader after it queues behind
# that wait): then the run stops with the blocking sessions named, nothing changed.
DEFAULT_LOCK_TIMEOUT_SECONDS = 30
# libpq's sslmode values.
_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class ConnectionSettings:
    """How to reach one PostgreSQL database, parsed and checked once.

    Args:
        url: a libpq URL or key/value string.
        options: the target's options; ``connect_timeout`` and ``schema`` are read.
        application_name: shown in ``pg_stat_activity``.

    Raises:
        UsageError: libpq cannot parse the URL, or its port is not a number.
    """

    def __init__(self, url: str, options: Mapping[str, Any] | None = None,
                 application_name: str = APPLICATION_NAME) -> None:
        options = options or {}
        remember(url)  # a driver's error may quote its password alone
        self.url = url
        try:
            self.params: dict[str, Any] = conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise UsageError(f"bad PostgreSQL URL {redact(url)!r}: {' '.join(str(exc).split())}"
                             ) from exc
        # libpq only checks these when connecting; a typo is a usage error, found now.
        ports = str(self.params.get("port", "")).split(",")
        if not all((p.isdigit() and 0 < int(p) < 65536) or not p for p in ports):
            # With user info in the URL, what libpq took for a port may be the end of a
            # password holding a '/' or '?': say so, and never echo it.
            shown = (" (a '/', '?' or '#' in a password must be percent-encoded: %2F, %3F, "
                     "%23)" if "@" in url else f", got {self.params['port']!r}")
            raise UsageError(f"bad PostgreSQL URL {redact(url)!r}: the port must be a number "
                             f"from 1 to 65535{shown}")
        lock_timeout = options.get("lock_timeout", DEFAULT_LOCK_TIMEOUT_SECONDS)
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, (int, float)) \
                or lock_timeout < 0:
            raise UsageError(f"lock_timeout must be a number of seconds >= 0 (0: wait as long "
                             f"as it takes), got {lock_timeout!r}")
        #: How long a statement may wait for a lock another session holds.
        self.lock_timeout = float(lock_timeout)
        sslmode = self.params.get("sslmode")
        if sslmode is not None and sslmode not in _SSLMODES:
            raise UsageError(f"bad PostgreSQL URL {redact(url)!r}: sslmode must be one of "
                             f"{', '.join(_SSLMODES)}, got {sslmode!r}")
        self.params.setdefault("connect_timeout",
                               options.get("connect_timeout", CONNECT_TIMEOUT_SECONDS))
        self.params.setdefault("application_name", application_name)
        schema = options.get("schema")
        if schema is not None and (not isinstance(schema, str) or not schema.strip()):
            raise UsageError(f"the schema option must name a schema, got {schema!r}")
        #: The schema tables are read and written in; None: the server's search_path.
        self.schema: str | None = schema

    def describe(self) -> str:
        """The URL without its password, safe to print."""
        return redact(self.url)

    def connect(self, *, autocommit: bool, doing: str | None = None) -> psycopg.Connection[Any]:
        """A new session, set up; ``TargetError`` saying ``doing`` if it cannot be had."""
        try:
            conn = psycopg.connect(autocommit=autocommit, **self.params)
        except psycopg.Error as exc:
            raise self.cannot_connect(exc, doing) from exc
        with undone_on_error(conn.close, f"setting up a session on {self.describe()}"):
            self.setup(conn)
        return conn

    def connect_unmapped(self, *, autocommit: bool) -> psycopg.Connection[Any]:
        """A new session, set up, with psycopg's own errors.

        For a caller that must tell a lost server (``OperationalError``: retry)
        from a refusal, which ``connect`` would turn into one ``TargetError``:
        the change stream reconnects on the first and stops on the second.
        """
        conn = psycopg.connect(autocommit=autocommit, **self.params)
        try:
            self.setup(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def cannot_connect(self, exc: psycopg.Error, doing: str | None = None) -> TargetError:
        """The error of a session that could not be had, saying ``doing`` (default:
        "cannot connect to"), where, and psycopg's message on one line."""
        return TargetError(f"{doing or 'cannot connect to'} {self.describe()}: {one_line(exc)}")

    def setup(self, conn: psycopg.Connection[Any]) -> None:
        """Session settings every datastorm session runs with (see the module docstring)."""
        statements: list[sql.Composable] = [
            sql.SQL("SET TimeZone = 'UTC'"),
            sql.SQL("SET lock_timeout = {}").format(
                sql.Literal(f"{int(self.lock_timeout * 1000)}ms")),
        ]
        if self.schema is not None:
            # The schema first, then the server's default path: functions and types of
            # other schemas (extensions in public) still resolve.
            statements.append(sql.SQL("SELECT set_config('search_path', {} || ', ' || "
                                      "current_setting('search_path'), false)").format(
                sql.Literal(sql.Identifier(self.schema).as_string(conn))))
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
        if not conn.autocommit:
            conn.commit()


@contextmanager
def undone_on_error(undo: Callable[[], object], doing: str) -> Iterator[None]:
    """Calls ``undo`` (a rollback, a close) if the block fails, then lets the failure go on:
    a server's error as a ``TargetError`` saying ``doing``, anything else as it is."""
    try:
        yield
    except psycopg.Error as exc:
        undo()
        raise TargetError(f"{doing}: {server_message(exc)}") from exc
    except BaseException:
        undo()
        raise


def one_line(exc: BaseException) -> str:
    """An exception's message with its line breaks and runs of blanks folded (libpq's
    messages span lines; a log line or a JSON summary wants one)."""
    return " ".join(str(exc).split())


def server_message(exc: psycopg.Error) -> str:
    """The server's message and detail (e.g. which key is duplicated), on one line."""
    diag = exc.diag
    primary = diag.message_primary
    if not primary:
        return one_line(exc)
    detail = diag.message_detail
    return f"{primary}: {detail}" if detail else primary


@contextmanager
def mapped_errors(doing: str, where: str, *,
                  aborted: Callable[[], bool] | None = None) -> Iterator[None]:
    """psycopg errors inside become ``TargetError("<doing> (<where>): <message>")``.

    When ``aborted()`` says the statement was cancelled on purpose, the
    message says so, which tells more than "canceling statement due to
    user request".
    """
    try:
        yield
    except psycopg.errors.QueryCanceled as exc:
        reason = "cancelled by abort" if aborted is not None and aborted() \
            else server_message(exc)
        raise TargetError(f"{doing} ({where}): {reason}") from exc
    except psycopg.Error as exc:
        raise TargetError(f"{doing} ({where}): {server_message(exc)}") from exc

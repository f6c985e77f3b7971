"""Read-only questions about what a target holds: counts, duplicates, orphans.

Asset checks and tests ask the target itself, never the generator, whether
the data is whole. Only database targets can answer; ``open_inspector``
raises UsageError for the others.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from datastorm_core.errors import TargetError, UsageError
from datastorm_core.target.postgres.connection import ConnectionSettings
from datastorm_core.target.registry import resolve_url
from datastorm_core.target.urls import file_url_path, redact, scheme_of

__all__ = ["Inspector", "open_inspector"]


class Inspector(ABC):
    """Counts on a target's tables. Use as a context manager."""

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _scalar(self, query: str, params: Sequence[Any] = ()) -> Any: ...

    @abstractmethod
    def quote(self, name: str) -> str: ...

    @abstractmethod
    def exists(self, table: str) -> bool: ...

    def row_count(self, table: str) -> int:
        return int(self._scalar(f"SELECT count(*) FROM {self.quote(table)}"))

    def duplicate_count(self, table: str, columns: Sequence[str]) -> int:
        """Rows beyond the first of every non-NULL value of ``columns``."""
        cols = ", ".join(self.quote(c) for c in columns)
        not_null = " AND ".join(f"{self.quote(c)} IS NOT NULL" for c in columns)
        return int(self._scalar(
            f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {self.quote(table)}"
            f" WHERE {not_null} GROUP BY {cols} HAVING count(*) > 1) AS d"))

    @abstractmethod
    def count_present(self, table: str, column: str, values: Iterable[Sequence[str]]) -> int:
        """Rows of ``table`` whose ``column``, as text, is one of ``values`` (given in
        batches, none repeated): how many of a known set of rows are there."""

    def orphan_count(self, table: str, column: str, parent: str, parent_column: str) -> int:
        """Non-NULL values of ``table.column`` missing from ``parent.parent_column``."""
        t, c = self.quote(table), self.quote(column)
        p, pc = self.quote(parent), self.quote(parent_column)
        return int(self._scalar(
            f"SELECT count(*) FROM {t} AS child WHERE child.{c} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {p} AS parent WHERE parent.{pc} = child.{c})"))


class _PostgresInspector(Inspector):
    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        self.url = url
        connection = {k: v for k, v in (options or {}).items()
                      if k in ("connect_timeout", "schema")}
        self.conn = ConnectionSettings(url, connection, application_name="datastorm-inspect"
                                       ).connect(autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def quote(self, name: str) -> str:
        return sql.Identifier(name).as_string(self.conn)

    def exists(self, table: str) -> bool:
        return self._scalar("SELECT to_regclass(%s)", (self.quote(table),)) is not None

    def _scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        try:
            row = self.conn.execute(query, tuple(params)).fetchone()  # type: ignore[arg-type]
        except psycopg.Error as exc:
            raise TargetError(f"{redact(self.url)}: {' '.join(str(exc).split())}") from exc
        return row[0] if row else None

    def count_present(self, table: str, column: str, values: Iterable[Sequence[str]]) -> int:
        # One scan of the table against a temporary table of the values (a hash
        # join), not a query per value; the cast to text matches the form given.
        try:
            with self.conn.transaction():
                self.conn.execute("CREATE TEMPORARY TABLE datastorm_wanted (v text) "
                                  "ON COMMIT DROP")
                for batch in values:
                    with self.conn.cursor().copy("COPY datastorm_wanted (v) FROM STDIN"
                                                 ) as copy:
                        for value in batch:
                            copy.write_row((value,))
                row = self.conn.execute(
                    f"SELECT count(*) FROM {self.quote(table)} AS t JOIN datastorm_wanted "
                    f"AS w ON t.{self.quote(column)}::text = w.v").fetchone()
        except psycopg.Error as exc:
            raise TargetError(f"{redact(self.url)}: {' '.join(str(exc).split())}") from exc
        return int(row[0]) if row else 0


class _SqliteInspector(Inspector):
    def __init__(self, url: str) -> None:
        self.path = file_url_path(url, "sqlite:///datastorm.db")
        self.conn = sqlite3.connect(self.path)

    def close(self) -> None:
        self.conn.close()

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def exists(self, table: str) -> bool:
        return self._scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                            "name = ?", (table,)) == 1

    def _scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        try:
            row = self.conn.execute(query, tuple(params)).fetchone()
        except sqlite3.Error as exc:
            raise TargetError(f"{self.path}: {exc}") from exc
        return row[0] if row else None

    def count_present(self, table: str, column: str, values: Iterable[Sequence[str]]) -> int:
        try:
            self.conn.execute("CREATE TEMPORARY TABLE IF NOT EXISTS datastorm_wanted (v text)")
            self.conn.execute("DELETE FROM datastorm_wanted")
            for batch in values:
                self.conn.executemany("INSERT INTO datastorm_wanted (v) VALUES (?)",
                                      ((v,) for v in batch))
            row = self.conn.execute(
                f"SELECT count(*) FROM {self.quote(table)} AS t JOIN datastorm_wanted AS w "
                f"ON CAST(t.{self.quote(column)} AS TEXT) = w.v").fetchone()
            self.conn.execute("DELETE FROM datastorm_wanted")
        except sqlite3.Error as exc:
            raise TargetError(f"{self.path}: {exc}") from exc
        return int(row[0]) if row else 0


def open_inspector(url_or_type: str | None, options: Mapping[str, Any] | None = None
                   ) -> Inspector:
    """An inspector for a database target URL; UsageError for file-like targets.

    ``options`` are the target's (PostgreSQL reads ``schema`` and ``connect_timeout``).
    """
    url = resolve_url(url_or_type)
    scheme = scheme_of(url)
    if scheme in ("postgresql", "postgres"):
        return _PostgresInspector(url, options)
    if scheme == "sqlite":
        return _SqliteInspector(url)
    raise UsageError(f"cannot inspect {redact(url)}: only database targets (postgresql, "
                     "sqlite) can be checked")

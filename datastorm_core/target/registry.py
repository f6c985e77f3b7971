"""From a target URL (or a bare type name) to a Target, and URLs safe to print.

``open_target`` only builds the target and checks its URL and options (a
bad one is a UsageError, before anything is written); the runner's
``open()`` is what connects.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from datastorm_core.errors import UsageError
from datastorm_core.secrets import remember
from datastorm_core.target.base import BaseTarget, TargetSettings
from datastorm_core.target.urls import redact, scheme_of

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["ACCEPTED_FORMS", "DEFAULT_TARGET_URL", "TARGET_CLASSES", "open_target", "redact",
           "resolve_url"]

#: Where rows go when neither the command line nor the Genfile says.
DEFAULT_TARGET_URL = "sqlite:///datastorm.db"



class _TargetClasses(Mapping[str, type[BaseTarget]]):
    """URL scheme -> target class, each imported the first time it is asked for.

    A run loads only its own target's module: psycopg and pglast (a sixth of a
    second) for PostgreSQL, confluent-kafka for Kafka, nothing of either for a
    run into SQLite, a file or ``null:``.
    """

    def __init__(self, paths: Mapping[str, str]) -> None:
        self._paths = dict(paths)

    def __getitem__(self, scheme: str) -> type[BaseTarget]:
        module, _, name = self._paths[scheme].partition(":")
        found: type[BaseTarget] = getattr(importlib.import_module(module), name)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


#: URL scheme -> target class.
TARGET_CLASSES: Mapping[str, type[BaseTarget]] = _TargetClasses({
    "postgresql": "datastorm_core.target.postgres:PostgresTarget",
    "postgres": "datastorm_core.target.postgres:PostgresTarget",
    "sqlite": "datastorm_core.target.sqlite:SqliteTarget",
    "csv": "datastorm_core.target.files:CsvTarget",
    "jsonl": "datastorm_core.target.files:JsonlTarget",
    "parquet": "datastorm_core.target.parquet:ParquetTarget",
    "console": "datastorm_core.target.console:ConsoleTarget",
    "null": "datastorm_core.target.null:NullTarget",
    "kafka": "datastorm_core.target.kafka:KafkaTarget",
})

# A bare type name (the Genfile's ``type`` without a ``url``) means this URL.
# "postgresql://" lets libpq take host, user and database from PG* variables.
_TYPE_DEFAULTS = {
    "postgresql": "postgresql://",
    "postgres": "postgresql://",
    "sqlite": DEFAULT_TARGET_URL,
    "csv": "csv:///out",
    "jsonl": "jsonl:///out",
    "parquet": "parquet:///out",
    "console": "console:",
    "null": "null:",
    "kafka": "kafka://localhost:9092",
}

ACCEPTED_FORMS = (
    "postgresql://user@host:port/db (or postgres://), sqlite:///relative/file.db or "
    "sqlite:////absolute/file.db, csv:///dir, jsonl:///dir, parquet:///dir, console:, "
    "null: (generate only), kafka://host:port[,host:port], or a type name (postgres, sqlite, "
    "csv, jsonl, parquet, console, null, kafka)"
)


def resolve_url(url_or_type: str | None) -> str:
    """The full URL meant by a URL, a bare type name, or None (the default)."""
    if url_or_type is None:
        return DEFAULT_TARGET_URL
    remember(url_or_type)  # its password is scrubbed from every message from now on
    text = url_or_type.strip()
    if text.lower() in _TYPE_DEFAULTS:
        return _TYPE_DEFAULTS[text.lower()]
    scheme = scheme_of(text)
    if scheme not in TARGET_CLASSES:
        shown = redact(text) if scheme else text
        raise UsageError(f"unknown target {shown!r}: expected {ACCEPTED_FORMS}")
    return text


def open_target(url_or_type: str | None = None, **settings: Unpack[TargetSettings]
                ) -> BaseTarget:
    """The target for ``url_or_type``, ready for the runner (not yet connected).

    Args:
        url_or_type: a target URL, a bare type name, or None for ``DEFAULT_TARGET_URL``.
        settings: ``TargetSettings``, as ``BaseTarget`` takes them: ``mode``
            (``"replace"``: tables end up holding exactly this run's rows;
            ``"append"``: upsert by primary key, files are extended),
            ``constraints`` (``"after_load"`` or ``"immediate"``; only PostgreSQL
            defers keys), ``partition`` (``(index, count)`` or an object with both;
            None is the whole run), ``options`` (the extra keys of the Genfile's
            ``[target]``), ``seed`` (which some targets write beside the rows),
            ``may_empty`` (tables outside the run that emptying its tables may empty).

    Raises:
        UsageError: the URL, mode, constraints, partition or an option is wrong.
    """
    url = resolve_url(url_or_type)
    return TARGET_CLASSES[scheme_of(url)](url, **settings)

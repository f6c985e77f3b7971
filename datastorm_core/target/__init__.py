"""Targets: where generated rows go (PostgreSQL, sqlite, CSV, JSON Lines, Parquet, console).

Every target implements ``core.protocols.Target`` through ``BaseTarget``;
``open_target`` maps a URL to one. Encoding lives in ``target.encode`` and
does no I/O.
"""

from __future__ import annotations

from datastorm_core.target.base import BaseTarget, TargetPartition
from datastorm_core.target.console import ConsoleTarget
from datastorm_core.target.files import CsvTarget, JsonlTarget
from datastorm_core.target.parquet import ParquetTarget
from datastorm_core.target.postgres import PostgresTarget
from datastorm_core.target.registry import (
    DEFAULT_TARGET_URL,
    open_target,
    redact,
    resolve_url,
)
from datastorm_core.target.sqlite import SqliteTarget

__all__ = [
    "DEFAULT_TARGET_URL",
    "BaseTarget",
    "ConsoleTarget",
    "CsvTarget",
    "JsonlTarget",
    "ParquetTarget",
    "PostgresTarget",
    "SqliteTarget",
    "TargetPartition",
    "open_target",
    "redact",
    "resolve_url",
]

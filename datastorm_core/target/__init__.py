"""Targets: where generated rows go (PostgreSQL, sqlite, CSV, JSON Lines, Parquet, console).

Every target implements ``core.protocols.Target`` through ``BaseTarget``;
``open_target`` maps a URL to one. Encoding lives in ``target.encode`` and
does no I/O.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from datastorm_core.target.base import BaseTarget, TargetPartition
from datastorm_core.target.registry import (
    DEFAULT_TARGET_URL,
    open_target,
    redact,
    resolve_url,
)

if TYPE_CHECKING:
    from datastorm_core.target.console import ConsoleTarget
    from datastorm_core.target.files import CsvTarget, JsonlTarget
    from datastorm_core.target.parquet import ParquetTarget
    from datastorm_core.target.postgres import PostgresTarget
    from datastorm_core.target.sqlite import SqliteTarget

# Imported when first named: a run loads its own target's driver only (registry.py).
_LAZY = {"ConsoleTarget": "datastorm_core.target.console",
         "CsvTarget": "datastorm_core.target.files",
         "JsonlTarget": "datastorm_core.target.files",
         "ParquetTarget": "datastorm_core.target.parquet",
         "PostgresTarget": "datastorm_core.target.postgres",
         "SqliteTarget": "datastorm_core.target.sqlite"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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

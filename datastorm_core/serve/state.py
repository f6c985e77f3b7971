"""What the routes share, held by the application: the tables, the settings, the status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from datastorm_core.serve.limits import ServeSettings
from datastorm_core.serve.registry import StatusRegistry
from datastorm_core.serve.tables import ServedTables

__all__ = ["ServeState", "state_of"]


@dataclass
class ServeState:
    tables: ServedTables
    settings: ServeSettings
    registry: StatusRegistry
    target: str | None = None  # the target URL, redacted, for /status
    exports: Any = None  # the export queue (exports.ExportQueue), when exports are served
    exports_unavailable: str = "the Genfile declares none"  # why not, when not


def state_of(request: Request) -> ServeState:
    """The application's shared state (a FastAPI dependency)."""
    return request.app.state.serve  # type: ignore[no-any-return]

"""Errors of exports: a request the Genfile cannot serve, a queue that is full."""

from __future__ import annotations

from datastorm_core.errors import RunError, UserError

__all__ = ["ExportError", "ExportFailed", "QueueFull", "UnknownExport"]


class ExportError(UserError):
    """A request for an export the Genfile cannot serve: bad parameters (exit 2; HTTP 400)."""


class UnknownExport(ExportError):
    """No export of that name in the Genfile (HTTP 404)."""


class ExportFailed(RunError):
    """The export's query or its file failed while running (exit 1); nothing was kept."""


class QueueFull(RunError):
    """The bounded queue holds as many exports as it may: retry later (HTTP 429)."""

"""Exports: the Genfile's named SQL reports written to CSV, JSONL or Parquet files in
constant memory, run by ``datastorm export``, by queues of workers and by Dagster."""

from __future__ import annotations

from datastorm_core.exports.errors import ExportError, ExportFailed, QueueFull, UnknownExport
from datastorm_core.exports.queue import STATES, ExportQueue, ExportStatus, open_queue

__all__ = [
    "STATES",
    "ExportError",
    "ExportFailed",
    "ExportQueue",
    "ExportStatus",
    "QueueFull",
    "UnknownExport",
    "open_queue",
]

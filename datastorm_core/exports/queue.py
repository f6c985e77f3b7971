"""The export queue: requests accepted at once, run by workers, followed by task id.

``open_queue`` gives the in-process queue (a bounded queue and N threads) or,
for a ``redis://`` URL, the Redis queue that ``datastorm worker`` processes on
any machine take from. Both validate a request (the export exists, its
parameters have their types) before queueing it, and choose the file name
themselves (``<task id>.<format>`` under ``out_dir``): no path ever comes from
a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from datastorm_core.exports.files import EXTENSIONS
from datastorm_core.genfile.model import Genfile

__all__ = ["STATES", "ExportQueue", "ExportStatus", "open_queue", "task_file"]

STATES = ("queued", "running", "done", "failed")


@dataclass
class ExportStatus:
    """One export request and what became of it."""

    id: str
    export: str
    params: dict[str, Any]
    status: str = "queued"  # one of STATES
    rows: int | None = None
    bytes: int | None = None
    seconds: float | None = None
    error: str | None = None
    path: str | None = field(default=None, repr=False)  # server-side; never sent to clients
    created: float | None = None  # Unix times
    started: float | None = None
    finished: float | None = None
    worker: str | None = None  # who runs (ran) it

    def to_json(self) -> dict[str, Any]:
        """The status for an API client: no server path."""
        data = asdict(self)
        data.pop("path")
        return data


class ExportQueue(Protocol):
    def submit(self, name: str, params: Mapping[str, object]) -> str:
        """Queue export ``name`` with ``params``; its task id. ExportError (UnknownExport)
        for an unknown export or bad parameters, checked before queueing; QueueFull when
        the queue holds its maximum."""
        ...

    def status(self, task_id: str) -> ExportStatus | None:
        """The task's status; None for an id never submitted (or forgotten)."""
        ...

    def counts(self) -> dict[str, int]:
        """Tasks by state, every state of STATES present."""
        ...

    def close(self) -> None:
        """Stop taking tasks and release threads and connections."""
        ...


def task_file(out_dir: Path, task_id: str, fmt: str) -> Path:
    """Where a task's file goes: chosen here from the id, which the queue made."""
    return out_dir / f"{task_id}.{EXTENSIONS[fmt]}"


def open_queue(
    genfile: Genfile,
    target_url: str | None,
    queue_url: str | None,
    out_dir: Path,
    workers: int = 2,
    max_queued: int = 100,
    statement_timeout: float | None = None,
) -> ExportQueue:
    """The in-process queue (``queue_url`` None) with ``workers`` threads, or the Redis
    queue of ``queue_url`` (``redis://host:6379/0``), whose workers are ``datastorm
    worker`` processes (``workers`` is then unused). ``target_url`` None: the Genfile's
    [target]."""
    from datastorm_core.exports.runner import export_url

    url = export_url(genfile, target_url)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if queue_url is None:
        from datastorm_core.exports.local_queue import LocalQueue

        return LocalQueue(genfile, url, out_dir, workers=workers, max_queued=max_queued,
                          statement_timeout=statement_timeout)
    from datastorm_core.exports.redis_queue import RedisQueue

    return RedisQueue(genfile, queue_url, out_dir, max_queued=max_queued)

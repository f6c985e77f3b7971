"""The in-process export queue: a bounded queue and N worker threads."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from datastorm_core.errors import DatastormError
from datastorm_core.exports.errors import QueueFull
from datastorm_core.exports.params import bind_params, find_export
from datastorm_core.exports.queue import STATES, ExportStatus, task_file
from datastorm_core.exports.runner import run_export
from datastorm_core.genfile.model import Genfile
from datastorm_core.secrets import scrub

__all__ = ["LocalQueue"]


class LocalQueue:
    """Tasks in memory (lost with the process), run by ``workers`` daemon threads."""

    def __init__(self, genfile: Genfile, url: str, out_dir: Path, workers: int = 2,
                 max_queued: int = 100, statement_timeout: float | None = None) -> None:
        self._genfile, self._url, self._out_dir = genfile, url, out_dir
        self._timeout = statement_timeout
        self._pending: queue.Queue[str | None] = queue.Queue(maxsize=max(1, max_queued))
        self._tasks: dict[str, ExportStatus] = {}
        self._values: dict[str, dict[str, object]] = {}
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=f"datastorm-export-{n}",
                                          daemon=True) for n in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, name: str, params: Mapping[str, object]) -> str:
        export = find_export(self._genfile, name)
        values = bind_params(export, params)
        task_id = uuid.uuid4().hex
        status = ExportStatus(id=task_id, export=name, params=dict(params),
                              created=time.time())
        with self._lock:
            self._tasks[task_id] = status
            self._values[task_id] = values
        try:
            self._pending.put_nowait(task_id)
        except queue.Full:
            with self._lock:
                del self._tasks[task_id], self._values[task_id]
            raise QueueFull(f"the export queue holds its maximum of {self._pending.maxsize} "
                            "waiting exports; retry later") from None
        return task_id

    def status(self, task_id: str) -> ExportStatus | None:
        with self._lock:
            status = self._tasks.get(task_id)
            return replace(status, params=dict(status.params)) if status else None

    def counts(self) -> dict[str, int]:
        with self._lock:
            counts = dict.fromkeys(STATES, 0)
            for status in self._tasks.values():
                counts[status.status] += 1
            return counts

    def close(self) -> None:
        """Workers stop after their current export; waiting exports are failed."""
        with self._lock:
            for status in self._tasks.values():
                if status.status == "queued":
                    status.status, status.error = "failed", "the server stopped before it ran"
                    status.finished = time.time()
        for _ in self._threads:
            while True:
                try:
                    self._pending.put_nowait(None)
                    break
                except queue.Full:  # make room: the waiting tasks are failed already
                    with contextlib.suppress(queue.Empty):
                        self._pending.get_nowait()
        for thread in self._threads:
            thread.join(timeout=1)

    def _work(self) -> None:
        while (task_id := self._pending.get()) is not None:
            with self._lock:
                status = self._tasks[task_id]
                if status.status != "queued":
                    continue
                status.status, status.started = "running", time.time()
                status.worker = threading.current_thread().name
                values = self._values.pop(task_id)
            export = self._genfile.exports[status.export]
            path = task_file(self._out_dir, task_id, export.format)
            try:
                result = run_export(export, values, self._url, path,
                                    statement_timeout=self._timeout)
            except DatastormError as exc:
                self._finish(task_id, error=str(exc))
            except Exception as exc:  # a bug must not kill the worker thread
                self._finish(task_id, error=scrub(f"internal error: {type(exc).__name__}: "
                                                  f"{exc}"))
            else:
                self._finish(task_id, rows=result.rows, size=result.bytes,
                             seconds=result.seconds, path=str(result.path))

    def _finish(self, task_id: str, error: str | None = None, rows: int | None = None,
                size: int | None = None, seconds: float | None = None,
                path: str | None = None) -> None:
        with self._lock:
            status = self._tasks[task_id]
            status.status = "failed" if error else "done"
            status.error, status.rows, status.bytes = error, rows, size
            status.seconds, status.path, status.finished = seconds, path, time.time()

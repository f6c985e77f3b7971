"""The Redis export queue: requests in a Redis list, taken by ``datastorm worker``
processes on any machine, each task's state in a Redis hash.

Keys, under a prefix (``datastorm:exports``, or ``?prefix=`` in the URL)::

    P:queue            list   task ids waiting (LPUSH by submit)
    P:running:<worker> list   ids a worker took: BLMOVE from P:queue, atomically,
                              so a task is always in one list or finished
    P:task:<id>        hash   export, params (JSON), status, rows, bytes, seconds,
                              error, path, part, created, started, finished, worker
    P:state:<status>   set    ids by status (``counts``)
    P:workers          set    worker ids that may hold tasks
    P:alive:<worker>   string the worker's heartbeat, with a TTL it renews

A worker that dies (SIGKILL, a lost machine) stops renewing its heartbeat; once
the key expires, whoever reaps next (a worker between tasks, or the submitting
side asking for a status) pops each id of its running list, marks the task
failed and removes its partial file. Popping is atomic, so a task is reaped
once; a task is never left "running" with no live worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis

from datastorm_core.errors import DatastormError
from datastorm_core.exports.errors import ExportError, QueueFull
from datastorm_core.exports.files import part_path
from datastorm_core.exports.params import bind_params, find_export
from datastorm_core.exports.queue import STATES, ExportStatus, task_file
from datastorm_core.exports.runner import run_export
from datastorm_core.genfile.model import Genfile
from datastorm_core.secrets import remember, scrub
from datastorm_core.target.urls import redact

__all__ = ["DEFAULT_HEARTBEAT", "DEFAULT_PREFIX", "RedisQueue", "RedisWorker", "connect"]

DEFAULT_PREFIX = "datastorm:exports"
DEFAULT_HEARTBEAT = 15.0  # seconds a worker's heartbeat lives unless renewed
_REAP_EVERY = 1.0  # seconds between two reaps by the same process
_TAKE_TIMEOUT = 1.0  # seconds a worker thread blocks on the queue before looking up


def connect(url: str, prefix: str | None = None) -> tuple[redis.Redis, str]:
    """A Redis client for ``url`` and the key prefix (``prefix``, else the URL's
    ``?prefix=``, else the default); ExportError when it cannot be reached."""
    remember(url)
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ExportError(f"--queue must be a redis:// URL, e.g. redis://localhost:6379/0, "
                          f"got {redact(url)}")
    query = parse_qsl(parts.query)
    found = [v for k, v in query if k == "prefix"]
    rest = urlunsplit(parts._replace(query=urlencode([(k, v) for k, v in query
                                                      if k != "prefix"])))
    client = redis.Redis.from_url(rest, decode_responses=True, socket_timeout=30,
                                  health_check_interval=30)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ExportError(scrub(f"cannot reach the queue at {redact(url)}: {exc}")) from exc
    return client, prefix or (found[0] if found else DEFAULT_PREFIX)


class _Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.queue = f"{prefix}:queue"
        self.workers = f"{prefix}:workers"

    def task(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}"

    def state(self, status: str) -> str:
        return f"{self.prefix}:state:{status}"

    def running(self, worker: str) -> str:
        return f"{self.prefix}:running:{worker}"

    def alive(self, worker: str) -> str:
        return f"{self.prefix}:alive:{worker}"


class _Store:
    """The task hashes and state sets, shared by the queue and its workers."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r, self.keys = client, _Keys(prefix)
        self._last_reap = 0.0

    def move(self, task_id: str, status: str, **fields: Any) -> None:
        """Set the task's status (and fields) and move it to that state's set, at once."""
        values = {k: ("" if v is None else v) for k, v in fields.items()}
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.task(task_id), mapping={"status": status, **values})
            for other in STATES:
                if other != status:
                    pipe.srem(self.keys.state(other), task_id)
            pipe.sadd(self.keys.state(status), task_id)
            pipe.execute()

    def status(self, task_id: str) -> ExportStatus | None:
        data = self.r.hgetall(self.keys.task(task_id))
        if not data:
            return None

        def number(key: str, kind: Callable[[str], Any]) -> Any:
            return kind(data[key]) if data.get(key) else None

        return ExportStatus(
            id=task_id, export=data.get("export", ""),
            params=json.loads(data.get("params") or "{}"), status=data.get("status", "queued"),
            rows=number("rows", int), bytes=number("bytes", int),
            seconds=number("seconds", float), error=data.get("error") or None,
            path=data.get("path") or None, created=number("created", float),
            started=number("started", float), finished=number("finished", float),
            worker=data.get("worker") or None)

    def reap(self, force: bool = False) -> int:
        """Fail the tasks of workers whose heartbeat expired; how many were failed."""
        now = time.monotonic()
        if not force and now - self._last_reap < _REAP_EVERY:
            return 0
        self._last_reap = now
        failed = 0
        for worker in self.r.smembers(self.keys.workers):
            if self.r.exists(self.keys.alive(worker)):
                continue
            # RPOP is atomic: of two reapers, one gets each id.
            while (task_id := self.r.rpop(self.keys.running(worker))) is not None:
                part = self.r.hget(self.keys.task(task_id), "part")
                if part:  # the dead worker's partial file, when this machine sees it
                    with contextlib.suppress(OSError):
                        Path(part).unlink()
                self.move(task_id, "failed", finished=time.time(),
                          error=f"the worker {worker} stopped while running the export "
                                "(its heartbeat expired); nothing was kept")
                failed += 1
            self.r.srem(self.keys.workers, worker)
        return failed


class RedisQueue:
    """The submitting side: queue requests, read their states."""

    def __init__(self, genfile: Genfile, queue_url: str, out_dir: Path,
                 max_queued: int = 100, prefix: str | None = None) -> None:
        self._genfile, self._out_dir, self._max = genfile, out_dir, max(1, max_queued)
        client, prefix = connect(queue_url, prefix)
        self._store = _Store(client, prefix)

    def submit(self, name: str, params: Mapping[str, object]) -> str:
        export = find_export(self._genfile, name)
        bind_params(export, params)  # refused here, before it is queued
        try:
            encoded = json.dumps(dict(params))
        except (TypeError, ValueError) as exc:
            raise ExportError(f"export {name!r}: parameters must be JSON values: {exc}") \
                from None
        store = self._store
        if store.r.llen(store.keys.queue) >= self._max:
            raise QueueFull(f"the export queue holds its maximum of {self._max} waiting "
                            "exports; retry later")
        task_id = uuid.uuid4().hex
        store.move(task_id, "queued", id=task_id, export=name, params=encoded,
                   created=time.time())
        store.r.lpush(store.keys.queue, task_id)
        return task_id

    def status(self, task_id: str) -> ExportStatus | None:
        self._store.reap()
        return self._store.status(task_id)

    def counts(self) -> dict[str, int]:
        self._store.reap()
        return {s: int(self._store.r.scard(self._store.keys.state(s))) for s in STATES}

    def close(self) -> None:
        self._store.r.close()


class RedisWorker:
    """A worker process's side: ``threads`` threads take tasks and run them.

    ``run`` returns when ``stop`` is set (a signal) or after ``max_tasks``; tasks
    still running then are put back at the head of the queue, their partial files
    removed.
    """

    def __init__(self, genfile: Genfile, url: str, queue_url: str, out_dir: Path,
                 threads: int = 1, heartbeat: float = DEFAULT_HEARTBEAT,
                 prefix: str | None = None, statement_timeout: float | None = None,
                 log: Callable[[str], None] = lambda _: None) -> None:
        self._genfile, self._url, self._out_dir = genfile, url, out_dir
        self._threads, self._heartbeat, self._timeout = max(1, threads), heartbeat, \
            statement_timeout
        self._queue_url, self._prefix, self._log = queue_url, prefix, log
        client, prefix = connect(queue_url, prefix)
        self._store = _Store(client, prefix)
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stop = threading.Event()
        self.done = 0
        self._count = threading.Lock()
        self._parts: dict[str, Path] = {}
        self._max_tasks: int | None = None

    def run(self, max_tasks: int | None = None) -> int:
        """Take and run tasks until stopped; how many this worker finished."""
        self._max_tasks = max_tasks
        self._beat()
        threads = [threading.Thread(target=self._work, name=f"datastorm-worker-{n}",
                                    daemon=True) for n in range(self._threads)]
        for thread in threads:
            thread.start()
        try:
            while not self.stop.wait(self._heartbeat / 3):
                self._beat()
                if not any(t.is_alive() for t in threads):
                    break
        finally:
            self.stop.set()
            # Threads waiting on the queue return within BLMOVE's timeout; those in an
            # export do not, and their tasks are given back.
            for thread in threads:
                thread.join(timeout=_TAKE_TIMEOUT + 0.5)
            self._give_back()
        return self.done

    def _beat(self) -> None:
        keys = self._store.keys
        with self._store.r.pipeline(transaction=True) as pipe:
            pipe.set(keys.alive(self.id), "1", px=max(1, int(self._heartbeat * 1000)))
            pipe.sadd(keys.workers, self.id)  # again, should a reaper have judged it dead
            pipe.execute()

    def _give_back(self) -> None:
        """Stopped: requeue the tasks still in flight, remove their partial files and
        unregister. The threads die with the process, their queries with it."""
        keys, r = self._store.keys, self._store.r
        while (task_id := r.rpop(keys.running(self.id))) is not None:
            part = self._parts.get(task_id)
            if part is not None:
                with contextlib.suppress(OSError):
                    part.unlink()
            self._store.move(task_id, "queued", started="", worker="")
            r.rpush(keys.queue, task_id)  # the head: BLMOVE takes from the right
            self._log(f"put back {task_id}")
        r.delete(keys.alive(self.id))
        r.srem(keys.workers, self.id)

    def _work(self) -> None:
        store = self._store
        keys = store.keys
        while not self.stop.is_set():
            with self._count:
                if self._max_tasks is not None and self.done >= self._max_tasks:
                    self.stop.set()
                    return
            store.reap()
            try:
                task_id = store.r.blmove(keys.queue, keys.running(self.id), _TAKE_TIMEOUT,
                                         "RIGHT", "LEFT")
            except redis.RedisError as exc:
                self._log(scrub(f"queue unreachable: {exc}; retrying"))
                self.stop.wait(1.0)
                continue
            if task_id is not None and self.stop.is_set():  # taken as the worker stops
                with store.r.pipeline(transaction=True) as pipe:
                    pipe.lrem(keys.running(self.id), 1, task_id)
                    pipe.rpush(keys.queue, task_id)
                    pipe.execute()
            elif task_id is not None:
                self._run(task_id)

    def _run(self, task_id: str) -> None:
        store, keys = self._store, self._store.keys
        status = store.status(task_id)
        if status is None or status.status != "queued":  # reaped meanwhile, or gone
            store.r.lrem(keys.running(self.id), 1, task_id)
            return
        outcome: dict[str, Any]
        path = part = None
        try:
            export = find_export(self._genfile, status.export)
            values = bind_params(export, status.params)
            path = task_file(self._out_dir, task_id, export.format)
            part = part_path(path, unique=False)
            self._parts[task_id] = part
            store.move(task_id, "running", started=time.time(), worker=self.id,
                       part=str(part.resolve()))
            self._log(f"running {task_id} ({status.export})")
            result = run_export(export, values, self._url, path, part=part,
                                statement_timeout=self._timeout)
            outcome = {"status": "done", "rows": result.rows, "bytes": result.bytes,
                       "seconds": result.seconds, "path": str(result.path.resolve())}
        except DatastormError as exc:
            outcome = {"status": "failed", "error": str(exc)}
        except Exception as exc:  # a bug must not kill the worker thread
            outcome = {"status": "failed",
                       "error": scrub(f"internal error: {type(exc).__name__}: {exc}")}
        finally:
            self._parts.pop(task_id, None)
        if self.stop.is_set() and outcome["status"] == "failed":
            return  # stopped mid-export: _give_back requeues it
        # Still ours? A reaper that took this worker for dead has failed the task.
        if not store.r.lrem(keys.running(self.id), 1, task_id):
            if path is not None and outcome["status"] == "done":
                with contextlib.suppress(OSError):
                    path.unlink()
            return
        status_name = outcome.pop("status")
        store.move(task_id, status_name, finished=time.time(), part="", **outcome)
        self._log(f"{status_name} {task_id}")
        with self._count:
            self.done += 1

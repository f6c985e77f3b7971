"""The export queues: in-process threads, and Redis with ``datastorm worker`` processes
(the real Redis on 127.0.0.1:6379, each test under its own key prefix)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from e2e_support import WAIT_SECONDS, start_cli

from datastorm_core.exports import ExportError, QueueFull, UnknownExport, open_queue
from datastorm_core.exports.queue import ExportQueue, ExportStatus
from datastorm_core.loading import load_genfile

pytestmark = pytest.mark.postgres

REDIS = "redis://127.0.0.1:6379/0"


def _wait(what: str, check: Callable[[], bool], seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _finished(queue: ExportQueue, task_id: str) -> ExportStatus:
    holder: list[ExportStatus] = []

    def ended() -> bool:
        status = queue.status(task_id)
        assert status is not None
        holder[:] = [status]
        return status.status in ("done", "failed")

    _wait(f"task {task_id}", ended)
    return holder[0]


def _csv_rows(path: str | None) -> list[str]:
    assert path is not None
    return Path(path).read_text(encoding="utf-8").splitlines()


def test_the_in_process_queue_runs_exports_and_reports_them(shop: tuple[str, str],
                                                            out_dir: Path) -> None:
    genfile_path, url = shop
    genfile = load_genfile(genfile_path, target_overridden=True)
    queue = open_queue(genfile, url, None, out_dir, workers=2, max_queued=10)
    try:
        ids = {state: queue.submit("by_state", {"state": state}) for state in ("SP", "RJ")}
        jsonl = queue.submit("by_state_jsonl", {"state": "MG", "after": "100"})
        for state, task_id in ids.items():
            status = _finished(queue, task_id)
            assert status.status == "done", status.error
            rows = _csv_rows(status.path)
            assert status.rows == len(rows) - 1 > 0
            assert all(f",{state}," in row for row in rows[1:])
            assert status.bytes == Path(status.path or "").stat().st_size
            assert Path(status.path or "").parent == out_dir and task_id in (status.path or "")
            shown = status.to_json()
            assert "path" not in shown and shown["status"] == "done"
            assert shown["params"] == {"state": state} and shown["rows"] == status.rows
        assert _finished(queue, jsonl).status == "done"
        assert queue.counts() == {"queued": 0, "running": 0, "done": 3, "failed": 0}
        assert queue.status("no-such-task") is None
        with pytest.raises(UnknownExport, match="no export named 'nope'"):
            queue.submit("nope", {})
        with pytest.raises(ExportError, match="parameter 'state' \\(text\\) is required"):
            queue.submit("by_state", {})
        with pytest.raises(ExportError, match="must be an integer"):
            queue.submit("by_state_jsonl", {"state": "SP", "after": [1]})
    finally:
        queue.close()


def test_the_in_process_queue_is_bounded(shop: tuple[str, str], out_dir: Path) -> None:
    genfile_path, url = shop
    genfile = load_genfile(genfile_path, target_overridden=True)
    queue = open_queue(genfile, url, None, out_dir, workers=1, max_queued=1)
    try:
        busy = queue.submit("slow", {"seconds": 0.5})
        _wait("the worker to take the slow export",
              lambda: queue.status(busy).status == "running")  # type: ignore[union-attr]
        waiting = queue.submit("slow", {"seconds": 0})
        with pytest.raises(QueueFull):
            queue.submit("slow", {"seconds": 0})
        assert queue.counts()["queued"] == 1
        assert _finished(queue, waiting).status == "done"
    finally:
        queue.close()


@pytest.fixture
def workers(shop: tuple[str, str], out_dir: Path,
            redis_prefix: str) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``datastorm worker`` processes on the test's queue; stopped after."""
    genfile, url = shop
    started: list[subprocess.Popen[str]] = []

    def start(*extra: str) -> subprocess.Popen[str]:
        process = start_cli("worker", genfile, "--queue", f"{REDIS}?prefix={redis_prefix}",
                            "--target", url, "--out-dir", str(out_dir), *extra)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.communicate(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_two_workers_share_a_redis_queue_and_run_each_export_once(
        shop: tuple[str, str], out_dir: Path, redis_prefix: str,
        workers: Callable[..., subprocess.Popen[str]]) -> None:
    genfile_path, url = shop
    genfile = load_genfile(genfile_path, target_overridden=True)
    queue = open_queue(genfile, url, f"{REDIS}?prefix={redis_prefix}", out_dir)
    first, second = workers(), workers("--threads", "2")
    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    # Both up (registered, blocked on the queue) before the exports come, so both take some.
    _wait("both workers", lambda: client.scard(f"{redis_prefix}:workers") == 2)
    client.close()
    try:
        states = ["SP", "RJ", "MG", "BA"] * 5
        ids = [queue.submit("by_state", {"state": s}) for s in states]
        _wait("20 exports done", lambda: queue.counts()["done"] == 20)
        assert queue.counts() == {"queued": 0, "running": 0, "done": 20, "failed": 0}
        for task_id, state in zip(ids, states, strict=True):
            status = queue.status(task_id)
            assert status is not None and status.status == "done"
            rows = _csv_rows(status.path)
            assert status.rows == len(rows) - 1 > 0 and all(f",{state}," in r for r in rows[1:])
        assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{i}.csv" for i in ids)
    finally:
        queue.close()
    runs: list[str] = []
    by_worker = []
    for process in (first, second):
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=WAIT_SECONDS)
        assert process.returncode == 0, err
        ran = re.findall(r"running ([0-9a-f]{32})", out)
        by_worker.append(ran)
        runs += ran
    assert sorted(runs) == sorted(ids)  # each export ran exactly once, by one worker
    assert all(by_worker), by_worker  # and both workers took some


def test_a_killed_workers_export_is_failed_and_leaves_no_file(
        shop: tuple[str, str], out_dir: Path, redis_prefix: str,
        workers: Callable[..., subprocess.Popen[str]]) -> None:
    genfile_path, url = shop
    genfile = load_genfile(genfile_path, target_overridden=True)
    queue = open_queue(genfile, url, f"{REDIS}?prefix={redis_prefix}", out_dir)
    try:
        doomed = workers("--heartbeat", "1")
        slow = queue.submit("slow", {"seconds": 20})
        _wait("the slow export to run",
              lambda: queue.status(slow).status == "running")  # type: ignore[union-attr]
        assert [p.name for p in out_dir.iterdir()] == [f".{slow}.csv.part"]
        # Alive, it keeps its task through several heartbeat TTLs of a query that
        # sends nothing (the reaper runs on every status()): a blocked export must
        # not starve its heartbeat.
        alive_until = time.monotonic() + 2.5
        while time.monotonic() < alive_until:
            assert queue.status(slow).status == "running"  # type: ignore[union-attr]
            time.sleep(0.1)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.communicate(timeout=WAIT_SECONDS)
        status = _finished(queue, slow)  # the submitting side reaps on status()
        assert status.status == "failed"
        assert "heartbeat expired" in (status.error or "")
        assert list(out_dir.iterdir()) == []  # neither the file nor its partial one
        # Another worker goes on with the queue; the dead one's task is not run again.
        workers()
        after = queue.submit("by_state", {"state": "BA"})
        assert _finished(queue, after).status == "done"
        assert queue.status(slow).status == "failed"  # type: ignore[union-attr]
        assert queue.counts() == {"queued": 0, "running": 0, "done": 1, "failed": 1}
    finally:
        queue.close()


def test_a_stopped_worker_puts_its_export_back_for_another(
        shop: tuple[str, str], out_dir: Path, redis_prefix: str,
        workers: Callable[..., subprocess.Popen[str]]) -> None:
    genfile_path, url = shop
    genfile = load_genfile(genfile_path, target_overridden=True)
    queue = open_queue(genfile, url, f"{REDIS}?prefix={redis_prefix}", out_dir)
    try:
        stopping = workers()
        # Longer than a stopping worker waits for its threads (1.5 s): given back.
        task = queue.submit("slow", {"seconds": 3})
        _wait("the export to run",
              lambda: queue.status(task).status == "running")  # type: ignore[union-attr]
        stopping.send_signal(signal.SIGTERM)  # docker stop, a scale-down
        out, err = stopping.communicate(timeout=WAIT_SECONDS)
        assert stopping.returncode == 0, err
        assert f"put back {task}" in out
        assert queue.status(task).status == "queued"  # type: ignore[union-attr]
        assert list(out_dir.iterdir()) == []  # its partial file went with it
        workers()
        status = _finished(queue, task)
        assert status.status == "done", status.error
        assert [p.name for p in out_dir.iterdir()] == [f"{task}.csv"]
        rows = _csv_rows(status.path)
        assert rows[0] == "slept,one" and len(rows) == 2 and rows[1].endswith(",1")
    finally:
        queue.close()

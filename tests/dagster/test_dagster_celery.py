"""Partitions on Dagster's Celery executor: two real workers on the local Redis.

The workers are ``dagster-celery worker start`` processes started in another
directory than the code location, as on other machines: each step loads the
code location again, finds its Genfile and target from the environment, and
writes one partition of one table. Nothing here mocks Dagster or Celery.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster_support import (
    LAUNCH_RUNS,
    REPO,
    copy_genfile,
    edit_genfile,
    edit_table,
    fingerprint,
    metadata_value,
    query,
    row_count,
    run_partitions,
    scalar,
)

from datastorm_core.genfile import load_genfile
from datastorm_core.run import RunOptions, run
from datastorm_core.tables import Partition, row_range

pytest.importorskip("dagster_celery", reason="pip install 'datastorm[scale]'")

REDIS_URL = os.environ.get("DATASTORM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PARTITIONS = ("0", "1", "2", "3")
TABLES = ("customer", "account")
WORKER_READY_SECONDS = 60
RUN_SECONDS = 90
BIN = Path(sys.executable).parent

def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _redis_up() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379),
                                      timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS_URL} (set DATASTORM_TEST_REDIS_URL)")
    return REDIS_URL


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a worker by its pid: its process group (the Celery process it started too)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        except ProcessLookupError:
            pass


def _children(pid: int) -> set[int]:
    """Pids of the direct children of ``pid`` (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text(encoding="ascii")
        found.update(int(p) for p in text.split())
    return found


@pytest.fixture
def celery_deployment(tmp_path: Path, redis_url: str, pg_url: str,
                      fresh_database: Callable[[], str]
                      ) -> Iterator[tuple[dict[str, str], dict[str, int], Path]]:
    """Two Celery workers, started in ``elsewhere/``, for the code location
    ``project/``: (environment, {worker name: pid running its steps}, project)."""
    project, home, elsewhere = (tmp_path / n for n in ("project", "home", "elsewhere"))
    for directory in (project, home, elsewhere):
        directory.mkdir()
    copy_genfile(project, "tiny.toml", partitions=len(PARTITIONS))
    queue = f"datastorm-test-{uuid.uuid4().hex[:8]}"  # others may share the Redis
    config = home / "celery.yaml"
    config.write_text(json.dumps({"execution": {"config": {
        "broker": redis_url, "backend": redis_url,
        "config_source": {"task_default_queue": queue}}}}), encoding="utf-8")
    # Dagster's storage in PostgreSQL (dagster-postgres), as deployed: runs launched at
    # once from several processes write their events together, which SQLite files
    # answer with "database is locked". psycopg2, as docker/dagster.yaml: dagster-postgres
    # sends NOTIFY with parameters psycopg 3 binds on the server.
    (home / "dagster.yaml").write_text(json.dumps({
        "telemetry": {"enabled": False},
        "storage": {"postgres": {"postgres_url": fresh_database().replace(
            "postgresql://", "postgresql+psycopg2://", 1)}}}), encoding="utf-8")
    env = {**os.environ, "DAGSTER_HOME": str(home),
           # dagster-celery starts `celery` from the PATH: this environment's.
           "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           # Relative on purpose: resolved against the code location, not elsewhere/.
           "DATASTORM_GENFILE": "Genfile.toml", "DATASTORM_TARGET": pg_url,
           "DATASTORM_EXECUTOR": "celery", "DATASTORM_CELERY_BROKER": redis_url,
           "DATASTORM_CELERY_BACKEND": redis_url, "DATASTORM_CELERY_QUEUE": queue}
    # The instance's storage made once here: two workers creating it at once race.
    dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))).dispose()
    workers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in ("one", "two"):
            log = (home / f"{name}.log").open("wb")
            # The solo pool runs each step in the worker's Celery process itself, one
            # at a time: a worker is one pid, and both must take turns.
            workers[name] = subprocess.Popen(
                [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                 "-y", str(config), "-q", queue, "-n", f"{name}-{queue}", "--",
                 "--pool=solo"],
                cwd=elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + WORKER_READY_SECONDS
        while not all(b" ready." in (home / f"{n}.log").read_bytes() for n in workers):
            failed = {n: p.returncode for n, p in workers.items() if p.poll() is not None}
            assert not failed and time.monotonic() < deadline, (
                failed, {n: (home / f"{n}.log").read_text(errors="replace")[-2000:]
                         for n in workers})
            time.sleep(0.5)
        pids = {}
        for name, process in workers.items():
            (pid,) = _children(process.pid)  # the celery worker dagster-celery started
            pids[name] = pid
        yield env, pids, project
    finally:
        for process in workers.values():
            _stop(process)


@pytest.mark.postgres
def test_partitions_run_on_two_celery_workers_and_add_up_to_one_run(
        celery_deployment: tuple[dict[str, str], dict[str, int], Path], pg_url: str,
        fresh_database) -> None:
    env, pids, project = celery_deployment
    # Every partition's run launched at once, from a process each (as a backfill does):
    # their steps wait in the queue together, and a worker runs one step at a time, so
    # both workers take some, and partitions of one table load at the same time. (One
    # run after another, an idle worker could be handed every step.)
    launchers = [_launch(env, project, key) for key in PARTITIONS]
    for launcher in launchers:
        out, err = launcher.communicate(timeout=RUN_SECONDS)
        assert launcher.returncode == 0 and json.loads(out.strip().splitlines()[-1]) == [True], (
            out[-2000:], err[-6000:])

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    ran_on: dict[str, set[str]] = {name: set() for name in pids}
    by_pid = {pid: name for name, pid in pids.items()}
    for table in TABLES:
        records = instance.fetch_materializations(dg.AssetKey(table), limit=100).records
        assert sorted(r.partition_key for r in records) == list(PARTITIONS)
        for record in records:
            metadata = record.asset_materialization.metadata
            pid = metadata_value(metadata["datastorm/worker_pid"])
            # Every step ran on a worker: a pid of one of the two, never the launcher.
            assert pid in by_pid, (table, record.partition_key, pid, pids)
            assert metadata_value(metadata["datastorm/worker_host"]) == socket.gethostname()
            ran_on[by_pid[pid]].add(f"{table}/{record.partition_key}")
    assert all(ran_on.values()), ran_on  # both workers ran some

    whole = fresh_database()
    run(load_genfile(project / "Genfile.toml"), RunOptions(target=whole))
    for table in TABLES:
        assert fingerprint(pg_url, table) == fingerprint(whole, table)


def _launch(env: dict[str, str], project: Path, *keys: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", LAUNCH_RUNS, str(project), *keys], cwd=project,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(what: str, condition: Callable[[], object], seconds: float = RUN_SECONDS
              ) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"never saw {what} within {seconds} s")


@pytest.mark.postgres
def test_a_worker_killed_mid_step_leaves_its_partition_whole_or_empty_and_a_rerun_completes(
        celery_deployment: tuple[dict[str, str], dict[str, int], Path], pg_url: str,
        fresh_database) -> None:
    env, pids, project = celery_deployment
    home = Path(env["DAGSTER_HOME"])
    # Big enough that the COPY of one partition lasts long enough to be caught.
    edit_table(project / "Genfile.toml", "customer", "records = 50", "records = 2000000")
    genfile = load_genfile(project / "Genfile.toml")
    start, stop = row_range(genfile, "customer", Partition(0, len(PARTITIONS)))
    launcher = _launch(env, project, "0")
    try:
        def copying() -> bool:
            return bool(query(pg_url, "SELECT 1 FROM pg_stat_activity WHERE datname = %s "
                              "AND state = 'active' AND query ILIKE 'COPY%%'",
                              (database_name(pg_url),)))

        _wait_for("the partition's COPY", copying)
        # The worker whose log says it received the step is the one writing.
        (running,) = [n for n in pids
                      if b"received" in (home / f"{n}.log").read_bytes()]
        os.kill(pids[running], signal.SIGKILL)
        _wait_for("the killed worker's transaction ended", lambda: not copying(), 30)
        held = (row_count(pg_url, "customer")
                if scalar(pg_url, "SELECT to_regclass('customer') IS NOT NULL") else 0)
        assert held in (0, stop - start)  # all or nothing, never part of it
    finally:
        launcher.kill()  # its run waits for a step no worker will finish
        launcher.communicate()

    survivor = next(n for n in pids if n != running)
    rerun = _launch(env, project, "0")
    out, err = rerun.communicate(timeout=RUN_SECONDS)
    assert rerun.returncode == 0 and json.loads(out.strip().splitlines()[-1]) == [True], (
        err[-4000:])
    records = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))
                                          ).fetch_materializations(dg.AssetKey("customer"),
                                                                   limit=10).records
    assert [metadata_value(r.asset_materialization.metadata["datastorm/worker_pid"])
            for r in records] == [pids[survivor]]
    alone = fresh_database()
    run(genfile, RunOptions(target=alone, tables=["customer"], mode="append",
                            partition=Partition(0, len(PARTITIONS))))
    assert fingerprint(pg_url, "customer") == fingerprint(alone, "customer")


@pytest.mark.postgres
def test_one_fanned_out_materialization_uses_both_workers(
        celery_deployment: tuple[dict[str, str], dict[str, int], Path], pg_url: str,
        fresh_database) -> None:
    env, pids, project = celery_deployment
    genfile = project / "Genfile.toml"
    edit_genfile(genfile, f"partitions = {len(PARTITIONS)}\n", "")
    edit_genfile(genfile, "[dataset]\n", "[dagster]\nfan_out = 4\n\n[dataset]\n")
    edit_table(genfile, "customer", "records = 50", "records = 1000000")
    assert run_partitions(env, project, ["-"], RUN_SECONDS) == [True]

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    (record,) = instance.fetch_materializations(dg.AssetKey("customer"), limit=10).records
    slices = metadata_value(record.asset_materialization.metadata["datastorm/slices"])
    assert len(slices) == 4 and sum(s["rows"] for s in slices) == 1000000
    # One run, its slices spread over both workers (never the launching process)...
    assert {s["worker_pid"] for s in slices} == set(pids.values()), (slices, pids)
    # ... loading the same table at the same time.
    assert any(a["worker_pid"] != b["worker_pid"] and a["started"] < b["ended"]
               and b["started"] < a["ended"] for a in slices for b in slices), slices

    whole = fresh_database()
    run(load_genfile(genfile), RunOptions(target=whole))
    for table in TABLES:
        assert fingerprint(pg_url, table) == fingerprint(whole, table)

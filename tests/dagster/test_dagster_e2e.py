"""End to end: dagster-webserver and dagster-daemon on PostgreSQL storage run the assets.

This is the slow test of the Dagster suite (about a minute: two Dagster
processes start, load the code location, and the daemon launches the run).
It runs in the normal suite; nothing here is mocked.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from dagster_support import REPO, copy_genfile, query, row_count

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.timeout(300),
    # dagster-graphql still calls gql the old way; not ours to fix.
    pytest.mark.filterwarnings("ignore:Using variable_values:DeprecationWarning"),
]

# Bounds, not expectations: loading the code location and launching a run take
# seconds; these only stop a broken setup from hanging the suite.
SERVER_START_SECONDS = 120
RUN_FINISH_SECONDS = 120
STOP_SECONDS = 15
POLL_SECONDS = 0.5


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's own group (code servers, run workers), then SIGKILL it."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_SECONDS)
    # Children may outlive their parent: the group goes in any case.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_SECONDS)


@contextmanager
def _processes() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            process = subprocess.Popen(args, cwd=REPO, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in reversed(started):
            _stop_group(process)


def _tail(*logs: Path) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                     for log in logs if log.exists())


def _storage_environment(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    return {
        "DAGSTER_PG_USERNAME": parts.username or "postgres",
        "DAGSTER_PG_PASSWORD": parts.password or "",
        "DAGSTER_PG_HOST": parts.hostname or "127.0.0.1",
        "DAGSTER_PG_PORT": str(parts.port or 5432),
        "DAGSTER_PG_DB": parts.path.lstrip("/"),
    }


def test_webserver_and_daemon_materialize_every_asset_into_postgres(
        tmp_path: Path, fresh_database) -> None:
    from dagster_graphql import DagsterGraphQLClient

    storage, target = fresh_database(), fresh_database()
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "docker" / "dagster.yaml", home / "dagster.yaml")
    genfile = copy_genfile(tmp_path, "tiny.toml")
    env = {**os.environ, **_storage_environment(storage), "DAGSTER_HOME": str(home),
           "DATASTORM_GENFILE": str(genfile), "DATASTORM_TARGET": target}
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    web_log, daemon_log = tmp_path / "webserver.log", tmp_path / "daemon.log"
    workspace = str(REPO / "workspace.yaml")

    with _processes() as start:
        webserver = start([str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1",
                           "-p", str(port), "-w", workspace], web_log, env)
        daemon = start([str(bin_dir / "dagster-daemon"), "run", "-w", workspace],
                       daemon_log, env)

        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            assert webserver.poll() is None and daemon.poll() is None, _tail(web_log,
                                                                             daemon_log)
            try:
                if requests.get(f"http://127.0.0.1:{port}/server_info", timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "webserver never answered\n" + _tail(web_log)
            time.sleep(POLL_SECONDS)

        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        run_id = client.submit_job_execution("__ASSET_JOB")

        deadline = time.monotonic() + RUN_FINISH_SECONDS
        status = client.get_run_status(run_id)
        while status.value not in ("SUCCESS", "FAILURE", "CANCELED"):
            assert time.monotonic() < deadline, (f"run {run_id} still {status.value}\n"
                                                 + _tail(web_log, daemon_log))
            time.sleep(POLL_SECONDS)
            status = client.get_run_status(run_id)
        assert status.value == "SUCCESS", _tail(web_log, daemon_log)

    # The rows are in the datastorm target ...
    assert row_count(target, "customer") == 50
    assert row_count(target, "account") == 80
    # ... and the run, its materializations and check results in Dagster's own storage.
    assert query(storage, "SELECT status FROM runs WHERE run_id = %s", (run_id,)) == [
        ("SUCCESS",)]
    materialized = query(storage, "SELECT DISTINCT asset_key FROM event_logs "
                         "WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
                         (run_id,))
    assert {key for (key,) in materialized} == {'["customer"]', '["account"]'}
    checks = query(storage, "SELECT count(*) FROM event_logs WHERE run_id = %s "
                   "AND dagster_event_type = 'ASSET_CHECK_EVALUATION'", (run_id,))
    assert checks == [(5,)]  # row counts, primary keys, and account's reference


def test_dagster_dev_in_a_clean_checkout_needs_no_environment(tmp_path: Path) -> None:
    """The README's `dagster dev`, run where a fresh clone has it, with nothing set."""
    checkout = tmp_path / "clone"
    checkout.mkdir()
    for name in ("workspace.yaml", "dagster.yaml", "Genfile.toml"):
        shutil.copy(REPO / name, checkout / name)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DAGSTER_", "DATASTORM_"))}
    port = _free_port()
    log = tmp_path / "dagster-dev.log"
    dagster = str(Path(sys.executable).parent / "dagster")
    with log.open("wb") as out:
        process = subprocess.Popen([dagster, "dev", "-p", str(port)], cwd=checkout, env=env,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        deadline = time.monotonic() + SERVER_START_SECONDS
        keys: list[str] = []
        while time.monotonic() < deadline and process.poll() is None:
            with suppress(requests.RequestException):
                answer = requests.post(url, json={"query": "{ assetNodes { assetKey { path } "
                                                           "} }"}, timeout=5).json()
                keys = sorted("/".join(n["assetKey"]["path"])
                              for n in answer.get("data", {}).get("assetNodes", []))
                if keys:
                    break
            time.sleep(POLL_SECONDS)
        assert keys == ["account", "customer"], _tail(log)
    finally:
        _stop_group(process)

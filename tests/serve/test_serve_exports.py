"""Exports over HTTP (``datastorm serve`` on a real PostgreSQL): 202 at once, done, and the
file byte for byte what ``psql``'s ``\\copy (query) TO ... CSV HEADER`` writes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import SHOP_GENFILE, Server, running_server, serve_command

from datastorm_core.cli import main

pytestmark = pytest.mark.postgres

QUERY = ("SELECT c.id, c.name, c.born, sum(a.balance) AS total, count(*) AS accounts "
         "FROM customer c JOIN account a ON a.customer_id = c.id "
         "WHERE a.balance > {min_balance} GROUP BY c.id, c.name, c.born ORDER BY c.id")
EXPORTS = f"""
[exports.big_balances]
sql = "{QUERY.format(min_balance=':min_balance')}"

[exports.big_balances.params]
min_balance = "numeric"

[exports.slow]
sql = "SELECT 1 AS one FROM pg_sleep(1)"
"""


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory, pg_databases: Any
           ) -> Iterator[tuple[Path, str]]:
    """The Genfile and a database ``datastorm run`` filled from it."""
    path = tmp_path_factory.mktemp("serve-exports") / "Genfile.toml"
    path.write_text(SHOP_GENFILE + EXPORTS, encoding="utf-8")
    with pg_databases.scratch() as url:
        assert main(["run", str(path), "--target", url, "--quiet"]) == 0
        yield path, url


@pytest.fixture(scope="module")
def server(loaded: tuple[Path, str]) -> Iterator[Server]:
    path, url = loaded
    with running_server(path, path.parent / "serve.log", "--target", url,
                        "--out-dir", str(path.parent / "out")) as running:
        yield running


def wait_done(server: Server, task: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        status = httpx.get(f"{server.url}/exports/{task}").json()
        if status["status"] in ("done", "failed"):
            return status
        assert time.monotonic() < deadline, f"export {task} still {status['status']}"
        time.sleep(0.05)


def test_an_export_is_accepted_at_once_and_its_file_is_psqls(
        server: Server, loaded: tuple[Path, str], tmp_path: Path) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("no psql on PATH")
    started = time.monotonic()
    answer = httpx.post(f"{server.url}/exports/big_balances", json={"min_balance": "1000.50"})
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["status_url"] == f"/exports/{accepted['id']}"
    assert time.monotonic() - started < 1.0
    status = wait_done(server, accepted["id"])
    assert status["status"] == "done", status
    assert status["rows"] > 0 and status["bytes"] > 0 and "path" not in status
    served = httpx.get(f"{server.url}/exports/{accepted['id']}/file")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/csv")
    expected = tmp_path / "psql.csv"
    query = QUERY.format(min_balance="1000.50::numeric")
    subprocess.run([psql, loaded[1], "-v", "ON_ERROR_STOP=1", "-c",
                    f"\\copy ({query}) TO '{expected}' CSV HEADER"], check=True,
                   capture_output=True, timeout=60)
    assert served.content == expected.read_bytes()
    assert len(served.content.splitlines()) == status["rows"] + 1
    counts = httpx.get(f"{server.url}/status").json()["exports"]
    assert counts["done"] >= 1


def test_a_running_exports_file_is_not_ready(server: Server) -> None:
    started = time.monotonic()
    task = httpx.post(f"{server.url}/exports/slow").json()["id"]
    assert time.monotonic() - started < 0.5  # the query sleeps a second: not waited for
    early = httpx.get(f"{server.url}/exports/{task}/file")
    assert early.status_code == 409
    assert "ready when" in early.json()["error"]
    assert wait_done(server, task)["status"] == "done"
    assert httpx.get(f"{server.url}/exports/{task}/file").text == "one\n1\n"


@pytest.mark.parametrize("name,body,status,words", [
    ("nope", {}, 404, "nope"),
    ("big_balances", {}, 400, "min_balance"),
    ("big_balances", {"min_balance": "1; DROP TABLE customer"}, 400, "min_balance"),
    ("big_balances", ["not", "an", "object"], 400, "body"),
])
def test_bad_export_requests_are_json_errors(server: Server, name: str, body: Any,
                                             status: int, words: str) -> None:
    answer = httpx.post(f"{server.url}/exports/{name}", json=body)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]


def test_unknown_tasks(server: Server) -> None:
    assert httpx.get(f"{server.url}/exports/0123abcd").status_code == 404
    assert httpx.get(f"{server.url}/exports/0123abcd/file").status_code == 404
    assert httpx.get(f"{server.url}/exports/a.b/file").status_code == 400


def test_with_a_redis_queue_a_worker_process_runs_the_export(
        loaded: tuple[Path, str], tmp_path: Path) -> None:
    import redis

    path, url = loaded
    prefix = f"datastorm-test:{uuid.uuid4().hex[:10]}"
    queue = f"redis://127.0.0.1:6379/0?prefix={prefix}"
    out = tmp_path / "worker-out"
    # `datastorm worker`: serve_command() minus its "serve".
    worker = subprocess.Popen([*serve_command()[:-1], "worker", str(path), "--queue", queue,
                               "--target", url, "--out-dir", str(out), "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with running_server(path, tmp_path / "serve.log", "--target", url, "--queue",
                            queue) as server:
            answer = httpx.post(f"{server.url}/exports/big_balances",
                                json={"min_balance": 40000})
            assert answer.status_code == 202
            task = answer.json()["id"]
            status = wait_done(server, task)
            assert status["status"] == "done", status
            assert status["worker"]  # taken by the worker process, not this server
            text = httpx.get(f"{server.url}/exports/{task}/file").text
            assert text.startswith("id,name,born,total,accounts\n")
            assert len(text.splitlines()) == status["rows"] + 1
            assert httpx.get(f"{server.url}/status").json()["exports"]["done"] == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        client = redis.Redis(host="127.0.0.1", port=6379, db=0)
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
        client.close()

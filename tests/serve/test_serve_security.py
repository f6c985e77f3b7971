"""``datastorm serve``'s guards: the bearer token, loopback by default, no ``..``, no password."""

from __future__ import annotations

import http.client
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from e2e_support import run_cli
from serve_support import SHOP_GENFILE, Server, running_server

TOKEN = "t0ken-for-the-serve-tests"
PASSWORD = "pa55-never-shown"
TARGET = f"postgresql://someone:{PASSWORD}@127.0.0.1:1/nowhere"


@pytest.fixture(scope="module")
def genfile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve-security") / "Genfile.toml"
    path.write_text(SHOP_GENFILE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(genfile: Path) -> Iterator[Server]:
    # The target is never connected to: it only gives /tables its column types.
    with running_server(genfile, genfile.parent / "serve.log", "--target", TARGET,
                        env={"DATASTORM_API_TOKEN": TOKEN}, token=TOKEN) as running:
        yield running


@pytest.mark.parametrize("path", ["/tables", "/tables/account/rows", "/tables/account/rows/1",
                                  "/tables/account/stream", "/status", "/docs", "/openapi.json"])
def test_every_route_needs_the_token(server: Server, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        answer = httpx.get(f"{server.url}{path}", headers=headers)
        assert answer.status_code == 401
        assert "bearer token" in answer.json()["error"]
        assert answer.headers["www-authenticate"].startswith("Bearer")


def test_the_token_opens_them(server: Server) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{server.url}/tables/account/rows/1", headers=headers).status_code == 200
    tables = httpx.get(f"{server.url}/tables", headers=headers).json()["tables"]
    # The column types of the --target's kind of database (PostgreSQL here).
    balance = next(c for t in tables for c in t["columns"] if c["name"] == "balance")
    assert balance["type"].startswith("numeric")


def test_no_password_in_status_or_log(server: Server) -> None:
    status = httpx.get(f"{server.url}/status",
                       headers={"Authorization": f"Bearer {TOKEN}"})
    assert status.json()["target"] == "postgresql://someone@127.0.0.1:1/nowhere"
    assert PASSWORD not in status.text
    assert PASSWORD not in server.log.read_text()


@pytest.mark.parametrize("path", ["/tables/../../etc/passwd", "/tables/%2e%2e/rows",
                                  "/tables/..%2F..%2Fetc%2Fpasswd/rows",
                                  "/tables/account/rows/..", "/%252e%252e/tables"])
def test_dot_dot_is_refused(server: Server, path: str) -> None:
    # http.client sends the path as it is (httpx would resolve the dots first).
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        answer = conn.getresponse()
        body = answer.read().decode()
    finally:
        conn.close()
    assert answer.status == 400
    assert "'..'" in body and answer.getheader("content-type") == "application/json"


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])
def test_a_host_beyond_loopback_needs_a_token(genfile: Path, host: str,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATASTORM_API_TOKEN", raising=False)
    done = run_cli(capsys, "serve", str(genfile), "--host", host, "--port", "1")
    assert done.code == 2
    assert "DATASTORM_API_TOKEN" in done.err and host in done.err
    assert "Traceback" not in done.both


def test_a_busy_port_is_an_error(server: Server, genfile: Path,
                                 capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATASTORM_API_TOKEN", raising=False)
    port = str(urlsplit(server.url).port)
    done = run_cli(capsys, "serve", str(genfile), "--port", port, "--log-level", "critical")
    assert done.code == 1
    assert f"could not listen on 127.0.0.1:{port}" in done.err


def test_a_stop_ends_open_streams(genfile: Path) -> None:
    log = genfile.parent / "stop.log"
    with running_server(genfile, log) as server:
        with httpx.stream("GET", f"{server.url}/tables/customer/stream", params={"rate": 2},
                          timeout=10) as answer:
            lines = answer.iter_lines()
            assert next(lines)
            started = time.monotonic()
            os.kill(server.pid, signal.SIGTERM)
            rest = list(lines)  # the stream ends: the server closed it, not the client
        assert server.process.wait(timeout=5) == 0
        assert time.monotonic() - started < 3
        assert len(rest) <= 2
    assert "Traceback" not in log.read_text()

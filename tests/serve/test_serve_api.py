"""``datastorm serve`` over real HTTP: rows as ``run`` writes them, streams, limits, status.

One real uvicorn server (a ``datastorm serve`` child process) serves the
whole module; the rows are compared with what ``datastorm run`` wrote to a
SQLite file from the same Genfile.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_support import SHOP_GENFILE, Server, running_server

from datastorm_core.cli import main

# The limits the module's server is started with (small, so a test reaches them cheaply).
MAX_PAGE_ROWS, MAX_STREAMS, MAX_RATE = 1000, 3, 200_000


@pytest.fixture(scope="module")
def genfile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "Genfile.toml"
    path.write_text(SHOP_GENFILE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def server(genfile: Path) -> Iterator[Server]:
    with running_server(genfile, genfile.parent / "serve.log",
                        "--max-page-rows", str(MAX_PAGE_ROWS), "--max-streams",
                        str(MAX_STREAMS), "--max-rate", str(MAX_RATE)) as running:
        yield running


@pytest.fixture(scope="module")
def written(genfile: Path) -> sqlite3.Connection:
    """The rows ``datastorm run`` writes to SQLite."""
    db = genfile.parent / "run.db"
    assert main(["run", str(genfile), "--target", f"sqlite:///{db}", "--quiet"]) == 0
    return sqlite3.connect(db)


def comparable(value: Any) -> Any:
    """A value as both sides can hold it: numbers as Decimal (SQLite keeps a decimal as
    REAL, JSON as text), booleans as 0/1, timestamps with a space between date and time."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value.replace("T", " ")
    return value


def table_rows(conn: sqlite3.Connection, table: str, offset: int, limit: int
               ) -> list[list[Any]]:
    cur = conn.execute(f'SELECT * FROM "{table}" ORDER BY id LIMIT ? OFFSET ?', (limit, offset))
    return [[comparable(v) for v in row] for row in cur.fetchall()]


def served(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[comparable(v) for v in row.values()] for row in rows]


@pytest.mark.parametrize("table,offset,limit", [
    ("customer", 0, 50), ("customer", 371, 100), ("account", 0, 1000),
    ("account", 777, 300), ("account", 1199, 10)])
def test_rows_are_the_rows_run_writes(server: Server, written: sqlite3.Connection,
                                      table: str, offset: int, limit: int) -> None:
    answer = httpx.get(f"{server.url}/tables/{table}/rows",
                       params={"offset": offset, "limit": limit})
    assert answer.status_code == 200, answer.text
    rows = answer.json()
    assert served(rows) == table_rows(written, table, offset, limit)
    assert len(rows) == min(limit, {"customer": 400, "account": 1200}[table] - offset)
    assert answer.headers["x-total-rows"] == str({"customer": 400, "account": 1200}[table])


def test_the_rows_hold_nulls_decimals_timestamps_and_foreign_keys(server: Server) -> None:
    accounts = httpx.get(f"{server.url}/tables/account/rows", params={"limit": 1000}).json()
    customers = {c["id"] for c in httpx.get(f"{server.url}/tables/customer/rows",
                                            params={"limit": 400}).json()}
    assert any(a["note"] is None for a in accounts) and any(a["note"] for a in accounts)
    assert all(a["customer_id"] in customers for a in accounts)
    assert all(Decimal(a["balance"]).as_tuple().exponent == -2 for a in accounts)
    assert all(len(a["opened_at"]) == 19 for a in accounts)


def test_ndjson_and_csv_pages_hold_the_same_rows(server: Server) -> None:
    params = {"offset": 100, "limit": 250}
    as_json = httpx.get(f"{server.url}/tables/account/rows", params=params).json()
    ndjson = httpx.get(f"{server.url}/tables/account/rows", params={**params,
                                                                    "format": "ndjson"})
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line) for line in ndjson.text.splitlines()] == as_json
    text = httpx.get(f"{server.url}/tables/account/rows", params={**params, "format": "csv"})
    records = list(csv.reader(io.StringIO(text.text)))
    assert records[0] == list(as_json[0])
    assert [r[0] for r in records[1:]] == [str(a["id"]) for a in as_json]
    # NULL is an empty field, as the csv: target writes it.
    nulls = [r[-1] for r, a in zip(records[1:], as_json, strict=True) if a["note"] is None]
    assert nulls and set(nulls) == {""}


def test_one_row_and_past_the_end(server: Server, written: sqlite3.Connection) -> None:
    answer = httpx.get(f"{server.url}/tables/account/rows/834")
    assert answer.status_code == 200
    assert served([answer.json()]) == table_rows(written, "account", 834, 1)
    past = httpx.get(f"{server.url}/tables/account/rows/1200")
    assert past.status_code == 404
    assert "1200 rows" in past.json()["error"]
    empty = httpx.get(f"{server.url}/tables/account/rows", params={"offset": 5000})
    assert empty.status_code == 200 and empty.json() == []


def test_tables_lists_rows_columns_and_types(server: Server) -> None:
    tables = {t["name"]: t for t in httpx.get(f"{server.url}/tables").json()["tables"]}
    assert set(tables) == {"customer", "account", "login"}
    account = tables["account"]
    assert account["rows"] == 1200
    assert account["references"] == {"customer_id": "customer.id"}
    kinds = {c["name"]: (c["kind"], c["nullable"]) for c in account["columns"]}
    assert kinds == {"id": ("bigint", False), "customer_id": ("bigint", False),
                     "balance": ("numeric", False), "opened_at": ("timestamp", False),
                     "note": ("text", True)}


def test_a_stream_keeps_its_rate(server: Server) -> None:
    seconds, rate = 5.0, 200
    received = 0
    with httpx.stream("GET", f"{server.url}/tables/account/stream",
                      params={"rate": rate}, timeout=10) as answer:
        assert answer.status_code == 200
        started = time.monotonic()
        for line in answer.iter_lines():
            if time.monotonic() - started >= seconds:
                break
            if line:
                received += 1
    assert 0.85 * rate * seconds <= received <= 1.1 * rate * seconds + 5


def test_a_stream_resumes_from_an_index_and_goes_past_the_count(server: Server) -> None:
    page = httpx.get(f"{server.url}/tables/account/rows",
                     params={"offset": 1190, "limit": 10}).json()
    rows = []
    with httpx.stream("GET", f"{server.url}/tables/account/stream",
                      params={"rate": 5000, "from": 1190}, timeout=10) as answer:
        for line in answer.iter_lines():
            rows.append(json.loads(line))
            if len(rows) == 30:
                break
    assert rows[:10] == page
    # Past the count, the rows go on: the ids follow, the parents are real ones.
    assert [r["id"] for r in rows[10:]] == list(range(1201, 1221))
    assert all(1 <= r["customer_id"] <= 400 for r in rows)


def test_a_stream_of_a_table_that_cannot_grow_ends_at_its_last_row(server: Server) -> None:
    tables = {t["name"]: t["rows"] for t in httpx.get(f"{server.url}/tables").json()["tables"]}
    last = tables["login"]
    answer = httpx.get(f"{server.url}/tables/login/stream", params={"rate": 5000,
                                                                  "from": last - 5}, timeout=10)
    assert [json.loads(line)["id"] for line in answer.text.splitlines()] == list(
        range(last - 4, last + 1))


def test_sse_events_carry_the_row_index_and_resume_after_last_event_id(server: Server) -> None:
    with httpx.stream("GET", f"{server.url}/tables/customer/stream",
                      params={"rate": 5000, "format": "sse"},
                      headers={"Last-Event-ID": "41"}, timeout=10) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = []
        for line in answer.iter_lines():
            lines.append(line)
            if len(lines) >= 6:
                break
    assert lines[0] == "id: 42"
    assert json.loads(lines[1].removeprefix("data: "))["id"] == 43  # row 42 is id 43
    assert lines[3] == "id: 43"


def open_streams(server: Server) -> int:
    return int(httpx.get(f"{server.url}/status").json()["open_streams"])


def wait_for_streams(server: Server, count: int) -> None:
    deadline = time.monotonic() + 5
    while open_streams(server) != count:
        assert time.monotonic() < deadline, f"open streams never came to {count}"
        time.sleep(0.05)


def rows_sent(server: Server) -> int:
    return int(httpx.get(f"{server.url}/status").json()["streams"][0]["rows_sent"])


def test_a_slow_reader_does_not_grow_the_server(server: Server) -> None:
    rate, seconds = 100_000, 1.5
    with httpx.Client(timeout=10) as client, client.stream(
            "GET", f"{server.url}/tables/account/stream", params={"rate": rate}) as answer:
        reader = answer.iter_raw(1024)
        next(reader)
        time.sleep(0.7)  # the server fills the sockets' buffers, then has to wait
        rss_before, sent_before = server.rss_kb(), rows_sent(server)
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            next(reader)
            time.sleep(0.02)
        rss_after, sent_after = server.rss_kb(), rows_sent(server)
    # At its rate the stream would have made 150,000 more rows meanwhile; blocked by the
    # client, it made about what the client read (a few hundred kB), and its memory
    # stayed flat.
    assert sent_after - sent_before < rate * seconds / 20
    assert rss_after - rss_before < 8 * 1024, f"RSS grew from {rss_before} to {rss_after} kB"
    wait_for_streams(server, 0)  # the client went away: the stream ended


def test_limits_answer_429(server: Server) -> None:
    big = httpx.get(f"{server.url}/tables/account/rows", params={"limit": MAX_PAGE_ROWS + 1})
    assert big.status_code == 429 and str(MAX_PAGE_ROWS) in big.json()["error"]
    fast = httpx.get(f"{server.url}/tables/account/stream", params={"rate": MAX_RATE * 2})
    assert fast.status_code == 429 and "rate" in fast.json()["error"]
    with httpx.Client(timeout=10) as client:
        streams = [client.stream("GET", f"{server.url}/tables/customer/stream",
                                 params={"rate": 1}) for _ in range(MAX_STREAMS)]
        for stream in streams:
            assert stream.__enter__().status_code == 200
        try:
            status = httpx.get(f"{server.url}/status").json()
            assert status["open_streams"] == MAX_STREAMS
            assert {s["table"] for s in status["streams"]} == {"customer"}
            refused = httpx.get(f"{server.url}/tables/customer/stream")
            assert refused.status_code == 429
            assert "--max-streams" in refused.json()["error"]
        finally:
            for stream in streams:
                stream.__exit__(None, None, None)
    wait_for_streams(server, 0)


@pytest.mark.parametrize("path,status,words", [
    ("/tables/nope/rows", 404, "no table named 'nope'"),
    ("/tables/account/rows?format=xml", 400, "format"),
    ("/tables/account/rows?offset=-3", 400, "offset"),
    ("/tables/account/rows?offset=99999999999999999999", 400, "offset"),
    ("/tables/account/stream?from=9223372036854775807", 400, "from"),
    ("/tables/account/rows/abc", 400, "index"),
    ("/tables/account/stream?rate=0", 400, "rate"),
    ("/no/such/route", 404, "no such path"),
])
def test_errors_are_json(server: Server, path: str, status: int, words: str) -> None:
    answer = httpx.get(f"{server.url}{path}")
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert words in answer.json()["error"]
    assert "Traceback" not in answer.text


def test_status_counts_requests_and_rows(server: Server) -> None:
    before = httpx.get(f"{server.url}/status").json()
    httpx.get(f"{server.url}/tables/customer/rows", params={"limit": 123})
    after = httpx.get(f"{server.url}/status").json()
    assert after["rows_served"] - before["rows_served"] == 123
    assert after["requests"] - before["requests"] == 2
    assert after["up_since"] == before["up_since"] and after["up_since"].endswith("Z")
    assert "exports" in after
    assert httpx.get(f"{server.url}/docs").status_code == 200
    assert "/tables/{table}/stream" in httpx.get(f"{server.url}/openapi.json").json()["paths"]


def test_exports_of_a_genfile_without_any(server: Server) -> None:
    answer = httpx.post(f"{server.url}/exports/anything", json={})
    assert answer.status_code == 503
    assert "declares no [exports.NAME]" in answer.json()["error"]
    assert httpx.get(f"{server.url}/status").json()["exports"] == {}

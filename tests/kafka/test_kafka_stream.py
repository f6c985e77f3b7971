"""``datastorm stream --tables`` on Kafka tables: new events at a rate, resumable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from kafka_support import Broker, read_topic
from test_kafka_run import ledger, prefix

from datastorm_core.cli import main
from datastorm_core.genfile import loads_genfile
from datastorm_core.run import run


def genfile_file(tmp_path: Path, pg_url: str, broker: Broker, topics: str) -> str:
    path = tmp_path / f"{topics}.toml"
    path.write_text(ledger(pg_url, broker, topics))
    return str(path)


def stream(path: str, *argv: str) -> int:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        return main(["stream", path, "--quiet", *argv])
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_events_continue_each_table_after_its_rows(pg_url: str, kafka_broker: Broker,
                                                   tmp_path: Path) -> None:
    topics = prefix()
    path = genfile_file(tmp_path, pg_url, kafka_broker, topics)
    run(loads_genfile(Path(path).read_text()))  # masters and the batch of events
    summary = tmp_path / "summary.json"
    assert stream(path, "--tables", "payment,refund", "--rate", "0", "--events", "400",
                  "--summary-json", str(summary)) == 0

    report = json.loads(summary.read_text())
    assert report["events"] == 400 and sum(report["tables"].values()) == 400
    payments = read_topic(kafka_broker, f"{topics}.payment")
    refunds = read_topic(kafka_broker, f"{topics}.refund")
    streamed = [m for m in payments if int(m.header["row"]) >= 4000]
    assert len(payments) == 4000 + report["tables"]["payment"] == 4000 + len(streamed)
    assert len(refunds) == 500 + report["tables"]["refund"]
    # the k-th streamed payment is row 4000 + k: no gap, no repeat
    assert sorted(int(m.header["row"]) for m in streamed) == list(
        range(4000, 4000 + len(streamed)))
    with psycopg.connect(pg_url) as conn:
        accounts = {r[0] for r in conn.execute("SELECT id FROM account")}
    assert {json.loads(m.value)["account_id"] for m in streamed} <= accounts
    assert all(m.key == str(json.loads(m.value)["account_id"]).encode() for m in streamed)


def test_a_resumed_stream_sends_what_one_stream_would(pg_url: str, kafka_broker: Broker,
                                                      tmp_path: Path) -> None:
    whole, parts = prefix(), prefix()
    assert stream(genfile_file(tmp_path, pg_url, kafka_broker, whole), "--tables", "payment",
                  "--rate", "0", "--events", "300") == 0
    split = genfile_file(tmp_path, pg_url, kafka_broker, parts)
    assert stream(split, "--tables", "payment", "--rate", "0", "--events", "120") == 0
    assert stream(split, "--tables", "payment", "--rate", "0", "--events", "180",
                  "--from-event", "120") == 0

    def content(topics: str) -> list[tuple[bytes | None, bytes, tuple]]:
        return sorted((m.key, m.value, m.headers)
                      for m in read_topic(kafka_broker, f"{topics}.payment"))

    assert content(whole) == content(parts) and len(content(whole)) == 300


def test_the_rate_paces_the_events(pg_url: str, kafka_broker: Broker, tmp_path: Path) -> None:
    path = genfile_file(tmp_path, pg_url, kafka_broker, prefix())
    started = time.monotonic()
    assert stream(path, "--tables", "payment", "--rate", "40", "--events", "40") == 0
    # 40 events at 40/s: about a second (gaps average 1/rate), never a burst
    assert time.monotonic() - started >= 0.7


def test_sigint_stops_after_the_event_in_flight_with_every_message_sent(
        pg_url: str, kafka_broker: Broker, tmp_path: Path) -> None:
    topics = prefix()
    path = genfile_file(tmp_path, pg_url, kafka_broker, topics)
    summary = tmp_path / "summary.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "datastorm_core.cli", "stream", path, "--tables", "payment",
         "--rate", "50", "--summary-json", str(summary)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "COLUMNS": "200"})
    time.sleep(2.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    report = json.loads(summary.read_text())
    assert report["interrupted"] and report["events"] > 0
    assert len(read_topic(kafka_broker, f"{topics}.payment")) == report["events"]
    assert f"--from-event {report['next_event']}" in err


def test_database_and_kafka_tables_are_not_streamed_together(
        pg_url: str, kafka_broker: Broker, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = genfile_file(tmp_path, pg_url, kafka_broker, prefix())
    assert stream(path, "--tables", "account,payment") == 2
    assert "either to the database or to Kafka" in capsys.readouterr().err

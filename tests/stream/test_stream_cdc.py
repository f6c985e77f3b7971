"""What a CDC pipeline sees: the changes decoded from the WAL match the stream event for event.

These tests run on a throwaway cluster started with ``wal_level = logical``
(tests/stream/conftest.py). A logical replication slot with the
``test_decoding`` plugin is attached after the load and before the stream,
so it decodes exactly the stream's transactions; the ledger's own rows are
left out, as a publication leaves them out.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from stream_support import (
    CLINIC,
    LEDGER_TABLES,
    clinic,
    database,
    execute,
    fingerprint,
    lines,
    load,
    orphans,
    query,
    spawn,
    stream_events,
    wait_for,
)

pytestmark = pytest.mark.postgres

_CHANGE = re.compile(r"^table (?P<schema>[^.]+)\.(?P<table>\S+): "
                     r"(?P<op>INSERT|UPDATE|DELETE): (?P<columns>.*)$")
_COLUMN = re.compile(r"(?P<name>[^\s\[]+)\[(?P<type>[^\]]+)\]:(?P<value>'(?:[^']|'')*'|\S+)")


def decoded(url: str, slot: str) -> list[list[tuple[str, str, tuple[str, ...]]]]:
    """The slot's transactions, each a list of (table, op, primary key as text)."""
    keys = {t.name: t.primary_key for t in clinic().tables}
    transactions: list[list[tuple[str, str, tuple[str, ...]]]] = []
    current: list[tuple[str, str, tuple[str, ...]]] | None = None
    for (data,) in query(url, "SELECT data FROM pg_logical_slot_get_changes(%s, NULL, NULL, "
                              "'include-xids', '0', 'skip-empty-xacts', '1')", (slot,)):
        if data == "BEGIN":
            current = []
        elif data == "COMMIT":
            assert current is not None
            if current:  # a transaction of the ledger alone (the setup) is not an event
                transactions.append(current)
            current = None
        else:
            match = _CHANGE.match(data)
            assert match and current is not None, data
            table = match["table"]
            if table in LEDGER_TABLES:
                continue
            values = {m["name"]: _unquote(m["value"]) for m in _COLUMN.finditer(match["columns"])}
            current.append((table, match["op"].lower(), tuple(values[k] for k in keys[table])))
    return transactions


def _unquote(value: str) -> str:
    return value[1:-1].replace("''", "'") if value.startswith("'") else value


def expected(events: list[dict[str, Any]]) -> list[list[tuple[str, str, tuple[str, ...]]]]:
    return [[(c["table"], c["op"], tuple(str(k) for k in c["key"])) for c in e["changes"]]
            for e in events]


@contextmanager
def slot(url: str, name: str) -> Iterator[str]:
    execute(url, "SELECT pg_create_logical_replication_slot(%s, 'test_decoding')", (name,))
    try:
        yield name
    finally:
        execute(url, "SELECT pg_drop_replication_slot(%s)", (name,))


def test_changes_decoded_from_the_wal_match_the_summary_event_for_event(
        logical_cluster: Any) -> None:
    with database(logical_cluster.url, "cdc_decode") as url:
        genfile = load(url)
        with slot(url, "datastorm_test") as name:
            report, events = stream_events(url, 1000, publication="datastorm_cdc")
            transactions = decoded(url, name)
        assert report.publication is not None and report.publication["wal_level"] == "logical"
        assert not [n for n in report.notes if "wal_level" in n]
        # One transaction per event, in order, each with the rows the event changed.
        assert len(transactions) == report.events == 1000
        assert transactions == expected(events)
        # And the summary counts what the WAL holds.
        seen = Counter((table, op) for t in transactions for table, op, _ in t)
        for table, moved in report.tables.items():
            for op, count in moved.items():
                assert seen[table, op] == count, (table, op)
        assert any(len(t) > 1 for t in transactions)  # a cascading delete
        assert set(orphans(url, genfile).values()) == {0}


def test_a_server_restart_mid_stream_loses_and_doubles_no_event(logical_cluster: Any,
                                                                tmp_path: Path) -> None:
    events_log, summary = tmp_path / "events.jsonl", tmp_path / "summary.json"
    with database(logical_cluster.url, "cdc_restart") as url, \
            database(logical_cluster.url, "cdc_reference") as reference:
        genfile = load(url)
        load(reference, genfile)
        with slot(url, "datastorm_restart") as name:
            process = spawn("stream", str(CLINIC), "--target", url, "--rate", "400",
                            "--events", "900", "--event-log", str(events_log),
                            "--summary-json", str(summary))
            try:
                wait_for(lambda: len(lines(events_log)) >= 250, "250 events", process=process)
                logical_cluster.restart()
                _, err = process.communicate(timeout=90)
            finally:
                if process.poll() is None:
                    process.kill()
            assert process.returncode == 0, err
            transactions = decoded(url, name)
        data = json.loads(summary.read_text(encoding="utf-8"))
        assert data["events"] == 900 and data["next_event"] == 900
        assert data["reconnects"] >= 1 and "reconnected" in err
        events = lines(events_log)
        assert [e["n"] for e in events] == list(range(900))
        # The WAL holds each event exactly once: none lost, none applied twice.
        assert transactions == expected(events)
        # The end state is that of a stream that never lost its server.
        stream_events(reference, 900)
        assert fingerprint(url, genfile) == fingerprint(reference, genfile)
        assert set(orphans(url, genfile).values()) == {0}


def test_a_server_that_stays_away_ends_the_stream_with_a_failure(logical_cluster: Any) -> None:
    import threading

    from datastorm_core.errors import TargetError
    from datastorm_core.stream import StreamOptions, stream

    with database(logical_cluster.url, "cdc_away") as url:
        genfile = load(url)
        failures: list[BaseException] = []
        lines_seen: list[str] = []

        def work() -> None:
            try:
                stream(genfile, StreamOptions(target=url, rate=100, reconnect_timeout=1.5),
                       on_line=lines_seen.append)
            except BaseException as exc:
                failures.append(exc)

        worker = threading.Thread(target=work)
        worker.start()
        wait_for(lambda: query(url, "SELECT to_regclass('datastorm_stream_state') IS NOT NULL")
                 [0][0] and query(url, "SELECT next_event FROM datastorm_stream_state")[0][0]
                 >= 20, "20 events")
        logical_cluster.stop_server()
        try:
            worker.join(30)
            assert not worker.is_alive()
        finally:
            logical_cluster.start_server()
        (failure,) = failures
        assert isinstance(failure, TargetError) and failure.exit_code == 1
        assert "could not reconnect within 1.5 s" in str(failure)
        assert any("connection lost" in line for line in lines_seen)
        # What was committed is whole: the ledger and the tables agree.
        assert set(orphans(url, genfile).values()) == {0}


def test_events_per_transaction_commits_groups_of_the_same_events(logical_cluster: Any) -> None:
    with database(logical_cluster.url, "cdc_grouped") as url, \
            database(logical_cluster.url, "cdc_single") as single:
        genfile = load(url)
        load(single, genfile)
        with slot(url, "datastorm_grouped") as name:
            report, events = stream_events(url, 205, events_per_transaction=10)
            transactions = decoded(url, name)
        assert report.events == 205 and report.next_event == 205
        # 20 transactions of 10 events, then the 5 left when the stream stopped: each
        # holds its events' changes in event order, committed at once.
        changes = expected(events)
        assert [len(t) for t in transactions] == \
            [sum(len(c) for c in changes[i:i + 10]) for i in range(0, 205, 10)]
        assert transactions == [[row for c in changes[i:i + 10] for row in c]
                                for i in range(0, 205, 10)]
        # The events are those of one transaction each, and so is the end state.
        _, alone = stream_events(single, 205)
        assert alone == events
        assert fingerprint(url, genfile) == fingerprint(single, genfile)
        assert set(orphans(url, genfile).values()) == {0}

"""Masters in PostgreSQL, events in Kafka, from one Genfile, against a real broker."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from datetime import datetime
from decimal import Decimal

import psycopg
import pytest
from kafka_support import Broker, read_topic

from datastorm_core.errors import TargetError, UserError
from datastorm_core.genfile import Partition, loads_genfile
from datastorm_core.run import RunOptions, run

LEDGER = """
[dataset]
seed = 11
[target]
url = "{pg}"
[targets.events]
type = "kafka"
url = "{bootstrap}"
topic = "{prefix}.{{table}}"
partitions = 3
{extra}

[account]
records = 300
id = {{ type = "sequence" }}
owner = {{ type = "name" }}
opened = {{ type = "date", start = "2020-01-01", end = "2024-12-31" }}

[payment]
records = 4000
target = "events"
key = "account_id"
id = {{ type = "sequence" }}
account_id = {{ type = "reference", ref = "account.id" }}
amount = {{ type = "decimal", min = 1, max = 5000, scale = 2 }}
at = {{ type = "timestamp", start = "2025-01-01", end = "2025-12-31" }}
memo = {{ type = "text", words = [1, 4], null_rate = 0.2 }}

[refund]
records = 500
target = "events"
id = {{ type = "sequence" }}
payment_id = {{ type = "reference", ref = "payment.id" }}
approved = {{ type = "bool" }}
"""


def ledger(pg_url: str, broker: Broker, prefix: str, extra: str = "") -> str:
    return LEDGER.format(pg=pg_url, bootstrap=broker.bootstrap, prefix=prefix, extra=extra)


def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def test_masters_in_postgres_events_in_kafka(pg_url: str, kafka_broker: Broker) -> None:
    topics = prefix()
    genfile = loads_genfile(ledger(pg_url, kafka_broker, topics))
    report = run(genfile)

    payments = read_topic(kafka_broker, f"{topics}.payment")
    refunds = read_topic(kafka_broker, f"{topics}.refund")
    assert len(payments) == 4000 and len(refunds) == 500
    assert kafka_broker.topics()[f"{topics}.payment"] == 3

    with psycopg.connect(pg_url) as conn:
        accounts = {row[0] for row in conn.execute("SELECT id FROM account")}
        # the masters never learn about Kafka: no table, no foreign key for the events
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'datastorm_owned_tables'")}
    assert len(accounts) == 300 and tables == {"account"}

    rows_seen = set()
    for m in payments:
        value = json.loads(m.value)
        assert list(value) == ["id", "account_id", "amount", "at", "memo"]
        assert isinstance(value["id"], int) and isinstance(value["account_id"], int)
        # decimals as strings (no float rounding), timestamps in ISO 8601
        assert isinstance(value["amount"], str) and Decimal(value["amount"]) >= 1
        assert re.fullmatch(r"\d+\.\d{2}", value["amount"])
        datetime.fromisoformat(value["at"])
        assert value["memo"] is None or isinstance(value["memo"], str)
        # the key is the account, so one account's payments share a partition
        assert m.key == str(value["account_id"]).encode()
        assert value["account_id"] in accounts  # every event points at a committed master
        header = m.header
        assert header["table"] == "payment" and header["seed"] == "11"
        rows_seen.add(int(header["row"]))
        assert value["id"] == int(header["row"]) + 1  # sequence starts at 1
    assert rows_seen == set(range(4000))
    assert any(json.loads(m.value)["memo"] is None for m in payments)

    partitions_of_account: dict[bytes | None, set[int]] = {}
    for m in payments:
        partitions_of_account.setdefault(m.key, set()).add(m.partition)
    assert all(len(p) == 1 for p in partitions_of_account.values())

    # refunds point at payments (a Kafka table referencing a Kafka table),
    # keyed by their own primary key
    payment_ids = {json.loads(m.value)["id"] for m in payments}
    for m in refunds:
        value = json.loads(m.value)
        assert value["payment_id"] in payment_ids
        assert m.key == str(value["id"]).encode()
        assert isinstance(value["approved"], bool)

    # the report says where every message went: per partition offset ranges
    details = report.details["payment"]
    assert details["topic"] == f"{topics}.payment" and details["messages"] == 4000
    per_partition = Counter(m.partition for m in payments)
    for partition, span in details["offsets"].items():
        offsets = sorted(m.offset for m in payments if m.partition == int(partition))
        assert (span["first"], span["last"]) == (offsets[0], offsets[-1])
        assert per_partition[int(partition)] == len(offsets)
    assert "account" not in report.details  # a database table has no offsets
    assert "kafka://" in report.target and "postgresql://" in report.target


def test_rerun_of_a_partition_sends_identical_messages(pg_url: str,
                                                       kafka_broker: Broker) -> None:
    first, second = prefix(), prefix()
    options = RunOptions(partition=Partition(1, 3), mode="append")
    for topics in (first, second):
        run(loads_genfile(ledger(pg_url, kafka_broker, topics)), options)

    def content(topics: str) -> list[tuple[bytes | None, bytes, tuple, int]]:
        return sorted((m.key, m.value, m.headers, m.partition)
                      for m in read_topic(kafka_broker, f"{topics}.payment"))

    a, b = content(first), content(second)
    assert a == b
    rows = sorted(int(dict(h)["row"]) for _, _, h, _ in a)
    # partition 1 of 3 is the middle third of the payments, nothing else
    assert rows == list(range(4000 // 3, 2 * 4000 // 3))


def test_kafka_target_options_are_checked_before_anything_is_written(
        pg_url: str, kafka_broker: Broker) -> None:
    for extra, wanted in (('compression = "brotli"', "compression must be one of"),
                          ("replication_factor = 0",
                           "replication_factor must be a whole number >= 1"),
                          ('producer = { acks = "1" }', "acks are fixed"),
                          ('producer = { "enable.idempotence" = false }', "are fixed"),
                          ("colour = 1", "unknown option(s) for the kafka target: colour")):
        genfile = loads_genfile(ledger(pg_url, kafka_broker, prefix(), extra))
        # A Genfile error with the [targets.events] line, since the Genfile's own
        # target refuses them (a UsageError, line-less, before).
        with pytest.raises(UserError, match=re.escape(wanted)):
            run(genfile)
    bad_topic = ledger(pg_url, kafka_broker, "bad topic")
    with pytest.raises(UserError, match="not a legal topic name"):
        run(loads_genfile(bad_topic))
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            ).fetchone() == (0,)


def test_a_broker_that_is_down_fails_the_run_before_the_masters_commit(
        pg_url: str, own_broker: Broker) -> None:
    genfile = loads_genfile(ledger(pg_url, own_broker, prefix(), "connect_timeout_ms = 2000"))
    own_broker.stop()
    with pytest.raises(TargetError, match=r"cannot reach Kafka at 127\.0\.0\.1:\d+"):
        run(genfile)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            ).fetchone() == (0,)


def test_an_existing_topic_is_used_as_it_is_and_its_partition_count_reported(
        pg_url: str, kafka_broker: Broker) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    topics = prefix()
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap, "log_level": 0})
    admin.create_topics([NewTopic(f"{topics}.refund", num_partitions=2)])[
        f"{topics}.refund"].result(10)
    report = run(loads_genfile(ledger(pg_url, kafka_broker, topics)))

    assert kafka_broker.topics()[f"{topics}.refund"] == 2  # not recreated
    assert kafka_broker.topics()[f"{topics}.payment"] == 3  # created with partitions = 3
    assert len(read_topic(kafka_broker, f"{topics}.refund")) == 500
    assert any(f"'{topics}.refund' exists with 2 partitions" in w for w in report.warnings)


def test_probe_creates_the_topics_before_any_target_commits(kafka_broker: Broker) -> None:
    from datastorm_core.source import Source
    from datastorm_core.target import open_target

    topics = prefix()
    genfile = loads_genfile(ledger("postgresql://unused@127.0.0.1:1/x", kafka_broker, topics))
    source = Source(genfile)
    target = open_target(kafka_broker.url, options={"topic": f"{topics}.{{table}}"})
    target.probe([source.schema("payment"), source.schema("refund")])
    assert {f"{topics}.payment", f"{topics}.refund"} <= set(kafka_broker.topics())


def test_one_day_of_an_event_table_goes_to_its_topic(pg_url: str,
                                                     kafka_broker: Broker) -> None:
    """The nightly job's shape: masters once, then one day of events at a time."""
    from datetime import date

    topics = prefix()
    text = ledger(pg_url, kafka_broker, topics).replace(
        "[payment]\nrecords = 4000\n",
        '[payment]\npartition_by = "day"\ntime_field = "at"\nstart_date = "2025-01-01"\n'
        "rows_per_day = 250\n").replace(
        'at = { type = "timestamp", start = "2025-01-01", end = "2025-12-31" }',
        'at = { type = "timestamp" }')
    # a daily table's rows grow every day: nothing may reference it
    genfile = loads_genfile(text[:text.index("[refund]")])
    run(genfile, RunOptions(tables=["account"]))
    for day in (date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 1)):  # a rerun of a day
        run(genfile, RunOptions(tables=["payment"], day=day))

    messages = read_topic(kafka_broker, f"{topics}.payment")
    assert len(messages) == 750
    days = Counter(json.loads(m.value)["at"][:10] for m in messages)
    assert days == {"2025-03-01": 500, "2025-03-02": 250}
    first = (date(2025, 3, 1) - date(2025, 1, 1)).days * 250
    rows = Counter(int(m.header["row"]) for m in messages)
    # day 1's rows twice (identical messages), day 2's once, nothing else
    assert set(rows) == set(range(first, first + 500))
    assert all(rows[r] == (2 if r < first + 250 else 1) for r in rows)

"""Kafka-target tables are Dagster assets too: topic and offsets in their metadata."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import psycopg
from dagster_support import check_results, failure_messages, materialize, metadata_value
from kafka_support import Broker, read_topic
from test_kafka_run import ledger, prefix

from datastorm_dagster import build_definitions


def test_materializing_sends_events_and_records_topic_and_offsets(
        pg_url: str, kafka_broker: Broker, tmp_path: Path) -> None:
    topics = prefix()
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text(ledger(pg_url, kafka_broker, topics))
    defs = build_definitions(genfile)
    result = materialize(defs, dg.DagsterInstance.ephemeral())
    assert result.success, failure_messages(result)

    events = {e.asset_key.path[-1]: e.materialization.metadata
              for e in result.get_asset_materialization_events()}
    assert set(events) == {"account", "payment", "refund"}
    payment = {k: metadata_value(v) for k, v in events["payment"].items()}
    assert payment["datastorm/topic"] == f"{topics}.payment"
    assert payment["datastorm/messages"] == 4000 == payment["dagster/row_count"]
    assert payment["datastorm/target"] == kafka_broker.url
    offsets = payment["datastorm/offsets"]
    messages = read_topic(kafka_broker, f"{topics}.payment")
    assert len(messages) == 4000
    for partition, span in offsets.items():
        seen = [m.offset for m in messages if m.partition == int(partition)]
        assert (span["first"], span["last"]) == (min(seen), max(seen))
    assert "datastorm/topic" not in events["account"]  # a database table

    checks = check_results(result)
    assert checks[("payment", "all_delivered")].passed
    assert checks[("refund", "all_delivered")].passed
    assert checks[("account", "row_count")].passed
    # every event's account exists in the database the masters went to
    with psycopg.connect(pg_url) as conn:
        accounts = {r[0] for r in conn.execute("SELECT id FROM account")}
    assert {json.loads(m.value)["account_id"] for m in messages} <= accounts

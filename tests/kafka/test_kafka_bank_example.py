"""examples/bank.toml as its README shows it: masters in PostgreSQL, events in Kafka."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
from kafka_support import Broker, read_topic

from datastorm_core.loading import loads_genfile
from datastorm_core.run import RunOptions, run

BANK = Path(__file__).resolve().parents[2] / "examples" / "bank.toml"
EVENTS = {"installment": ("loan_id", "loan"), "transaction": ("account_id", "account"),
          "card_transaction": ("card_id", "credit_card"), "trade": ("account_id", "account")}


def test_bank_example_sends_its_events_to_kafka(pg_url: str, kafka_broker: Broker) -> None:
    # a tenth of the rows, to a topic prefix of this test's own
    text = re.sub(r"^records = (\d+)$", lambda m: f"records = {int(m.group(1)) // 10}",
                  BANK.read_text(encoding="utf-8"), flags=re.M)
    text = text.replace('topic = "banking.{table}"', 'topic = "bankexample.{table}"')
    genfile = loads_genfile(text, environ={"KAFKA_BOOTSTRAP": kafka_broker.bootstrap})
    report = run(genfile, RunOptions(target=pg_url))

    with psycopg.connect(pg_url) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'datastorm_owned_tables'")}
        assert tables == {"customer", "account", "credit_card", "loan", "stock"}
        ids = {t: {r[0] for r in conn.execute(f"SELECT id FROM {t}")}
               for t in ("account", "credit_card", "loan")}
        tickers = {r[0] for r in conn.execute("SELECT ticker FROM stock")}
    for table, (key, parent) in EVENTS.items():
        messages = read_topic(kafka_broker, f"bankexample.{table}")
        assert len(messages) == genfile.table(table).records == report.details[table]["messages"]
        values = [json.loads(m.value) for m in messages]
        assert all(m.key == str(v[key]).encode() for m, v in zip(messages, values, strict=True))
        # every event points at a master row that is committed in PostgreSQL
        assert {v[key] for v in values} <= ids[parent], table
        if table == "trade":
            assert {v["ticker"] for v in values} <= tickers

"""Kinds and checks follow where each table's rows go once URLs are overridden, and
named targets take their URLs from the environment or the Component like the default."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from dagster.components.core.component_tree import ComponentTree
from dagster_support import check_results, failure_messages, materialize, row_count

from datastorm_dagster import DatastormGenfileComponent, build_definitions
from datastorm_dagster.definitions import definitions_from_environment

pytestmark = pytest.mark.postgres

# Masters in the default target, payments to a Kafka broker nobody runs: a test
# that writes them must have sent them elsewhere.
LEDGER = """
[dataset]
seed = 5

[targets.events]
type = "kafka"
url = "127.0.0.1:9"

[account]
records = 40

[account.id]
type = "sequence"

[payment]
records = 120
target = "events"

[payment.id]
type = "sequence"

[payment.account_id]
type = "reference"
ref = "account.id"
"""


def _ledger(tmp_path: Path, default_url: str) -> Path:
    path = tmp_path / "Genfile.toml"
    path.write_text(f'[target]\nurl = "{default_url}"\n' + LEDGER, encoding="utf-8")
    return path


def _node(defs: dg.Definitions, table: str) -> dg.AssetsDefinition:
    (assets,) = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)
                 and a.key.path[-1] == table]
    return assets


def _kinds(defs: dg.Definitions, table: str) -> set[str]:
    graph = defs.resolve_asset_graph()
    return set(graph.get(dg.AssetKey([table])).kinds)


def _checks(defs: dg.Definitions, table: str) -> set[str]:
    return {k.name for k in _node(defs, table).check_keys}


def test_a_table_sent_to_kafka_is_labelled_and_checked_as_a_topic(
        tmp_path: Path, pg_url: str) -> None:
    defs = build_definitions(_ledger(tmp_path, pg_url))

    assert _kinds(defs, "payment") == {"datastorm", "kafka"}
    assert _checks(defs, "payment") == {"all_delivered"}
    assert _kinds(defs, "account") == {"datastorm", "postgres"}
    assert "row_count" in _checks(defs, "account")


def test_an_event_table_routed_to_postgres_is_a_postgres_table(
        tmp_path: Path, pg_url: str) -> None:
    """Before: the Kafka table kept the kafka kind and an all_delivered check that
    could only fail, though its rows went to PostgreSQL."""
    defs = build_definitions(_ledger(tmp_path, "sqlite:///never.db"), target=pg_url,
                             targets={"events": pg_url})

    assert _kinds(defs, "payment") == {"datastorm", "postgres"}
    assert _kinds(defs, "account") == {"datastorm", "postgres"}  # the overridden default
    assert _checks(defs, "payment") == {"row_count", "primary_key_unique",
                                        "no_orphan_account_id"}
    result = materialize(defs, dg.DagsterInstance.ephemeral())
    assert result.success, failure_messages(result)
    checks = check_results(result)
    assert {name for table, name in checks if table == "payment"} == _checks(defs, "payment")
    assert all(c.passed for c in checks.values())
    assert row_count(pg_url, "payment") == 120
    assert not (tmp_path / "never.db").exists()


def test_a_reference_into_another_target_is_not_checked_by_a_query_that_cannot_span_both(
        tmp_path: Path, pg_url: str) -> None:
    lite = tmp_path / "payments.db"
    defs = build_definitions(_ledger(tmp_path, pg_url), targets={"events": f"sqlite:///{lite}"})

    assert _kinds(defs, "payment") == {"datastorm", "sqlite"}
    assert _checks(defs, "payment") == {"row_count", "primary_key_unique"}
    result = materialize(defs, dg.DagsterInstance.ephemeral())
    assert result.success, failure_messages(result)
    assert all(c.passed for c in check_results(result).values())
    assert lite.exists()


def test_named_targets_come_from_the_environment(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASTORM_GENFILE", str(_ledger(tmp_path, pg_url)))
    monkeypatch.setenv("DATASTORM_TARGET_EVENTS", pg_url)

    defs = definitions_from_environment()

    assert _kinds(defs, "payment") == {"datastorm", "postgres"}
    result = materialize(defs, dg.DagsterInstance.ephemeral())
    assert result.success, failure_messages(result)
    assert row_count(pg_url, "payment") == 120


def test_named_targets_come_from_the_component(tmp_path: Path, pg_url: str) -> None:
    _ledger(tmp_path, pg_url)
    component = DatastormGenfileComponent(genfile="Genfile.toml", targets={"events": pg_url})
    defs = component.build_defs(ComponentTree.for_test().load_context.for_path(tmp_path))

    assert _kinds(defs, "payment") == {"datastorm", "postgres"}
    result = materialize(defs, dg.DagsterInstance.ephemeral())
    assert result.success, failure_messages(result)
    assert row_count(pg_url, "payment") == 120


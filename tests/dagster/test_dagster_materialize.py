"""Materializing into a real PostgreSQL database: rows, metadata, checks, reference pools."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg
import pytest
from dagster_support import (
    FIXTURES,
    check_results,
    copy_genfile,
    edit_table,
    failure_messages,
    fingerprint,
    materialize,
    materialized_keys,
    metadata_value,
    row_count,
    table_exists,
)

from datastorm_core.genfile import load_genfile
from datastorm_core.run import RunOptions, run
from datastorm_dagster import DatastormTranslator, DatastormTranslatorSettings, build_definitions

pytestmark = pytest.mark.postgres

BANK = FIXTURES / "bank.toml"
RECORDS = {t.name: t.records for t in load_genfile(BANK).tables}


def _constraint(conn: psycopg.Connection, table: str, kind: str, column: str) -> str:
    """The name of the constraint of ``kind`` (p, u, f) on ``table.column``."""
    row = conn.execute(
        "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
        "AND a.attnum = ANY (c.conkey) WHERE c.conrelid = %s::regclass AND c.contype = %s "
        "AND a.attname = %s", (table, kind, column)).fetchone()
    assert row, f"no {kind} constraint on {table}.{column}"
    return str(row[0])


@pytest.fixture
def bank(pg_url: str) -> tuple[dg.Definitions, dg.DagsterInstance]:
    """The bank Genfile's definitions and an instance where all of it materialized once."""
    defs = build_definitions(BANK, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    result = materialize(defs, instance)
    assert result.success, failure_messages(result)
    return defs, instance


def test_materialize_everything_writes_every_table_and_passes_every_check(
        pg_url: str) -> None:
    defs = build_definitions(BANK, target=pg_url)
    genfile = load_genfile(BANK)

    result = materialize(defs, dg.DagsterInstance.ephemeral())

    assert result.success, failure_messages(result)
    assert materialized_keys(result) == set(RECORDS)
    for table, records in RECORDS.items():
        assert row_count(pg_url, table) == records
    checks = check_results(result)
    assert len(checks) == len(defs.resolve_asset_graph().asset_check_keys) == 12
    assert all(c.passed for c in checks.values()), [k for k, c in checks.items()
                                                    if not c.passed]
    assert metadata_value(checks["customer", "row_count"].metadata["actual"]) == 120
    assert metadata_value(checks["account", "no_orphan_customer_id"].metadata["orphans"]) == 0

    for event in result.get_asset_materialization_events():
        table = event.asset_key.path[-1]
        metadata = event.materialization.metadata
        assert metadata_value(metadata["dagster/row_count"]) == RECORDS[table]
        schema = metadata_value(metadata["dagster/column_schema"])
        assert [c.name for c in schema.columns] == list(genfile.table(table).field_names)
        assert metadata_value(metadata["datastorm/seed"]) == 7
        assert metadata_value(metadata["datastorm/genfile_digest"]) == genfile.digest
        assert metadata_value(metadata["datastorm/rows_per_second"]) > 0
        preview = metadata_value(metadata["datastorm/preview"])
        assert preview.splitlines()[0] == "| " + " | ".join(c.name for c in schema.columns) + " |"
        assert len(preview.splitlines()) == 2 + 5  # header, rule, five rows
        pool = metadata_value(metadata["datastorm/reference_pool"])
        assert pool["table"] == table and pool["rows"] == RECORDS[table]
        assert pool["seed"] == 7
        assert pool["table_digest"] == genfile.table_digests[table]
        assert "password" not in str(metadata_value(metadata["datastorm/target"]))


def test_dagster_writes_what_the_cli_writes(bank: tuple[dg.Definitions, dg.DagsterInstance],
                                            pg_url: str, fresh_database) -> None:
    other = fresh_database()
    run(load_genfile(BANK), RunOptions(target=other))

    for table in RECORDS:
        assert fingerprint(pg_url, table) == fingerprint(other, table)


def test_materializing_again_replaces_rows_without_duplicates(
        bank: tuple[dg.Definitions, dg.DagsterInstance], pg_url: str) -> None:
    defs, instance = bank
    before = {t: fingerprint(pg_url, t) for t in RECORDS}

    result = materialize(defs, instance)

    assert result.success, failure_messages(result)
    assert {t: fingerprint(pg_url, t) for t in RECORDS} == before


def test_checks_fail_on_a_broken_database_with_their_evidence(
        bank: tuple[dg.Definitions, dg.DagsterInstance], pg_url: str) -> None:
    defs, instance = bank
    with psycopg.connect(pg_url, autocommit=True) as conn:
        # An orphan account: foreign keys are not enforced under replica role.
        conn.execute("SET session_replication_role = replica")
        conn.execute("INSERT INTO account (id, customer_id, balance) VALUES (100000, 999999, 1)")
        conn.execute("SET session_replication_role = DEFAULT")
        # A duplicate e-mail and a duplicate product key, once their constraints are gone.
        conn.execute(f"ALTER TABLE customer DROP CONSTRAINT "
                     f"{_constraint(conn, 'customer', 'u', 'email')}")
        conn.execute("UPDATE customer SET email = (SELECT email FROM customer WHERE id = 1) "
                     "WHERE id = 2")
        conn.execute(f"ALTER TABLE product DROP CONSTRAINT "
                     f"{_constraint(conn, 'product', 'p', 'id')}")
        conn.execute("INSERT INTO product (id, sku) VALUES (3, 'not-a-sku')")
        # Missing payments.
        conn.execute("DELETE FROM payment WHERE id <= 10")
    # One checks-only run per table: in a run of every check, the failing blocking
    # checks of customer would skip the checks of the tables downstream of it.
    checks = {}
    for table in RECORDS:
        result = materialize(defs, instance, selection=dg.AssetSelection.checks_for_assets(
            dg.AssetKey([table])))
        assert materialized_keys(result) == set()  # checks only: nothing rewritten
        checks.update(check_results(result))

    assert len(checks) == 12  # every check ran
    failed = {key for key, c in checks.items() if not c.passed}
    assert failed == {("account", "no_orphan_customer_id"), ("customer", "unique_email"),
                      ("product", "primary_key_unique"), ("payment", "row_count"),
                      # the orphan account and the duplicate product are rows too many
                      ("account", "row_count"), ("product", "row_count")}
    evidence = {key: {k: metadata_value(v) for k, v in checks[key].metadata.items()}
                for key in failed}
    assert evidence["account", "no_orphan_customer_id"] == {"orphans": 1,
                                                            "parent_partitions_missing": 0}
    assert evidence["customer", "unique_email"] == {"duplicates": 1}
    assert evidence["product", "primary_key_unique"] == {"duplicates": 1}
    assert evidence["payment", "row_count"] == {"expected": 450, "actual": 440}
    assert evidence["account", "row_count"] == {"expected": 300, "actual": 301}
    assert evidence["product", "row_count"] == {"expected": 40, "actual": 41}


def test_checks_report_a_missing_table(bank: tuple[dg.Definitions, dg.DagsterInstance],
                                       pg_url: str) -> None:
    defs, instance = bank
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE payment")

    result = materialize(defs, instance,
                         selection=dg.AssetSelection.checks_for_assets(dg.AssetKey(["payment"])))

    checks = check_results(result)
    assert {name for (_, name) in checks} == {"row_count", "primary_key_unique",
                                              "no_orphan_account_id"}
    assert all(not c.passed for c in checks.values())
    assert all(metadata_value(c.metadata["reason"]) == "table does not exist"
               for c in checks.values())


def test_only_referenced_tables_have_blocking_checks(pg_url: str) -> None:
    def blocking(defs: dg.Definitions) -> dict[str, bool]:
        graph = defs.resolve_asset_graph()
        found: dict[str, bool] = {}
        for key in graph.asset_check_keys:
            spec = graph.get_check_spec(key)
            found[key.asset_key.path[-1]] = found.get(key.asset_key.path[-1], False) \
                or spec.blocking
        return found

    assert blocking(build_definitions(BANK, target=pg_url)) == {
        "customer": True, "account": True, "payment": False, "product": False}
    off = DatastormTranslator(DatastormTranslatorSettings(blocking_checks=False))
    assert not any(blocking(build_definitions(BANK, target=pg_url, translator=off)).values())


def test_a_failing_blocking_check_of_the_parent_stops_the_child(
        bank: tuple[dg.Definitions, dg.DagsterInstance], pg_url: str) -> None:
    defs, instance = bank
    selection = (dg.AssetSelection.assets("account")
                 | dg.AssetSelection.checks_for_assets(dg.AssetKey(["customer"])))
    # Control: with a whole parent, the child is rewritten in the same run.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM payment")  # so that accounts may be deleted
        conn.execute("DELETE FROM account WHERE id > 250")
    result = materialize(defs, instance, selection=selection)
    assert result.success, failure_messages(result)
    assert materialized_keys(result) == {"account"}
    assert row_count(pg_url, "account") == 300

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE customer DROP CONSTRAINT "
                     f"{_constraint(conn, 'customer', 'u', 'email')}")
        conn.execute("UPDATE customer SET email = 'same@example.com' WHERE id IN (5, 6)")
        conn.execute("DELETE FROM payment")
        conn.execute("DELETE FROM account WHERE id > 250")

    result = materialize(defs, instance, selection=selection)

    assert not result.success
    assert materialized_keys(result) == set()
    assert not check_results(result)["customer", "unique_email"].passed
    # The checks run in the asset's own step (checks only: the table is not rewritten).
    assert "datastorm_customer" in failure_messages(result)
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert "datastorm_account" not in started
    assert row_count(pg_url, "account") == 250  # the child was not written

    # A run of every check (nothing written) reports each table's own state.
    result = materialize(defs, instance, selection=dg.AssetSelection.all_asset_checks())
    checks = check_results(result)
    assert {table for table, _ in checks} == {"customer", "account", "payment", "product"}
    assert not checks["customer", "unique_email"].passed
    assert not checks["account", "row_count"].passed  # 250 of 300
    assert checks["product", "row_count"].passed
    assert materialized_keys(result) == set()


def test_a_child_refuses_a_parent_generated_from_another_definition(
        tmp_path: Path, pg_url: str) -> None:
    genfile = copy_genfile(tmp_path, "bank.toml")
    defs = build_definitions(genfile, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize(defs, instance, selection=["customer"]).success
    # Control: the parent matches the Genfile, so the child may be written alone.
    result = materialize(defs, instance, selection=["account"])
    assert result.success, failure_messages(result)
    before = fingerprint(pg_url, "account")

    edit_table(genfile, "customer", "records = 120", "records = 150")
    result = materialize(defs, instance, selection=["account"])

    assert not result.success
    message = failure_messages(result)["datastorm_account"]
    assert "'customer'" in message and "materialize 'customer' first" in message
    assert fingerprint(pg_url, "account") == before  # nothing written
    # Once the parent is regenerated, the child follows.
    result = materialize(defs, instance, selection=["customer", "account"])
    assert result.success, failure_messages(result)
    assert row_count(pg_url, "customer") == 150


def test_a_child_refuses_a_parent_generated_with_another_seed(
        tmp_path: Path, pg_url: str) -> None:
    genfile = copy_genfile(tmp_path, "tiny.toml")
    defs = build_definitions(genfile, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize(defs, instance, selection=["customer"]).success

    edit_table(genfile, "dataset", "seed = 3", "seed = 4")
    result = materialize(defs, instance, selection=["account"])

    assert not result.success
    assert "'customer'" in failure_messages(result)["datastorm_account"]
    assert row_count(pg_url, "customer") == 50
    assert not table_exists(pg_url, "account")


def test_a_hierarchy_materializes_and_its_self_reference_is_checked(tmp_path: Path,
                                                                   pg_url: str) -> None:
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text('[employee]\nrecords = 200\n[employee.id]\ntype = "sequence"\n'
                       '[employee.manager_id]\ntype = "reference"\nref = "employee.id"\n'
                       'root_rate = 0.05\n', encoding="utf-8")
    defs = build_definitions(genfile, target=pg_url)
    result = materialize(defs, dg.DagsterInstance.ephemeral())
    assert result.success, failure_messages(result)
    checks = check_results(result)
    assert checks["employee", "no_orphan_manager_id"].passed
    assert row_count(pg_url, "employee") == 200

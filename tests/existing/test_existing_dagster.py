"""An imported Genfile in Dagster: its tables are assets, the tables it leaves be external."""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from e2e_support import run_cli
from existing_support import APP_SCHEMA, PAGILA, load_sql, rows, schema_dump

from datastorm_dagster.factory import build_definitions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dagster"))
from dagster_support import check_results, materialize, materialized_keys

pytestmark = pytest.mark.postgres


def imported(capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path, *options: str
             ) -> Path:
    path = tmp_path / "Genfile.toml"
    result = run_cli(capsys, "import", url, "-o", str(path), *options)
    assert result.code == 0, result.both
    return path


def test_excluded_parents_are_external_assets_and_the_rest_materializes(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, APP_SCHEMA.replace("GRANT SELECT ON customer TO ROLE;", ""))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO customer (name) SELECT 'c' || i FROM generate_series(1, 40) i")
        before = rows(conn, "SELECT * FROM customer ORDER BY id")
    genfile = imported(capsys, pg_url, tmp_path, "--exclude", "customer", "--rows", "200")
    dump = schema_dump(pg_url)
    defs = build_definitions(genfile, target=pg_url)
    graph = defs.resolve_asset_graph()
    customer, account = dg.AssetKey("customer"), dg.AssetKey("account")
    assert graph.get(customer).is_external and not graph.get(customer).is_materializable
    assert customer in graph.get(account).parent_keys
    with dg.instance_for_test() as instance:
        result = materialize(defs, instance)
        assert result.success
        # audit too: the trigger that fills it is on customer, which is kept as it is
        assert materialized_keys(result) == {"account", "audit"}
        checks = check_results(result)
        assert checks and all(e.passed for e in checks.values()), checks
    assert schema_dump(pg_url) == dump
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT * FROM customer ORDER BY id") == before
        assert rows(conn, "SELECT count(*), count(DISTINCT customer_id) <= 40 FROM account"
                    ) == [(200, True)]


def test_pagila_materializes_in_dagster_and_a_parent_alone_empties_its_children(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, PAGILA.read_text(encoding="utf-8"))
    dump = schema_dump(pg_url)
    genfile = imported(capsys, pg_url, tmp_path, "--rows", "100")
    defs = build_definitions(genfile, target=pg_url)
    with dg.instance_for_test() as instance:
        result = materialize(defs, instance)
        assert result.success
        assert len(materialized_keys(result)) == 15
        checks = check_results(result)
        assert all(e.passed for e in checks.values()), checks
        # The language asset alone: film (which references it) is emptied with it and
        # said so; the application's schema is untouched.
        alone = materialize(defs, instance, selection=["language"])
        assert alone.success
        events = alone.get_asset_materialization_events()
        warnings = events[0].materialization.metadata["datastorm/warnings"].value
        assert any("film" in w and "emptied too" in w for w in warnings)
    assert schema_dump(pg_url) == dump
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(*) FROM language") == [(100,)]
        assert rows(conn, "SELECT count(*) FROM film") == [(0,)]

"""``datastorm import``: a Genfile from a live schema that runs as written, round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2e_support import run_cli
from existing_support import APP_SCHEMA, PAGILA, load_sql, rows, schema_dump

from datastorm_core.genfile import load_genfile

pytestmark = pytest.mark.postgres

PAGILA_TABLES = ["actor", "address", "category", "city", "country", "customer", "film",
                 "film_actor", "film_category", "inventory", "language", "payment", "rental",
                 "staff", "store"]


def import_and_run(capsys: pytest.CaptureFixture[str], url: str, tmp_path: Path,
                   *options: str) -> tuple[str, str]:
    """``import URL -o g.toml`` then ``run g.toml --target URL``: the round trip, no edits.

    Returns the Genfile's path and what the import printed on stderr.
    """
    genfile = str(tmp_path / "imported.toml")
    imported = run_cli(capsys, "import", url, "-o", genfile, *options)
    assert imported.code == 0, imported.both
    result = run_cli(capsys, "run", genfile, "--target", url)
    assert result.code == 0, result.both
    return genfile, imported.err


@pytest.fixture
def app_db(pg_url: str) -> str:
    load_sql(pg_url, APP_SCHEMA.replace("GRANT SELECT ON customer TO ROLE;", ""))
    return pg_url


def test_the_issue_schema_round_trips_and_keeps_its_schema(
        app_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = schema_dump(app_db)
    genfile, said = import_and_run(capsys, app_db, tmp_path, "--rows", "300")
    text = Path(genfile).read_text(encoding="utf-8")
    # Comments say where each choice came from.
    assert "[customer.email]  # text, unique: the column's name says email" in text
    assert 'values = ["active", "blocked"]' in text  # the CHECK's IN list
    assert "[customer.id]  # bigint, NOT NULL, primary key" in text
    assert schema_dump(app_db) == before
    with psycopg.connect(app_db, autocommit=True) as conn:
        assert rows(conn, "SELECT count(*) FROM customer") == [(300,)]
        assert rows(conn, "SELECT count(*) FROM account") == [(300,)]
        assert rows(conn, "SELECT count(*) FROM account a LEFT JOIN customer c "
                          "ON c.id = a.customer_id WHERE c.id IS NULL") == [(0,)]
        assert rows(conn, "SELECT min(balance) > -1000 FROM account") == [(True,)]
        assert rows(conn, "INSERT INTO customer (name) VALUES ('x') RETURNING id") == [(301,)]
    # The audit table is filled by the application's trigger, not generated.
    assert "[audit]" not in text
    assert "audit is left out: trigger customer_audit of customer fills it" in said


def test_excluded_parents_stay_as_they_are_and_references_draw_from_their_rows(
        app_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(app_db, autocommit=True) as conn:
        conn.execute("INSERT INTO customer (id, name, email) SELECT i, 'c' || i, "
                     "'c' || i || '@example.com' FROM generate_series(100, 180, 4) AS i")
        before = rows(conn, "SELECT * FROM customer ORDER BY id")
    genfile, _ = import_and_run(capsys, app_db, tmp_path, "--exclude", "customer,audit",
                                "--rows", "500")
    text = Path(genfile).read_text(encoding="utf-8")
    assert "[customer]\nexisting = true" in text
    with psycopg.connect(app_db) as conn:
        assert rows(conn, "SELECT * FROM customer ORDER BY id") == before
        ids = {r[0] for r in rows(conn, "SELECT DISTINCT customer_id FROM account")}
        assert ids <= set(range(100, 181, 4)) and len(ids) > 10


def test_names_a_genfile_cannot_hold_as_sections_are_still_imported_and_loaded(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE dataset (id serial PRIMARY KEY, label varchar(30) NOT NULL);
        CREATE TABLE "order-items" (id serial PRIMARY KEY,
            dataset_id int NOT NULL REFERENCES dataset(id), "Unit Price" numeric(8,2),
            "naïve" text);
    """)
    before = schema_dump(pg_url)
    genfile, _ = import_and_run(capsys, pg_url, tmp_path, "--rows", "50")
    text = Path(genfile).read_text(encoding="utf-8")
    assert '[t_dataset]\ntable = "dataset"' in text
    assert '[order_items]\ntable = "order-items"' in text
    assert '[order_items."Unit Price"]' in text
    assert schema_dump(pg_url) == before
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, 'SELECT count(*) FROM "order-items"') == [(50,)]
        assert rows(conn, 'SELECT count(*) FROM dataset') == [(50,)]


def test_pagila_imports_runs_and_keeps_everything_it_had(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, PAGILA.read_text(encoding="utf-8"))
    before = schema_dump(pg_url)
    genfile, _ = import_and_run(capsys, pg_url, tmp_path, "--rows", "400")
    assert schema_dump(pg_url) == before
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for table in PAGILA_TABLES:
            assert rows(conn, f"SELECT count(*) > 0 FROM {table}") == [(True,)], table
        # Payments landed in their monthly partitions, each inside its partition's bounds.
        spread = rows(conn, "SELECT count(DISTINCT tableoid) FROM payment")[0][0]
        assert spread > 12
        assert rows(conn, "SELECT count(*) FROM ONLY payment") == [(0,)]
        assert rows(conn, "SELECT bool_and(to_char(payment_date AT TIME ZONE 'UTC', "
                          "'\"payment_p\"YYYY_MM') = tableoid::regclass::text) "
                          "FROM payment") == [(True,)]
        # film.fulltext was written by the application's trigger, from title and description.
        assert rows(conn, "SELECT bool_and(fulltext = to_tsvector('pg_catalog.english', "
                          "coalesce(title, '') || ' ' || coalesce(description, ''))) "
                          "FROM film") == [(True,)]
        # Views and the materialized view answer.
        for view in ("actor_info", "customer_list", "film_list", "sales_by_store",
                     "staff_list"):
            assert rows(conn, f"SELECT count(*) >= 0 FROM {view}") == [(True,)]
        conn.execute("REFRESH MATERIALIZED VIEW rental_by_category")
        assert rows(conn, "SELECT count(*) > 0 FROM rental_by_category") == [(True,)]
        # The application's next insert works.
        new = rows(conn, "INSERT INTO actor (first_name, last_name) VALUES ('Ann', 'Lee') "
                         "RETURNING actor_id")
        assert new == [(401,)]
        conn.execute("DELETE FROM actor WHERE actor_id = 401")
    # A rerun of the same Genfile gives the same rows.
    first = _fingerprint(pg_url, ["film", "payment", "rental", "customer"])
    assert run_cli(capsys, "run", genfile, "--target", pg_url).code == 0
    assert _fingerprint(pg_url, ["film", "payment", "rental", "customer"]) == first
    assert schema_dump(pg_url) == before


def test_the_imported_genfile_validates_and_plans_as_written(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, PAGILA.read_text(encoding="utf-8"))
    genfile = str(tmp_path / "pagila.toml")
    assert run_cli(capsys, "import", pg_url, "-o", genfile).code == 0
    assert run_cli(capsys, "validate", genfile).code == 0
    parsed = load_genfile(genfile, target_overridden=True)
    assert sorted(t.name for t in parsed.tables) == PAGILA_TABLES
    plan = run_cli(capsys, "plan", genfile, "--target", pg_url, "--format", "json")
    assert plan.code == 0, plan.both
    assert "application" in plan.out and "truncated and loaded" in plan.out


def _fingerprint(url: str, tables: list[str]) -> dict[str, Any]:
    """md5 of each table's rows, without the columns the database fills (now())."""
    out = {}
    with psycopg.connect(url) as conn:
        for table in tables:
            out[table] = rows(conn, f"SELECT md5(string_agg((t)::text, '|' ORDER BY t::text)) "
                                    f"FROM (SELECT * FROM {table}) AS t")
    return out

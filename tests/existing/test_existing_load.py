"""Filling an application's tables: loaded in place, and nothing about them altered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2e_support import copy_backend, finish, run_cli, start_cli, write
from existing_support import APP_GENFILE, APP_SCHEMA, load_sql, rows, schema_dump, table_rows

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_role(pg_server_url: str, pg_url: str) -> Iterator[str]:
    """A role the application grants to; dropped with what it owns after the test."""
    role = f"app_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}"')
    try:
        yield role
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def app_db(pg_url: str, app_role: str) -> str:
    """The issue's application schema, made by its own SQL, with no rows."""
    load_sql(pg_url, APP_SCHEMA.replace("TO ROLE", f'TO "{app_role}"'))
    return pg_url


def genfile(tmp_path: Path, text: str = APP_GENFILE, target: str | None = None) -> str:
    if target is not None:
        text = text.replace("[dataset]\n", f'[target]\nurl = "{target}"\n\n[dataset]\n', 1)
    return write(tmp_path, text)


def test_a_run_fills_the_applications_tables_and_changes_nothing_of_their_schema(
        app_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = schema_dump(app_db)
    result = run_cli(capsys, "run", genfile(tmp_path), "--target", app_db)
    assert result.code == 0, result.both
    assert schema_dump(app_db) == before  # view, columns, defaults, checks, trigger, grant...
    with psycopg.connect(app_db) as conn:
        assert rows(conn, "SELECT count(*), min(id), max(id) FROM customer") == [(400, 1, 400)]
        assert rows(conn, "SELECT count(*) FROM account") == [(1000,)]
        # columns the Genfile leaves out got the application's defaults
        assert rows(conn, "SELECT DISTINCT status FROM customer") == [("active",)]
        assert rows(conn, "SELECT count(*) FROM customer WHERE created_at IS NULL") == [(0,)]
        # the application's trigger fired for every loaded row
        assert rows(conn, "SELECT count(DISTINCT customer_id) FROM audit") == [(400,)]
        # its view answers over the new rows
        rich = rows(conn, "SELECT count(*) FROM rich")[0][0]
        assert rich == rows(conn, "SELECT count(*) FROM account WHERE balance > 10000")[0][0] > 0
        # and its next insert works: the sequence is past the loaded keys
        new = rows(conn, "INSERT INTO customer (name) VALUES ('next one') RETURNING id, status")
        assert new == [(401, "active")]
        assert rows(conn, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'datastorm%'"
                    ) == [(0,)]  # nothing of datastorm's was left in the schema


def test_a_rerun_gives_the_same_rows(app_db: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = genfile(tmp_path)
    assert run_cli(capsys, "run", path, "--target", app_db).code == 0
    first = table_rows(app_db, "account"), table_rows(app_db, "customer", "id")
    assert run_cli(capsys, "run", path, "--target", app_db).code == 0
    again = table_rows(app_db, "account"), table_rows(app_db, "customer", "id")
    strip = [[r[:4] for r in first[1]], [r[:4] for r in again[1]]]  # created_at is now()
    assert first[0] == again[0] and strip[0] == strip[1]


def test_a_failed_run_leaves_the_applications_tables_as_they_were(
        app_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "run", genfile(tmp_path), "--target", app_db).code == 0
    before = table_rows(app_db, "customer"), table_rows(app_db, "account")
    # balances below the application's CHECK (balance > -1000): the server refuses a row
    broken = APP_GENFILE.replace("min = -500", "min = -5000").replace("seed = 7", "seed = 8")
    result = run_cli(capsys, "run", write(tmp_path, broken, "broken.toml"), "--target", app_db,
                     "--batch-size", "100")
    assert result.code in (1, 2)
    assert "account_balance_check" in result.err or "balance" in result.err
    assert (table_rows(app_db, "customer"), table_rows(app_db, "account")) == before


def test_an_interrupted_run_leaves_the_applications_tables_as_they_were(
        app_db: str, tmp_path: Path, pg_conn: Any) -> None:
    big = APP_GENFILE.replace("records = 400", "records = 400000").replace(
        "records = 1000", "records = 1000000")
    small = genfile(tmp_path)
    process = start_cli("run", small, "--target", app_db)
    assert finish(process).code == 0
    before = table_rows(app_db, "customer"), table_rows(app_db, "account")
    process = start_cli("run", write(tmp_path, big, "big.toml"), "--target", app_db)
    copy_backend(pg_conn, app_db.rsplit("/", 1)[1], process)
    process.send_signal(2)
    result = finish(process)
    assert result.code == 130, result.err
    assert "Traceback" not in result.err
    assert (table_rows(app_db, "customer"), table_rows(app_db, "account")) == before


def test_a_table_outside_the_run_whose_keys_would_cascade_makes_the_run_refuse(
        app_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(app_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE ticket (id serial PRIMARY KEY, "
                     "customer_id bigint REFERENCES customer(id))")
    assert run_cli(capsys, "run", genfile(tmp_path), "--target", app_db).code == 0
    with psycopg.connect(app_db, autocommit=True) as conn:
        conn.execute("INSERT INTO ticket (customer_id) VALUES (1), (2)")
    before = table_rows(app_db, "customer")
    result = run_cli(capsys, "run", genfile(tmp_path), "--target", app_db)
    assert result.code == 2
    assert "ticket" in result.err and 'truncate = "cascade"' in result.err
    assert "Traceback" not in result.err
    assert table_rows(app_db, "customer") == before
    assert table_rows(app_db, "ticket") == [(1, 1), (2, 2)]
    # Opting in empties the referencing table too, and says so.
    opted = APP_GENFILE.replace("[dataset]\n", '[target]\ntruncate = "cascade"\n\n[dataset]\n')
    result = run_cli(capsys, "run", write(tmp_path, opted, "opted.toml"), "--target", app_db)
    assert result.code == 0, result.both
    assert "ticket was emptied too" in result.err
    assert table_rows(app_db, "ticket") == []


def test_triggers_can_be_disabled_for_the_load_and_come_back_as_they_were(
        app_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(app_db, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN NEW.name := 'stamped'; RETURN NEW; END $$")
        conn.execute("CREATE TRIGGER stamp_always BEFORE INSERT ON customer "
                     "FOR EACH ROW EXECUTE FUNCTION stamp()")
        conn.execute("ALTER TABLE customer ENABLE ALWAYS TRIGGER stamp_always")
        conn.execute("CREATE TRIGGER off_already BEFORE INSERT ON account "
                     "FOR EACH ROW EXECUTE FUNCTION stamp()")
        conn.execute("ALTER TABLE account DISABLE TRIGGER off_already")
    states = "SELECT tgname, tgenabled::text FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
    with psycopg.connect(app_db) as conn:
        before = rows(conn, states)
    before_dump = schema_dump(app_db)
    text = APP_GENFILE.replace("[dataset]\n", '[target]\ntriggers = "disable"\n\n[dataset]\n')
    result = run_cli(capsys, "run", write(tmp_path, text), "--target", app_db)
    assert result.code == 0, result.both
    with psycopg.connect(app_db) as conn:
        assert rows(conn, "SELECT count(*) FROM audit") == [(0,)]  # no trigger fired
        assert rows(conn, "SELECT count(*) FROM customer WHERE name = 'stamped'") == [(0,)]
        assert rows(conn, states) == before  # ALWAYS, ORIGIN and DISABLED as they were
        assert before == [("customer_audit", "O"), ("off_already", "D"), ("stamp_always", "A")]
    assert schema_dump(app_db) == before_dump


def test_an_identity_column_is_written_and_its_sequence_moved(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE tag (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                          label varchar(40) NOT NULL);
        -- two tables draw from one sequence: the one datastorm does not load keeps its keys
        CREATE SEQUENCE shared_ids;
        CREATE TABLE note (id bigint PRIMARY KEY DEFAULT nextval('shared_ids'), body text);
        CREATE TABLE memo (id bigint PRIMARY KEY DEFAULT nextval('shared_ids'), body text);
        INSERT INTO memo (body) SELECT 'memo ' || i FROM generate_series(1, 500) AS i;
    """)
    text = """\
[tag]
records = 50
[tag.id]
type = "sequence"
[tag.label]
type = "string"
length = [3, 12]

[note]
records = 20
[note.id]
type = "sequence"
[note.body]
type = "text"
"""
    result = run_cli(capsys, "run", write(tmp_path, text), "--target", pg_url)
    assert result.code == 0, result.both
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert rows(conn, "INSERT INTO tag (label) VALUES ('new') RETURNING id") == [(51,)]
        # note's 20 keys are below memo's 500: the shared sequence only moves forward
        assert rows(conn, "INSERT INTO memo (body) VALUES ('x') RETURNING id") == [(501,)]
        assert rows(conn, "INSERT INTO note (body) VALUES ('x') RETURNING id") == [(502,)]


def test_a_view_on_a_table_datastorm_created_keeps_the_table_in_place(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = genfile(tmp_path)
    assert run_cli(capsys, "run", path, "--target", pg_url).code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE VIEW big_accounts AS SELECT * FROM account WHERE balance > 100")
        conn.execute("COMMENT ON VIEW big_accounts IS 'mine'")
    plan = run_cli(capsys, "plan", path, "--target", pg_url, "--format", "json")
    assert plan.code == 0, plan.both
    tables = {entry["table"]: entry for entry in json.loads(plan.out)}
    assert tables["customer"]["owner"] == tables["account"]["owner"] == "datastorm"
    assert tables["customer"]["action"] == "dropped and created again"
    assert tables["account"]["action"].startswith("truncated and loaded; kept as it is")
    assert "view big_accounts" in tables["account"]["action"]
    assert "comment" not in tables["account"]["action"]  # the view's comment is the view's
    before = schema_dump(pg_url)
    second = APP_GENFILE.replace("seed = 7", "seed = 9")
    result = run_cli(capsys, "run", write(tmp_path, second, "second.toml"), "--target", pg_url)
    assert result.code == 0, result.both
    assert schema_dump(pg_url).count("big_accounts") == before.count("big_accounts") > 0
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(*) FROM big_accounts")[0][0] > 0
        assert rows(conn, "SELECT obj_description('big_accounts'::regclass)") == [("mine",)]


@pytest.mark.parametrize("checks", ["bulk", "row"])
def test_a_reference_to_a_missing_parent_fails_the_run_either_way(
        app_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], checks: str) -> None:
    """Loaded without per-row checks (bulk), each key is checked once before the commit."""
    text = APP_GENFILE.replace("[dataset]\n", f'[target]\nreference_checks = "{checks}"\n\n'
                               "[dataset]\n", 1)
    path = write(tmp_path, text)
    assert run_cli(capsys, "run", path, "--target", app_db).code == 0
    with psycopg.connect(app_db, autocommit=True) as conn:
        # The customers the Genfile describes are not those in the table any more.
        conn.execute("TRUNCATE account")
        conn.execute("UPDATE customer SET id = id + 100000")
        before = rows(conn, "SELECT * FROM customer ORDER BY id")
    result = run_cli(capsys, "run", path, "--target", app_db, "--tables", "account")
    assert result.code == 1, result.both
    assert "account_customer_id_fkey" in result.err and "Traceback" not in result.err
    # bulk: datastorm's own check of the key; row: the server's, as the row arrived
    said = "references no row of customer" if checks == "bulk" else "violates foreign key"
    assert said in result.err, result.err
    with psycopg.connect(app_db) as conn:
        assert rows(conn, "SELECT count(*) FROM account") == [(0,)]  # as it was before the run
        assert rows(conn, "SELECT * FROM customer ORDER BY id") == before


def test_a_replica_trigger_stays_asleep_and_an_always_one_fires(
        app_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(app_db, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN RAISE EXCEPTION 'a replica trigger fired'; END $$")
        conn.execute("CREATE TRIGGER on_replica BEFORE INSERT ON account "
                     "FOR EACH ROW EXECUTE FUNCTION refuse()")
        conn.execute("ALTER TABLE account ENABLE REPLICA TRIGGER on_replica")
    result = run_cli(capsys, "run", genfile(tmp_path), "--target", app_db)
    assert result.code == 0, result.both
    with psycopg.connect(app_db) as conn:
        assert rows(conn, "SELECT count(*) FROM account") == [(1000,)]


@pytest.mark.parametrize("owner", ["datastorm", "application"])
def test_a_lock_held_elsewhere_is_waited_for_a_bounded_time_and_named(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], owner: str) -> None:
    import time

    if owner == "application":
        load_sql(pg_url, APP_SCHEMA.replace("GRANT SELECT ON customer TO ROLE;", ""))
    path = genfile(tmp_path)
    assert run_cli(capsys, "run", path, "--target", pg_url).code == 0
    before = table_rows(pg_url, "account")
    with psycopg.connect(pg_url, application_name="slow-report") as reader:
        reader.execute("SELECT count(*) FROM account")  # its transaction stays open
        started = time.monotonic()
        result = run_cli(capsys, "run", path, "--target", pg_url, "--lock-timeout", "1")
        waited = time.monotonic() - started
    assert result.code == 1, result.both
    assert waited < 15
    assert "lock_timeout" in result.err and "slow-report" in result.err, result.err
    assert "nothing was changed" in result.err and "Traceback" not in result.err
    assert table_rows(pg_url, "account") == before

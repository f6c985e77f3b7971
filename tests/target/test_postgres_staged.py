"""A staged load (copy_connections > 1): several COPY sessions, swapped in at commit."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from target_support import ORDER, USER, PostgresBackend, Table, order_rows, run, user_rows
from test_postgres_target import constraints_of

from datastorm_core.errors import TargetError, UsageError
from datastorm_core.target import open_target
from datastorm_core.target.postgres import ownership
from datastorm_core.target.postgres.ownership import LEDGER
from datastorm_core.target.postgres.scratch import PREFIX, default_key_name, run_lock_key

pytestmark = pytest.mark.postgres

USERS = user_rows(300)
ORDERS = order_rows(900, users=300)


def scratch_tables(pg: PostgresBackend) -> list[str]:
    return [r[0] for r in pg.query("SELECT relname FROM pg_class WHERE relname LIKE %s",
                                   (PREFIX.replace("_", "\\_") + "%",))]


def constraint_names(pg: PostgresBackend) -> set[tuple[str, str]]:
    return {(r[0], r[1]) for r in pg.query(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace AND conrelid <> %s::regclass", (LEDGER,))}


def test_staged_and_single_session_loads_give_the_same_tables(pg_url: str) -> None:
    staged = PostgresBackend(pg_url, "after_load", 3)
    run(staged.open(), [Table(USER, USERS), Table(ORDER, ORDERS)], batch_rows=40)
    rows = (staged.read(USER), staged.read(ORDER))
    names, keys = constraint_names(staged), constraints_of(staged)
    assert scratch_tables(staged) == []

    single = PostgresBackend(pg_url, "after_load", 1)
    run(single.open(), [Table(USER, USERS), Table(ORDER, ORDERS)], batch_rows=40)
    assert (single.read(USER), single.read(ORDER)) == rows
    # the keys carry the names PostgreSQL gives them in a plain load
    assert constraint_names(single) == names == {
        ('"user"', "user_pkey"), ('"user"', "user_email_key"), ('"order"', "order_pkey"),
        ('"order"', "order_user_id_fkey")}
    assert constraints_of(single) == keys
    assert sorted(r[0] for r in rows[0]) == list(range(1, 301))


def test_a_failed_staged_run_keeps_the_old_tables_and_drops_its_scratch(pg_url: str) -> None:
    pg = PostgresBackend(pg_url, "after_load", 2)
    run(pg.open(), [Table(USER, USERS[:50]), Table(ORDER, order_rows(100, users=50))])
    before = (pg.read(USER), pg.read(ORDER))
    with pytest.raises(Exception, match="fail"):
        run(pg.open(), [Table(USER, USERS), Table(ORDER, ORDERS, fail_at=5)])
    assert (pg.read(USER), pg.read(ORDER)) == before
    assert scratch_tables(pg) == []


def test_a_duplicate_key_fails_at_the_key_build_naming_the_table(pg_url: str) -> None:
    pg = PostgresBackend(pg_url, "after_load", 2)
    with pytest.raises(TargetError) as failure:
        run(pg.open(), [Table(USER, [*USERS[:10], USERS[3]])])
    message = str(failure.value)
    assert "adding the keys of table 'user'" in message
    assert "user_pkey" in message and "Key (id)=(4) is duplicated" in message
    assert PREFIX not in message  # the scratch name means nothing to the user
    assert not pg.exists("user") and scratch_tables(pg) == []


def test_scratch_tables_of_a_dead_run_are_dropped_and_a_live_ones_kept(
        pg_url: str, pg_conn: Any) -> None:
    dead, alive = "0123456789ab", "ba9876543210"
    run(PostgresBackend(pg_url, "after_load", 2).open(), [Table(USER, USERS[:5])])  # a ledger
    with pg_conn.transaction(), pg_conn.cursor() as cur:
        # What a staged run records as it creates its scratch tables, then dies (kill -9)
        # after a foreign key between them was built.
        for run_id in (dead, alive):
            cur.execute(f'CREATE TABLE "{PREFIX}{run_id}_0" (id bigint PRIMARY KEY)')
            ownership.record(cur, f"{PREFIX}{run_id}_0", "scratch", run_id)
        cur.execute(f'CREATE TABLE "{PREFIX}{dead}_1" (id bigint REFERENCES '
                    f'"{PREFIX}{dead}_0" (id))')
        ownership.record(cur, f"{PREFIX}{dead}_1", "scratch", dead)
        # A user's table that only looks like a dead run's: not in the ledger, never touched.
        cur.execute(f'CREATE TABLE "{PREFIX}fedcba987654_0" (note text)')
        cur.execute(f'''INSERT INTO "{PREFIX}fedcba987654_0" VALUES ('mine')''')
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (run_lock_key(alive),))
        pg = PostgresBackend(pg_url, "after_load", 2)
        run(pg.open(), [Table(USER, USERS[:20])])
        assert sorted(scratch_tables(pg)) == sorted([
            f"{PREFIX}{alive}_0", f"{PREFIX}{alive}_0_pkey", f"{PREFIX}fedcba987654_0"])
    assert pg_conn.execute(f'SELECT note FROM "{PREFIX}fedcba987654_0"').fetchall() == [("mine",)]


def test_copy_connections_is_checked() -> None:
    for bad in (0, 33, "2", True):
        with pytest.raises(UsageError, match="copy_connections must be a whole number"):
            open_target("postgresql://u@h/db", options={"copy_connections": bad})


@pytest.mark.parametrize(("table", "columns", "label"), [
    ("user", (), "pkey"),
    ("user", ("email",), "key"),
    ("t" * 60, ("email",), "key"),
    ("short", ("c" * 70,), "key"),
    ("a" * 40, ("b" * 40,), "key"),
    ("p" * 63, (), "pkey"),
])
def test_key_names_follow_postgresql(pg_conn: Any, table: str, columns: tuple[str, ...],
                                     label: str) -> None:
    column = columns[0] if columns else "id"
    key = "PRIMARY KEY" if label == "pkey" else "UNIQUE"
    pg_conn.execute(f'CREATE TABLE "{table}" ("{column}" bigint, {key} ("{column}"))')
    real = pg_conn.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass",
                           (f'"{table}"',)).fetchone()[0]
    assert default_key_name(table, columns, label) == real


def test_keys_whose_shortened_names_clash_get_postgresqls_names(pg_url: str) -> None:
    from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema

    prefix = "customer_contact_preference_" + "x" * 12
    wide = TableSchema("wide", (ColumnSchema("id", ColumnType.BIGINT, nullable=False),
                                ColumnSchema(prefix + "_email", ColumnType.TEXT),
                                ColumnSchema(prefix + "_phone", ColumnType.TEXT)),
                       primary_key=("id",), unique=(prefix + "_email", prefix + "_phone"))
    rows = [(i, f"e{i}", f"p{i}") for i in range(1, 50)]
    names = []
    for sessions in (2, 1):
        pg = PostgresBackend(pg_url, "after_load", sessions)
        run(pg.open(), [Table(wide, rows)])
        names.append(constraint_names(pg))
        assert scratch_tables(pg) == []
    assert names[0] == names[1] and len(names[0]) == 3


def test_a_staged_run_outlasts_idle_in_transaction_timeouts(pg_url: str, pg_conn: Any) -> None:
    from datastorm_core.genfile import loads_genfile
    from datastorm_core.run import RunOptions
    from datastorm_core.run import run as run_genfile

    database = pg_url.rsplit("/", 1)[1]
    pg_conn.execute(f'ALTER DATABASE "{database}" SET idle_in_transaction_session_timeout '
                    "= '300ms'")
    genfile = loads_genfile("""
[big]
records = 400000
id = { type = "sequence" }
name = { type = "name" }
[child]
records = 400000
id = { type = "sequence" }
big_id = { type = "reference", ref = "big.id" }
""")
    report = run_genfile(genfile, RunOptions(target=pg_url))
    assert report.stats.rows == 800_000
    pg = PostgresBackend(pg_url, "after_load")
    assert pg.query("SELECT count(*) FROM child")[0][0] == 400_000


def test_a_later_database_target_that_is_down_fails_before_the_first_commit(
        tmp_path: Any) -> None:
    import socket

    from datastorm_core.genfile import loads_genfile
    from datastorm_core.run import run as run_genfile

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    masters = tmp_path / "masters.db"
    genfile = loads_genfile(f"""
[target]
url = "sqlite:///{masters}"
[targets.archive]
url = "postgresql://postgres@127.0.0.1:{port}/postgres?connect_timeout=3"
[account]
records = 10
id = {{ type = "sequence" }}
[audit]
records = 10
target = "archive"
id = {{ type = "sequence" }}
account_id = {{ type = "reference", ref = "account.id" }}
""")
    with pytest.raises(TargetError, match=f"127.0.0.1:{port}"):
        run_genfile(genfile)
    assert not masters.exists()  # the first target was never written

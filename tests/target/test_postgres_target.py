"""PostgreSQL specifics: real keys and types, parents outside the run, abort, errors."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import pytest
from target_support import ORDER, USER, PostgresBackend, Table, order_rows, run, user_rows

from datastorm_core.errors import TargetError, UsageError
from datastorm_core.target import PostgresTarget, open_target

USERS = user_rows(25)
ORDERS = order_rows(60, users=25)


@pytest.fixture(params=["after_load", "after_load-single", "immediate"])
def pg(request: pytest.FixtureRequest, pg_url: str) -> PostgresBackend:
    constraints, _, single = request.param.partition("-")
    return PostgresBackend(pg_url, constraints, 1 if single else None)


def constraints_of(pg: PostgresBackend) -> set[tuple[str, str, str, str]]:
    """(table, kind, columns, referenced table) of every constraint in the database."""
    rows = pg.query("""
        SELECT c.conrelid::regclass::text, c.contype,
               (SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a
                 WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)),
               CASE WHEN c.confrelid = 0 THEN '' ELSE c.confrelid::regclass::text END
          FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
           AND c.conrelid <> 'datastorm_owned_tables'::regclass""")
    return {tuple(r) for r in rows}


@pytest.mark.postgres
def test_keys_are_created(pg: PostgresBackend) -> None:
    run(pg.open(), [Table(USER, USERS), Table(ORDER, ORDERS)])

    assert constraints_of(pg) == {
        ('"user"', "p", "id", ""),
        ('"user"', "u", "email", ""),
        ('"order"', "p", "id", ""),
        ('"order"', "f", "user_id", '"user"'),
    }


@pytest.mark.postgres
def test_column_types(pg: PostgresBackend) -> None:
    run(pg.open(), [Table(USER, USERS), Table(ORDER, ORDERS)])

    rows = pg.query("""
        SELECT table_name, column_name, data_type, numeric_precision, numeric_scale,
               is_nullable
          FROM information_schema.columns WHERE table_schema = 'public'
           AND table_name <> 'datastorm_owned_tables'
         ORDER BY table_name, ordinal_position""")
    assert rows == [
        ("order", "id", "bigint", 64, 0, "NO"),
        ("order", "user_id", "bigint", 64, 0, "NO"),
        ("order", "total", "numeric", 19, 3, "YES"),
        ("order", "note", "text", None, None, "YES"),
        ("order", "placed", "timestamp without time zone", None, None, "YES"),
        ("order", "paid", "boolean", None, None, "NO"),
        ("user", "id", "bigint", 64, 0, "NO"),
        ("user", "email", "text", None, None, "NO"),
        ("user", "name", "text", None, None, "YES"),
        ("user", "score", "double precision", 53, None, "YES"),
        ("user", "balance", "numeric", 12, 2, "YES"),
        ("user", "active", "boolean", None, None, "YES"),
        ("user", "born", "date", None, None, "YES"),
        ("user", "created", "timestamp without time zone", None, None, "NO"),
        ("user", "token", "uuid", None, None, "YES"),
    ]


@pytest.mark.postgres
def test_a_run_of_only_the_child_references_the_existing_parent(pg: PostgresBackend) -> None:
    run(pg.open(), [Table(USER, USERS), Table(ORDER, ORDERS)])
    run(pg.open(), [Table(ORDER, ORDERS[:10])])

    assert ('"order"', "f", "user_id", '"user"') in constraints_of(pg)
    assert len(pg.read(ORDER)) == 10


@pytest.mark.postgres
def test_a_parent_neither_in_the_run_nor_in_the_database_is_an_error(
        pg: PostgresBackend) -> None:
    with pytest.raises(TargetError, match="references 'user', which is not in this run"):
        run(pg.open(), [Table(ORDER, ORDERS)])

    assert not pg.exists("order")


@pytest.mark.postgres
def test_append_creates_missing_tables_with_their_keys(pg_url: str) -> None:
    pg = PostgresBackend(pg_url, "after_load")
    run(pg.open(mode="append"), [Table(USER, USERS), Table(ORDER, ORDERS)])

    assert ('"order"', "f", "user_id", '"user"') in constraints_of(pg)
    assert ('"user"', "p", "id", "") in constraints_of(pg)


@pytest.mark.postgres
def test_append_keeps_rows_it_did_not_write(pg_url: str) -> None:
    pg = PostgresBackend(pg_url, "after_load")
    run(pg.open(mode="append"), [Table(USER, USERS[:10])])
    pg.query('INSERT INTO "user" (id, email, created) VALUES (1000, \'x@y\', now()) RETURNING 1')
    run(pg.open(mode="append"), [Table(USER, USERS[5:])])

    ids = [r[0] for r in pg.read(USER)]
    assert ids == [*range(1, 26), 1000]


@pytest.mark.postgres
def test_copy_error_names_the_table_and_the_server_message(pg_url: str) -> None:
    pg = PostgresBackend(pg_url, "immediate")
    duplicated = [*USERS[:10], USERS[3]]
    with pytest.raises(TargetError) as failure:
        run(pg.open(), [Table(USER, duplicated)])

    message = str(failure.value)
    assert "'user'" in message
    assert 'duplicate key value violates unique constraint "user_pkey"' in message
    assert "Key (id)=(4) already exists" in message
    assert isinstance(failure.value.__cause__, Exception)  # chained from psycopg


@pytest.mark.postgres
def test_abort_from_another_thread_unblocks_a_write(pg_url: str, pg_conn: Any) -> None:
    run(open_target(pg_url, mode="append"), [Table(USER, USERS)])
    # Another session holds a lock on user 1, so our upsert of user 1 has to wait.
    pg_conn.execute("BEGIN")
    pg_conn.execute('UPDATE "user" SET name = \'locked\' WHERE id = 1')

    target = open_target(pg_url, mode="append")
    target.open()
    target.prepare([USER])
    target.begin_table(USER, 0, len(USERS))
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            target.write_batch(USER, Table(USER, USERS).chunks)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(1.0)
    assert writer.is_alive(), "the write should be blocked by the other session's lock"

    started = time.monotonic()
    target.abort()
    writer.join(10)
    assert not writer.is_alive()
    assert time.monotonic() - started < 10
    assert isinstance(outcome[0], TargetError)
    assert "cancelled by abort" in str(outcome[0])

    target.finish(outcome[0])
    pg_conn.execute("ROLLBACK")
    assert len(pg_conn.execute('SELECT * FROM "user"').fetchall()) == 25


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_fails_fast_without_showing_the_password() -> None:
    port = _closed_port()
    target = open_target(f"postgresql://bob:s3cret@127.0.0.1:{port}/shop")
    started = time.monotonic()
    with pytest.raises(TargetError) as failure:
        target.open()

    assert time.monotonic() - started < 5
    message = str(failure.value)
    assert message.startswith(f"cannot connect to postgresql://bob@127.0.0.1:{port}/shop: ")
    assert "s3cret" not in message
    target.finish(failure.value)  # nothing to roll back; must not raise


def test_postgres_scheme_alias_and_bad_urls() -> None:
    assert isinstance(open_target("postgres://u@h/db"), PostgresTarget)
    with pytest.raises(UsageError, match="bad PostgreSQL URL"):
        open_target("postgresql://u:pw@h:notaport/db")
    with pytest.raises(UsageError) as failure:
        open_target("postgresql://u:pw@h/db?nosuchparam=1")
    assert "pw" not in str(failure.value)


def test_replace_of_one_partition_is_refused() -> None:
    with pytest.raises(UsageError, match="mode 'append'"):
        open_target("postgresql://u@h/db", partition=(1, 4))
    open_target("postgresql://u@h/db", partition=(1, 4), mode="append")
    open_target("postgresql://u@h/db", partition=(0, 1))


@pytest.mark.postgres
def test_finish_does_not_wait_for_a_write_the_runner_gave_up_on(pg_url: str,
                                                                pg_conn: Any) -> None:
    run(open_target(pg_url, mode="append"), [Table(USER, USERS)])
    pg_conn.execute("BEGIN")
    pg_conn.execute('UPDATE "user" SET name = \'locked\' WHERE id = 1')

    target = open_target(pg_url, mode="append")
    target.open()
    target.prepare([USER])
    target.begin_table(USER, 0, len(USERS))
    changed = user_rows(25, seed=3)
    writer = threading.Thread(target=lambda: _swallow(target.write_batch, USER,
                                                      Table(USER, changed).chunks), daemon=True)
    writer.start()
    writer.join(1.0)
    assert writer.is_alive()

    started = time.monotonic()
    target.finish(TargetError("the runner gave up"))  # no abort: the write is still stuck
    assert time.monotonic() - started < 5
    pg_conn.execute("ROLLBACK")
    writer.join(10)

    names = [r[0] for r in pg_conn.execute('SELECT name FROM "user" ORDER BY id').fetchall()]
    assert names == [r[2] for r in USERS]


def _swallow(fn: Any, *args: Any) -> None:
    with contextlib.suppress(Exception):  # the write fails once its connection is closed
        fn(*args)

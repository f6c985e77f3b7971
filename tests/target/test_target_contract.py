"""The contract every target keeps, checked by reading back from the real store.

Each test drives a target through ``core.runner.Runner`` (as ``datastorm
run`` does) with hand-built chunks covering every column type, NULLs,
negative decimals and hostile text, then reads the table back with the
store's own client (psycopg, sqlite3, the csv and json modules).
"""

from __future__ import annotations

import os

import pytest
from target_support import (
    LOG,
    ORDER,
    USER,
    Backend,
    FileBackend,
    Table,
    expected,
    log_rows,
    order_rows,
    run,
    user_rows,
)

from datastorm_core.errors import SourceError, TargetError

USERS = user_rows(25)
ORDERS = order_rows(60, users=25)


def test_round_trip_every_type(backend: Backend) -> None:
    run(backend.open(), [Table(USER, USERS), Table(ORDER, ORDERS)])

    assert backend.read(USER) == expected(USER, USERS, backend)
    assert backend.read(ORDER) == expected(ORDER, ORDERS, backend)


def test_table_without_keys_and_with_a_space_in_its_name(backend: Backend) -> None:
    rows = log_rows(12)
    run(backend.open(), [Table(LOG, rows)])

    assert backend.read(LOG) == expected(LOG, rows, backend)


def test_empty_table_is_created_empty(backend: Backend) -> None:
    run(backend.open(), [Table(USER, [])])

    assert backend.exists("user")
    assert backend.read(USER) == []


def test_one_row_per_batch_and_one_big_batch_give_the_same_rows(backend: Backend) -> None:
    run(backend.open(), [Table(USER, USERS, chunk_rows=1)], batch_rows=1)
    small = backend.read(USER)
    run(backend.open(), [Table(USER, USERS, chunk_rows=25)], batch_rows=1000)

    assert small == backend.read(USER) == expected(USER, USERS, backend)


def test_replace_twice_gives_the_same_rows(backend: Backend) -> None:
    for _ in range(2):
        run(backend.open(), [Table(USER, USERS), Table(ORDER, ORDERS)])

    assert backend.read(USER) == expected(USER, USERS, backend)
    assert backend.read(ORDER) == expected(ORDER, ORDERS, backend)


def test_replace_drops_rows_of_the_previous_run(backend: Backend) -> None:
    run(backend.open(), [Table(USER, user_rows(30))])
    run(backend.open(), [Table(USER, user_rows(5, seed=9))])

    assert backend.read(USER) == expected(USER, user_rows(5, seed=9), backend)


def test_a_failing_source_leaves_the_store_as_it_was(backend: Backend) -> None:
    run(backend.open(), [Table(USER, USERS), Table(ORDER, ORDERS)])
    before_users, before_orders = backend.read(USER), backend.read(ORDER)

    new_users = user_rows(25, seed=77)
    with pytest.raises(SourceError, match="generator broke"):
        run(backend.open(), [Table(LOG, log_rows(5)), Table(USER, new_users),
                             Table(ORDER, ORDERS, fail_at=3)])

    assert backend.read(USER) == before_users
    assert backend.read(ORDER) == before_orders
    assert not backend.exists(LOG.name)
    _assert_no_leftovers(backend)


def test_finish_with_an_error_undoes_everything(backend: Backend) -> None:
    target = backend.open()
    target.open()
    target.prepare([USER])
    target.begin_table(USER, 0, len(USERS))
    target.write_batch(USER, Table(USER, USERS).chunks)
    target.end_table(USER)
    target.finish(RuntimeError("the run failed"))

    assert not backend.exists("user")
    _assert_no_leftovers(backend)


def test_finish_runs_once(backend: Backend) -> None:
    target = backend.open()
    target.open()
    target.prepare([USER])
    target.begin_table(USER, 0, 3)
    target.write_batch(USER, Table(USER, USERS[:3]).chunks)
    target.end_table(USER)
    target.finish(None)
    target.finish(RuntimeError("late"))  # ignored: the run was committed already

    assert len(backend.read(USER)) == 3


def test_a_duplicate_primary_key_fails_the_run_and_changes_nothing(db_backend: Backend) -> None:
    run(db_backend.open(), [Table(USER, USERS)])
    before = db_backend.read(USER)

    duplicated = [*user_rows(10, seed=5), user_rows(1, seed=6)[0]]  # id 1 twice
    with pytest.raises(TargetError, match="user") as failure:
        run(db_backend.open(), [Table(USER, duplicated)])

    assert "duplicate" in str(failure.value).lower() or "unique" in str(failure.value).lower()
    assert db_backend.read(USER) == before


def test_an_orphan_reference_fails_the_run(db_backend: Backend) -> None:
    orphans = [(1, 999, None, None, None, True)]
    with pytest.raises(TargetError, match="order"):
        run(db_backend.open(), [Table(USER, USERS), Table(ORDER, orphans)])

    assert not db_backend.exists("order")


def test_append_twice_does_not_duplicate(db_backend: Backend) -> None:
    for _ in range(2):
        run(db_backend.open(mode="append"), [Table(USER, USERS), Table(ORDER, ORDERS)])

    assert db_backend.read(USER) == expected(USER, USERS, db_backend)
    assert db_backend.read(ORDER) == expected(ORDER, ORDERS, db_backend)


def test_append_rewrites_rows_with_the_same_key(db_backend: Backend) -> None:
    run(db_backend.open(mode="append"), [Table(USER, user_rows(10))])
    changed = user_rows(10, seed=42)
    run(db_backend.open(mode="append"), [Table(USER, changed)])

    assert db_backend.read(USER) == expected(USER, changed, db_backend)


def test_append_partitions_add_up_to_the_whole_run(db_backend: Backend) -> None:
    # Partition K of N is rows [K*R//N, (K+1)*R//N); run 1 twice, as a retry would.
    halves = [(0, USERS[:12]), (1, USERS[12:]), (1, USERS[12:])]
    for index, rows in halves:
        first = 0 if index == 0 else 12
        run(db_backend.open(mode="append", partition=(index, 2)),
            [Table(USER, rows, first_row=first)])

    assert db_backend.read(USER) == expected(USER, USERS, db_backend)


def test_append_refuses_a_table_without_primary_key_before_writing(db_backend: Backend) -> None:
    from datastorm_core.errors import UsageError

    with pytest.raises(UsageError, match="primary key"):
        run(db_backend.open(mode="append"), [Table(USER, USERS), Table(LOG, log_rows(3))])

    assert not db_backend.exists("user")


def _assert_no_leftovers(backend: Backend) -> None:
    if isinstance(backend, FileBackend) and os.path.isdir(backend.directory):
        assert [n for n in os.listdir(backend.directory) if "datastorm-tmp" in n] == []

"""sqlite specifics: URL paths, keys enforced, deferred foreign keys, abort."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest
from target_support import ORDER, USER, SqliteBackend, Table, order_rows, run, user_rows

from datastorm_core.errors import TargetError
from datastorm_core.target import SqliteTarget, open_target

USERS = user_rows(25)
ORDERS = order_rows(60, users=25)


def test_three_slashes_is_relative_four_absolute(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_target("sqlite:///data/nested/run.db")
    assert isinstance(relative, SqliteTarget)
    assert relative.path == "data/nested/run.db"
    run(relative, [Table(USER, USERS)])
    assert (tmp_path / "data" / "nested" / "run.db").is_file()  # parent dirs created

    absolute = open_target(f"sqlite:///{tmp_path}/abs.db")
    assert absolute.path == f"{tmp_path}/abs.db"


def test_keys_are_declared(tmp_path: Path) -> None:
    db = SqliteBackend(str(tmp_path / "k.db"))
    run(db.open(), [Table(USER, USERS), Table(ORDER, ORDERS)])

    assert db.query('SELECT "from", "table", "to" FROM pragma_foreign_key_list(\'order\')') == [
        ("user_id", "user", "id")]
    assert db.query("SELECT name FROM pragma_table_info('user') WHERE pk > 0") == [("id",)]
    unique = db.query("SELECT il.name FROM pragma_index_list('user') l, "
                      "pragma_index_info(l.name) il WHERE l.origin = 'u'")
    assert unique == [("email",)]


@pytest.mark.parametrize("constraints", ["after_load", "immediate"])
def test_orphan_reference_names_the_table(tmp_path: Path, constraints: str) -> None:
    db = SqliteBackend(str(tmp_path / "o.db"))
    with pytest.raises(TargetError, match="order") as failure:
        run(db.open(constraints=constraints),
            [Table(USER, USERS), Table(ORDER, [(1, 999, None, None, None, True)])])
    assert "FOREIGN KEY" in str(failure.value)
    assert not os.path.exists(tmp_path / "o.db") or not db.exists("user")


def test_replacing_a_parent_keeps_children_outside_the_run(tmp_path: Path) -> None:
    db = SqliteBackend(str(tmp_path / "p.db"))
    run(db.open(), [Table(USER, USERS), Table(ORDER, ORDERS)])
    run(db.open(), [Table(USER, USERS)])  # rows are a function of their index: same ids

    assert len(db.read(ORDER)) == 60
    with pytest.raises(TargetError, match="'order' row"):
        run(db.open(), [Table(USER, USERS[:3])])  # would orphan orders of users 4..25
    assert len(db.read(USER)) == 25


def test_a_parent_missing_from_run_and_file_is_an_error(tmp_path: Path) -> None:
    db = SqliteBackend(str(tmp_path / "m.db"))
    with pytest.raises(TargetError, match="references 'user', which is not in this run"):
        run(db.open(), [Table(ORDER, ORDERS)])


def test_a_locked_file_is_a_target_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        target = open_target(f"sqlite:///{path}", options={"timeout": 0.1})
        with pytest.raises(TargetError, match=r"locked by another connection; waited 0\.1 s"):
            target.open()
        target.finish(RuntimeError("failed"))
    finally:
        holder.close()


def test_abort_interrupts_a_long_write(tmp_path: Path) -> None:
    big = Table(USER, user_rows(20_000), chunk_rows=20_000)
    # append mode upserts, so the same chunk can be sent many times to make a long write
    target = open_target(f"sqlite:///{tmp_path / 'a.db'}", mode="append")
    target.open()
    target.prepare([USER])
    target.begin_table(USER, 0, 20_000)
    done = threading.Event()

    def keep_aborting() -> None:  # interrupt only cuts a statement that is running
        while not done.wait(0.005):
            target.abort()

    aborter = threading.Thread(target=keep_aborting, daemon=True)
    aborter.start()
    try:
        with pytest.raises(TargetError, match="interrupted by abort"):
            target.write_batch(USER, big.chunks * 50)
    finally:
        done.set()
        aborter.join()
    target.finish(RuntimeError("aborted"))
    assert not SqliteBackend(str(tmp_path / "a.db")).exists("user")

"""sqlite: only the tables datastorm created are dropped; any other is loaded in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from e2e_support import run_cli, write

GENFILE = """\
[dataset]
seed = 3

[person]
records = 50

[person.id]
type = "sequence"

[person.name]
type = "name"
"""


def schema_of(path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE "
                            "'datastorm%' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name"
                            ).fetchall()


def test_a_users_table_keeps_its_schema_trigger_and_view(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.executescript("""
            CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
                                 status TEXT NOT NULL DEFAULT 'new');
            CREATE TABLE log (person_id INTEGER);
            CREATE TRIGGER person_log AFTER INSERT ON person
              BEGIN INSERT INTO log VALUES (NEW.id); END;
            CREATE VIEW named AS SELECT name FROM person;
            INSERT INTO person (id, name) VALUES (900, 'before');
        """)
    before = schema_of(db)
    result = run_cli(capsys, "run", write(tmp_path, GENFILE), "--target", f"sqlite:///{db}")
    assert result.code == 0, result.both
    assert schema_of(db) == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*), min(id), max(id) FROM person").fetchone() == (
            50, 1, 50)
        assert conn.execute("SELECT DISTINCT status FROM person").fetchall() == [("new",)]
        assert conn.execute("SELECT count(*) FROM log").fetchone() == (51,)  # 1 + 50 fired
        assert conn.execute("SELECT count(*) FROM named").fetchone() == (50,)
    plan = run_cli(capsys, "plan", write(tmp_path, GENFILE), "--target", f"sqlite:///{db}",
                   "--format", "json")
    assert '"owner": "application"' in plan.out


def test_a_users_table_missing_a_column_refuses_the_run_and_is_left_as_it_was(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.executescript("CREATE TABLE person (id INTEGER PRIMARY KEY, full_name TEXT, "
                           "born DATE NOT NULL); INSERT INTO person VALUES (1, 'a', '2000-01-01');")
    result = run_cli(capsys, "run", write(tmp_path, GENFILE), "--target", f"sqlite:///{db}")
    assert result.code == 2
    assert "has no column 'name'" in result.err and "'born'" in result.err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT * FROM person").fetchall() == [(1, "a", "2000-01-01")]


def test_datastorms_own_table_is_replaced_unless_someone_attached_a_trigger(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "gen.db"
    target = f"sqlite:///{db}"
    assert run_cli(capsys, "run", write(tmp_path, GENFILE), "--target", target).code == 0
    wider = GENFILE + '\n[person.email]\ntype = "email"\n'
    assert run_cli(capsys, "run", write(tmp_path, wider, "w.toml"), "--target", target).code == 0
    with sqlite3.connect(db) as conn:  # datastorm's table: created again with the new column
        columns = [c[1] for c in conn.execute("PRAGMA table_info(person)")]
        assert columns == ["id", "name", "email"]
        conn.execute("CREATE TABLE audit (n INTEGER)")
        conn.execute("CREATE TRIGGER count_people AFTER INSERT ON person "
                     "BEGIN INSERT INTO audit VALUES (NEW.id); END")
    assert run_cli(capsys, "run", write(tmp_path, wider, "w.toml"), "--target", target).code == 0
    with sqlite3.connect(db) as conn:  # the trigger made it kept: still there, and it fired
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                            ).fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM audit").fetchone() == (50,)

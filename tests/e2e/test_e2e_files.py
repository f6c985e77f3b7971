"""End to end on the file targets: partitions add up to the whole run there too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from e2e_support import SHOP_ROWS, run_cli, shop_text, write

pytestmark = pytest.mark.timeout(60)


def rows(db: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY id').fetchall()


def test_sqlite_partitions_in_append_mode_add_up_to_the_whole_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, shop_text())
    whole, parts = tmp_path / "whole.db", tmp_path / "parts.db"
    assert run_cli(capsys, "run", genfile, "--target", f"sqlite:///{whole}", "--quiet").code == 0
    for index in (2, 0, 1):  # any order
        result = run_cli(capsys, "run", genfile, "--target", f"sqlite:///{parts}", "--quiet",
                         "--partition", f"{index}/3", "--mode", "append")
        assert result.code == 0, result
    # A rerun of one partition changes nothing.
    result = run_cli(capsys, "run", genfile, "--target", f"sqlite:///{parts}", "--quiet",
                     "--partition", "1/3", "--mode", "append")
    assert result.code == 0, result

    for table, count in SHOP_ROWS.items():
        expected = rows(whole, table)
        assert len(expected) == count
        assert rows(parts, table) == expected
    with sqlite3.connect(parts) as conn:
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'order'").fetchone()[0]
        assert 'REFERENCES "user"' in ddl  # the key is declared ...
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []  # ... and holds


def test_sqlite_whole_runs_still_check_foreign_keys(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--tables order alone: the parent rows it needs are missing, the run is refused."""
    genfile = write(tmp_path, shop_text())
    db = tmp_path / "x.db"
    with sqlite3.connect(db) as conn:
        conn.execute('CREATE TABLE "user" (id INTEGER PRIMARY KEY, name TEXT, email TEXT, '
                     "born DATE)")
    result = run_cli(capsys, "run", genfile, "--target", f"sqlite:///{db}", "--tables", "order")
    assert result.code == 1, result
    assert "FOREIGN KEY" in result.err and "Traceback" not in result.err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall() \
            == [("user",)]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_file_partitions_hold_the_rows_of_the_whole_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    genfile = write(tmp_path, shop_text())
    out = tmp_path / "out"
    assert run_cli(capsys, "run", genfile, "--target", f"{kind}:///{out}", "--quiet").code == 0
    for index in range(3):
        result = run_cli(capsys, "run", genfile, "--target", f"{kind}:///{out}", "--quiet",
                         "--partition", f"{index}/3", "--workers", "2")
        assert result.code == 0, result
    header = 1 if kind == "csv" else 0
    for table in SHOP_ROWS:
        whole = (out / f"{table}.{kind}").read_text(encoding="utf-8").splitlines()
        joined: list[str] = []
        for index in range(3):
            part = out / f"{table}.part-{index:05d}-of-00003.{kind}"
            lines = part.read_text(encoding="utf-8").splitlines()
            assert lines[:header] == whole[:header]
            joined += lines[header:]
        assert joined == whole[header:]
        assert len(joined) == SHOP_ROWS[table]

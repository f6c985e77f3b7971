"""``Inspector.count_present``: how many of a known set of rows a table holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from datastorm_core.target.inspect import open_inspector


def test_sqlite_counts_the_rows_whose_key_is_given_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"n{i}") for i in range(1, 11)])
    with open_inspector(f"sqlite:///{path}") as inspect:
        assert inspect.count_present("t", "id", [["1", "2", "3"], ["9", "10", "11"]]) == 5
        assert inspect.count_present("t", "name", [["n4", "x"]]) == 1
        assert inspect.count_present("t", "id", []) == 0  # asked again: nothing left over

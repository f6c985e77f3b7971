"""Tables that reference each other in a cycle: one reference deferred, set after the load."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import psycopg
import pytest
from e2e_support import run_cli, write
from existing_support import load_sql, rows, schema_dump

from datastorm_core.errors import GenfileError
from datastorm_core.genfile import loads_genfile

CYCLE = """\
[dataset]
seed = 11

[department]
records = 40

[department.id]
type = "sequence"

[department.name]
type = "text"
words = [1, 2]

[department.manager_id]
type = "reference"
ref = "employee.id"
deferred = true
null_rate = 0.1

[employee]
records = 300

[employee.id]
type = "sequence"

[employee.name]
type = "name"

[employee.department_id]
type = "reference"
ref = "department.id"
"""


def test_a_cycle_needs_a_deferred_reference_with_a_key_to_set_it_by() -> None:
    with pytest.raises(GenfileError, match="reference each other in a cycle"):
        loads_genfile(CYCLE.replace("deferred = true\n", ""))
    no_key = CYCLE.replace('[department.id]\ntype = "sequence"\n',
                           '[department.code]\ntype = "sequence"\nunique = true\n').replace(
        'ref = "department.id"', 'ref = "department.code"')
    with pytest.raises(GenfileError, match="the table has none"):
        loads_genfile(no_key)
    on_key = CYCLE + '\n[employee.boss_id]\ntype = "reference"\nref = "employee.id"\n' \
        'deferred = true\n'
    with pytest.raises(GenfileError, match="self-reference is written in order already"):
        loads_genfile(on_key)
    loads_genfile(CYCLE)  # valid as written


@pytest.mark.postgres
def test_datastorms_own_tables_in_a_cycle_get_every_key_and_every_value(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, CYCLE)
    result = run_cli(capsys, "run", path, "--target", pg_url)
    assert result.code == 0, result.both
    assert "department (deferred references)" in result.both
    with psycopg.connect(pg_url) as conn:
        filled = rows(conn, "SELECT count(*), count(manager_id) FROM department")[0]
        assert filled[0] == 40 and 30 <= filled[1] < 40  # null_rate 0.1 after the fill
        assert rows(conn, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                          "AND convalidated AND conrelid IN ('department'::regclass, "
                          "'employee'::regclass)") == [(2,)]
        first = rows(conn, "SELECT * FROM department ORDER BY id")
    assert run_cli(capsys, "run", path, "--target", pg_url).code == 0
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT * FROM department ORDER BY id") == first


@pytest.mark.postgres
def test_an_applications_cycle_imports_and_loads_with_its_foreign_keys_whole(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE department (id serial PRIMARY KEY, name text NOT NULL, manager_id int);
        CREATE TABLE employee (id serial PRIMARY KEY, name text NOT NULL,
            department_id int NOT NULL REFERENCES department(id));
        ALTER TABLE department ADD FOREIGN KEY (manager_id) REFERENCES employee(id);
    """)
    before = schema_dump(pg_url)
    genfile = str(tmp_path / "g.toml")
    imported = run_cli(capsys, "import", pg_url, "-o", genfile, "--rows", "150")
    assert imported.code == 0, imported.both
    assert "deferred = true" in Path(genfile).read_text(encoding="utf-8")
    result = run_cli(capsys, "run", genfile, "--target", pg_url)
    assert result.code == 0, result.both
    assert schema_dump(pg_url) == before
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(manager_id) > 100 FROM department") == [(True,)]
        assert rows(conn, "SELECT count(*) FROM department d LEFT JOIN employee e "
                          "ON e.id = d.manager_id WHERE d.manager_id IS NOT NULL "
                          "AND e.id IS NULL") == [(0,)]


def test_sqlite_and_csv_end_with_the_same_values_as_each_other(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, CYCLE)
    db = tmp_path / "c.db"
    assert run_cli(capsys, "run", path, "--target", f"sqlite:///{db}").code == 0
    out = tmp_path / "csv"
    assert run_cli(capsys, "run", path, "--target", f"csv:///{out}").code == 0
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT id, manager_id FROM department ORDER BY id").fetchall()
    with open(out / "department.csv", encoding="utf-8") as handle:
        written = [(int(r["id"]), int(r["manager_id"]) if r["manager_id"] else None)
                   for r in csv.DictReader(handle)]
    assert stored == written
    assert sum(1 for _, m in stored if m is not None) >= 30

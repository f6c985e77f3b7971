"""End to end on a real PostgreSQL: types, keys, references, determinism, modes.

Each test gets a fresh database (the ``pg_url`` fixture) and writes the
shop Genfile (tests/fixtures/shop.toml) through the CLI or ``run()``.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from e2e_support import (
    ORIGINAL_DESIGN,
    SHOP_ROWS,
    constraints,
    orphans,
    run_cli,
    shop_digests,
    shop_text,
    table_digest,
    tables,
    write,
)

from datastorm_core.genfile import Partition, loads_genfile
from datastorm_core.run import RunOptions, run

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


def run_ok(capsys: pytest.CaptureFixture[str], *argv: str) -> None:
    result = run_cli(capsys, "run", *argv, "--quiet")
    assert result.code == 0, result
    assert result.out == "" and result.err == ""


@pytest.mark.parametrize("mode", ["after_load", "immediate"])
def test_column_types_and_keys(tmp_path: Path, pg_url: str, pg_conn: Any,
                               capsys: pytest.CaptureFixture[str], mode: str) -> None:
    genfile = write(tmp_path, shop_text(constraints=mode))
    run_ok(capsys, genfile, "--target", pg_url)

    assert tables(pg_conn) == ["order", "user"]
    types = {
        (t, c): (dtype, precision, scale)
        for t, c, dtype, precision, scale in pg_conn.execute(
            "SELECT table_name, column_name, data_type, numeric_precision, numeric_scale "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name <> 'datastorm_owned_tables'").fetchall()
    }
    assert types == {
        ("user", "id"): ("bigint", 64, 0),
        ("user", "name"): ("text", None, None),
        ("user", "email"): ("text", None, None),
        ("user", "born"): ("date", None, None),
        ("order", "id"): ("bigint", 64, 0),
        ("order", "user_id"): ("bigint", 64, 0),
        ("order", "total"): ("numeric", 6, 2),
        ("order", "paid"): ("boolean", None, None),
        ("order", "placed"): ("timestamp without time zone", None, None),
        ("order", "token"): ("uuid", None, None),
        ("order", "code"): ("text", None, None),
        ("order", "qty"): ("bigint", 64, 0),
    }
    assert constraints(pg_conn) == {
        ("\"user\"", "p", "PRIMARY KEY (id)"),
        ("\"user\"", "u", "UNIQUE (email)"),
        ("\"order\"", "p", "PRIMARY KEY (id)"),
        ("\"order\"", "u", "UNIQUE (token)"),
        ("\"order\"", "f", "FOREIGN KEY (user_id) REFERENCES \"user\"(id)"),
    }
    assert {t: n for t, (n, _) in shop_digests(pg_conn).items()} == SHOP_ROWS
    assert orphans(pg_conn) == 0
    # The keys hold for real: the server refuses what they forbid.
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        pg_conn.execute('INSERT INTO "order" (id, user_id, total, paid, placed, token, code, qty) '
                        "VALUES (-1, -1, 1, true, now(), gen_random_uuid(), 'x', 1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        pg_conn.execute('INSERT INTO "user" (id, name, email) '
                        'SELECT -1, name, email FROM "user" LIMIT 1')
    # Generated values respect the Genfile.
    low, high, nulls, codes_ok = pg_conn.execute(
        'SELECT min(total), max(total), (SELECT count(*) FROM "user" WHERE born IS NULL), '
        "bool_and(code ~ '^[A-Z]{3}-[0-9]{3}$') FROM \"order\"").fetchone()
    assert Decimal(0) <= low and high <= Decimal(5000)
    assert 0 < nulls < 300
    assert codes_ok


def test_the_data_is_the_same_whatever_the_run_settings(
        tmp_path: Path, pg_url: str, pg_conn: Any, capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, shop_text())
    run_ok(capsys, genfile, "--target", pg_url)
    expected = shop_digests(pg_conn)
    assert {t: n for t, (n, _) in expected.items()} == SHOP_ROWS

    for settings in (["--workers", "1", "--batch-size", "7", "--buffer-size", "50"],
                     ["--workers", "2", "--batch-size", "100", "--buffer-size", "13"],
                     ["--workers", "4", "--batch-size", "1000", "--buffer-size", "3"]):
        run_ok(capsys, genfile, "--target", pg_url, *settings)
        assert shop_digests(pg_conn) == expected, settings
        assert orphans(pg_conn) == 0

    # Partitions 0..2 of 3, in append mode into an empty database, add up to the whole run.
    pg_conn.execute('DROP TABLE "order", "user"')
    for index in range(3):
        run_ok(capsys, genfile, "--target", pg_url, "--partition", f"{index}/3",
               "--mode", "append", "--workers", str(index + 1))
    assert shop_digests(pg_conn) == expected
    assert orphans(pg_conn) == 0
    # Once every partition is in, the foreign key is there too.
    assert ("\"order\"", "f", "FOREIGN KEY (user_id) REFERENCES \"user\"(id)") \
        in constraints(pg_conn)


def test_a_replace_rerun_leaves_exactly_the_generated_rows(
        tmp_path: Path, pg_url: str, pg_conn: Any, capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, shop_text())
    run_ok(capsys, genfile, "--target", pg_url)
    first = shop_digests(pg_conn)
    pg_conn.execute('INSERT INTO "user" (id, name, email) VALUES (-5, \'extra\', \'x@y\')')
    run_ok(capsys, genfile, "--target", pg_url)
    assert shop_digests(pg_conn) == first
    # Another seed replaces the rows instead of adding to them.
    run_ok(capsys, genfile, "--target", pg_url, "--seed", "99")
    other = shop_digests(pg_conn)
    assert {t: n for t, (n, _) in other.items()} == SHOP_ROWS
    assert other["user"][1] != first["user"][1]


def test_an_append_rerun_of_a_partition_does_not_duplicate_rows(
        tmp_path: Path, pg_url: str, pg_conn: Any, capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, shop_text())
    run_ok(capsys, genfile, "--target", pg_url, "--partition", "1/3", "--mode", "append")
    once = shop_digests(pg_conn)
    # Partition 1 of 3: users 100..199 and orders 333..665 (ids start at 1).
    assert once["user"][0] == 100 and once["order"][0] == 333
    assert pg_conn.execute('SELECT min(id), max(id) FROM "user"').fetchone() == (101, 200)
    run_ok(capsys, genfile, "--target", pg_url, "--partition", "1/3", "--mode", "append")
    assert shop_digests(pg_conn) == once
    # A whole append run on top rewrites those rows and adds the others: still no duplicate.
    run_ok(capsys, genfile, "--target", pg_url, "--mode", "append")
    assert {t: n for t, (n, _) in shop_digests(pg_conn).items()} == SHOP_ROWS


def test_the_original_design_example_loads(pg_url: str, pg_conn: Any) -> None:
    genfile = loads_genfile(ORIGINAL_DESIGN)
    report = run(genfile, RunOptions(target=pg_url))
    assert report.stats.rows == 100_000
    count, distinct_ids, low, high, emails, names = pg_conn.execute(
        'SELECT count(*), count(DISTINCT id), min(id), max(id), count(email), count(name) '
        'FROM "user"').fetchone()
    assert (count, distinct_ids, low, high) == (100_000, 100_000, 1, 100_000)
    assert emails == names == 100_000
    assert pg_conn.execute(
        "SELECT bool_and(email LIKE '%_@_%.%') FROM \"user\"").fetchone()[0]


def test_the_data_does_not_depend_on_the_target(tmp_path: Path, pg_url: str,
                                                pg_conn: Any) -> None:
    genfile = loads_genfile(shop_text())
    run(genfile, RunOptions(target=pg_url))
    run(genfile, RunOptions(target=f"sqlite:///{tmp_path}/shop.db", workers=3, batch_size=77))
    run(genfile, RunOptions(target=f"csv:///{tmp_path}/csv", buffer_size=100))
    run(genfile, RunOptions(target=f"jsonl:///{tmp_path}/jsonl", workers=2))

    def normal(table: str, row: dict[str, Any]) -> tuple[Any, ...]:
        if table == "user":
            return (int(row["id"]), row["name"], row["email"],
                    str(row["born"]) if row["born"] not in (None, "") else None)
        paid = row["paid"]
        paid = paid if isinstance(paid, bool) else str(paid).lower() in ("1", "true", "t")
        placed = str(row["placed"]).replace(" ", "T")
        return (int(row["id"]), int(row["user_id"]), f"{Decimal(str(row['total'])):.2f}",
                paid, placed, str(row["token"]), row["code"], int(row["qty"]))

    with psycopg.connect(pg_url) as conn:
        conn.row_factory = psycopg.rows.dict_row
        expected = {t: [normal(t, r) for r in conn.execute(
            f'SELECT * FROM "{t}" ORDER BY id').fetchall()] for t in SHOP_ROWS}
    assert len(expected["order"]) == 1000

    with sqlite3.connect(tmp_path / "shop.db") as lite:
        lite.row_factory = sqlite3.Row
        got = {t: [normal(t, dict(r)) for r in lite.execute(
            f'SELECT * FROM "{t}" ORDER BY id')] for t in SHOP_ROWS}
    assert got == expected

    for table in SHOP_ROWS:
        with open(tmp_path / "csv" / f"{table}.csv", newline="", encoding="utf-8") as f:
            assert [normal(table, r) for r in csv.DictReader(f)] == expected[table]
        with open(tmp_path / "jsonl" / f"{table}.jsonl", encoding="utf-8") as f:
            assert [normal(table, json.loads(line)) for line in f] == expected[table]


def test_only_the_selected_tables_are_written(tmp_path: Path, pg_url: str, pg_conn: Any,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    genfile = write(tmp_path, shop_text())
    run_ok(capsys, genfile, "--target", pg_url, "--tables", "user")
    assert tables(pg_conn) == ["user"]
    run_ok(capsys, genfile, "--target", pg_url, "--tables", "order")
    assert tables(pg_conn) == ["order", "user"]
    assert orphans(pg_conn) == 0
    whole = {t: table_digest(pg_conn, t) for t in SHOP_ROWS}
    run_ok(capsys, genfile, "--target", pg_url)
    assert shop_digests(pg_conn) == whole


def test_a_partition_run_writes_its_rows_to_a_fresh_database(
        pg_url: str, pg_conn: Any) -> None:
    """Partition 2/3 alone, through run(): exactly its row ranges, nothing else."""
    genfile = loads_genfile(shop_text())
    report = run(genfile, RunOptions(target=pg_url, mode="append", partition=Partition(2, 3)))
    assert [(p.table.name, p.start, p.stop) for p in report.plans] == [
        ("user", 200, 300), ("order", 666, 1000)]
    assert pg_conn.execute('SELECT min(id), max(id), count(*) FROM "order"').fetchone() == (
        667, 1000, 334)

"""The Genfile's words for an application's schema: ``existing = true``, ``table``,
``unique = [[...]]`` and ``same_row_as``, each run against a real database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from e2e_support import run_cli, write
from existing_support import load_sql, rows, schema_dump, table_rows

COUNTRY_IDS = [5, 9, 12, 40]  # not contiguous: drawn from the table, not from a sequence

# country is the application's: the Genfile only names the key city references.
EXISTING_GENFILE = """\
[country]
existing = true

[country.id]
type = "sequence"
primary_key = true

[city]
records = 300

[city.id]
type = "sequence"

[city.name]
type = "string"
length = [3, 12]

[city.country_id]
type = "reference"
ref = "country.id"
"""


def countries_sql() -> str:
    values = ", ".join(f"({i}, 'country {i}')" for i in COUNTRY_IDS)
    return f"INSERT INTO country (id, name) VALUES {values};"


# -- existing = true --------------------------------------------------------------------


@pytest.mark.postgres
def test_an_existing_table_is_read_for_its_keys_and_never_written(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, "CREATE TABLE country (id serial PRIMARY KEY, name text);\n"
             + countries_sql())
    path = write(tmp_path, EXISTING_GENFILE)
    countries = table_rows(pg_url, "country")
    plan = run_cli(capsys, "plan", path, "--target", pg_url, "--format", "json")
    assert plan.code == 0, plan.both
    assert [entry["table"] for entry in json.loads(plan.out)] == ["city"]

    result = run_cli(capsys, "run", path, "--target", pg_url)
    assert result.code == 0, result.both
    with psycopg.connect(pg_url) as conn:
        used = rows(conn, "SELECT country_id, count(*) FROM city GROUP BY 1 ORDER BY 1")
        assert [country for country, _ in used] == COUNTRY_IDS  # each one, and only those
        assert sum(count for _, count in used) == 300
        # city (created by datastorm) holds a real foreign key onto the application's table
        assert rows(conn, "SELECT confrelid::regclass::text FROM pg_constraint "
                    "WHERE conrelid = 'city'::regclass AND contype = 'f'") == [("country",)]
    assert table_rows(pg_url, "country") == countries
    country_dump = schema_dump(pg_url)

    refused = run_cli(capsys, "run", path, "--target", pg_url, "--tables", "country")
    assert refused.code == 2, refused.both
    assert "'country' is an existing table" in refused.err and "never writes it" in refused.err
    assert "Traceback" not in refused.both

    cities = table_rows(pg_url, "city")
    again = run_cli(capsys, "run", path, "--target", pg_url)
    assert again.code == 0, again.both
    assert table_rows(pg_url, "city") == cities
    assert table_rows(pg_url, "country") == countries
    assert schema_dump(pg_url) == country_dump


@pytest.mark.postgres
def test_an_empty_existing_table_that_rows_must_reference_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE country (id serial PRIMARY KEY, name text);
        CREATE TABLE city (id serial PRIMARY KEY, name text,
                           country_id int NOT NULL REFERENCES country(id));
    """)
    before = schema_dump(pg_url)
    result = run_cli(capsys, "run", write(tmp_path, EXISTING_GENFILE), "--target", pg_url)
    assert result.code == 2, result.both
    assert "Traceback" not in result.both
    assert "table 'city' references country.id" in result.err
    assert "the existing table 'country' holds no row" in result.err
    assert "fill it first" in result.err
    assert schema_dump(pg_url) == before
    assert table_rows(pg_url, "city") == []


def test_an_existing_table_on_sqlite_gives_its_keys_the_same_way(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as conn:
        conn.executescript("CREATE TABLE country (id integer PRIMARY KEY, name text);\n"
                           + countries_sql())
    url = f"sqlite:///{database}"
    path = write(tmp_path, EXISTING_GENFILE)
    result = run_cli(capsys, "run", path, "--target", url)
    assert result.code == 0, result.both

    def read(query: str) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(database)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()

    used = read("SELECT country_id, count(*) FROM city GROUP BY 1 ORDER BY 1")
    assert [country for country, _ in used] == COUNTRY_IDS
    assert sum(count for _, count in used) == 300
    countries = [(i, f"country {i}") for i in COUNTRY_IDS]
    assert read("SELECT * FROM country ORDER BY id") == countries
    cities = read("SELECT * FROM city ORDER BY id")
    assert run_cli(capsys, "run", path, "--target", url).code == 0
    assert read("SELECT * FROM city ORDER BY id") == cities
    assert read("SELECT * FROM country ORDER BY id") == countries

    empty = tmp_path / "empty.db"
    with sqlite3.connect(empty) as conn:
        conn.execute("CREATE TABLE country (id integer PRIMARY KEY, name text)")
    result = run_cli(capsys, "run", path, "--target", f"sqlite:///{empty}")
    assert result.code == 2, result.both
    assert "the existing table 'country' holds no row" in result.err
    assert "Traceback" not in result.both


# -- table = "..." ----------------------------------------------------------------------

NAMED_SCHEMA = """
    CREATE TABLE dataset (id serial PRIMARY KEY, title varchar(40) NOT NULL);
    CREATE TABLE "order-items" (id bigserial PRIMARY KEY,
                                dataset_id int NOT NULL REFERENCES dataset(id),
                                qty smallint NOT NULL CHECK (qty > 0));
    INSERT INTO dataset (title) VALUES ('old');
    INSERT INTO "order-items" (dataset_id, qty) VALUES (1, 1);
"""
NAMED_GENFILE = """\
[t_dataset]
table = "dataset"
records = 50

[t_dataset.id]
type = "sequence"

[t_dataset.title]
type = "string"
length = [4, 30]

[order_items]
table = "order-items"
records = 400

[order_items.id]
type = "sequence"

[order_items.dataset_id]
type = "reference"
ref = "t_dataset.id"

[order_items.qty]
type = "int"
min = 1
max = 9
"""


@pytest.mark.postgres
def test_the_table_option_fills_a_reserved_name_and_a_name_that_needs_quoting(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, NAMED_SCHEMA)
    before = schema_dump(pg_url)
    path = write(tmp_path, NAMED_GENFILE)
    plan = run_cli(capsys, "plan", path, "--target", pg_url, "--format", "json")
    assert plan.code == 0, plan.both
    entries = {entry["table"]: entry for entry in json.loads(plan.out)}
    assert list(entries) == ["t_dataset", "order_items"]  # the sections, in write order
    assert {entry["owner"] for entry in entries.values()} == {"application"}

    result = run_cli(capsys, "run", path, "--target", pg_url)
    assert result.code == 0, result.both
    assert schema_dump(pg_url) == before  # both tables loaded in place, nothing altered
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(*), min(id), max(id) FROM dataset") == [(50, 1, 50)]
        assert rows(conn, 'SELECT count(*), count(DISTINCT dataset_id) FROM "order-items"'
                    ) == [(400, 50)]
        # The database's foreign key checked every row, and holds.
        assert rows(conn, 'SELECT count(*) FROM "order-items" o '
                    "LEFT JOIN dataset d ON d.id = o.dataset_id WHERE d.id IS NULL") == [(0,)]
        assert rows(conn, "SELECT convalidated FROM pg_constraint "
                    "WHERE conrelid = '\"order-items\"'::regclass AND contype = 'f'"
                    ) == [(True,)]

    # The child alone: its parent is read where the table option says it is.
    result = run_cli(capsys, "run", path, "--target", pg_url, "--tables", "order_items")
    assert result.code == 0, result.both

    # A problem with a renamed table is told by its section, at the field's header line.
    broken = NAMED_GENFILE.replace("[order_items.qty]", "[order_items.quantity]")
    result = run_cli(capsys, "run", write(tmp_path, broken, "broken.toml"), "--target", pg_url)
    assert result.code == 2, result.both
    line = broken.splitlines().index("[order_items.quantity]") + 1
    assert f"line {line}: [order_items.quantity] table 'order-items' has no column " \
           "'quantity'" in result.err


# -- unique = [[...]] -------------------------------------------------------------------

GROUP_SCHEMA = """
    CREATE TABLE app_user (id serial PRIMARY KEY);
    CREATE TABLE app_group (id serial PRIMARY KEY);
    CREATE TABLE membership (id serial PRIMARY KEY,
                             user_id int NOT NULL REFERENCES app_user(id),
                             group_id int NOT NULL REFERENCES app_group(id),
                             UNIQUE (user_id, group_id));
"""
GROUP_GENFILE = """\
[app_user]
records = USERS

[app_user.id]
type = "sequence"

[app_group]
records = 50

[app_group.id]
type = "sequence"

[membership]
records = 3000
unique = [["user_id", "group_id"]]

[membership.id]
type = "sequence"

[membership.user_id]
type = "reference"
ref = "app_user.id"

[membership.group_id]
type = "reference"
ref = "app_group.id"
"""


@pytest.mark.postgres
def test_a_unique_group_of_references_draws_distinct_pairs(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, GROUP_SCHEMA)
    path = write(tmp_path, GROUP_GENFILE.replace("USERS", "100"))  # 5,000 pairs for 3,000
    result = run_cli(capsys, "run", path, "--target", pg_url)
    assert result.code == 0, result.both
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(*), count(DISTINCT (user_id, group_id)), "
                    "count(DISTINCT user_id), count(DISTINCT group_id), min(id), max(id) "
                    "FROM membership") == [(3000, 3000, 100, 50, 1, 3000)]


@pytest.mark.postgres
def test_a_unique_group_whose_space_is_too_small_is_refused_at_validation(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, GROUP_SCHEMA)
    before = schema_dump(pg_url)
    path = write(tmp_path, GROUP_GENFILE.replace("USERS", "10"))  # 500 pairs for 3,000
    for argv in (["validate", path], ["run", path, "--target", pg_url]):
        result = run_cli(capsys, *argv)
        assert result.code == 2, result.both
        assert "Traceback" not in result.both
        assert "[membership] unique (user_id, group_id) has only 500 distinct combinations " \
               "of parents, for 3,000 rows" in result.err
    assert schema_dump(pg_url) == before
    assert table_rows(pg_url, "app_user") == []


# -- same_row_as ------------------------------------------------------------------------

# order_line's key is the pair (an order's lines); shipment_item's foreign key is the pair.
COMPOSITE_SCHEMA = """
    CREATE TABLE orders (id serial PRIMARY KEY);
    CREATE TABLE order_line (order_id int NOT NULL REFERENCES orders(id),
                             line_no int NOT NULL, qty int NOT NULL,
                             PRIMARY KEY (order_id, line_no));
    CREATE TABLE shipment_item (id serial PRIMARY KEY, order_id int NOT NULL,
                                line_no int NOT NULL,
                                FOREIGN KEY (order_id, line_no)
                                    REFERENCES order_line(order_id, line_no));
"""
# The pair must be a key in the Genfile too, and a key of several fields must be made
# of references: line_no, not a reference, is declared unique by itself (so the pair
# is unique), numbered across the table rather than from 1 within each order.
COMPOSITE_GENFILE = """\
[orders]
records = 100

[orders.id]
type = "sequence"

[order_line]
records = 300

[order_line.order_id]
type = "reference"
ref = "orders.id"

[order_line.line_no]
type = "sequence"
unique = true

[order_line.qty]
type = "int"
min = 1
max = 9

[shipment_item]
records = 2000

[shipment_item.id]
type = "sequence"

[shipment_item.order_id]
type = "reference"
ref = "order_line.order_id"

[shipment_item.line_no]
type = "reference"
ref = "order_line.line_no"
same_row_as = "order_id"
"""


@pytest.mark.postgres
def test_same_row_as_fills_a_composite_foreign_key(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, COMPOSITE_SCHEMA)
    result = run_cli(capsys, "run", write(tmp_path, COMPOSITE_GENFILE), "--target", pg_url)
    assert result.code == 0, result.both  # the database checked the composite key
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(*) FROM shipment_item s WHERE NOT EXISTS (SELECT "
                    "FROM order_line o WHERE (o.order_id, o.line_no) = (s.order_id, s.line_no))"
                    ) == [(0,)]
        assert rows(conn, "SELECT count(*), count(DISTINCT (order_id, line_no)) "
                    "FROM shipment_item") == [(2000, 300)]
    loaded = table_rows(pg_url, "order_line"), table_rows(pg_url, "shipment_item")

    # Without same_row_as the two references draw their parent rows apart: pairs that
    # order_line does not hold. The run fails, and the tables stay as they were.
    apart = COMPOSITE_GENFILE.replace('same_row_as = "order_id"\n', "")
    result = run_cli(capsys, "run", write(tmp_path, apart, "apart.toml"), "--target", pg_url)
    assert result.code in (1, 2), result.both
    assert "Traceback" not in result.both
    assert "shipment_item" in result.err
    assert (table_rows(pg_url, "order_line"), table_rows(pg_url, "shipment_item")) == loaded


@pytest.mark.postgres
def test_same_row_as_into_an_existing_table_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An existing table's keys are read column by column (distinct values of each):
    # no row ties an order_id to its line_no, so the pair cannot be drawn from them.
    # (Before the check, this run died generating rows: IndexError, exit 1.)
    load_sql(pg_url, COMPOSITE_SCHEMA + """
        INSERT INTO orders SELECT generate_series(1, 10);
        INSERT INTO order_line SELECT o, l, 1 FROM generate_series(1, 10) o,
                                                   generate_series(1, 3) l WHERE l <= 1 + o % 3;
    """)
    genfile = """\
[order_line]
existing = true

[order_line.order_id]
type = "sequence"
primary_key = true

[order_line.line_no]
type = "sequence"
unique = true

[shipment_item]
records = 50

[shipment_item.id]
type = "sequence"

[shipment_item.order_id]
type = "reference"
ref = "order_line.order_id"

[shipment_item.line_no]
type = "reference"
ref = "order_line.line_no"
same_row_as = "order_id"
"""
    path = write(tmp_path, genfile)
    line = genfile.splitlines().index("[shipment_item.line_no]") + 1
    for argv in (["validate", path], ["run", path, "--target", pg_url]):
        result = run_cli(capsys, *argv)
        assert result.code == 2, result.both
        assert "Traceback" not in result.both
        assert f"line {line}: [shipment_item.line_no] same_row_as 'order_id': order_line is " \
               "an existing table" in result.err
    assert table_rows(pg_url, "shipment_item") == []

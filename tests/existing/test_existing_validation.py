"""A Genfile checked against the application's live tables before anything is written.

Each test makes a schema (and a few rows) with the application's own SQL,
then runs a Genfile that gets one thing wrong for it. The run must stop
with exit code 2 before writing, name the table and the column, point at
the line of the field's header, say what is wrong in words, and leave the
tables exactly as they were: same rows, same ``pg_dump --schema-only``.
``datastorm validate`` passes each of these Genfiles: only the database
knows the table, so only ``run`` (against it) can refuse them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest
from e2e_support import Result, run_cli, write
from existing_support import load_sql, rows, schema_dump, table_rows

pytestmark = pytest.mark.postgres


def header_line(text: str, header: str) -> int:
    """The line number of ``[header]`` in a Genfile's text."""
    return text.splitlines().index(f"[{header}]") + 1


def snapshot(url: str, tables: Sequence[str]) -> tuple[str, dict[str, list[tuple[object, ...]]]]:
    return schema_dump(url), {t: table_rows(url, t) for t in tables}


def refused(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], genfile: str,
            tables: Sequence[str], where: str, *needles: str) -> Result:
    """Run ``genfile`` against ``url``: refused (exit 2) at the header ``where``, with
    every needle in stderr, no traceback, and ``tables`` exactly as before."""
    path = write(tmp_path, genfile)
    before = snapshot(url, tables)
    assert all(before[1][t] for t in tables), "each table holds rows before the run"
    assert run_cli(capsys, "validate", path).code == 0  # the Genfile alone is fine
    result = run_cli(capsys, "run", path, "--target", url)
    assert result.code == 2, result.both
    assert "Traceback" not in result.both, result.err
    assert f"[{where}]" in result.err, result.err
    assert f"line {header_line(genfile, where)}:" in result.err, result.err
    for needle in needles:
        assert needle in result.err, (needle, result.err)
    assert snapshot(url, tables) == before
    return result


def passes(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], genfile: str) -> None:
    result = run_cli(capsys, "run", write(tmp_path, genfile, "fixed.toml"), "--target", url)
    assert result.code == 0, result.both


# -- columns ----------------------------------------------------------------------------


def test_a_field_naming_no_column_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE item (id serial PRIMARY KEY, label text);
        INSERT INTO item (label) VALUES ('a'), ('b');
    """)
    genfile = """\
[item]
records = 10

[item.id]
type = "sequence"

[item.colour]
type = "choice"
values = ["red", "blue"]
"""
    refused(pg_url, tmp_path, capsys, genfile, ["item"], "item.colour",
            "table 'item' has no column 'colour'", "its columns: id, label")


def test_a_not_null_column_no_field_covers_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE item (id serial PRIMARY KEY, label text, code text NOT NULL,
                           status text NOT NULL DEFAULT 'new');
        INSERT INTO item (label, code) VALUES ('a', 'A1'), ('b', 'B2');
    """)
    genfile = """\
[item]
records = 10

[item.id]
type = "sequence"

[item.label]
type = "string"
length = [3, 8]
"""
    # No field for code, so the table's header is where the problem is.
    result = refused(pg_url, tmp_path, capsys, genfile, ["item"], "item",
                     "column 'code' of 'item' is NOT NULL and has no default",
                     "add a field for it")
    assert "'status'" not in result.err  # it has a default: the database fills it


def test_a_string_longer_than_a_varchar_is_refused_and_max_length_makes_it_fit(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE item (id serial PRIMARY KEY, label varchar(20) NOT NULL);
        INSERT INTO item (label) VALUES ('first'), ('second');
    """)
    genfile = """\
[item]
records = 200

[item.id]
type = "sequence"

[item.label]
type = "string"
length = [5, 40]
"""
    refused(pg_url, tmp_path, capsys, genfile, ["item"], "item.label",
            "values up to 40 characters long do not fit character varying(20)",
            "add max_length = 20")
    passes(pg_url, tmp_path, capsys, genfile.replace("length = [5, 40]\n",
                                                     "length = [5, 40]\nmax_length = 20\n"))
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(*), max(length(label)) FROM item") == [(200, 20)]


def test_a_name_longer_than_a_varchar_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE person (id serial PRIMARY KEY, initials varchar(3));
        INSERT INTO person (initials) VALUES ('AB'), ('XYZ');
    """)
    genfile = """\
[person]
records = 10

[person.id]
type = "sequence"

[person.initials]
type = "name"
"""
    # The dictionary's longest name is known, so the width is checked before any row.
    refused(pg_url, tmp_path, capsys, genfile, ["person"], "person.initials",
            "characters long do not fit character varying(3)", "max_length = 3")


# -- values outside what the column accepts ---------------------------------------------


def test_a_choice_outside_an_enum_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TYPE mood AS ENUM ('happy', 'sad');
        CREATE TABLE diary (id serial PRIMARY KEY, mood mood NOT NULL);
        INSERT INTO diary (mood) VALUES ('happy'), ('sad');
    """)
    genfile = """\
[diary]
records = 10

[diary.id]
type = "sequence"

[diary.mood]
type = "choice"
values = ["happy", "angry", "sad"]
"""
    result = refused(pg_url, tmp_path, capsys, genfile, ["diary"], "diary.mood",
                     "'angry' is not a label of the enum mood (happy, sad)")
    assert "'happy'" not in result.err.split("enum")[0]  # only the value outside is named


def test_a_choice_outside_a_check_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE ticket (id serial PRIMARY KEY,
                             status text NOT NULL CHECK (status IN ('a', 'b')));
        INSERT INTO ticket (status) VALUES ('a'), ('b');
    """)
    genfile = """\
[ticket]
records = 10

[ticket.id]
type = "sequence"

[ticket.status]
type = "choice"
values = ["a", "b", "c"]
"""
    refused(pg_url, tmp_path, capsys, genfile, ["ticket"], "ticket.status",
            "'c' breaks CHECK", "'a'::text, 'b'::text")


def test_an_int_beyond_smallint_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE stock (id serial PRIMARY KEY, qty smallint NOT NULL);
        INSERT INTO stock (qty) VALUES (1), (32767);
    """)
    genfile = """\
[stock]
records = 10

[stock.id]
type = "sequence"

[stock.qty]
type = "int"
min = 0
max = 40000
"""
    refused(pg_url, tmp_path, capsys, genfile, ["stock"], "stock.qty",
            "values from 0 to 40000 do not fit smallint (-32768 to 32767)",
            "narrow min and max")


def test_a_decimal_beyond_a_numeric_precision_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE price (id serial PRIMARY KEY, amount numeric(5,2) NOT NULL);
        INSERT INTO price (amount) VALUES (1.50), (999.99);
    """)
    genfile = """\
[price]
records = 10

[price.id]
type = "sequence"

[price.amount]
type = "decimal"
min = 0
max = 1000
scale = 2
"""
    refused(pg_url, tmp_path, capsys, genfile, ["price"], "price.amount",
            "values up to 1000.00 do not fit numeric(5,2)", "less than 1000 in magnitude")


def test_a_decimal_with_more_places_than_a_numeric_scale_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE price (id serial PRIMARY KEY, amount numeric(8,2) NOT NULL);
        INSERT INTO price (amount) VALUES (1.50), (2.25);
    """)
    genfile = """\
[price]
records = 10

[price.id]
type = "sequence"

[price.amount]
type = "decimal"
min = 0
max = 100
scale = 3
"""
    refused(pg_url, tmp_path, capsys, genfile, ["price"], "price.amount",
            "values with 3 decimal places into numeric(8,2) would be rounded",
            "set scale = 2")


def test_an_int_range_breaking_a_check_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE basket (id serial PRIMARY KEY, qty int NOT NULL CHECK (qty BETWEEN 1 AND 10));
        INSERT INTO basket (qty) VALUES (1), (10);
    """)
    genfile = """\
[basket]
records = 10

[basket.id]
type = "sequence"

[basket.qty]
type = "int"
min = 0
max = 12
"""
    result = refused(pg_url, tmp_path, capsys, genfile, ["basket"], "basket.qty",
                     "values from 0 break CHECK", "raise min",
                     "values up to 12 break CHECK", "lower max")
    assert "(qty >= 1)" in result.err and "(qty <= 10)" in result.err


def test_an_int_range_breaking_a_domain_check_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE DOMAIN year AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155);
        CREATE TABLE film (id serial PRIMARY KEY, release_year year);
        INSERT INTO film (release_year) VALUES (1901), (2006);
    """)
    genfile = """\
[film]
records = 10

[film.id]
type = "sequence"

[film.release_year]
type = "int"
min = 1850
max = 2020
"""
    result = refused(pg_url, tmp_path, capsys, genfile, ["film"], "film.release_year",
                     "values from 1850 break CHECK", "of the column's type year", "raise min")
    assert "lower max" not in result.err  # 2020 is inside the domain


# -- columns the database fills, NULLs, keys --------------------------------------------


def test_a_field_writing_a_generated_column_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE line (id serial PRIMARY KEY, qty int NOT NULL,
                           double_qty int GENERATED ALWAYS AS (qty * 2) STORED);
        INSERT INTO line (qty) VALUES (1), (2);
    """)
    genfile = """\
[line]
records = 10

[line.id]
type = "sequence"

[line.qty]
type = "int"
min = 1
max = 5

[line.double_qty]
type = "int"
"""
    refused(pg_url, tmp_path, capsys, genfile, ["line"], "line.double_qty",
            "column 'double_qty' is generated by the database", "cannot be written",
            "remove the field")


def test_a_field_with_a_null_rate_into_a_not_null_column_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE person (id serial PRIMARY KEY, born date NOT NULL);
        INSERT INTO person (born) VALUES ('1980-01-01'), ('1990-06-15');
    """)
    genfile = """\
[person]
records = 10

[person.id]
type = "sequence"

[person.born]
type = "date"
start = "1950-01-01"
end = "2000-12-31"
null_rate = 0.1
"""
    refused(pg_url, tmp_path, capsys, genfile, ["person"], "person.born",
            "column 'born' is NOT NULL, but this field can be NULL", "remove the null_rate")


def test_a_unique_column_whose_field_can_repeat_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE account (id serial PRIMARY KEY, number int NOT NULL UNIQUE);
        INSERT INTO account (number) VALUES (100), (200);
    """)
    genfile = """\
[account]
records = 10

[account.id]
type = "sequence"

[account.number]
type = "int"
min = 1
max = 1000000
"""
    refused(pg_url, tmp_path, capsys, genfile, ["account"], "account.number",
            "column 'number' is unique in the database, but this field can repeat values",
            "mark it unique = true")


LINK_SCHEMA = """
    CREATE TABLE member (id serial PRIMARY KEY);
    CREATE TABLE team (id serial PRIMARY KEY);
    CREATE TABLE membership (id serial PRIMARY KEY,
                             member_id int NOT NULL REFERENCES member(id),
                             team_id int NOT NULL REFERENCES team(id),
                             UNIQUE (member_id, team_id));
    INSERT INTO member SELECT generate_series(1, 3);
    INSERT INTO team SELECT generate_series(1, 2);
    INSERT INTO membership (member_id, team_id) VALUES (1, 1), (1, 2), (3, 2);
"""
LINK_GENFILE = """\
[member]
records = 40

[member.id]
type = "sequence"

[team]
records = 20

[team.id]
type = "sequence"

[membership]
records = 600

[membership.id]
type = "sequence"

[membership.member_id]
type = "reference"
ref = "member.id"

[membership.team_id]
type = "reference"
ref = "team.id"
"""


def test_a_composite_unique_of_references_needs_a_unique_group(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, LINK_SCHEMA)
    # No field is named: the problem is the table's, at its header.
    refused(pg_url, tmp_path, capsys, LINK_GENFILE, ["member", "team", "membership"],
            "membership", "columns (member_id, team_id) are unique together in the database",
            'unique = [["member_id", "team_id"]]')
    grouped = LINK_GENFILE.replace("[membership]\nrecords = 600\n",
                                   '[membership]\nrecords = 600\n'
                                   'unique = [["member_id", "team_id"]]\n')
    passes(pg_url, tmp_path, capsys, grouped)
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(*), count(DISTINCT (member_id, team_id)) "
                    "FROM membership") == [(600, 600)]


def test_a_foreign_key_column_whose_field_is_not_a_reference_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE customer (id serial PRIMARY KEY);
        CREATE TABLE invoice (id serial PRIMARY KEY, customer_id int REFERENCES customer(id));
        INSERT INTO customer SELECT generate_series(1, 5);
        INSERT INTO invoice (customer_id) VALUES (1), (5);
    """)
    genfile = """\
[customer]
records = 10

[customer.id]
type = "sequence"

[invoice]
records = 30

[invoice.id]
type = "sequence"

[invoice.customer_id]
type = "int"
min = 1
max = 10
"""
    refused(pg_url, tmp_path, capsys, genfile, ["customer", "invoice"], "invoice.customer_id",
            "column 'customer_id' references customer(id) in the database",
            'type = "reference", ref = "customer.id"')


# -- partitions -------------------------------------------------------------------------

PARTITIONED = """
    CREATE TABLE event (id bigint NOT NULL, at timestamptz NOT NULL) PARTITION BY RANGE (at);
    CREATE TABLE event_2024 PARTITION OF event
        FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2025-01-01 00:00+00');
    CREATE TABLE event_2025 PARTITION OF event
        FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2026-01-01 00:00+00');
    INSERT INTO event VALUES (1, '2024-03-01 12:00+00'), (2, '2025-03-01 12:00+00');
"""
EVENT_GENFILE = """\
[event]
records = 400

[event.id]
type = "sequence"

[event.at]
type = "timestamp"
start = "START"
end = "2025-06-01"
"""


def test_a_timestamp_range_outside_the_partitions_is_refused_and_one_inside_loads(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, PARTITIONED)
    refused(pg_url, tmp_path, capsys, EVENT_GENFILE.replace("START", "2023-06-01"),
            ["event"], "event.at", "fall outside the partitions of 'event'",
            "move start and end inside, or add partitions")
    passes(pg_url, tmp_path, capsys, EVENT_GENFILE.replace("START", "2024-06-01"))
    with psycopg.connect(pg_url) as conn:
        placed = rows(conn, "SELECT tableoid::regclass::text, count(*), "
                      "bool_and(extract(year FROM at AT TIME ZONE 'UTC') = "
                      "right(tableoid::regclass::text, 4)::int) FROM event GROUP BY 1 ORDER BY 1")
        assert [name for name, _, _ in placed] == ["event_2024", "event_2025"]
        assert sum(count for _, count, _ in placed) == 400
        assert all(right_year for _, _, right_year in placed)
        assert rows(conn, "SELECT count(*) FROM event WHERE at < '2024-06-01 00:00+00' "
                    "OR at > '2025-06-01 00:00+00'") == [(0,)]


# -- types ------------------------------------------------------------------------------


def test_a_uuid_field_into_an_integer_column_is_refused(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE device (id serial PRIMARY KEY, serial_no integer);
        INSERT INTO device (serial_no) VALUES (7), (8);
    """)
    genfile = """\
[device]
records = 10

[device.id]
type = "sequence"

[device.serial_no]
type = "uuid"
"""
    refused(pg_url, tmp_path, capsys, genfile, ["device"], "device.serial_no",
            "column 'serial_no' is integer, and this field makes uuid values")


def test_a_text_field_into_inet_is_refused_and_an_ip_field_loads(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE host (id serial PRIMARY KEY, address inet NOT NULL);
        INSERT INTO host (address) VALUES ('10.0.0.1'), ('192.168.1.20');
    """)
    genfile = """\
[host]
records = 50

[host.id]
type = "sequence"

[host.address]
type = "text"
"""
    refused(pg_url, tmp_path, capsys, genfile, ["host"], "host.address",
            "column 'address' is inet, and this field makes text values")
    passes(pg_url, tmp_path, capsys, genfile.replace('type = "text"', 'type = "ip"'))
    with psycopg.connect(pg_url) as conn:
        assert rows(conn, "SELECT count(*), count(DISTINCT family(address)) > 0 FROM host"
                    ) == [(50, True)]


# -- all at once ------------------------------------------------------------------------


def test_several_problems_are_all_listed_in_one_run(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE item (id serial PRIMARY KEY, label varchar(20) NOT NULL,
                           code text NOT NULL, qty int CHECK (qty BETWEEN 1 AND 10),
                           weight smallint);
        INSERT INTO item (label, code, qty, weight) VALUES ('a', 'x', 1, 3), ('b', 'y', 10, 4);
    """)
    genfile = """\
[item]
records = 10

[item.id]
type = "sequence"

[item.label]
type = "string"
length = [5, 40]

[item.nope]
type = "int"

[item.qty]
type = "int"
min = 0
max = 5

[item.weight]
type = "uuid"
"""
    result = refused(pg_url, tmp_path, capsys, genfile, ["item"], "item",
                     "5 errors in the Genfile", "column 'code' of 'item' is NOT NULL")
    listed = [line for line in result.err.splitlines() if line.startswith("  - ")]
    assert len(listed) == 5, result.err
    expected = [
        ("item", "column 'code'"),
        ("item.label", "do not fit character varying(20)"),
        ("item.nope", "has no column 'nope'"),
        ("item.qty", "values from 0 break CHECK"),
        ("item.weight", "is smallint, and this field makes uuid values"),
    ]
    # In the Genfile's order, each at its own header's line.
    for line, (where, what) in zip(listed, expected, strict=True):
        assert line.startswith(f"  - line {header_line(genfile, where)}: [{where}] "), line
        assert what in line, line


def test_validate_with_a_target_checks_the_live_tables_and_writes_nothing(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    load_sql(pg_url, """
        CREATE TABLE item (id serial PRIMARY KEY, label varchar(5) NOT NULL);
        INSERT INTO item (label) VALUES ('a');
    """)
    genfile = """\
[item]
records = 10

[item.id]
type = "sequence"

[item.label]
type = "string"
length = [3, 9]
"""
    path = write(tmp_path, genfile)
    before = snapshot(pg_url, ["item"])
    assert run_cli(capsys, "validate", path).code == 0  # the file alone is fine
    result = run_cli(capsys, "validate", path, "--target", pg_url)
    assert result.code == 2, result.both
    assert "[item.label]" in result.err and "character varying(5)" in result.err
    fixed = write(tmp_path, genfile.replace("length = [3, 9]", "length = [3, 5]"), "ok.toml")
    ok = run_cli(capsys, "validate", fixed, "--target", pg_url)
    assert ok.code == 0, ok.both
    assert "and it fits" in ok.out
    assert snapshot(pg_url, ["item"]) == before

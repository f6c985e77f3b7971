"""Reading CHECK constraints and partition bounds from PostgreSQL's own text.

The unit tests feed definitions typed by hand, in the shapes PostgreSQL
prints; the database tests read the catalog of real tables, domains and
partitions, so the reader is also held to what the server actually deparses.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from datastorm_core.target.postgres.constraints import (
    MAXVALUE,
    MINVALUE,
    Bound,
    CheckReading,
    ColumnRule,
    Constant,
    PartitionBound,
    covered_ranges,
    read_check,
    read_partition_bound,
)

C = Constant
UTC = timezone.utc


def ge(text: str, type_name: str | None = None) -> Bound:
    return Bound(C(text, type_name), inclusive=True)


def gt(text: str, type_name: str | None = None) -> Bound:
    return Bound(C(text, type_name), inclusive=False)


def reading(*rules: ColumnRule, complete: bool = True) -> CheckReading:
    return CheckReading({rule.column: rule for rule in rules}, complete)


UNREADABLE = CheckReading({}, complete=False)

CHECKS = [
    # comparisons, with the casts PostgreSQL adds around constants
    ("CHECK ((balance > ('-1000'::integer)::numeric))",
     reading(ColumnRule("balance", low=gt("-1000", "int4")))),
    ("CHECK ((o > ((- 1000))::numeric))", reading(ColumnRule("o", low=gt("-1000", "numeric")))),
    ("CHECK ((a > '-1'::integer))", reading(ColumnRule("a", low=gt("-1", "int4")))),
    ("CHECK ((ee > 5))", reading(ColumnRule("ee", low=gt("5")))),
    ("CHECK ((g > (0.5)::double precision))", reading(ColumnRule("g", low=gt("0.5", "float8")))),
    ("CHECK ((ff >= ('-0.5'::numeric)::double precision))",
     reading(ColumnRule("ff", low=ge("-0.5", "numeric")))),
    ("CHECK ((dd > '2147483648'::bigint))",
     reading(ColumnRule("dd", low=gt("2147483648", "int8")))),
    ("CHECK ((v > '9223372036854775808'::numeric))",
     reading(ColumnRule("v", low=gt("9223372036854775808", "numeric")))),
    ("CHECK ((x <= 1.5e3))", reading(ColumnRule("x", high=ge("1.5e3")))),
    ("CHECK ((x < -2))", reading(ColumnRule("x", high=gt("-2")))),
    ("CHECK ((d >= '2020-01-01'::date))", reading(ColumnRule("d", low=ge("2020-01-01", "date")))),
    ("CHECK ((ts < '2030-01-01 00:00:00'::timestamp without time zone))",
     reading(ColumnRule("ts", high=gt("2030-01-01 00:00:00", "timestamp")))),
    ("CHECK ((l >= '2019-12-31 22:00:00+00'::timestamp with time zone))",
     reading(ColumnRule("l", low=ge("2019-12-31 22:00:00+00", "timestamptz")))),
    ("CHECK ((n > '10:00:00'::time without time zone))",
     reading(ColumnRule("n", low=gt("10:00:00", "time")))),
    ("CHECK ((w > '1 day'::interval))", reading(ColumnRule("w", low=gt("1 day", "interval")))),
    # constant first: mirrored
    ("CHECK ((1 < hh))", reading(ColumnRule("hh", low=gt("1")))),
    ("CHECK ((0 >= x))", reading(ColumnRule("x", high=ge("0")))),
    ("CHECK (('2020-01-01'::date <= d))", reading(ColumnRule("d", low=ge("2020-01-01", "date")))),
    # AND: one rule per column, the tightest bounds
    ("CHECK (((VALUE >= 1901) AND (VALUE <= 2155)))",
     reading(ColumnRule("value", low=ge("1901"), high=ge("2155")))),
    ("CHECK (((price >= (0)::numeric) AND (price <= (100)::numeric)))",
     reading(ColumnRule("price", low=ge("0", "numeric"), high=ge("100", "numeric")))),
    ("CHECK (((x > 1) AND (x > 3) AND (x >= 2)))", reading(ColumnRule("x", low=gt("3")))),
    ("CHECK (((x >= 3) AND (x > 3)))", reading(ColumnRule("x", low=gt("3")))),
    ("CHECK (((x > 3) AND (x >= 3)))", reading(ColumnRule("x", low=gt("3")))),
    ("CHECK (((x < 10) AND ((x <= 7) AND (x < 8))))", reading(ColumnRule("x", high=ge("7")))),
    ("CHECK (((x > 0) AND (y < 5)))",
     reading(ColumnRule("x", low=gt("0")), ColumnRule("y", high=gt("5")))),
    ("CHECK (((x > (1)::numeric) AND (x > 1.5)))", reading(ColumnRule("x", low=gt("1.5")))),
    ("CHECK (((d > '2020-01-01'::date) AND (d > '2021-06-01'::date)))",
     reading(ColumnRule("d", low=gt("2021-06-01", "date")))),
    # a timestamptz bound is compared as an instant, whatever the offset it is written with
    ("CHECK (((t > '2022-01-01 00:00:00+00'::timestamptz) "
     "AND (t > '2022-01-01 02:00:00+01'::timestamptz)))",
     reading(ColumnRule("t", low=gt("2022-01-01 02:00:00+01", "timestamptz")))),
    # BETWEEN, as typed by a user (PostgreSQL prints >= AND <=)
    ("CHECK ((x BETWEEN 1 AND 5))", reading(ColumnRule("x", low=ge("1"), high=ge("5")))),
    ("CHECK ((x BETWEEN SYMMETRIC 5 AND 1))", reading(ColumnRule("x", low=ge("1"), high=ge("5")))),
    ("CHECK ((x BETWEEN -5 AND '5'::integer))",
     reading(ColumnRule("x", low=ge("-5"), high=ge("5", "int4")))),
    ("CHECK ((x NOT BETWEEN 1 AND 5))", UNREADABLE),
    ("CHECK ((x BETWEEN y AND 5))", UNREADABLE),
    # value lists
    ("CHECK ((status = ANY (ARRAY['active'::text, 'blocked'::text])))",
     reading(ColumnRule("status", values=(C("active", "text"), C("blocked", "text"))))),
    ("CHECK (((c)::text = ANY ((ARRAY['x'::character varying, "
     "'y'::character varying])::text[])))",
     reading(ColumnRule("c", values=(C("x", "varchar"), C("y", "varchar"))))),
    ("CHECK ((d = ANY (ARRAY['ab'::bpchar, 'cd'::bpchar])))",
     reading(ColumnRule("d", values=(C("ab", "bpchar"), C("cd", "bpchar"))))),
    ("CHECK ((kk = ANY ('{1,2}'::integer[])))",
     reading(ColumnRule("kk", values=(C("1", "int4"), C("2", "int4"))))),
    ("""CHECK ((s = ANY ('{a,"b,c","d\\"e"}'::text[])))""",
     reading(ColumnRule("s", values=(C("a", "text"), C("b,c", "text"), C('d"e', "text"))))),
    ("CHECK ((kk = ANY ('{{1,2},{3,4}}'::integer[])))", UNREADABLE),
    ("CHECK ((col IN (1, 2, 3)))", reading(ColumnRule("col", values=(C("1"), C("2"), C("3"))))),
    ("CHECK ((col IN (1, 2, 2)))", reading(ColumnRule("col", values=(C("1"), C("2"))))),
    ("CHECK ((e = 'happy'::mood))", reading(ColumnRule("e", values=(C("happy", "mood"),)))),
    ("CHECK ((e = 'happy'::public.mood))",
     reading(ColumnRule("e", values=(C("happy", "public.mood"),)))),
    ("CHECK (((k)::text = 'z'::text))", reading(ColumnRule("k", values=(C("z", "text"),)))),
    ("CHECK ((f = true))", reading(ColumnRule("f", values=(C("true", "bool"),)))),
    ("CHECK (f)", reading(ColumnRule("f", values=(C("true", "bool"),)))),
    ("CHECK ((NOT f))", reading(ColumnRule("f", values=(C("false", "bool"),)))),
    ("CHECK (((s = ANY (ARRAY['a'::text, 'b'::text, 'c'::text])) "
     "AND (s = ANY (ARRAY['b'::text, 'c'::text, 'd'::text]))))",
     reading(ColumnRule("s", values=(C("b", "text"), C("c", "text"))))),
    ("CHECK (((s = 'a'::text) AND (s = 'b'::text)))", reading(ColumnRule("s", values=()))),
    ("CHECK (((x = ANY (ARRAY[1, 2])) AND (x = (2)::numeric)))",
     reading(ColumnRule("x", values=(C("2"),)))),
    # a NULL in the list makes the test NULL, not false, for every other value: no restriction
    ("CHECK ((ii = ANY (ARRAY[1, NULL::integer])))", reading()),
    ("CHECK ((x > NULL::integer))", reading()),
    # OR of equalities on one column: the union
    ("CHECK ((rating = 'G'::text) OR (rating = 'PG'::text))",
     reading(ColumnRule("rating", values=(C("G", "text"), C("PG", "text"))))),
    ("CHECK (((t = 1) OR (t = 2)))", reading(ColumnRule("t", values=(C("1"), C("2"))))),
    ("CHECK (((t = 1) OR (t = ANY (ARRAY[2, 3])) OR (t IN (3, 4))))",
     reading(ColumnRule("t", values=(C("1"), C("2"), C("3"), C("4"))))),
    ("CHECK (((t = 1) OR (t = NULL::integer)))", reading()),
    ("CHECK (((t > 0) OR (u > 0)))", UNREADABLE),
    ("CHECK (((t = 1) OR (u = 2)))", UNREADABLE),
    ("CHECK (((t = 1) OR (t > 5)))", UNREADABLE),
    ("CHECK (((length(t) = 1) OR (length(t) = 3)))", UNREADABLE),
    ("CHECK ((((p >= 5) AND (p <= 1)) OR ((p >= 1) AND (p <= 5))))", UNREADABLE),
    ("CHECK (((x > 0) AND ((t = 1) OR (u = 2))))", reading(ColumnRule("x", low=gt("0")),
                                                          complete=False)),
    # exclusions
    ("CHECK ((x <> 0))", reading(ColumnRule("x", excluded=(C("0"),)))),
    ("CHECK ((x != 0))", reading(ColumnRule("x", excluded=(C("0"),)))),
    ("CHECK ((j <> ALL (ARRAY['a'::text, 'b'::text])))",
     reading(ColumnRule("j", excluded=(C("a", "text"), C("b", "text"))))),
    ("CHECK ((x NOT IN (1, 2, NULL)))", reading(ColumnRule("x", excluded=(C("1"), C("2"))))),
    ("CHECK (((x <> 1) AND (x <> 2) AND (x <> 1)))",
     reading(ColumnRule("x", excluded=(C("1"), C("2"))))),
    ("CHECK ((z <> '00000000-0000-0000-0000-000000000000'::uuid))",
     reading(ColumnRule("z", excluded=(C("00000000-0000-0000-0000-000000000000", "uuid"),)))),
    # NOT of a simple comparison
    ("CHECK ((NOT (x > 5)))", reading(ColumnRule("x", high=ge("5")))),
    ("CHECK ((NOT (x = 5)))", reading(ColumnRule("x", excluded=(C("5"),)))),
    ("CHECK ((NOT (x IN (1, 2))))", reading(ColumnRule("x", excluded=(C("1"), C("2"))))),
    ("CHECK ((NOT (x <> ALL (ARRAY[1, 2]))))", reading(ColumnRule("x", values=(C("1"), C("2"))))),
    ("CHECK ((NOT ((x > 1) AND (x < 5))))", UNREADABLE),
    # lengths
    ("CHECK ((char_length(code) <= 10))", reading(ColumnRule("code", max_length=10))),
    ("CHECK ((char_length((r)::text) < 4))", reading(ColumnRule("r", max_length=3))),
    ("CHECK ((length((name)::text) > 0))", reading(ColumnRule("name", min_length=1))),
    ("CHECK ((character_length(q) >= 2))", reading(ColumnRule("q", min_length=2))),
    ("CHECK ((pg_catalog.length(q) = 2))", reading(ColumnRule("q", min_length=2, max_length=2))),
    ("CHECK ((3 <= char_length(q)))", reading(ColumnRule("q", min_length=3))),
    ("CHECK ((length(q) BETWEEN 2 AND 8))", reading(ColumnRule("q", min_length=2, max_length=8))),
    ("CHECK (((length(q) >= 2) AND (length(q) > 4) AND (length(q) <= 9) AND "
     "(length(q) < 20)))", reading(ColumnRule("q", min_length=5, max_length=9))),
    ("CHECK (((length(q) > 0) AND (q <> 'none'::text)))",
     reading(ColumnRule("q", min_length=1, excluded=(C("none", "text"),)))),
    ("CHECK ((length(q) <> 3))", UNREADABLE),
    ("CHECK ((length(q) > 2.5))", UNREADABLE),
    ("CHECK ((octet_length(q) < 10))", UNREADABLE),
    ("CHECK ((length(q, 'UTF8'::name) < 10))", UNREADABLE),
    # nothing to say about values, and nothing left unread
    ("CHECK ((n IS NOT NULL))", reading()),
    ("CHECK ((NOT (n IS NULL)))", reading()),
    ("CHECK (((n IS NOT NULL) AND (n > 0)))", reading(ColumnRule("n", low=gt("0")))),
    ("CHECK (true)", reading()),
    # not read
    ("CHECK ((a < b))", UNREADABLE),
    ("CHECK ((lower(email) = email))", UNREADABLE),
    ("CHECK ((jj ~ '^a'::text))", UNREADABLE),
    ("CHECK (((- y) > 1))", UNREADABLE),
    ("CHECK ((n IS NULL))", UNREADABLE),
    ("CHECK (((aa > 1) IS TRUE))", UNREADABLE),
    ("CHECK ((x IS DISTINCT FROM 1))", UNREADABLE),
    ("CHECK ((x > ANY (ARRAY[1, 2])))", UNREADABLE),
    ("CHECK ((t.x > 1))", UNREADABLE),
    ("CHECK ((x OPERATOR(myschema.=) 1))", UNREADABLE),
    ("CHECK (false)", UNREADABLE),
    ("CHECK ((x > (SELECT 1)))", UNREADABLE),
    ("CHECK (((a < b) AND (c > 0)))", reading(ColumnRule("c", low=gt("0")), complete=False)),
    ("CHECK (((x > 5) AND (x > 'a'::text)))", reading(ColumnRule("x", low=gt("5")),
                                                       complete=False)),
    # suffixes and other spellings of the same text
    ("CHECK ((a < 100)) NOT VALID", reading(ColumnRule("a", high=gt("100")))),
    ("CHECK ((a < 100)) NO INHERIT", reading(ColumnRule("a", high=gt("100")))),
    ("  CHECK ((a < 100))\n", reading(ColumnRule("a", high=gt("100")))),
    ("check (a < 100 and a >= 0)", reading(ColumnRule("a", low=ge("0"), high=gt("100")))),
    ("((VALUE >= 1901) AND (VALUE <= 2155))",  # information_schema's check_clause
     reading(ColumnRule("value", low=ge("1901"), high=ge("2155")))),
    ('CHECK (("Bb" > 1))', reading(ColumnRule("Bb", low=gt("1")))),
    ("CHECK ((Bb > 1))", reading(ColumnRule("bb", low=gt("1")))),
    ("CHECK ((x OPERATOR(pg_catalog.>) 1))", reading(ColumnRule("x", low=gt("1")))),
    ("CHECK ((x < 'it''s'::text))", reading(ColumnRule("x", high=gt("it's", "text")))),
    # not a CHECK, or not SQL at all
    ("", UNREADABLE),
    ("CHECK (", UNREADABLE),
    ("garbage ((", UNREADABLE),
    ("FOREIGN KEY (a) REFERENCES b(id)", UNREADABLE),
    ("PRIMARY KEY (id)", UNREADABLE),
    ("UNIQUE (a)", UNREADABLE),
    ("CHECK ((a > 0)); DROP TABLE t", UNREADABLE),
    ("x > 0 FROM t", UNREADABLE),
    ("1 AS x", UNREADABLE),
]


@pytest.mark.parametrize(("definition", "expected"), CHECKS, ids=[c[0] for c in CHECKS])
def test_read_check(definition: str, expected: CheckReading) -> None:
    assert read_check(definition) == expected


@pytest.mark.parametrize(("constant", "expected"), [
    (C("-1000"), -1000),
    (C("1.5"), Decimal("1.5")),
    (C("1.5e3"), Decimal("1500")),
    (C("-1000", "int4"), -1000),
    (C("5", "int2"), 5),
    (C("9223372036854775807", "int8"), 9223372036854775807),
    (C("0", "numeric"), Decimal(0)),
    (C("-0.5", "numeric"), Decimal("-0.5")),
    (C("Infinity", "numeric"), Decimal("Infinity")),
    (C("NaN", "numeric"), "NaN"),
    (C("0.5", "float8"), 0.5),
    (C("1.5", "float4"), 1.5),
    (C("NaN", "float8"), "NaN"),
    (C("2020-01-01", "date"), date(2020, 1, 1)),
    (C("infinity", "date"), "infinity"),
    (C("2030-01-01 00:00:00", "timestamp"), datetime(2030, 1, 1)),
    (C("2030-01-01 00:00:00.5", "timestamp"), datetime(2030, 1, 1, 0, 0, 0, 500000)),
    (C("2030-01-01", "timestamp"), datetime(2030, 1, 1)),
    (C("2022-04-01 01:00:00+01", "timestamptz"),
     datetime(2022, 4, 1, 1, tzinfo=timezone(timedelta(hours=1)))),
    (C("2022-04-01 05:30:00.123+05:30", "timestamptz"),
     datetime(2022, 4, 1, 5, 30, 0, 123000, tzinfo=timezone(timedelta(hours=5, minutes=30)))),
    (C("1900-01-01 00:00:00-00:01:15", "timestamptz"),
     datetime(1900, 1, 1, tzinfo=timezone(-timedelta(minutes=1, seconds=15)))),
    (C("2022-04-01 00:00:00", "timestamptz"), "2022-04-01 00:00:00"),  # instant unknown
    (C("10:00:00", "time"), time(10)),
    (C("23:59:59.25", "time"), time(23, 59, 59, 250000)),
    (C("true", "bool"), True),
    (C("f", "bool"), False),
    (C("maybe", "bool"), "maybe"),
    (C("active", "text"), "active"),
    (C("12", "text"), "12"),
    (C("x", "varchar"), "x"),
    (C("happy", "mood"), "happy"),
    (C("abc"), "abc"),
    (C("abc", "int4"), "abc"),
])
def test_constant_as_python(constant: Constant, expected: Any) -> None:
    value = constant.as_python()
    assert value == expected
    assert type(value) is type(expected)
    if isinstance(expected, datetime):
        assert value.utcoffset() == expected.utcoffset()  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "expected"), [
    ("FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 00:00:00+00')",
     PartitionBound("range", lower=(C("2022-01-01 00:00:00+00"),),
                    upper=(C("2022-02-01 00:00:00+00"),))),
    ("FOR VALUES FROM (MINVALUE) TO (100)",
     PartitionBound("range", lower=(MINVALUE,), upper=(C("100"),))),
    ("FOR VALUES FROM ('-5') TO (MAXVALUE)",
     PartitionBound("range", lower=(C("-5"),), upper=(MAXVALUE,))),
    ("FOR VALUES FROM (1, 'a') TO (10, MAXVALUE)",
     PartitionBound("range", lower=(C("1"), C("a")), upper=(C("10"), MAXVALUE))),
    ("FOR VALUES FROM ('2022-01-01'::date) TO ('2022-02-01'::date)",
     PartitionBound("range", lower=(C("2022-01-01", "date"),),
                    upper=(C("2022-02-01", "date"),))),
    ("FOR VALUES IN ('a', 'b')", PartitionBound("list", values=(C("a"), C("b")))),
    ("FOR VALUES IN (NULL, 1)", PartitionBound("list", values=(None, C("1")))),
    ("FOR VALUES IN (NULL, 'x', 'it''s')",
     PartitionBound("list", values=(None, C("x"), C("it's")))),
    ("FOR VALUES IN (true)", PartitionBound("list", values=(C("true", "bool"),))),
    ("FOR VALUES IN (-5)", PartitionBound("list", values=(C("-5"),))),
    ("FOR VALUES WITH (modulus 4, remainder 0)",
     PartitionBound("hash", modulus=4, remainder=0)),
    ("FOR VALUES WITH (modulus 8, remainder 7)",
     PartitionBound("hash", modulus=8, remainder=7)),
    ("DEFAULT", PartitionBound("default")),
    (" DEFAULT\n", PartitionBound("default")),
    ("", None),
    ("FOR VALUES FROM (1) TO", None),
    ("FOR VALUES FROM (NULL) TO (1)", None),
    ("FOR VALUES FROM (now()) TO (1)", None),
    ("nonsense", None),
    ("DEFAULT; DROP TABLE t", None),
])
def test_read_partition_bound(text: str, expected: PartitionBound | None) -> None:
    assert read_partition_bound(text) == expected


def r(low: str | None, high: str | None) -> PartitionBound:
    """A single-column range partition, from bound texts as pg_get_expr prints them."""
    return PartitionBound("range", lower=(MINVALUE if low is None else C(low),),
                          upper=(MAXVALUE if high is None else C(high),))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("bounds", "expected"), [
    ([], ([], False)),
    ([PartitionBound("default")], ([], True)),
    ([r("0", "10"), r("10", "20")], ([(0, 20)], False)),
    ([r("10", "20"), r("0", "10"), r("30", "40")], ([(0, 20), (30, 40)], False)),
    ([r("0", "15"), r("10", "20"), r("12", "13")], ([(0, 20)], False)),
    ([r(None, "-5"), r("-5", "10"), r("20", None)], ([(None, 10), (20, None)], False)),
    ([r(None, None), r("1", "2")], ([(None, None)], False)),
    ([r("-1.5", "10"), r("10", "10.5")], ([(Decimal("-1.5"), Decimal("10.5"))], False)),
    ([r("2020-01-01", "2020-02-01"), r("2020-02-01", "2020-03-01"), r("2020-04-01", None)],
     ([(date(2020, 1, 1), date(2020, 3, 1)), (date(2020, 4, 1), None)], False)),
    ([r("2020-01-01 00:00:00", "2020-01-01 12:00:00"),
      r("2020-01-01 12:00:00", "2020-01-02 00:00:00")],
     ([(datetime(2020, 1, 1), datetime(2020, 1, 2))], False)),
    # the same instant written with two offsets: adjacent
    ([r("2022-03-01 00:00:00+00", "2022-04-01 01:00:00+01"),
      r("2022-04-01 00:00:00+00", "2022-05-01 00:00:00+00")],
     ([(utc(2022, 3, 1), utc(2022, 5, 1))], False)),
    ([r("2022-01-01 05:30:00+05:30", "2022-02-01 00:00:00+00"),
      r("2022-03-01 00:00:00+00", "2022-04-01 00:00:00+00"), PartitionBound("default")],
     ([(utc(2022, 1, 1), utc(2022, 2, 1)), (utc(2022, 3, 1), utc(2022, 4, 1))], True)),
    ([r("-infinity", "2022-01-01 00:00:00+00"), r("2022-01-01 00:00:00+00", "infinity")],
     ([(None, None)], False)),
    ([r("a", "m"), r("m", "z")], ([("a", "z")], False)),
    ([r("1", "5"), r("5", "a")], ([("1", "a")], False)),  # not all numbers: all text
    # not single-column ranges: left out
    ([PartitionBound("range", lower=(C("1"), C("a")), upper=(C("10"), MAXVALUE)),
      PartitionBound("list", values=(C("1"),)), PartitionBound("hash", modulus=2, remainder=0),
      r("0", "5")], ([(0, 5)], False)),
    ([PartitionBound("range", lower=(MAXVALUE,), upper=(MAXVALUE,))], ([], False)),
    ([PartitionBound("range", lower=(C("5", "int4"),), upper=(C("2022-01-01", "date"),)),
      r("0", "1")], ([], False)),
])
def test_covered_ranges(bounds: list[PartitionBound],
                        expected: tuple[list[tuple[Any, Any]], bool]) -> None:
    merged, has_default = covered_ranges(bounds)
    assert (merged, has_default) == expected
    for low, high in merged:
        for end in (low, high):
            if isinstance(end, datetime) and end.tzinfo is not None:
                assert end.utcoffset() == timedelta(0)


def test_covered_ranges_reads_untyped_bounds_as_the_given_type() -> None:
    bounds = [r("1", "10"), r("10", "2")]  # as text, '10' < '2'
    assert covered_ranges(bounds) == ([(1, 10)], False)  # [10, 2) is empty as integers
    assert covered_ranges(bounds, type_name="text") == ([("1", "2")], False)


# --- against the server ---------------------------------------------------------------------

SCHEMA = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE DOMAIN year AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155);
CREATE TABLE account (
  id bigint CONSTRAINT id_set CHECK (id IS NOT NULL),
  balance numeric CONSTRAINT balance_floor CHECK (balance > -1000),
  price numeric(8, 2) CONSTRAINT price_range CHECK (price >= 0 AND price <= 100),
  ratio double precision CONSTRAINT ratio_range CHECK (ratio BETWEEN 0.5 AND 1.5),
  status text CONSTRAINT status_in CHECK (status IN ('active', 'blocked')),
  tier varchar(5) CONSTRAINT tier_in CHECK (tier IN ('gold', 'basic')),
  grade char(2) CONSTRAINT grade_in CHECK (grade IN ('A1', 'B2')),
  code varchar(10) CONSTRAINT code_length CHECK (char_length(code) <= 10),
  name varchar(40) CONSTRAINT name_length CHECK (length(name) > 0),
  stars int CONSTRAINT stars_range CHECK (stars BETWEEN 1 AND 5),
  opened date CONSTRAINT opened_from CHECK (opened >= '2020-01-01'),
  closes timestamp CONSTRAINT closes_before CHECK (closes < '2030-01-01'),
  created timestamptz CONSTRAINT created_from CHECK (created >= '2020-01-01 00:00:00+02'),
  feeling mood CONSTRAINT feeling_not CHECK (feeling <> 'sad'),
  rating text CONSTRAINT rating_or CHECK (rating = 'G' OR rating = 'PG'),
  email text CONSTRAINT email_lower CHECK (lower(email) = email),
  active boolean CONSTRAINT active_only CHECK (active),
  built year,
  lo int,
  hi int,
  "Odd Name" int CONSTRAINT odd_positive CHECK ("Odd Name" > 0),
  CONSTRAINT lo_below_hi CHECK (lo < hi),
  CONSTRAINT half_read CHECK (stars >= 2 AND lower(email) = email)
);
ALTER TABLE account ADD CONSTRAINT stars_not_three CHECK (stars <> 3) NOT VALID;

CREATE TABLE event (at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE event_2022_01 PARTITION OF event
  FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 00:00:00+00');
CREATE TABLE event_2022_02 PARTITION OF event
  FOR VALUES FROM ('2022-02-01 01:00:00+01') TO ('2022-03-01 00:00:00+00');
CREATE TABLE event_2022_03 PARTITION OF event
  FOR VALUES FROM ('2022-03-01 00:00:00+00') TO ('2022-04-01 01:00:00+01');
CREATE TABLE event_2022_04 PARTITION OF event
  FOR VALUES FROM ('2022-04-01 02:00:00+02') TO ('2022-05-01 00:00:00+00');
CREATE TABLE event_2022_07 PARTITION OF event
  FOR VALUES FROM ('2022-07-01 00:00:00-05') TO ('2022-08-01 00:00:00+00');

CREATE TABLE reading (n int) PARTITION BY RANGE (n);
CREATE TABLE reading_low PARTITION OF reading FOR VALUES FROM (MINVALUE) TO (-5);
CREATE TABLE reading_mid PARTITION OF reading FOR VALUES FROM (-5) TO (100);
CREATE TABLE reading_high PARTITION OF reading FOR VALUES FROM (200) TO (MAXVALUE);
CREATE TABLE reading_other PARTITION OF reading DEFAULT;

CREATE TABLE customer (region text) PARTITION BY LIST (region);
CREATE TABLE customer_eu PARTITION OF customer FOR VALUES IN ('eu', 'uk');
CREATE TABLE customer_us PARTITION OF customer FOR VALUES IN (NULL, 'us');
CREATE TABLE customer_rest PARTITION OF customer DEFAULT;

CREATE TABLE ledger (id bigint) PARTITION BY HASH (id);
CREATE TABLE ledger_0 PARTITION OF ledger FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE ledger_1 PARTITION OF ledger FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE ledger_2 PARTITION OF ledger FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE ledger_3 PARTITION OF ledger FOR VALUES WITH (MODULUS 4, REMAINDER 3);

CREATE TABLE span (a int, b text) PARTITION BY RANGE (a, b);
CREATE TABLE span_1 PARTITION OF span FOR VALUES FROM (1, 'a') TO (10, MAXVALUE);
"""

# What each CHECK of ``account`` reads as, by constraint name, from the server's own text.
ACCOUNT_CHECKS = {
    "id_set": reading(),
    "balance_floor": reading(ColumnRule("balance", low=gt("-1000", "int4"))),
    "price_range": reading(ColumnRule("price", low=ge("0", "numeric"),
                                      high=ge("100", "numeric"))),
    "ratio_range": reading(ColumnRule("ratio", low=ge("0.5", "float8"),
                                      high=ge("1.5", "float8"))),
    "status_in": reading(ColumnRule("status", values=(C("active", "text"),
                                                      C("blocked", "text")))),
    "tier_in": reading(ColumnRule("tier", values=(C("gold", "varchar"), C("basic", "varchar")))),
    "grade_in": reading(ColumnRule("grade", values=(C("A1", "bpchar"), C("B2", "bpchar")))),
    "code_length": reading(ColumnRule("code", max_length=10)),
    "name_length": reading(ColumnRule("name", min_length=1)),
    "stars_range": reading(ColumnRule("stars", low=ge("1"), high=ge("5"))),
    "opened_from": reading(ColumnRule("opened", low=ge("2020-01-01", "date"))),
    "closes_before": reading(ColumnRule("closes", high=gt("2030-01-01 00:00:00", "timestamp"))),
    "created_from": reading(ColumnRule("created",
                                       low=ge("2019-12-31 22:00:00+00", "timestamptz"))),
    "feeling_not": reading(ColumnRule("feeling", excluded=(C("sad", "mood"),))),
    "rating_or": reading(ColumnRule("rating", values=(C("G", "text"), C("PG", "text")))),
    "email_lower": UNREADABLE,
    "active_only": reading(ColumnRule("active", values=(C("true", "bool"),))),
    "odd_positive": reading(ColumnRule("Odd Name", low=gt("0"))),
    "lo_below_hi": UNREADABLE,
    "half_read": reading(ColumnRule("stars", low=ge("2")), complete=False),
    "stars_not_three": reading(ColumnRule("stars", excluded=(C("3"),))),
}


def _partitions(pg_conn: Any, parent: str) -> dict[str, str]:
    rows = pg_conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits AS i "
        "JOIN pg_class AS c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass "
        "ORDER BY 1", (parent,)).fetchall()
    return dict(rows)


@pytest.fixture
def catalog(pg_conn: Any) -> Any:
    """The test database with SCHEMA in it; the session prints timestamps in London time,
    whose offset is +00 in winter and +01 in summer."""
    pg_conn.execute(SCHEMA)
    pg_conn.execute("SET TimeZone = 'Europe/London'")
    return pg_conn


@pytest.mark.postgres
def test_table_checks_as_the_server_prints_them(catalog: Any) -> None:
    rows = catalog.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'account'::regclass AND contype = 'c'").fetchall()
    definitions = dict(rows)
    assert set(definitions) == set(ACCOUNT_CHECKS)
    read = {name: read_check(text) for name, text in definitions.items()}
    assert read == ACCOUNT_CHECKS
    assert definitions["stars_not_three"].endswith("NOT VALID")
    created = read["created_from"].rules["created"].low
    assert created is not None
    assert created.value.as_python() == datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=2)))


@pytest.mark.postgres
def test_domain_check_as_the_server_prints_it(catalog: Any) -> None:
    (definition,) = catalog.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contypid = 'year'::regtype").fetchone()
    assert read_check(definition) == reading(ColumnRule("value", low=ge("1901"), high=ge("2155")))
    (clause,) = catalog.execute(
        "SELECT check_clause FROM information_schema.check_constraints AS c "
        "JOIN information_schema.domain_constraints AS d USING (constraint_name) "
        "WHERE d.domain_name = 'year'").fetchone()
    assert read_check(clause) == read_check(definition)


@pytest.mark.postgres
def test_range_partitions_by_timestamptz_across_offsets(catalog: Any) -> None:
    texts = _partitions(catalog, "event")
    # London time: the printed offsets differ from those the partitions were created with.
    assert texts["event_2022_03"] == (
        "FOR VALUES FROM ('2022-03-01 00:00:00+00') TO ('2022-04-01 01:00:00+01')")
    bounds = {name: read_partition_bound(text) for name, text in texts.items()}
    assert bounds["event_2022_03"] == PartitionBound(
        "range", lower=(C("2022-03-01 00:00:00+00"),), upper=(C("2022-04-01 01:00:00+01"),))
    assert bounds["event_2022_07"] == PartitionBound(
        "range", lower=(C("2022-07-01 06:00:00+01"),), upper=(C("2022-08-01 01:00:00+01"),))
    readable = [b for b in bounds.values() if b is not None]
    assert len(readable) == len(texts) == 5
    assert covered_ranges(readable) == ([(utc(2022, 1, 1), utc(2022, 5, 1)),
                                         (utc(2022, 7, 1, 5), utc(2022, 8, 1))], False)
    assert covered_ranges(readable, type_name="timestamptz") == covered_ranges(readable)


@pytest.mark.postgres
def test_range_partitions_with_minvalue_maxvalue_and_default(catalog: Any) -> None:
    bounds = {name: read_partition_bound(text)
              for name, text in _partitions(catalog, "reading").items()}
    assert bounds == {
        "reading_low": PartitionBound("range", lower=(MINVALUE,), upper=(C("-5"),)),
        "reading_mid": PartitionBound("range", lower=(C("-5"),), upper=(C("100"),)),
        "reading_high": PartitionBound("range", lower=(C("200"),), upper=(MAXVALUE,)),
        "reading_other": PartitionBound("default"),
    }
    readable = [b for b in bounds.values() if b is not None]
    assert covered_ranges(readable) == ([(None, 100), (200, None)], True)


@pytest.mark.postgres
def test_list_hash_and_multi_column_partitions(catalog: Any) -> None:
    customer = {name: read_partition_bound(text)
                for name, text in _partitions(catalog, "customer").items()}
    assert customer == {
        "customer_eu": PartitionBound("list", values=(C("eu"), C("uk"))),
        "customer_us": PartitionBound("list", values=(None, C("us"))),
        "customer_rest": PartitionBound("default"),
    }
    assert covered_ranges([b for b in customer.values() if b is not None]) == ([], True)

    ledger = {name: read_partition_bound(text)
              for name, text in _partitions(catalog, "ledger").items()}
    assert ledger == {f"ledger_{i}": PartitionBound("hash", modulus=4, remainder=i)
                      for i in range(4)}

    span = {name: read_partition_bound(text) for name, text in _partitions(catalog, "span").items()}
    assert span == {"span_1": PartitionBound("range", lower=(C("1"), C("a")),
                                             upper=(C("10"), MAXVALUE))}

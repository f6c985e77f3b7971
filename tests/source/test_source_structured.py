"""The types written in a PostgreSQL type's input syntax: json, array, ip, interval, bytes, time.

Each is checked for determinism, for the shape of its text (parsed back by
Python, and by PostgreSQL itself where a server is available), for its
bounds, and for the parameter mistakes the Genfile's validation reports.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import psycopg
import pytest
from source_support import load, present, values, whole

from datastorm_core import run
from datastorm_core.core.chunk import Chunk
from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.fieldspecs import parse_duration, parse_time_of_day
from datastorm_core.source import Source
from datastorm_core.source.generators.network import IPV4_SPACE, IpGenerator, ipv6_text
from datastorm_core.source.generators.structured import array_element, json_strings
from datastorm_core.source.generators.temporal import interval_text
from datastorm_core.source.services import locale_data

ROWS = 4000

STRUCTURED = f"""
[dataset]
seed = 77
locale = "pt_BR"

[t]
records = {ROWS}

[t.id]
type = "sequence"

[t.age]
type = "int"
min = 18
max = 90
null_rate = 0.3

[t.price]
type = "decimal"
min = 0
max = 100
scale = 2

[t.ratio]
type = "float"
min = -1
max = 1

[t.active]
type = "bool"

[t.born]
type = "date"
start = "1990-01-01"
end = "2000-12-31"

[t.seen]
type = "timestamp"

[t.who]
type = "name"

[t.quirky]
type = "choice"
values = ['say "hi"', 'back\\slash', "tab\\there", "plain"]

[t.doc]
type = "json"
of = ["id", "age", "price", "ratio", "active", "born", "seen", "who", "quirky"]

[t.plain_doc]
type = "json"
of = ["id", "age", "ratio", "active", "born", "who", "quirky"]

[t.outer]
type = "json"
of = ["id", "doc"]

[t.extra]
type = "json"

[t.wide]
type = "json"
keys = [2, 6]

[t.empty]
type = "json"
keys = 0

[t.features]
type = "array"
values = ["Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes"]
length = [0, 4]

[t.odd]
type = "array"
values = ["a,b", "NULL", "", 'q"uote', 'back\\slash', "{{x}}", "null ", 7, 2.5]
length = [1, 3]

[t.scores]
type = "array"
element = "int"
min = -20
max = 20
length = [1, 5]

[t.words]
type = "array"
length = 2

[t.ip4]
type = "ip"

[t.ip6]
type = "ip"
version = 6
null_rate = 0.1

[t.ip4_unique]
type = "ip"
unique = true

[t.wait]
type = "interval"
min = "90s"
max = "3d"

[t.short_wait]
type = "interval"
min = 5
max = "1h"

[t.blob]
type = "bytes"

[t.fixed_blob]
type = "bytes"
length = 4

[t.opens]
type = "time"
start = "08:30"
end = "17:45:30"

[t.slot]
type = "time"
unique = true
"""

INTERVAL = re.compile(r"(?:(\d+) (days?) )?(\d{2}):(\d{2}):(\d{2})")
TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})")
BYTEA = re.compile(r"\\x((?:[0-9a-f]{2})*)")


def genfile_source() -> Source:
    return run.check(load(STRUCTURED))


@cache
def table() -> Chunk:
    """The whole table, generated once for the module."""
    return whole(genfile_source(), "t")


def texts(name: str, chunk: Chunk | None = None) -> list[str]:
    """A text column's non-NULL values."""
    return [str(v) for v in present(chunk or table(), name)]


def parse_array(literal: str) -> list[str | None]:
    """A one-dimensional PostgreSQL array literal, honouring quotes and backslashes."""
    assert literal.startswith("{") and literal.endswith("}"), literal
    body = literal[1:-1]
    elements: list[str | None] = []
    if not body:
        return elements
    i = 0
    while True:
        if body[i] == '"':
            i += 1
            text = []
            while body[i] != '"':
                if body[i] == "\\":
                    i += 1
                text.append(body[i])
                i += 1
            i += 1
            elements.append("".join(text))
        else:
            end = body.find(",", i)
            end = len(body) if end < 0 else end
            word = body[i:end]
            assert word and not any(c in word for c in '{}"\\ '), word
            elements.append(None if word.upper() == "NULL" else word)
            i = end
        if i == len(body):
            return elements
        assert body[i] == ",", (literal, i)
        i += 1


def interval_seconds(text: str) -> int:
    found = INTERVAL.fullmatch(text)
    assert found is not None, text
    days, word, hours, minutes, seconds = found.groups()
    if days is not None:
        assert (word == "day") == (days == "1"), text
        assert int(days) >= 1
    assert int(hours) < 24 and int(minutes) < 60 and int(seconds) < 60, text
    return int(days or 0) * 86_400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)


def clock_seconds(text: str) -> int:
    found = TIME.fullmatch(text)
    assert found is not None, text
    hours, minutes, seconds = map(int, found.groups())
    assert hours < 24 and minutes < 60 and seconds < 60, text
    return hours * 3600 + minutes * 60 + seconds


NEW_FIELDS = ["doc", "plain_doc", "outer", "extra", "wide", "empty", "features", "odd",
              "scores", "words", "ip4", "ip6", "ip4_unique", "wait", "short_wait", "blob",
              "fixed_blob", "opens", "slot"]


# -- determinism ------------------------------------------------------------------------


def test_same_seed_same_values_and_any_slice_equals_the_whole() -> None:
    first = table()
    again = whole(Source(load(STRUCTURED)), "t")
    part = Source(load(STRUCTURED)).chunk("t", 1234, 1300)
    for name in NEW_FIELDS:
        assert values(first, name) == values(again, name), name
        assert values(part, name) == values(first, name)[1234:1300], name


def test_another_seed_gives_other_values_and_rows_differ() -> None:
    reseeded = whole(Source(load(STRUCTURED.replace("seed = 77", "seed = 78"))), "t")
    for name in NEW_FIELDS:
        column = values(table(), name)
        if name == "empty":
            assert set(column) == {"{}"}
            continue
        assert column != values(reseeded, name), name
        assert len(set(column)) >= (16 if name == "features" else 100), name


# -- json -------------------------------------------------------------------------------


def test_json_of_holds_the_fields_with_their_json_types() -> None:
    chunk = table()
    docs = [json.loads(d, parse_float=Decimal) for d in texts("doc", chunk)]
    for i, doc in enumerate(docs[:500]):
        assert list(doc) == ["id", "age", "price", "ratio", "active", "born", "seen", "who",
                             "quirky"]
        row: dict[str, Any] = {name: values(chunk, name)[i] for name in doc}
        assert doc["id"] == row["id"] and isinstance(doc["id"], int)
        assert doc["age"] == row["age"]  # None where the field is NULL
        assert doc["price"] == Decimal(row["price"]) / 100  # unscaled count of cents
        assert str(doc["price"]).count(".") == 1 and len(str(doc["price"]).split(".")[1]) == 2
        assert float(doc["ratio"]) == row["ratio"]
        assert doc["active"] is row["active"]
        assert doc["born"] == row["born"].isoformat()
        assert doc["seen"] == row["seen"].isoformat()
        assert doc["who"] == row["who"]
        assert doc["quirky"] == row["quirky"]
    assert any(doc["age"] is None for doc in docs)
    assert {doc["quirky"] for doc in docs} == {'say "hi"', "back\\slash", "tab\there", "plain"}


def test_json_is_compact_and_never_null_for_a_null_field() -> None:
    source = genfile_source()
    column = source.schema("t").column("doc")
    assert column.syntax == "json" and not column.nullable
    assert whole(source, "t").columns["doc"].nulls is None
    # json.dumps's own text (a decimal's places aside: 42.00 stays 42.00, exact).
    for name in ("plain_doc", "extra", "wide"):
        for text in texts(name)[:300]:
            assert text == json.dumps(json.loads(text), separators=(",", ":"),
                                      ensure_ascii=False)
    assert any('"price":42.00,' in text or text.count(".00,") for text in texts("doc"))


def test_a_json_of_a_json_field_nests_the_object() -> None:
    chunk = table()
    outer = [json.loads(o) for o in texts("outer", chunk)[:50]]
    inner = [json.loads(d) for d in texts("doc", chunk)[:50]]
    assert [o["doc"] for o in outer] == inner


def test_json_keys_are_distinct_lorem_words_with_word_or_integer_values() -> None:
    _, lorem = locale_data.lorem_words("pt_BR")
    vocabulary = set(lorem.words.tolist())
    counts: Counter[int] = Counter()
    kinds: Counter[str] = Counter()
    for name, bounds in (("extra", (1, 4)), ("wide", (2, 6))):
        for text in texts(name):
            pairs = json.loads(text, object_pairs_hook=list)
            keys = [k for k, _ in pairs]
            assert len(set(keys)) == len(keys), text
            assert set(keys) <= vocabulary
            assert bounds[0] <= len(keys) <= bounds[1], text
            if name == "extra":
                counts[len(keys)] += 1
            for _, value in pairs:
                if isinstance(value, str):
                    kinds["word"] += 1
                    assert value in vocabulary
                else:
                    kinds["int"] += 1
                    assert isinstance(value, int) and 0 <= value <= 9999
    assert set(counts) == {1, 2, 3, 4}
    assert 0.4 < kinds["word"] / (kinds["word"] + kinds["int"]) < 0.6


@pytest.mark.parametrize("text", ["", "plain", 'q"uote', "back\\slash", "new\nline", "\x01",
                                  "é ü 中", 'mixed "\\\t end'])
def test_json_strings_write_what_json_dumps_writes(text: str) -> None:
    quoted = json_strings(np.array([text, "other"]))
    assert quoted.tolist() == [json.dumps(text, ensure_ascii=False), '"other"']


def test_json_strings_of_no_rows() -> None:
    assert json_strings(np.array([], dtype=str)).tolist() == []


# -- array ------------------------------------------------------------------------------


def test_array_values_are_subsets_in_list_order() -> None:
    listed = ["Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes"]
    sizes: Counter[int] = Counter()
    subsets = set()
    for literal in texts("features"):
        elements = parse_array(literal)
        assert len(set(elements)) == len(elements)
        positions = [listed.index(e) for e in elements]
        assert positions == sorted(positions)
        sizes[len(elements)] += 1
        subsets.add(tuple(elements))
    assert set(sizes) == {0, 1, 2, 3, 4}
    assert len(subsets) == 2**4  # every subset of every size shows up


def test_array_quotes_elements_as_postgresql_does() -> None:
    listed = ["a,b", "NULL", "", 'q"uote', "back\\slash", "{x}", "null ", "7", "2.5"]
    seen = set()
    for literal in texts("odd"):
        elements = parse_array(literal)
        assert 1 <= len(elements) <= 3
        assert set(elements) <= set(listed)
        seen.update(elements)
    assert seen == set(listed)
    assert array_element("Deleted Scenes") == '"Deleted Scenes"'
    assert array_element("Trailers") == "Trailers"
    assert array_element("NULL") == '"NULL"' and array_element("Null") == '"Null"'
    assert array_element("") == '""'
    assert array_element('a"b\\c') == '"a\\"b\\\\c"'
    assert array_element("tab\there") == '"tab\there"'
    assert array_element(7) == "7" and array_element(-2.5) == "-2.5"


def test_array_elements_of_int_and_word() -> None:
    _, lorem = locale_data.lorem_words("pt_BR")
    vocabulary = set(lorem.words.tolist())
    lengths = Counter()
    for literal in texts("scores"):
        elements = parse_array(literal)
        lengths[len(elements)] += 1
        assert all(-20 <= int(e) <= 20 for e in elements)
    assert set(lengths) == {1, 2, 3, 4, 5}
    for literal in texts("words"):
        elements = parse_array(literal)
        assert len(elements) == 2 and set(elements) <= vocabulary


def test_array_length_is_capped_at_the_number_of_values() -> None:
    source = run.check(load('[t]\nrecords = 300\n[t.x]\ntype = "array"\nvalues = ["a", "b"]\n'
                            "length = [2, 9]\n"))
    assert set(values(whole(source, "t"), "x")) == {"{a,b}"}


# -- ip ---------------------------------------------------------------------------------


def test_ipv4_addresses_avoid_this_network_loopback_and_multicast() -> None:
    firsts = Counter()
    for text in texts("ip4") + texts("ip4_unique"):
        address = ipaddress.ip_address(text)
        assert address.version == 4 and str(address) == text
        first = int(text.split(".")[0])
        assert first not in (0, 127) and first < 224
        firsts[first] += 1
    assert len(firsts) > 150
    unique = texts("ip4_unique")
    assert len(set(unique)) == len(unique)


def test_ipv4_ordinals_cover_the_allowed_space_end_to_end() -> None:
    genfile = load('[t]\nrecords = 3\n[t.x]\ntype = "ip"\nunique = true\n')
    generator = Source(genfile).context.compiled("t").fields["x"].generator
    assert isinstance(generator, IpGenerator) and generator.space() == IPV4_SPACE
    ordinals = np.array([0, 126 * 2**24 - 1, 126 * 2**24, IPV4_SPACE - 1])
    made = generator.from_ordinals(ordinals, np.arange(4)).tolist()
    assert made == ["1.0.0.0", "126.255.255.255", "128.0.0.0", "223.255.255.255"]


def test_ipv6_addresses_are_global_unicast_outside_documentation_and_compressed() -> None:
    made = present(table(), "ip6")
    assert len(made) > 0.8 * ROWS
    documentation = ipaddress.ip_network("2001:db8::/32")
    for text in made:
        address = ipaddress.IPv6Address(text)
        assert address in ipaddress.ip_network("2000::/3")
        assert address not in documentation
        assert str(address) == text


def test_ipv6_text_compresses_zero_runs_as_ipaddress_does() -> None:
    cases = [0x2001_0000_0000_0001_0000_0000_0000_0001, 0x2001_0DB9_0000_0000_0000_0000_0000_0000,
             0x3FFF_0000_0001_0000_0000_0002_0000_0000, 0x2000_0001_0002_0003_0004_0005_0006_0007,
             0x2ABC_0000_ABCD_0000_1234_0000_5678_0000, 0]
    high = np.array([c >> 64 for c in cases], dtype=np.uint64)
    low = np.array([c & (2**64 - 1) for c in cases], dtype=np.uint64)
    assert ipv6_text(high, low).tolist() == [str(ipaddress.IPv6Address(c)) for c in cases]


def test_unique_ipv6_addresses_are_distinct() -> None:
    source = run.check(load('[t]\nrecords = 5000\n[t.x]\ntype = "ip"\nversion = 6\n'
                            "unique = true\n"))
    made = texts("x", whole(source, "t"))
    assert len(set(made)) == 5000
    assert all(ipaddress.IPv6Address(m) in ipaddress.ip_network("2000::/3") for m in made)


# -- interval, bytes, time --------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00:00"), (59, "00:00:59"), (3661, "01:01:01"), (86_399, "23:59:59"),
     (86_400, "1 day 00:00:00"), (90_061, "1 day 01:01:01"), (172_800, "2 days 00:00:00"),
     (100 * 86_400 + 5, "100 days 00:00:05")],
)
def test_interval_text(seconds: int, text: str) -> None:
    assert interval_text(np.array([seconds])).tolist() == [text]


def test_interval_text_of_no_rows() -> None:
    assert interval_text(np.array([], dtype=np.int64)).tolist() == []


@pytest.mark.parametrize(
    ("given", "seconds"),
    [(0, 0), (3600, 3600), ("90s", 90), ("15m", 900), ("2h", 7200), ("3d", 259_200),
     ("1w", 604_800), ("1d12h", 129_600), ("1h 30m", 5400), ("1w2d3h4m5s", 788_645)],
)
def test_durations(given: object, seconds: int) -> None:
    assert parse_duration(given) == seconds


def test_intervals_stay_in_their_bounds() -> None:
    for name, (low, high) in (("wait", (90, 3 * 86_400)), ("short_wait", (5, 3600))):
        made = [interval_seconds(t) for t in texts(name)]
        assert low <= min(made) and max(made) <= high
        assert max(made) - min(made) > 0.9 * (high - low)
    days = {t.split(" ")[0] for t in texts("wait") if "day" in t}
    assert {"1", "2"} <= days <= {"1", "2", "3"}  # 3 days is max itself


def test_bytes_are_hex_bytea_text_of_their_length() -> None:
    lengths = Counter()
    for text in texts("blob"):
        found = BYTEA.fullmatch(text)
        assert found is not None, text
        lengths[len(bytes.fromhex(found.group(1)))] += 1
    assert set(lengths) == set(range(8, 33))
    fixed = texts("fixed_blob")
    assert all(len(t) == 10 and BYTEA.fullmatch(t) for t in fixed)
    assert len(set(fixed)) > 0.99 * ROWS
    # Every byte value shows up, in both hex digits.
    every = "".join(t[2:] for t in fixed)
    assert len({every[i:i + 2] for i in range(0, len(every), 2)}) == 256


def test_times_stay_between_start_and_end() -> None:
    opens = [clock_seconds(t) for t in texts("opens")]
    assert min(opens) >= 8 * 3600 + 1800 and max(opens) <= 17 * 3600 + 45 * 60 + 30
    slots = texts("slot")
    assert len(set(slots)) == ROWS
    assert all(0 <= clock_seconds(t) < 86_400 for t in slots)
    assert parse_time_of_day("08:30") == 30_600


def test_a_toml_time_is_a_time_too() -> None:
    source = run.check(load("[t]\nrecords = 500\n[t.x]\ntype = \"time\"\nstart = 09:00:00\n"
                            "end = 09:00:59\nunique = false\n"))
    made = {clock_seconds(t) for t in texts("x", whole(source, "t"))}
    assert made == set(range(32_400, 32_460))


def test_a_unique_time_needs_enough_seconds() -> None:
    genfile = load('[t]\nrecords = 100\n[t.x]\ntype = "time"\nstart = "10:00:00"\n'
                   'end = "10:00:59"\nunique = true\n')
    with pytest.raises(GenfileError) as caught:
        run.check(genfile)
    assert "only 60 distinct values" in str(caught.value)


@pytest.mark.parametrize("kind", ["json", "array", "bytes"])
def test_types_that_cannot_be_unique(kind: str) -> None:
    extra = '\nvalues = ["a", "b"]' if kind == "array" else ""
    genfile = load(f'[t]\nrecords = 2\n[t.x]\ntype = "{kind}"{extra}\nunique = true\n')
    with pytest.raises(GenfileError) as caught:
        run.check(genfile)
    assert f"type {kind} cannot be unique" in str(caught.value)


# -- parameter mistakes -----------------------------------------------------------------


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text, environ={})
    return caught.value.problems


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [('type = "json"\nof = []', "of must name at least one field"),
     ('type = "json"\nof = ["id", "id"]', "of names a field twice"),
     ('type = "json"\nof = ["id"]\nkeys = 2', "give either of"),
     ('type = "json"\nkeys = [3, 1]', "keys must satisfy 0 <= min <= max <= 50"),
     ('type = "json"\nkeys = 51', "keys must satisfy"),
     ('type = "json"\nkeys = [1, 2, 3]', "keys must be an integer or [min, max]"),
     ('type = "json"\nof = ["nope"]', "reads field 'nope'"),
     ('type = "array"\nvalues = []', "values cannot be empty"),
     ('type = "array"\nvalues = ["a", "a"]', "values has duplicates"),
     ('type = "array"\nvalues = [1, "1"]', "values has duplicates"),
     ('type = "array"\nvalues = [true]', "values must be strings or numbers"),
     ('type = "array"\nvalues = ["a"]\nelement = "int"', "give either values or element"),
     ('type = "array"\nelement = "date"', "element must be one of word, int"),
     ('type = "array"\nmin = 3', "min applies to element = \"int\""),
     ('type = "array"\nelement = "int"\nmin = 5\nmax = 1', "min (5) is greater than max (1)"),
     ('type = "array"\nlength = [4, 2]', "length must satisfy 0 <= min <= max <= 1000"),
     ('type = "array"\nlength = -1', "length must satisfy"),
     ('type = "ip"\nversion = 5', "version must be one of 4, 6, got 5"),
     ('type = "ip"\nversion = "6"', "version must be an integer"),
     ('type = "interval"\nmin = "3x"', "min: cannot read duration '3x'"),
     ('type = "interval"\nmax = "1.5h"', "max: cannot read duration"),
     ('type = "interval"\nmin = -5', "a duration cannot be negative"),
     ('type = "interval"\nmin = "2d"\nmax = "1d"', 'min ("2d") is greater than max ("1d")'),
     ('type = "interval"\nmin = "31d"', "is greater than max (\"30d\")"),
     ('type = "bytes"\nlength = [9, 3]', "length must satisfy 0 <= min <= max <= 1000"),
     ('type = "bytes"\nlength = 1001', "length must satisfy"),
     ('type = "time"\nstart = "25:00"', "start: time '25:00' is not a time of day"),
     ('type = "time"\nend = "8h"', "end: cannot read time '8h'"),
     ('type = "time"\nstart = "18:00"\nend = "08:00"', 'start ("18:00") is after end ("08:00")'),
     ('type = "time"\nstart = 08:00:00.5', "whole seconds")],
)
def test_parameter_mistakes_name_the_table_and_field(spec: str, fragment: str) -> None:
    problems = problems_of(f'[t.id]\ntype = "sequence"\n\n[t.x]\n{spec}\n')
    assert len(problems) == 1, problems
    assert fragment in problems[0].message
    assert (problems[0].table, problems[0].field) == ("t", "x")
    assert problems[0].line is not None


def test_a_json_of_itself_is_refused() -> None:
    problems = problems_of('[t.id]\ntype = "sequence"\n[t.x]\ntype = "json"\nof = ["x"]\n')
    assert [(p.table, p.field, p.message) for p in problems] == \
        [("t", "x", "a field cannot be derived from itself")]


# -- PostgreSQL reads every value --------------------------------------------------------

CASTS = {"doc": "jsonb", "plain_doc": "jsonb", "outer": "jsonb", "extra": "jsonb",
         "wide": "json", "empty": "jsonb",
         "features": "text[]", "odd": "text[]", "scores": "int[]", "words": "text[]",
         "ip4": "inet", "ip6": "inet", "ip4_unique": "inet", "wait": "interval",
         "short_wait": "interval", "blob": "bytea", "fixed_blob": "bytea", "opens": "time",
         "slot": "time"}


@pytest.mark.postgres
def test_postgresql_reads_every_value_back_as_it_was_written(pg_url: str) -> None:
    source = genfile_source()
    schema = source.schema("t")
    assert {name: schema.column(name).syntax for name in CASTS} == {
        name: {"jsonb": "json", "json": "json", "text[]": "array", "int[]": "array"}.get(
            cast, cast) for name, cast in CASTS.items()}
    chunk = source.chunk("t", 0, 500)
    with psycopg.connect(pg_url) as conn:
        for name, cast in CASTS.items():
            texts = [v for v in chunk.columns[name].to_pylist() if v is not None]
            # Each text cast to its type and back: the type's own output.
            shown = "host(x::inet)" if cast == "inet" else f"x::{cast}::text"  # no "/32"
            back = conn.execute(f"SELECT {shown} FROM unnest(%s::text[]) AS x",
                                (texts,)).fetchall()
            out = [row[0] for row in back]
            if cast in ("inet", "interval", "time", "bytea", "json", "text[]", "int[]"):
                assert out == texts, name
            else:  # jsonb writes ", " and ": "; same object all the same
                assert [json.loads(o) for o in out] == [json.loads(t) for t in texts], name
            if name == "odd":
                parsed = conn.execute("SELECT x::text[] FROM unnest(%s::text[]) AS x",
                                      (texts,)).fetchall()
                assert [row[0] for row in parsed] == [parse_array(t) for t in texts]

"""Value spaces (what a column can hold, known before any row) and ``max_length``.

A space must contain every value its generator makes: it is compared here
with 20,000 generated rows of every generator. For small dictionaries and
fixed layouts it must also be tight (the longest value is the bound).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import pytest
from source_support import WORDS, load, present, values, whole

from datastorm_core import run
from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import ColumnSchema, ColumnType, ValueSpace
from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.types import FIELD_TYPES
from datastorm_core.source import Source

ROWS = 20_000

# Every generator, most in several shapes. Names say what the space should be.
SPACES = f"""
[dataset]
seed = 5
locale = "pt_BR"
now = "2026-01-31"

[parent]
records = 400

[parent.id]
type = "sequence"
start = 1000
step = 5

[parent.code]
type = "string"
pattern = "PRT-9999"
unique = true

[parent.addr]
type = "ip"
unique = true

[parent.n_visits]
type = "int"
min = 0
max = 4

[parent.opened]
type = "timestamp"
start = "-2y"
end = "-1y"

[parent.visits]
type = "total"
of = "visit"
function = "count"

[parent.last_visit]
type = "total"
of = "visit.at"
function = "max"

[parent.spent]
type = "total"
of = "visit.amount"
function = "sum"

[visit.parent_id]
type = "reference"
ref = "parent.id"
per_parent = "parent_id.n_visits"

[visit.number]
type = "ordinal"
of = "parent_id"

[visit.at]
type = "timestamp"
after = "parent_id.opened"
gap = ["1h", "30d"]
cumulative = true
end = "now"

[visit.amount]
type = "decimal"
min = 1
max = 99
scale = 2

[visit.noticed]
type = "date"
before = "at"
within = "3d"

[stage.parent_id]
type = "reference"
ref = "parent.id"
per_parent = "phase"

[stage.phase]
type = "lifecycle"
of = "parent_id"
transitions = {{ new = {{ open = 2, gone = 1 }}, open = ["finished"] }}

[s]
records = {ROWS}

[s.id]
type = "sequence"

[s.countdown]
type = "sequence"
start = 10
step = -3

[s.int_uniform]
type = "int"
min = -7
max = 13

[s.int_normal]
type = "int"
min = 0
max = 100
distribution = "normal"
mean = 90
stddev = 30

[s.int_zipf]
type = "int"
min = 5
max = 50
distribution = "zipf"

[s.int_exponential]
type = "int"
min = 0
max = 40
distribution = "exponential"
mean = 30

[s.int_unique]
type = "int"
min = -100000
max = 100000
unique = true

[s.float_plain]
type = "float"
min = -2.5
max = 7.25

[s.float_scaled]
type = "float"
min = 0.123
max = 9.876
scale = 2

[s.float_normal]
type = "float"
min = 0
max = 1
distribution = "normal"
mean = 0.9
stddev = 0.3

[s.float_unique]
type = "float"
min = 0
max = 1
scale = 6
unique = true

[s.money]
type = "decimal"
min = -10.555
max = 99.991
scale = 2

[s.money_zipf]
type = "decimal"
min = 1
max = 5
scale = 3
distribution = "zipf"

[s.flag]
type = "bool"
probability = 0.3

[s.status]
type = "choice"
values = ["open", "pending", "closed"]
weights = [1, 2, 0]

[s.level]
type = "choice"
values = [3, 1, 2]

[s.share]
type = "choice"
values = [0.5, 1.5]

[s.yes]
type = "choice"
values = [true, false]

[s.plate]
type = "string"
pattern = 'AAA-9\\\\9'

[s.blurb]
type = "string"
length = [3, 12]
chars = "xyzé"

[s.token]
type = "uuid"

[s.born]
type = "date"
start = "2000-01-01"
end = "2000-03-01"

[s.born_normal]
type = "date"
start = "1990-01-01"
end = "1999-12-31"
distribution = "normal"

[s.seen]
type = "timestamp"
start = "2025-12-31T23:00:00"
end = "2026-01-01T01:00:00"

[s.full_name]
type = "name"

[s.first]
type = "first_name"

[s.last]
type = "last_name"

[s.first_en]
type = "first_name"
locale = "en_US"

[s.email]
type = "email"

[s.email_unique]
type = "email"
unique = true
domain = ["example.com", "mail.example.org"]

[s.email_from]
type = "email"
from = "full_name"

[s.parent_id]
type = "reference"
ref = "parent.id"

[s.parent_code]
type = "reference"
ref = "parent.code"
distribution = "zipf"

[s.parent_addr]
type = "reference"
ref = "parent.addr"

[s.cpf]
type = "cpf"

[s.cpf_digits]
type = "cpf"
formatted = false

[s.cnpj]
type = "cnpj"

[s.cnpj_digits]
type = "cnpj"
formatted = false

[s.cep]
type = "cep"

[s.cep_digits]
type = "cep"
formatted = false

[s.phone]
type = "phone"

[s.phone_national]
type = "phone"
format = "national"

[s.phone_digits]
type = "phone"
format = "digits"

[s.phone_e164]
type = "phone"
format = "e164"

[s.zip]
type = "postcode"
locale = "en_US"

[s.uf]
type = "state"

[s.state_name]
type = "state"
format = "name"

[s.city]
type = "city"

[s.city_of_uf]
type = "city"
state = "uf"

[s.street]
type = "address"

[s.street_complement]
type = "address"
complement = 0.5

[s.company]
type = "company"

[s.notes]
type = "text"
words = [1, 12]

[s.notes_en]
type = "text"
words = 6
locale = "en_US"

[s.login]
type = "template"
template = "{{first}}.{{last}}#{{int_uniform:04}}/{{money}}|{{born}}|{{flag}}|{{level:>5}}"

[s.stamp]
type = "template"
template = "{{seen}} {{share}} {{parent_code}} {{token}}"

[s.fingerprint]
type = "hash"
of = ["full_name", "born"]

[s.short_hash]
type = "hash"
of = ["id"]
algorithm = "md5"
length = 10

[s.fruit]
type = "word"
dictionary = "{WORDS}"

[s.extra]
type = "json"
keys = [0, 5]

[s.doc]
type = "json"
of = ["id", "full_name"]

[s.tags]
type = "array"
values = ["Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes"]
length = [0, 2]

[s.scores]
type = "array"
element = "int"
min = -50
max = 7
length = [1, 3]

[s.words]
type = "array"
length = [0, 4]

[s.ip4]
type = "ip"

[s.ip6]
type = "ip"
version = 6

[s.wait]
type = "interval"
max = "12d"

[s.short_wait]
type = "interval"
min = "1m"
max = "1h"

[s.blob]
type = "bytes"
length = [0, 5]

[s.opens]
type = "time"
start = "08:00"
end = "18:00"

[s.line_total]
type = "expr"
expr = "int_uniform * money"

[s.due]
type = "expr"
expr = "born + months(level) + days(int_exponential)"

[s.ratio]
type = "expr"
expr = "money / (level + 0.5)"

[s.later]
type = "expr"
expr = "seen + hours(level)"
when = "flag"

[s.cents]
type = "expr"
expr = "round(money * 100)"

[s.own_code]
type = "datastorm_test_plugins:Codes"

[event]
partition_by = "day"
time_field = "at"
start_date = "2026-01-01"
rows_per_day = 300

[event.id]
type = "sequence"

[event.at]
type = "timestamp"

[event.account]
type = "reference"
ref = "parent.id"

[s.manager]
type = "reference"
ref = "s.id"
root_rate = 0.1

[event_day]
partition_by = "day"
time_field = "on"
start_date = "2026-01-20"
rows_per_day = 10

[event_day.on]
type = "date"
"""

# Fields whose value space is unknown (None) by design, and why.
UNKNOWN = {
    "doc": "as long as the fields it holds",
    "own_code": "a generator of the user's own says nothing of its values",
}

# Fields of table s whose longest generated value must be the bound (fixed layouts, small
# lists).
TIGHT_LENGTH = {"plate", "token", "status", "cpf", "cpf_digits", "cnpj", "cnpj_digits", "cep",
                "cep_digits", "zip", "phone", "phone_national", "phone_digits", "phone_e164", "uf",
                "state_name", "fingerprint", "short_hash", "fruit", "parent_code", "ip4",
                "opens", "blob", "blurb", "scores", "tags"}
# Fields of table s whose generated values must reach both bounds.
TIGHT_BOUNDS = {"id", "countdown", "int_uniform", "int_normal", "int_zipf", "int_exponential",
                "float_scaled", "money", "born", "born_normal", "level", "share",
                "parent_id", "cents"}


@cache
def source() -> Source:
    return run.check(load(SPACES))


@cache
def table(name: str = "s") -> Chunk:
    return whole(source(), name)


def python_values(chunk: Chunk, column: ColumnSchema) -> list[Any]:
    """The column's non-NULL values as the space's Python types (Decimal for NUMERIC)."""
    made = present(chunk, column.name)
    if column.type is ColumnType.NUMERIC:
        return [Decimal(v).scaleb(-(column.scale or 0)) for v in made]  # type: ignore[arg-type]
    return made


def assert_contains(space: ValueSpace, made: list[Any], name: str) -> None:
    assert made, name
    if space.low is not None:
        assert min(made) >= space.low, name
    if space.high is not None:
        assert max(made) <= space.high, name
    if space.values is not None:
        assert set(made) <= set(space.values), name
    if space.max_length is not None:
        assert max(len(str(v)) for v in made) <= space.max_length, name


def every_column() -> list[tuple[str, ColumnSchema]]:
    return [(t, c) for t in ("parent", "visit", "stage", "s", "event", "event_day")
            for c in source().schema(t).columns]


def test_the_genfile_has_every_type() -> None:
    used = {f.type for t in load(SPACES).tables for f in t.fields}
    assert used == set(FIELD_TYPES)


@pytest.mark.parametrize(("table_name", "column"), every_column(),
                         ids=[f"{t}.{c.name}" for t, c in every_column()])
def test_a_space_holds_every_value_generated(table_name: str, column: ColumnSchema) -> None:
    space = column.space
    if column.name in UNKNOWN:
        assert space is None
        return
    assert space is not None, column.name
    made = python_values(table(table_name), column)
    assert_contains(space, made, column.name)
    if table_name != "s":
        return
    if column.name in TIGHT_LENGTH:
        assert max(len(str(v)) for v in made) == space.max_length, column.name
    if column.name in TIGHT_BOUNDS:
        assert (min(made), max(made)) == (space.low, space.high), column.name


def test_spaces_of_numbers_and_times() -> None:
    schema = source().schema("s")

    def space(name: str) -> ValueSpace:
        found = schema.column(name).space
        assert found is not None
        return found

    assert space("id") == ValueSpace(low=1, high=ROWS)
    assert space("countdown") == ValueSpace(low=10 - 3 * (ROWS - 1), high=10)
    assert space("float_plain") == ValueSpace(low=-2.5, high=7.25)
    assert space("float_scaled") == ValueSpace(low=0.13, high=9.87)  # rounded inwards
    assert space("money") == ValueSpace(low=Decimal("-10.55"), high=Decimal("99.99"))
    assert str(space("money_zipf").low) == "1.000"  # the bound carries the scale
    assert space("flag") == ValueSpace(values=(False, True))
    assert space("status") == ValueSpace(values=("open", "pending", "closed"), max_length=7)
    assert space("level") == ValueSpace(low=1, high=3, values=(3, 1, 2))
    assert space("yes") == ValueSpace(values=(True, False))
    assert space("born") == ValueSpace(low=date(2000, 1, 1), high=date(2000, 3, 1))
    assert space("seen") == ValueSpace(low=datetime(2025, 12, 31, 23), high=datetime(2026, 1, 1, 1))
    assert space("token").max_length == 36
    assert space("parent_id") == ValueSpace(low=1000, high=1000 + 5 * 399)
    assert space("ip6").max_length == 39
    assert space("wait").max_length == len("12 days 00:00:00")
    assert space("short_wait").max_length == 8
    assert space("blob").max_length == 2 + 2 * 5


def test_a_table_partitioned_by_day_is_bounded_below_only() -> None:
    # `--day` may write days after [dataset] now: nothing bounds the rows above.
    schema = source().schema("event")
    assert schema.column("id").space == ValueSpace(low=1)
    assert schema.column("at").space == ValueSpace(low=datetime(2026, 1, 1))
    assert schema.column("account").space == ValueSpace(low=1000, high=1000 + 5 * 399)
    assert source().schema("event_day").column("on").space == ValueSpace(low=date(2026, 1, 20))
    later = source().chunk("event", 300 * 60, 300 * 61)  # a day after `now`
    assert min(present(later, "at")) >= datetime(2026, 3, 2)  # type: ignore[operator]


def test_a_reference_has_its_parents_space_and_syntax() -> None:
    parent = source().schema("parent")
    child = source().schema("s")
    for reference, key in (("parent_id", "id"), ("parent_code", "code"),
                           ("parent_addr", "addr")):
        assert child.column(reference).space == parent.column(key).space
        assert child.column(reference).syntax == parent.column(key).syntax
    assert child.column("parent_addr").syntax == "inet"
    assert child.column("manager").space == child.column("id").space  # a self-reference


def test_syntaxes() -> None:
    schema = source().schema("s")
    syntaxes = {c.name: c.syntax for c in schema.columns if c.syntax is not None}
    assert syntaxes == {"parent_addr": "inet", "extra": "json", "doc": "json",
                        "tags": "array", "scores": "array", "words": "array", "ip4": "inet",
                        "ip6": "inet", "wait": "interval", "short_wait": "interval",
                        "blob": "bytea", "opens": "time"}
    assert all(c.type is ColumnType.TEXT for c in schema.columns if c.syntax is not None)


# -- max_length ---------------------------------------------------------------------------

CUT = """
[dataset]
seed = 9
locale = "pt_BR"

[t]
records = 3000

[t.id]
type = "sequence"

[t.who]
type = "name"
{who}

[t.mail]
type = "email"
from = "who"

[t.status]
type = "choice"
values = ["pending", "penalty", "open"]
{status}

[t.note]
type = "text"
words = [5, 30]
{note}

[t.greeting]
type = "template"
template = "Hello, {{who}}!"
"""


def cut_genfile(who: str = "", status: str = "", note: str = "") -> Source:
    return run.check(load(CUT.format(who=who, status=status, note=note)))


def test_max_length_cuts_text_and_nothing_else() -> None:
    full = whole(cut_genfile(), "t")
    cut = whole(cut_genfile("max_length = 6", "max_length = 4", "max_length = 20"), "t")
    for name, width in (("who", 6), ("status", 4), ("note", 20)):
        assert values(cut, name) == [v[:width] for v in values(full, name)]  # type: ignore
        assert any(len(v) > width for v in values(full, name))  # type: ignore[arg-type]
    # A field that reads a cut field reads the cut value.
    assert values(cut, "greeting") == [f"Hello, {w}!" for w in values(cut, "who")]
    assert values(cut, "id") == values(full, "id")


def test_a_cut_dictionary_column_keeps_its_codes() -> None:
    column = whole(cut_genfile("max_length = 6"), "t").columns["who"]
    assert column.codes is not None and column.categories is not None
    assert (column.categories[column.codes] == column.values).all()
    assert column.categories.dtype.itemsize // 4 == 6
    # The same cut categories in every chunk: a derived field works once per name.
    source = cut_genfile("max_length = 6")
    first = source.chunk("t", 0, 100).columns["who"].categories
    assert source.chunk("t", 100, 200).columns["who"].categories is first


def test_max_length_narrows_the_space() -> None:
    schema = cut_genfile("max_length = 6", "max_length = 4", "max_length = 500").schema("t")
    assert schema.column("who").space == ValueSpace(max_length=6)
    # "pending" and "penalty" are both "pend", "pena"... one value each once cut.
    assert schema.column("status").space == ValueSpace(values=("pend", "pena", "open"),
                                                       max_length=4)
    note = schema.column("note").space
    assert note is not None and note.max_length is not None and note.max_length < 500
    # An address folded from a field: a 64-character local part at most (RFC 5321).
    mail = schema.column("mail").space
    assert mail is not None and mail.max_length is not None and 64 < mail.max_length < 100


def test_max_length_gives_a_space_to_a_field_without_one() -> None:
    text = CUT.format(who="", status="", note="").replace(
        'from = "who"', 'from = "who"\nmax_length = 12')
    assert run.check(load(text)).schema("t").column("mail").space == ValueSpace(max_length=12)


def compile_problems(text: str) -> list[Problem]:
    with pytest.raises(GenfileError) as caught:
        run.check(load(text))
    return caught.value.problems


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [('type = "int"\nmax_length = 3', "max_length cuts text, and type int makes bigint"),
     ('type = "uuid"\nmax_length = 8', "type uuid makes uuid values"),
     ('type = "date"\nmax_length = 8', "type date makes date values"),
     ('type = "choice"\nvalues = [1, 2]\nmax_length = 1', "makes bigint values"),
     ('type = "string"\nlength = 20\nunique = true\nmax_length = 5',
      "max_length 5 could make two unique values equal (string values are up to 20 "
      "characters)"),
     ('type = "ip"\nunique = true\nmax_length = 10', "(ip values are up to 15 characters)"),
     ('type = "cpf"\nunique = true\nmax_length = 11', "up to 14 characters"),
     ('type = "reference"\nref = "p.code"\nmax_length = 3',
      "max_length 3 would cut the parent's keys (up to 6 characters)")],
)
def test_max_length_is_refused_where_a_cut_would_break_the_field(spec: str,
                                                                  fragment: str) -> None:
    problems = compile_problems('[p]\nrecords = 10\n[p.id]\ntype = "sequence"\n[p.code]\n'
                                'type = "string"\npattern = "P-9999"\nunique = true\n'
                                f'[t]\nrecords = 5\n[t.x]\n{spec}\n')
    assert len(problems) == 1, problems
    assert fragment in problems[0].message
    assert (problems[0].table, problems[0].field) == ("t", "x")


@pytest.mark.parametrize(
    "spec",
    ['type = "string"\npattern = "AAA"\nunique = true\nmax_length = 3',  # fits: no cut
     'type = "cpf"\nunique = true\nmax_length = 14',
     'type = "name"\nunique = true\nmax_length = 200',
     'type = "reference"\nref = "p.code"\nmax_length = 6',
     'type = "time"\nunique = true\nmax_length = 8',
     'type = "json"\nmax_length = 10'],
)
def test_max_length_that_cuts_nothing_is_accepted(spec: str) -> None:
    run.check(load('[p]\nrecords = 10\n[p.code]\ntype = "string"\npattern = "P-9999"\n'
                   f'unique = true\nprimary_key = true\n[t]\nrecords = 5\n[t.x]\n{spec}\n'))


@pytest.mark.parametrize("given", ["0", "-3", '"10"', "2.5", "true"])
def test_max_length_must_be_a_whole_number_of_one_or_more(given: str) -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(f'[t.x]\ntype = "name"\nmax_length = {given}\n', environ={})
    problem = caught.value.problems[0]
    assert problem.message.startswith("max_length must be an integer >= 1")
    assert (problem.table, problem.field) == ("t", "x")


def test_max_length_is_a_parameter_every_type_accepts() -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile('[t.x]\ntype = "name"\nmaxlength = 5\n', environ={})
    assert "max_length" in caught.value.problems[0].message  # listed among the accepted


# -- spaces of the pieces -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "expected"),
    [(lambda: np.array(["a", "bcd", ""]), 3), (lambda: np.array([], dtype=str), 0),
     (lambda: np.array(["é" * 7]), 7)],
)
def test_longest(make: Callable[[], np.ndarray], expected: int) -> None:
    from datastorm_core.source.services.text import longest

    assert longest(make()) == expected

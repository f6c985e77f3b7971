"""Shared by the source tests: a Genfile using every field type, and ways to read columns."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.genfile import Genfile, Partition, loads_genfile
from datastorm_core.genfile.plan import TablePlan, plan_tables
from datastorm_core.source import Source

# A user dictionary (type = "word").
WORDS = (Path(__file__).parent.parent / "fixtures" / "words.txt").as_posix()

# Every field type, with null_rate and unique fields, across a parent and a child.
# `kitchen` is the table under test; `parent` gives its references something to point at.
EVERY_TYPE = """
[dataset]
seed = 20240917
locale = "pt_BR"

[parent]
records = 300

[parent.id]
type = "sequence"

[parent.code]
type = "string"
pattern = "P-9999"
unique = true

[kitchen]
records = 1500
# Fields computed from others of the row (issue 15's rules), wherever those are written.
line_total = { type = "expr", expr = "int_uniform * money + 1", when = "status != 'closed'" }
due = { type = "expr", expr = "born + months(int_normal) if flag else seen_at + hours(3)" }
tier.type = "choice"
tier.values = ["gold", "silver", "bronze"]
tier.cases = [{ when = "int_normal > 40", weights = [1, 2, 0] },
              { when = "flag", weights = [0, 1, 1] }, { weights = [0, 0, 1] }]

[kitchen.id]
type = "sequence"
start = 100
step = 7

[kitchen.int_uniform]
type = "int"
min = -50
max = 50
null_rate = 0.2

[kitchen.int_unique]
type = "int"
min = 0
max = 9999
unique = true

[kitchen.int_normal]
type = "int"
min = 0
max = 100
distribution = "normal"
mean = 30
stddev = 8

[kitchen.int_zipf]
type = "int"
min = 1
max = 1000
distribution = "zipf"

[kitchen.int_exponential]
type = "int"
min = 0
max = 500
distribution = "exponential"
mean = 20

[kitchen.float_full]
type = "float"
min = -1.5
max = 2.5

[kitchen.float_scaled]
type = "float"
min = 0
max = 10
scale = 2
null_rate = 0.3

[kitchen.money]
type = "decimal"
min = -10.5
max = 99.99
scale = 2

[kitchen.money_unique]
type = "decimal"
min = 0
max = 100
scale = 2
unique = true

[kitchen.flag]
type = "bool"
probability = 0.2

[kitchen.status]
type = "choice"
values = ["open", "pending", "closed"]
weights = [1, 2, 7]

[kitchen.plate]
type = "string"
pattern = 'AAa-99\\9'
unique = true

[kitchen.blurb]
type = "string"
length = [3, 8]
chars = "xyz"
null_rate = 0.1

[kitchen.token]
type = "uuid"

[kitchen.born]
type = "date"
start = "-30y"
end = "-18y"
unique = true

[kitchen.seen_at]
type = "timestamp"
start = "-30d"
null_rate = 0.25

[kitchen.full_name]
type = "name"
unique = true

[kitchen.first]
type = "first_name"

[kitchen.last]
type = "last_name"

[kitchen.email]
type = "email"
from = "full_name"
unique = true

[kitchen.other_email]
type = "email"
null_rate = 0.5

[kitchen.cpf]
type = "cpf"
unique = true

[kitchen.cnpj]
type = "cnpj"
formatted = false
null_rate = 0.1

[kitchen.uf]
type = "state"

[kitchen.city]
type = "city"
state = "uf"

[kitchen.cep]
type = "cep"
state = "uf"

[kitchen.zip]
type = "postcode"
locale = "en_US"

[kitchen.phone]
type = "phone"
format = "national"

[kitchen.street]
type = "address"
complement = 0.2

[kitchen.company]
type = "company"
unique = true

[kitchen.notes]
type = "text"
words = [3, 8]
null_rate = 0.2

[kitchen.parent_id]
type = "reference"
ref = "parent.id"

[kitchen.hot_parent]
type = "reference"
ref = "parent.code"
distribution = "zipf"
null_rate = 0.1
""" + f"""
[kitchen.login]
type = "template"
template = "{{first}}.{{last}}-{{int_uniform:04}}/{{money}}"

[kitchen.fingerprint]
type = "hash"
of = ["full_name", "born", "seen_at"]

[kitchen.fruit]
type = "word"
dictionary = "{WORDS}"
null_rate = 0.1
max_length = 4

[kitchen.doc]
type = "json"
of = ["id", "int_uniform", "money", "flag", "born", "full_name"]

[kitchen.extra]
type = "json"
keys = [0, 3]

[kitchen.tags]
type = "array"
values = ["Trailers", "Deleted Scenes", "Behind the Scenes"]

[kitchen.scores]
type = "array"
element = "int"
min = -5
max = 5
length = [1, 4]

[kitchen.client_ip]
type = "ip"
null_rate = 0.1

[kitchen.host_ip]
type = "ip"
version = 6
unique = true

[kitchen.duration]
type = "interval"
min = "90s"
max = "1d12h"

[kitchen.payload]
type = "bytes"
length = [0, 12]

[kitchen.opens]
type = "time"
start = "08:00"
end = "18:00"
unique = true

[kitchen.items]
type = "total"
of = "kitchen_item.qty"
function = "sum"

# A generator of the user's own (tests/fixtures/plugins), unique through its from_ordinals.
[kitchen.own_code]
type = "datastorm_test_plugins:Codes"
prefix = "K"
unique = true

# A kitchen's items, its fields written as inline tables: 1..n, each later than the last.
[kitchen_item]
kitchen_id = {{ type = "reference", ref = "kitchen.id", per_parent = [0, 3] }}
number = {{ type = "ordinal", of = "kitchen_id" }}
at = {{ type = "timestamp", after = "kitchen_id.seen_at", within = "2d", cumulative = true }}
qty = {{ type = "int", min = 1, max = 9 }}

# A kitchen's shifts: a path of states each, round open and busy until closed or 5 steps.
[kitchen_shift]
kitchen_id = {{ type = "reference", ref = "kitchen.id", per_parent = "state" }}

[kitchen_shift.state]
type = "lifecycle"
of = "kitchen_id"
max_steps = 5
transitions = {{ open = {{ busy = 3, closed = 1 }}, busy = ["open", "closed"] }}
"""


def every_type(text: str = EVERY_TYPE) -> Genfile:
    return loads_genfile(text, environ={})


def whole(source: Source, table: str) -> Chunk:
    """Every row of ``table``."""
    return source.chunk(table, 0, source.genfile.table(table).records)


def assert_partitions_add_up(genfile: Genfile, parts: int,
                             rows: Callable[[str], dict[str, Column]]) -> list[list[TablePlan]]:
    """Partitions K/``parts`` of every table are consecutive row ranges covering it, whose
    rows are the whole table's (``rows``); the plan of each partition."""
    source = Source(genfile)
    plans = [plan_tables(genfile, None, Partition(k, parts)) for k in range(parts)]
    for position, plan in enumerate(plans[0]):
        name = plan.table.name
        whole_table = rows(name)
        ranges = [(p[position].start, p[position].stop) for p in plans]
        assert ranges[0][0] == 0 and ranges[-1][1] == genfile.table(name).records
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
        for start, stop in ranges:
            for column_name, column in source.chunk(name, start, stop).columns.items():
                assert (column.values == whole_table[column_name].values[start:stop]).all()
    return plans


def values(chunk: Chunk, name: str) -> list[object]:
    """A column as Python values, None where NULL."""
    return chunk.columns[name].to_pylist()


def present(chunk: Chunk, name: str) -> list[object]:
    """A column's non-NULL values."""
    return [v for v in values(chunk, name) if v is not None]


def load(text: str) -> Genfile:
    return loads_genfile(text, environ={})


def pattern_regex(pattern: str) -> str:
    """The Genfile pattern language, translated to a regular expression."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append({"9": "[0-9]", "A": "[A-Z]", "a": "[a-z]"}.get(char, re.escape(char)))
    return "".join(out)

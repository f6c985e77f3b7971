"""Validation: every problem at once, each naming its table and field; keys and references."""

from __future__ import annotations

import pytest

from datastorm_core.errors import GenfileError, Problem
from datastorm_core.genfile import Genfile, loads_genfile
from datastorm_core.genfile.types import FIELD_TYPES, PLANNED_TYPES


def problems_of(text: str, environ: dict[str, str] | None = None) -> list[Problem]:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text, environ={} if environ is None else environ)
    return caught.value.problems


def load(text: str) -> Genfile:
    return loads_genfile(text, environ={})


def one_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def field_problem(table_text: str) -> Problem:
    """The one problem of a Genfile made of ``[t.id]`` plus ``table_text``."""
    return one_problem('[t.id]\ntype = "sequence"\n\n' + table_text)


# -- every error at once ----------------------------------------------------------


def test_five_distinct_mistakes_give_five_problems_each_naming_table_and_field() -> None:
    text = """
[users.id]
type = "sequence"

[users.age]
type = "int"
min = 90
max = 18

[users.nick]
type = "nickname"

[users.score]
type = "float"
null_rate = 1.5

[orders.id]
type = "sequence"

[orders.user_id]
type = "reference"
ref = "customers.id"

[orders.total]
type = "decimal"
scale = "two"
"""
    problems = problems_of(text)
    located = {(p.table, p.field) for p in problems}
    assert len(problems) == 5
    assert located == {("users", "age"), ("users", "nick"), ("users", "score"),
                       ("orders", "user_id"), ("orders", "total")}
    for p in problems:
        assert p.line is not None
        assert f"[{p.table}.{p.field}]" in str(p)
    rendered = str(GenfileError(problems, "Genfile.toml"))
    assert rendered.startswith("Genfile.toml: 5 errors in the Genfile")


def test_mistakes_in_every_section_are_all_reported() -> None:
    text = """
[dataset]
seed = 42
record = 1000

[target]
url = "${DATABASE_URL}"
mode = "upsert"

[users.id]
type = "sequence"

[users.email]
type = "email"
from = "full_name"

[users.age]
type = "int"
min = 18
max = 10.5

[accounts.id]
type = "sequence"

[accounts.user_id]
type = "reference"
ref = "users.email"

[accounts.kind]
type = "choice"
values = ["checking", "savings"]
weights = [9, 1, 0]
"""
    problems = problems_of(text)
    # Seven mistakes, seven problems: the unset variable is not reported a
    # second time as an empty url.
    assert len(problems) == 7, problems
    assert {(p.table, p.field) for p in problems} == {
        ("dataset", None), ("target", None), ("users", "email"), ("users", "age"),
        ("accounts", "user_id"), ("accounts", "kind"),
    }
    messages = " | ".join(p.message for p in problems)
    for part in ("'record'", "DATABASE_URL is not set", "upsert", "full_name", "10.5",
                 "neither a primary key nor unique", "weights"):
        assert part in messages


# -- types and parameters -----------------------------------------------------


def test_unknown_type_lists_the_known_ones() -> None:
    p = field_problem('[t.x]\ntype = "integer"\n')
    assert (p.table, p.field) == ("t", "x")
    assert "unknown type" in p.message and '"integer"' in p.message
    for known in FIELD_TYPES:
        assert known in p.message


def test_missing_type() -> None:
    p = field_problem("[t.x]\nmin = 3\n")
    assert (p.table, p.field) == ("t", "x")
    assert "missing `type`" in p.message


def test_planned_and_available_types_do_not_overlap() -> None:
    assert not set(PLANNED_TYPES) & set(FIELD_TYPES)


def test_unknown_parameter_lists_the_accepted_ones() -> None:
    p = field_problem('[t.x]\ntype = "int"\nmaximum = 3\n')
    assert "unknown parameter 'maximum' for type int" in p.message
    for accepted in ("min", "max", "distribution", "null_rate", "unique"):
        assert accepted in p.message


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ('type = "int"\nmax = 10.5', "max must be an integer, got 10.5"),
        ('type = "int"\nmin = "0"', 'min must be an integer, got "0"'),
        ('type = "int"\nmin = true', "min must be an integer, got true"),
        ('type = "float"\nmax = "1"', 'max must be an integer or a number, got "1"'),
        ('type = "sequence"\nstart = 1.5', "start must be an integer, got 1.5"),
        ('type = "bool"\nprobability = "high"', "probability must be"),
        ('type = "choice"\nvalues = "abc"', "values must be an array"),
        ('type = "string"\npattern = 9', "pattern must be a string, got 9"),
        ('type = "reference"\nref = 3', "ref must be a string, got 3"),
        ('type = "date"\nstart = 3', "start must be a string or a date, got 3"),
        ('type = "int"\ndistribution = "poisson"', "distribution must be one of uniform, "
                                                   "normal, zipf, exponential"),
        ('type = "reference"\nref = "p.id"\ndistribution = "normal"',
         "distribution must be one of uniform, zipf"),
        ('type = "float"\nmin = -inf', "min must be a finite number, got -inf"),
        ('type = "decimal"\nmax = nan', "max must be a finite number, got nan"),
        ('type = "int"\ndistribution = "normal"\nmean = inf', "mean must be a finite number"),
        ('type = "bool"\nprobability = nan', "probability must be a finite number"),
        ('type = "int"\nunique = "yes"', 'unique must be true or false, got "yes"'),
        ('type = "int"\nprimary_key = 1', "primary_key must be true or false, got 1"),
    ],
)
def test_wrong_parameter_types(spec: str, fragment: str) -> None:
    text = f'[p.id]\ntype = "sequence"\n\n[t.id]\ntype = "sequence"\n\n[t.x]\n{spec}\n'
    p = one_problem(text)
    assert (p.table, p.field) == ("t", "x")
    assert fragment in p.message


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ('type = "int"\nmin = 5\nmax = 1', "min (5) is greater than max (1)"),
        ('type = "float"\nmin = 0.5\nmax = -0.5', "min (0.5) is greater than max (-0.5)"),
        ('type = "decimal"\nmin = 10\nmax = 9.99', "min (10) is greater than max (9.99)"),
        # Against the defaults (int max 1000000, float max 1, decimal min 0).
        ('type = "int"\nmin = 2000000', "min (2000000) is greater than max (1000000) "
                                        "(the other bound is the default)"),
        ('type = "float"\nmin = 2', "(the other bound is the default)"),
        ('type = "decimal"\nmax = -1', "min (0) is greater than max (-1) "
                                       "(the other bound is the default)"),
        ('type = "date"\nstart = "2025-01-02"\nend = "2025-01-01"', "is after end"),
        ('type = "timestamp"\nstart = "+1d"', "is after end"),  # default end: now
        ('type = "date"\nend = "-6y"', "is after end"),  # default start: -5y
    ],
)
def test_min_greater_than_max(spec: str, fragment: str) -> None:
    p = field_problem(f"[t.x]\n{spec}\n")
    assert (p.table, p.field) == ("t", "x")
    assert fragment in p.message


def test_equal_bounds_are_fine() -> None:
    genfile = load('[t.id]\ntype = "sequence"\n[t.x]\ntype = "int"\nmin = 3\nmax = 3\n'
                   '[t.d]\ntype = "date"\nstart = "now"\nend = "now"\n')
    assert genfile.table("t").field("x").params == {"min": 3, "max": 3}


@pytest.mark.parametrize("rate", ["1.5", "-0.1", '"half"', "true", "[0.1]"])
def test_bad_null_rate(rate: str) -> None:
    p = field_problem(f'[t.x]\ntype = "int"\nnull_rate = {rate}\n')
    assert (p.table, p.field) == ("t", "x")
    assert p.message.startswith("null_rate must be a number between 0 and 1")


@pytest.mark.parametrize("rate", [0, 0.0, 0.25, 1, 1.0])
def test_null_rate_bounds_are_inclusive(rate: float) -> None:
    genfile = load(f'[t.id]\ntype = "sequence"\n[t.x]\ntype = "int"\nnull_rate = {rate}\n')
    assert genfile.table("t").field("x").null_rate == float(rate)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ('type = "sequence"\nstep = 0', "step cannot be 0"),
        ('type = "bool"\nprobability = 1.5', "probability must be between 0 and 1"),
        ('type = "int"\ndistribution = "normal"\nstddev = 0', "stddev must be positive"),
        ('type = "int"\ndistribution = "zipf"\nexponent = -1', "exponent must be positive"),
        ('type = "int"\ndistribution = "exponential"\nmean = 0', "needs a positive mean"),
        ('type = "decimal"\nscale = 19', "scale must be between 0 and 18"),
        ('type = "float"\nscale = 16', "scale must be between 0 and 15"),
        ('type = "decimal"\nmax = 1e17\nscale = 4', "range too wide for scale 4"),
        ('type = "decimal"\nmax = 1000\nscale = 2\nprecision = 5', "precision 5 cannot hold"),
        ('type = "choice"\nvalues = []', "values cannot be empty"),
        ('type = "choice"\nvalues = [[1], [2]]', "values must be strings, numbers or booleans"),
        ('type = "choice"\nvalues = ["a", "a"]', "values has duplicates"),
        ('type = "choice"\nvalues = ["a", "b"]\nweights = [1, 2, 3]', "weights"),
        ('type = "choice"\nvalues = ["a", "b"]\nweights = [0, 0]', "positive sum"),
        ('type = "choice"\nvalues = ["a", "b"]\nweights = [1, -1]', "non-negative"),
        ('type = "choice"', "type choice needs `values`"),
        ('type = "string"\npattern = "A"\nlength = 3', "either pattern or length"),
        ('type = "string"\npattern = ""', "pattern cannot be empty"),
        ("type = \"string\"\npattern = 'AB\\'", "lone backslash"),
        ('type = "string"\nlength = [5, 2]', "length bounds must satisfy"),
        ('type = "string"\nlength = [1, 2, 3]', "length must be an integer or [min, max]"),
        ('type = "string"\nlength = 3\nchars = ""', "chars cannot be empty"),
        ('type = "date"\nstart = "last tuesday"', "cannot read date 'last tuesday'"),
        ('type = "email"\ndomain = "a@b.com"', "domain must be a domain name"),
        ('type = "email"\nfrom = "nobody"', "reads field 'nobody', which table 't' does not"),
        ('type = "email"\nfrom = "x"', "a field cannot be derived from itself"),
        ('type = "reference"', "type reference needs `ref`"),
        # One mistake, one problem: a malformed ref is not also looked up.
        ('type = "reference"\nref = "p"', 'ref must name a parent field as "table.field"'),
        ('type = "reference"\nref = "t."', 'ref must name a parent field as "table.field"'),
        ('type = "reference"\nref = ".id"', 'ref must name a parent field as "table.field"'),
    ],
)
def test_parameter_values_are_checked(spec: str, fragment: str) -> None:
    p = field_problem(f"[t.x]\n{spec}\n")
    assert (p.table, p.field) == ("t", "x")
    assert fragment in p.message


def test_a_pattern_ending_with_an_escaped_backslash_is_fine() -> None:
    genfile = load("[t.id]\ntype = \"sequence\"\n[t.x]\ntype = \"string\"\npattern = 'A\\\\'\n")
    assert genfile.table("t").field("x").param("pattern") == "A\\\\"


# -- sections and tables ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ('[dataset]\nrecords = -1\n[t.id]\ntype = "sequence"\n', ("dataset", None),
         "records must be at least 0"),
        ('[dataset]\nbuffer_size = 0\n[t.id]\ntype = "sequence"\n', ("dataset", None),
         "buffer_size must be at least 1"),
        ('[dataset]\nseed = "x"\n[t.id]\ntype = "sequence"\n', ("dataset", None),
         "seed must be an integer"),
        ('[dataset]\nlocale = 5\n[t.id]\ntype = "sequence"\n', ("dataset", None),
         "locale must be a string"),
        ('[dataset]\nconstraints = "never"\n[t.id]\ntype = "sequence"\n', ("dataset", None),
         "constraints must be one of after_load, immediate"),
        ('[dataset]\nnow = "soon"\n[t.id]\ntype = "sequence"\n', ("dataset", None),
         "now: cannot read date"),
        ('[target]\ntype = "oracle"\n[t.id]\ntype = "sequence"\n', ("target", None),
         "unknown target type 'oracle'"),
        ('[t]\nrecords = -3\n[t.id]\ntype = "sequence"\n', ("t", None),
         "records must be a whole number from 0 to"),
        ('[t]\nrecords = 3\ncolour = "red"\n[t.id]\ntype = "sequence"\n', ("t", None),
         "unknown table option 'colour'"),
        ('[t]\nrecords = 3\ntarget = "nowhere"\n[t.id]\ntype = "sequence"\n', ("t", None),
         "target 'nowhere' is not defined"),
        ('[t]\nrecords = 3\n', ("t", None), "table has no field"),
        ('dagster = 3\n[t.id]\ntype = "sequence"\n', (None, None), "[dagster] must be a table"),
        ('stray = 3\n[t.id]\ntype = "sequence"\n', (None, None), "top-level key 'stray'"),
    ],
)
def test_section_and_table_problems(text: str, where: tuple[str | None, str | None],
                                    fragment: str) -> None:
    p = one_problem(text)
    assert (p.table, p.field) == where
    assert fragment in p.message


def test_an_empty_genfile_defines_no_table() -> None:
    p = one_problem("[dataset]\nseed = 1\n")
    assert "defines no table" in p.message


def test_dataset_defaults() -> None:
    genfile = load('[t.id]\ntype = "sequence"\n')
    d = genfile.dataset
    assert (d.seed, d.records, d.locale, d.partitions, d.constraints) == \
        (0, 1000, "en_US", None, "after_load")
    assert genfile.table("t").records == 1000
    assert genfile.target.type == "sqlite" and genfile.target.url is None
    assert genfile.target.mode == "replace"


# -- keys -------------------------------------------------------------------------


def test_field_named_id_is_the_primary_key_and_unique() -> None:
    table = load('[t.x]\ntype = "int"\n[t.id]\ntype = "uuid"\n').table("t")
    assert table.primary_key == ("id",)
    assert table.field("id").unique
    assert not table.field("x").unique


def test_primary_key_true_wins_over_id() -> None:
    table = load('[t.id]\ntype = "int"\n[t.code]\ntype = "string"\npattern = "AAA-999"\n'
                 "primary_key = true\n").table("t")
    assert table.primary_key == ("code",)
    assert table.field("code").unique and table.field("code").primary_key
    assert not table.field("id").unique  # an ordinary field now
    assert not table.field("id").primary_key


def test_no_id_and_no_mark_means_no_primary_key() -> None:
    table = load('[t.code]\ntype = "int"\n').table("t")
    assert table.primary_key == ()


def test_a_primary_key_cannot_have_a_null_rate() -> None:
    p = field_problem('[t.code]\ntype = "int"\nprimary_key = true\nnull_rate = 0.1\n')
    # [t.id] is an ordinary field once [t.code] is marked.
    assert (p.table, p.field) == ("t", "code")
    assert "primary key cannot have a null_rate" in p.message
    p = one_problem('[t.id]\ntype = "sequence"\nnull_rate = 0.5\n')
    assert (p.table, p.field) == ("t", "id")


def test_several_marked_primary_keys_are_refused() -> None:
    p = one_problem('[t.a]\ntype = "int"\nprimary_key = true\n'
                    '[t.b]\ntype = "int"\nprimary_key = true\n')
    assert p.table == "t"
    assert "a, b" in p.message


# -- references ------------------------------------------------------------------

PARENT = """
[p.id]
type = "sequence"

[p.code]
type = "string"
pattern = "AAA-999"
unique = true

[p.label]
type = "int"

[p.maybe]
type = "int"
unique = true
null_rate = 0.5
"""


def reference_problem(ref: str, extra: str = "") -> Problem:
    text = PARENT + f'\n[c.id]\ntype = "sequence"\n\n[c.r]\ntype = "reference"\nref = "{ref}"\n'
    p = one_problem(text + extra)
    assert (p.table, p.field) == ("c", "r")
    return p


def test_reference_to_primary_key_or_unique_field_is_fine() -> None:
    genfile = load(PARENT + '[c.a]\ntype = "reference"\nref = "p.id"\n'
                            '[c.b]\ntype = "reference"\nref = "p.code"\n')
    assert genfile.table("c").parents == ("p",)
    assert genfile.table("c").field("b").ref == ("p", "code")


def test_reference_to_unknown_table() -> None:
    assert "there is no table 'q'" in reference_problem("q.id").message


def test_reference_to_unknown_field() -> None:
    assert "table 'p' has no field 'nope'" in reference_problem("p.nope").message


def test_reference_to_non_unique_field() -> None:
    message = reference_problem("p.label").message
    assert "p.label is neither a primary key nor unique" in message


def test_reference_to_a_field_with_nulls() -> None:
    assert "has a null_rate" in reference_problem("p.maybe").message


def test_a_unique_reference_is_refused() -> None:
    text = PARENT + '[c.id]\ntype = "sequence"\n[c.r]\ntype = "reference"\nref = "p.id"\n' \
                    "unique = true\n"
    p = one_problem(text)
    assert (p.table, p.field) == ("c", "r")
    assert "per_parent" in p.message


def test_a_self_reference_is_not_a_cycle() -> None:
    genfile = loads_genfile('[t.id]\ntype = "sequence"\n[t.up]\ntype = "reference"\n'
                            'ref = "t.id"\n')
    assert genfile.table("t").parents == ()


@pytest.mark.parametrize("names", [("a", "b"), ("a", "b", "c"), ("x", "y", "z", "w")])
def test_reference_cycles_are_reported(names: tuple[str, ...]) -> None:
    text = ""
    for i, name in enumerate(names):
        parent = names[(i + 1) % len(names)]
        text += f'[{name}.id]\ntype = "sequence"\n[{name}.up]\ntype = "reference"\n' \
                f'ref = "{parent}.id"\n'
    p = one_problem(text)
    assert "cycle" in p.message
    path = p.message.split(": ", 1)[1].split(" -> ")
    assert path[0] == path[-1]
    assert set(path) == set(names)
    assert len(path) == len(names) + 1


def test_every_cycle_and_every_other_problem_at_once() -> None:
    text = """
[a.id]
type = "sequence"
[a.b]
type = "reference"
ref = "b.id"
[b.id]
type = "sequence"
[b.a]
type = "reference"
ref = "a.id"
[c.id]
type = "sequence"
[c.d]
type = "reference"
ref = "d.id"
[d.id]
type = "sequence"
[d.c]
type = "reference"
ref = "c.id"
[d.x]
type = "int"
min = 9
max = 1
"""
    problems = problems_of(text)
    cycles = [p for p in problems if "cycle" in p.message]
    assert len(cycles) == 2
    assert any((p.table, p.field) == ("d", "x") for p in problems)
    assert len(problems) == 3


# -- digests (what decides a table's rows) ----------------------------------------


def test_table_digest_changes_only_with_the_table_or_the_dataset() -> None:
    base = '[a.id]\ntype = "sequence"\n[b.id]\ntype = "sequence"\n[b.x]\ntype = "int"\n'
    before = load(base)
    extra_table = load(base + '[c.id]\ntype = "uuid"\n')
    changed_b = load(base.replace('type = "int"', 'type = "int"\nmax = 5'))
    reseeded = load("[dataset]\nseed = 9\n" + base)
    assert extra_table.table_digests["a"] == before.table_digests["a"]
    assert extra_table.table_digests["b"] == before.table_digests["b"]
    assert changed_b.table_digests["a"] == before.table_digests["a"]
    assert changed_b.table_digests["b"] != before.table_digests["b"]
    assert reseeded.table_digests["a"] != before.table_digests["a"]
    assert extra_table.digest != before.digest


@pytest.mark.parametrize("name", ['"order line"', '"transação"', '"2024_sales"'])
def test_table_names_must_suit_sql_files_and_assets(name: str) -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(f'[{name}.id]\ntype = "sequence"\n')
    assert any("letters, digits and underscores" in p.message for p in caught.value.problems)

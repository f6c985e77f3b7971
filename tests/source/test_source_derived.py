"""template and hash: fields built from other fields of the same row."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pytest
from source_support import load, values, whole

from datastorm_core import run
from datastorm_core.core.schema import ColumnType
from datastorm_core.core.values import numeric_decimal
from datastorm_core.errors import GenfileError, Problem
from datastorm_core.source import Source
from datastorm_core.source.generators.derived import pad

ROWS = 3000

# Literal braces, every kind of column, paddings, a field read twice.
LOGIN = ("{{{first}.{last}}}#{id:06}|{amount:>8}|{ratio}|{day}|{moment}|{flag:^7}|"
         "{level:*<3}|{parent_id}|{parent_code}|{first}")

# Every kind of column a template or hash can read, NULLs in two of them.
DERIVED = f"""
[dataset]
seed = 5
locale = "pt_BR"

[parent]
records = 40

[parent.id]
type = "sequence"
start = 900

[parent.code]
type = "decimal"
min = 0
max = 50
scale = 3
unique = true

[t]
records = {ROWS}

[t.id]
type = "sequence"

[t.first]
type = "first_name"

[t.last]
type = "last_name"
null_rate = 0.2

[t.amount]
type = "decimal"
min = -20
max = 20
scale = 2

[t.ratio]
type = "float"
min = -1
max = 1e6

[t.day]
type = "date"

[t.moment]
type = "timestamp"

[t.flag]
type = "bool"

[t.level]
type = "choice"
values = [1, 2, 3]

[t.nick]
type = "string"
length = [0, 6]
null_rate = 0.1

[t.parent_id]
type = "reference"
ref = "parent.id"

[t.parent_code]
type = "reference"
ref = "parent.code"

[t.login]
type = "template"
template = "{LOGIN}"

[t.contact]
type = "template"
template = "{{first}} <{{nick}}@corp.com>"

[t.constant]
type = "template"
template = "ACME"

[t.digest]
type = "hash"
of = ["first", "amount", "day", "moment", "flag", "ratio", "parent_code"]

[t.digest_md5]
type = "hash"
of = ["last", "nick"]
algorithm = "md5"

[t.short]
type = "hash"
of = ["id"]
algorithm = "blake2b"
length = 12

[t.sha1]
type = "hash"
of = ["first"]
algorithm = "sha1"
"""


@pytest.fixture(scope="module")
def derived() -> tuple[Source, dict[str, list[object]]]:
    source = run.check(load(DERIVED))
    chunk = whole(source, "t")
    return source, {name: values(chunk, name) for name in chunk.columns}


def python_text(value: object, scale: int | None = None) -> str:
    """The text a template gives a value, computed with plain Python."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if scale is not None:
        return str(numeric_decimal(value, scale))  # type: ignore[arg-type]
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def test_template_equals_a_python_f_string_per_row(derived) -> None:  # type: ignore[no-untyped-def]
    _, col = derived
    checked = 0
    for i in range(ROWS):
        if col["last"][i] is None:
            continue
        first, last = col["first"][i], col["last"][i]
        amount = numeric_decimal(col["amount"][i], 2)  # type: ignore[arg-type]
        flag = python_text(col["flag"][i])
        code = python_text(col["parent_code"][i], scale=3)
        expected = (f"{{{first}.{last}}}#{col['id'][i]:06}|{amount:>8}|{col['ratio'][i]!r}|"
                    f"{col['day'][i].isoformat()}|{col['moment'][i].isoformat()}|{flag:^7}|"
                    f"{col['level'][i]:*<3}|{col['parent_id'][i]}|{code}|{first}")
        assert col["login"][i] == expected
        checked += 1
    assert checked > ROWS // 2


def test_template_reads_text_fields_and_constants(derived) -> None:  # type: ignore[no-untyped-def]
    _, col = derived
    for first, nick, contact in zip(col["first"], col["nick"], col["contact"], strict=True):
        assert contact == (None if nick is None else f"{first} <{nick}@corp.com>")
    assert set(col["constant"]) == {"ACME"}


def test_a_null_in_any_read_field_makes_the_template_null(derived) -> None:  # type: ignore[no-untyped-def]
    source, col = derived
    assert any(v is None for v in col["last"]) and any(v is None for v in col["nick"])
    for i in range(ROWS):
        assert (col["login"][i] is None) == (col["last"][i] is None)
        assert (col["digest_md5"][i] is None) == (col["last"][i] is None or col["nick"][i] is None)
    schema = source.schema("t")
    assert schema.column("login").type is ColumnType.TEXT
    assert schema.column("login").nullable and schema.column("digest_md5").nullable
    # `digest` reads no field that can be NULL, so it keeps NOT NULL.
    assert not schema.column("digest").nullable
    assert not schema.column("constant").nullable


@pytest.mark.parametrize(
    ("name", "fields", "algorithm", "length"),
    [("digest", ["first", "amount", "day", "moment", "flag", "ratio", "parent_code"],
      "sha256", 64),
     ("digest_md5", ["last", "nick"], "md5", 32),
     ("short", ["id"], "blake2b", 12),
     ("sha1", ["first"], "sha1", 40)],
)
def test_hash_equals_hashlib_on_the_joined_texts(derived, name: str, fields: list[str],  # type: ignore[no-untyped-def]
                                                 algorithm: str, length: int) -> None:
    _, col = derived
    scales = {"amount": 2, "parent_code": 3}
    for i in range(ROWS):
        if col[name][i] is None:
            continue
        text = "\x1f".join(python_text(col[f][i], scales.get(f)) for f in fields)
        expected = hashlib.new(algorithm, text.encode("utf-8")).hexdigest()[:length]
        assert col[name][i] == expected
        assert len(col[name][i]) == length  # type: ignore[arg-type]


def test_a_single_field_hash_is_the_hash_of_its_text(derived) -> None:  # type: ignore[no-untyped-def]
    _, col = derived
    for first, digest in zip(col["first"], col["sha1"], strict=True):
        assert digest == hashlib.sha1(first.encode()).hexdigest()  # type: ignore[union-attr]


def test_derived_fields_are_the_same_in_any_slice(derived) -> None:  # type: ignore[no-untyped-def]
    source, col = derived
    for start, stop in ((0, 1), (17, 18), (100, 1333), (ROWS - 5, ROWS), (50, 50)):
        chunk = source.chunk("t", start, stop)
        for name in ("login", "contact", "digest", "digest_md5", "short"):
            assert values(chunk, name) == col[name][start:stop]
    again = whole(run.check(load(DERIVED)), "t")
    assert values(again, "digest") == col["digest"]


def test_hash_columns_are_text_of_the_digest_width() -> None:
    source = run.check(load(DERIVED))
    chunk = whole(source, "t")
    assert chunk.columns["short"].values.dtype == np.dtype("<U12")
    assert source.schema("t").column("digest").type is ColumnType.TEXT


# -- problems -------------------------------------------------------------------


def problems_of(text: str) -> list[Problem]:
    """Every problem, whether the language checks or the generators find it."""
    with pytest.raises(GenfileError) as caught:
        run.check(load(text))
    return caught.value.problems


BASE = '[t]\nrecords = 5\n[t.a]\ntype = "int"\n[t.b]\ntype = "first_name"\n'


def one_problem(field_text: str) -> Problem:
    problems = problems_of(BASE + field_text)
    assert len(problems) == 1, problems
    assert (problems[0].table, problems[0].field) == ("t", "x")
    return problems[0]


def test_an_unknown_field_in_a_template_names_table_and_field() -> None:
    p = one_problem('[t.x]\ntype = "template"\ntemplate = "{a}-{nope}"\n')
    assert p.message == "reads field 'nope', which table 't' does not have"
    assert p.line is not None


def test_an_unknown_field_in_a_hash_names_table_and_field() -> None:
    p = one_problem('[t.x]\ntype = "hash"\nof = ["a", "missing"]\n')
    assert p.message == "reads field 'missing', which table 't' does not have"


def test_a_template_cannot_read_itself() -> None:
    p = one_problem('[t.x]\ntype = "template"\ntemplate = "{x}!"\n')
    assert "derived from itself" in p.message


@pytest.mark.parametrize(
    ("template", "fragment"),
    [("{a.real}", "only plain field names"),
     ("{a[0]}", "only plain field names"),
     ("{a!r}", "conversions"),
     ("{}", "names no field"),
     ("{ }", "names no field"),
     ("{a", "expected '}' before end of string"),
     ("a}", "Single '}'"),
     ("{a:>5.2f}", "format spec '>5.2f' is not supported"),
     ("{a:8}", "format spec '8' is not supported"),
     ("{a:{b}}", "format spec '{b}' is not supported"),
     ("{a:>5000}", "width 5000 is larger than 1000")],
)
def test_a_template_accepts_only_plain_fields_and_paddings(template: str, fragment: str) -> None:
    p = one_problem(f'[t.x]\ntype = "template"\ntemplate = "{template}"\n')
    assert fragment in p.message
    assert repr(template) in p.message


def test_literal_braces_and_paddings_are_accepted() -> None:
    text = BASE + '[t.x]\ntype = "template"\ntemplate = "{{{a:0>4}}} {b:-^9} {a:<3}|{a:03}"\n'
    chunk = whole(run.check(load(text)), "t")
    for a, b, x in zip(values(chunk, "a"), values(chunk, "b"), values(chunk, "x"), strict=True):
        assert x == f"{{{a:0>4}}} {b:-^9} {a:<3}|{a:03}"


def test_a_template_cannot_be_unique() -> None:
    p = one_problem('[t.x]\ntype = "template"\ntemplate = "{a}"\nunique = true\n')
    assert p.message == "type template cannot be unique"


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [('of = []', "of must name at least one field"),
     ('of = ["a", 3]', "of must be a list of field names"),
     ('of = ["a"]\nalgorithm = "sha512"', "algorithm must be one of sha256, md5, sha1, blake2b"),
     ('of = ["a"]\nlength = 33\nalgorithm = "md5"', "length must be between 1 and 32 for md5"),
     ('of = ["a"]\nlength = 0', "length must be between 1 and 64 for sha256"),
     ('of = "a"', "of must be an array")],
)
def test_hash_parameters_are_checked(spec: str, fragment: str) -> None:
    p = one_problem(f'[t.x]\ntype = "hash"\n{spec}\n')
    assert fragment in p.message


def test_a_hash_needs_of() -> None:
    p = one_problem('[t.x]\ntype = "hash"\n')
    assert p.message == "type hash needs `of`"


NULLABLE_NAME = '[p]\nrecords = 20\n[p.n]\ntype = "first_name"\nnull_rate = 0.5\n'
REFERENCED = '[c]\nrecords = 5\n[c.to]\ntype = "reference"\nref = "p.k"\n'


def test_a_key_derived_from_a_field_with_nulls_is_refused() -> None:
    """An email from a name is NULL where the name is: not a primary key, nor a key that
    references point at (before, the run wrote NULL keys and orphans)."""
    (key,) = problems_of(NULLABLE_NAME + '[p.k]\ntype = "email"\nfrom = "n"\n'
                                         'primary_key = true\n')
    assert (key.table, key.field) == ("p", "k") and key.line is not None
    assert key.message.startswith("a primary key cannot be NULL, and this field is NULL")
    (ref,) = problems_of(NULLABLE_NAME + '[p.k]\ntype = "email"\nfrom = "n"\nunique = true\n'
                         + REFERENCED)
    assert (ref.table, ref.field) == ("c", "to") and ref.line is not None
    assert "p.k is NULL in the rows where a field it is derived from is NULL" in ref.message
    # From a field without NULLs, the same keys hold.
    whole_name = NULLABLE_NAME.replace("null_rate = 0.5\n", "")
    run.check(load(whole_name + '[p.k]\ntype = "email"\nfrom = "n"\nprimary_key = true\n'))
    run.check(load(whole_name + '[p.k]\ntype = "email"\nfrom = "n"\nunique = true\n'
                   + REFERENCED))


def test_fields_that_read_each_other_in_a_cycle_are_refused() -> None:
    problems = problems_of('[t]\nrecords = 3\n[t.a]\ntype = "template"\ntemplate = "{b}"\n'
                           '[t.b]\ntype = "template"\ntemplate = "{a}"\n')
    assert any("cycle" in p.message for p in problems)


# -- the pieces -------------------------------------------------------------------


@pytest.mark.parametrize("spec", [">6", "<6", "^6", "^7", "*^6", "0>6", "06", "03", ">1", "^1"])
def test_padding_is_pythons_format(spec: str) -> None:
    from datastorm_core.genfile.fieldspecs import parse_template

    (part,) = parse_template("{x:" + spec + "}")
    assert part.padding is not None
    texts = ["", "a", "ab", "abc", "-12", "12345678", "-1.50"]
    made = pad(np.array(texts), part.padding).tolist()
    if spec[0] == "0" and spec[1:].isdigit():  # zeros: Python pads numbers after the sign
        numeric = [t for t in texts if t and t.lstrip("-").replace(".", "").isdigit()]
        assert [m for t, m in zip(texts, made, strict=True) if t in numeric] == \
            [format(Decimal(t), spec) for t in numeric]
    else:
        assert made == [format(t, spec) for t in texts]
    assert pad(np.array([], dtype=str), part.padding).tolist() == []

"""The language's type catalogue and the source's generators agree, type by type."""

from __future__ import annotations

from pathlib import Path

import pytest
from source_support import load, whole

from datastorm_core import run
from datastorm_core.core.schema import ColumnType
from datastorm_core.genfile.types import FIELD_TYPES, PLANNED_TYPES
from datastorm_core.source.generators import GENERATORS, Generator

# A user dictionary for `word`.
WORDS = (Path(__file__).parent.parent / "fixtures" / "words.txt").as_posix()

# The smallest field of each type. A type added to the catalogue without a
# case here fails test_every_type_has_a_case (as dagster-sling's
# test_translation_is_comprehensive does for its translator).
MINIMAL_FIELDS: dict[str, str] = {
    "sequence": 'type = "sequence"',
    "int": 'type = "int"',
    "float": 'type = "float"',
    "decimal": 'type = "decimal"',
    "bool": 'type = "bool"',
    "choice": 'type = "choice"\nvalues = ["a", "b"]',
    "string": 'type = "string"\npattern = "A9"',
    "uuid": 'type = "uuid"',
    "date": 'type = "date"',
    "timestamp": 'type = "timestamp"',
    "name": 'type = "name"',
    "first_name": 'type = "first_name"',
    "last_name": 'type = "last_name"',
    "email": 'type = "email"',
    "reference": 'type = "reference"\nref = "parent.id"',
    "template": 'type = "template"\ntemplate = "constant"',
    # A field to hash, written after the one under test.
    "hash": 'type = "hash"\nof = ["y"]\n[t.y]\ntype = "int"',
    "word": f'type = "word"\ndictionary = "{WORDS}"',
    "cpf": 'type = "cpf"',
    "cnpj": 'type = "cnpj"',
    "cep": 'type = "cep"',
    "phone": 'type = "phone"',
    "state": 'type = "state"',
    "city": 'type = "city"',
    "address": 'type = "address"',
    "postcode": 'type = "postcode"',
    "company": 'type = "company"',
    "text": 'type = "text"',
    # The types in a PostgreSQL type's input syntax: text all the same.
    "json": 'type = "json"',
    "array": 'type = "array"\nvalues = ["a", "b c"]',
    "ip": 'type = "ip"',
    "interval": 'type = "interval"',
    "bytes": 'type = "bytes"',
    "time": 'type = "time"',
    # A child's place among its parent's children: t is tied to parent (10 x 5 = 50 rows).
    "ordinal": 'type = "ordinal"\nof = "p"\n[t.p]\ntype = "reference"\nref = "parent.id"\n'
               'per_parent = [5, 5]',
    # Over t's children: t gets a key, and a table tied to it.
    "total": 'type = "total"\nof = "kid"\nfunction = "count"\n[t.id]\ntype = "sequence"\n'
             '[kid.t_id]\ntype = "reference"\nref = "t.id"\nper_parent = [0, 3]',
    # A field to compute from, written after the one under test.
    "expr": 'type = "expr"\nexpr = "y * 2"\n[t.y]\ntype = "int"',
    # Every one of the 10 parents walks a -> b -> c -> d -> e: 50 rows.
    "lifecycle": 'type = "lifecycle"\nof = "p"\ntransitions = { a = ["b"], b = ["c"], '
                 'c = ["d"], d = ["e"] }\n[t.p]\ntype = "reference"\nref = "parent.id"\n'
                 'per_parent = "x"',
    # A generator of the user's own (tests/fixtures/plugins), named by its dotted path.
    "plugin": 'type = "datastorm_test_plugins:Codes"',
}
# The row count of t, unless its case ties it to a parent (the parent then decides).
RECORDS = {"ordinal": "", "lifecycle": ""}

# numpy kinds a column type's values may have (U: str, M: datetime64).
NUMPY_KINDS = {
    ColumnType.BIGINT: "i",
    ColumnType.DOUBLE: "f",
    ColumnType.NUMERIC: "i",  # unscaled counts of 10**-scale
    ColumnType.BOOLEAN: "b",
    ColumnType.DATE: "M",
    ColumnType.TIMESTAMP: "M",
    ColumnType.UUID: "U",
    ColumnType.TEXT: "U",
}


def test_every_catalogue_type_has_a_generator_and_vice_versa() -> None:
    assert set(FIELD_TYPES) == set(GENERATORS)
    for name, generator in GENERATORS.items():
        assert issubclass(generator, Generator), name


def test_no_planned_type_has_a_generator() -> None:
    assert not set(PLANNED_TYPES) & set(GENERATORS)


def test_every_type_has_a_case() -> None:
    assert set(MINIMAL_FIELDS) == set(FIELD_TYPES)


@pytest.mark.parametrize("kind", sorted(FIELD_TYPES))
def test_generator_makes_the_catalogues_column_type(kind: str) -> None:
    records = RECORDS.get(kind, "records = 50\n")
    genfile = load(f'[parent]\nrecords = 10\n[parent.id]\ntype = "sequence"\n'
                   f"[t]\n{records}[t.x]\n{MINIMAL_FIELDS[kind]}\n")
    source = run.check(genfile)
    column = source.schema("t").column("x")
    declared = FIELD_TYPES[kind].column_type
    if declared is not None:  # None: decided by the parameters (choice, reference)
        assert column.type is declared
    made = whole(source, "t").columns["x"].values
    assert len(made) == 50
    assert made.dtype.kind == NUMPY_KINDS[column.type]


@pytest.mark.parametrize(
    ("values", "expected"),
    [("[true, false]", ColumnType.BOOLEAN), ("[1, 2]", ColumnType.BIGINT),
     ("[1, 2.5]", ColumnType.DOUBLE), ('["a", 1]', ColumnType.TEXT),
     ('["a", "b"]', ColumnType.TEXT)],
)
def test_choice_column_type_is_the_narrowest_holding_every_value(values: str,
                                                                 expected: ColumnType) -> None:
    source = run.check(load(f'[t]\nrecords = 20\n[t.x]\ntype = "choice"\nvalues = {values}\n'))
    assert source.schema("t").column("x").type is expected
    made = whole(source, "t").columns["x"].values
    assert made.dtype.kind == NUMPY_KINDS[expected]
    if expected is ColumnType.TEXT and values == '["a", 1]':
        assert set(made.tolist()) <= {"a", "1"}


def test_zero_length_strings_are_empty_text() -> None:
    source = run.check(load('[t]\nrecords = 3\n[t.x]\ntype = "string"\nlength = 0\n'))
    made = whole(source, "t").columns["x"].values
    assert made.dtype.kind == "U"
    assert made.tolist() == ["", "", ""]

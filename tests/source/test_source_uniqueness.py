"""Uniqueness by construction: keyed permutations, value spaces, UUIDs."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from source_support import load, present, values, whole

from datastorm_core import run
from datastorm_core.errors import GenfileError
from datastorm_core.source import Source
from datastorm_core.source.services import dictionaries
from datastorm_core.source.services.permutation import MAX_DOMAIN, KeyedPermutation

# -- the permutation ------------------------------------------------------------


@given(size=st.integers(1, 3000), key=st.integers(0, 2**64 - 1))
@settings(max_examples=80, deadline=None)
def test_keyed_permutation_is_a_bijection(size: int, key: int) -> None:
    permutation = KeyedPermutation(size, key)
    image = permutation(np.arange(size, dtype=np.int64))
    assert image.dtype == np.int64
    assert np.array_equal(np.sort(image), np.arange(size))


@given(size=st.integers(2**20, MAX_DOMAIN), key=st.integers(0, 2**64 - 1),
       data=st.data())
@settings(max_examples=40, deadline=None)
def test_keyed_permutation_of_a_large_domain_is_injective_and_in_range(
        size: int, key: int, data: st.DataObject) -> None:
    inputs = data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=200,
                                unique=True))
    image = KeyedPermutation(size, key)(np.array(inputs, dtype=np.int64))
    assert len(set(image.tolist())) == len(inputs)
    assert image.min() >= 0 and image.max() < size


def test_keyed_permutation_depends_on_its_key_and_is_repeatable() -> None:
    rows = np.arange(1000, dtype=np.int64)
    a, b = KeyedPermutation(1000, 1)(rows), KeyedPermutation(1000, 2)(rows)
    assert not np.array_equal(a, b)
    assert np.array_equal(a, KeyedPermutation(1000, 1)(rows))
    assert not np.array_equal(a, rows)  # not the identity


@pytest.mark.parametrize("outside", [-1, 10, 11, 10**6])
def test_keyed_permutation_refuses_inputs_outside_its_domain(outside: int) -> None:
    permutation = KeyedPermutation(10, 7)
    with pytest.raises(ValueError, match="outside"):
        permutation(np.array([0, outside], dtype=np.int64))


@pytest.mark.parametrize("size", [0, -5, MAX_DOMAIN + 1])
def test_keyed_permutation_refuses_bad_sizes(size: int) -> None:
    with pytest.raises(ValueError):
        KeyedPermutation(size, 1)


def test_keyed_permutation_of_nothing() -> None:
    assert KeyedPermutation(5, 1)(np.array([], dtype=np.int64)).size == 0


# -- unique fields ----------------------------------------------------------------

UNIQUE_FIELDS = """
[dataset]
locale = "pt_BR"

[u]
records = 4000

[u.id]
type = "uuid"

[u.i]
type = "int"
min = -2000
max = 2500
unique = true

[u.code]
type = "string"
pattern = "A9-a9"
unique = true

[u.day]
type = "date"
start = "2010-01-01"
end = "2025-12-31"
unique = true

[u.moment]
type = "timestamp"
start = "-2h"
unique = true

[u.amount]
type = "decimal"
min = 10
max = 60
scale = 2
unique = true

[u.ratio]
type = "float"
min = 0.05
max = 0.45
scale = 4
unique = true

[u.full_name]
type = "name"
unique = true

[u.email]
type = "email"
from = "full_name"
unique = true

[u.plain_email]
type = "email"
unique = true
domain = "example.org"

[u.nullable]
type = "int"
min = 1
max = 5000
unique = true
null_rate = 0.3
"""


@pytest.fixture(scope="module")
def unique_rows() -> dict[str, list[object]]:
    source = Source(load(UNIQUE_FIELDS))
    assert source.check() == []
    chunk = whole(source, "u")
    return {name: values(chunk, name) for name in chunk.columns}


@pytest.mark.parametrize("name", ["id", "i", "code", "day", "moment", "amount", "ratio",
                                  "full_name", "email", "plain_email"])
def test_unique_fields_are_unique_over_the_whole_table(
        unique_rows: dict[str, list[object]], name: str) -> None:
    column = unique_rows[name]
    assert None not in column
    assert len(set(column)) == len(column) == 4000


def test_unique_fields_keep_their_ranges(unique_rows: dict[str, list[object]]) -> None:
    assert all(-2000 <= v <= 2500 for v in unique_rows["i"])
    assert all(date(2010, 1, 1) <= v <= date(2025, 12, 31) for v in unique_rows["day"])
    assert all(datetime(2025, 12, 31, 22) <= v <= datetime(2026, 1, 1)
               for v in unique_rows["moment"])
    assert all(1000 <= v <= 6000 for v in unique_rows["amount"])  # unscaled, scale 2
    assert all(0.05 <= v <= 0.45 and round(v, 4) == v for v in unique_rows["ratio"])
    assert all(re.fullmatch(r"[A-Z][0-9]-[a-z][0-9]", v) for v in unique_rows["code"])


def test_unique_field_with_nulls_has_no_duplicate_values(
        unique_rows: dict[str, list[object]]) -> None:
    column = unique_rows["nullable"]
    kept = [v for v in column if v is not None]
    assert 0 < len(kept) < len(column)
    assert len(set(kept)) == len(kept)


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_uniqueness_holds_across_partitions(partitions: int) -> None:
    source = Source(load(UNIQUE_FIELDS))
    seen: set[object] = set()
    for k in range(partitions):
        start, stop = k * 4000 // partitions, (k + 1) * 4000 // partitions
        for value in values(source.chunk("u", start, stop), "code"):
            assert value not in seen
            seen.add(value)
    assert len(seen) == 4000


# -- exact spaces: the whole space is used once ------------------------------------


@pytest.mark.parametrize(
    ("spec", "rows", "expected"),
    [
        ('type = "choice"\nvalues = ["a", "b", "c"]\nweights = [100, 1, 1]', 3,
         ["a", "b", "c"]),
        ('type = "choice"\nvalues = [10, 20, 30, 40]', 4, [10, 20, 30, 40]),
        ('type = "int"\nmin = 1\nmax = 50', 50, list(range(1, 51))),
        ('type = "string"\npattern = "X9"', 10, [f"X{d}" for d in range(10)]),
        ('type = "date"\nstart = "2024-02-25"\nend = "2024-03-02"', 7,
         [date(2024, 2, 25) + timedelta(days=d) for d in range(7)]),
        ('type = "timestamp"\nstart = "-1min"\nend = "now"', 61,
         [datetime(2025, 12, 31, 23, 59) + timedelta(seconds=s) for s in range(61)]),
        ('type = "decimal"\nmin = 1\nmax = 1.5\nscale = 1', 6, [10, 11, 12, 13, 14, 15]),
        ('type = "float"\nmin = 0.05\nmax = 0.35\nscale = 1', 3, [0.1, 0.2, 0.3]),
        ('type = "bool"', 2, [False, True]),
    ],
)
def test_a_space_as_large_as_the_table_gives_a_permutation(spec: str, rows: int,
                                                            expected: list[object]) -> None:
    genfile = load(f"[t]\nrecords = {rows}\n[t.x]\n{spec}\nunique = true\n")
    source = run.check(genfile)
    column = values(whole(source, "t"), "x")
    assert sorted(column) == sorted(expected)


def test_unique_first_names_use_the_whole_dictionary() -> None:
    words = dictionaries.first_names("pt_BR").words.tolist()
    genfile = load(f'[dataset]\nlocale = "pt_BR"\n[t]\nrecords = {len(words)}\n'
                   '[t.x]\ntype = "first_name"\nunique = true\n')
    column = values(whole(run.check(genfile), "t"), "x")
    assert sorted(column) == sorted(words)


def test_unique_last_names_are_unique() -> None:
    size = len(dictionaries.last_names("en_US"))
    genfile = load(f'[t]\nrecords = {size}\n[t.x]\ntype = "last_name"\nunique = true\n')
    column = present(whole(run.check(genfile), "t"), "x")
    assert len(set(column)) == size


# -- spaces too small are refused before anything is written ------------------------


@pytest.mark.parametrize(
    ("spec", "rows", "space"),
    [
        ('type = "choice"\nvalues = ["a", "b", "c"]', 10, 3),
        ('type = "int"\nmin = 1\nmax = 99', 100, 99),
        ('type = "string"\npattern = "A9"', 261, 260),
        ('type = "date"\nstart = "2024-01-01"\nend = "2024-12-31"', 400, 366),
        ('type = "bool"', 3, 2),
        ('type = "decimal"\nmin = 0\nmax = 1\nscale = 1', 12, 11),
        ('type = "float"\nmin = 0.05\nmax = 0.25\nscale = 1', 3, 2),
        ('type = "float"\nmin = 1e15\nmax = 1000000000000001.0', 10, 9),
        ('type = "string"\nlength = [0, 5]', 2, 1),
    ],
)
def test_a_space_too_small_is_a_problem_naming_field_and_numbers(spec: str, rows: int,
                                                                  space: int) -> None:
    genfile = load(f"[small]\nrecords = {rows}\n[small.id]\ntype = \"sequence\"\n"
                   f"[small.x]\n{spec}\nunique = true\n")
    problems = Source(genfile).check()
    assert len(problems) == 1
    (problem,) = problems
    assert (problem.table, problem.field) == ("small", "x")
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", problem.message)]
    assert numbers == [space, rows]
    with pytest.raises(GenfileError) as caught:
        run.check(genfile)
    assert "[small.x]" in str(caught.value)


def test_a_space_too_small_for_a_large_table_formats_its_numbers() -> None:
    genfile = load('[t]\nrecords = 2000000\n[t.x]\ntype = "int"\nmin = 0\nmax = 999999\n'
                   "unique = true\n")
    (problem,) = Source(genfile).check()
    assert "1,000,000" in problem.message and "2,000,000" in problem.message


def test_every_too_small_space_is_listed_at_once() -> None:
    genfile = load('[t]\nrecords = 30\n[t.a]\ntype = "bool"\nunique = true\n'
                   '[t.b]\ntype = "choice"\nvalues = [1, 2]\nunique = true\n'
                   '[u]\nrecords = 5\n[u.c]\ntype = "int"\nmax = 3\nunique = true\n')
    problems = Source(genfile).check()
    assert {(p.table, p.field) for p in problems} == {("t", "a"), ("t", "b"), ("u", "c")}
    with pytest.raises(GenfileError) as caught:
        run.check(genfile)
    assert len(caught.value.problems) == 3


def test_unique_values_cannot_follow_a_distribution() -> None:
    genfile = load('[t]\nrecords = 5\n[t.x]\ntype = "int"\ndistribution = "zipf"\n'
                   "unique = true\n")
    (problem,) = Source(genfile).check()
    assert (problem.table, problem.field) == ("t", "x")
    assert "distribution" in problem.message


def test_preview_checks_the_generators_too() -> None:
    genfile = load('[t]\nrecords = 10\n[t.x]\ntype = "choice"\nvalues = ["a", "b", "c"]\n'
                   "unique = true\n")
    with pytest.raises(GenfileError):
        run.preview(genfile, "t", 5)


# -- UUIDs ------------------------------------------------------------------------------


@pytest.mark.parametrize("unique", ["false", "true"])
def test_uuids_are_unique_valid_version_4(unique: str) -> None:
    genfile = load(f'[t]\nrecords = 20000\n[t.id]\ntype = "uuid"\n'
                   f'[t.other]\ntype = "uuid"\nunique = {unique}\n')
    chunk = whole(run.check(genfile), "t")
    for name in ("id", "other"):
        column = values(chunk, name)
        assert len(set(column)) == len(column)
        for text in column[:2000]:
            parsed = uuid.UUID(text)
            assert str(parsed) == text  # canonical lower-case 8-4-4-4-12 form
            assert parsed.version == 4
            assert parsed.variant == uuid.RFC_4122
    assert not set(values(chunk, "id")) & set(values(chunk, "other"))


@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (-1e6, 1e6), (1e12, 1e12 + 10),
                                           (-5e15, -5e15 + 1e5)])
def test_unique_floats_without_scale_are_distinct_far_from_zero(low: float,
                                                                high: float) -> None:
    # Far from zero doubles are coarse: a grid finer than their spacing would
    # collapse neighbouring points into one value.
    genfile = load(f"[t]\nrecords = 20000\n[t.x]\ntype = \"float\"\nmin = {low!r}\n"
                   f"max = {high!r}\nunique = true\n")
    column = values(whole(run.check(genfile), "t"), "x")
    assert len(set(column)) == len(column)
    assert all(low <= v <= high for v in column)

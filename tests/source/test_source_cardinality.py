"""per_parent, self-references and link tables: the shapes of relational data."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import datastorm_core.core.cardinality as layouts
from datastorm_core.core.cardinality import Cardinality, hashed_counts
from datastorm_core.errors import GenfileError
from datastorm_core.genfile import Partition, loads_genfile
from datastorm_core.genfile.plan import plan_tables
from datastorm_core.genfile.sizing import with_seed
from datastorm_core.source import Source

BANK = """
[dataset]
seed = {seed}

[customer]
records = {customers}

[customer.id]
type = "sequence"

[customer.code]
type = "string"
pattern = "AA-9999"
unique = true

[account.id]
type = "sequence"
start = 1000

[account.customer_id]
type = "reference"
ref = "customer.id"
per_parent = [{low}, {high}]

[account.iban]
type = "uuid"

[card.id]
type = "sequence"

[card.account_id]
type = "reference"
ref = "account.id"
per_parent = [0, 2]

[card.number]
type = "string"
pattern = "9999 9999 9999 9999"
unique = true
"""


def bank(customers: int = 300, low: int = 1, high: int = 3, seed: int = 7):
    return loads_genfile(BANK.format(customers=customers, low=low, high=high, seed=seed))


def whole(source: Source, table: str, rows: int) -> dict[str, np.ndarray]:
    chunk = source.chunk(table, 0, rows)
    return {name: column.values for name, column in chunk.columns.items()}


@pytest.mark.parametrize("whole", [True, False], ids=["every-parent-kept", "blocks"])
@pytest.mark.parametrize(("parents", "low", "high"),
                         [(0, 1, 3), (1, 0, 0), (7, 0, 2), (3000, 1, 3), (1025, 2, 2)])
def test_cardinality_maps_every_child_to_its_parent(parents: int, low: int, high: int,
                                                    whole: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # A small layout keeps every parent's first child; a large one (here: any) its blocks'.
    if not whole:
        monkeypatch.setattr(layouts, "WHOLE", -1)
    tie = Cardinality(parents, hashed_counts(99, low, high), most=high)
    counts = tie.counts(np.arange(parents))
    assert ((counts >= low) & (counts <= high)).all()
    expected = np.repeat(np.arange(parents), counts)  # children laid out parent by parent
    assert tie.children == len(expected)
    assert (tie.parents_of(np.arange(tie.children)) == expected).all()
    shuffled = np.random.default_rng(0).permutation(tie.children)
    assert (tie.parents_of(shuffled) == expected[shuffled]).all()
    # Rows rising: a chunk's window, and a few rows far apart (sorted, sparse), each
    # located as the whole table locates them.
    for rows in (np.arange(tie.children)[tie.children // 3:tie.children // 2],
                 np.sort(shuffled[:7]), np.sort(shuffled[:7])[::2].repeat(3)):
        parents_found, first = tie.locate(rows)
        assert (parents_found == expected[rows]).all()
        assert (first == np.searchsorted(expected, expected[rows])).all()
    parents_all = np.arange(parents + 1)  # and the first child of each, one past the last
    assert (tie.first_children(parents_all) == np.searchsorted(expected, parents_all)).all()
    assert (tie._whole() is not None) == (whole and parents > 0)


def test_every_parent_has_between_min_and_max_children_and_the_count_follows() -> None:
    genfile = bank(customers=500, low=1, high=3)
    source = Source(genfile)
    accounts = genfile.table("account").records
    owners = whole(source, "account", accounts)["customer_id"]
    per_customer = np.bincount(owners, minlength=501)[1:]
    assert per_customer.min() >= 1 and per_customer.max() <= 3
    assert set(per_customer.tolist()) == {1, 2, 3}  # every count occurs
    cards = whole(source, "card", genfile.table("card").records)["account_id"]
    per_account = np.bincount(cards - 1000, minlength=accounts)
    assert per_account.max() <= 2 and (per_account == 0).any()
    assert genfile.table("card").records == len(cards) == per_account.sum()


def test_zero_minimum_leaves_some_parents_childless() -> None:
    genfile = bank(customers=400, low=0, high=1)
    owners = whole(Source(genfile), "account", genfile.table("account").records)["customer_id"]
    assert len(np.unique(owners)) == len(owners) < 400  # one-to-one or none


def test_another_seed_sizes_the_tied_tables_again() -> None:
    genfile = bank(customers=2000)
    other = with_seed(genfile, 8)
    assert other.dataset.seed == 8
    assert other.table("account").records == bank(customers=2000, seed=8).table("account").records
    assert other.table("account").records != genfile.table("account").records


@settings(max_examples=25, deadline=None)
@given(customers=st.integers(0, 400), parts=st.integers(1, 7), seed=st.integers(0, 3))
def test_partitions_of_tied_tables_add_up_to_the_whole_run(customers: int, parts: int,
                                                         seed: int) -> None:
    genfile = bank(customers=customers, seed=seed)
    source = Source(genfile)
    plans = [plan_tables(genfile, None, Partition(k, parts)) for k in range(parts)]
    for position, table in enumerate(("customer", "account", "card")):
        rows = genfile.table(table).records
        expected = whole(source, table, rows)
        ranges = [(p[position].start, p[position].stop) for p in plans]
        assert ranges[0][0] == 0 and ranges[-1][1] == rows
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
        for start, stop in ranges:
            part = source.chunk(table, start, stop)
            for name, column in part.columns.items():
                assert (column.values == expected[name][start:stop]).all()
    for k, plan in enumerate(plans):  # children of parent partition K are in child partition K
        customers_k = set(range(plan[0].start + 1, plan[0].stop + 1))
        owners = source.chunk("account", plan[1].start, plan[1].stop).columns["customer_id"]
        assert set(owners.values.tolist()) <= customers_k, k
        numbers = source.chunk("card", plan[2].start, plan[2].stop).columns["number"].values
        assert len(set(numbers.tolist())) == len(numbers)  # unique within and across


HIERARCHY = """
[employee]
records = {rows}

[employee.id]
type = "sequence"
start = 10

[employee.name]
type = "name"

[employee.manager_id]
type = "reference"
ref = "employee.id"
root_rate = {root_rate}
"""


@pytest.mark.parametrize("root_rate", [0.0, 0.2])
def test_a_self_reference_is_an_acyclic_hierarchy(root_rate: float) -> None:
    genfile = loads_genfile(HIERARCHY.format(rows=2000, root_rate=root_rate))
    source = Source(genfile)
    assert source.check() == []
    column = source.chunk("employee", 0, 2000).columns["manager_id"]
    roots = column.nulls if column.nulls is not None else np.zeros(2000, dtype=bool)
    ids = np.arange(10, 2010)
    managers = column.values
    assert roots[0]  # the first employee has no manager
    assert (managers[~roots] < ids[~roots]).all()  # always someone earlier: no cycle
    assert np.isin(managers[~roots], ids).all()
    share = roots.mean()
    assert share < 0.01 if root_rate == 0 else 0.15 < share < 0.25
    assert source.schema("employee").column("manager_id").nullable
    assert source.schema("employee").foreign_keys[0].parent_table == "employee"


LINK = """
[student]
records = {students}
[student.id]
type = "sequence"

[course]
records = 12
[course.code]
type = "string"
pattern = "AAA-99"
primary_key = true

[enrollment]
records = {rows}
[enrollment.student_id]
type = "reference"
ref = "student.id"
primary_key = true
[enrollment.course_code]
type = "reference"
ref = "course.code"
primary_key = true
[enrollment.grade]
type = "int"
min = 0
max = 10
"""


def test_link_table_pairs_are_unique_and_exist() -> None:
    genfile = loads_genfile(LINK.format(students=50, rows=600))  # 600 = every pair
    source = Source(genfile)
    assert source.check() == []
    rows = whole(source, "enrollment", 600)
    pairs = list(zip(rows["student_id"].tolist(), rows["course_code"].tolist(), strict=True))
    assert len(set(pairs)) == 600
    courses = set(whole(source, "course", 12)["code"].tolist())
    assert {c for _, c in pairs} == courses and {s for s, _ in pairs} == set(range(1, 51))
    schema = source.schema("enrollment")
    assert schema.primary_key == ("student_id", "course_code")
    assert "student_id" not in schema.unique and "course_code" not in schema.unique


def test_a_link_table_larger_than_its_pairs_is_refused() -> None:
    genfile = loads_genfile(LINK.format(students=5, rows=61))
    problems = Source(genfile).check()
    assert len(problems) == 1 and problems[0].table == "enrollment"
    assert "60" in problems[0].message and "61" in problems[0].message


@pytest.mark.parametrize(("extra", "fragment"), [
    ("per_parent = [3, 1]", "0 <= min <= max"),
    ("per_parent = [1, 2]\ndistribution = \"zipf\"", "remove `distribution`"),
    ("per_parent = [1, 2]\nnull_rate = 0.1", "remove null_rate"),
    ("unique = true", "per_parent = [0, 1] or [1, 1]"),
    ("root_rate = 0.5", "self-reference"),
])
def test_cardinality_mistakes_are_named(extra: str, fragment: str) -> None:
    text = ('[p.id]\ntype = "sequence"\n[c.id]\ntype = "sequence"\n'
            f'[c.p_id]\ntype = "reference"\nref = "p.id"\n{extra}\n')
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text)
    assert any(fragment in p.message and (p.table, p.field) == ("c", "p_id")
               for p in caught.value.problems), caught.value.problems


def test_records_and_per_parent_together_are_refused() -> None:
    text = ('[p.id]\ntype = "sequence"\n[c]\nrecords = 5\n[c.p_id]\ntype = "reference"\n'
            'ref = "p.id"\nper_parent = [1, 2]\n')
    with pytest.raises(GenfileError, match="row count follows"):
        loads_genfile(text)


def test_one_to_one_through_per_parent_is_unique() -> None:
    text = ('[p]\nrecords = 300\n[p.id]\ntype = "sequence"\n[c.id]\ntype = "sequence"\n'
            '[c.p_id]\ntype = "reference"\nref = "p.id"\nper_parent = [0, 1]\nunique = true\n')
    genfile = loads_genfile(text)
    source = Source(genfile)
    assert source.check() == []
    assert "p_id" in source.schema("c").unique
    owners = whole(source, "c", genfile.table("c").records)["p_id"]
    assert len(set(owners.tolist())) == len(owners) > 100

"""Rules across tables (issue 15), on every row: parents' fields, order in time, children
counted by their parent's field, ordinals and totals; and the rows stay pure functions of
their index under any chunking and partition layout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from source_support import assert_partitions_add_up

import datastorm_core.core.cardinality as layouts
from datastorm_core.core.chunk import Column
from datastorm_core.genfile import Partition
from datastorm_core.genfile import loads_genfile as validated
from datastorm_core.genfile.model import Genfile
from datastorm_core.genfile.plan import plan_tables
from datastorm_core.loading import load_genfile, loads_genfile, sized
from datastorm_core.source import Source, parents
from datastorm_core.source.generators import children
from datastorm_core.source.services.brazil import municipalities
from datastorm_core.source.services.brazil import states as brazil_states

RULES = Path(__file__).resolve().parents[1] / "fixtures" / "rules.toml"
DAY = np.timedelta64(1, "D")


@cache
def genfile(seed: int = 15) -> Genfile:
    return sized(load_genfile(RULES), seed)


@cache
def rows(table: str, seed: int = 15) -> dict[str, Column]:
    source = Source(genfile(seed))
    return source.chunk(table, 0, genfile(seed).table(table).records).columns


def at(parent: str, field: str, keys: np.ndarray, seed: int = 15) -> np.ndarray:
    """The parent's field at the rows whose (sequence) id is ``keys``."""
    return rows(parent, seed)[field].values[keys - 1]


def test_an_adult_opens_the_account_and_the_bound_holds() -> None:
    account = rows("account")
    born = at("customer", "birth_date", account["customer_id"].values)
    opened = account["opened_at"].values
    assert account["opened_at"].nulls is None
    assert (opened >= born.astype("datetime64[s]") + 6575 * DAY).all()
    assert (opened <= np.datetime64("2025-12-02T00:00:00")).all()  # end = "-30d"
    # 6575 days from a birthday: 18 years or more, counted as a person counts them.
    ages = [(o.astype(object).year - b.astype(object).year) -
            ((o.astype(object).month, o.astype(object).day) <
             (b.astype(object).month, b.astype(object).day)) for o, b in zip(opened, born,
                                                                           strict=True)]
    assert min(ages) >= 18


def test_a_field_reads_the_parents_field_of_any_type() -> None:
    account = rows("account")
    states = at("customer", "uf", account["customer_id"].values)
    cities, codes = municipalities(), brazil_states().codes.tolist()
    known = {(str(cities.names[i]), codes[s]) for s in range(len(codes))
             for i in range(cities.start[s], cities.start[s + 1])}
    assert all((c, s) in known for c, s in zip(account["city"].values.tolist(),
                                               states.tolist(), strict=True))


def test_transactions_follow_their_account_and_a_null_reference_gives_null() -> None:
    tx = rows("transaction")
    pointer = tx["account_id"]
    assert pointer.nulls is not None and 0.02 < pointer.nulls.mean() < 0.08
    created = tx["created_at"]
    assert (created.nulls == pointer.nulls).all()
    live = ~pointer.nulls
    opened = at("account", "opened_at", pointer.values[live])
    gaps = created.values[live] - opened
    assert (gaps >= np.timedelta64(0, "s")).all() and (gaps <= 90 * DAY).all()
    assert (created.values[live] <= np.datetime64("2026-01-01T00:00:00")).all()
    assert 4 < gaps.astype("timedelta64[s]").astype(float).mean() / 86_400 < 9  # mean "7d"
    # Two hops: the account's customer's birth date.
    account = rows("account")
    customer = account["customer_id"].values[pointer.values[live] - 1]
    assert (tx["born"].values[live] == at("customer", "birth_date", customer)).all()
    assert (tx["born"].nulls == pointer.nulls).all()


def test_a_name_two_hops_away_needs_no_reader_in_between() -> None:
    text = ('[a.id]\ntype = "sequence"\n[a.on]\ntype = "date"\n'
            '[b.id]\ntype = "sequence"\n[b.a_id]\ntype = "reference"\nref = "a.id"\n'
            '[c.b_id]\ntype = "reference"\nref = "b.id"\n'
            '[c.on]\ntype = "date"\nafter = "b_id.a_id.on"\nwithin = "0s"\n')
    source = Source(loads_genfile(text))
    a, b, c = (source.chunk(t, 0, 1000).columns for t in "abc")
    via = b["a_id"].values[c["b_id"].values - 1]
    assert (c["on"].values == a["on"].values[via - 1]).all()


def test_a_self_references_roots_read_null() -> None:
    employee = rows("employee")
    manager = employee["manager_id"]
    reviewed = employee["reviewed_at"]
    assert manager.nulls is not None and manager.nulls[0]
    assert (reviewed.nulls == manager.nulls).all()
    live = ~manager.nulls
    hired = at("employee", "hired_at", manager.values[live])
    gaps = reviewed.values[live] - hired
    assert (gaps >= np.timedelta64(0, "D")).all() and (gaps <= 30 * DAY).all()
    assert Source(genfile()).schema("employee").column("reviewed_at").nullable
    assert not Source(genfile()).schema("account").column("opened_at").nullable


def test_a_loan_has_as_many_installments_as_its_months_in_order() -> None:
    loan, inst = rows("loan"), rows("installment")
    months = loan["months"].values
    owner = inst["loan_id"].values
    assert genfile().table("installment").records == months.sum() == len(owner)
    assert (np.bincount(owner, minlength=len(months) + 1)[1:] == months).all()
    assert (np.diff(owner) >= 0).all()  # laid out parent by parent
    first = np.concatenate(([0], np.cumsum(months)[:-1]))
    expected = np.arange(len(owner)) - np.repeat(first, months) + 1
    assert (inst["number"].values == expected).all()
    signed = loan["signed_at"].values[owner - 1]
    due = inst["due_date"].values
    assert (due.astype("datetime64[s]") >= signed).all()
    steps = np.diff(due)[np.diff(owner) == 0]  # between one loan's installments
    assert (steps >= 28 * DAY).all() and (steps <= 31 * DAY).all()


def test_an_expression_of_the_parent_alone_is_its_parents_value_on_every_child() -> None:
    loan, inst = rows("loan"), rows("installment")
    owner = inst["loan_id"].values - 1
    years = loan["signed_at"].values.astype("datetime64[Y]").astype(np.int64) + 1970
    expected = loan["months"].values * 10000 + years
    assert (inst["loan_code"].values == expected[owner]).all()
    # Computed once a run of rows pointing at one parent, NULL pointers a run of their own.
    expression = Source(genfile()).context.compiled("installment").fields["loan_code"] \
        .generator.expression
    pointer = Column(np.array([5, 5, 5, 0, 0, 0, 7, 7, 7, 7]),
                     np.array([False] * 3 + [True] * 3 + [False] * 4))
    months = Column(np.array([12, 12, 12, 0, 0, 0, 6, 6, 6, 6]), pointer.nulls)
    signed = Column(np.array(["2024-05-01"] * 6 + ["2020-01-31"] * 4, dtype="datetime64[s]"),
                    pointer.nulls)
    row = {"loan_id": pointer, "loan_id.months": months, "loan_id.signed_at": signed}
    assert expression.through == "loan_id"
    assert len(expression._parent_runs(row, 10)[0]) == 3  # the runs, not the 10 rows
    made = expression.column(row, 10)
    assert made.values[~made.nulls].tolist() == [122024] * 3 + [62020] * 4
    assert made.nulls.tolist() == pointer.nulls.tolist()


def test_totals_are_the_children_summed_counted_and_maxed() -> None:
    loan, inst = rows("loan"), rows("installment")
    owner = inst["loan_id"].values
    n = len(loan["id"].values)
    amounts = inst["amount"].values
    sums = np.zeros(n + 1, dtype=np.int64)
    np.add.at(sums, owner, amounts)
    assert (loan["total_due"].values == sums[1:]).all()
    assert (loan["installments"].values == loan["months"].values).all()
    last = np.full(n + 1, np.datetime64("1900-01-01"), dtype="datetime64[D]")
    np.maximum.at(last, owner, inst["due_date"].values)
    assert (loan["last_due"].values == last[1:]).all()
    mean = sums[1:] / loan["months"].values
    assert (np.abs(loan["mean_amount"].values - mean) <= 0.5).all()  # rounded to cents
    schema = Source(genfile()).schema("loan")
    assert schema.column("total_due").scale == 2 and schema.column("last_due").nullable


def test_totals_over_children_in_pieces_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = Source(genfile()).chunk("loan", 0, 400).columns
    monkeypatch.setattr(children, "_CHILD_ROWS", 50)  # a piece every two or three loans
    split = Source(genfile()).chunk("loan", 0, 400).columns
    for name, column in whole.items():
        assert (split[name].values == column.values).all(), name
        assert (split[name].nulls is None) == (column.nulls is None), name


def test_a_parent_row_past_the_last_has_no_child_yet() -> None:
    # The change stream inserts rows past a table's count: no child is laid out for them.
    loan = Source(genfile()).context.compiled("loan")
    made = loan.columns(np.array([399, 400, 5000]), ["total_due", "installments", "last_due"])
    assert made["installments"].values.tolist()[1:] == [0, 0]
    assert made["total_due"].values.tolist()[1:] == [0, 0]
    assert made["last_due"].nulls is not None and made["last_due"].nulls.tolist() == \
        [False, True, True]


@pytest.mark.parametrize("table", ["transaction", "loan", "installment", "employee"])
@pytest.mark.parametrize("chunk_rows", [1, 97, 4096])
def test_chunks_give_the_rows_of_the_whole_table(table: str, chunk_rows: int) -> None:
    source = Source(genfile())
    total = genfile().table(table).records
    start = total // 3  # a chunk of one row costs its whole chain of parents: 300 of them
    stop = min(total, start + 300) if chunk_rows == 1 else total
    producer = source.producer(table, start, stop, chunk_rows)
    parts = [producer.produce(seq) for seq in range(producer.chunk_count)]
    for name, column in rows(table).items():
        made = np.concatenate([p.columns[name].values for p in parts])
        assert (made == column.values[start:stop]).all(), name
        if column.nulls is not None:  # a chunk without a NULL has no mask
            masks = [p.columns[name].nulls if p.columns[name].nulls is not None
                     else np.zeros(p.rows, dtype=bool) for p in parts]
            assert (np.concatenate(masks) == column.nulls[start:stop]).all(), name


def test_layouts_by_blocks_give_the_rows_of_layouts_kept_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Small layouts keep every parent's first child; large ones only their blocks' sums.
    expected = {table: rows(table) for table in ("installment", "loan", "transaction")}
    monkeypatch.setattr(layouts, "WHOLE", -1)
    source = Source(genfile())
    for table, columns in expected.items():
        made = source.chunk(table, 0, genfile().table(table).records).columns
        for name, column in columns.items():
            assert (made[name].values == column.values).all(), (table, name)


def test_parent_columns_kept_whole_give_the_rows_computed_for_each_chunk(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Children that outnumber their parents gather the parents' fields from whole
    # columns; with nothing kept, each chunk computes them: the same rows either way.
    source = Source(genfile())
    kept = {table: source.chunk(table, 0, genfile().table(table).records).columns
            for table in ("account", "transaction", "installment", "employee")}
    account = source.context.compiled("account").kept._columns
    assert account["opened_at"] is not None  # 3,000 transactions on 600 accounts
    assert source.context.compiled("customer").kept._columns["uf"] is None  # text: not kept
    monkeypatch.setattr(parents, "KEPT_BYTES", 0)
    fresh = Source(genfile())
    for table, columns in kept.items():
        made = fresh.chunk(table, 0, genfile().table(table).records).columns
        assert not any(fresh.context.compiled(t).kept._columns.get(n) is not None
                       for t in ("account", "customer") for n in ("opened_at", "uf"))
        for name, column in columns.items():
            assert (made[name].values == column.values).all(), (table, name)
            assert (made[name].nulls is None) == (column.nulls is None), (table, name)


def test_rows_asked_out_of_order_are_the_same() -> None:
    source = Source(genfile())
    picked = np.random.default_rng(3).permutation(genfile().table("installment").records)[:500]
    made = source.context.compiled("installment").columns(picked)
    for name, column in rows("installment").items():
        assert (made[name].values == column.values[picked]).all(), name


@settings(max_examples=20, deadline=None)
@given(parts=st.integers(1, 9), seed=st.integers(0, 3))
def test_partitions_of_tables_using_the_rules_add_up_to_the_whole_run(parts: int,
                                                                      seed: int) -> None:
    plans = assert_partitions_add_up(genfile(seed), parts, lambda name: rows(name, seed))
    source = Source(genfile(seed))
    loans = next(p for p in plans[0] if p.table.name == "loan")
    assert loans.total == 400
    for plan in plans:  # a loan's installments are written with it
        by_name = {p.table.name: p for p in plan}
        owners = source.chunk("installment", by_name["installment"].start,
                              by_name["installment"].stop).columns["loan_id"].values
        assert set(owners.tolist()) <= set(range(by_name["loan"].start + 1,
                                                 by_name["loan"].stop + 1))


def test_another_seed_counts_the_children_again() -> None:
    assert genfile(16).table("installment").records == rows("loan", 16)["months"].values.sum()
    assert genfile(16).table("installment").records != genfile(15).table("installment").records


def test_a_validated_genfile_is_sized_by_the_source_or_the_loader() -> None:
    text = RULES.read_text(encoding="utf-8")
    plain = validated(text)
    assert plain.unsized == ("installment",) and plain.table("installment").records == 0
    with pytest.raises(ValueError, match="size the Genfile first"):
        plan_tables(plain, None, Partition(1, 2))
    assert Source(plain).genfile.table("installment").records == \
        loads_genfile(text).table("installment").records == rows("loan")["months"].values.sum()
    assert not loads_genfile(text).unsized

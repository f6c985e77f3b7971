"""`expr`, `when` and `cases` on generated tables: every row obeys them, and the rows do not
depend on how the run is cut (chunks, workers, batches, partitions)."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from source_support import load, values, whole

from datastorm_core import run as runs
from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import ColumnType
from datastorm_core.errors import GenfileError
from datastorm_core.genfile import Partition
from datastorm_core.run import RunOptions, run
from datastorm_core.source import Source

RULES = (Path(__file__).parents[1] / "fixtures" / "expressions.toml").read_text(encoding="utf-8")
ACCOUNTS = 3000  # its account table's records
NOW = datetime(2026, 1, 1)


@pytest.fixture(scope="module")
def table() -> Chunk:
    return whole(runs.check(load(RULES)), "account")


def rows(chunk: Chunk) -> list[dict[str, object]]:
    names = list(chunk.columns)
    return [dict(zip(names, r, strict=True)) for r in chunk.rows_as_tuples(tuple(names))]


def money(count: object) -> Decimal | None:
    return None if count is None else Decimal(int(count)).scaleb(-2)  # type: ignore[arg-type]


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError(day)


def test_when_makes_null_exactly_where_it_does_not_hold(table: Chunk) -> None:
    for row in rows(table):
        closed = row["status"] == "closed"
        assert (row["closed_at"] is None) == (not closed)
        if closed:
            assert row["closed_at"] == row["opened_at"] + timedelta(  # type: ignore[operator]
                days=30, hours=row["id"] % 24)  # type: ignore[operator]


def test_every_value_is_the_expression_of_its_row(table: Chunk) -> None:
    for row in rows(table):
        balance = money(row["balance"])
        # A NULL condition takes the else branch, as SQL's CASE does.
        fee = (balance * Decimal("0.015")).quantize(Decimal("0.01"), ROUND_HALF_UP) \
            if balance is not None and balance > 0 else Decimal("0.00")
        assert money(row["fee"]) == fee
        opened = row["opened_at"]
        assert isinstance(opened, datetime)
        assert row["due"] == add_months(opened.date(), row["id"] % 13)  # type: ignore[operator]
        assert row["recent"] == (opened > NOW.replace(year=2025))
        assert (row["customer_id"] is None) == (row["status"] == "frozen")
        born = row["birth_date"]
        assert isinstance(born, date)
        assert row["holder_age"] == opened.year - born.year - (
            (opened.month, opened.day) < (born.month, born.day))
        label_holds = row["tier"] in ("plus", "premium") and not row["recent"]
        assert row["label"] == (f"{str(row['status']).upper()}-{row['id']}" if label_holds
                                else None)


def test_the_first_case_that_holds_gives_the_weights(table: Chunk) -> None:
    seen: dict[str, set[object]] = {"rich": set(), "middle": set(), "other": set()}
    for row in rows(table):
        balance = money(row["balance"])
        bucket = "other" if balance is None or balance < 1000 else \
            "rich" if balance >= 5000 else "middle"
        seen[bucket].add(row["tier"])
        scheduled = row["scheduled_at"]
        assert isinstance(scheduled, datetime)
        allowed = {"booked", "confirmed"} if scheduled > NOW else {"done", "cancelled", "missed"}
        assert row["visit"] in allowed
    # A NULL condition does not hold: a NULL balance falls through to the default case.
    assert seen == {"rich": {"plus", "premium"}, "middle": {"basic", "plus"}, "other": {"basic"}}


def test_the_columns_say_what_they_hold(table: Chunk) -> None:
    schema = runs.check(load(RULES)).schema("account")
    column = {c.name: c for c in schema.columns}
    assert column["fee"].type is ColumnType.NUMERIC and column["fee"].scale == 2
    assert column["fee"].nullable  # its balance is (though this if never gives NULL)
    assert column["closed_at"].type is ColumnType.TIMESTAMP and column["closed_at"].nullable
    assert column["due"].type is ColumnType.DATE and not column["due"].nullable
    assert column["recent"].type is ColumnType.BOOLEAN and not column["recent"].nullable
    assert not column["visit"].nullable  # a default case
    assert not column["tier"].nullable  # a default case, though it reads a nullable balance
    assert column["tier"].space is not None and column["tier"].space.values == \
        ("basic", "plus", "premium")
    assert column["due"].space is not None
    made = [d for d in values(table, "due") if d is not None]
    assert column["due"].space.low <= min(made) and max(made) <= column["due"].space.high


def test_cases_without_a_default_leave_unmatched_rows_null() -> None:
    genfile = load("""
[t]
records = 200
n = { type = "int", min = 0, max = 9 }
size = { type = "choice", values = ["small", "big"], cases = [
  { when = "n < 3", weights = [1, 0] }, { when = "n > 6", weights = [0, 1] }] }
""")
    source = runs.check(genfile)
    assert source.schema("t").column("size").nullable
    for row in rows(whole(source, "t")):
        n = row["n"]
        assert row["size"] == ("small" if n < 3 else "big" if n > 6 else None)  # type: ignore


def test_a_unique_choice_with_cases_is_refused() -> None:
    with pytest.raises(GenfileError, match="a choice with cases cannot be unique"):
        runs.check(load('[t]\nrecords = 2\n[t.n]\ntype = "int"\n[t.c]\ntype = "choice"\n'
                        'values = [1, 2, 3]\nunique = true\n'
                        'cases = [{ when = "n > 1", weights = [1, 1, 1] }, '
                        '{ weights = [1, 1, 1] }]\n'))


def test_a_when_on_a_unique_field_keeps_the_others_distinct() -> None:
    source = runs.check(load('[t]\nrecords = 500\n[t.n]\ntype = "int"\nmax = 1\n'
                             '[t.code]\ntype = "string"\npattern = "AAA-999"\nunique = true\n'
                             'when = "n == 1"\n'))
    chunk = whole(source, "t")
    codes = [c for c in values(chunk, "code") if c is not None]
    assert len(codes) == len(set(codes))
    assert all((c is None) == (n != 1) for c, n in zip(values(chunk, "code"), values(chunk, "n"),
                                                         strict=True))


# -- determinism: however the run is cut --------------------------------------------------------

def _database(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM account ORDER BY id").fetchall()


def test_chunks_in_any_order_and_size_give_the_same_rows(table: Chunk) -> None:
    source = Source(load(RULES))
    expected = rows(table)
    later = source.chunk("account", 1700, ACCOUNTS)
    assert rows(later) == expected[1700:]
    producer = source.producer("account", 0, ACCOUNTS, 97)
    made = [r for seq in range(producer.chunk_count) for r in rows(producer.produce(seq))]
    assert made == expected


def test_workers_batch_sizes_and_partitions_write_the_same_table(tmp_path: Path) -> None:
    genfile = load(RULES)
    whole_run = tmp_path / "whole.db"
    run(genfile, RunOptions(target=f"sqlite:///{whole_run}"))
    expected = _database(whole_run)
    assert len(expected) == ACCOUNTS
    cut = tmp_path / "cut.db"
    for k in range(3):
        run(genfile, RunOptions(target=f"sqlite:///{cut}", partition=Partition(k, 3),
                                mode="append", workers=3, batch_size=113))
    assert _database(cut) == expected
    parallel = tmp_path / "parallel.db"
    run(genfile, RunOptions(target=f"sqlite:///{parallel}", workers=4, batch_size=7))
    assert _database(parallel) == expected


# -- the documented examples -------------------------------------------------------------------

DOCS = (Path(__file__).parents[2] / "docs" / "genfile.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("title", ["### `when`", "#### `cases`", "### `expr`"])
def test_the_documented_examples_run_as_documented(title: str) -> None:
    section = DOCS.split(f"\n{title}", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        source = runs.check(load(block))
        for table in source.genfile.tables:
            assert whole(source, table.name).rows == table.records
    if title == "### `expr`":
        total = source.schema("order_line").column("total")
        assert (total.type, total.precision, total.scale) == (ColumnType.NUMERIC, 6, 2)

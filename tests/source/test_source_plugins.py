"""Generators of the user's own, called by the source: their values, types and failures.

The generators are tests/fixtures/plugins/datastorm_test_plugins.py (on sys.path by
tests/conftest.py).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from source_support import assert_partitions_add_up, load, values, whole

from datastorm_core import run
from datastorm_core.core.schema import ColumnType
from datastorm_core.core.values import numeric_decimal
from datastorm_core.errors import SourceError
from datastorm_core.source import Source
from datastorm_core.source.services.plugin_values import WrongValues, plugin_column

MODULE = "datastorm_test_plugins"

TYPED = f"""
[dataset]
seed = 11

[t]
records = 3000

[t.id]
type = "sequence"

[t.code]
type = "{MODULE}:Codes"
prefix = "K"
width = 4
unique = true

[t.amount]
type = "{MODULE}:amounts"

[t.moment]
type = "{MODULE}:moments"

[t.day]
type = "{MODULE}:days"

[t.ident]
type = "{MODULE}:ids"

[t.sometimes]
type = "{MODULE}:maybe"

[t.noisy]
type = "{MODULE}:counts"
null_rate = 0.25
"""


def test_values_arrive_in_their_columns_kind() -> None:
    source = run.check(load(TYPED))
    chunk = whole(source, "t")
    amounts = chunk.columns["amount"].values
    assert amounts.dtype == np.int64  # unscaled cents: exact
    assert all(Decimal(-99_999).scaleb(-2) <= numeric_decimal(v, 2) <= Decimal("999.99")
               for v in amounts.tolist())
    moments = values(chunk, "moment")
    # The generator's datetimes are at +02:00 from midnight: in UTC, from 22:00 the day before.
    assert min(moments) >= np.datetime64("2023-12-31T22:00:00")
    assert max(moments) <= np.datetime64("2024-01-01T22:00:00")
    assert chunk.columns["day"].values.dtype == np.dtype("datetime64[D]")
    assert all(str(uuid.UUID(v)) == v for v in values(chunk, "ident"))
    sometimes = values(chunk, "sometimes")
    assert [i for i, v in enumerate(sometimes) if v is None] == list(range(0, 3000, 3))
    noisy = values(chunk, "noisy")
    assert 0.2 < sum(v is None for v in noisy) / len(noisy) < 0.3  # datastorm's null_rate


def test_a_unique_plugin_field_is_distinct_through_its_from_ordinals() -> None:
    codes = values(whole(run.check(load(TYPED)), "t"), "code")
    assert len(set(codes)) == len(codes) == 3000
    assert all(len(c) == 6 and c.startswith("K-") for c in codes)


def test_rows_are_the_same_whatever_the_chunks_and_partitions() -> None:
    genfile = load(TYPED)
    full = whole(Source(genfile), "t").columns
    assert_partitions_add_up(genfile, 3, lambda name: full)
    other = Source(genfile)  # small, unaligned chunks, out of order
    for start, stop in [(2990, 3000), (17, 1001), (0, 17), (1001, 2990)]:
        chunk = other.chunk("t", start, stop)
        for name in chunk.columns:
            assert values(chunk, name) == full[name].to_pylist()[start:stop], name


def test_another_seed_gives_other_values() -> None:
    first = values(whole(run.check(load(TYPED)), "t"), "amount")
    second = values(whole(run.check(load(TYPED.replace("seed = 11", "seed = 12"))), "t"),
                    "amount")
    assert first != second


def test_a_failure_past_the_first_rows_names_the_field_the_rows_and_the_cause() -> None:
    source = run.check(load(f'[t]\nrecords = 3000\n[t.x]\ntype = "{MODULE}:explodes_after"\n'
                            'row = 2000\n'))
    assert len(source.chunk("t", 0, 2000).columns["x"].values) == 2000
    with pytest.raises(SourceError) as caught:
        source.chunk("t", 1500, 2500)
    message = str(caught.value)
    assert message.startswith("[t.x] generator 'datastorm_test_plugins:explodes_after'")
    assert "rows 1500..2499" in message
    assert "RuntimeError: the ledger has no code past row 2000" in message


# -- what a generator may return -----------------------------------------------------------

ROWS = np.arange(10, 13, dtype=np.int64)


@pytest.mark.parametrize(("made", "kind", "expected"), [
    (np.array(["a", "b", "c"]), ColumnType.TEXT, ["a", "b", "c"]),
    (["a", "b", "c"], ColumnType.TEXT, ["a", "b", "c"]),
    (("a", "b", "c"), ColumnType.TEXT, ["a", "b", "c"]),
    (np.array([1, 2, 3], dtype=np.uint8), ColumnType.BIGINT, [1, 2, 3]),
    ([1, 2, 3], ColumnType.DOUBLE, [1.0, 2.0, 3.0]),
    (np.array([True, False, True]), ColumnType.BOOLEAN, [True, False, True]),
    ([Decimal("1.5"), 2, Decimal("-0.25")], ColumnType.NUMERIC, [150, 200, -25]),
    (np.array([1, 2, 3]), ColumnType.NUMERIC, [100, 200, 300]),
    ([date(2024, 2, 29)] * 3, ColumnType.DATE, [date(2024, 2, 29)] * 3),
    (np.array(["2024-01-01"] * 3, dtype="datetime64[D]"), ColumnType.TIMESTAMP,
     [datetime(2024, 1, 1)] * 3),
    ([datetime(2024, 1, 1, 0, 0, 0, 500)] * 3, ColumnType.TIMESTAMP,
     [datetime(2024, 1, 1, 0, 0, 0, 500)] * 3),
    ([uuid.UUID(int=1), str(uuid.UUID(int=2)).upper(), uuid.UUID(int=3)], ColumnType.UUID,
     [str(uuid.UUID(int=k)) for k in (1, 2, 3)]),
])
def test_accepted_values(made: Any, kind: ColumnType, expected: list[Any]) -> None:
    got, nulls = plugin_column(made, ROWS, kind, 2, nullable=False)
    assert nulls is None
    assert got.tolist() == expected


@pytest.mark.parametrize(("made", "kind", "says"), [
    ("abc", ColumnType.TEXT, "returned str"),
    (np.zeros((3, 2)), ColumnType.DOUBLE, "shape (3, 2)"),
    ([1, 2], ColumnType.BIGINT, "returned 2 values for 3 rows"),
    (np.array([1.5, 2, 3]), ColumnType.BIGINT, "array of float64 for a bigint column"),
    ([1, True, 3], ColumnType.BIGINT, "returned True (bool) at row 11"),
    ([1, 2, 2**63], ColumnType.BIGINT, "at row 12"),
    (np.array([1, 2, 2**64 - 1], dtype=np.uint64), ColumnType.BIGINT, "beyond a 64-bit"),
    ([1.5, 2.5, 0.1], ColumnType.NUMERIC, "a float would carry its binary error"),
    ([Decimal("1.005"), 1, 1], ColumnType.NUMERIC, "cannot hold exactly"),
    ([Decimal("NaN"), 1, 1], ColumnType.NUMERIC, "cannot hold exactly"),
    ([datetime(2024, 1, 1)] * 3, ColumnType.DATE, "datetime.date for a date column"),
    (np.array(["2024-01-01T10:00"] * 3, dtype="datetime64[m]"), ColumnType.DATE,
     "time of day"),
    (np.array(["NaT", "2024-01-01", "2024-01-02"], dtype="datetime64[s]"),
     ColumnType.TIMESTAMP, "NaT at row 10"),
    (["a", None, "c"], ColumnType.TEXT, "None (a NULL) at row 11"),
    (["not-a-uuid", "x", "y"], ColumnType.UUID, "UUID"),
    ([1, 0, 1], ColumnType.BOOLEAN, "bool for a boolean column"),
])
def test_refused_values_say_what_and_where(made: Any, kind: ColumnType, says: str) -> None:
    with pytest.raises(WrongValues, match=None) as caught:
        plugin_column(made, ROWS, kind, 2, nullable=False)
    assert says in str(caught.value)


def test_none_is_a_null_where_the_generator_declares_nullable() -> None:
    got, nulls = plugin_column([Decimal("1.25"), None, 3], ROWS, ColumnType.NUMERIC, 2,
                               nullable=True)
    assert nulls is not None and nulls.tolist() == [False, True, False]
    assert got.tolist()[0::2] == [125, 300]

"""``to_pandas`` and ``to_arrow``: the rows a run writes, typed, without a target.

The reference is a real run into SQLite (several workers, small batches),
read back with ``sqlite3``: a frame must hold the same rows, row for row,
including the child's references into its parent's keys.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from datastorm_core import load_genfile, to_arrow, to_pandas
from datastorm_core.core.partition import Partition
from datastorm_core.core.schema import ColumnType, TableSchema
from datastorm_core.errors import UsageError
from datastorm_core.run import RunOptions, run, schema

GENFILE = Path(__file__).parent.parent / "fixtures" / "frames.toml"
SEED = 77  # not the Genfile's: `seed` must override [dataset] seed as --seed does
TABLES = ("customer", "account")


@pytest.fixture(scope="module")
def sqlite_rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Any, ...]]]:
    """Every table as a run with SEED writes it to SQLite, in row order."""
    path = tmp_path_factory.mktemp("frames") / "run.db"
    run(load_genfile(str(GENFILE)),
        RunOptions(target=f"sqlite:///{path}", seed=SEED, workers=2, batch_size=97))
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()
                for t in TABLES}


def _from_sqlite(kind: ColumnType, value: Any) -> Any:
    if value is None:
        return None
    if kind is ColumnType.NUMERIC:  # stored with NUMERIC affinity: an int or a float
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if kind is ColumnType.BOOLEAN:
        return bool(value)
    if kind is ColumnType.DATE:
        return date.fromisoformat(value)
    if kind is ColumnType.TIMESTAMP:
        return datetime.fromisoformat(value)
    return value


def _from_frame(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _frame_rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(map(_from_frame, row)) for row in frame.astype(object).itertuples(index=False)]


def _table_schema(table: str) -> TableSchema:
    return schema(load_genfile(str(GENFILE)), table)


@pytest.mark.parametrize("table", TABLES)
def test_to_pandas_holds_the_rows_a_run_writes(table: str,
                                               sqlite_rows: dict[str, list[tuple[Any, ...]]]
                                               ) -> None:
    frame = to_pandas(GENFILE, table, seed=SEED)
    kinds = [c.type for c in _table_schema(table).columns]
    written = [tuple(_from_sqlite(k, v) for k, v in zip(kinds, row, strict=True))
               for row in sqlite_rows[table]]

    assert tuple(frame.columns) == _table_schema(table).column_names
    assert len(frame) == len(written) > 0
    assert _frame_rows(frame) == written
    # Every kind's NULLs made it through as NULLs (not as their filler).
    nullable = [c.name for c in _table_schema(table).columns if c.nullable]
    assert all(frame[name].isna().any() for name in nullable)


def test_a_childs_references_are_its_parents_keys() -> None:
    customers = to_pandas(GENFILE, "customer", seed=SEED)
    accounts = to_pandas(GENFILE, "account", seed=SEED)

    assert set(accounts["customer_id"]) <= set(customers["id"])
    assert set(accounts["holder"].dropna()) <= set(customers["token"])


def test_to_pandas_dtypes() -> None:
    customers = to_pandas(GENFILE, "customer", rows=50)
    accounts = to_pandas(GENFILE, "account", rows=50)

    assert {k: str(v) for k, v in customers.dtypes.items()} == {
        "id": "Int64", "token": "string", "name": "string", "born": "object",
        "vip": "boolean", "balance": "object", "since": "datetime64[us]"}
    assert {k: str(v) for k, v in accounts.dtypes.items()} == {
        "id": "Int64", "customer_id": "Int64", "holder": "string", "opened": "datetime64[us]",
        "score": "Float64", "visits": "Int64", "active": "boolean", "memo": "string"}
    assert all(isinstance(v, Decimal) and v.as_tuple().exponent == -2
               for v in customers["balance"].dropna())
    assert all(type(v) is date for v in customers["born"].dropna())


def test_to_arrow_types_and_values() -> None:
    data = to_arrow(GENFILE, "customer", seed=SEED)
    frame = to_pandas(GENFILE, "customer", seed=SEED)

    assert data.schema.field("id").type == pa.int64()
    assert not data.schema.field("id").nullable
    assert data.schema.field("token").type == pa.uuid()
    assert data.schema.field("born").type == pa.date32()
    assert data.schema.field("vip").type == pa.bool_()
    assert data.schema.field("balance").type == pa.decimal128(12, 2)
    assert data.schema.field("since").type == pa.timestamp("us")
    assert data.schema.field("balance").nullable
    assert data.num_rows == len(frame)
    assert [str(u) for u in data.column("token").to_pylist()] == list(frame["token"])
    assert data.column("balance").to_pylist() == \
        [None if v is None else v for v in frame["balance"]]
    assert data.column("born").null_count == frame["born"].isna().sum() > 0


def test_rows_select_a_count_a_range_or_a_partition() -> None:
    whole = to_pandas(GENFILE, "account")
    half = len(whole) // 2

    assert to_pandas(GENFILE, "account", rows=7).equals(whole.iloc[:7])
    part = to_pandas(GENFILE, "account", rows=range(100, 150))
    assert list(part.index) == list(range(100, 150))
    assert part.equals(whole.iloc[100:150])
    assert to_pandas(GENFILE, "account", rows=slice(half, None)).equals(whole.iloc[half:])
    second = to_pandas(GENFILE, "account", rows=Partition(1, 2))
    first = to_pandas(GENFILE, "account", rows=Partition(0, 2))
    assert pd.concat([first, second]).equals(whole)
    assert len(to_pandas(GENFILE, "account", rows=10**9)) == len(whole)


def test_seed_overrides_the_genfiles(sqlite_rows: dict[str, list[tuple[Any, ...]]]) -> None:
    own = to_pandas(GENFILE, "customer", rows=20)
    other = to_pandas(load_genfile(str(GENFILE)), "customer", rows=20, seed=SEED)

    assert not own["token"].equals(other["token"])
    assert list(other["token"]) == [row[1] for row in sqlite_rows["customer"][:20]]


def test_bad_table_or_rows_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="no table named 'nope'"):
        to_pandas(GENFILE, "nope")
    with pytest.raises(UsageError, match="step 1"):
        to_pandas(GENFILE, "customer", rows=slice(0, 10, 2))
    with pytest.raises(UsageError, match="at least 0"):
        to_arrow(GENFILE, "customer", rows=-1)


def test_a_day_of_a_table_partitioned_by_day_past_its_row_count() -> None:
    from datastorm_core import loads_genfile
    from datastorm_core.run import preview

    genfile = loads_genfile('[dataset]\nnow = "2025-12-03T00:00:00"\n\n[account.id]\n'
                            'type = "sequence"\n\n[payment]\npartition_by = "day"\n'
                            'time_field = "paid_at"\nstart_date = "2025-12-01"\n'
                            'rows_per_day = 50\n\n[payment.id]\ntype = "sequence"\n\n'
                            '[payment.account_id]\ntype = "reference"\nref = "account.id"\n\n'
                            '[payment.paid_at]\ntype = "timestamp"\n')
    records = genfile.table("payment").records
    day = range(records + 50, records + 100)  # a day after `now`, as --day writes it
    frame = to_pandas(genfile, "payment", rows=day)

    assert list(frame.index) == list(day)
    assert list(frame["id"]) == preview(genfile, "payment", 50, start=day.start) \
        .columns["id"].values.tolist()
    assert frame["paid_at"].dt.date.nunique() == 1

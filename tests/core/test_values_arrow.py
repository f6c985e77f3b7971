"""core.values.arrow: each column kind as Arrow, exactly (Parquet files and DataFrames)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType
from datastorm_core.core.values import DTYPES, column_text
from datastorm_core.core.values.arrow import ARROW, ARROW_TYPES, arrow_column, uuid_bytes


@pytest.mark.parametrize("table", [ARROW, ARROW_TYPES])
def test_every_kind_has_an_arrow_form(table: dict[ColumnType, object]) -> None:
    assert set(table) == set(ColumnType)


@pytest.mark.parametrize("kind", list(ColumnType))
def test_an_empty_column_is_an_empty_array_of_the_kinds_type(kind: ColumnType) -> None:
    col = ColumnSchema("c", kind, scale=2 if kind is ColumnType.NUMERIC else None)
    made = arrow_column(Column(np.zeros(0, DTYPES[kind])), col)
    assert len(made) == 0 and made.type == ARROW_TYPES[kind](col)


@given(values=st.lists(st.integers(-2**63, 2**63 - 1), min_size=1, max_size=40),
       scale=st.integers(0, 18), nulls=st.lists(st.booleans(), min_size=40, max_size=40),
       precision=st.sampled_from([None, 38, 40]))
@settings(max_examples=200, deadline=None)
def test_decimals_are_exact_over_the_whole_int64_range(values: list[int], scale: int,
                                                        nulls: list[bool],
                                                        precision: int | None) -> None:
    mask = np.array(nulls[:len(values)])
    col = ColumnSchema("d", ColumnType.NUMERIC, precision=precision, scale=scale)
    made = arrow_column(Column(np.array(values, dtype=np.int64), mask), col)

    assert made.type == (pa.decimal256(40, scale) if precision == 40
                         else pa.decimal128(precision or 19, scale))
    assert made.to_pylist() == [None if null else Decimal(v).scaleb(-scale)
                                for v, null in zip(values, mask, strict=True)]


def test_uuids_are_their_16_bytes_and_their_text_stays_the_same() -> None:
    made = [uuid.UUID(int=(7 ** k) % 2**128) for k in range(1, 30)]
    texts = np.array([str(u).upper() if k % 2 else str(u) for k, u in enumerate(made)])
    nulls = np.arange(len(made)) % 5 == 0
    column = Column(np.where(nulls, "filler", texts), nulls)
    col = ColumnSchema("u", ColumnType.UUID)

    assert uuid_bytes(texts).tobytes() == b"".join(u.bytes for u in made)
    array = arrow_column(column, col)
    assert array.type == pa.uuid()
    assert array.to_pylist() == [None if n else u for u, n in zip(made, nulls, strict=True)]
    as_text = arrow_column(column, col, uuid_text=True)
    assert as_text.type == pa.string()
    assert as_text.to_pylist() == [None if n else t for t, n in zip(column_text(column, col),
                                                                     nulls, strict=True)]


@pytest.mark.parametrize("wrong", ["not-a-uuid", "0" * 36, "g" + str(uuid.UUID(int=1))[1:],
                                   str(uuid.UUID(int=1)) + "0", "ü" * 36])
def test_a_value_that_is_not_a_uuid_is_named(wrong: str) -> None:
    with pytest.raises(ValueError, match="is not a UUID"):
        uuid_bytes(np.array([str(uuid.UUID(int=5)), wrong]))

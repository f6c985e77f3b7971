"""core.values: the text, JSON and Python values of each column kind, shared by every layer."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType
from datastorm_core.core.values import (
    DTYPES,
    FREE_TEXT,
    FROM_PYTHON,
    JSON,
    LONGEST_TEXT,
    NUMBERS,
    PYTHON,
    TEXT,
    column_text,
    format_numeric,
    json_fields,
    kind_encoder,
    numeric_decimal,
    python_column,
    python_values,
    spaced_text,
    text_array,
)

T = ColumnType


@pytest.mark.parametrize("name", ["DTYPES", "TEXT", "JSON", "PYTHON", "FROM_PYTHON"])
def test_every_conversion_knows_every_kind(name: str) -> None:
    # A kind added to ColumnType fails here until each map says what to do with it.
    table = {"DTYPES": DTYPES, "TEXT": TEXT, "JSON": JSON, "PYTHON": PYTHON,
             "FROM_PYTHON": FROM_PYTHON}[name]
    assert set(table) == set(ColumnType)


def test_the_sets_of_kinds_are_kinds_without_a_free_text_bound() -> None:
    assert FREE_TEXT | NUMBERS | set(LONGEST_TEXT) <= set(ColumnType)
    assert not FREE_TEXT & set(LONGEST_TEXT)


@pytest.mark.parametrize(("unscaled", "scale", "text"), [
    (12345, 2, "123.45"), (-5, 2, "-0.05"), (0, 2, "0.00"), (-12345, 2, "-123.45"),
    (7, 0, "7"), (-7, 0, "-7"), (1, 18, "0.000000000000000001"),
    (2**63 - 1, 4, "922337203685477.5807"), (-(2**63 - 1), 0, str(-(2**63 - 1))),
    (-7, -2, "-7"),
])
def test_format_numeric(unscaled: int, scale: int, text: str) -> None:
    assert format_numeric(np.array([unscaled], dtype=np.int64), scale).tolist() == [text]
    if scale >= 0:
        assert numeric_decimal(unscaled, scale) == Decimal(text)


@given(values_=st.lists(st.integers(-2**63, 2**63 - 1), max_size=40), scale=st.integers(0, 18))
@settings(max_examples=300, deadline=None)
def test_numbers_are_written_exactly_over_the_whole_int64_range(values_: list[int],
                                                                scale: int) -> None:
    made = format_numeric(np.array(values_, dtype=np.int64), scale).tolist()
    assert made == [format(Decimal(v).scaleb(-scale), "f") for v in values_]


def test_numeric_text_keeps_its_scale() -> None:
    made = text_array(np.array([-5, 5, 100, -123456], dtype=np.int64), ColumnType.NUMERIC, 3)
    assert made.tolist() == ["-0.005", "0.005", "0.100", "-123.456"]


@pytest.mark.parametrize(
    ("values_", "column"),
    [(np.array([0, -5, 2**62], dtype=np.int64), ColumnSchema("c", T.BIGINT)),
     (np.array([0, -5, 12345, -100, 7], dtype=np.int64),
      ColumnSchema("c", T.NUMERIC, precision=10, scale=2)),
     (np.array([0, -5, 12345], dtype=np.int64),
      ColumnSchema("c", T.NUMERIC, precision=10, scale=0)),
     (np.array([0.1, -1e20, 1e-7, 3.0, 123456789.125]), ColumnSchema("c", T.DOUBLE)),
     (np.array([True, False]), ColumnSchema("c", T.BOOLEAN)),
     (np.array(["2024-02-29", "1969-12-31"], dtype="datetime64[D]"), ColumnSchema("c", T.DATE)),
     (np.array(["2024-02-29T23:59:59", "1900-01-01T00:00:00"], dtype="datetime64[s]"),
      ColumnSchema("c", T.TIMESTAMP)),
     (np.array(["é", "", "a b"]), ColumnSchema("c", T.TEXT)),
     (np.array([], dtype=np.float64), ColumnSchema("c", T.DOUBLE))],
)
def test_the_source_s_arrays_and_the_targets_lists_hold_the_same_text(
        values_: np.ndarray, column: ColumnSchema) -> None:
    made = text_array(values_, column.type, column.scale)
    assert made.dtype.kind == "U"
    assert made.tolist() == column_text(Column(values_), column)


@pytest.mark.parametrize("column_type", list(ColumnType))
def test_an_empty_column_has_empty_text(column_type: ColumnType) -> None:
    empty = np.zeros(0, DTYPES[column_type])
    made = text_array(empty, column_type, 2)
    assert made.tolist() == [] and made.dtype.kind == "U"
    col = ColumnSchema("c", column_type, scale=2)
    assert spaced_text(Column(empty, np.zeros(0, bool)), col) == []
    assert python_values(Column(empty), col) == [] and json_fields(Column(empty), col) == []


def test_column_text_timestamp_separator() -> None:
    ts = Column(np.array(["2024-01-02T03:04:05.250000"], dtype="datetime64[us]"))
    assert column_text(ts, ColumnSchema("t", T.TIMESTAMP), timestamp_sep=" ") == [
        "2024-01-02 03:04:05.250000"]
    assert spaced_text(Column(ts.values, np.array([True])), ColumnSchema("t", T.TIMESTAMP),
                       "NULL") == ["NULL"]


def _json(column: Column, col: ColumnSchema) -> list[object]:
    """The values a JSON reader gets from each field."""
    return [json.loads(field) for field in json_fields(column, col)]


def test_python_values_for_sqlite_and_json() -> None:
    ts = Column(np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[s]"),
                np.array([False, True]))
    col = ColumnSchema("ts", T.TIMESTAMP)
    assert python_values(ts, col) == ["2024-01-02 03:04:05", None]
    assert _json(ts, col) == ["2024-01-02T03:04:05", None]
    flags = Column(np.array([True, False]))
    assert python_values(flags, ColumnSchema("b", T.BOOLEAN)) == [1, 0]
    assert _json(flags, ColumnSchema("b", T.BOOLEAN)) == [True, False]
    money = Column(np.array([-5, 250]))
    assert python_values(money, ColumnSchema("m", T.NUMERIC, scale=2)) == ["-0.05", "2.50"]
    assert _json(money, ColumnSchema("m", T.NUMERIC, scale=2)) == ["-0.05", "2.50"]
    assert _json(Column(np.array([np.inf, 1.0])), ColumnSchema("f", T.DOUBLE)) == [None, 1.0]


def test_a_format_is_its_map_and_its_null_token() -> None:
    upper = kind_encoder({kind: column_text for kind in ColumnType}, "-")
    column = Column(np.array([1, 2, 3], dtype=np.int64), np.array([False, True, False]))
    assert upper(column, ColumnSchema("n", T.BIGINT)) == ["1", "-", "3"]


@pytest.mark.parametrize(("value", "col", "text"), [
    (12, ColumnSchema("c", T.BIGINT), "12"),
    (Decimal("-0.05"), ColumnSchema("c", T.NUMERIC, precision=5, scale=2), "-0.05"),
    (0.1, ColumnSchema("c", T.NUMERIC, precision=5, scale=2), "0.10"),
    (2.5, ColumnSchema("c", T.DOUBLE), "2.5"),
    (True, ColumnSchema("c", T.BOOLEAN), "true"),
    (date(2024, 2, 29), ColumnSchema("c", T.DATE), "2024-02-29"),
    (datetime(2024, 2, 29, 1, 2, 3), ColumnSchema("c", T.TIMESTAMP), "2024-02-29 01:02:03"),
    ("x y", ColumnSchema("c", T.TEXT), "x y"),
])
def test_a_database_value_comes_back_as_the_generators_value(value: object, col: ColumnSchema,
                                                              text: str) -> None:
    column = python_column(value, col)
    assert column.values.dtype.kind == DTYPES[col.type].kind
    assert spaced_text(column, col) == [text]


@pytest.mark.parametrize("column_type", list(ColumnType))
def test_a_database_null_is_a_null_row_of_the_kinds_dtype(column_type: ColumnType) -> None:
    column = python_column(None, ColumnSchema("c", column_type))
    assert column.values.dtype == DTYPES[column_type]
    assert column.nulls is not None and column.nulls.tolist() == [True]

"""The pure encoders, format by format (no store involved)."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.target.encode import (
    column_text,
    copy_text,
    csv_text,
    format_numeric,
    json_values,
    jsonl,
    numeric_decimal,
    sqlite_values,
)

T = ColumnType


@pytest.mark.parametrize(("unscaled", "scale", "text"), [
    (12345, 2, "123.45"), (-5, 2, "-0.05"), (0, 2, "0.00"), (-12345, 2, "-123.45"),
    (7, 0, "7"), (-7, 0, "-7"), (1, 18, "0.000000000000000001"),
    (2**63 - 1, 4, "922337203685477.5807"), (-(2**63 - 1), 0, str(-(2**63 - 1))),
])
def test_format_numeric(unscaled: int, scale: int, text: str) -> None:
    assert format_numeric(np.array([unscaled], dtype=np.int64), scale).tolist() == [text]
    assert numeric_decimal(unscaled, scale) == Decimal(text)


def _chunk(schema: TableSchema, **columns: Column) -> Chunk:
    rows = len(next(iter(columns.values())).values)
    return Chunk(schema.name, 0, 0, rows, columns)


TEXT = TableSchema("t", (ColumnSchema("id", T.BIGINT), ColumnSchema("s", T.TEXT)))


def test_copy_text_escapes_and_nulls() -> None:
    chunk = _chunk(TEXT,
                   id=Column(np.array([1, 2, 3, 4], dtype=np.int64), np.array([0, 0, 0, 1], bool)),
                   s=Column(np.array(["a\tb\nc\\d\re", "\\N", "plain", "x"]),
                            np.array([0, 0, 1, 0], bool)))
    assert copy_text.encode_chunk(chunk, TEXT) == (
        b"1\ta\\tb\\nc\\\\d\\re\n"
        b"2\t\\\\N\n"
        b"3\t\\N\n"
        b"\\N\tx\n"
    )


def test_copy_text_of_every_type() -> None:
    schema = TableSchema("t", (
        ColumnSchema("f", T.DOUBLE), ColumnSchema("n", T.NUMERIC, precision=5, scale=2),
        ColumnSchema("b", T.BOOLEAN), ColumnSchema("d", T.DATE), ColumnSchema("ts", T.TIMESTAMP),
        ColumnSchema("us", T.TIMESTAMP), ColumnSchema("u", T.UUID)))
    chunk = _chunk(
        schema,
        f=Column(np.array([0.1, -1e300])), n=Column(np.array([-5, 12345])),
        b=Column(np.array([True, False])),
        d=Column(np.array(["2024-02-29", "1900-01-01"], dtype="datetime64[D]")),
        ts=Column(np.array(["2024-02-29T23:59:59", "NaT"], dtype="datetime64[s]"),
                  np.array([False, True])),
        us=Column(np.array(["2024-01-01T00:00:00.000001", "2024-01-01"], dtype="datetime64[us]")),
        u=Column(np.array(["123e4567-e89b-42d3-a456-426614174000"] * 2)),
    )
    lines = copy_text.encode_chunk(chunk, schema).decode().splitlines()
    assert lines[0].split("\t") == [
        "0.1", "-0.05", "true", "2024-02-29", "2024-02-29T23:59:59",
        "2024-01-01T00:00:00.000001", "123e4567-e89b-42d3-a456-426614174000"]
    assert lines[1].split("\t")[:5] == ["-1e+300", "123.45", "false", "1900-01-01", "\\N"]


def test_text_from_object_arrays() -> None:
    column = Column(np.array(["ä", None, "c"], dtype=object), np.array([False, True, False]))
    assert copy_text.copy_text_fields(column, ColumnSchema("s", T.TEXT)) == ["ä", "\\N", "c"]


def test_csv_quoting() -> None:
    chunk = _chunk(TEXT, id=Column(np.arange(6, dtype=np.int64)),
                   s=Column(np.array(["plain", "a,b", 'say "hi"', "two\nlines", "", "null"]),
                            np.array([0, 0, 0, 0, 0, 1], bool)))
    assert csv_text.encode_chunk(chunk, TEXT) == (
        '0,plain\n1,"a,b"\n2,"say ""hi"""\n3,"two\nlines"\n4,""\n5,\n')
    assert csv_text.csv_header(TableSchema("t", (ColumnSchema("a,b", T.TEXT),
                                                 ColumnSchema("c", T.TEXT)))) == '"a,b",c\n'


def test_jsonl_lines() -> None:
    schema = TableSchema("t", (ColumnSchema("id", T.BIGINT), ColumnSchema("n", T.NUMERIC, scale=2),
                               ColumnSchema("f", T.DOUBLE), ColumnSchema("ok", T.BOOLEAN),
                               ColumnSchema("s", T.TEXT)))
    chunk = _chunk(schema, id=Column(np.array([1, 2], dtype=np.int64)),
                   n=Column(np.array([-5, 100]), np.array([False, True])),
                   f=Column(np.array([np.nan, 2.5])), ok=Column(np.array([True, False])),
                   s=Column(np.array(['q"\n\\ é', "x"])))
    lines = jsonl.encode_chunk(chunk, schema).splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": 1, "n": "-0.05", "f": None, "ok": True, "s": 'q"\n\\ é'},
        {"id": 2, "n": None, "f": 2.5, "ok": False, "s": "x"},
    ]
    assert lines[0].startswith('{"id":1,"n":"-0.05",')


def test_python_values_for_sqlite_and_json() -> None:
    ts = Column(np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[s]"),
                np.array([False, True]))
    col = ColumnSchema("ts", T.TIMESTAMP)
    assert sqlite_values(ts, col) == ["2024-01-02 03:04:05", None]
    assert json_values(ts, col) == ["2024-01-02T03:04:05", None]
    flags = Column(np.array([True, False]))
    assert sqlite_values(flags, ColumnSchema("b", T.BOOLEAN)) == [1, 0]
    assert json_values(flags, ColumnSchema("b", T.BOOLEAN)) == [True, False]
    money = Column(np.array([-5, 250]))
    assert sqlite_values(money, ColumnSchema("m", T.NUMERIC, scale=2)) == ["-0.05", "2.50"]
    assert json_values(Column(np.array([np.inf, 1.0])), ColumnSchema("f", T.DOUBLE)) == [None, 1.0]


def test_column_text_timestamp_separator() -> None:
    ts = Column(np.array(["2024-01-02T03:04:05.250000"], dtype="datetime64[us]"))
    assert column_text(ts, ColumnSchema("t", T.TIMESTAMP), timestamp_sep=" ") == [
        "2024-01-02 03:04:05.250000"]


def test_empty_chunk_encodes_to_nothing() -> None:
    chunk = Chunk("t", 0, 0, 0, {"id": Column(np.array([], dtype=np.int64)),
                                 "s": Column(np.array([], dtype=str))})
    assert copy_text.encode_chunk(chunk, TEXT) == b""
    assert csv_text.encode_chunk(chunk, TEXT) == ""
    assert jsonl.encode_chunk(chunk, TEXT) == ""

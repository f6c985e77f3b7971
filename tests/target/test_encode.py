"""The pure encoders, format by format (no store involved)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.target.encode import copy_binary, copy_text, csv_text, jsonl

T = ColumnType


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
    # The lines are the objects the JSON array of `datastorm serve` holds, one a line.
    assert lines == jsonl.json_objects(chunk, schema)


def test_empty_chunk_encodes_to_nothing() -> None:
    chunk = Chunk("t", 0, 0, 0, {"id": Column(np.array([], dtype=np.int64)),
                                 "s": Column(np.array([], dtype=str))})
    assert copy_text.encode_chunk(chunk, TEXT) == b""
    assert csv_text.encode_chunk(chunk, TEXT) == ""
    assert jsonl.encode_chunk(chunk, TEXT) == ""


@pytest.mark.parametrize("name", ["copy_text", "csv", "copy_binary", "binary_storable"])
def test_every_encoder_knows_every_kind(name: str) -> None:
    # A kind added to ColumnType fails here until each format says how to write it.
    table = {"copy_text": copy_text.FIELDS, "csv": csv_text.FIELDS,
             "copy_binary": copy_binary.FIELDS, "binary_storable": copy_binary.STORABLE}[name]
    assert set(table) == set(ColumnType)


def test_a_conversion_into_another_live_type_is_one_binary_copy_allows() -> None:
    for kind, storage in copy_binary.STORED:
        assert storage in copy_binary.STORABLE[kind]

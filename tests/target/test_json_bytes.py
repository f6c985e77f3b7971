"""Kafka message values built in one numpy buffer: the same bytes as the JSON Lines encoder."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.target.encode.json_bytes import json_lines, json_values
from datastorm_core.target.encode.jsonl import encode_chunk, json_objects
from datastorm_core.target.encode.messages import message_keys, message_rows

T = ColumnType
_INT64 = st.integers(-(2**63), 2**63 - 1)
# Seconds from year 1 to year 9999 and a little beyond both ends, where numpy's
# own text (five-digit or negative years) must come out unchanged.
_SECONDS = st.integers(-62_135_596_800 - 10**11, 253_402_300_799 + 10**11)


def _schema_and_columns(draw: st.DrawFn, rows: int) -> tuple[TableSchema, dict[str, Column]]:
    def nulls() -> np.ndarray | None:
        if not draw(st.booleans()):
            return None
        return np.array(draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool)

    def values(strategy: st.SearchStrategy) -> list:
        return draw(st.lists(strategy, min_size=rows, max_size=rows))

    scale = draw(st.integers(0, 6))
    unit = draw(st.sampled_from(["s", "us", "m"]))
    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
    columns = {
        "i": (ColumnSchema("i", T.BIGINT), np.array(values(_INT64), dtype=np.int64)),
        "n": (ColumnSchema("n", T.NUMERIC, precision=18, scale=scale),
              np.array(values(_INT64), dtype=np.int64)),
        "f": (ColumnSchema("f", T.DOUBLE),
              np.array(values(st.floats(allow_nan=True, allow_infinity=True)), dtype=float)),
        "b": (ColumnSchema("b", T.BOOLEAN), np.array(values(st.booleans()), dtype=bool)),
        "d": (ColumnSchema("d", T.DATE),
              np.array(values(st.integers(-800_000, 3_000_000)), dtype="datetime64[D]")),
        "ts": (ColumnSchema("ts", T.TIMESTAMP),
               np.array(values(_SECONDS), dtype="datetime64[s]").astype(f"datetime64[{unit}]")),
        "s": (ColumnSchema("s \"quoted\" é", T.TEXT), np.array(values(text), dtype=str)),
        "o": (ColumnSchema("o", T.TEXT), np.array(values(st.one_of(text, st.integers())),
                                                  dtype=object)),
        "u": (ColumnSchema("u", T.UUID),
              np.array(values(st.uuids().map(str)), dtype=str)),
    }
    order = draw(st.permutations(list(columns)))
    schema = TableSchema("t", tuple(columns[k][0] for k in order))
    return schema, {columns[k][0].name: Column(columns[k][1], nulls()) for k in order}


@st.composite
def _chunks(draw: st.DrawFn) -> tuple[TableSchema, Chunk]:
    rows = draw(st.integers(1, 12))
    schema, columns = _schema_and_columns(draw, rows)
    return schema, Chunk("t", 0, 0, rows, columns)


@settings(max_examples=150, deadline=None)
@given(_chunks())
def test_values_are_the_json_lines_objects_byte_for_byte(case: tuple[TableSchema, Chunk]) -> None:
    schema, chunk = case
    expected = [obj.encode() for obj in json_objects(chunk, schema)]
    assert json_values(chunk, schema) == expected
    for value in json_values(chunk, schema):
        assert list(json.loads(value)) == [c.name for c in schema.columns]
    # The API's NDJSON pages: the jsonl: target's text, byte for byte.
    assert json_lines(chunk, schema) == encode_chunk(chunk, schema).encode()


def test_a_chunk_of_sequences_and_nulls() -> None:
    schema = TableSchema("t", (ColumnSchema("id", T.BIGINT), ColumnSchema("note", T.TEXT)))
    chunk = Chunk("t", 0, 0, 3, {
        "id": Column(np.array([1, -20, 300], dtype=np.int64)),
        "note": Column(np.array(["a", "", "tab\there"]), np.array([False, True, False])),
    })
    assert [json.loads(v) for v in json_values(chunk, schema)] == [
        {"id": 1, "note": "a"}, {"id": -20, "note": None}, {"id": 300, "note": "tab\there"}]
    assert json_values(Chunk("t", 0, 0, 0, {"id": Column(np.array([], dtype=np.int64)),
                                            "note": Column(np.array([], dtype=str))}),
                       schema) == []


def test_keys_are_the_key_column_text() -> None:
    schema = TableSchema("t", (ColumnSchema("id", T.BIGINT),
                               ColumnSchema("at", T.TIMESTAMP)), message_key="id")
    chunk = Chunk("t", 0, 0, 3, {
        "id": Column(np.array([7, -8, 9], dtype=np.int64), np.array([False, False, True])),
        "at": Column(np.array(["2024-01-01T00:00:00"] * 3, dtype="datetime64[s]")),
    })
    assert message_keys(chunk, schema) == [b"7", b"-8", None]


def test_row_headers_are_the_row_indices() -> None:
    chunk = Chunk("t", 0, 98, 3, {})
    assert message_rows(chunk) == [b"98", b"99", b"100"]
    assert message_rows(Chunk("t", 0, 0, 1, {})) == [b"0"]

"""JSON Lines: one JSON object per row, keys in column order, NULL as null.

Each column is turned into JSON fragments at once (``"key":value``), then a
row is one ``join`` of its fragments, which avoids building a dict per row.
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C accelerated string encoder

import numpy as np

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.target.encode.text import column_text, null_rows

__all__ = ["encode_chunk", "json_fields", "json_objects"]

_JSON_NULL = "null"


def json_fields(column: Column, col: ColumnSchema) -> list[str]:
    """Each value of the column as JSON text (numbers, true/false, strings, null)."""
    kind = col.type
    if kind is ColumnType.BIGINT:
        fields = np.asarray(column.values, dtype=np.int64).astype(str).tolist()
    elif kind is ColumnType.DOUBLE:
        # json writes a finite float as its repr; NaN and infinities are not JSON.
        values = np.asarray(column.values, dtype=np.float64)
        fields = list(map(float.__repr__, values.tolist()))
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            fields[i] = _JSON_NULL
    elif kind is ColumnType.BOOLEAN:
        fields = np.where(np.asarray(column.values, dtype=bool), "true", "false").tolist()
    else:
        fields = list(map(encode_basestring, column_text(column, col)))
    for i in null_rows(column):
        fields[i] = _JSON_NULL
    return fields


def json_objects(chunk: Chunk, schema: TableSchema) -> list[str]:
    """Each row of the chunk as one JSON object (no newline), keys in column order."""
    if chunk.rows == 0:
        return []
    columns = []
    for col in schema.columns:
        key = encode_basestring(col.name) + ":"
        columns.append([key + field for field in json_fields(chunk.columns[col.name], col)])
    return ["{" + ",".join(row) + "}" for row in zip(*columns, strict=True)]


def encode_chunk(chunk: Chunk, schema: TableSchema) -> str:
    """The chunk's rows as JSON Lines text, each line ending in a newline."""
    return "".join(obj + "\n" for obj in json_objects(chunk, schema))

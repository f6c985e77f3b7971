"""A chunk as messages: one JSON object value and one key per row.

Values are the JSON Lines encoding of each row (decimals as strings,
dates and timestamps in ISO 8601, NULL as null), built in one buffer by
``json_bytes``; the key is the text of the schema's ``message_key`` column,
so a consumer sees the same key a database query would print.
"""

from __future__ import annotations

import numpy as np

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import ColumnType, TableSchema
from datastorm_core.core.values import apply_nulls, text_array
from datastorm_core.target.encode.json_bytes import json_values

__all__ = ["message_keys", "message_rows", "message_values"]


def message_values(chunk: Chunk, schema: TableSchema) -> list[bytes]:
    """Each row as UTF-8 JSON."""
    return json_values(chunk, schema)


def message_keys(chunk: Chunk, schema: TableSchema) -> list[bytes | None]:
    """Each row's key, or None for every row when the table has no message key."""
    if schema.message_key is None:
        return [None] * chunk.rows
    column = chunk.columns[schema.message_key]
    col = schema.column(schema.message_key)
    if col.type == ColumnType.BIGINT:  # the usual key, an id: %d is its canonical text
        keys: list[bytes | None] = [b"%d" % k for k in np.asarray(column.values, np.int64).tolist()]
    else:
        keys = list(map(str.encode, text_array(column.values, col.type, col.scale).tolist()))
    # A NULL key: librdkafka spreads such messages over partitions.
    return apply_nulls(keys, column, None)


def message_rows(chunk: Chunk) -> list[bytes]:
    """Each row's index in its table, as text: the ``row`` header."""
    return [b"%d" % row for row in range(chunk.start, chunk.start + chunk.rows)]

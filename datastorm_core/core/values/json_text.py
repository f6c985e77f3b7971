"""Each column kind as JSON text: the values of JSON Lines files and Kafka messages.

Numbers and booleans are JSON's own; everything else is a JSON string of
the kind's canonical text (decimals as strings, so they stay exact; ISO
8601 ``T`` timestamps). NaN and infinities, which JSON cannot spell, are
null, like NULL. Fragments are built a column at a time, so a row is one
``join`` and no dict is made per row.
"""

from __future__ import annotations

from json.encoder import encode_basestring  # the C accelerated string encoder

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType
from datastorm_core.core.values.kinds import ColumnConversion, kind_encoder
from datastorm_core.core.values.text import column_text

__all__ = ["JSON", "JSON_NULL", "json_fields"]

JSON_NULL = "null"


def _double(column: Column, col: ColumnSchema) -> list[str]:
    # json writes a finite float as its repr, which is the canonical text.
    values = np.asarray(column.values, dtype=np.float64)
    fields = list(map(float.__repr__, values.tolist()))
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        fields[i] = JSON_NULL
    return fields


def _string(column: Column, col: ColumnSchema) -> list[str]:
    return list(map(encode_basestring, column_text(column, col)))


#: JSON text per kind; BIGINT's and BOOLEAN's canonical text is valid JSON as it is.
JSON: dict[ColumnType, ColumnConversion] = {
    ColumnType.BIGINT: column_text,
    ColumnType.DOUBLE: _double,
    ColumnType.NUMERIC: _string,
    ColumnType.BOOLEAN: column_text,
    ColumnType.DATE: _string,
    ColumnType.TIMESTAMP: _string,
    ColumnType.UUID: _string,
    ColumnType.TEXT: _string,
}

#: ``(column, col) -> list[str]``: each value as JSON text (numbers, true/false, strings, null).
json_fields = kind_encoder(JSON, JSON_NULL)

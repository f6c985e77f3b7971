"""JSON Lines: one JSON object per row, keys in column order, NULL as null.

Each column is turned into JSON fragments at once (``"key":value``, the
values from ``core.values.json_fields``), then a row is one ``join`` of its
fragments, which avoids building a dict per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain, repeat
from json.encoder import encode_basestring  # the C accelerated string encoder

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.core.values import json_fields

__all__ = ["encode_chunk", "json_objects"]


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
    """The chunk's rows as JSON Lines text, each line ending in a newline.

    One ``join`` over the pieces of every row in order (each column's key, with the
    brace or comma before it, repeated; its values; the closing brace and newline),
    interleaved by ``zip`` in C: no string is built per row, which makes it about
    half again as fast as joining each row's object.
    """
    if chunk.rows == 0:
        return ""
    pieces: list[Iterable[str]] = []
    for position, col in enumerate(schema.columns):
        pieces.append(repeat(("," if position else "{") + encode_basestring(col.name) + ":"))
        pieces.append(json_fields(chunk.columns[col.name], col))
    pieces.append(repeat("}\n"))
    # strict=False: the repeated keys are endless; the value lists all hold chunk.rows.
    return "".join(chain.from_iterable(zip(*pieces, strict=False)))

"""PostgreSQL ``COPY ... FROM STDIN`` text format, a whole chunk at a time.

Rows end in newline, fields are separated by tabs, NULL is ``\\N``, and
backslash, tab, newline and carriage return inside a value are escaped
with a backslash. ``copy_binary`` sits beside this one behind the same
shape: ``HEADER``, ``encode_chunk(chunk, schema) -> bytes`` per chunk,
``TRAILER`` (both empty here: text COPY from STDIN needs no framing).
"""

from __future__ import annotations

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.core.values import FREE_TEXT, ColumnConversion, column_text, kind_encoder

__all__ = ["COPY_NULL", "FIELDS", "FORMAT", "HEADER", "TRAILER", "copy_text_fields",
           "encode_chunk", "escape_copy_text"]

#: The word PostgreSQL's COPY statement uses for this format.
FORMAT = "text"
#: Written once before and after a COPY statement's rows: nothing, for text.
HEADER = b""
TRAILER = b""
COPY_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = ("\\", "\t", "\n", "\r")


def escape_copy_text(fields: list[str]) -> list[str]:
    """Escape COPY's special characters; a fast path skips columns without any."""
    joined = "".join(fields)
    if not any(ch in joined for ch in _SPECIAL):
        return fields
    return [f.translate(_ESCAPES) for f in fields]


def _escaped_text(column: Column, col: ColumnSchema) -> list[str]:
    return escape_copy_text(column_text(column, col))


#: The COPY text of each kind: its canonical text, escaped only where it can hold
#: any character (the others' text is known to be free of COPY's specials).
FIELDS: dict[ColumnType, ColumnConversion] = {
    kind: _escaped_text if kind in FREE_TEXT else column_text for kind in ColumnType}


#: ``(column, col) -> list[str]``: the COPY text fields of one column, NULLs as ``\\N``.
copy_text_fields = kind_encoder(FIELDS, COPY_NULL)


def encode_chunk(chunk: Chunk, schema: TableSchema) -> bytes:
    """The chunk's rows as COPY text, UTF-8, columns in schema order."""
    if chunk.rows == 0:
        return b""
    fields = [copy_text_fields(chunk.columns[c.name], c) for c in schema.columns]
    text = "\n".join(map("\t".join, zip(*fields, strict=True)))
    return (text + "\n").encode("utf-8")

"""CSV (RFC 4180 quoting, ``\\n`` line ends) with a header row.

NULL is an empty unquoted field and an empty string is ``""``: the
convention of PostgreSQL's ``COPY ... CSV``, so the two stay apart for
readers that care. Fields holding a comma, quote, CR or LF are quoted with
inner quotes doubled.
"""

from __future__ import annotations

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.target.encode.text import apply_nulls, column_text

__all__ = ["csv_fields", "csv_header", "encode_chunk", "quote_csv"]

_SPECIAL = (",", '"', "\n", "\r")
_FREE_TEXT = (ColumnType.TEXT, ColumnType.UUID)


def quote_csv(fields: list[str]) -> list[str]:
    """Quote the fields that need it; a fast path skips columns that need none."""
    joined = "".join(fields)
    if not any(ch in joined for ch in _SPECIAL) and all(fields):
        return fields
    return [_quote(f) for f in fields]


def _quote(field: str) -> str:
    if field and not any(ch in field for ch in _SPECIAL):
        return field
    return '"' + field.replace('"', '""') + '"'


def csv_fields(column: Column, col: ColumnSchema) -> list[str]:
    """The CSV fields of one column, NULLs as empty fields."""
    fields = column_text(column, col)
    if col.type in _FREE_TEXT:
        fields = quote_csv(fields)
    return apply_nulls(fields, column, "")


def csv_header(schema: TableSchema) -> str:
    """The header line: the column names, quoted where needed."""
    return ",".join(quote_csv(list(schema.column_names))) + "\n"


def encode_chunk(chunk: Chunk, schema: TableSchema) -> str:
    """The chunk's rows as CSV text (no header)."""
    if chunk.rows == 0:
        return ""
    fields = [csv_fields(chunk.columns[c.name], c) for c in schema.columns]
    return "".join(",".join(row) + "\n" for row in zip(*fields, strict=True))

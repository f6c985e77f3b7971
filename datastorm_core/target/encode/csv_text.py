"""CSV (RFC 4180 quoting, ``\\n`` line ends) with a header row.

NULL is an empty unquoted field and an empty string is ``""``: the
convention of PostgreSQL's ``COPY ... CSV``, so the two stay apart for
readers that care. Fields holding a comma, quote, CR or LF are quoted with
inner quotes doubled.
"""

from __future__ import annotations

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.core.values import FREE_TEXT, ColumnConversion, column_text, kind_encoder

__all__ = ["FIELDS", "csv_fields", "csv_header", "encode_chunk", "quote_csv"]

_SPECIAL = (",", '"', "\n", "\r")


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


def _quoted_text(column: Column, col: ColumnSchema) -> list[str]:
    return quote_csv(column_text(column, col))


#: The CSV field of each kind: its canonical text, quoted only where it can hold
#: any character (the others' text is never empty and holds no comma or quote).
FIELDS: dict[ColumnType, ColumnConversion] = {
    kind: _quoted_text if kind in FREE_TEXT else column_text for kind in ColumnType}


#: ``(column, col) -> list[str]``: the CSV fields of one column, NULLs as empty fields.
csv_fields = kind_encoder(FIELDS, "")


def csv_header(schema: TableSchema) -> str:
    """The header line: the column names, quoted where needed."""
    return ",".join(quote_csv(list(schema.column_names))) + "\n"


def encode_chunk(chunk: Chunk, schema: TableSchema) -> str:
    """The chunk's rows as CSV text (no header)."""
    if chunk.rows == 0:
        return ""
    fields = [csv_fields(chunk.columns[c.name], c) for c in schema.columns]
    return "".join(",".join(row) + "\n" for row in zip(*fields, strict=True))

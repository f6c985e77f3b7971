"""PostgreSQL ``COPY ... FROM STDIN (FORMAT binary)``, a whole chunk at a time.

One COPY statement sends ``HEADER``, then the rows of any number of chunks
(``encode_chunk``), then ``TRAILER``: header and trailer belong to the
statement, not to a chunk, so the caller writes them once. A row is an
int16 field count, then per field an int32 byte length (-1 for NULL, with
no bytes after it) and the value in the type's binary form.

Nothing here loops over rows. The rows of a chunk are first laid out at a
fixed width as one numpy record array (a length word and a value per
column, big-endian); a text field is as wide as the chunk's longest value.
A boolean mask of the same shape marks the bytes that belong to the row:
all of them, except the padding after shorter texts and the value bytes of
NULLs. ``records[mask]`` flattens row-major into exactly the concatenation
of the rows. Assigning a whole column to a record field is one strided
copy, where writing it into a slice of a uint8 matrix costs a loop per row
inside numpy: about twice as slow.

Each column kind goes on the wire by one function of ``FIELDS`` (its
PostgreSQL binary form, from ``binary_forms`` and ``utf8``), or of
``STORED`` when a table that exists stores it as another type. Values the
server would refuse anyway (dates and timestamps out of PostgreSQL's range,
NaT in a row that is not NULL, malformed UUIDs) raise ``ValueError`` naming
the column and row, instead of wrapping around into some other valid value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.target.encode.binary_forms import (
    Field,
    Refused,
    check,
    days_since_2000,
    microseconds_since_2000,
    numeric_digits,
    uuid_bytes,
)
from datastorm_core.target.encode.utf8 import text_field

__all__ = ["FIELDS", "FORMAT", "HEADER", "STORABLE", "STORED", "TRAILER", "binary_storable",
           "encode_chunk"]

#: The word PostgreSQL's COPY statement uses for this format.
FORMAT = "binary"
#: Signature, int32 flags (0: no OIDs), int32 length of the header extension (0).
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(4) + bytes(4)
#: The int16 field count -1 that ends the stream.
TRAILER = b"\xff\xff"

#: ``(column, col, rows) -> Field``: one column's values as they go on the wire.
BinaryField = Callable[[Column, ColumnSchema, int], Field]


def encode_chunk(chunk: Chunk, schema: TableSchema) -> bytes:
    """The chunk's rows as binary COPY tuples, columns in schema order.

    Without ``HEADER`` and ``TRAILER``: write those once per COPY statement,
    around the payloads of all its chunks.

    Raises:
        ValueError: a value PostgreSQL cannot hold (the message names its column and
            row, counted from the start of the table).
    """
    rows = chunk.rows
    if rows == 0:
        return b""
    columns = [chunk.columns[c.name] for c in schema.columns]
    fields = []
    for column, col in zip(columns, schema.columns, strict=True):
        try:
            fields.append(_field(column, col, rows))
        except Refused as exc:
            raise ValueError(f"column {col.name!r}, row {chunk.start + exc.row}: {exc.what}: "
                             f"{exc.value!r}") from None
    names, formats, offsets = ["count"], [np.dtype(">i2")], [0]
    width = 2
    for i, field in enumerate(fields):
        names += [f"length{i}", f"value{i}"]
        formats += [np.dtype(">i4"), field.dtype]
        offsets += [width, width + 4]
        width += 4 + field.dtype.itemsize
    records = np.empty(rows, dtype=np.dtype({"names": names, "formats": formats,
                                              "offsets": offsets, "itemsize": width}))
    records["count"] = len(fields)
    mask: np.ndarray | None = None
    at = 2
    for i, (field, column) in enumerate(zip(fields, columns, strict=True)):
        size = field.dtype.itemsize
        nulls = column.nulls if column.nulls is not None and column.nulls.any() else None
        records[f"length{i}"] = size if field.lengths is None else field.lengths
        records[f"value{i}"] = field.values
        if field.lengths is not None or nulls is not None:
            if mask is None:
                mask = np.ones((rows, width), dtype=bool)
            part = mask[:, at + 4:at + 4 + size]
            if field.keep is not None:
                part[...] = field.keep
            elif field.lengths is not None:
                np.less(np.arange(size), field.lengths[:, None], out=part)
            if nulls is not None:
                records[f"length{i}"][nulls] = -1
                part[nulls] = False
        at += 4 + size
    matrix = records.view(np.uint8).reshape(rows, width)
    return (matrix if mask is None else matrix[mask]).tobytes()


# -- one field per column kind ---------------------------------------------------------


#: Live column types (``ColumnSchema.storage``) each column type can be sent to in
#: binary. Anything else goes by text COPY, where the server's input function
#: parses the value (an enum label, an array literal, an inet address).
STORABLE: dict[ColumnType, frozenset[str]] = {
    ColumnType.BIGINT: frozenset({"int8", "int4", "int2", "numeric", "float8", "float4"}),
    ColumnType.DOUBLE: frozenset({"float8", "float4"}),
    ColumnType.NUMERIC: frozenset({"numeric", "float8", "float4"}),
    ColumnType.BOOLEAN: frozenset({"bool"}),
    ColumnType.DATE: frozenset({"date"}),
    ColumnType.TIMESTAMP: frozenset({"timestamp", "timestamptz"}),
    ColumnType.UUID: frozenset({"uuid"}),
    # Types whose binary input is the text itself (enums: any label, by its text).
    ColumnType.TEXT: frozenset({"text", "varchar", "bpchar", "name", "citext", "json",
                                "jsonb", "enum"}),
}
# Integer widths: the wire type and the range it holds.
_INTEGERS = {"int2": (np.dtype(">i2"), -(2**15), 2**15 - 1),
             "int4": (np.dtype(">i4"), -(2**31), 2**31 - 1)}
_JSONB_VERSION = b"\x01"  # jsonb's binary input: a version byte, then the JSON text


def binary_storable(col: ColumnSchema) -> bool:
    """Whether ``col`` can travel in binary COPY into its storage type (None: its own)."""
    return col.storage is None or col.storage in STORABLE.get(col.type, frozenset())


def _field(column: Column, col: ColumnSchema, rows: int) -> Field:
    if col.storage is not None:
        stored = STORED.get((col.type, col.storage))
        if stored is not None:
            return stored(column, col, rows)
    return FIELDS[col.type](column, col, rows)


def _int8(column: Column, col: ColumnSchema, rows: int) -> Field:
    return Field(np.asarray(column.values, dtype=np.int64), np.dtype(">i8"))


def _float8(column: Column, col: ColumnSchema, rows: int) -> Field:
    return Field(np.asarray(column.values, dtype=np.float64), np.dtype(">f8"))


def _bool(column: Column, col: ColumnSchema, rows: int) -> Field:
    return Field(np.asarray(column.values, dtype=bool), np.dtype("u1"))


def _date(column: Column, col: ColumnSchema, rows: int) -> Field:
    return Field(days_since_2000(column), np.dtype(">i4"))


def _timestamp(column: Column, col: ColumnSchema, rows: int) -> Field:
    return Field(microseconds_since_2000(column), np.dtype(">i8"))


def _numeric(column: Column, col: ColumnSchema, rows: int) -> Field:
    return _numeric_of(column, col.scale or 0)


def _numeric_of(column: Column, scale: int) -> Field:
    digits = numeric_digits(np.asarray(column.values, dtype=np.int64), scale)
    return Field(digits, np.dtype((">i2", (digits.shape[1],))))


def _uuid(column: Column, col: ColumnSchema, rows: int) -> Field:
    return Field(uuid_bytes(column), np.dtype(("u1", (16,))))


def _text(column: Column, col: ColumnSchema, rows: int) -> Field:
    return text_field(column, rows)


#: The wire form of each kind when the column's type is its own (or None: created here).
FIELDS: dict[ColumnType, BinaryField] = {
    ColumnType.BIGINT: _int8,
    ColumnType.DOUBLE: _float8,
    ColumnType.NUMERIC: _numeric,
    ColumnType.BOOLEAN: _bool,
    ColumnType.DATE: _date,
    ColumnType.TIMESTAMP: _timestamp,
    ColumnType.UUID: _uuid,
    ColumnType.TEXT: _text,
}


# -- into a live column of another type ---------------------------------------------------


def _narrow_integer(storage: str) -> BinaryField:
    dtype, low, high = _INTEGERS[storage]

    def encode(column: Column, col: ColumnSchema, rows: int) -> Field:
        ints = np.asarray(column.values, dtype=np.int64)
        check((ints >= low) & (ints <= high), column, f"out of range for {storage}")
        return Field(np.where((ints >= low) & (ints <= high), ints, 0), dtype)

    return encode


def _integer_numeric(column: Column, col: ColumnSchema, rows: int) -> Field:
    return _numeric_of(column, 0)  # a BIGINT is a NUMERIC of scale 0


def _floats(storage: str) -> BinaryField:
    dtype = np.dtype(">f8" if storage == "float8" else ">f4")

    def encode(column: Column, col: ColumnSchema, rows: int) -> Field:
        floats = np.asarray(column.values, dtype=np.float64)
        if col.type is ColumnType.NUMERIC:
            floats = floats / 10.0 ** (col.scale or 0)
        return Field(floats, dtype)

    return encode


def _jsonb(column: Column, col: ColumnSchema, rows: int) -> Field:
    text = text_field(column, rows)
    assert text.lengths is not None
    width = text.dtype.itemsize + 1
    data = np.empty((rows, width), dtype=np.uint8)
    data[:, 0] = _JSONB_VERSION[0]
    data[:, 1:] = text.values
    keep = None
    if text.keep is not None:
        keep = np.ones((rows, width), dtype=bool)
        keep[:, 1:] = text.keep
    return Field(data, np.dtype(("u1", (width,))), text.lengths + 1, keep)


#: ``(kind, live type) -> wire form`` where a table that exists stores a kind as a type
#: other than its own; a pair not here goes as the kind's own (``int8``, the UTF-8 of
#: text for ``varchar``...).
STORED: dict[tuple[ColumnType, str], BinaryField] = {
    (ColumnType.BIGINT, "int2"): _narrow_integer("int2"),
    (ColumnType.BIGINT, "int4"): _narrow_integer("int4"),
    (ColumnType.BIGINT, "numeric"): _integer_numeric,
    **{(kind, storage): _floats(storage)
       for kind in (ColumnType.BIGINT, ColumnType.DOUBLE, ColumnType.NUMERIC)
       for storage in ("float8", "float4")},
    (ColumnType.TEXT, "jsonb"): _jsonb,
}

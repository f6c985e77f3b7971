"""Each column kind as an Apache Arrow array: what Parquet files and DataFrames hold.

A ``Column`` becomes an Arrow array of a type that keeps what the kind
means, whole columns at a time and mostly without copies:

- BIGINT ``int64``, DOUBLE ``float64``, BOOLEAN ``bool``, TEXT ``string``;
- NUMERIC(p, s) ``decimal128(p, s)`` (``decimal256`` past 38 digits; 19 when
  the Genfile names no precision, which any int64 count fits): the unscaled
  int64 is already the decimal's integer, so it is widened to 128 bits, never
  formatted or parsed, and stays exact;
- DATE ``date32``; TIMESTAMP ``timestamp[us]`` without a time zone (the
  values are naive, as every target writes them; microseconds, PostgreSQL's
  precision and the finest any generator makes);
- UUID Arrow's ``uuid`` extension type (16 bytes, Parquet's UUID logical
  type), or ``string`` of its canonical text when asked (``uuid_text``, for
  DataFrames, which have no UUID dtype).

NULL rows become Arrow nulls (the filler under them is never read as a
value). This module imports pyarrow, so ``core.values`` does not import it:
only the Parquet target and ``datastorm_core.frames`` load it, on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema
from datastorm_core.core.values.kinds import INT64_DIGITS

__all__ = ["ARROW", "ARROW_TYPES", "arrow_batch", "arrow_column", "arrow_schema", "arrow_type"]

# Arrow's decimal128 holds at most 38 digits; a wider NUMERIC is a decimal256.
_DECIMAL128_DIGITS = 38
_UUID_TEXT_LENGTH = 36
_UUID_DASHES = (8, 13, 18, 23)
_UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_NIL_UUID = "00000000-0000-0000-0000-000000000000"


def _decimal_type(col: ColumnSchema) -> pa.DataType:
    precision = max(col.precision or INT64_DIGITS, col.scale or 0, 1)
    if precision <= _DECIMAL128_DIGITS:
        return pa.decimal128(precision, col.scale or 0)
    return pa.decimal256(precision, col.scale or 0)


#: The Arrow type of each kind (``col`` gives NUMERIC its precision and scale).
ARROW_TYPES: dict[ColumnType, Callable[[ColumnSchema], pa.DataType]] = {
    ColumnType.BIGINT: lambda col: pa.int64(),
    ColumnType.DOUBLE: lambda col: pa.float64(),
    ColumnType.NUMERIC: _decimal_type,
    ColumnType.BOOLEAN: lambda col: pa.bool_(),
    ColumnType.DATE: lambda col: pa.date32(),
    ColumnType.TIMESTAMP: lambda col: pa.timestamp("us"),
    ColumnType.UUID: lambda col: pa.uuid(),
    ColumnType.TEXT: lambda col: pa.string(),
}


def arrow_type(col: ColumnSchema, *, uuid_text: bool = False) -> pa.DataType:
    """The Arrow type of ``col``'s values; a UUID is ``string`` when ``uuid_text``."""
    if uuid_text and col.type is ColumnType.UUID:
        return pa.string()
    return ARROW_TYPES[col.type](col)


def arrow_schema(schema: TableSchema, *, uuid_text: bool = False) -> pa.Schema:
    """The Arrow schema of a table: its columns in order, NOT NULL where the table says."""
    return pa.schema([pa.field(c.name, arrow_type(c, uuid_text=uuid_text), nullable=c.nullable)
                      for c in schema.columns])


# -- one conversion per kind --------------------------------------------------------

def _mask(column: Column) -> np.ndarray | None:
    nulls = column.nulls
    return None if nulls is None or not nulls.any() else np.asarray(nulls, dtype=bool)


def _validity(column: Column) -> pa.Buffer | None:
    """Arrow's validity bitmap (1: a value, least significant bit first), None when
    every row has a value."""
    mask = _mask(column)
    return None if mask is None else pa.py_buffer(np.packbits(~mask, bitorder="little"))


def _plain(dtype: str) -> Callable[[Column, ColumnSchema], pa.Array]:
    """Kinds whose numpy array Arrow takes as it is (numbers, booleans, dates, text)."""
    def convert(column: Column, col: ColumnSchema) -> pa.Array:
        values = np.asarray(column.values)
        if dtype:
            values = values.astype(dtype, copy=False)
        return pa.array(values, type=ARROW_TYPES[col.type](col), mask=_mask(column))

    return convert


def _text(column: Column, col: ColumnSchema) -> pa.Array:
    values = np.asarray(column.values)
    if values.dtype.kind != "U":
        # Object arrays (values read back from a database): str() what is not text.
        values = np.array([v if isinstance(v, str) else str(v) for v in values.tolist()],
                          dtype=str) if len(values) else np.array([], dtype="U1")
    return pa.array(values, type=pa.string(), mask=_mask(column))


def _numeric(column: Column, col: ColumnSchema) -> pa.Array:
    # Arrow's decimals are two's complement little-endian integers of 128 (or 256) bits,
    # the unscaled value: the int64 count sign-extended, one 64-bit word at a time.
    unscaled = np.asarray(column.values, dtype=np.int64)
    decimal = _decimal_type(col)
    words = 2 if pa.types.is_decimal128(decimal) else 4
    wide = np.empty((len(unscaled), words), dtype="<i8")
    wide[:, 0] = unscaled
    wide[:, 1:] = (unscaled >> 63)[:, None]
    return pa.Array.from_buffers(decimal, len(unscaled),
                                 [_validity(column), pa.py_buffer(wide)])


def uuid_bytes(texts: np.ndarray, nulls: np.ndarray | None = None) -> np.ndarray:
    """Canonical UUID texts (``8-4-4-4-12`` hex digits, any case) as an (n, 16) uint8
    array; the rows ``nulls`` marks are zeros.

    Raises:
        ValueError: a value that is not a UUID (naming the first one).
    """
    values = np.asarray(texts)
    n = len(values)
    if values.dtype.kind != "U":
        values = np.array([str(v) for v in values.tolist()], dtype=str) if n else \
            np.array([], dtype="U1")
    if nulls is not None:
        values = np.where(nulls, _NIL_UUID, values)
    if n and values.dtype.itemsize == 4 * _UUID_TEXT_LENGTH:
        # Every text at most 36 characters; a shorter one ends in NUL, and any other
        # character than a hex digit or a dash is refused by fromhex. With the dashes in
        # their places, 16 bytes a row means 32 hex digits in every row: one C call
        # parses the whole column, three times faster than hex arithmetic in numpy.
        points = values.view(np.uint32).reshape(n, _UUID_TEXT_LENGTH)
        if (points[:, list(_UUID_DASHES)] == ord("-")).all() and points[:, -1].all():
            try:
                raw = bytes.fromhex("".join(values.tolist()).replace("-", ""))
            except ValueError:
                raw = b""
            if len(raw) == 16 * n:
                return np.frombuffer(raw, dtype=np.uint8).reshape(n, 16)
    # Some value is not a UUID, or the array is wider than one: row by row.
    rows = np.zeros((n, 16), dtype=np.uint8)
    for i, text in enumerate(values.tolist()):
        if not _UUID_PATTERN.fullmatch(text):
            raise ValueError(f"{text!r} is not a UUID (8-4-4-4-12 hex digits)")
        rows[i] = np.frombuffer(bytes.fromhex(text.replace("-", "")), dtype=np.uint8)
    return rows


def _uuid(column: Column, col: ColumnSchema) -> pa.Array:
    raw = uuid_bytes(column.values, _mask(column))
    storage = pa.Array.from_buffers(pa.binary(16), len(raw),
                                    [_validity(column), pa.py_buffer(np.ascontiguousarray(raw))])
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


#: ``(column, col) -> pa.Array``: each kind as Arrow, NULL rows as Arrow nulls.
ARROW: dict[ColumnType, Callable[[Column, ColumnSchema], pa.Array]] = {
    ColumnType.BIGINT: _plain("int64"),
    ColumnType.DOUBLE: _plain("float64"),
    ColumnType.NUMERIC: _numeric,
    ColumnType.BOOLEAN: _plain("bool"),
    ColumnType.DATE: _plain("datetime64[D]"),
    # A finer unit than the microsecond (none is made today) would be cut, not rounded.
    ColumnType.TIMESTAMP: _plain("datetime64[us]"),
    ColumnType.UUID: _uuid,
    ColumnType.TEXT: _text,
}


def arrow_column(column: Column, col: ColumnSchema, *, uuid_text: bool = False) -> pa.Array:
    """``column`` as an Arrow array of ``arrow_type(col)``."""
    if uuid_text and col.type is ColumnType.UUID:
        return _text(column, col)
    return ARROW[col.type](column, col)


def arrow_batch(chunk: Chunk, schema: TableSchema, arrow: pa.Schema | None = None, *,
                uuid_text: bool = False) -> pa.RecordBatch:
    """A chunk as a record batch of ``arrow`` (default: ``arrow_schema(schema)``)."""
    arrow = arrow or arrow_schema(schema, uuid_text=uuid_text)
    arrays = [arrow_column(chunk.columns[c.name], c, uuid_text=uuid_text)
              for c in schema.columns]
    return pa.RecordBatch.from_arrays(arrays, schema=arrow)

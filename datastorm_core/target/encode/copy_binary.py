"""PostgreSQL ``COPY ... FROM STDIN (FORMAT binary)``, a whole chunk at a time.

The stream of one COPY statement is ``HEADER``, then the rows of any number
of chunks (``encode_chunk``), then ``TRAILER``: the header and trailer
belong to the statement, not to a chunk, so the caller writes them once.
A row is an int16 field count, then per field an int32 byte length (-1 for
NULL, with no bytes after it) and the value in the type's network form.

Nothing here loops over rows. Each column becomes a block of bytes, an
``(n, width)`` uint8 matrix (big-endian values; the widest value sets the
width), with an optional ``keep`` mask of the bytes that belong to each
value (text shorter than the widest, numeric digit groups that are zero,
NULLs). The blocks are written side by side into one ``(n, row width)``
matrix after their length words, and ``matrix[mask]`` flattens row-major
into exactly the concatenation of the rows, padding dropped.

Values the server would refuse anyway (dates and timestamps out of
PostgreSQL's range, NaT in a row that is not NULL, malformed UUIDs) raise
``ValueError`` naming the column instead of wrapping around silently.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema

__all__ = ["FORMAT", "HEADER", "TRAILER", "encode_chunk"]

#: The word PostgreSQL's COPY statement uses for this format.
FORMAT = "binary"
#: Signature, int32 flags (0: no OIDs), int32 header-extension length (0).
HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
#: The int16 field count -1 that ends the stream.
TRAILER = b"\xff\xff"

# Days and seconds from 1970-01-01 (numpy's epoch) to 2000-01-01 (PostgreSQL's).
_EPOCH_DAYS = 10_957
_EPOCH_SECONDS = _EPOCH_DAYS * 86_400
# PostgreSQL's valid ranges, relative to 2000-01-01 (datatype/timestamp.h):
# dates from 4714-11-24 BC to 5874897-12-31, timestamps to 294276-12-31.
# The int32/int64 extremes just outside mean -infinity/infinity on the wire,
# so a value outside must fail here rather than wrap into something valid.
_MIN_DATE = -2_451_545  # DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE
_END_DATE = 2_147_483_494 - 2_451_545  # DATE_END_JULIAN - POSTGRES_EPOCH_JDATE, exclusive
_MIN_TIMESTAMP = -211_813_488_000_000_000  # microseconds
_END_TIMESTAMP = 9_223_371_331_200_000_000  # exclusive
_MICROSECONDS = {"s": 1_000_000, "ms": 1_000, "us": 1}
_COARSE_UNITS = ("Y", "M", "W", "D", "h", "m")

_NUMERIC_BASE = 10_000  # PostgreSQL stores numeric in base-10000 digit groups
_NUMERIC_NEG = 0x4000
# A dictionary-encoded text column encodes its categories once and gathers
# them; worth it when there are fewer categories than rows in the chunk.
_CATEGORIES_PER_ROW = 1.0

# ASCII code point -> hex nibble, 0xFF for anything else (clip code points to 127 first).
_HEX = np.full(128, 0xFF, dtype=np.uint8)
for _digits, _first in (("0123456789", 0), ("abcdef", 10), ("ABCDEF", 10)):
    for _i, _ch in enumerate(_digits):
        _HEX[ord(_ch)] = _first + _i
_UUID_HEX_AT = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])
_UUID_DASH_AT = np.array([8, 13, 18, 23])


@dataclass(frozen=True)
class _Block:
    """One column's bytes: ``data`` (n, width) uint8, what to keep, how long each is."""

    data: np.ndarray
    keep: np.ndarray | None = None  # (n, width) bool; None: every byte
    lengths: np.ndarray | None = None  # (n,) bytes per value; None: counted from keep


def encode_chunk(chunk: Chunk, schema: TableSchema) -> bytes:
    """The chunk's rows as binary COPY tuples, columns in schema order.

    Without ``HEADER`` and ``TRAILER``: write those once per COPY statement,
    around the payloads of all its chunks.

    Raises:
        ValueError: a value PostgreSQL cannot hold (the message names the column).
    """
    if chunk.rows == 0:
        return b""
    return _encode_rows([chunk.columns[c.name] for c in schema.columns], schema.columns,
                       chunk.rows)


def _encode_rows(columns: list[Column], schemas: tuple[ColumnSchema, ...], rows: int) -> bytes:
    """Binary COPY tuples of ``rows`` rows from columns and their schemas."""
    blocks = [_block(column, col, rows) for column, col in zip(columns, schemas, strict=True)]
    width = 2 + sum(4 + b.data.shape[1] for b in blocks)
    out = np.empty((rows, width), dtype=np.uint8)
    out[:, :2] = np.frombuffer(len(blocks).to_bytes(2, "big"), dtype=np.uint8)
    masked = any(b.keep is not None or _has_nulls(c) for b, c in zip(blocks, columns,
                                                                      strict=True))
    mask = np.ones((rows, width), dtype=bool) if masked else None
    at = 2
    for block, column in zip(blocks, columns, strict=True):
        size = block.data.shape[1]
        data = slice(at + 4, at + 4 + size)
        if block.lengths is not None:
            lengths = block.lengths
        elif block.keep is not None:
            lengths = np.count_nonzero(block.keep, axis=1)
        else:
            lengths = np.full(rows, size)
        if _has_nulls(column):
            lengths = np.where(column.nulls, -1, lengths)
        out[:, at:at + 4] = _be(lengths, ">i4", 4)
        out[:, data] = block.data
        if mask is not None:
            if block.keep is not None:
                mask[:, data] = block.keep
            if _has_nulls(column):
                mask[column.nulls, data] = False
        at += 4 + size
    return (out if mask is None else out[mask]).tobytes()


# -- one block per column type ---------------------------------------------------------


def _block(column: Column, col: ColumnSchema, rows: int) -> _Block:
    kind = col.type
    values = column.values
    if kind is ColumnType.BIGINT:
        return _Block(_be(np.asarray(values, dtype=np.int64), ">i8", 8))
    if kind is ColumnType.DOUBLE:
        return _Block(_be(np.asarray(values, dtype=np.float64), ">f8", 8))
    if kind is ColumnType.BOOLEAN:
        return _Block(np.asarray(values, dtype=bool).astype(np.uint8).reshape(rows, 1))
    if kind is ColumnType.DATE:
        return _Block(_be(_days_since_2000(column, col), ">i4", 4))
    if kind is ColumnType.TIMESTAMP:
        return _Block(_be(_microseconds_since_2000(column, col), ">i8", 8))
    if kind is ColumnType.NUMERIC:
        return _numeric_block(np.asarray(values, dtype=np.int64), col.scale or 0)
    if kind is ColumnType.UUID:
        return _Block(_uuid_bytes(column, col))
    return _text_block(column, rows)


def _be(values: np.ndarray, dtype: str, size: int) -> np.ndarray:
    """``values`` as big-endian ``dtype``, one row of ``size`` bytes per value."""
    return np.ascontiguousarray(values, dtype=dtype).view(np.uint8).reshape(-1, size)


def _has_nulls(column: Column) -> bool:
    return column.nulls is not None and bool(column.nulls.any())


def _valid(column: Column) -> np.ndarray | None:
    """Rows whose value matters (not NULL), or None for all of them."""
    return ~column.nulls if _has_nulls(column) else None  # type: ignore[operator]


def _check_range(ok: np.ndarray, column: Column, col: ColumnSchema, what: str) -> None:
    valid = _valid(column)
    bad = ~ok if valid is None else valid & ~ok
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"column {col.name!r}: {what} out of range (or NaT) in row {row}: "
                         f"{column.values[row]!r}")


def _days_since_2000(column: Column, col: ColumnSchema) -> np.ndarray:
    days = np.asarray(column.values).astype("datetime64[D]").view(np.int64)
    ok = (days >= _MIN_DATE + _EPOCH_DAYS) & (days < _END_DATE + _EPOCH_DAYS)
    _check_range(ok, column, col, "date")
    return days - _EPOCH_DAYS


def _microseconds_since_2000(column: Column, col: ColumnSchema) -> np.ndarray:
    """Microseconds since 2000-01-01; finer units round to the nearest (ties to even)."""
    stamps = np.asarray(column.values)
    if stamps.dtype.kind != "M":
        stamps = stamps.astype("datetime64[s]")
    unit, count = np.datetime_data(stamps.dtype)
    if unit in _COARSE_UNITS or count != 1:
        stamps, unit = stamps.astype("datetime64[s]"), "s"
    ticks = stamps.view(np.int64)
    if unit not in _MICROSECONDS:  # ns, ps, fs, as: PostgreSQL keeps microseconds
        per = {"ns": 1_000, "ps": 1_000_000, "fs": 1_000_000_000, "as": 1_000_000_000_000}[unit]
        whole, rest = np.divmod(ticks, per)
        up = (rest * 2 > per) | ((rest * 2 == per) & (whole % 2 == 1))
        ticks, unit = whole + up, "us"
    per_tick = _MICROSECONDS[unit]
    epoch = _EPOCH_SECONDS * (1_000_000 // per_tick)
    # Bounds in ticks since 1970, clipped to int64 (Python ints: no overflow here).
    low = max(-(-_MIN_TIMESTAMP // per_tick) + epoch, -(2**63) + 1)
    high = min((_END_TIMESTAMP - 1) // per_tick + epoch, 2**63 - 1)
    ok = (ticks >= low) & (ticks <= high)
    _check_range(ok, column, col, "timestamp")
    since = ticks - epoch
    if not ok.all():  # filler under NULLs: keep the multiplication from overflowing
        since = np.where(ok, since, 0)
    return since * per_tick


def _numeric_block(unscaled: np.ndarray, scale: int) -> _Block:
    """PostgreSQL's binary numeric: ndigits, weight, sign, dscale, base-10000 digits.

    The value is ``unscaled / 10**scale``. Digit groups are computed from the
    integer and fractional parts separately in uint64, so no product can
    overflow (the magnitude of int64's minimum fits too), and the zero groups
    at either end are left out through the keep mask.
    """
    rows = len(unscaled)
    scale = max(scale, 0)  # like format_numeric: a negative scale writes the integer
    magnitude = unscaled.astype(np.uint64)
    negative = unscaled < 0
    magnitude = np.where(negative, np.uint64(0) - magnitude, magnitude)
    if scale < 20:  # 10**19 still fits uint64
        whole, fraction = np.divmod(magnitude, np.uint64(10**scale))
    else:
        whole, fraction = np.zeros_like(magnitude), magnitude
    # Integer groups, most significant first: as many as the largest value needs.
    top = int(whole.max()) if rows else 0
    int_groups = 0
    while top >= _NUMERIC_BASE**int_groups:
        int_groups += 1
    groups = [(whole // np.uint64(_NUMERIC_BASE**k)) % np.uint64(_NUMERIC_BASE)
              for k in range(int_groups - 1, -1, -1)]
    # Fractional groups: digits 4k-3 .. 4k after the point, the last one zero-padded.
    for k in range(1, -(-scale // 4) + 1):
        if 4 * k <= scale:
            divisor = 10 ** (scale - 4 * k)
            groups.append(np.zeros_like(fraction) if divisor >= 2**64 else
                          (fraction // np.uint64(divisor)) % np.uint64(_NUMERIC_BASE))
        else:
            tail = 10 ** (scale - 4 * (k - 1))
            part = fraction if tail >= 2**64 else fraction % np.uint64(tail)
            groups.append(part * np.uint64(10 ** (4 * k - scale)))
    count = len(groups)
    head = np.zeros((rows, 4), dtype=">i2")  # ndigits, weight, sign, dscale
    head[:, 2] = np.where(negative, _NUMERIC_NEG, 0)
    head[:, 3] = scale
    if count == 0:
        return _Block(head.view(np.uint8).reshape(rows, 8))
    digits = np.stack(groups, axis=1).astype(">i2")
    nonzero = digits != 0
    present = nonzero.any(axis=1)
    first = np.argmax(nonzero, axis=1)
    last = count - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    ndigits = np.where(present, last - first + 1, 0)
    head[:, 0] = ndigits
    head[:, 1] = np.where(present, int_groups - 1 - first, 0)
    position = np.arange(count)
    kept = (position >= first[:, None]) & (position <= last[:, None]) & present[:, None]
    data = np.hstack([head.view(np.uint8).reshape(rows, 8),
                      digits.view(np.uint8).reshape(rows, 2 * count)])
    keep = np.hstack([np.ones((rows, 8), dtype=bool), np.repeat(kept, 2, axis=1)])
    return _Block(data, keep, 8 + 2 * ndigits)


def _as_str_array(values: np.ndarray) -> np.ndarray:
    """A numpy unicode (``U``) array; other objects go through ``str()`` like the text path."""
    array = np.asarray(values)
    return array if array.dtype.kind == "U" else array.astype(str)


def _uuid_bytes(column: Column, col: ColumnSchema) -> np.ndarray:
    """16 bytes per canonical ``8-4-4-4-12`` hex string, decoded without a loop.

    Other spellings the text path lets PostgreSQL parse (braces, no dashes)
    go through ``uuid.UUID`` one by one.
    """
    text = _as_str_array(column.values)
    rows = len(text)
    if text.dtype.itemsize < 36 * 4:
        text = text.astype("U36")
    width = text.dtype.itemsize // 4
    points = text.view(np.uint32).reshape(rows, width)[:, :36]
    nibbles = _HEX[np.minimum(points[:, _UUID_HEX_AT], 127)]
    canonical = ((nibbles != 0xFF).all(axis=1) & (points[:, _UUID_DASH_AT] == ord("-")).all(axis=1)
                 & (np.strings.str_len(text) == 36))
    packed = (nibbles[:, 0::2] << 4) | (nibbles[:, 1::2] & 0x0F)
    valid = _valid(column)
    odd = ~canonical if valid is None else valid & ~canonical
    for row in np.flatnonzero(odd).tolist():
        try:
            packed[row] = np.frombuffer(uuid.UUID(str(text[row])).bytes, dtype=np.uint8)
        except ValueError:
            raise ValueError(f"column {col.name!r}: invalid UUID in row {row}: "
                             f"{str(text[row])!r}") from None
    return packed


def _text_block(column: Column, rows: int) -> _Block:
    """UTF-8 bytes of each value; dictionary-encoded columns encode each category once."""
    codes, categories = column.codes, column.categories
    if codes is not None and categories is not None and (
            len(categories) <= _CATEGORIES_PER_ROW * rows):
        block = _utf8(_as_str_array(categories))
        assert block.keep is not None and block.lengths is not None
        return _Block(block.data[codes], block.keep[codes], block.lengths[codes])
    return _utf8(_as_str_array(column.values))


def _utf8(text: np.ndarray) -> _Block:
    """UTF-8 encoding of a ``U`` array, vectorised over code points.

    Each code point gets as many byte slots as the widest character in the
    array needs (1 for ASCII, 2 up to U+07FF, ...); the keep mask drops the
    unused slots and the padding after each string. Everything stays uint32
    or narrower: mixing in int64 makes numpy several times slower. (This is
    also several times faster than ``np.strings.encode``.)
    """
    rows = len(text)
    chars = text.dtype.itemsize // 4
    points = text.view(np.uint32).reshape(rows, chars)
    inside = np.arange(chars) < np.strings.str_len(text)[:, None]
    top = int(points.max()) if points.size else 0
    if top < 0x80:
        return _Block(points.astype(np.uint8), inside, np.count_nonzero(inside, axis=1))
    slots = 2 if top < 0x800 else 3 if top < 0x10000 else 4
    data = np.empty((rows, chars, slots), dtype=np.uint8)
    keep = np.empty((rows, chars, slots), dtype=bool)
    keep[:, :, 0] = inside
    if slots == 2:  # Latin, Greek, Cyrillic...: the common case, kept simple
        wide = points >= 0x80
        data[:, :, 0] = np.where(wide, 0xC0 | (points >> 6), points)
        data[:, :, 1] = 0x80 | (points & 0x3F)
        np.logical_and(inside, wide, out=keep[:, :, 1])
    else:
        # size: bytes of each character; byte i > 0 of a size-byte sequence
        # carries bits 6 * (size - 1 - i) and up.
        size = np.ones(points.shape, dtype=np.uint32)
        for limit in (0x80, 0x800, 0x10000):
            size += points >= limit
        lead_mark = (np.uint32(0xFF00) >> size) & 0xFF  # 0xC0, 0xE0, 0xF0 for 2, 3, 4
        data[:, :, 0] = np.where(size == 1, points, lead_mark | (points >> (6 * (size - 1))))
        for i in range(1, slots):
            follows = size > i
            shift = np.where(follows, 6 * (size - 1 - i), 0).astype(np.uint32)
            data[:, :, i] = 0x80 | ((points >> shift) & 0x3F)
            np.logical_and(inside, follows, out=keep[:, :, i])
    keep = keep.reshape(rows, chars * slots)
    return _Block(data.reshape(rows, chars * slots), keep, np.count_nonzero(keep, axis=1))

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

Values the server would refuse anyway (dates and timestamps out of
PostgreSQL's range, NaT in a row that is not NULL, malformed UUIDs) raise
``ValueError`` naming the column and row, instead of wrapping around into
some other valid value.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass

import numpy as np

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema

__all__ = ["FORMAT", "HEADER", "STORABLE", "TRAILER", "binary_storable", "encode_chunk"]

#: The word PostgreSQL's COPY statement uses for this format.
FORMAT = "binary"
#: Signature, int32 flags (0: no OIDs), int32 length of the header extension (0).
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(4) + bytes(4)
#: The int16 field count -1 that ends the stream.
TRAILER = b"\xff\xff"

# Days and seconds from 1970-01-01 (numpy's epoch) to 2000-01-01 (PostgreSQL's).
_EPOCH_DAYS = 10_957
_EPOCH_SECONDS = _EPOCH_DAYS * 86_400
# PostgreSQL's valid ranges, relative to 2000-01-01 (datatype/timestamp.h):
# dates from 4714-11-24 BC to 5874897-12-31, timestamps to 294276-12-31.
# The int32/int64 extremes mean -infinity/infinity on the wire, so a value
# outside must fail here rather than wrap into something the server takes.
_MIN_DATE = -2_451_545  # DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE
_END_DATE = 2_147_483_494 - 2_451_545  # DATE_END_JULIAN - POSTGRES_EPOCH_JDATE, exclusive
_MIN_TIMESTAMP = -211_813_488_000_000_000  # microseconds
_END_TIMESTAMP = 9_223_371_331_200_000_000  # exclusive
_MICROSECONDS_PER = {"s": 1_000_000, "ms": 1_000, "us": 1}
_FINER_PER_MICROSECOND = {"ns": 1_000, "ps": 1_000_000, "fs": 10**9, "as": 10**12}
_COARSE_UNITS = ("Y", "M", "W", "D", "h", "m")

_NUMERIC_BASE = 10_000  # PostgreSQL's numeric digits are base-10000 groups of 4
_NUMERIC_NEG = 0x4000

# Dictionary-encoded text: the UTF-8 of a categories array is kept, by
# identity, for the next chunks that draw from the same array (the word
# lists of a source live as long as the run and are never mutated).
# Categories are encoded on first sight when there are no more of them than
# rows, else on second sight, so a one-off array costs no more than its rows.
_CATEGORY_CACHE_ENTRIES = 64

# ASCII code point -> hex nibble, 0xFF for anything else (code points clipped to 127).
_HEX = np.full(128, 0xFF, dtype=np.uint8)
for _digits, _first in (("0123456789", 0), ("abcdef", 10), ("ABCDEF", 10)):
    for _i, _ch in enumerate(_digits):
        _HEX[ord(_ch)] = _first + _i
_UUID_DASHES = np.array([8, 13, 18, 23])
_UUID_HEX_DIGITS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


class _Refused(ValueError):
    """A value PostgreSQL cannot hold, in row ``row`` of the column being encoded."""

    def __init__(self, what: str, row: int, value: object) -> None:
        super().__init__(what)
        self.what, self.row, self.value = what, row, value


@dataclass(frozen=True)
class _Field:
    """One column's values in every row, as they go on the wire.

    Fixed width: ``values`` holds one ``dtype`` item per row. Variable width
    (text): ``values`` is an ``(n, width)`` uint8 matrix, ``lengths`` the
    bytes of each value, and ``keep`` which bytes those are; None means the
    first ``lengths`` bytes.
    """

    values: np.ndarray
    dtype: np.dtype
    lengths: np.ndarray | None = None
    keep: np.ndarray | None = None


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
        except _Refused as exc:
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


# -- one field per column type ---------------------------------------------------------


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


def _field(column: Column, col: ColumnSchema, rows: int) -> _Field:
    if col.storage is not None:
        converted = _stored(column, col, rows)
        if converted is not None:
            return converted
    kind = col.type
    values = column.values
    if kind is ColumnType.BIGINT:
        return _Field(np.asarray(values, dtype=np.int64), np.dtype(">i8"))
    if kind is ColumnType.DOUBLE:
        return _Field(np.asarray(values, dtype=np.float64), np.dtype(">f8"))
    if kind is ColumnType.BOOLEAN:
        return _Field(np.asarray(values, dtype=bool), np.dtype("u1"))
    if kind is ColumnType.DATE:
        return _Field(_days_since_2000(column), np.dtype(">i4"))
    if kind is ColumnType.TIMESTAMP:
        return _Field(_microseconds_since_2000(column), np.dtype(">i8"))
    if kind is ColumnType.NUMERIC:
        digits = _numeric(np.asarray(values, dtype=np.int64), col.scale or 0)
        return _Field(digits, np.dtype((">i2", (digits.shape[1],))))
    if kind is ColumnType.UUID:
        return _Field(_uuid_bytes(column), np.dtype(("u1", (16,))))
    if kind is ColumnType.TEXT:
        return _text(column, rows)
    raise TypeError(f"column {col.name!r}: no binary COPY encoding for {kind}")


def _stored(column: Column, col: ColumnSchema, rows: int) -> _Field | None:
    """The field in the wire form of a live column type other than the column's own.

    None: the column's own encoding is the right one (``int8`` for BIGINT,
    the UTF-8 of text for ``varchar``, ...).
    """
    kind, storage, values = col.type, col.storage, column.values
    if kind is ColumnType.BIGINT and storage in _INTEGERS:
        dtype, low, high = _INTEGERS[storage]
        ints = np.asarray(values, dtype=np.int64)
        _check((ints >= low) & (ints <= high), column, f"out of range for {storage}")
        return _Field(np.where((ints >= low) & (ints <= high), ints, 0), dtype)
    if kind is ColumnType.BIGINT and storage == "numeric":
        digits = _numeric(np.asarray(values, dtype=np.int64), 0)
        return _Field(digits, np.dtype((">i2", (digits.shape[1],))))
    if kind in (ColumnType.BIGINT, ColumnType.DOUBLE, ColumnType.NUMERIC) and \
            storage in ("float8", "float4"):
        floats = np.asarray(values, dtype=np.float64)
        if kind is ColumnType.NUMERIC:
            floats = floats / 10.0 ** (col.scale or 0)
        return _Field(floats, np.dtype(">f8" if storage == "float8" else ">f4"))
    if kind is ColumnType.TEXT and storage == "jsonb":
        text = _text(column, rows)
        assert text.lengths is not None
        width = text.dtype.itemsize + 1
        data = np.empty((rows, width), dtype=np.uint8)
        data[:, 0] = _JSONB_VERSION[0]
        data[:, 1:] = text.values
        keep = None
        if text.keep is not None:
            keep = np.ones((rows, width), dtype=bool)
            keep[:, 1:] = text.keep
        return _Field(data, np.dtype(("u1", (width,))), text.lengths + 1, keep)
    return None


def _not_null(column: Column) -> np.ndarray | None:
    """Rows whose value matters, or None when that is all of them."""
    if column.nulls is None or not column.nulls.any():
        return None
    return ~column.nulls


def _check(ok: np.ndarray, column: Column, what: str) -> None:
    """Refuse the first row that is not NULL and not ``ok``."""
    valid = _not_null(column)
    bad = ~ok if valid is None else valid & ~ok
    if bad.any():
        row = int(np.argmax(bad))
        raise _Refused(what, row, column.values[row])


def _days_since_2000(column: Column) -> np.ndarray:
    days = np.asarray(column.values).astype("datetime64[D]").view(np.int64)
    ok = (days >= _MIN_DATE + _EPOCH_DAYS) & (days < _END_DATE + _EPOCH_DAYS)
    _check(ok, column, "date out of range (or NaT)")
    return days - _EPOCH_DAYS


def _microseconds_since_2000(column: Column) -> np.ndarray:
    """Microseconds since 2000-01-01; finer units round to the nearest, ties to even.

    Values are converted from their own unit with Python-int bounds, so
    neither the epoch shift nor the scaling to microseconds can overflow.
    """
    stamps = np.asarray(column.values)
    if stamps.dtype.kind != "M":
        stamps = stamps.astype("datetime64[s]")
    unit, count = np.datetime_data(stamps.dtype)
    if unit in _COARSE_UNITS or count != 1:
        stamps, unit = stamps.astype("datetime64[s]"), "s"
    ticks = stamps.view(np.int64)
    if unit in _FINER_PER_MICROSECOND:  # PostgreSQL keeps microseconds
        per = _FINER_PER_MICROSECOND[unit]
        whole, rest = np.divmod(ticks, per)
        ticks = whole + ((rest * 2 > per) | ((rest * 2 == per) & (whole % 2 == 1)))
        unit = "us"
    per_tick = _MICROSECONDS_PER[unit]
    epoch = _EPOCH_SECONDS * (1_000_000 // per_tick)
    low = -(-_MIN_TIMESTAMP // per_tick) + epoch  # ceil: _MIN_TIMESTAMP < 0
    high = (_END_TIMESTAMP - 1) // per_tick + epoch
    ok = (ticks >= low) & (ticks <= min(high, 2**63 - 1))
    _check(ok, column, "timestamp out of range (or NaT)")
    since = ticks - epoch
    if not ok.all():  # filler under NULLs: keep the scaling from overflowing
        since = np.where(ok, since, 0)
    return since * per_tick if per_tick != 1 else since


def _numeric(unscaled: np.ndarray, scale: int) -> np.ndarray:
    """PostgreSQL's binary numeric as ``(n, 4 + groups)`` int16: ndigits, weight,
    sign, dscale, then the base-10000 digit groups, most significant first.

    The value is ``unscaled / 10**scale``. Every row has the same groups:
    enough integer groups for the chunk's largest value and ``scale``
    digits of fraction, so a value may carry zero groups at either end;
    PostgreSQL strips them when it stores the value (``make_result``). The
    integer and fractional parts are split first and both are taken apart
    in uint64, so nothing can overflow, not even for int64's minimum.
    """
    rows = len(unscaled)
    scale = max(scale, 0)  # like format_numeric: a negative scale writes the integer
    negative = unscaled < 0
    magnitude = unscaled.astype(np.uint64)
    np.negative(magnitude, out=magnitude, where=negative)  # modulo 2**64: exact
    if scale < 20:  # 10**19 still fits uint64
        whole, fraction = np.divmod(magnitude, np.uint64(10**scale))
    else:
        whole, fraction = np.zeros_like(magnitude), magnitude
    top = int(whole.max())
    int_groups = 0
    while top >= _NUMERIC_BASE**int_groups:
        int_groups += 1
    frac_groups = -(-scale // 4)
    count = int_groups + frac_groups
    out = np.empty((rows, 4 + count), dtype=np.int16)
    out[:, 0] = count
    out[:, 1] = int_groups - 1 if count else 0
    out[:, 2] = np.where(negative, _NUMERIC_NEG, 0)
    out[:, 3] = scale
    base = np.uint64(_NUMERIC_BASE)
    for k in range(int_groups):  # weight int_groups - 1 - k
        out[:, 4 + k] = (whole // np.uint64(_NUMERIC_BASE ** (int_groups - 1 - k))) % base
    for k in range(1, frac_groups + 1):  # digits 4k-3 .. 4k after the point
        column = 4 + int_groups + k - 1
        if 4 * k <= scale:
            divisor = 10 ** (scale - 4 * k)
            out[:, column] = 0 if divisor >= 2**64 else (fraction // np.uint64(divisor)) % base
        else:  # the last group, zero-padded on the right
            tail = 10 ** (scale - 4 * (k - 1))
            part = fraction if tail >= 2**64 else fraction % np.uint64(tail)
            out[:, column] = part * np.uint64(10 ** (4 * k - scale))
    return out


def _as_str_array(values: np.ndarray) -> np.ndarray:
    """A numpy unicode (``U``) array; other objects go through ``str()`` as in the text path."""
    array = np.asarray(values)
    if array.dtype.kind == "U":
        return array
    if array.dtype.kind == "T":  # numpy's variable-width StringDType: cast to a sized U
        longest = int(np.strings.str_len(array).max()) if array.size else 0
        return array.astype(f"U{max(longest, 1)}")
    return array.astype(str)


def _uuid_bytes(column: Column) -> np.ndarray:
    """16 bytes per canonical ``8-4-4-4-12`` hex string, decoded without a loop.

    Other spellings the text path would let PostgreSQL parse (braces, no
    dashes) go through ``uuid.UUID`` one by one.
    """
    text = _as_str_array(column.values)
    rows = len(text)
    if text.dtype.itemsize < 36 * 4:
        text = text.astype("U36")
    points = text.view(np.uint32).reshape(rows, -1)[:, :36]
    nibbles = _HEX[np.minimum(points[:, _UUID_HEX_DIGITS], 127)]
    canonical = ((nibbles != 0xFF).all(axis=1) & (points[:, _UUID_DASHES] == ord("-")).all(axis=1)
                 & (np.strings.str_len(text) == 36))
    packed = (nibbles[:, 0::2] << 4) | (nibbles[:, 1::2] & 0x0F)
    valid = _not_null(column)
    for row in np.flatnonzero(~canonical if valid is None else valid & ~canonical).tolist():
        try:
            packed[row] = np.frombuffer(uuid.UUID(str(text[row])).bytes, dtype=np.uint8)
        except ValueError:
            raise _Refused("invalid UUID", row, str(text[row])) from None
    return packed


# -- text ------------------------------------------------------------------------------


def _text(column: Column, rows: int) -> _Field:
    """UTF-8 bytes of each value; dictionary-encoded columns encode each category once."""
    if column.codes is not None and column.categories is not None:
        encoded = _CATEGORIES.get(column.categories, rows)
        if encoded is not None:
            data, lengths = encoded
            return _Field(data[column.codes], np.dtype(("u1", (data.shape[1],))),
                          lengths[column.codes])
    data, lengths, keep = _utf8(_as_str_array(column.values))
    return _Field(data, np.dtype(("u1", (data.shape[1],))), lengths, keep)


def _utf8(text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """UTF-8 of a ``U`` array: ``(n, width)`` bytes, byte lengths, and which bytes count.

    ASCII (the common case) is one cast, each value's bytes a prefix of its
    row (``keep`` None). Otherwise each code point gets as many byte slots
    as the widest character needs (2 up to U+07FF, ...) and ``keep`` drops
    the unused ones. Everything stays uint32 or narrower: mixing in int64
    makes numpy several times slower. This is several times faster than
    ``np.strings.encode``, which goes through Python's codec value by value.
    """
    rows = len(text)
    chars = text.dtype.itemsize // 4
    points = text.view(np.uint32).reshape(rows, chars)
    lengths = np.strings.str_len(text)
    top = int(points.max()) if points.size else 0
    if top < 0x80:
        return points.astype(np.uint8), lengths, None
    inside = np.arange(chars) < lengths[:, None]
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
        # carries the 6 bits from 6 * (size - 1 - i) up.
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
    return data.reshape(rows, chars * slots), np.count_nonzero(keep, axis=1), keep


def _packed_utf8(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 of a ``U`` array with each value's bytes a prefix of its row, as narrow as can be."""
    data, lengths, keep = _utf8(text)
    if keep is None:
        return data, lengths
    width = int(lengths.max()) if len(lengths) else 0
    packed = np.zeros((len(text), width), dtype=np.uint8)
    packed[np.arange(width) < lengths[:, None]] = data[keep]
    return packed, lengths


class _CategoryCache:
    """UTF-8 of categories arrays by identity (see ``_CATEGORY_CACHE_ENTRIES``)."""

    def __init__(self, limit: int) -> None:
        # id -> (the array itself, so its id is not reused; its encoding, or None: seen once)
        self._entries: dict[int, tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, categories: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The encoding of ``categories``, or None when encoding the rows is cheaper."""
        with self._lock:
            entry = self._entries.get(id(categories))
        seen = False
        if entry is not None and entry[0] is categories:
            if entry[1] is not None:
                return entry[1]
            seen = True
        encoded = None
        if seen or len(categories) <= rows:
            encoded = _packed_utf8(_as_str_array(categories))
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()
            self._entries[id(categories)] = (categories, encoded)
        return encoded


_CATEGORIES = _CategoryCache(_CATEGORY_CACHE_ENTRIES)

"""PostgreSQL's binary form of each column kind's values, whole columns at a time.

``copy_binary`` maps each kind to one of these and lays the results out as
rows. Values the server would refuse anyway (dates and timestamps out of
PostgreSQL's range, NaT in a row that is not NULL, malformed UUIDs) raise
``Refused`` naming the row, instead of wrapping around into some other
valid value.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from datastorm_core.core.chunk import Column

__all__ = ["Field", "Refused", "as_str_array", "check", "days_since_2000",
           "microseconds_since_2000", "numeric_digits", "uuid_bytes"]

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

# ASCII code point -> hex nibble, 0xFF for anything else (code points clipped to 127).
_HEX = np.full(128, 0xFF, dtype=np.uint8)
for _digits, _first in (("0123456789", 0), ("abcdef", 10), ("ABCDEF", 10)):
    for _i, _ch in enumerate(_digits):
        _HEX[ord(_ch)] = _first + _i
_UUID_DASHES = np.array([8, 13, 18, 23])
_UUID_HEX_DIGITS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


class Refused(ValueError):
    """A value PostgreSQL cannot hold, in row ``row`` of the column being encoded."""

    def __init__(self, what: str, row: int, value: object) -> None:
        super().__init__(what)
        self.what, self.row, self.value = what, row, value


@dataclass(frozen=True)
class Field:
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


def _not_null(column: Column) -> np.ndarray | None:
    """Rows whose value matters, or None when that is all of them."""
    if column.nulls is None or not column.nulls.any():
        return None
    return ~column.nulls


def check(ok: np.ndarray, column: Column, what: str) -> None:
    """Refuse the first row that is not NULL and not ``ok``."""
    valid = _not_null(column)
    bad = ~ok if valid is None else valid & ~ok
    if bad.any():
        row = int(np.argmax(bad))
        raise Refused(what, row, column.values[row])


def days_since_2000(column: Column) -> np.ndarray:
    days = np.asarray(column.values).astype("datetime64[D]").view(np.int64)
    ok = (days >= _MIN_DATE + _EPOCH_DAYS) & (days < _END_DATE + _EPOCH_DAYS)
    check(ok, column, "date out of range (or NaT)")
    return days - _EPOCH_DAYS


def microseconds_since_2000(column: Column) -> np.ndarray:
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
    check(ok, column, "timestamp out of range (or NaT)")
    since = ticks - epoch
    if not ok.all():  # filler under NULLs: keep the scaling from overflowing
        since = np.where(ok, since, 0)
    return since * per_tick if per_tick != 1 else since


def numeric_digits(unscaled: np.ndarray, scale: int) -> np.ndarray:
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


def as_str_array(values: np.ndarray) -> np.ndarray:
    """A numpy unicode (``U``) array; other objects go through ``str()`` as in the text path."""
    array = np.asarray(values)
    if array.dtype.kind == "U":
        return array
    if array.dtype.kind == "T":  # numpy's variable-width StringDType: cast to a sized U
        longest = int(np.strings.str_len(array).max()) if array.size else 0
        return array.astype(f"U{max(longest, 1)}")
    return array.astype(str)


def uuid_bytes(column: Column) -> np.ndarray:
    """16 bytes per canonical ``8-4-4-4-12`` hex string, decoded without a loop.

    Other spellings the text path would let PostgreSQL parse (braces, no
    dashes) go through ``uuid.UUID`` one by one.
    """
    text = as_str_array(column.values)
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
            raise Refused("invalid UUID", row, str(text[row])) from None
    return packed

"""What a user's generator returned, as the array its column kind travels as.

A generator of the user's may return a numpy array or a list (any sequence),
one value a row. A numpy array of a fitting dtype is taken as a whole (the
fast way: a vectorised plugin never pays a per-row cost here); a list, or an
array of Python objects, is read value by value. Values allowed per column:

========== =====================================================================
text       ``str`` (numpy ``U`` arrays)
bigint     ``int`` (numpy signed or unsigned integers that fit int64)
double     ``float`` or ``int`` (numpy floats and integers)
numeric    ``int`` or ``decimal.Decimal`` with at most ``scale`` places (numpy
           integers); never a float, whose binary error would be written
boolean    ``bool`` (numpy ``bool``)
date       ``datetime.date`` (numpy ``datetime64`` with no time of day)
timestamp  ``datetime.datetime``, an aware one converted to UTC (``datetime64``)
uuid       ``uuid.UUID`` or its text
========== =====================================================================

``None`` is a NULL, in a generator that declares ``nullable = True``. A value
of any other kind is refused with the row it was found at: a column of the
wrong kind would fail later, in a target, far from its cause.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from datastorm_core.core.schema import ColumnType
from datastorm_core.core.values import DTYPES

__all__ = ["WrongValues", "plugin_column"]

_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)


class WrongValues(ValueError):
    """What a generator returned does not fit its column; the message says where."""


def plugin_column(made: object, indices: np.ndarray, kind: ColumnType, scale: int | None,
                  nullable: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The values and NULL mask (None: no NULL) of what a generator returned for
    ``indices``, in the array ``kind`` travels as.

    Raises:
        WrongValues: not one value per row, or a value the column cannot hold.
    """
    if isinstance(made, np.ndarray):
        if made.ndim != 1:
            raise WrongValues(f"returned an array of shape {made.shape}; one value per row "
                              "(a one-dimensional array or a list) is needed")
    elif isinstance(made, (str, bytes)) or not isinstance(made, Sequence):
        raise WrongValues(f"returned {type(made).__name__}; a list or a numpy array of one "
                          "value per row is needed")
    if len(made) != len(indices):
        raise WrongValues(f"returned {len(made):,} values for {len(indices):,} rows")
    if isinstance(made, np.ndarray) and made.dtype != object:
        return _FROM_ARRAY[kind](made, indices, scale), None
    items = made.tolist() if isinstance(made, np.ndarray) else list(made)
    nulls = None
    if any(v is None for v in items):
        nulls = np.fromiter((v is None for v in items), dtype=bool, count=len(items))
        if not nullable:
            row = int(indices[int(np.argmax(nulls))])
            raise WrongValues(f"returned None (a NULL) at row {row}; a generator that makes "
                              "NULLs declares nullable = True")
        filler = _FILLER[kind]
        items = [filler if v is None else v for v in items]
    return _FROM_PYTHON[kind](items, indices, scale), nulls


# -- numpy arrays, whole -----------------------------------------------------------------

def _kind_error(made: np.ndarray, kind: ColumnType) -> WrongValues:
    return WrongValues(f"returned an array of {made.dtype} for a {kind.value} column")


def _text_array(made: np.ndarray, indices: np.ndarray, scale: int | None) -> np.ndarray:
    if made.dtype.kind != "U":
        raise _kind_error(made, ColumnType.TEXT)
    return made


def _uuid_array(made: np.ndarray, indices: np.ndarray, scale: int | None) -> np.ndarray:
    if made.dtype.kind != "U":
        raise _kind_error(made, ColumnType.UUID)
    return _uuid_values(made.tolist(), indices, scale)


def _int_array(made: np.ndarray, indices: np.ndarray, scale: int | None) -> np.ndarray:
    if made.dtype.kind == "u" and made.size and int(made.max()) > _INT64_MAX:
        row = int(indices[int(np.argmax(made > _INT64_MAX))])
        raise WrongValues(f"returned {int(made.max())} at row {row}, beyond a 64-bit integer")
    if made.dtype.kind not in "iu":
        raise _kind_error(made, ColumnType.BIGINT)
    return made.astype(np.int64, copy=False)


def _float_array(made: np.ndarray, indices: np.ndarray, scale: int | None) -> np.ndarray:
    if made.dtype.kind not in "iuf":
        raise _kind_error(made, ColumnType.DOUBLE)
    return made.astype(np.float64, copy=False)


def _numeric_array(made: np.ndarray, indices: np.ndarray, scale: int | None) -> np.ndarray:
    if made.dtype.kind not in "iu":  # floats refused: 0.1 is not a decimal
        raise _kind_error(made, ColumnType.NUMERIC)
    # Through Python ints, which cannot overflow, for the range check.
    return _numeric_values(made.tolist(), indices, scale)


def _bool_array(made: np.ndarray, indices: np.ndarray, scale: int | None) -> np.ndarray:
    if made.dtype.kind != "b":
        raise _kind_error(made, ColumnType.BOOLEAN)
    return made


def _date_array(made: np.ndarray, indices: np.ndarray, scale: int | None) -> np.ndarray:
    if made.dtype.kind != "M":
        raise _kind_error(made, ColumnType.DATE)
    _no_nat(made, indices)
    days = made.astype("datetime64[D]")
    moved = days != made  # a time of day would be dropped
    if moved.any():
        row = int(indices[int(np.argmax(moved))])
        raise WrongValues(f"returned {made[int(np.argmax(moved))]} at row {row}, which has "
                          "a time of day, for a date column")
    return days


def _no_nat(made: np.ndarray, indices: np.ndarray) -> None:
    missing = np.isnat(made)
    if missing.any():
        raise WrongValues(f"returned NaT at row {int(indices[int(np.argmax(missing))])}; a NULL "
                          "is None, in a list, from a generator that declares nullable = True")


def _timestamp_array(made: np.ndarray, indices: np.ndarray, scale: int | None) -> np.ndarray:
    if made.dtype.kind != "M":
        raise _kind_error(made, ColumnType.TIMESTAMP)
    _no_nat(made, indices)
    unit, _ = np.datetime_data(made.dtype)
    # Seconds at least; a finer unit (ms, us) is kept, and the targets write it.
    return made.astype("datetime64[s]") if unit in ("Y", "M", "W", "D", "h", "m") else made


_FROM_ARRAY: dict[ColumnType, Callable[[np.ndarray, np.ndarray, int | None], np.ndarray]] = {
    ColumnType.TEXT: _text_array,
    ColumnType.UUID: _uuid_array,
    ColumnType.BIGINT: _int_array,
    ColumnType.DOUBLE: _float_array,
    ColumnType.NUMERIC: _numeric_array,
    ColumnType.BOOLEAN: _bool_array,
    ColumnType.DATE: _date_array,
    ColumnType.TIMESTAMP: _timestamp_array,
}


# -- Python values, one by one -----------------------------------------------------------

def _refused(items: list[Any], indices: np.ndarray, position: int, expected: str) -> WrongValues:
    value = items[position]
    return WrongValues(f"returned {value!r} ({type(value).__name__}) at row "
                       f"{int(indices[position])}; a {expected} is needed")


def _first(items: list[Any], ok: Callable[[Any], bool]) -> int | None:
    return next((i for i, v in enumerate(items) if not ok(v)), None)


def _checked(items: list[Any], indices: np.ndarray, ok: Callable[[Any], bool],
             expected: str) -> None:
    wrong = _first(items, ok)
    if wrong is not None:
        raise _refused(items, indices, wrong, expected)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _text_values(items: list[Any], indices: np.ndarray, scale: int | None) -> np.ndarray:
    _checked(items, indices, lambda v: isinstance(v, str), "str for a text column")
    return np.array(items, dtype=str) if items else np.zeros(0, DTYPES[ColumnType.TEXT])


def _uuid_values(items: list[Any], indices: np.ndarray, scale: int | None) -> np.ndarray:
    texts = []
    for i, v in enumerate(items):
        try:
            texts.append(str(v if isinstance(v, uuid.UUID) else uuid.UUID(v)))
        except (TypeError, ValueError, AttributeError):
            raise _refused(items, indices, i, "uuid.UUID or a UUID's text") from None
    return np.array(texts, dtype=str) if texts else np.zeros(0, DTYPES[ColumnType.UUID])


def _int_values(items: list[Any], indices: np.ndarray, scale: int | None) -> np.ndarray:
    _checked(items, indices, lambda v: _is_int(v) and _INT64_MIN <= v <= _INT64_MAX,
             "64-bit int for a bigint column")
    return np.array(items, dtype=np.int64)


def _float_values(items: list[Any], indices: np.ndarray, scale: int | None) -> np.ndarray:
    _checked(items, indices, lambda v: _is_int(v) or isinstance(v, (float, np.floating)),
             "float for a double column")
    return np.array(items, dtype=np.float64)


def _numeric_values(items: list[Any], indices: np.ndarray, scale: int | None) -> np.ndarray:
    places = scale or 0
    unscaled = []
    for i, v in enumerate(items):
        if not (_is_int(v) or isinstance(v, Decimal)):
            raise _refused(items, indices, i, "Decimal or int for a decimal column (a float "
                           "would carry its binary error)")
        try:
            count = Decimal(int(v) if _is_int(v) else v).scaleb(places)
            whole = count == count.to_integral_value()
        except InvalidOperation:  # NaN, infinity
            whole = False
        if not whole or not _INT64_MIN <= int(count) <= _INT64_MAX:
            raise WrongValues(f"returned {v} at row {int(indices[i])}, which a decimal of "
                              f"{places} places carried in 64 bits cannot hold exactly")
        unscaled.append(int(count))
    return np.array(unscaled, dtype=np.int64)


def _bool_values(items: list[Any], indices: np.ndarray, scale: int | None) -> np.ndarray:
    _checked(items, indices, lambda v: isinstance(v, (bool, np.bool_)),
             "bool for a boolean column")
    return np.array(items, dtype=bool)


def _date_values(items: list[Any], indices: np.ndarray, scale: int | None) -> np.ndarray:
    _checked(items, indices, lambda v: isinstance(v, date) and not isinstance(v, datetime),
             "datetime.date for a date column")
    return np.array(items, dtype="datetime64[D]")


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _timestamp_values(items: list[Any], indices: np.ndarray, scale: int | None) -> np.ndarray:
    _checked(items, indices, lambda v: isinstance(v, datetime),
             "datetime.datetime for a timestamp column")
    moments = np.array([_naive_utc(v) for v in items], dtype="datetime64[us]")
    # Whole seconds travel as seconds, like the built-in timestamps.
    seconds = moments.astype("datetime64[s]")
    return seconds if (seconds == moments).all() else moments


_FROM_PYTHON: dict[ColumnType, Callable[[list[Any], np.ndarray, int | None], np.ndarray]] = {
    ColumnType.TEXT: _text_values,
    ColumnType.UUID: _uuid_values,
    ColumnType.BIGINT: _int_values,
    ColumnType.DOUBLE: _float_values,
    ColumnType.NUMERIC: _numeric_values,
    ColumnType.BOOLEAN: _bool_values,
    ColumnType.DATE: _date_values,
    ColumnType.TIMESTAMP: _timestamp_values,
}

# What a NULL row holds (any value of the kind: targets write NULL there).
_FILLER: dict[ColumnType, Any] = {
    ColumnType.TEXT: "",
    ColumnType.UUID: uuid.UUID(int=0),
    ColumnType.BIGINT: 0,
    ColumnType.DOUBLE: 0.0,
    ColumnType.NUMERIC: 0,
    ColumnType.BOOLEAN: False,
    ColumnType.DATE: date(1970, 1, 1),
    ColumnType.TIMESTAMP: datetime(1970, 1, 1),
}

"""Columns to the evaluator's values and back: the one place of the evaluator that knows
both (text goes through ``core.values``, as every other conversion of a column).

A chunk's columns hold int64, float64, int64 counts of ``10**-scale``
(NUMERIC), datetime64 (dates in days, timestamps in seconds), bools and
unicode arrays. The evaluator works on plain numbers: dates as int64 days
since 1970, timestamps as int64 seconds since 1970 (whole seconds, as every
timestamp of datastorm), intervals as months and seconds. When the source's
value representations change, this module is what follows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnType
from datastorm_core.core.values import text_array
from datastorm_core.genfile.expressions import ExprType

__all__ = ["COLUMN_TYPES", "DAYS", "SECONDS", "Interval", "Value", "from_column", "literal",
           "text_of", "to_column"]

COLUMN_TYPES = {"int": ColumnType.BIGINT, "float": ColumnType.DOUBLE,
                "decimal": ColumnType.NUMERIC, "bool": ColumnType.BOOLEAN,
                "date": ColumnType.DATE, "timestamp": ColumnType.TIMESTAMP,
                "text": ColumnType.TEXT}
_EPOCH = datetime(1970, 1, 1)
# The calendar every target can write: years 1 to 9999 (Python's, PostgreSQL's within).
DAYS = ((date(1, 1, 1) - _EPOCH.date()).days, (date(9999, 12, 31) - _EPOCH.date()).days)
SECONDS = (DAYS[0] * 86_400, DAYS[1] * 86_400 + 86_399)


@dataclass(frozen=True)
class Interval:
    """An interval's parts: calendar months, then seconds (as PostgreSQL adds them)."""

    months: np.ndarray
    seconds: np.ndarray


@dataclass(frozen=True)
class Value:
    """Values of one node over a chunk; ``nulls`` marks NULL rows (None: none).

    ``data`` is an array, or a 0-d one for a constant (numpy broadcasts it), or an
    ``Interval``; the data of NULL rows is filler.
    """

    data: Any
    nulls: np.ndarray | None = None


def from_column(column: Column, kind: ExprType) -> Value:
    """A chunk's column as the evaluator's value of type ``kind``."""
    values = column.values
    if kind.kind == "date":
        data = values.astype("datetime64[D]").view(np.int64)
    elif kind.kind == "timestamp":
        data = values.astype("datetime64[s]").view(np.int64)
    elif kind.kind == "float":
        data = values.astype(np.float64, copy=False)
    elif kind.kind in ("int", "decimal"):
        data = values.astype(np.int64, copy=False)
    elif kind.kind == "bool":
        data = values.astype(bool, copy=False)
    else:
        data = values if values.dtype.kind == "U" else values.astype(str)
    return Value(data, column.nulls)


def literal(value: object, kind: ExprType) -> Value:
    """A constant of the tree as a 0-d value."""
    if kind.kind == "decimal":
        assert isinstance(value, (int, Decimal))
        return Value(np.int64(int(Decimal(value).scaleb(kind.scale))))
    if kind.kind == "timestamp":
        assert isinstance(value, datetime)
        return Value(np.int64((value - _EPOCH) // timedelta(seconds=1)))
    if kind.kind == "date":
        assert isinstance(value, date)
        return Value(np.int64((value - _EPOCH.date()).days))
    dtype = {"int": np.int64, "float": np.float64, "bool": np.bool_, "text": np.str_}[kind.kind]
    return Value(np.array(value, dtype=dtype))


def to_column(value: Value, kind: ExprType, rows: int) -> Column:
    """The evaluator's value as a chunk's column of ``rows`` rows."""
    data = np.broadcast_to(value.data, (rows,))
    if kind.kind == "date":
        values = data.astype(np.int64).astype("datetime64[D]")
    elif kind.kind == "timestamp":
        values = data.astype(np.int64).astype("datetime64[s]")
    elif np.ndim(value.data) == 0:
        values = np.array(data)  # a copy: a broadcast constant is read-only
    else:
        values = data
    nulls = None if value.nulls is None else np.broadcast_to(value.nulls, (rows,)).copy()
    if nulls is not None and not nulls.any():
        nulls = None
    return Column(values, nulls)


def text_of(data: np.ndarray, kind: ExprType) -> np.ndarray:
    """Values as text, written as a template writes them (ISO dates, decimals with their
    places, true/false)."""
    if kind.kind == "text":
        return data
    array = np.atleast_1d(data)
    if kind.kind == "date":
        array = array.astype(np.int64).astype("datetime64[D]")
    elif kind.kind == "timestamp":
        array = array.astype(np.int64).astype("datetime64[s]")
    text = text_array(array, COLUMN_TYPES[kind.kind], kind.scale)
    return text if np.ndim(data) else text[0]

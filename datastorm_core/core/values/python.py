"""Each column kind as plain Python values, and back.

To Python (``PYTHON``), for sqlite3 parameters: sqlite has no decimal, date
or boolean storage, so NUMERIC goes in as its exact decimal string (a
column of NUMERIC affinity stores it as a number), dates and timestamps as
ISO 8601 text with a space (the form of sqlite's own ``datetime()``, so
comparisons with it work), booleans as 0/1.

From Python (``FROM_PYTHON``): a value a database returned (an int, a
``Decimal``, a ``date``...) as the one-row array a generator would have
made, for the change stream, which feeds live values back to generators.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType
from datastorm_core.core.values.kinds import DTYPES, ColumnConversion, kind_encoder
from datastorm_core.core.values.text import column_text

__all__ = ["FROM_PYTHON", "PYTHON", "python_column", "python_values"]


def _int(column: Column, col: ColumnSchema) -> list[int]:
    return np.asarray(column.values, dtype=np.int64).tolist()


def _float(column: Column, col: ColumnSchema) -> list[float]:
    return np.asarray(column.values, dtype=np.float64).tolist()


def _zero_one(column: Column, col: ColumnSchema) -> list[int]:
    return np.asarray(column.values, dtype=bool).astype(np.int64).tolist()


def _spaced_text(column: Column, col: ColumnSchema) -> list[str]:
    return column_text(column, col, timestamp_sep=" ")


PYTHON: dict[ColumnType, ColumnConversion] = {
    ColumnType.BIGINT: _int,
    ColumnType.DOUBLE: _float,
    ColumnType.NUMERIC: _spaced_text,
    ColumnType.BOOLEAN: _zero_one,
    ColumnType.DATE: _spaced_text,
    ColumnType.TIMESTAMP: _spaced_text,
    ColumnType.UUID: _spaced_text,
    ColumnType.TEXT: _spaced_text,
}

#: ``(column, col) -> list``: values for sqlite3 parameters, None for NULL.
python_values = kind_encoder(PYTHON, None)


# -- back: one value into the array a generator makes ------------------------------------

#: ``(value, col) -> array``: one non-NULL value as a one-row array of the kind's dtype.
FromPython = Callable[[Any, ColumnSchema], np.ndarray]


def _unscaled(value: Any, col: ColumnSchema) -> np.ndarray:
    # Through str: a float from a driver would carry its binary error into the count.
    return np.array([int(Decimal(str(value)).scaleb(col.scale or 0))], dtype=np.int64)


FROM_PYTHON: dict[ColumnType, FromPython] = {
    ColumnType.BIGINT: lambda value, col: np.array([int(value)], dtype=np.int64),
    ColumnType.DOUBLE: lambda value, col: np.array([float(value)], dtype=np.float64),
    ColumnType.NUMERIC: _unscaled,
    ColumnType.BOOLEAN: lambda value, col: np.array([bool(value)]),
    ColumnType.DATE: lambda value, col: np.array([np.datetime64(value, "D")]),
    ColumnType.TIMESTAMP: lambda value, col: np.array([np.datetime64(value, "s")]),
    ColumnType.UUID: lambda value, col: np.array([str(value)]),
    ColumnType.TEXT: lambda value, col: np.array([str(value)]),
}


def python_column(value: object, col: ColumnSchema) -> Column:
    """A database value as a one-row ``Column``; None is a NULL row (with the kind's filler)."""
    if value is None:
        return Column(np.zeros(1, DTYPES[col.type]), np.ones(1, dtype=bool))
    return Column(FROM_PYTHON[col.type](value, col))

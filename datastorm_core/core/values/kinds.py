"""What every column kind (``ColumnType``) is made of in a chunk.

A ``Column`` carries one numpy array per column whatever the kind, so the
kind decides how to read it: NUMERIC(p, s) travels as int64 holding
``value * 10**s`` (exact, and the same width as BIGINT), a date as
``datetime64[D]``, UUID and TEXT as unicode. The conversions of each kind
(``text``, ``json``, ``python``) and the targets' encoders are maps keyed by
``ColumnType``; ``tests/core/test_values.py`` and ``tests/target/test_encode.py``
fail when one of them lacks a kind, so a new kind cannot be forgotten by one
format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType

__all__ = [
    "DTYPES",
    "FREE_TEXT",
    "INT64_DIGITS",
    "NUMBERS",
    "ColumnConversion",
    "apply_nulls",
    "kind_encoder",
    "null_rows",
    "numeric_decimal",
]

#: The array a generator makes for each kind (its NULL filler is ``np.zeros(n, dtype)``).
DTYPES: dict[ColumnType, np.dtype] = {
    ColumnType.BIGINT: np.dtype(np.int64),
    ColumnType.DOUBLE: np.dtype(np.float64),
    ColumnType.NUMERIC: np.dtype(np.int64),  # unscaled: value * 10**scale
    ColumnType.BOOLEAN: np.dtype(bool),
    ColumnType.DATE: np.dtype("datetime64[D]"),
    ColumnType.TIMESTAMP: np.dtype("datetime64[s]"),  # or a finer unit, which text keeps
    ColumnType.UUID: np.dtype("U1"),
    ColumnType.TEXT: np.dtype("U1"),
}

#: Kinds whose values may hold any character: only their text needs escaping or
#: quoting; the text of the others is digits, signs, dashes and known words.
FREE_TEXT = frozenset({ColumnType.TEXT, ColumnType.UUID})

#: Kinds that are numbers (a table prints them right-aligned).
NUMBERS = frozenset({ColumnType.BIGINT, ColumnType.DOUBLE, ColumnType.NUMERIC})

# An unscaled value is an int64, which has at most 19 digits: NUMERIC(19, s)
# holds every value a chunk can carry when the Genfile names no precision.
INT64_DIGITS = 19

#: One conversion of a whole column, NULL rows left as filler: an encoder's map holds
#: one per kind (``{ColumnType: ColumnConversion}``) and puts its NULL token in after.
ColumnConversion = Callable[[Column, ColumnSchema], list[Any]]


def numeric_decimal(unscaled: int, scale: int) -> Decimal:
    """One unscaled NUMERIC value as an exact ``Decimal`` (for previews and tests)."""
    return Decimal(int(unscaled)).scaleb(-scale)


def null_rows(column: Column) -> list[int]:
    """Indices of the NULL rows of ``column`` (empty when it has none)."""
    if column.nulls is None:
        return []
    return np.flatnonzero(column.nulls).tolist()


def apply_nulls(fields: list[Any], column: Column, token: Any) -> list[Any]:
    """Replace the fields of NULL rows by ``token`` (in place; returns ``fields``).

    A conversion formats every row, filler included, because one vectorised
    pass over all rows is cheaper than picking the non-NULL ones first.
    """
    for i in null_rows(column):
        fields[i] = token
    return fields


def kind_encoder(by_kind: Mapping[ColumnType, ColumnConversion], null: Any) -> ColumnConversion:
    """A format's encoder of whole columns: the conversion ``by_kind`` holds for the
    column's kind, then ``null`` (the format's NULL token) in the NULL rows.

    Every format of values (COPY text, CSV, JSON, Python) is one such pair, so
    a format is written as its map and its token, and nothing else.
    """

    def encode(column: Column, col: ColumnSchema) -> list[Any]:
        return apply_nulls(by_kind[col.type](column, col), column, null)

    return encode

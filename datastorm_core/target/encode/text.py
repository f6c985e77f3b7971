"""Canonical text of a column: the form CSV, COPY, sqlite and previews build on.

One function per concern: ``column_text`` formats values (ignoring NULLs,
whose values are filler), ``apply_nulls`` puts a NULL token in their place.
Numbers round-trip exactly: integers in full, doubles as Python's shortest
repr, NUMERIC through ``numeric.format_numeric``.
"""

from __future__ import annotations

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType
from datastorm_core.target.encode.numeric import format_numeric

__all__ = ["apply_nulls", "column_text", "null_rows", "timestamps_text"]


def null_rows(column: Column) -> list[int]:
    """Indices of the NULL rows of ``column`` (empty when it has none)."""
    if column.nulls is None:
        return []
    return np.flatnonzero(column.nulls).tolist()


def apply_nulls(fields: list, column: Column, token: object) -> list:
    """Replace the fields of NULL rows by ``token`` (in place; returns ``fields``)."""
    for i in null_rows(column):
        fields[i] = token
    return fields


def timestamps_text(values: np.ndarray, sep: str = "T") -> np.ndarray:
    """ISO 8601 timestamps, whole seconds unless the array carries a finer unit."""
    stamps = np.asarray(values)
    if stamps.dtype.kind != "M":
        stamps = stamps.astype("datetime64[s]")
    unit = np.datetime_data(stamps.dtype)[0]
    if unit in ("Y", "M", "W", "D", "h", "m"):
        stamps = stamps.astype("datetime64[s]")
    text = np.datetime_as_string(stamps)
    return text if sep == "T" else np.char.replace(text, "T", sep)


def column_text(column: Column, col: ColumnSchema, *, timestamp_sep: str = "T") -> list[str]:
    """Every value of ``column`` as text; the text of NULL rows is meaningless.

    BOOLEAN is ``true``/``false``, DATE ``YYYY-MM-DD``, TIMESTAMP
    ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` (``timestamp_sep`` replaces the ``T``).
    """
    values = column.values
    kind = col.type
    if kind is ColumnType.BIGINT:
        return np.asarray(values, dtype=np.int64).astype(str).tolist()
    if kind is ColumnType.DOUBLE:
        return list(map(float.__repr__, np.asarray(values, dtype=np.float64).tolist()))
    if kind is ColumnType.NUMERIC:
        return format_numeric(values, col.scale or 0).tolist()
    if kind is ColumnType.BOOLEAN:
        return np.where(np.asarray(values, dtype=bool), "true", "false").tolist()
    if kind is ColumnType.DATE:
        return np.datetime_as_string(np.asarray(values).astype("datetime64[D]")).tolist()
    if kind is ColumnType.TIMESTAMP:
        return timestamps_text(values, timestamp_sep).tolist()
    if values.dtype.kind == "U":
        return values.tolist()
    return [v if isinstance(v, str) else str(v) for v in values.tolist()]

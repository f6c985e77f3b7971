"""A column's values as text, for fields derived from other fields (template, hash).

The source's own copy of the canonical text the targets write (the source
never imports a target): integers in full, doubles as Python's shortest
repr, NUMERIC with exactly its scale, booleans ``true``/``false``, dates
and timestamps in ISO 8601 (``2024-01-31``, ``2024-01-31T12:00:00``).
A test checks that it agrees with ``target.encode.text``.
"""

from __future__ import annotations

import numpy as np

from datastorm_core.core.schema import ColumnType
from datastorm_core.source.services.text import strings_from_codepoints

__all__ = ["format_numeric", "values_text"]


_POWERS_OF_TEN = [np.uint64(10**k) for k in range(1, 20)]
_ZERO, _DOT, _MINUS = ord("0"), ord("."), ord("-")


def format_numeric(unscaled: np.ndarray, scale: int = 0) -> np.ndarray:
    """Decimal strings of ``unscaled / 10**scale`` with exactly ``scale`` places.

    ``scale = 0`` gives integers. Built digit by digit in a grid of code
    points (see ``services.text``): two to three times faster than numpy's
    ``astype(str)`` and string padding, and exact over the whole int64 range.
    """
    values = np.asarray(unscaled, dtype=np.int64)
    scale = max(scale, 0)
    negative = values < 0
    magnitude = np.abs(values).view(np.uint64)  # int64's minimum wraps to 2**63, as it should
    digits = np.ones(len(values), dtype=np.int64)
    top = magnitude.max() if len(values) else np.uint64(0)
    for power in _POWERS_OF_TEN:
        if power > top:
            break
        digits += magnitude >= power
    digits = np.maximum(digits, scale + 1)  # 5 with scale 2 is 0.05
    dot = 1 if scale else 0
    width = (int(digits.max()) if len(values) else scale + 1) + dot + 1  # + sign
    # Right-aligned: column 0 is for a sign, then every digit, leading zeros too.
    grid = np.zeros((len(values), width), dtype=np.uint32)
    rest, ten = magnitude.copy(), np.uint64(10)
    for column in range(width - 1, 0, -1):
        if dot and column == width - 1 - scale:
            grid[:, column] = _DOT
            continue
        rest, digit = np.divmod(rest, ten)
        grid[:, column] = digit.astype(np.uint32) + np.uint32(_ZERO)
    start = width - (digits + dot + negative)  # where each value's text begins
    signed = np.flatnonzero(negative)
    grid[signed, start[signed]] = _MINUS
    # Left-align each row (numpy drops trailing NULs, not leading ones).
    index = start[:, None] + np.arange(width)[None, :]
    aligned = np.take_along_axis(grid, np.minimum(index, width - 1), axis=1)
    aligned[index >= width] = 0
    return strings_from_codepoints(aligned)


def values_text(values: np.ndarray, column_type: ColumnType, scale: int | None = None
                ) -> np.ndarray:
    """Every value as text (a unicode array); the text of NULL rows is meaningless."""
    if column_type is ColumnType.BIGINT:
        return format_numeric(values)
    if column_type is ColumnType.NUMERIC:
        return format_numeric(values, scale or 0)
    if column_type is ColumnType.DOUBLE:
        floats = np.asarray(values, dtype=np.float64).tolist()
        return np.array(list(map(float.__repr__, floats)), dtype=str)
    if column_type is ColumnType.BOOLEAN:
        return np.where(np.asarray(values, dtype=bool), "true", "false")
    if column_type is ColumnType.DATE:
        return np.datetime_as_string(np.asarray(values).astype("datetime64[D]"))
    if column_type is ColumnType.TIMESTAMP:
        stamps = np.asarray(values)
        if stamps.dtype.kind != "M" or np.datetime_data(stamps.dtype)[0] in ("Y", "M", "W", "D",
                                                                              "h", "m"):
            stamps = stamps.astype("datetime64[s]")
        return np.datetime_as_string(stamps)
    if values.dtype.kind == "U":
        return values
    return np.array([v if isinstance(v, str) else str(v) for v in values.tolist()], dtype=str)

"""Numbers, dates and timestamps as grids of ASCII bytes, one row per value, NUL-padded.

The canonical text of ``core.values.text`` (integers in full, NUMERIC with
exactly its scale, ISO 8601 dates and ``T`` timestamps), written digit by
digit with integer arithmetic on whole columns, for the encoders that drop
NUL padding in one pass (``json_bytes``): where a value sits in its row
does not matter, so nothing is aligned and no unicode array is made, which
costs numpy more than the digits themselves (``datetime_as_string`` alone
is about 0.3 us a value). A timestamp or date these grids do not cover
(NaT, a year outside 1..9999, a unit finer than seconds) gives None, and
the caller takes numpy's text.
"""

from __future__ import annotations

import numpy as np

__all__ = ["date_grid", "decimal_grid", "timestamp_grid"]

_ZERO, _DOT, _MINUS = 48, 46, 45
_SECONDS_PER_DAY = 86_400
_NAT = np.iinfo(np.int64).min
# Units a TIMESTAMP's text shows in whole seconds (``timestamps_text``).
_WHOLE_SECONDS = ("Y", "M", "W", "D", "h", "m", "s")


def decimal_grid(unscaled: np.ndarray, scale: int = 0) -> np.ndarray:
    """``unscaled / 10**scale`` with exactly ``scale`` places (none when ``scale <= 0``)."""
    values = np.asarray(unscaled, dtype=np.int64)
    n = len(values)
    scale = max(scale, 0)
    negative = values < 0
    magnitude = np.abs(values).view(np.uint64)  # int64's minimum wraps to 2**63, as it should
    top = int(magnitude.max()) if n else 0
    digits = np.ones(n, dtype=np.int64)
    power = 10
    while power <= top:
        digits += magnitude >= np.uint64(power)
        power *= 10
    digits = np.maximum(digits, scale + 1)  # 5 with scale 2 is 0.05
    most = max(len(str(top)), scale + 1)
    dot = 1 if scale else 0
    width = 1 + most + dot  # a sign, the digits, the point
    grid = np.zeros((n, width), dtype=np.uint8)
    rest, ten = magnitude.copy(), np.uint64(10)
    column = width - 1
    for place in range(most):
        if dot and place == scale:
            grid[:, column] = _DOT
            column -= 1
        rest, digit = np.divmod(rest, ten)
        grid[:, column] = np.where(place < digits, digit.astype(np.uint8) + _ZERO, 0)
        column -= 1
    signed = np.flatnonzero(negative)
    grid[signed, width - 1 - digits[signed] - dot] = _MINUS
    return grid


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of days since 1970-01-01 (proleptic Gregorian, H. Hinnant's
    ``civil_from_days``)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def _put(grid: np.ndarray, column: int, number: np.ndarray, width: int) -> None:
    """``number`` zero-padded to ``width`` digits at ``grid[:, column:column + width]``."""
    rest = number
    for place in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        grid[:, column + place] = digit.astype(np.uint8) + _ZERO


def _date_into(grid: np.ndarray, days: np.ndarray) -> bool:
    year, month, day = _civil(days)
    if len(year) and (int(year.min()) < 1 or int(year.max()) > 9999):
        return False
    _put(grid, 0, year, 4)
    grid[:, 4] = _MINUS
    _put(grid, 5, month, 2)
    grid[:, 7] = _MINUS
    _put(grid, 8, day, 2)
    return True


def date_grid(values: np.ndarray) -> np.ndarray | None:
    """``YYYY-MM-DD`` of each value as a date, or None when a value has no such text."""
    days = np.asarray(values)
    if days.dtype.kind != "M":
        return None
    days = days.astype("datetime64[D]").view(np.int64)
    if bool((days == _NAT).any()):
        return None
    grid = np.empty((len(days), 10), dtype=np.uint8)
    return grid if _date_into(grid, days) else None


def timestamp_grid(values: np.ndarray) -> np.ndarray | None:
    """``YYYY-MM-DDTHH:MM:SS`` of each value, or None when a value has no such text."""
    stamps = np.asarray(values)
    if stamps.dtype.kind != "M" or np.datetime_data(stamps.dtype)[0] not in _WHOLE_SECONDS:
        return None
    seconds = stamps.astype("datetime64[s]").view(np.int64)
    if bool((seconds == _NAT).any()):
        return None
    days, in_day = np.divmod(seconds, _SECONDS_PER_DAY)
    grid = np.empty((len(seconds), 19), dtype=np.uint8)
    if not _date_into(grid, days):
        return None
    hours, rest = np.divmod(in_day, 3600)
    minutes, secs = np.divmod(rest, 60)
    grid[:, 10] = ord("T")
    _put(grid, 11, hours, 2)
    grid[:, 13] = ord(":")
    _put(grid, 14, minutes, 2)
    grid[:, 16] = ord(":")
    _put(grid, 17, secs, 2)
    return grid

"""The calendar on whole arrays: months added with the day clipped, parts of a date, ages.

Dates are int64 days since 1970-01-01 and timestamps int64 seconds since
then (``expr_values``); numpy's datetime64 does the calendar. A result
outside years 1 to 9999 is no value (the evaluator makes it NULL): no
target writes it.
"""

from __future__ import annotations

import numpy as np

from datastorm_core.source.services.expr_values import DAYS, SECONDS

__all__ = ["MAX_MONTHS", "MAX_SECONDS", "add_interval", "age", "clip_calendar", "date_parts",
           "split"]

SECONDS_A_DAY = 86_400
# Intervals longer than the calendar (about 10,000 years) go nowhere a target can follow.
MAX_MONTHS = 12 * 10_000
MAX_SECONDS = 10_000 * 366 * SECONDS_A_DAY

#: Values and the rows where they are not values (None: every row is).
Result = tuple[np.ndarray, np.ndarray | None]


def split(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps as (days, seconds into the day)."""
    return np.divmod(seconds, SECONDS_A_DAY)


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Dates plus whole months; a day past the new month's end is its last day
    (January 31 plus one month is February 28 or 29)."""
    dates = np.asarray(days).astype("datetime64[D]")
    month = dates.astype("datetime64[M]")
    day_of_month = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.asarray(months).astype("timedelta64[M]")
    first = target.astype("datetime64[D]")
    length = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    return (first + np.minimum(day_of_month, length - 1)).astype(np.int64)


def add_interval(moment: np.ndarray, months: np.ndarray, seconds: np.ndarray, *,
                 timestamp: bool) -> Result:
    """A date or timestamp plus an interval: its months first, then its seconds.

    A date plus an interval of whole days is a date; plus hours it is a
    timestamp, which the checker asked for by converting the date first.
    """
    # Compared both ways, not through abs(): the smallest int64 has no opposite.
    far = (months > MAX_MONTHS) | (months < -MAX_MONTHS) | (seconds > MAX_SECONDS) | \
        (seconds < -MAX_SECONDS) | _outside(moment, timestamp)
    months = np.where(far, 0, months)
    seconds = np.where(far, 0, seconds)
    moment = np.where(far, 0, moment)
    if timestamp:
        days, clock = split(moment)
        shifted = _add_months(days, months) * SECONDS_A_DAY + clock + seconds
    else:
        shifted = _add_months(moment, months) + seconds // SECONDS_A_DAY
    return clip_calendar(shifted, timestamp, far)


def _outside(values: np.ndarray, timestamp: bool) -> np.ndarray:
    low, high = SECONDS if timestamp else DAYS
    return (values < low) | (values > high)


def clip_calendar(values: np.ndarray, timestamp: bool, bad: np.ndarray | None = None) -> Result:
    """Moments, with those outside years 1 to 9999 marked as no value."""
    outside = _outside(values, timestamp)
    if bad is not None:
        outside = outside | bad
    return values, (outside if np.any(outside) else None)


def date_parts(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month 1-12, day 1-31) of dates."""
    dates = np.asarray(days).astype("datetime64[D]")
    month = dates.astype("datetime64[M]")
    years = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    months = month.astype(np.int64) % 12 + 1
    day = (dates - month.astype("datetime64[D]")).astype(np.int64) + 1
    return years, months, day


def age(birth_seconds: np.ndarray, at_seconds: np.ndarray) -> np.ndarray:
    """Whole years from birth to at (timestamps in seconds), as people count them: a
    birthday not reached yet this year does not count. Negative when at is earlier."""
    forward = at_seconds >= birth_seconds
    early = np.where(forward, birth_seconds, at_seconds)
    late = np.where(forward, at_seconds, birth_seconds)
    (early_days, early_clock), (late_days, late_clock) = split(early), split(late)
    early_y, early_m, early_d = date_parts(early_days)
    late_y, late_m, late_d = date_parts(late_days)
    months = (late_y - early_y) * 12 + (late_m - early_m)
    short = (late_d < early_d) | ((late_d == early_d) & (late_clock < early_clock))
    years = (months - short) // 12
    return np.where(forward, years, -years)

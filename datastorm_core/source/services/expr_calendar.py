"""The calendar on whole arrays: months added with the day clipped, parts of a date, ages.

Dates are int64 days since 1970-01-01 and timestamps int64 seconds since
then (``expr_values``); numpy's datetime64 does the calendar. A result
outside years 1 to 9999 is no value (the evaluator makes it NULL): no
target writes it.
"""

from __future__ import annotations

import functools

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
    (January 31 plus one month is February 28 or 29).

    Dates and results of the years 1900 to 2100 are looked up in tables of
    that window (a few hundred kB, made once); others are computed in
    integer arithmetic (the civil-from-days algorithm of H. Hinnant's date
    library), in int32, whose division is the fastest: ``add_interval`` hands
    in dates of the years 1 to 9999 and at most ``MAX_MONTHS`` months (it has
    replaced anything else by 0), so every step stays far inside 32 bits.
    Both are many times faster than numpy's datetime64 conversions; the test
    checks them against those.
    """
    days, months = np.asarray(days), np.asarray(months)
    first, end, month_of, day_of, starts = _window()
    if days.size and days.min() >= first and days.max() < end:
        at = days - first
        target = month_of[at] + months
        if target.min() >= 0 and target.max() < len(starts) - 1:
            length = starts[target + 1] - starts[target]
            return (starts[target] + np.minimum(day_of[at], length) - 1).astype(np.int64)
    year, month, day = _civil(days.astype(np.int32))
    total = year * 12 + (month - 1) + months.astype(np.int32)
    year, month0 = np.divmod(total, 12)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    length = _MONTH_DAYS[month0] + (leap & (month0 == 1))
    return _days(year, month0 + 1, np.minimum(day, length)).astype(np.int64)


_FIRST_YEAR, _END_YEAR = 1900, 2101  # the window of the tables: years 1900 to 2100


@functools.cache
def _window() -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    """The tables of the window: its first day and the day after it, each day's month
    (counted from January 1900) and day of the month, and the first day of each month
    and of the month after the window."""
    first, end = (int(_days(np.array([y], np.int32), np.array([1], np.int32),
                            np.array([1], np.int32))[0]) for y in (_FIRST_YEAR, _END_YEAR))
    year, month, day = _civil(np.arange(first, end, dtype=np.int32))
    month_of = (year - _FIRST_YEAR) * 12 + month - 1
    every = np.arange((_END_YEAR - _FIRST_YEAR) * 12 + 1, dtype=np.int32)
    starts = _days(every // 12 + _FIRST_YEAR, every % 12 + 1, np.ones_like(every))
    return first, end, month_of.astype(np.int32), day.astype(np.int32), starts


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
_ERA_DAYS = 146_097  # 400 years
_TO_MARCH_0000 = 719_468  # days from 0000-03-01 to 1970-01-01


def _civil(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month 1-12, day 1-31) of days since 1970-01-01, in years counted from
    March (so a leap day ends its year)."""
    shifted = days + _TO_MARCH_0000
    era = shifted // _ERA_DAYS
    day_of_era = shifted - era * _ERA_DAYS
    year_of_era = (day_of_era - day_of_era // 1460 + day_of_era // 36_524
                   - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    march_month = (5 * day_of_year + 2) // 153  # 0 = March .. 11 = February
    day = day_of_year - (153 * march_month + 2) // 5 + 1
    month = np.where(march_month < 10, march_month + 3, march_month - 9)
    return year_of_era + era * 400 + (month <= 2), month, day


def _days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of (year, month 1-12, day): ``_civil`` undone."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * _ERA_DAYS + day_of_era - _TO_MARCH_0000


def add_interval(moment: np.ndarray, months: np.ndarray, seconds: np.ndarray, *,
                 timestamp: bool) -> Result:
    """A date or timestamp plus an interval: its months first, then its seconds.

    A date plus an interval of whole days is a date; plus hours it is a
    timestamp, which the checker asked for by converting the date first.
    """
    # Compared both ways, not through abs(): the smallest int64 has no opposite.
    far = (months > MAX_MONTHS) | (months < -MAX_MONTHS) | (seconds > MAX_SECONDS) | \
        (seconds < -MAX_SECONDS) | _outside(moment, timestamp)
    if far.any():  # computed on 0 instead, and marked as no value below
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

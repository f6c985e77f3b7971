"""Dates in a Genfile: ISO 8601, or relative to the dataset's anchor.

``"now"``, ``"today"``, ``"-5y"``, ``"+30d"``, ``"-6m"``, ``"-12h"``. The
anchor is ``[dataset] now`` (a fixed date by default) so that the same
Genfile gives the same rows on any day.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

__all__ = ["TimeExprError", "parse_anchor", "resolve_time"]

_RELATIVE = re.compile(r"^([+-])\s*(\d+)\s*([ymwdhs]|min)$")
# Seconds with more than 6 decimals: PostgreSQL (and datetime) keep microseconds.
_FINER_THAN_MICROSECONDS = re.compile(r":\d{2}\.\d{7,}")


class TimeExprError(ValueError):
    """A date expression that cannot be read."""


def resolve_time(value: object, now: datetime) -> datetime:
    """Turn a Genfile date value into a datetime (naive, UTC by convention)."""
    if isinstance(value, datetime):
        return _naive_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise TimeExprError(f"expected a date string, got {value!r}")
    text = value.strip()
    if text == "now":
        return now
    if text == "today":
        return datetime(now.year, now.month, now.day)
    match = _RELATIVE.match(text)
    if match:
        sign = 1 if match.group(1) == "+" else -1
        amount = int(match.group(2)) * sign
        unit = match.group(3)
        if unit == "y":
            return _add_months(now, 12 * amount)
        if unit == "m":
            return _add_months(now, amount)
        delta = {
            "w": timedelta(weeks=1),
            "d": timedelta(days=1),
            "h": timedelta(hours=1),
            "min": timedelta(minutes=1),
            "s": timedelta(seconds=1),
        }[unit]
        try:
            return now + delta * amount
        except OverflowError:
            raise TimeExprError(f"{value!r} moves {now:%Y-%m-%d} out of the calendar "
                                "(years 1 to 9999)") from None
    if _FINER_THAN_MICROSECONDS.search(text):
        raise TimeExprError(f"{value!r} is finer than a microsecond, which PostgreSQL keeps; "
                            "write at most 6 decimals of a second")
    try:
        return _naive_utc(datetime.fromisoformat(text))
    except ValueError:
        raise TimeExprError(
            f"cannot read date {value!r}: use ISO 8601 (2024-01-31, 2024-01-31T12:00:00), "
            '"now", "today", or a relative offset like "-5y", "-6m", "+30d", "-12h"'
        ) from None


def _naive_utc(value: datetime) -> datetime:
    """A datetime as datastorm keeps them: naive, meaning UTC (an offset is applied)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def parse_anchor(value: object) -> datetime:
    """The ``[dataset] now`` option: an ISO date, or "today" for the real date."""
    if value == "today":
        today = date.today()
        return datetime(today.year, today.month, today.day)
    return resolve_time(value, datetime(2026, 1, 1))


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    # Clamp the day: one month after January 31st is the end of February.
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise TimeExprError(f"cannot shift {moment} by {months} months")  # pragma: no cover

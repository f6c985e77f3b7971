"""PostgreSQL literals as it prints them, read into Python values (best effort)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

PythonValue = int | float | Decimal | str | date | datetime | time | bool

INTEGER = re.compile(r"\s*[+-]?\d+\s*")
NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
# PostgreSQL's ISO output (DateStyle ISO, the default): fractions of up to 6 digits,
# offsets of +HH, +HH:MM or +HH:MM:SS. Parsed by hand: datetime.fromisoformat only
# takes all of these from Python 3.11 on.
DATETIME = re.compile(
    r"\s*(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<fraction>\d{1,6}))?)?"
    r"(?P<offset>[+-]\d{2}(?::?\d{2}){0,2})?\s*"
)
_TIME = re.compile(r"\s*(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*")
_TRUE = frozenset({"t", "true", "y", "yes", "on", "1"})
_FALSE = frozenset({"f", "false", "n", "no", "off", "0"})


def bare(text: str) -> PythonValue:
    if INTEGER.fullmatch(text):
        return int(text)
    if NUMBER.fullmatch(text):
        return Decimal(text.strip())
    return text


def _integer(text: str) -> int:
    if not INTEGER.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _decimal(text: str) -> Decimal:
    value = Decimal(text.strip())
    if value.is_nan():  # NaN compares with nothing: keep it as text
        raise ValueError(text)
    return value


def _float(text: str) -> float:
    value = float(text)
    if value != value:
        raise ValueError(text)
    return value


def _date(text: str) -> date:
    match = DATETIME.fullmatch(text)
    if match is None or match["time"] or match["offset"]:
        raise ValueError(text)
    return date.fromisoformat(match["date"])


def _clock(match: re.Match[str]) -> tuple[int, int, int, int]:
    hour, minute, *second = (match["time"] or "00:00").split(":")
    micro = int((match["fraction"] or "").ljust(6, "0"))
    return int(hour), int(minute), int(second[0]) if second else 0, micro


def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    parts = [int(digits[i:i + 2]) for i in range(0, len(digits), 2)] + [0, 0]
    return timezone(sign * timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2]))


def _timestamp(text: str) -> datetime:
    match = DATETIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    # A timestamp without time zone ignores an offset, as PostgreSQL does.
    return datetime.combine(date.fromisoformat(match["date"]), time(*_clock(match)))


def _timestamptz(text: str) -> datetime:
    match = DATETIME.fullmatch(text)
    if match is None or not match["offset"]:
        raise ValueError(text)
    clock = time(*_clock(match), tzinfo=_offset(match["offset"]))
    return datetime.combine(date.fromisoformat(match["date"]), clock)


def _time(text: str) -> time:
    match = _TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    hour, minute, second, fraction = match.groups()
    return time(int(hour), int(minute), int(second or 0), int((fraction or "").ljust(6, "0")))


def _bool(text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(text)


CONVERTERS: dict[str, Callable[[str], PythonValue]] = {
    "int2": _integer,
    "int4": _integer,
    "int8": _integer,
    "numeric": _decimal,
    "float4": _float,
    "float8": _float,
    "date": _date,
    "timestamp": _timestamp,
    "timestamptz": _timestamptz,
    "time": _time,
    "bool": _bool,
}

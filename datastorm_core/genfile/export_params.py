"""The types of export parameters: a value from TOML, the command line (text) or JSON
made into the Python value psycopg binds, or refused with a message naming the parameter."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["PARAM_TYPES", "SQL_TYPES", "coerce"]

# Declared type -> the PostgreSQL type the bound value is cast to in the query.
SQL_TYPES = {
    "text": "text",
    "int": "bigint",
    "bigint": "bigint",
    "numeric": "numeric",
    "float": "double precision",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}
PARAM_TYPES = tuple(SQL_TYPES)
_TRUE, _FALSE = ("true", "t", "yes", "y", "on", "1"), ("false", "f", "no", "n", "off", "0")


def coerce(kind: str, value: Any) -> Any:
    """``value`` as a Python value of ``kind``; raise ValueError saying what was expected.

    Text (the command line's ``--param k=v``) is read by the type; a value already
    of the type (TOML, JSON) is taken as it is. Never evaluated as SQL.
    """
    if value is None:
        raise ValueError("is null")
    if kind == "text":
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("contains a NUL character")
            return value
        raise ValueError(f"must be text, got {value!r}")
    if kind in ("int", "bigint"):
        if isinstance(value, bool):
            raise ValueError(f"must be an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ValueError(f"must be an integer, got {value!r}")
    if kind in ("numeric", "float"):
        if isinstance(value, bool):
            raise ValueError(f"must be a number, got {value!r}")
        try:
            number = Decimal(str(value).strip()) if isinstance(value, (int, float, str)) \
                else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise ValueError(f"must be a number, got {value!r}")
        return number if kind == "numeric" else float(number)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError(f"must be true or false, got {value!r}")
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"must be a date like 2026-01-31, got {value!r}")
    if kind == "timestamp":
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ValueError(f"must be a timestamp like 2026-01-31T12:00:00, got {value!r}")
    raise ValueError(f"has an unknown type {kind!r}")

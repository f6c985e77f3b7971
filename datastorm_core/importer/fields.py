"""A live column's field: its type from the column type and its name, bounded by the schema.

``choose`` picks a Genfile field for one column. What it reads, in order:

1. what the database does itself: generated columns are left to it;
2. keys: foreign keys become references (a composite one a leader and its
   ``same_row_as`` followers), keys drawn from a sequence stay sequences;
3. the values the schema allows: an enum's labels, a CHECK's ``IN`` list or
   bounds, a domain's CHECK, a range partition's span, a type's range;
4. the column's name (``email``, ``first_name``, ``cpf``, ``created_at``,
   ``price``...) for realism, within what 3 allows;
5. ``varchar(n)``/``char(n)`` as ``max_length``, NULLs where the column is
   nullable.

Every choice carries a comment saying where it came from, written beside
the field so the user knows what to edit. ``fallback`` gives the plainest
field that fits a column, for when datastorm's own checks find the first
choice cannot work (a dictionary too small for a unique column).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from datastorm_core.importer.facts import ColumnFacts, FieldChoice, Reference
from datastorm_core.importer.text_roles import text_choice
from datastorm_core.target.postgres.live_tables import LiveColumn, LiveTable, LiveType

__all__ = ["FieldChoice", "Reference", "choose", "fallback"]

NULL_RATE = 0.1  # a nullable column is NULL in this share of rows
_INTEGERS = {"int2": (-(2**15), 2**15 - 1), "int4": (-(2**31), 2**31 - 1),
             "int8": (-(2**63), 2**63 - 1)}
_STRINGS = {"text", "varchar", "bpchar", "name", "citext"}
_FLOATS = {"float4", "float8"}


def choose(table: LiveTable, column: LiveColumn, facts: ColumnFacts,
           reference: Reference | None, person_names: Mapping[str, str],
           supported: Mapping[str, bool]) -> FieldChoice | None:
    """The field for ``column``; None leaves it to the database (see the module docstring).

    ``person_names`` maps "name"/"first_name"/"last_name" to the table's fields
    holding them (an e-mail is derived from one); ``supported`` says which
    locale-bound types work in the Genfile's locale.
    """
    kind = column.type
    if column.generated:
        return None
    if reference is not None:
        return _reference(column, reference)
    if column.sequence or ((facts.primary_key or facts.unique) and kind.name in _INTEGERS):
        return _sequence(column, facts)
    if facts.values:
        return FieldChoice("choice", {"values": _values(facts.values, kind)},
                           ["the values the schema allows"])
    if kind.labels is not None:
        return FieldChoice("choice", {"values": list(kind.labels)}, ["the enum's labels"])
    if kind.is_array:
        element = "int" if kind.element in _INTEGERS else "word"
        return FieldChoice("array", {"element": element, "length": [0, 3]})
    simple = _BY_TYPE.get(kind.name)
    if simple is not None:
        return simple(table, column, facts)
    if kind.name in _STRINGS:
        return text_choice(table, column, facts, person_names, supported)
    if kind.name == "tsvector":
        return FieldChoice("text", {"words": [3, 12]}, ["words for a text search vector"])
    if kind.name == "money":
        return FieldChoice("decimal", {"min": 0, "max": 1000, "scale": 2})
    return None  # a type datastorm has no generator for: left to the database


def fallback(column: LiveColumn, facts: ColumnFacts) -> FieldChoice | None:
    """The plainest field that fits ``column``: when the chosen one cannot work."""
    kind = column.type
    if kind.name in _INTEGERS:
        if facts.unique or facts.primary_key:
            return FieldChoice("sequence", {}, ["a sequence: unique"])
        low, high = _INTEGERS[kind.name]
        return FieldChoice("int", {"min": max(0, low), "max": min(1000, high)})
    if kind.name in _STRINGS or kind.name == "tsvector":
        width = kind.length or facts.max_length or 16
        short = max(1, min(width, 6))
        return FieldChoice("string", {"length": [short, min(width, 16)],
                                      "chars": "abcdefghijklmnopqrstuvwxyz0123456789"},
                           ["random letters and digits"])
    return None


# -- by column type ---------------------------------------------------------------------


def _reference(column: LiveColumn, ref: Reference) -> FieldChoice:
    choice = FieldChoice("reference", {"ref": f"{ref.parent}.{ref.parent_field}"},
                         [f"foreign key to {ref.parent}"])
    if ref.leader is not None:
        choice.params["same_row_as"] = ref.leader
        choice.why.append(f"the same {ref.parent} row as {ref.leader}")
    elif ref.unique:
        choice.params["per_parent"] = [0, 1] if not column.not_null else [1, 1]
        choice.why.append("one-to-one")
    elif ref.self_reference:
        choice.params["root_rate"] = 0.1
        choice.why.append("a hierarchy")
    return choice


def _sequence(column: LiveColumn, facts: ColumnFacts) -> FieldChoice:
    why = ["the key the database's sequence would give" if column.sequence
           else "a sequence: unique"]
    return FieldChoice("sequence", {}, why)


def _int(table: LiveTable, column: LiveColumn, facts: ColumnFacts) -> FieldChoice:
    floor, ceiling = _INTEGERS[column.type.name]
    low, high, why = _named_range(column.name, (0, 1000))
    low, high = _within(low, high, facts.low, facts.high, floor, ceiling)
    return FieldChoice("int", {"min": int(low), "max": int(high)}, why)


def _decimal(table: LiveTable, column: LiveColumn, facts: ColumnFacts) -> FieldChoice:
    kind = column.type
    scale = kind.scale if kind.scale is not None and kind.scale >= 0 else 2
    limit = (Decimal(10) ** (kind.precision - scale) - Decimal(1) / Decimal(10) ** scale
             if kind.precision is not None else Decimal(10) ** 9)
    step = Decimal(1) / Decimal(10) ** scale
    floor = None if facts.low is None else Decimal(str(facts.low)) + (step if facts.low_open
                                                                     else 0)
    ceiling = None if facts.high is None else Decimal(str(facts.high)) - (step if facts.high_open
                                                                         else 0)
    low, high, why = _named_range(column.name, (0, 1000))
    low, high = _within(Decimal(str(low)), Decimal(str(high)), floor, ceiling, -limit, limit)
    return FieldChoice("decimal", {"min": _number(low), "max": _number(high), "scale": scale},
                       why)


def _float(table: LiveTable, column: LiveColumn, facts: ColumnFacts) -> FieldChoice:
    floor = None if facts.low is None else float(facts.low) + (0.01 if facts.low_open else 0)
    ceiling = None if facts.high is None else float(facts.high) - (0.01 if facts.high_open
                                                                   else 0)
    low, high, why = _named_range(column.name, (0, 1000))
    low, high = _within(float(low), float(high), floor, ceiling, -1e15, 1e15)
    return FieldChoice("float", {"min": float(low), "max": float(high), "scale": 2}, why)


def _bool(table: LiveTable, column: LiveColumn, facts: ColumnFacts) -> FieldChoice:
    likely = re.search(r"(active|enabled|valid|visible|published|verified)", column.name, re.I)
    return FieldChoice("bool", {"probability": 0.9} if likely else {})


def _date(table: LiveTable, column: LiveColumn, facts: ColumnFacts) -> FieldChoice:
    if re.search(r"(birth|born|dob)", column.name, re.I):
        start, end, why = "1940-01-01", "2006-12-31", ["a birth date"]
    else:
        start, end, why = "-5y", "now", []
    if isinstance(facts.low, (date, datetime)):
        start = _iso_day(facts.low)
    if isinstance(facts.high, (date, datetime)):
        end = _iso_day(facts.high)
    return FieldChoice("date", {"start": start, "end": end}, why)


def _timestamp(table: LiveTable, column: LiveColumn, facts: ColumnFacts) -> FieldChoice:
    start, end = "-3y", "now"
    if isinstance(facts.low, (date, datetime)):
        start = _iso_instant(facts.low)
    if isinstance(facts.high, (date, datetime)):
        end = _iso_instant(facts.high)
    return FieldChoice("timestamp", {"start": start, "end": end})


_BY_TYPE = {
    **{name: _int for name in _INTEGERS},
    "numeric": _decimal,
    **{name: _float for name in _FLOATS},
    "bool": _bool,
    "date": _date,
    "timestamp": _timestamp,
    "timestamptz": _timestamp,
    "uuid": lambda t, c, f: FieldChoice("uuid"),
    "inet": lambda t, c, f: FieldChoice("ip"),
    "cidr": lambda t, c, f: FieldChoice("ip"),
    "json": lambda t, c, f: FieldChoice("json"),
    "jsonb": lambda t, c, f: FieldChoice("json"),
    "bytea": lambda t, c, f: FieldChoice("bytes", {"length": [8, 64]}),
    "time": lambda t, c, f: FieldChoice("time"),
    "timetz": lambda t, c, f: FieldChoice("time"),
    "interval": lambda t, c, f: FieldChoice("interval", {"min": "1m", "max": "30d"}),
}


# -- helpers ----------------------------------------------------------------------------

_NAMED_RANGES: list[tuple[str, tuple[float, float], str]] = [
    (r"(^|_)age($|_)", (18, 90), "an age"),
    (r"year", (1950, 2025), "a year"),
    (r"(month)", (1, 12), "a month"),
    (r"(day)", (1, 28), "a day of the month"),
    (r"(hour)", (0, 23), "an hour"),
    (r"(count|qty|quantity|number_of|num_)", (0, 100), "a count"),
    (r"(duration|days|length|minutes)", (1, 180), "a duration"),
    (r"(rating|score|stars|rank|priority|level)", (1, 5), "a rating"),
    (r"(percent|pct|ratio)", (0, 100), "a percentage"),
    (r"(price|cost|fee|amount|total|value|rate)", (1, 500), "an amount"),
    (r"(balance)", (-500, 50000), "a balance"),
    (r"(salary|income|revenue)", (1000, 20000), "a salary"),
    (r"(weight|height|size)", (1, 200), "a measure"),
    (r"(active|flag|enabled)", (0, 1), "a flag"),
]


def _named_range(name: str, default: tuple[float, float]
                 ) -> tuple[float, float, list[str]]:
    for pattern, bounds, label in _NAMED_RANGES:
        if re.search(pattern, name, re.I):
            return bounds[0], bounds[1], [f"the range of {label}"]
    return default[0], default[1], []


def _within(low: Any, high: Any, floor: Any, ceiling: Any, type_low: Any, type_high: Any
            ) -> tuple[Any, Any]:
    """The named range clipped to the schema's bounds, and those to the type's."""
    hard_low = type_low if floor is None else max(type_low, _as(floor, type_low))
    hard_high = type_high if ceiling is None else min(type_high, _as(ceiling, type_high))
    low, high = max(low, hard_low), min(high, hard_high)
    if low > high:  # the name's guess and the schema disagree: the schema wins
        low, high = hard_low, min(hard_high, hard_low + _as(1000, hard_low))
        if high < low:
            high = low
    return low, high


def _as(value: Any, like: Any) -> Any:
    if isinstance(like, Decimal):
        return Decimal(str(value))
    if isinstance(like, float):
        return float(value)
    if isinstance(like, int) and not isinstance(value, int):
        return int(Decimal(str(value)).to_integral_value())
    return value




def _values(values: list[Any], kind: LiveType) -> list[Any]:
    out = []
    for v in values:
        if isinstance(v, Decimal):
            v = int(v) if v == v.to_integral_value() and kind.name in _INTEGERS else float(v)
        elif isinstance(v, (date, datetime)):
            v = v.isoformat()
        out.append(v)
    return out






def _iso_day(value: date | datetime) -> str:
    return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()


def _iso_instant(value: date | datetime) -> str:
    """A bound as the Genfile writes it: naive, in UTC (datastorm's sessions run in UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="seconds")
    return value.isoformat()


def _number(value: Decimal | float | int) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


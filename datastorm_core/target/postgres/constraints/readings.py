"""What is read from a constraint or a partition bound: constants, bounds, rules."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from datastorm_core.target.postgres.constraints.literals import CONVERTERS, PythonValue, bare


@dataclass(frozen=True)
class Constant:
    """A literal from the SQL text, kept as written, with the type it was cast to.

    ``type_name`` is the innermost cast's type as pglast names it, without a
    ``pg_catalog.`` prefix (``int4``, ``numeric``, ``varchar``, ``bpchar``,
    ``timestamptz``...; an enum or other type as written, schema-qualified if
    it was); ``bool`` for ``true``/``false``; None for a bare number or an
    untyped string.
    """

    text: str
    type_name: str | None = None

    def as_python(self) -> PythonValue:
        """The value as Python sees it, best effort; the text when it cannot tell.

        Integer types give ``int``, ``numeric`` gives ``Decimal``, the float
        types ``float``, ``date`` a ``date``, ``timestamp`` a naive and
        ``timestamptz`` an aware ``datetime``, ``time`` a ``time``, ``bool`` a
        ``bool``. Untyped text that looks like an integer gives ``int``, like
        another number ``Decimal``. NaN and a ``timestamptz`` written without
        an offset (its instant depends on the session's time zone) stay text.
        """
        convert = CONVERTERS.get(self.type_name) if self.type_name else bare
        if convert is None:
            return self.text
        try:
            return convert(self.text)
        except (ValueError, ArithmeticError):
            return self.text


class Sentinel(enum.Enum):
    """``MINVALUE``/``MAXVALUE`` in a range partition's bound: below or above every value."""

    MINVALUE = "minvalue"
    MAXVALUE = "maxvalue"

    def __repr__(self) -> str:
        return self.name


MINVALUE = Sentinel.MINVALUE
MAXVALUE = Sentinel.MAXVALUE


@dataclass(frozen=True)
class Bound:
    """One end of an allowed range."""

    value: Constant
    inclusive: bool


@dataclass(frozen=True)
class ColumnRule:
    """What one CHECK constraint allows in one column; every part that is set must hold.

    ``values``: the only values allowed (an empty tuple: none); ``excluded``:
    values not allowed; ``min_length``/``max_length``: in characters. The
    parts are kept as read, not reconciled with each other.
    """

    column: str
    low: Bound | None = None
    high: Bound | None = None
    values: tuple[Constant, ...] | None = None
    excluded: tuple[Constant, ...] = ()
    min_length: int | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class CheckReading:
    """The rules read from one CHECK constraint, by column name.

    ``complete`` is False when part of the expression was not understood and
    left out: the constraint may then refuse values the rules allow.
    """

    rules: dict[str, ColumnRule]
    complete: bool


@dataclass(frozen=True)
class PartitionBound:
    """A partition's bound: ``kind`` is ``"range"``, ``"list"``, ``"hash"`` or ``"default"``.

    Range: ``lower`` (inclusive) and ``upper`` (exclusive), one datum per
    partition key column. List: ``values``, None for NULL. Hash: ``modulus``
    and ``remainder``.
    """

    kind: str
    lower: tuple[Constant | Sentinel, ...] = ()
    upper: tuple[Constant | Sentinel, ...] = ()
    values: tuple[Constant | None, ...] = ()
    modulus: int | None = None
    remainder: int | None = None


def key_of(constant: Constant) -> Any:
    """What two constants are compared by: their values (1 and 1::numeric are the same)."""
    value = constant.as_python()
    # True == 1 in Python; a boolean and a number are not the same SQL value.
    return ("bool", value) if isinstance(value, bool) else value


def distinct(constants: Iterable[Constant]) -> tuple[Constant, ...]:
    seen: set[Any] = set()
    kept = []
    for constant in constants:
        key = key_of(constant)
        if key not in seen:
            seen.add(key)
            kept.append(constant)
    return tuple(kept)

"""What a target needs to know about a table: names, column types and keys.

This is the contract between the layers: ``run.py`` builds it from the
Genfile, targets create tables from it. It says nothing about how rows
are made.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["ColumnSchema", "ColumnType", "ForeignKey", "TableSchema", "ValueSpace"]


class ColumnType(enum.Enum):
    """Logical column types; each target maps them to its own."""

    BIGINT = "bigint"
    DOUBLE = "double"
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    UUID = "uuid"
    TEXT = "text"


@dataclass(frozen=True)
class ValueSpace:
    """The values a column's generator can make, as far as it can tell without making them.

    A target that writes into a table it did not create checks the space
    against the live column before anything is written (a ``string`` of 40
    characters into ``varchar(20)``, a ``choice`` value outside an enum, an
    ``int`` beyond ``smallint``). Every part is optional: None means unknown,
    and an unknown part is not checked.

    - ``low``/``high``: the smallest and largest value, inclusive: ``int``
      for BIGINT, ``float`` for DOUBLE, ``Decimal`` for NUMERIC, ``date`` for
      DATE, ``datetime`` (naive, UTC) for TIMESTAMP;
    - ``values``: every value the column can take, when there are few (a
      ``choice``), in the column's Python type;
    - ``max_length``: the longest text, in characters.
    """

    low: Any = None
    high: Any = None
    values: tuple[Any, ...] | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class ColumnSchema:
    name: str
    type: ColumnType
    nullable: bool = True
    precision: int | None = None  # NUMERIC only
    scale: int | None = None  # NUMERIC only
    # What the generator can make (checked against an existing table's column).
    space: ValueSpace | None = None
    # TEXT written in the input syntax of a PostgreSQL type other than text:
    # "json", "array", "inet", "interval", "bytea", "time". A created table
    # gets a column of that type; an existing one must have a compatible type.
    syntax: str | None = None
    # Set by a target writing into a table that exists: the live column's type
    # (PostgreSQL's base type name, e.g. int4, varchar, timestamptz), which its
    # encoder converts the values to.
    storage: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    column: str
    parent_table: str
    parent_column: str


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[ColumnSchema, ...]
    primary_key: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    # Columns unique together (a composite primary key, or the Genfile's
    # table option ``unique``), beyond the single columns of ``unique``.
    unique_groups: tuple[tuple[str, ...], ...] = ()
    # The rows exist already: set the other columns of the row whose primary key
    # matches (a fill after the load: the deferred references of a cycle).
    update: bool = False
    # The column whose value keys a message on a message target (Kafka), so
    # that the events of one account stay in order; None sends no key.
    message_key: str | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSchema:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

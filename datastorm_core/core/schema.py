"""What a target needs to know about a table: names, column types and keys.

This is the contract between the layers: ``run.py`` builds it from the
Genfile, targets create tables from it. It says nothing about how rows
are made.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["ColumnSchema", "ColumnType", "ForeignKey", "TableSchema"]


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
class ColumnSchema:
    name: str
    type: ColumnType
    nullable: bool = True
    precision: int | None = None  # NUMERIC only
    scale: int | None = None  # NUMERIC only


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

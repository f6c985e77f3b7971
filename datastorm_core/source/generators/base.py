"""What every generator is: a rule from row indices to a column of values.

A generator is thin: it composes services (randomness, permutations,
dictionaries, reference pools) held by its context. The orchestrator
adds what is common to every field: NULLs and uniqueness.

Uniqueness is by construction: a generator that can enumerate its values
says how many there are (``space``) and maps ordinals in ``[0, space)``
to distinct values (``from_ordinals``); the orchestrator feeds it a keyed
permutation of the row index, so distinct rows get distinct values.

A generator also says what it can make without making it
(``value_space``: bounds, the few values, the longest text), so that a
target writing into an existing table can check the table's columns
before the first row, and which PostgreSQL input syntax its text follows
(``syntax``: a json, inet or interval column is filled with text).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Protocol

import numpy as np

from datastorm_core.core.cardinality import Cardinality
from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, ValueSpace
from datastorm_core.genfile.model import Field, Table
from datastorm_core.source.services.randomness import Stream

__all__ = ["Generator", "GeneratorContext", "KeyLookup", "Rows", "Tables"]

# Keys of a parent table at given row indices, and the parent's column type.
KeyLookup = Callable[[np.ndarray], Column]


class Rows(Protocol):
    """A compiled table: any of its columns at any row indices."""

    def columns(self, indices: np.ndarray, names: Iterable[str] | None = None
                ) -> dict[str, Column]: ...


class Tables(Protocol):
    """The run's tables, for a field that reads another table's rows or layout."""

    def compiled(self, name: str) -> Rows: ...

    def layout(self, name: str) -> Cardinality | None:
        """The children-per-parent layout of a table tied by ``per_parent``."""

    def column(self, table: str, name: str) -> ColumnSchema:
        """A field's column (``REF.FIELD`` names included): type, NULLs, space."""


@dataclass(frozen=True)
class GeneratorContext:
    """What a generator may use: its random stream and the run's shared services."""

    stream: Stream
    table: str
    table_rows: int
    locale: str
    now: datetime
    # For references: (parent table, parent field) -> (rows, lookup, column spec)
    reference_pool: Callable[[str, str], ReferencePoolLike]
    # The Genfile's directory: relative paths (user dictionaries) are read from
    # there. None (a Genfile given as text): the current directory.
    base_dir: str | None = None
    # True when rows past table_rows are written too (a table partitioned by day:
    # `--day` writes days after [dataset] now), so table_rows bounds no value.
    rows_grow: bool = False
    # The run's tables: parents' fields (``REF.FIELD``), children (totals), layouts.
    tables: Tables | None = None
    # The Genfile's tables by name (the model): what an expression's names mean, dotted
    # ones reaching the tables its references point at.
    models: Mapping[str, Table] = dataclass_field(default_factory=dict)


class ReferencePoolLike(ABC):
    rows: int
    column_type: ColumnType
    precision: int | None
    scale: int | None
    # What the parent's key column can hold and its text's syntax: a reference has both.
    space: ValueSpace | None = None
    syntax: str | None = None

    @abstractmethod
    def keys_at(self, indices: np.ndarray) -> np.ndarray: ...


class Generator(ABC):
    """Makes one field's values for an array of row indices."""

    column_type: ColumnType = ColumnType.TEXT
    precision: int | None = None
    scale: int | None = None
    # True when every row gets a distinct value anyway (sequence).
    unique_by_nature: bool = False
    # True when the generator makes its values unique itself when the field
    # asks for it (an e-mail derived from a name carries a unique number).
    handles_unique: bool = False
    # The PostgreSQL input syntax of the text this generator writes, when it is not
    # plain text: "json", "array", "inet", "interval", "bytea", "time". The column
    # stays TEXT; a target may create (or expect) a column of that type.
    syntax: str | None = None
    # A NULL in a field this one reads makes this one NULL (a template of a NULL is
    # NULL). False for a generator that writes the NULL itself (json writes null).
    nulls_from_reads: bool = True
    # True when the generator may write NULL by its own rule, its inputs all values (an
    # expression dividing by a field that can be 0, choice cases that may all fail).
    makes_nulls: bool = False
    # Fields a NULL in which may give a NULL here by the generator's own rule, beyond
    # those the engine propagates (an expression's: NULL in, NULL out, coalesce aside).
    nulls_through: tuple[str, ...] = ()

    def __init__(self, field: Field, ctx: GeneratorContext) -> None:
        self.field = field
        self.ctx = ctx
        self.stream = ctx.stream

    def problems(self) -> list[str]:
        """What is wrong with this field, found when compiling (before any write)."""
        return []

    def late_problems(self) -> list[str]:
        """What is wrong with this field that only the fields it reads can tell (their
        types and spaces), asked once its whole table is compiled."""
        return []

    def space(self) -> int | None:
        """How many distinct values ``from_ordinals`` can make; None: cannot be unique."""
        return None

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Distinct values for distinct ordinals in ``[0, min(space, 2**62))``."""
        raise TypeError(f"type {self.field.type} cannot enumerate its values")

    def value_space(self) -> ValueSpace | None:
        """What this generator can make, as far as it knows without making it; None: unknown.

        Every part must be true of every value (a bound, never an estimate):
        a target refuses a column that the space says is too small.
        """
        return None

    @abstractmethod
    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray | Column:
        """Values for ``indices``; ``row`` holds the fields this one reads.

        A generator whose values are NULL by construction (a hierarchy's
        roots) returns a Column with its NULL mask.
        """


"""The source's entry point: compile a Genfile, describe its tables, make their chunks.

``Source`` never knows where rows go: it hands core a ``TableChunks``
producer per table, and core's buffer carries the chunks to a target.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ForeignKey, TableSchema
from datastorm_core.errors import Problem
from datastorm_core.genfile.model import Genfile
from datastorm_core.source.context import SourceContext
from datastorm_core.source.sizing import sized

__all__ = ["DEFAULT_CHUNK_ROWS", "Source", "TableChunks"]

# Rows per chunk: large enough that numpy's per-call overhead vanishes,
# small enough that a chunk of a wide table stays a few megabytes.
DEFAULT_CHUNK_ROWS = 8192


class TableChunks:
    """Rows ``[start, stop)`` of one table, cut into chunks; implements core's TableProducer."""

    def __init__(self, source: Source, table: str, start: int, stop: int,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, columns: Sequence[str] | None = None,
                 nulled: Collection[str] = ()) -> None:
        self.source = source
        self.table = table
        self.start, self.stop = start, stop
        self.chunk_rows = max(1, chunk_rows)
        self.columns = columns
        self.nulled = nulled

    @property
    def rows(self) -> int:
        return self.stop - self.start

    @property
    def chunk_count(self) -> int:
        return -(-self.rows // self.chunk_rows)

    def produce(self, seq: int) -> Chunk:
        first = self.start + seq * self.chunk_rows
        last = min(first + self.chunk_rows, self.stop)
        return self.source.chunk(self.table, first, last, seq, self.columns, self.nulled)


class Source:
    """Generates the rows of a Genfile's tables; pure functions of (seed, table, row)."""

    def __init__(self, genfile: Genfile, seed: int | None = None,
                 existing_keys: Mapping[tuple[str, str], np.ndarray] | None = None) -> None:
        # A table tied by a parent's field is sized by the parent's generators: a Genfile
        # straight from validation is sized here, so no row count is left at 0.
        self.genfile = genfile = sized(genfile) if genfile.unsized else genfile
        self.context = SourceContext(genfile, seed, existing_keys)

    def check(self, tables: Sequence[str] | None = None) -> list[Problem]:
        """Problems only generators can see (dictionary sizes, unique spaces)."""
        problems: list[Problem] = []
        for name in tables or self.genfile.table_names:
            problems.extend(self.context.compiled(name).problems)
            problems.extend(self._null_keys(name))
        return problems

    def _null_keys(self, name: str) -> list[Problem]:
        """Keys that a NULL in a field they are derived from makes NULL.

        The language refuses a ``null_rate`` on a primary key or a referenced
        field, but an ``email`` (``from``), a ``template`` or a ``hash`` is
        NULL wherever a field it reads is: as a primary key it breaks NOT NULL,
        as a referenced key it leaves children pointing at no row.
        """
        def nullable(table: str) -> set[str]:
            return {c.name for c in self.context.compiled(table).schema_columns if c.nullable}

        t = self.genfile.table(name)
        if t.existing:
            return []
        problems: list[Problem] = []
        own = nullable(name)
        for key in t.primary_key:
            if key in own and t.field(key).null_rate == 0:
                problems.append(Problem(
                    "a primary key cannot be NULL, and this field is NULL in the rows where a "
                    "field it is derived from is NULL: derive it from fields without a "
                    "null_rate", name, key))
        for f in t.references:
            if f.ref is None or f.ref[0] not in self.genfile.table_names:
                continue
            parent_name, column = f.ref
            parent = self.genfile.table(parent_name)
            if parent.existing or column not in parent.field_names \
                    or parent.field(column).null_rate > 0:
                continue  # reported by the language checks
            if column in nullable(parent_name):
                problems.append(Problem(
                    f"ref {f.params['ref']!r}: {parent_name}.{column} is NULL in the rows where "
                    "a field it is derived from is NULL; a referenced key cannot be null",
                    name, f.name))
        return problems

    def schema(self, table: str) -> TableSchema:
        """What a target needs to know of ``table``, named as the target stores it."""
        compiled = self.context.compiled(table)
        t = compiled.table
        foreign_keys = tuple(
            ForeignKey(f.name, self.genfile.table(f.ref[0]).stored_name, f.ref[1])
            for f in t.references if f.ref is not None
        )
        unique = tuple(f.name for f in t.fields if f.unique and f.name not in t.primary_key)
        key = t.options.get("key") or (t.primary_key[0] if len(t.primary_key) == 1 else None)
        return TableSchema(t.stored_name, compiled.schema_columns, t.primary_key, unique,
                           foreign_keys, message_key=key, unique_groups=t.unique_groups)

    def chunk(self, table: str, start: int, stop: int, seq: int = 0,
              columns: Sequence[str] | None = None, nulled: Collection[str] = ()) -> Chunk:
        """Rows ``[start, stop)`` of ``table`` as one chunk: every column, or ``columns``;
        the ``nulled`` ones all NULL (deferred references, set by a fill after the load)."""
        indices = np.arange(start, stop, dtype=np.int64)
        made = self.context.compiled(table).columns(indices, columns)
        for name in nulled:
            if name in made:
                made[name] = Column(made[name].values, np.ones(stop - start, dtype=bool))
        self.context.count(table, stop - start)
        return Chunk(table, seq, start, stop - start, made)

    def grows(self, table: str) -> bool:
        """Whether ``table``'s generators make rows past its count (a stream of new rows,
        row ``records + k``). Not a table laid out parent by parent (``per_parent``: its
        count is its parents' children), nor one with a unique field drawn from exactly
        ``records`` values (a permutation of its rows has no row after the last)."""
        t = self.genfile.table(table)
        if any("per_parent" in f.params for f in t.references):
            return False
        try:
            self.context.compiled(table).columns(np.array([t.records], dtype=np.int64))
        except (ValueError, IndexError):  # an index outside a permutation or a layout
            return False
        return True

    def producer(self, table: str, start: int, stop: int,
                 chunk_rows: int = DEFAULT_CHUNK_ROWS, columns: Sequence[str] | None = None,
                 nulled: Collection[str] = ()) -> TableChunks:
        return TableChunks(self, table, start, stop, chunk_rows, columns, nulled)

    def fill_schema(self, table: str) -> TableSchema | None:
        """The rows a fill after the load updates: the primary key and the deferred
        references of ``table``, set by the key (None: it has none)."""
        t = self.genfile.table(table)
        if not t.deferred:
            return None
        full = self.schema(table)
        names = [*t.primary_key, *(f.name for f in t.deferred)]
        columns = tuple(full.column(n) for n in names)
        keys = tuple(fk for fk in full.foreign_keys if fk.column in names)
        return TableSchema(full.name, columns, t.primary_key, foreign_keys=keys, update=True)

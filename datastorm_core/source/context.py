"""What the generators of a run share: seeds, streams, compiled tables, pools, stats."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Mapping
from functools import cached_property

import numpy as np

from datastorm_core.core.cardinality import Cardinality
from datastorm_core.core.hashing import field_key
from datastorm_core.core.schema import ColumnSchema
from datastorm_core.genfile.model import Field, Genfile, Table
from datastorm_core.genfile.sizing import tie_of, tied_cardinality
from datastorm_core.source.generators import GeneratorContext
from datastorm_core.source.services.counts import field_counts
from datastorm_core.source.services.randomness import Stream
from datastorm_core.source.services.references import ReferencePool, existing_pool
from datastorm_core.source.table import CompiledTable

__all__ = ["STAND_IN_ROWS", "SourceContext"]

# Rows an existing table's pool stands in with when its keys were not read (a
# preview, ``validate``): its key field's own generator over this many rows.
STAND_IN_ROWS = 1000


class SourceContext:
    """Holds the seed-derived streams and the reference pools of one Genfile.

    Compiled tables are cached: a parent is compiled once, whether it is
    written in this run or only referenced by a child.
    """

    def __init__(self, genfile: Genfile, seed: int | None = None,
                 existing_keys: Mapping[tuple[str, str], np.ndarray] | None = None) -> None:
        self.genfile = genfile
        self.seed = genfile.dataset.seed if seed is None else seed
        # Keys of existing tables (``existing = true``), read from the database by the
        # caller: (table, field) -> sorted values. A pool without them (a preview,
        # ``validate``) stands in with the field's own generator.
        self.existing_keys = dict(existing_keys or {})
        self._tables: dict[str, CompiledTable] = {}
        self._compiling: set[str] = set()  # tables whose ancestors are being compiled
        self._pools: dict[tuple[str, str], ReferencePool] = {}
        self._layouts: dict[str, Cardinality | None] = {}
        self._lock = threading.RLock()
        self.rows_generated: Counter[str] = Counter()

    def stream(self, table: str, field: str) -> Stream:
        """The random stream of one field: a function of (seed, table, field) only."""
        return Stream(field_key(self.seed, table, field))

    def compiled(self, name: str) -> CompiledTable:
        with self._lock:
            if name not in self._tables and name not in self._compiling:
                # Parents first, each compiled before the children that ask for its pool:
                # compiling a child then never recurses through a long chain of parents.
                # In a cycle the pre-pass comes back to a table already in it: that one
                # is compiled on demand, when a child asks for its pool.
                self._compiling.add(name)
                try:
                    for ancestor in self._ancestors(name):
                        self.compiled(ancestor)
                finally:
                    self._compiling.discard(name)
            if name not in self._tables:  # a cycle may have compiled it meanwhile
                table = self.genfile.table(name)
                compiled = CompiledTable(table, self)
                # Cached before compiling: a self-reference asks for its own table's pool.
                self._tables[name] = compiled
                rows = STAND_IN_ROWS if table.existing else table.records
                compiled.compile(lambda f: self._generator_context(
                    table.name, rows, f, rows_grow=table.daily is not None))
            return self._tables[name]

    def _ancestors(self, name: str) -> list[str]:
        """The tables ``name`` references, directly or not, parents first; not itself."""
        found: list[str] = []
        seen = {name}
        pending = [name]
        while pending:
            table = self.genfile.table(pending.pop())
            for f in table.references:
                parent = f.ref[0] if f.ref else None
                if parent and parent not in seen and parent not in self._tables \
                        and parent not in self._compiling:
                    seen.add(parent)
                    found.append(parent)
                    pending.append(parent)
        return list(reversed(found))  # the farthest ancestors first

    def reference_pool(self, table: str, field: str) -> ReferencePool:
        with self._lock:
            if (table, field) not in self._pools:
                parent = self.compiled(table)
                column = parent.fields[field].column
                keys = self.existing_keys.get((table, field))
                if keys is not None:
                    self._pools[table, field] = existing_pool(table, field, column, keys)
                    return self._pools[table, field]
                rows = STAND_IN_ROWS if parent.table.existing else parent.table.records

                def lookup(indices, parent=parent, field=field):  # type: ignore[no-untyped-def]
                    return parent.columns(indices, [field])[field].values

                self._pools[table, field] = ReferencePool(
                    table, field, rows, column.type, column.precision,
                    column.scale, lookup, space=column.space, syntax=column.syntax)
            return self._pools[table, field]

    def layout(self, name: str) -> Cardinality | None:
        """The children-per-parent layout of a table tied by ``per_parent`` (None: not
        tied): whose child each row is, and where each parent's children start."""
        with self._lock:
            if name not in self._layouts:
                self._layouts[name] = self._make_layout(name)
            return self._layouts[name]

    def _make_layout(self, name: str) -> Cardinality | None:
        table = self.genfile.table(name)
        tie = tie_of(table)
        if tie is None or tie.ref is None:
            return None
        parent = self.genfile.table(tie.ref[0])
        if tie.counted_by is None:  # from the parent's index (a hash, a lifecycle's paths),
            # keyed like the sizing
            return tied_cardinality(self.seed, table, parent.records)
        if self.seed == self.genfile.dataset.seed and name in self.genfile.layouts:
            return self.genfile.layouts[name]  # counted when the Genfile was sized
        _, _, counted = tie.counted_by.partition(".")
        rows = self.compiled(parent.name)
        space = rows.column_of(counted).space
        most = space.high if space is not None and isinstance(space.high, int) else None
        return Cardinality(parent.records,
                           field_counts(rows, counted, lambda: rows.column_of(counted)),
                           most=most)

    def column(self, table: str, name: str) -> ColumnSchema:
        """The column of a field of ``table``, ``REF.FIELD`` names included."""
        return self.compiled(table).column_of(name)

    def count(self, table: str, rows: int) -> None:
        with self._lock:
            self.rows_generated[table] += rows

    @cached_property
    def locale(self) -> str:
        return self.genfile.dataset.locale

    def _generator_context(self, table: str, rows: int, f: Field,
                           rows_grow: bool = False) -> GeneratorContext:
        return GeneratorContext(
            stream=self.stream(table, f.name),
            table=table,
            table_rows=rows,
            locale=self.locale,
            now=self.genfile.dataset.now,
            reference_pool=self.reference_pool,
            base_dir=os.path.dirname(os.path.abspath(self.genfile.path))
            if self.genfile.path else None,
            rows_grow=rows_grow,
            tables=self,
            models=self._tables_by_name,
        )

    @cached_property
    def _tables_by_name(self) -> Mapping[str, Table]:
        return {t.name: t for t in self.genfile.tables}

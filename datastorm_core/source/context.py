"""What the generators of a run share: seeds, streams, compiled tables, pools, stats."""

from __future__ import annotations

import os
import threading
from collections import Counter
from functools import cached_property

from datastorm_core.core.hashing import field_key
from datastorm_core.genfile.model import Field, Genfile
from datastorm_core.source.generators import GeneratorContext
from datastorm_core.source.services.randomness import Stream
from datastorm_core.source.services.references import ReferencePool
from datastorm_core.source.table import CompiledTable

__all__ = ["SourceContext"]


class SourceContext:
    """Holds the seed-derived streams and the reference pools of one Genfile.

    Compiled tables are cached: a parent is compiled once, whether it is
    written in this run or only referenced by a child.
    """

    def __init__(self, genfile: Genfile, seed: int | None = None) -> None:
        self.genfile = genfile
        self.seed = genfile.dataset.seed if seed is None else seed
        self._tables: dict[str, CompiledTable] = {}
        self._pools: dict[tuple[str, str], ReferencePool] = {}
        self._lock = threading.RLock()
        self.rows_generated: Counter[str] = Counter()

    def stream(self, table: str, field: str) -> Stream:
        """The random stream of one field: a function of (seed, table, field) only."""
        return Stream(field_key(self.seed, table, field))

    def compiled(self, name: str) -> CompiledTable:
        with self._lock:
            if name not in self._tables:
                table = self.genfile.table(name)
                compiled = CompiledTable(table)
                # Cached before compiling: a self-reference asks for its own table's pool.
                self._tables[name] = compiled
                compiled.compile(lambda f: self._generator_context(table.name, table.records, f))
            return self._tables[name]

    def reference_pool(self, table: str, field: str) -> ReferencePool:
        with self._lock:
            if (table, field) not in self._pools:
                parent = self.compiled(table)
                column = parent.fields[field].column

                def lookup(indices, parent=parent, field=field):  # type: ignore[no-untyped-def]
                    return parent.columns(indices, [field])[field].values

                self._pools[table, field] = ReferencePool(
                    table, field, parent.table.records, column.type, column.precision,
                    column.scale, lookup)
            return self._pools[table, field]

    def count(self, table: str, rows: int) -> None:
        with self._lock:
            self.rows_generated[table] += rows

    @cached_property
    def locale(self) -> str:
        return self.genfile.dataset.locale

    def _generator_context(self, table: str, rows: int, f: Field) -> GeneratorContext:
        return GeneratorContext(
            stream=self.stream(table, f.name),
            table=table,
            table_rows=rows,
            locale=self.locale,
            now=self.genfile.dataset.now,
            reference_pool=self.reference_pool,
            base_dir=os.path.dirname(os.path.abspath(self.genfile.path))
            if self.genfile.path else None,
        )

"""The Genfile's tables as the API serves them: rows by index, made by the generators.

Row *i* of a table here is row *i* of ``datastorm run``: the same Genfile,
sized the same way, and the same ``Source`` (every row a pure function of
seed, table and index; a reference is the parent's key at the row the
reference pool picks, as in a run). No database is read or written.

Past its row count a table goes on as ``datastorm stream --tables`` does to
Kafka: row ``records + k`` is made by the table's own generators and points
at parents within their counts. A table whose generators cannot make such
rows (a unique field drawn from a permutation of exactly ``records`` values,
children laid out parent by parent with ``per_parent``) has none: its stream
ends at its last row. Unique values past the count are not checked against the
first ``records`` rows (as in ``datastorm stream``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.schema import TableSchema
from datastorm_core.genfile.model import Genfile
from datastorm_core.loading import sized
from datastorm_core.run import RunOptions, check
from datastorm_core.source import Source
from datastorm_core.tables import column_types

__all__ = ["PAST_THE_COUNT", "ServedTable", "ServedTables", "UnknownTable"]


#: What a generator raises for a row it cannot make past its table's count: an index
#: outside a permutation of exactly ``records`` values, or outside a parent layout.
PAST_THE_COUNT = (ValueError, IndexError)


class UnknownTable(LookupError):
    """A table name that is not one of the Genfile's generated tables."""


@dataclass(frozen=True)
class ServedTable:
    """One table: its name in the Genfile, its row count, its schema and column types."""

    name: str
    records: int
    schema: TableSchema
    # Each column's type as the target of ``--target`` (or the Genfile's) declares it.
    types: Mapping[str, str]
    # Each reference field and the ``table.field`` of the Genfile it points at.
    references: Mapping[str, str]

    def describe(self) -> dict[str, object]:
        """The table as ``GET /tables`` lists it."""
        return {
            "name": self.name,
            "rows": self.records,
            "columns": [{"name": c.name, "kind": c.type.value, "type": self.types[c.name],
                         "nullable": c.nullable} for c in self.schema.columns],
            "primary_key": list(self.schema.primary_key),
            "references": dict(self.references),
        }


class ServedTables:
    """Every generated table of a Genfile; thread-safe (chunks are made in worker threads)."""

    def __init__(self, genfile: Genfile, options: RunOptions | None = None) -> None:
        self.genfile = genfile = sized(genfile, options.seed if options else None)
        names = [t.name for t in genfile.tables if not t.existing]
        self.source = check(genfile, Source(genfile), names)
        self.tables: dict[str, ServedTable] = {}
        for name in names:
            schema = self.source.schema(name)
            t = genfile.table(name)
            self.tables[name] = ServedTable(
                name, t.records, schema, column_types(genfile, name, options, schema),
                {f.name: str(f.params["ref"]) for f in t.references})
        self._endless: dict[str, bool] = {}
        self._lock = threading.Lock()

    def table(self, name: str) -> ServedTable:
        """The table called ``name``; UnknownTable naming the tables there are."""
        try:
            return self.tables[name]
        except KeyError:
            raise UnknownTable(f"no table named {name!r}; tables: "
                               f"{', '.join(self.tables) or '(none)'}") from None

    def chunk(self, name: str, start: int, stop: int) -> Chunk:
        """Rows ``[start, stop)`` of a table, as ``datastorm run`` makes them."""
        return self.source.chunk(name, start, stop)

    def _grows(self, name: str) -> bool:
        return self.source.grows(name)

    def endless(self, name: str) -> bool:
        """Whether the table's generators make rows past its count (see the module doc)."""
        with self._lock:
            if name not in self._endless:
                self._endless[name] = self._grows(name)
            return self._endless[name]

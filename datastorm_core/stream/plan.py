"""The plan of event *n*: pure functions of (seed, n), no I/O.

Every choice the stream makes is a draw from a counter-based stream keyed
on (seed, "stream", purpose) with the event number as the counter, the
same hashing the generators use for rows (``core.hashing``). Nothing
depends on time, on earlier draws or on how many events ran before in this
process, so event *n* is the same in any run that reaches it with the same
database state:

- which kind and which table (``choose``);
- where a search for an existing row starts (``start_index``): the executor
  takes the first live row at or after the key of that row index, in key
  order, which the database state alone decides;
- the values of an inserted row: row ``next_index`` of the table's own
  generators (``insert_row``), so keys continue and the row looks like the
  others; only its references are resolved to live parents;
- the new value of an updated field: the field's generator under a seed of
  its own (``new_value``), at index *n*;
- the stream's clock (``event_time``): ``[dataset] now`` plus *n* seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.hashing import STREAM_VERSION, derive_key
from datastorm_core.core.schema import ColumnSchema
from datastorm_core.genfile.model import Genfile
from datastorm_core.genfile.streaming import KINDS, transition_key
from datastorm_core.source import Source
from datastorm_core.source.generators.reference import ReferenceGenerator
from datastorm_core.source.services.randomness import Stream
from datastorm_core.stream.spec import StreamSpec, StreamTable

__all__ = ["SECONDS_PER_EVENT", "VIRTUAL_BASE", "Planner"]

#: The stream's clock advances this much per event (``on_update`` fields).
SECONDS_PER_EVENT = 1
#: Draws that reuse a generator (a zipf reference's hot parents) are made at
#: indices from here on, far above any table's rows (2**61 + a 52-bit draw).
VIRTUAL_BASE = 1 << 61
#: Tries an insert makes for a key made of references that is free (a link table's pair).
ATTEMPTS = 16
#: Inserted rows are generated this many at a time (then used one by one).
INSERT_BLOCK = 256
_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


class Planner:
    """Pure draws of the stream for one Genfile and seed."""

    def __init__(self, spec: StreamSpec, source: Source) -> None:
        self.spec = spec
        self.source = source
        self.seed = source.context.seed
        self.genfile: Genfile = source.genfile
        self.root = Stream(derive_key(STREAM_VERSION, self.seed, "stream"))
        self._streams: dict[tuple[object, ...], Stream] = {}
        self._free: dict[str, frozenset[str]] = {}
        self._blocks: dict[str, tuple[int, dict[str, Column]]] = {}
        # New values of updated fields: the same generators under a seed of their own,
        # so a new phone number is a phone number, but not one of the rows' own.
        values_seed = derive_key(STREAM_VERSION, self.seed, "stream", "values")
        genfile = replace(self.genfile, dataset=replace(self.genfile.dataset, seed=values_seed))
        self.values_source = Source(genfile)

    # -- randomness ------------------------------------------------------------

    def stream(self, *purpose: object) -> Stream:
        if purpose not in self._streams:
            self._streams[purpose] = self.root.sub(*purpose)
        return self._streams[purpose]

    def unit(self, n: int, *purpose: object) -> float:
        """A float in [0, 1) for event ``n`` and ``purpose``: ``Stream.uniform`` at index
        ``n``, computed on Python integers (one value: no array to build)."""
        return _uniform(self.stream(*purpose).key, n)

    def below(self, n: int, upper: int, *purpose: object) -> int:
        """An integer in [0, upper) for event ``n`` and ``purpose``."""
        if upper <= 0:
            return 0
        return min(upper - 1, int(self.unit(n, *purpose) * upper))

    # -- what happens --------------------------------------------------------------

    def choose(self, n: int, attempt: int, excluded: Iterable[tuple[str, str]] = ()
               ) -> tuple[str, StreamTable] | None:
        """The kind and table of event ``n``; ``excluded`` pairs are impossible now.

        The kind is drawn from ``--mix`` among the kinds some table can still
        have, then the table among those that can, weighted by ``stream_weight``
        times the table's share of that kind.
        """
        blocked = set(excluded)
        weights: dict[str, list[tuple[StreamTable, float]]] = {}
        for kind in KINDS:
            candidates = [(t, t.weight * t.mix[kind]) for t in self.spec.tables
                          if t.can(kind) and (kind, t.name) not in blocked]
            if candidates and self.spec.mix[kind] > 0:
                weights[kind] = candidates
        if not weights:
            return None
        kinds = list(weights)
        kind = kinds[_pick([self.spec.mix[k] for k in kinds], self.unit(n, "kind", attempt))]
        tables = weights[kind]
        chosen = _pick([w for _, w in tables], self.unit(n, "table", attempt))
        return kind, tables[chosen][0]

    def start_index(self, n: int, table: str, upper: int, *purpose: object) -> int:
        """A row index in [0, upper): where the search for a live row starts."""
        return self.below(n, upper, "start", table, *purpose)

    def key_at(self, table: str, index: int, columns: Iterable[str]) -> dict[str, Column]:
        """Columns (keys) of ``table`` at row ``index``, as its generators make them."""
        compiled = self.source.context.compiled(table)
        try:
            return compiled.columns(np.array([index], dtype=np.int64), list(columns))
        except ValueError:
            # Beyond a unique field's space (no insert got there): a row that exists.
            fallback = index % max(1, self.genfile.table(table).records)
            return compiled.columns(np.array([fallback], dtype=np.int64), list(columns))

    def key_rows(self, table: str, start: int, stop: int, columns: Iterable[str]
                 ) -> dict[str, Column]:
        """Columns (keys) of ``table`` at rows ``[start, stop)``.

        Raises:
            ValueError: a row is beyond a unique field's space.
        """
        compiled = self.source.context.compiled(table)
        return compiled.columns(np.arange(start, stop, dtype=np.int64), list(columns))

    def parent_index(self, n: int, table: StreamTable, field: str, parent_rows: int,
                     attempt: int, purpose: str) -> int:
        """Where the search for a live parent of ``table.field`` starts.

        A zipf reference draws as its generator does, so it keeps its hot
        parents; any other (uniform, tied by ``per_parent``, part of a link
        table's key, a hierarchy) draws uniformly over the parent's rows,
        inserted ones too.
        """
        compiled = self.source.context.compiled(table.name)
        generator = compiled.fields[field].generator
        f = table.table.field(field)
        zipf = (isinstance(generator, ReferenceGenerator) and generator.joint is None
                and "per_parent" not in f.params and not generator.self_reference
                and f.param("distribution") == "zipf")
        if zipf:
            # An index of its own for this draw, far above every row: the generator's
            # zipf draw there is independent of the rows' and of other draws'.
            virtual = VIRTUAL_BASE + self.below(n, 1 << 52, "virtual", table.name, field,
                                                purpose, attempt)
            assert isinstance(generator, ReferenceGenerator)
            return int(generator.parent_rows(np.array([virtual], dtype=np.int64))[0])
        return self.below(n, parent_rows, "parent", table.name, field, purpose, attempt)

    def is_null(self, n: int, table: str, field: str, rate: float, *purpose: object) -> bool:
        return rate > 0 and self.unit(n, "null", table, field, *purpose) < rate

    def insert_row(self, table: str, index: int, given: Mapping[str, Column]
                   ) -> dict[str, Column]:
        """Row ``index`` of ``table`` from its generators, with ``given`` columns (the
        references, resolved to live parents) in place of their generators'.

        The fields that read no reference come from a block of ``INSERT_BLOCK``
        rows computed at once (the same values: rows are pure functions of
        their index), the others are computed for this row.

        Raises:
            ValueError: the index is beyond a unique field's space (the table is full).
        """
        compiled = self.source.context.compiled(table)
        free = self._free_fields(table)
        block = self._block(table, index, free)
        indices = np.array([index], dtype=np.int64)
        row: dict[str, Column] = {}
        for name in compiled.order:
            if name in given:
                row[name] = given[name]
            elif block is not None and name in free:
                start, columns = block
                row[name] = _slice(columns[name], index - start)
            else:
                row[name] = compiled.fields[name].values(indices, row)
        return {name: row[name] for name in compiled.table.field_names if name in row}

    def _free_fields(self, table: str) -> frozenset[str]:
        """Fields of ``table`` that depend on no reference, directly or not."""
        if table not in self._free:
            compiled = self.source.context.compiled(table)
            tied = {f.name for f in compiled.table.references}
            for name in compiled.order:
                if any(r in tied for r in compiled.fields[name].reads):
                    tied.add(name)
            self._free[table] = frozenset(n for n in compiled.order if n not in tied)
        return self._free[table]

    def _block(self, table: str, index: int, names: frozenset[str]
               ) -> tuple[int, dict[str, Column]] | None:
        """The block of rows holding ``index``, computed once (None: past a unique
        field's space somewhere in the block; the row is then computed alone)."""
        start = index - index % INSERT_BLOCK
        cached = self._blocks.get(table)
        if cached is not None and cached[0] == start:
            return cached
        compiled = self.source.context.compiled(table)
        try:
            columns = compiled.columns(np.arange(start, start + INSERT_BLOCK, dtype=np.int64),
                                       [n for n in compiled.order if n in names])
        except ValueError:
            return None
        self._blocks[table] = (start, columns)
        return self._blocks[table]

    def row_null(self, table: str, field: str, index: int, rate: float) -> bool:
        """Whether row ``index`` has NULL in ``field``, as the generator decides it."""
        if rate <= 0:
            return False
        generator = self.source.context.compiled(table).fields[field].generator
        drawn = generator.stream.sub("null").below(np.array([index], dtype=np.int64), rate)
        return bool(drawn[0])

    def update_fields(self, n: int, table: StreamTable, attempt: int) -> list[str]:
        """The mutable fields of ``table`` in the order event ``n`` tries them."""
        fields = list(table.mutable)
        if not fields:
            return []
        first = self.below(n, len(fields), "field", table.name, attempt)
        return fields[first:] + fields[:first]

    def new_value(self, n: int, table: str, field: str) -> Column:
        """A fresh value of ``table.field`` for event ``n`` (NULL per its null_rate)."""
        compiled = self.values_source.context.compiled(table)
        return compiled.columns(np.array([n], dtype=np.int64), [field])[field]

    def transition(self, n: int, table: StreamTable, field: str,
                   allowed: tuple[object, ...], weights: tuple[float, ...] | None = None
                   ) -> object:
        """The next value of a transition field, among ``allowed``: by ``weights`` when the
        transitions give them (a table of weights), else weighted like the choice."""
        if weights is None:
            f = table.table.field(field)
            values = list(f.params["values"])
            given = f.params.get("weights") or [1.0] * len(values)
            by_key = {transition_key(v): float(w) for v, w in zip(values, given, strict=True)}
            weights = tuple(by_key.get(transition_key(v), 0.0) or 1e-12 for v in allowed)
        chosen = _pick(list(weights), self.unit(n, "transition", table.name, field))
        return allowed[chosen]

    def event_time(self, n: int) -> datetime:
        """The stream's clock at event ``n``: ``[dataset] now`` plus n seconds."""
        return self.genfile.dataset.now + timedelta(seconds=SECONDS_PER_EVENT * n)

    def schema_column(self, table: str, field: str) -> ColumnSchema:
        return self.source.schema(table).column(field)


def _uniform(key: int, index: int) -> float:
    """``core.hashing.uniform`` of one index, on Python integers."""
    z = (index * _GOLDEN + key) & _MASK64
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & _MASK64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return (z >> 11) * 2.0**-53


def _slice(column: Column, i: int) -> Column:
    """Row ``i`` of a column, as a one-row column."""
    nulls = None if column.nulls is None else column.nulls[i:i + 1]
    codes = None if column.codes is None else column.codes[i:i + 1]
    return Column(column.values[i:i + 1], nulls, codes, column.categories)


def _pick(weights: list[float], u: float) -> int:
    """The position a uniform ``u`` falls on in cumulative ``weights``."""
    total = sum(weights)
    point = u * total
    running = 0.0
    for i, w in enumerate(weights):
        running += w
        if point < running:
            return i
    return max(i for i, w in enumerate(weights) if w > 0)

"""What a stream may do to each table, read from the Genfile (no I/O).

A ``StreamSpec`` is the Genfile seen by the stream: the tables it writes
(``stream = false`` excluded, or the ``--tables`` selection), how often each
is picked (``stream_weight`` times its share of the event's kind in its
``stream_mix``, else in ``--mix``), the fields an update may change
(``mutable``, with a choice's ``transitions``), the fields that move forward
on every update (``on_update = "now"``) and the references that cascade a
delete (``on_delete = "cascade"``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from datastorm_core.core.schema import TableSchema
from datastorm_core.errors import UsageError
from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.genfile.streaming import (
    DEFAULT_MIX,
    KINDS,
    parse_mix,
    transition_key,
    value_transitions,
)
from datastorm_core.genfile.types import FIELD_TYPES
from datastorm_core.source import Source

__all__ = ["Reference", "StreamSpec", "StreamTable", "build_spec"]


@dataclass(frozen=True)
class Reference:
    """A reference field of a Genfile table: ``table.field -> parent.parent_column``."""

    table: str
    field: str
    parent: str
    parent_column: str
    cascade: bool  # on_delete = "cascade": a parent's delete removes these rows first
    nullable: bool
    self_reference: bool


@dataclass(frozen=True)
class StreamTable:
    """One table of the stream and what each kind of event may do to it."""

    name: str
    table: Table
    schema: TableSchema
    weight: float
    # Share of each kind in the table's own mix (sums to 1).
    mix: Mapping[str, float]
    mutable: tuple[str, ...]
    on_update: tuple[str, ...]
    # field -> {transition_key(current value): allowed next values}
    transitions: Mapping[str, Mapping[str, tuple[object, ...]]] = field(default_factory=dict)
    # field -> {transition_key(current value): weights of the next values}, for the states
    # whose transitions are a table of weights (a list's are the choice's own weights).
    transition_weights: Mapping[str, Mapping[str, tuple[float, ...]]] = field(
        default_factory=dict)
    references: tuple[Reference, ...] = ()
    # A field whose value follows other rows (a parent's field, the row's place among its
    # parent's children): the stream resolves references to live parents, which those
    # generated values know nothing of, so it inserts no row here (None: it may).
    follows: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        return self.table.primary_key

    @property
    def records(self) -> int:
        return self.table.records

    def can(self, kind: str) -> bool:
        """Whether the Genfile lets this table have events of ``kind`` at all."""
        if self.weight <= 0 or self.mix.get(kind, 0.0) <= 0:
            return False
        if kind == "update":
            return bool(self.mutable or self.on_update)
        if kind == "insert":
            return self.follows is None
        return True


@dataclass(frozen=True)
class StreamSpec:
    """The streamed tables in write order, with the global mix and every reference."""

    genfile: Genfile
    tables: tuple[StreamTable, ...]
    mix: Mapping[str, float]  # shares of --mix (sum to 1)
    references: tuple[Reference, ...]  # every reference of the Genfile

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    def table(self, name: str) -> StreamTable:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def references_to(self, parent: str) -> tuple[Reference, ...]:
        return tuple(r for r in self.references if r.parent == parent)


def _shares(weights: Mapping[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {k: (weights.get(k, 0.0) / total if total > 0 else 0.0) for k in KINDS}


def build_spec(genfile: Genfile, source: Source, tables: Sequence[str] | None = None,
               mix: Mapping[str, float] | None = None) -> StreamSpec:
    """The stream's view of ``genfile``; raise UsageError for a selection it cannot stream."""
    unknown = [t for t in tables or () if t not in genfile.table_names]
    if unknown:
        raise UsageError(f"no table named {', '.join(map(repr, unknown))} in the Genfile; "
                         f"tables: {', '.join(genfile.table_names)}")
    global_mix = _shares(mix or DEFAULT_MIX)
    references = tuple(
        Reference(t.name, f.name, f.ref[0], f.ref[1], f.params.get("on_delete") == "cascade",
                  f.null_rate > 0 or f.ref[0] == t.name, f.ref[0] == t.name)
        for t in genfile.tables for f in t.references if f.ref is not None)
    chosen: list[StreamTable] = []
    for table in genfile.tables:
        selected = tables is None or table.name in tables
        if not selected:
            continue
        excluded = table.options.get("stream") is False or table.target is not None
        if excluded:
            if tables is not None:
                why = ("says stream = false" if table.options.get("stream") is False
                       else f"goes to the named target {table.target!r}")
                raise UsageError(f"table {table.name!r} {why}: it cannot be streamed")
            continue
        if not table.primary_key:
            if tables is not None:
                raise UsageError(f"table {table.name!r} has no primary key: the stream updates "
                                 "and deletes rows by key; mark a field primary_key = true "
                                 "(or name it id), or set stream = false")
            continue
        own_mix = table.options.get("stream_mix")
        stepping = [(f, value_transitions(f)) for f in table.fields
                    if f.mutable and "transitions" in f.params]
        chosen.append(StreamTable(
            name=table.name,
            table=table,
            schema=source.schema(table.name),
            weight=float(table.options.get("stream_weight", 1.0)),
            mix=_shares(parse_mix(own_mix)) if own_mix else global_mix,
            mutable=tuple(f.name for f in table.fields if f.mutable),
            on_update=tuple(f.name for f in table.fields if "on_update" in f.params),
            transitions={f.name: {k: v.states for k, v in moves.items()}
                         for f, moves in stepping},
            transition_weights={f.name: {k: v.weights for k, v in moves.items()
                                         if v.weights is not None} for f, moves in stepping},
            references=tuple(r for r in references if r.table == table.name),
            follows=_follows_other_rows(table),
        ))
    if not chosen:
        raise UsageError("no table to stream: every table says stream = false or has no "
                         "primary key")
    spec = StreamSpec(genfile, tuple(chosen), global_mix, references)
    if not any(t.can(k) for t in spec.tables for k in KINDS if global_mix[k] > 0):
        raise UsageError("no event is possible: the mix asks only for kinds no table can have "
                         "(an update needs a field marked mutable = true or on_update)")
    return spec


def _follows_other_rows(table: Table) -> str | None:
    """The first field of ``table`` whose value follows other rows (issue 15's rules:
    ``REF.FIELD`` names, ordinals, lifecycles, cumulative times), if any."""
    for f in table.fields:
        reads = FIELD_TYPES[f.type].reads(f.params)
        if f.type in ("ordinal", "lifecycle") or f.params.get("cumulative") \
                or any("." in n for n in reads):
            return f.name
    return None


def allowed_transitions(table: StreamTable, field_name: str, current: object
                        ) -> tuple[object, ...]:
    """The values a transition field may take next from ``current`` (empty: final)."""
    if current is None:
        return ()
    return tuple(table.transitions.get(field_name, {}).get(transition_key(current), ()))


def transition_weights(table: StreamTable, field_name: str, current: object
                       ) -> tuple[float, ...] | None:
    """The weights of the values ``allowed_transitions`` gives, when the Genfile wrote them
    as a table of weights; None: a list, weighted like the choice."""
    if current is None:
        return None
    return table.transition_weights.get(field_name, {}).get(transition_key(current))

"""What the schema says of a live column beyond its type, and what an import writes for it.

``facts_of`` gathers a column's CHECK constraints, domain checks, partition
bounds and keys; ``describe`` writes the comment beside its field;
``FieldChoice`` is the field itself (type, parameters and why), chosen by
``fields.choose``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from datastorm_core.target.postgres import constraints
from datastorm_core.target.postgres.live_tables import LiveColumn, LiveTable

__all__ = ["ColumnFacts", "FieldChoice", "Reference", "describe", "facts_of"]


@dataclass(frozen=True)
class Reference:
    """A foreign key column: ``parent.parent_field`` in Genfile names."""

    parent: str
    parent_field: str
    leader: str | None = None  # the first column of a composite key (same_row_as)
    unique: bool = False  # one-to-one: the column is unique too
    self_reference: bool = False


@dataclass
class FieldChoice:
    """One field as the import writes it: TOML keys and values, and why."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    why: list[str] = field(default_factory=list)

    def set(self, **params: Any) -> FieldChoice:
        self.params.update(params)
        return self


@dataclass
class ColumnFacts:
    """What the schema says of one column beyond its type (CHECKs, partitions, keys)."""

    low: Any = None
    high: Any = None
    # A non-integer bound a CHECK excludes (balance > -1000): the field steps inside.
    low_open: bool = False
    high_open: bool = False
    values: list[Any] | None = None
    max_length: int | None = None
    unique: bool = False
    primary_key: bool = False
    notes: list[str] = field(default_factory=list)


def describe(column: LiveColumn, facts: ColumnFacts) -> str:
    """The comment beside a field: the column as the database has it."""
    parts = [column.type.display]
    if column.not_null or column.type.domain_not_null:
        parts.append("NOT NULL")
    if facts.primary_key:
        parts.append("primary key")
    elif facts.unique:
        parts.append("unique")
    if column.identity:
        parts.append("identity")
    elif column.sequence:
        parts.append(f"nextval({column.sequence})")
    elif column.default is not None:
        parts.append(f"default {_short(column.default)}")
    return ", ".join(parts + facts.notes)


def facts_of(table: LiveTable, column: LiveColumn) -> ColumnFacts:
    """CHECK constraints, domain checks, partition bounds and keys that bear on ``column``."""
    facts = ColumnFacts()
    facts.primary_key = table.primary_key == (column.name,)
    facts.unique = facts.primary_key or (column.name,) in table.unique
    readings = [(constraints.read_check(d), column.name) for _, d in table.checks]
    readings += [(constraints.read_check(d), "value") for d in column.type.domain_checks]
    for reading, key in readings:
        rule = reading.rules.get(key)
        if rule is None:
            continue
        if rule.values is not None:
            facts.values = [c.as_python() for c in rule.values]
            facts.notes.append("values from a CHECK")
        if rule.low is not None:
            low = _inclusive(rule.low, up=True)
            if facts.low is None or low >= facts.low:
                facts.low = low
                facts.low_open = not rule.low.inclusive and not isinstance(low, int)
            facts.notes.append("bounds from a CHECK")
        if rule.high is not None:
            high = _inclusive(rule.high, up=False)
            if facts.high is None or high <= facts.high:
                facts.high = high
                facts.high_open = not rule.high.inclusive and not isinstance(high, int)
        if rule.max_length is not None:
            facts.max_length = rule.max_length
    if table.partitioning is not None and table.partitioning.key == (column.name,):
        bounds = [b for b in map(constraints.read_partition_bound, table.partitioning.bounds)
                  if b is not None]
        if table.partitioning.strategy == "range" and not any(b.kind == "default"
                                                             for b in bounds):
            ranges, _ = constraints.covered_ranges(bounds)
            if ranges:
                start, stop = max(ranges, key=lambda r: _span(r))
                facts.low = start
                facts.high = _just_below(stop)
                facts.notes.append("within the partitions")
        elif table.partitioning.strategy == "list" and not any(b.kind == "default"
                                                              for b in bounds):
            facts.values = [c.as_python() for b in bounds for c in b.values if c is not None]
            facts.notes.append("values of the partitions")
    return facts


def _inclusive(bound: constraints.Bound, *, up: bool) -> Any:
    """A CHECK's bound as an inclusive one (> 5 is >= 6 for integers)."""
    value = bound.value.as_python()
    if bound.inclusive or not isinstance(value, int):
        return value
    return value + 1 if up else value - 1


def _span(interval: tuple[Any, Any]) -> float:
    start, stop = interval
    try:
        return float((stop - start).total_seconds())
    except (TypeError, AttributeError):
        try:
            return float(stop - start)
        except TypeError:
            return 0.0


def _just_below(stop: Any) -> Any:
    """The last value before an exclusive upper bound."""
    if isinstance(stop, datetime):
        return stop - timedelta(seconds=1)
    if isinstance(stop, date):
        return stop - timedelta(days=1)
    if isinstance(stop, int):
        return stop - 1
    return stop


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."

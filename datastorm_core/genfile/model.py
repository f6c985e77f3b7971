"""The parsed Genfile as frozen dataclasses: what the rest of datastorm reads.

Everything here is validated: a value of these classes is always a
Genfile that can run. Building one is ``genfile.validate``'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datastorm_core.core.cardinality import Cardinality

__all__ = ["DailyPartitioning", "Dataset", "Export", "ExportParam", "Field", "Genfile", "Table",
           "TargetConfig"]


@dataclass(frozen=True)
class Field:
    """One column of a table and the rule that generates it."""

    name: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    null_rate: float = 0.0
    unique: bool = False
    primary_key: bool = False
    mutable: bool = False  # `datastorm stream` may change it (genfile.streaming)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    @property
    def written_type(self) -> str:
        """The type as the Genfile writes it: a generator of the user's own by its name
        (``my_pkg.gens:Iban``, kept as the parameter ``generator``), any other by its type."""
        generator = self.params.get("generator")
        return generator if self.type == "plugin" and isinstance(generator, str) else self.type

    @property
    def deferred(self) -> bool:
        """A reference written NULL first and set once its parent's rows are in (a cycle)."""
        return self.type == "reference" and self.params.get("deferred") is True

    @property
    def counted_by(self) -> str | None:
        """``"REF.FIELD"`` of a reference whose children per parent are a parent's field
        (``per_parent = "loan_id.months"``); None otherwise."""
        per_parent = self.params.get("per_parent")
        return per_parent if self.type == "reference" and isinstance(per_parent, str) \
            and "." in per_parent else None

    @property
    def walked_by(self) -> str | None:
        """The ``lifecycle`` field of this row whose path counts a reference's children per
        parent (``per_parent = "status"``); None otherwise."""
        per_parent = self.params.get("per_parent")
        return per_parent if self.type == "reference" and isinstance(per_parent, str) \
            and "." not in per_parent else None

    @property
    def ref(self) -> tuple[str, str] | None:
        """``(parent_table, parent_field)`` for a reference, else None."""
        ref = self.params.get("ref")
        if self.type != "reference" or not isinstance(ref, str):
            return None
        table, _, column = ref.partition(".")
        return table, column


@dataclass(frozen=True)
class DailyPartitioning:
    """An event table cut in days: day *d* is rows ``[d * rows_per_day, (d + 1) * rows_per_day)``
    and its ``time_field`` falls inside that day."""

    time_field: str
    start: date
    rows_per_day: int

    def day_of(self, day: date) -> int:
        """The index of a day (0 for ``start``)."""
        return (day - self.start).days

    def rows_of(self, day: date) -> tuple[int, int]:
        """Row indices ``[start, stop)`` of one day."""
        index = self.day_of(day)
        return index * self.rows_per_day, (index + 1) * self.rows_per_day


@dataclass(frozen=True)
class Table:
    """A table: its fields in file order, its row count and options."""

    name: str
    records: int
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    target: str | None = None  # a named target; None is the default [target]
    options: Mapping[str, Any] = field(default_factory=dict)
    daily: DailyPartitioning | None = None  # an event table partitioned by day
    # The table's name in the target, when the Genfile calls it otherwise (a live
    # table named like a reserved section, or with characters a key would quote).
    sql_name: str | None = None
    # Rows already in the target, never written: references draw from them (read
    # once from the database), so a Genfile can fill tables beside ones it leaves be.
    existing: bool = False
    # Fields unique together (each group made of references, drawn jointly).
    unique_groups: tuple[tuple[str, ...], ...] = ()

    @property
    def stored_name(self) -> str:
        """The table's name in its target."""
        return self.sql_name or self.name

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name}.{name}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def references(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.type == "reference")

    @property
    def deferred(self) -> tuple[Field, ...]:
        """References set after every table of the run is in (see ``Field.deferred``)."""
        return tuple(f for f in self.fields if f.deferred)

    @property
    def parents(self) -> tuple[str, ...]:
        """Tables written before this one: those it references (itself excluded), in field
        order, but through a deferred reference (set after its parent is in)."""
        seen: list[str] = []
        for f in self.references:
            if f.deferred:
                continue
            parent = f.ref[0] if f.ref else None
            if parent and parent != self.name and parent not in seen:
                seen.append(parent)
        return tuple(seen)


@dataclass(frozen=True)
class Dataset:
    """Options of the whole run, from ``[dataset]``."""

    seed: int = 0
    records: int = 1000
    buffer_size: int | None = None
    batch_size: int | None = None
    locale: str = "en_US"
    partitions: int | None = None
    # Anchor of relative dates ("-5y", "now"): fixed so that reruns on
    # another day give the same rows (guarantee 1). "today" opts out.
    now: datetime = datetime(2026, 1, 1)
    constraints: str = "after_load"


@dataclass(frozen=True)
class TargetConfig:
    """Where rows go: a URL (or type) and a write mode."""

    type: str = "sqlite"
    url: str | None = None
    mode: str = "replace"
    options: Mapping[str, Any] = field(default_factory=dict)
    # Whether the Genfile names the target (a url or a type); when it does not, its
    # options go with whatever target the command line names.
    named: bool = False


@dataclass(frozen=True)
class DagsterSettings:
    """``[dagster]``: when the Dagster layer refreshes the tables and streams changes."""

    refresh_cron: str = "0 2 * * *"  # the nightly refresh
    stream_cron: str | None = None  # bursts of `datastorm stream`; None: no schedule
    stream_events: int = 1000  # events of each scheduled burst
    # Steps one table's materialization is split into (its row range in N slices, one
    # step each), so a single run uses every worker of a distributed executor.
    fan_out: int = 1
    frames: bool = False  # tables hand their rows to downstream assets as DataFrames


@dataclass(frozen=True)
class ExportParam:
    """A typed parameter of an export, written ``:name`` in its SQL."""

    name: str
    type: str  # one of genfile.export_params.PARAM_TYPES
    default: Any = None  # already of the type; None: the parameter must be given


@dataclass(frozen=True)
class Export:
    """``[exports.NAME]``: a named query whose result `datastorm export` writes to a file."""

    name: str
    sql: str
    format: str = "csv"  # csv | jsonl | parquet
    params: tuple[ExportParam, ...] = ()
    # Tables the export reads: ``deps`` when written, else the Genfile's tables its
    # SQL names (its Dagster asset is downstream of theirs).
    deps: tuple[str, ...] = ()
    statement_timeout: float | None = None  # seconds; None: the default

    def param(self, name: str) -> ExportParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True)
class Genfile:
    """A whole validated Genfile."""

    dataset: Dataset
    target: TargetConfig
    tables: tuple[Table, ...]
    targets: Mapping[str, TargetConfig] = field(default_factory=dict)
    dagster: DagsterSettings = field(default_factory=DagsterSettings)
    exports: Mapping[str, Export] = field(default_factory=dict)
    path: str | None = None
    digest: str = ""
    table_digests: Mapping[str, str] = field(default_factory=dict)
    # Line of each ``[table]`` / ``[table.field]`` header, for messages found later
    # (checks against a live database).
    header_lines: Mapping[str, int] = field(default_factory=dict)
    # The children-per-parent layout of each table tied by a parent's field
    # (``per_parent = "REF.FIELD"``), from whoever sized it (``genfile.sizing``): the
    # counts come from the parent's generators, so this layer cannot make them alone.
    layouts: Mapping[str, Cardinality] = field(default_factory=dict, compare=False,
                                               repr=False)

    @property
    def unsized(self) -> tuple[str, ...]:
        """Tables tied by a parent's field whose row count is not computed yet."""
        return tuple(t.name for t in self.tables
                     if any(f.counted_by for f in t.references) and t.name not in self.layouts)

    def line_of(self, table: str | None, field: str | None = None) -> int | None:
        """Line of the ``[table.field]`` (or ``[table]``) header, if written so."""
        if table and field and f"{table}.{field}" in self.header_lines:
            return self.header_lines[f"{table}.{field}"]
        if not table:
            return None
        if table in self.header_lines:
            return self.header_lines[table]
        # A table written only as [table.field] sections: its first one.
        fields = [line for header, line in self.header_lines.items()
                  if header.startswith(f"{table}.")]
        return min(fields) if fields else None

    def table(self, name: str) -> Table:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(name) from None

    @cached_property
    def _by_name(self) -> dict[str, Table]:
        # A lookup a table: validation, planning and the source ask for every table,
        # and a scan each time made them quadratic (40,000 tables: minutes).
        return {t.name: t for t in self.tables}

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

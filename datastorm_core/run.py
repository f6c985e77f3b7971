"""Wires the layers for one run: Genfile -> Source -> core Runner -> Target.

This is the only module that knows all three layers. Everything a user
can get wrong is checked here, before the target is opened: the Genfile
(language and generators), the table selection, the partition, the
target URL and mode.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.memory import default_buffer_rows
from datastorm_core.core.partition import Partition
from datastorm_core.core.runner import Runner, RunSettings, TableJob
from datastorm_core.core.schema import TableSchema
from datastorm_core.core.stats import ProgressCallback, RunStats
from datastorm_core.errors import (
    DatastormError,
    GenfileError,
    Interrupted,
    Problem,
    RunError,
    TargetError,
    UsageError,
)
from datastorm_core.genfile import names
from datastorm_core.genfile.model import Genfile, Table, TargetConfig
from datastorm_core.genfile.plan import TablePlan, plan_tables
from datastorm_core.genfile.sizing import with_seed
from datastorm_core.source import DEFAULT_CHUNK_ROWS, Source
from datastorm_core.source.services.references import as_column_values
from datastorm_core.target.base import BaseTarget
from datastorm_core.target.registry import TARGET_CLASSES, open_target, resolve_url
from datastorm_core.target.urls import scheme_of
from datastorm_core.target_settings import target_problems

__all__ = ["RunOptions", "RunReport", "check", "check_live", "check_targets", "existing_keys",
           "parse_target_for", "plan", "prepare_target", "preview", "routed", "run", "survey"]


@dataclass(frozen=True)
class RunOptions:
    """What the command line (or Dagster) may change for one run."""

    target: str | None = None  # a URL; wins over the Genfile's [target]
    seed: int | None = None
    tables: Sequence[str] | None = None
    partition: Partition = field(default_factory=Partition)
    mode: str | None = None
    batch_size: int | None = None
    buffer_size: int | None = None
    workers: int = 1
    day: date | None = None  # one day of the tables partitioned by day
    target_for: Mapping[str, str] = field(default_factory=dict)  # named target -> URL
    # Emptying a table of the application may empty the Genfile's other tables
    # that reference it (Dagster: they are materialized again downstream).
    may_empty_genfile: bool = False
    # Seconds a statement may wait for a lock another session holds (None: the
    # target's option, else its default).
    lock_timeout: float | None = None


@dataclass(frozen=True)
class RunReport:
    """What a finished run did."""

    stats: RunStats
    target: str
    seed: int
    partition: Partition
    plans: tuple[TablePlan, ...]
    warnings: tuple[str, ...] = ()
    # What each table became beyond its rows, from its target (Kafka: topic, offsets).
    details: Mapping[str, Mapping[str, object]] = field(default_factory=dict)


def check(genfile: Genfile, source: Source | None = None,
          tables: Sequence[str] | None = None) -> Source:
    """Every check that needs the generators or the targets' own options; raise
    GenfileError listing them all."""
    source = source or Source(genfile)
    problems = [p if p.line is not None else replace(p, line=genfile.line_of(p.table, p.field))
                for p in source.check(tables)]
    problems += target_problems(genfile)
    if problems:
        raise GenfileError(sorted(problems, key=lambda p: (p.line is None, p.line or 0)),
                           genfile.path)
    return source


def plan(genfile: Genfile, options: RunOptions | None = None) -> list[TablePlan]:
    """The tables of a run in write order, each with the rows it writes."""
    options = options or RunOptions()
    _check_tables(genfile, options.tables)
    plans = plan_tables(genfile, options.tables, options.partition)
    if options.day is None:
        return plans
    undated = [p.table.name for p in plans if p.table.daily is None]
    if undated:
        raise UsageError(f"--day writes one day of tables partitioned by day; "
                         f"{', '.join(undated)} {'is' if len(undated) == 1 else 'are'} not: "
                         "select the daily tables with --tables")
    if options.partition.count > 1:
        raise UsageError("--day and --partition cannot be combined")
    days = []
    for p in plans:
        assert p.table.daily is not None
        if options.day < p.table.daily.start:
            raise UsageError(f"table {p.table.name!r} starts on {p.table.daily.start}; "
                             f"there is no day {options.day}")
        start, stop = p.table.daily.rows_of(options.day)
        days.append(TablePlan(p.table, start, stop, p.total))
    return days


def parse_target_for(items: Sequence[str]) -> dict[str, str]:
    """``--target-for NAME=URL`` arguments (repeated) as {name: URL}."""
    named: dict[str, str] = {}
    for item in items:
        name, sep, url = item.partition("=")
        if not sep or not name.strip() or not url.strip():
            raise UsageError(f"--target-for takes NAME=URL, e.g. events=kafka://localhost:9092, "
                             f"got {item!r}")
        named[name.strip()] = url.strip()
    return named


def target_url(genfile: Genfile, options: RunOptions, name: str | None = None) -> str:
    """Where target ``name`` (None: the default) writes: the command line, else the Genfile."""
    if name is None:
        return resolve_url(options.target or genfile.target.url or genfile.target.type)
    config = _named(genfile, name)
    return resolve_url(options.target_for.get(name) or config.url or config.type)


def routed(genfile: Genfile, options: RunOptions) -> Genfile:
    """The Genfile with each target's ``url`` and ``type`` what they are after the
    command line's (or Dagster's) overrides: a Kafka target given a PostgreSQL URL
    is PostgreSQL. For whoever labels or checks tables by where they go.
    """
    def retyped(config: TargetConfig, name: str | None) -> TargetConfig:
        url = target_url(genfile, options, name)
        scheme = scheme_of(url)
        return replace(config, url=url, type="postgres" if scheme == "postgresql" else scheme)

    return replace(genfile, target=retyped(genfile.target, None),
                   targets={name: retyped(config, name)
                            for name, config in genfile.targets.items()})


def _named(genfile: Genfile, name: str) -> TargetConfig:
    if name not in genfile.targets:
        raise UsageError(f"no target named {name!r} in the Genfile; named targets: "
                         f"{', '.join(genfile.targets) or 'none'}")
    return genfile.targets[name]


def prepare_target(genfile: Genfile, options: RunOptions, name: str | None = None) -> BaseTarget:
    """Build (but do not connect) target ``name``; raise UsageError on bad settings."""
    for unknown in options.target_for:
        _named(genfile, unknown)
    config = genfile.target if name is None else _named(genfile, name)
    url = target_url(genfile, options, name)
    genfile_url = resolve_url(config.url or config.type)
    # A day is added to what is there (and rewritten on a rerun): append.
    mode = "append" if options.day is not None else (options.mode or config.mode)
    # The Genfile's target options belong to its target type only; a [target] that
    # names no target (only options) lends them to the command line's.
    same_kind = scheme_of(url) == scheme_of(genfile_url) or not config.named
    selected = set(options.tables or genfile.table_names)
    may_empty = [t.name for t in genfile.tables if t.name not in selected
                 and t.target == name] if options.may_empty_genfile else []
    target_options = dict(config.options) if same_kind else {}
    if options.lock_timeout is not None:
        kind = TARGET_CLASSES[scheme_of(url)]
        for name in ("lock_timeout", "timeout"):  # PostgreSQL's, sqlite's busy timeout
            if name in kind.accepted_options:
                target_options[name] = options.lock_timeout
                break
    target = open_target(
        url,
        mode=mode,
        constraints=genfile.dataset.constraints,
        partition=(options.partition.index, options.partition.count),
        options=target_options or None,
        seed=genfile.dataset.seed,
        may_empty=may_empty,
    )
    if not same_kind and config.options:
        section = "[target]" if name is None else f"[targets.{name}]"
        target.warnings.append(
            f"{section} options {', '.join(sorted(config.options))} are for its "
            f"{config.type} target, and this run writes to {scheme_of(url)}: not used")
    return target


def _phases(plans: Sequence[TablePlan]) -> list[tuple[str | None, list[TablePlan]]]:
    """Consecutive plans of one target (plans come grouped by target, in target order)."""
    phases: list[tuple[str | None, list[TablePlan]]] = []
    for p in plans:
        if phases and phases[-1][0] == p.table.target:
            phases[-1][1].append(p)
        else:
            phases.append((p.table.target, [p]))
    return phases


def _local_schema(genfile: Genfile, table: Table, schema: TableSchema) -> TableSchema:
    """The schema without foreign keys into another target (no key can cross systems)."""
    targets = {t.stored_name: t.target for t in genfile.tables}
    kept = tuple(fk for fk in schema.foreign_keys
                 if targets.get(fk.parent_table, table.target) == table.target)
    return schema if kept == schema.foreign_keys else replace(schema, foreign_keys=kept)


def _schemas(genfile: Genfile, source: Source, group: Sequence[TablePlan]) -> list[TableSchema]:
    return [_local_schema(genfile, p.table, source.schema(p.table.name)) for p in group]


def _jobs(genfile: Genfile, source: Source, target: BaseTarget, group: Sequence[TablePlan],
          chunk_rows: int) -> list[TableJob]:
    """The tables of one target in write order; then, on a target that checks foreign
    keys as rows arrive, the fills that set the deferred references of a cycle (written
    NULL at first) once every table they point at is in."""
    deferring = target.enforces_references
    jobs = [
        TableJob(schema, source.producer(p.table.name, p.start, p.stop, chunk_rows,
                                         nulled=[f.name for f in p.table.deferred]
                                         if deferring else ()), p.start, p.stop)
        for p, schema in zip(group, _schemas(genfile, source, group), strict=True)
    ]
    for p in group if deferring else ():
        fill = source.fill_schema(p.table.name)
        if fill is not None:
            jobs.append(TableJob(
                _local_schema(genfile, p.table, fill),
                source.producer(p.table.name, p.start, p.stop, chunk_rows,
                                columns=fill.column_names), p.start, p.stop,
                label=f"{p.table.name} (deferred references)"))
    return jobs


def existing_keys(genfile: Genfile, options: RunOptions, plans: Sequence[TablePlan]
                  ) -> dict[tuple[str, str], np.ndarray]:
    """Keys of the existing tables the run's tables reference, read once from their targets.

    Raises:
        UsageError: an existing table lives on a target that cannot be read, or holds
            no row while a table of the run must reference it.
    """
    wanted: dict[str | None, set[tuple[str, str]]] = {}
    needy: dict[tuple[str, str], str] = {}
    for p in plans:
        for f in p.table.references:
            if f.ref is None:
                continue
            parent = genfile.table(f.ref[0])
            if parent.existing:
                wanted.setdefault(parent.target, set()).add(f.ref)
                if p.rows and f.null_rate < 1:
                    needy.setdefault(f.ref, p.table.name)
    keys: dict[tuple[str, str], np.ndarray] = {}
    source = Source(genfile)
    for name, refs in wanted.items():
        target = prepare_target(genfile, options, name)
        for table, field_name in sorted(refs):
            column = source.context.compiled(table).fields[field_name].column
            values = target.read_keys(genfile.table(table).stored_name, field_name)
            keys[table, field_name] = as_column_values(values, column)
            if not values and (table, field_name) in needy:
                raise UsageError(
                    f"table {needy[table, field_name]!r} references {table}.{field_name}, "
                    f"and the existing table {genfile.table(table).stored_name!r} holds no "
                    f"row in {target.describe()}: fill it first")
    return keys


def run(genfile: Genfile, options: RunOptions | None = None,
        progress: ProgressCallback | None = None) -> RunReport:
    """Generate and write the selected tables; all or nothing.

    Raises:
        GenfileError, UsageError: before anything is written.
        RunError (TargetError, SourceError, Interrupted): the target is left as it was.
    """
    options = options or RunOptions()
    if options.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {options.workers}")
    for name, value in (("batch size", options.batch_size), ("buffer size", options.buffer_size)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1, got {value}")
    genfile = with_seed(genfile, options.seed)
    plans = plan(genfile, options)
    check(genfile, Source(genfile), [p.table.name for p in plans])  # the Genfile, first
    source = check(genfile, Source(genfile, existing_keys=existing_keys(genfile, options, plans)),
                   [p.table.name for p in plans])
    phases = [(prepare_target(genfile, options, name), group) for name, group in _phases(plans)]
    if not phases:  # no table selected: still open and commit the default target
        phases = [(prepare_target(genfile, options), [])]
    check_names(genfile, phases)

    widest = max((len(p.table.fields) for p in plans), default=1)
    buffer_rows = (options.buffer_size or genfile.dataset.buffer_size
                   or default_buffer_rows(widest))
    chunk_rows = min(DEFAULT_CHUNK_ROWS, buffer_rows)
    settings = RunSettings(
        buffer_rows=buffer_rows,
        workers=options.workers,
        batch_rows=options.batch_size or genfile.dataset.batch_size,
    )
    for target, group in phases[1:]:
        # A later target that is down fails the run before any commit.
        target.probe(_schemas(genfile, source, group))
    check_targets(genfile, source, phases)
    stats = RunStats()
    committed: list[str] = []
    for target, group in phases:
        jobs = _jobs(genfile, source, target, group, chunk_rows)
        try:
            phase_stats = Runner(target, settings, progress).run(jobs)
        except Exception as exc:
            if not committed:
                raise
            # Whatever failed, the user must learn that earlier targets were kept.
            raise _after_commits(exc, committed) from exc
        stats.tables.extend(phase_stats.tables)
        committed.append(f"{', '.join(p.table.name for p in group)} on {target.describe()}")
        if phase_stats.interrupted_after_commit:
            if target is not phases[-1][0]:  # the targets after this one are not written
                raise _after_commits(Interrupted(), committed)
            stats.interrupted_after_commit = True
    stats.ended = time.perf_counter()
    targets = [t for t, _ in phases]
    details = {p.table.name: target.table_details(p.table.stored_name)
               for target, group in phases for p in group}
    details = {name: told for name, told in details.items() if told}
    return RunReport(stats, " + ".join(t.describe() for t in targets), source.context.seed,
                     options.partition, tuple(plans),
                     tuple(w for t in targets for w in t.warnings), details)


def survey(genfile: Genfile, options: RunOptions | None = None
           ) -> tuple[dict[str, dict[str, str]], list[str]]:
    """Per table of a run, whose it is and what the run will do to it, asked of its target.

    Returns ``{table: {"owner": ..., "action": ...}}`` for the targets that can
    tell (databases that answer), and a note for each target that could not.
    """
    options = options or RunOptions()
    genfile = with_seed(genfile, options.seed)
    plans = plan(genfile, options)
    source = check(genfile, Source(genfile), [p.table.name for p in plans])
    found: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    # Whose a table is does not depend on the partition (which a replace run may refuse).
    whole = replace(options, partition=Partition())
    for name, group in _phases(plans):
        target = prepare_target(genfile, whole, name)
        names = {p.table.stored_name: p.table.name for p in group}
        try:
            for entry in target.survey(_schemas(genfile, source, group)):
                found[names.get(entry["table"], entry["table"])] = entry
        except TargetError as exc:
            notes.append(f"cannot tell what the run will do to the tables on "
                         f"{target.describe()}: {exc}")
    return found, notes


def check_names(genfile: Genfile, phases: Sequence[tuple[BaseTarget, Sequence[TablePlan]]]
                ) -> None:
    """Names the targets the run really writes to cannot hold (the command line may have
    chosen other targets than the Genfile's): one GenfileError listing them all."""
    found: list[Problem] = []
    for target, group in phases:
        for problem in names.problems(target.kind, [p.table for p in group]):
            found.append(replace(problem, line=genfile.line_of(problem.table, problem.field)))
    if found:
        raise GenfileError(sorted(found, key=lambda p: (p.line is None, p.line or 0)),
                           genfile.path)


def check_live(genfile: Genfile, options: RunOptions | None = None) -> None:
    """``datastorm validate --target URL``: the checks a run makes against the tables that
    exist in its targets, without writing anything (GenfileError listing every problem)."""
    options = options or RunOptions()
    genfile = with_seed(genfile, options.seed)
    plans = plan(genfile, options)
    check(genfile, Source(genfile), [p.table.name for p in plans])
    source = check(genfile, Source(genfile, existing_keys=existing_keys(genfile, options, plans)),
                   [p.table.name for p in plans])
    phases = [(prepare_target(genfile, options, name), group)
              for name, group in _phases(plans)]
    check_names(genfile, phases)
    check_targets(genfile, source, phases)


def check_targets(genfile: Genfile, source: Source,
                  phases: Sequence[tuple[BaseTarget, Sequence[TablePlan]]]) -> None:
    """Fields that do not fit the tables that exist in their targets: every problem of
    every target, raised as one GenfileError before any target is opened."""
    problems: list[Problem] = []
    for target, group in phases:
        schemas = _schemas(genfile, source, group)
        if not schemas:
            continue
        names = {p.table.stored_name: p.table.name for p in group}
        for problem in target.check_schemas(schemas):
            table = names.get(problem.table or "", problem.table)
            found = replace(problem, table=table, line=genfile.line_of(table, problem.field))
            problems.append(found)
    if problems:
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        raise GenfileError(ordered, genfile.path)


def _after_commits(exc: Exception, committed: list[str]) -> DatastormError:
    """The same error, saying which targets were already committed and stay so."""
    note = (f"{exc}\n(already committed, and kept: {'; '.join(committed)}; rerunning "
            "the same partition writes them again identically)")
    if isinstance(exc, Interrupted):
        return Interrupted(note)
    if isinstance(exc, RunError):
        return type(exc)(note)
    if isinstance(exc, UsageError):  # a bad topic name, found only when the target prepares
        return UsageError(note)
    return TargetError(f"{type(exc).__name__}: {note}")


def schema(genfile: Genfile, table: str) -> TableSchema:
    """The schema a target creates for ``table``."""
    # An unknown table is the user's mistake (exit 2), not a KeyError from the source.
    _check_tables(genfile, [table])
    return check(genfile, tables=[table]).schema(table)


def preview(genfile: Genfile, table: str, rows: int = 10, seed: int | None = None,
            start: int = 0) -> Chunk:
    """The first ``rows`` rows of a table (from row ``start``), generated without any
    target. A table partitioned by day has rows for every day, also those past
    ``now`` that its row count does not cover yet."""
    _check_tables(genfile, [table])
    genfile = with_seed(genfile, seed)
    source = check(genfile, Source(genfile), [table])
    total = genfile.table(table).records
    if genfile.table(table).daily is not None:
        total = max(total, start + max(0, rows))
    stop = min(total, start + max(0, rows))
    return source.chunk(table, min(start, stop), stop)


def _check_tables(genfile: Genfile, tables: Sequence[str] | None) -> None:
    unknown = [t for t in tables or () if t not in genfile.table_names]
    if unknown:
        raise UsageError(f"no table named {', '.join(map(repr, unknown))} in the Genfile; "
                         f"tables: {', '.join(genfile.table_names)}")
    existing = [t for t in tables or () if genfile.table(t).existing]
    if existing:
        what = "is an existing table" if len(existing) == 1 else "are existing tables"
        raise UsageError(f"{', '.join(map(repr, existing))} {what} (existing = true): "
                         "datastorm reads its keys and never writes it")

"""Wires the layers for one run: Genfile -> Source -> core Runner -> Target.

This is the only module that knows all three layers, with its helpers
beside it: ``options`` (what a caller may change), ``routing`` (which target
each table goes to), ``phases`` (the tables per target), ``live_checks``
(what is asked of the targets before writing). Everything a user can get
wrong is checked before the target is opened: the Genfile (language and
generators), the table selection, the partition, the target URL and mode.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace

from datastorm_core.core import interrupts
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
    RunError,
    TargetError,
    UsageError,
)
from datastorm_core.genfile.model import Genfile
from datastorm_core.genfile.plan import TablePlan, plan_tables
from datastorm_core.live_checks import check_names, check_targets, existing_keys
from datastorm_core.loading import load_genfile, loads_genfile, sized
from datastorm_core.options import RunOptions
from datastorm_core.phases import local_schema, phase_schemas, target_phases
from datastorm_core.routing import parse_target_for, prepare_target, routed, target_url
from datastorm_core.source import DEFAULT_CHUNK_ROWS, Source
from datastorm_core.target.base import BaseTarget
from datastorm_core.target_settings import target_problems

# RunOptions and the routing, phase and live-check functions live in their own modules;
# they are named here too, as the one module callers (the CLI, Dagster) import from.
__all__ = ["RunOptions", "RunReport", "check", "check_live", "check_names", "check_targets",
           "existing_keys", "load_genfile", "loads_genfile", "local_schema", "parse_target_for",
           "phase_schemas", "plan", "prepare_target", "preview", "routed", "run", "survey",
           "target_phases", "target_url"]


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
        for p, schema in zip(group, phase_schemas(genfile, source, group), strict=True)
    ]
    for p in group if deferring else ():
        fill = source.fill_schema(p.table.name)
        if fill is not None:
            jobs.append(TableJob(
                local_schema(genfile, p.table, fill),
                source.producer(p.table.name, p.start, p.stop, chunk_rows,
                                columns=fill.column_names), p.start, p.stop,
                label=f"{p.table.name} (deferred references)"))
    return jobs


def run(genfile: Genfile, options: RunOptions | None = None,
        progress: ProgressCallback | None = None) -> RunReport:
    """Generate and write the selected tables; all or nothing.

    Raises:
        GenfileError, UsageError: before anything is written.
        RunError (TargetError, SourceError, Interrupted): the target is left as it was.
    """
    options = options or RunOptions()
    UsageError.unless_at_least(1, ("--workers", options.workers),
                               ("batch size", options.batch_size),
                               ("buffer size", options.buffer_size))
    genfile = sized(genfile, options.seed)
    plans = plan(genfile, options)
    check(genfile, Source(genfile), [p.table.name for p in plans])  # the Genfile, first
    source = check(genfile, Source(genfile, existing_keys=existing_keys(genfile, options, plans)),
                   [p.table.name for p in plans])
    phases = [(prepare_target(genfile, options, name), group)
              for name, group in target_phases(plans)]
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
        target.probe(phase_schemas(genfile, source, group))
    check_targets(genfile, source, phases)
    stats = RunStats()
    committed: list[str] = []
    for target, group in phases:
        last = target is phases[-1][0]
        try:
            jobs = _jobs(genfile, source, target, group, chunk_rows)
            with interrupts.final_phase() if last else nullcontext():
                phase_stats = Runner(target, settings, progress).run(jobs)
        except (Exception, KeyboardInterrupt) as exc:
            if not committed:
                raise
            # Whatever failed, the user must learn that earlier targets were kept: a
            # Ctrl-C between two targets too (inside one, the lifecycle makes it Interrupted).
            raise _after_commits(Interrupted() if isinstance(exc, KeyboardInterrupt) else exc,
                                 committed) from exc
        stats.tables.extend(phase_stats.tables)
        committed.append(f"{', '.join(p.table.name for p in group)} on {target.describe()}")
        if phase_stats.interrupted_after_commit:
            if not last:  # the targets after this one are not written
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
    genfile = sized(genfile, options.seed)
    plans = plan(genfile, options)
    source = check(genfile, Source(genfile), [p.table.name for p in plans])
    found: dict[str, dict[str, str]] = {}
    notes: list[str] = []
    # Whose a table is does not depend on the partition (which a replace run may refuse).
    whole = replace(options, partition=Partition())
    for name, group in target_phases(plans):
        target = prepare_target(genfile, whole, name)
        names = {p.table.stored_name: p.table.name for p in group}
        try:
            for entry in target.survey(phase_schemas(genfile, source, group)):
                found[names.get(entry["table"], entry["table"])] = entry
        except TargetError as exc:
            notes.append(f"cannot tell what the run will do to the tables on "
                         f"{target.describe()}: {exc}")
    return found, notes


def check_live(genfile: Genfile, options: RunOptions | None = None) -> None:
    """``datastorm validate --target URL``: the checks a run makes against the tables that
    exist in its targets, without writing anything (GenfileError listing every problem)."""
    options = options or RunOptions()
    genfile = sized(genfile, options.seed)
    plans = plan(genfile, options)
    check(genfile, Source(genfile), [p.table.name for p in plans])
    source = check(genfile, Source(genfile, existing_keys=existing_keys(genfile, options, plans)),
                   [p.table.name for p in plans])
    phases = [(prepare_target(genfile, options, name), group)
              for name, group in target_phases(plans)]
    check_names(genfile, phases)
    check_targets(genfile, source, phases)


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
    genfile = sized(genfile, seed)
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

"""Wires the layers for one run: Genfile -> Source -> core Runner -> Target.

This is the only module that knows all three layers. Everything a user
can get wrong is checked here, before the target is opened: the Genfile
(language and generators), the table selection, the partition, the
target URL and mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from datastorm_core.core.chunk import Chunk
from datastorm_core.core.memory import default_buffer_rows
from datastorm_core.core.runner import Runner, RunSettings, TableJob
from datastorm_core.core.schema import TableSchema
from datastorm_core.core.stats import ProgressCallback, RunStats
from datastorm_core.errors import GenfileError, UsageError
from datastorm_core.genfile.model import Genfile
from datastorm_core.genfile.plan import Partition, TablePlan, plan_tables
from datastorm_core.genfile.sizing import with_seed
from datastorm_core.source import DEFAULT_CHUNK_ROWS, Source
from datastorm_core.target.base import BaseTarget
from datastorm_core.target.registry import open_target, resolve_url
from datastorm_core.target.urls import scheme_of

__all__ = ["RunOptions", "RunReport", "check", "plan", "prepare_target", "preview", "run"]


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


@dataclass(frozen=True)
class RunReport:
    """What a finished run did."""

    stats: RunStats
    target: str
    seed: int
    partition: Partition
    plans: tuple[TablePlan, ...]
    warnings: tuple[str, ...] = ()


def check(genfile: Genfile, source: Source | None = None,
          tables: Sequence[str] | None = None) -> Source:
    """Every check that needs the generators; raise GenfileError listing them all."""
    source = source or Source(genfile)
    problems = source.check(tables)
    if problems:
        raise GenfileError(problems, genfile.path)
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


def target_url(genfile: Genfile, options: RunOptions) -> str:
    """The target a run writes to: --target, else [target] url or type, else the default."""
    return resolve_url(options.target or genfile.target.url or genfile.target.type)


def prepare_target(genfile: Genfile, options: RunOptions) -> BaseTarget:
    """Build (but do not connect) the run's target; raise UsageError on bad settings."""
    for table in genfile.tables:
        if table.target is not None and (not options.tables or table.name in options.tables):
            raise UsageError(
                f"table {table.name!r} is sent to the named target {table.target!r}; named "
                "targets (PostgreSQL masters beside Kafka events) are not available in this "
                "version: remove `target` from the table")
    url = target_url(genfile, options)
    genfile_url = resolve_url(genfile.target.url or genfile.target.type)
    # A day is added to what is there (and rewritten on a rerun): append.
    mode = "append" if options.day is not None else (options.mode or genfile.target.mode)
    # The Genfile's target options belong to its target type only.
    same_kind = scheme_of(url) == scheme_of(genfile_url)
    return open_target(
        url,
        mode=mode,
        constraints=genfile.dataset.constraints,
        partition=(options.partition.index, options.partition.count),
        options=genfile.target.options if same_kind else None,
    )


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
    source = check(genfile, Source(genfile), [p.table.name for p in plans])
    target = prepare_target(genfile, options)

    widest = max((len(p.table.fields) for p in plans), default=1)
    buffer_rows = (options.buffer_size or genfile.dataset.buffer_size
                   or default_buffer_rows(widest))
    chunk_rows = min(DEFAULT_CHUNK_ROWS, buffer_rows)
    settings = RunSettings(
        buffer_rows=buffer_rows,
        workers=options.workers,
        batch_rows=options.batch_size or genfile.dataset.batch_size,
    )
    jobs = [
        TableJob(source.schema(p.table.name),
                 source.producer(p.table.name, p.start, p.stop, chunk_rows), p.start, p.stop)
        for p in plans
    ]
    stats = Runner(target, settings, progress).run(jobs)
    return RunReport(stats, target.describe(), source.context.seed, options.partition,
                     tuple(plans), tuple(target.warnings))


def schema(genfile: Genfile, table: str) -> TableSchema:
    """The schema a target creates for ``table``."""
    # An unknown table is the user's mistake (exit 2), not a KeyError from the source.
    _check_tables(genfile, [table])
    return check(genfile, tables=[table]).schema(table)


def preview(genfile: Genfile, table: str, rows: int = 10, seed: int | None = None,
            start: int = 0) -> Chunk:
    """The first ``rows`` rows of a table, generated without any target."""
    _check_tables(genfile, [table])
    genfile = with_seed(genfile, seed)
    source = check(genfile, Source(genfile), [table])
    total = genfile.table(table).records
    stop = min(total, start + max(0, rows))
    return source.chunk(table, min(start, stop), stop)


def _check_tables(genfile: Genfile, tables: Sequence[str] | None) -> None:
    unknown = [t for t in tables or () if t not in genfile.table_names]
    if unknown:
        raise UsageError(f"no table named {', '.join(map(repr, unknown))} in the Genfile; "
                         f"tables: {', '.join(genfile.table_names)}")

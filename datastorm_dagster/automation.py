"""The nightly refresh, and the sensor that regenerates what the Genfile changed.

The sensor keeps each table's definition digest in its cursor. When the
Genfile changes, it requests the tables whose digest changed (or that are
new) together with every table that depends on them, and nothing else. A
Genfile that no longer validates is reported as a skip, cursor unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import dagster as dg

from datastorm_core.errors import DatastormError
from datastorm_core.genfile import load_genfile
from datastorm_core.genfile.model import DagsterSettings, Genfile, Table
from datastorm_core.tables import write_order
from datastorm_dagster.partitions import partitions_def_for
from datastorm_dagster.translator import METADATA_PREFIX, DatastormTranslator

__all__ = [
    "DEFAULT_REFRESH_CRON",
    "SENSOR_INTERVAL_SECONDS",
    "RefreshJob",
    "build_genfile_sensor",
    "build_refresh_jobs",
    "build_refresh_schedules",
    "dependents",
    "refresh_groups",
]

DEFAULT_REFRESH_CRON = DagsterSettings().refresh_cron
# How often the daemon looks at the Genfile; a file stat and a parse are cheap.
SENSOR_INTERVAL_SECONDS = 30


def dependents(genfile: Genfile, tables: Iterable[str]) -> set[str]:
    """``tables`` and every table that references them, directly or not."""
    result = set(tables)
    changed = True
    while changed:
        changed = False
        for table in genfile.tables:
            if table.name not in result and any(p in result for p in table.parents):
                result.add(table.name)
                changed = True
    return result


def _run_requests(genfile: Genfile, selection: Sequence[tuple[Table, dg.AssetKey]],
                  run_key: str | None, day: date, job_of: Mapping[dg.AssetKey, str]
                  ) -> Iterator[dg.RunRequest]:
    """Runs for the selected tables: every partition of the static ones, and ``day``
    (the day that just ended) of the tables partitioned by day.

    A run has one partitions definition, so daily tables go in runs of their
    own, one per start date, each in the refresh job that holds its tables.
    """
    static = [key for table, key in selection if table.daily is None]
    partitions = partitions_def_for(genfile)
    if static and partitions is None:
        yield dg.RunRequest(run_key=run_key, asset_selection=static, job_name=job_of[static[0]])
    elif static and partitions is not None:
        for partition_key in partitions.get_partition_keys():
            yield dg.RunRequest(run_key=f"{run_key}:{partition_key}" if run_key else None,
                                asset_selection=static, partition_key=partition_key,
                                job_name=job_of[static[0]])
    by_start: dict[date, list[dg.AssetKey]] = {}
    for table, key in selection:
        if table.daily is not None and table.daily.start <= day:
            by_start.setdefault(table.daily.start, []).append(key)
    for start, keys in by_start.items():
        yield dg.RunRequest(run_key=f"{run_key}:{start}:{day}" if run_key else None,
                            asset_selection=keys, partition_key=day.isoformat(),
                            job_name=job_of[keys[0]])


def refresh_groups(genfile: Genfile, selection: Sequence[tuple[Table, dg.AssetKey]]
                   ) -> list[tuple[str, list[tuple[Table, dg.AssetKey]]]]:
    """The tables cut into groups a single job can hold, each with a name suffix.

    A Dagster job holds unpartitioned assets and assets of one partitions
    definition: the static tables (partitioned or not) form the first group,
    tables partitioned by day join it when it is unpartitioned (the first such
    start date only), and every other start date of daily tables is a group
    of its own.
    """
    static = [(t, k) for t, k in selection if t.daily is None]
    by_start: dict[date, list[tuple[Table, dg.AssetKey]]] = {}
    for table, key in selection:
        if table.daily is not None:
            by_start.setdefault(table.daily.start, []).append((table, key))
    groups: list[tuple[str, list[tuple[Table, dg.AssetKey]]]] = []
    if static:
        groups.append(("", static))
    joinable = partitions_def_for(genfile) is None
    for start, tables in sorted(by_start.items()):
        if not groups:
            groups.append(("", tables))
        elif joinable and len(groups) == 1 and all(t.daily is None for t, _ in groups[0][1]):
            groups[0][1].extend(tables)
        else:
            groups.append((f"_days_from_{start:%Y%m%d}", tables))
    return groups


@dataclass(frozen=True)
class RefreshJob:
    """An asset job over tables one run can hold (see ``refresh_groups``)."""

    job: dg.UnresolvedAssetJobDefinition
    tables: tuple[tuple[Table, dg.AssetKey], ...]
    suffix: str


def build_refresh_jobs(genfile: Genfile, translator: DatastormTranslator) -> list[RefreshJob]:
    """``datastorm_refresh`` (and ``datastorm_refresh_days_from_<YYYYMMDD>`` when tables
    of other partitions definitions need their own job): the jobs the schedules and
    the sensor launch."""
    selection = [(t, translator.get_asset_key(t)) for t in genfile.tables if not t.existing]
    jobs = []
    for suffix, group in refresh_groups(genfile, selection):
        keys = [key for _, key in group]
        jobs.append(RefreshJob(dg.define_asset_job(
            translator.definition_name(f"datastorm_refresh{suffix}"),
            selection=dg.AssetSelection.assets(*keys),
            description=f"Regenerates {', '.join(t.name for t, _ in group)}."),
            tuple(group), suffix))
    return jobs


def _job_of(jobs: Sequence[RefreshJob]) -> dict[dg.AssetKey, str]:
    return {key: job.job.name for job in jobs for _, key in job.tables}


def build_refresh_schedules(genfile: Genfile, translator: DatastormTranslator,
                            jobs: Sequence[RefreshJob]) -> list[dg.ScheduleDefinition]:
    """Refresh every table on ``[dagster] refresh_cron`` (default 02:00 every night).

    One schedule, ``datastorm_nightly_refresh``, unless static partitions and
    tables partitioned by day (or days from several start dates) meet: a job
    cannot mix partitions definitions, so each further job gets a schedule
    ``datastorm_nightly_refresh_days_from_<YYYYMMDD>`` on the same cron.
    """
    cron = genfile.dagster.refresh_cron
    job_of = _job_of(jobs)
    return [_refresh_schedule(genfile, job, translator.definition_name(
                f"datastorm_nightly_refresh{job.suffix}"), cron, job_of)
            for job in jobs]


def _refresh_schedule(genfile: Genfile, job: RefreshJob, name: str, cron: str,
                      job_of: Mapping[dg.AssetKey, str]) -> dg.ScheduleDefinition:
    def requests(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        tick = context.scheduled_execution_time
        # Event tables get the day that just ended: the tick's date minus one.
        yield from _run_requests(genfile, job.tables, f"{name}:{tick.isoformat()}",
                                 tick.date() - timedelta(days=1), job_of)

    tables = ", ".join(t.name for t, _ in job.tables)
    return dg.ScheduleDefinition(
        name=name,
        cron_schedule=cron,
        job=job.job,
        execution_fn=requests,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Regenerates the datastorm tables {tables} ({cron}).",
    )


def build_genfile_sensor(genfile_path: str, genfile: Genfile, translator: DatastormTranslator,
                         jobs: Sequence[RefreshJob]) -> dg.SensorDefinition:
    """Request the tables whose definition changed in the Genfile, with their dependents.

    A run holds one partitions definition, so a change can need several runs
    (the masters, then a day of an event table that references them). A child
    in another run than its parent is not requested with it: it waits in the
    cursor ("pending") until its parents' latest materializations carry their
    new definition, and is requested on a later tick. Run in parallel, it
    would check its parents' pools before they are rewritten and fail.
    """
    job_of = _job_of(jobs)
    loaded = set(job_of)

    # The refresh jobs, not an asset selection: one job cannot hold static partitions
    # and days, and a sensor's selection makes one.
    @dg.sensor(name=translator.definition_name("datastorm_genfile_sensor"),
               jobs=[job.job for job in jobs],
               minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Regenerates the tables whose definition changes in {genfile_path}.")
    def genfile_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        try:
            current = load_genfile(genfile_path, target_overridden=True)
        except DatastormError as exc:
            return dg.SkipReason(f"{genfile_path} does not validate: {exc}")
        digests = dict(current.table_digests)
        if context.cursor is None:
            # First look: remember the definitions; the schedule or a person loads them.
            return dg.SensorResult(cursor=_cursor(digests, set()),
                                   skip_reason="recorded the Genfile's tables")
        previous, pending = _read_cursor(context.cursor)
        changed = {name for name, digest in digests.items() if previous.get(name) != digest}
        wanted = {t for t in dependents(current, changed) | pending
                  if t in current.table_names and not current.table(t).existing}
        if not wanted:
            return dg.SkipReason("no table definition changed")
        selection = [translator.get_asset_key(current.table(t)) for t in current.table_names
                     if t in wanted]
        unloaded = [k.to_user_string() for k in selection if k not in loaded]
        if unloaded:
            # Assets this code location has not loaded cannot be requested; the
            # cursor stays, so the change is requested once the location reloads.
            return dg.SkipReason(f"{', '.join(unloaded)} are new in {genfile_path}: reload "
                                 "the code location to load their assets")
        waiting = _waiting(context.instance, current, wanted, translator)
        ready = wanted - waiting
        cursor = _cursor(digests, waiting)
        if not ready:
            return dg.SensorResult(cursor=cursor, skip_reason=(
                f"waiting for the parents of {', '.join(sorted(waiting))} to be regenerated"))
        context.log.info(f"changed: {sorted(changed)}; requesting {sorted(ready)}"
                         + (f"; after their parents: {sorted(waiting)}" if waiting else ""))
        # No run key: the daemon drops a request whose run key any earlier run of this
        # sensor used, so a key made of the Genfile's digest would silently swallow a
        # change made again after a revert (A -> B -> A -> B). The cursor, committed
        # with the requests, already keeps one change from being requested twice.
        chosen = [(current.table(key.path[-1]), key) for key in selection
                  if key.path[-1] in ready]
        yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
        return dg.SensorResult(
            run_requests=list(_run_requests(current, chosen, None, yesterday, job_of)),
            cursor=cursor)

    return genfile_sensor


def _cursor(digests: dict[str, str], pending: set[str]) -> str:
    return json.dumps({"digests": digests, "pending": sorted(pending)}, sort_keys=True)


def _read_cursor(cursor: str) -> tuple[dict[str, str], set[str]]:
    """The digests last seen and the tables still waiting for their parents."""
    data = json.loads(cursor)
    if "digests" not in data:  # the cursor of an earlier release: digests only
        return data, set()
    return data["digests"], set(data.get("pending", ()))


def _run_group(table: Table) -> date | None:
    """Which run a table goes in: the static one (None) or its daily start's."""
    return table.daily.start if table.daily is not None else None


def _waiting(instance: dg.DagsterInstance, genfile: Genfile, wanted: set[str],
             translator: DatastormTranslator) -> set[str]:
    """The tables of ``wanted`` that must wait for a parent to be written first.

    A parent requested now in another run, a parent itself waiting, or a parent
    whose latest materialization still has an older definition (its run has not
    finished) holds a table back. Tables in one run are ordered by Dagster.
    """
    waiting: set[str] = set()
    for table in write_order(genfile.tables):
        if table.name not in wanted:
            continue
        for parent_name in table.parents:
            parent = genfile.table(parent_name)
            if parent.existing or parent.name == table.name:
                continue
            if parent.name in waiting or (
                    parent.name in wanted and _run_group(parent) != _run_group(table)) or (
                    parent.name not in wanted
                    and not _written_as(instance, genfile, parent, translator)):
                waiting.add(table.name)
                break
    return waiting


def _written_as(instance: dg.DagsterInstance, genfile: Genfile, table: Table,
                translator: DatastormTranslator) -> bool:
    """Whether ``table``'s latest materializations (of every static partition) carry its
    current definition; a table never materialized here counts as written (its rows
    are whatever the target holds, as for a first run)."""
    key = translator.get_asset_key(table)
    wanted = genfile.table_digests.get(table.name)
    partitions = partitions_def_for(genfile) if table.daily is None else None
    records_filters = ([dg.AssetRecordsFilter(asset_key=key, asset_partitions=[k])
                        for k in partitions.get_partition_keys()] if partitions is not None
                       else [dg.AssetRecordsFilter(asset_key=key)])
    for records_filter in records_filters:
        found = instance.fetch_materializations(records_filter, limit=1).records
        if not found:
            continue
        materialization = found[0].asset_materialization
        written = materialization.metadata.get(f"{METADATA_PREFIX}/table_digest") \
            if materialization is not None else None
        if getattr(written, "value", written) != wanted:
            return False
    return True

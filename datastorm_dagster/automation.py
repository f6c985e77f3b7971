"""The nightly refresh, and the sensor that regenerates what the Genfile changed.

The sensor keeps each table's definition digest in its cursor. When the
Genfile changes, it requests the tables whose digest changed (or that are
new) together with every table that depends on them, and nothing else. A
Genfile that no longer validates is reported as a skip, cursor unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone

import dagster as dg

from datastorm_core.errors import DatastormError
from datastorm_core.genfile import load_genfile
from datastorm_core.genfile.model import Genfile, Table
from datastorm_dagster.partitions import partitions_def_for
from datastorm_dagster.translator import DatastormTranslator

__all__ = [
    "DEFAULT_REFRESH_CRON",
    "SENSOR_INTERVAL_SECONDS",
    "build_genfile_sensor",
    "build_refresh_schedule",
    "dependents",
]

DEFAULT_REFRESH_CRON = "0 2 * * *"
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
                  run_key: str | None, day: date) -> Iterator[dg.RunRequest]:
    """Runs for the selected tables: every partition of the static ones, and ``day``
    (the day that just ended) of the tables partitioned by day.

    A run has one partitions definition, so daily tables go in runs of their
    own, one per start date.
    """
    static = [key for table, key in selection if table.daily is None]
    partitions = partitions_def_for(genfile)
    if static and partitions is None:
        yield dg.RunRequest(run_key=run_key, asset_selection=static)
    elif static and partitions is not None:
        for partition_key in partitions.get_partition_keys():
            yield dg.RunRequest(run_key=f"{run_key}:{partition_key}" if run_key else None,
                                asset_selection=static, partition_key=partition_key)
    by_start: dict[date, list[dg.AssetKey]] = {}
    for table, key in selection:
        if table.daily is not None and table.daily.start <= day:
            by_start.setdefault(table.daily.start, []).append(key)
    for start, keys in by_start.items():
        yield dg.RunRequest(run_key=f"{run_key}:{start}:{day}" if run_key else None,
                            asset_selection=keys, partition_key=day.isoformat())


def build_refresh_schedule(genfile: Genfile, translator: DatastormTranslator
                           ) -> dg.ScheduleDefinition:
    """Refresh every table on ``[dagster] refresh_cron`` (default 02:00 every night)."""
    selection = [(t, translator.get_asset_key(t)) for t in genfile.tables if not t.existing]
    keys = [key for _, key in selection]
    cron = str(genfile.dagster.get("refresh_cron", DEFAULT_REFRESH_CRON))

    def requests(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
        tick = context.scheduled_execution_time
        # Event tables get the day that just ended: the tick's date minus one.
        yield from _run_requests(genfile, selection, f"datastorm-refresh:{tick.isoformat()}",
                                 tick.date() - timedelta(days=1))

    return dg.ScheduleDefinition(
        name=translator.definition_name("datastorm_nightly_refresh"),
        cron_schedule=cron,
        target=dg.AssetSelection.assets(*keys),
        execution_fn=requests,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Regenerates every datastorm table ({cron}).",
    )


def build_genfile_sensor(genfile_path: str, genfile: Genfile, translator: DatastormTranslator
                         ) -> dg.SensorDefinition:
    """Request the tables whose definition changed in the Genfile, with their dependents."""
    keys = [translator.get_asset_key(t) for t in genfile.tables if not t.existing]
    loaded = set(keys)

    @dg.sensor(name=translator.definition_name("datastorm_genfile_sensor"),
               target=dg.AssetSelection.assets(*keys),
               minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Regenerates the tables whose definition changes in {genfile_path}.")
    def genfile_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        try:
            current = load_genfile(genfile_path, target_overridden=True)
        except DatastormError as exc:
            return dg.SkipReason(f"{genfile_path} does not validate: {exc}")
        digests = dict(current.table_digests)
        cursor = json.dumps(digests, sort_keys=True)
        if context.cursor is None:
            # First look: remember the definitions; the schedule or a person loads them.
            return dg.SensorResult(cursor=cursor, skip_reason="recorded the Genfile's tables")
        previous = json.loads(context.cursor)
        changed = {name for name, digest in digests.items() if previous.get(name) != digest}
        if not changed:
            return dg.SkipReason("no table definition changed")
        wanted = dependents(current, changed)
        selection = [translator.get_asset_key(current.table(t)) for t in current.table_names
                     if t in wanted and not current.table(t).existing]
        unloaded = [k.to_user_string() for k in selection if k not in loaded]
        if unloaded:
            # Assets this code location has not loaded cannot be requested; the
            # cursor stays, so the change is requested once the location reloads.
            return dg.SkipReason(f"{', '.join(unloaded)} are new in {genfile_path}: reload "
                                 "the code location to load their assets")
        context.log.info(f"changed: {sorted(changed)}; requesting {sorted(wanted)}")
        # No run key: the daemon drops a request whose run key any earlier run of this
        # sensor used, so a key made of the Genfile's digest would silently swallow a
        # change made again after a revert (A -> B -> A -> B). The cursor, committed
        # with the requests, already keeps one change from being requested twice.
        chosen = [(current.table(key.path[-1]), key) for key in selection]
        yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
        return dg.SensorResult(run_requests=list(_run_requests(current, chosen, None, yesterday)),
                               cursor=cursor)

    return genfile_sensor

"""Runs the sensor and the schedules request are ordered and loadable, and what they
regenerate is in sync afterwards."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.data_version import StaleStatus
from dagster._utils.test.data_versions import get_stale_status_resolver
from dagster_support import (
    check_results,
    copy_genfile,
    edit_table,
    failure_messages,
    materialize,
    metadata_value,
    query,
)

from datastorm_dagster import build_definitions

pytestmark = pytest.mark.postgres

SENSOR = "datastorm_genfile_sensor"


def _tick(defs: dg.Definitions, cursor: str | None,
          instance: dg.DagsterInstance) -> dg.SensorExecutionData:
    context = dg.build_sensor_context(cursor=cursor, definitions=defs, instance=instance)
    return defs.resolve_sensor_def(SENSOR).evaluate_tick(context)


def _tables(request: dg.RunRequest) -> list[str]:
    return sorted(key.path[-1] for key in request.asset_selection or ())


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, request: dg.RunRequest
         ) -> dg.ExecuteInProcessResult:
    """Execute a run request as the daemon would launch it."""
    return materialize(defs, instance, selection=list(request.asset_selection or ()),
                       partition_key=request.partition_key)


def test_the_sensor_requests_a_child_in_another_run_only_after_its_parents(
        tmp_path: Path, pg_url: str) -> None:
    """Before: the day of `event` was requested with `account`, ran beside it, found
    account's old pool and failed."""
    genfile = copy_genfile(tmp_path, "events.toml")
    defs = build_definitions(genfile, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize(defs, instance, selection=["account"]).success
    first = _tick(defs, None, instance)

    edit_table(genfile, "account", "records = 50", "records = 60")
    changed = build_definitions(genfile, target=pg_url)  # what a run worker loads
    tick = _tick(defs, first.cursor, instance)
    (request,) = tick.run_requests or []
    assert _tables(request) == ["account"] and request.partition_key is None

    # Until account's new rows are in, the event table waits.
    held = _tick(defs, tick.cursor, instance)
    assert not held.run_requests and "event" in (held.skip_message or "")

    masters = _run(changed, instance, request)
    assert masters.success, failure_messages(masters)
    after = _tick(defs, held.cursor, instance)
    (day,) = after.run_requests or []
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    assert _tables(day) == ["event"] and day.partition_key == yesterday.isoformat()
    events = _run(changed, instance, day)
    assert events.success, failure_messages(events)
    assert check_results(events)["event", "no_orphan_account_id"].passed
    assert query(pg_url, "SELECT count(*) FROM event")[0][0] == 200

    done = _tick(defs, after.cursor, instance)  # nothing left to request
    assert not done.run_requests


def test_tables_the_sensor_regenerated_are_in_sync_after_a_reload(
        tmp_path: Path, pg_url: str) -> None:
    """Before: the assets carried the loaded Genfile's digest as code version, so the
    tables the sensor rewrote from the edited Genfile showed "Unsynced"."""
    genfile = copy_genfile(tmp_path, "bank.toml")
    loaded = build_definitions(genfile, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize(loaded, instance).success
    first = _tick(loaded, None, instance)

    edit_table(genfile, "customer", "records = 120", "records = 130")
    edited = build_definitions(genfile, target=pg_url)
    tick = _tick(loaded, first.cursor, instance)
    for request in tick.run_requests or []:
        result = _run(edited, instance, request)
        assert result.success, failure_messages(result)

    for defs in (loaded, edited):  # the location as it was, and reloaded
        assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
        resolver = get_stale_status_resolver(instance, assets)
        statuses = {a.key.path[-1]: resolver.get_status(a.key) for a in assets}
        assert set(statuses.values()) == {StaleStatus.FRESH}, statuses


def test_rewriting_a_parent_from_the_same_definition_leaves_its_children_in_sync(
        tmp_path: Path, pg_url: str) -> None:
    defs = build_definitions(copy_genfile(tmp_path, "bank.toml"), target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize(defs, instance).success
    assert materialize(defs, instance, selection=["customer"]).success  # the same rows

    assets = [a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition)]
    resolver = get_stale_status_resolver(instance, assets)
    assert resolver.get_status(dg.AssetKey(["account"])) == StaleStatus.FRESH

    edit_table(Path(str(defs.resources["datastorm"].genfile)), "customer",
               "records = 120", "records = 121")
    edited = build_definitions(defs.resources["datastorm"].genfile, target=pg_url)
    assert materialize(edited, instance, selection=["customer"]).success
    resolver = get_stale_status_resolver(instance, assets)
    # Other rows in the parent: the children drew their keys from the old ones.
    assert resolver.get_status(dg.AssetKey(["account"])) == StaleStatus.STALE


def test_static_partitions_and_a_daily_table_load_with_a_schedule_each(tmp_path: Path) -> None:
    """Before: one schedule selected both, and Dagster refused to load the definitions."""
    genfile = copy_genfile(tmp_path, "events.toml", partitions=2)
    defs = build_definitions(genfile)
    dg.Definitions.validate_loadable(defs)

    names = sorted(s.name for s in defs.schedules or [])
    assert names == ["datastorm_nightly_refresh", "datastorm_nightly_refresh_days_from_20260101"]
    tick = datetime(2026, 2, 10, 2, 0, tzinfo=timezone.utc)
    by_schedule = {}
    for name in names:
        context = dg.build_schedule_context(scheduled_execution_time=tick,
                                            repository_def=defs.get_repository_def())
        requests = defs.resolve_schedule_def(name).evaluate_tick(context).run_requests or []
        by_schedule[name] = sorted((r.partition_key, tuple(_tables(r))) for r in requests)
    assert by_schedule == {
        "datastorm_nightly_refresh": [("0", ("account",)), ("1", ("account",))],
        "datastorm_nightly_refresh_days_from_20260101": [("2026-02-09", ("event",))],
    }


def test_daily_tables_of_two_start_dates_load(tmp_path: Path) -> None:
    genfile = copy_genfile(tmp_path, "events.toml")
    text = genfile.read_text(encoding="utf-8")
    later = text[text.index("[event]"):].replace("[event", "[late_event").replace(
        'start_date = "2026-01-01"', 'start_date = "2026-01-15"')
    genfile.write_text(text + "\n" + later, encoding="utf-8")

    defs = build_definitions(genfile)
    dg.Definitions.validate_loadable(defs)

    assert sorted(s.name for s in defs.schedules or []) == [
        "datastorm_nightly_refresh", "datastorm_nightly_refresh_days_from_20260115"]


def test_a_day_past_now_is_written_and_previewed(tmp_path: Path, pg_url: str) -> None:
    """Before: a day past `now` (no rows in the row count yet) was committed, then the
    preview failed the step with a zero-size array."""
    defs = build_definitions(copy_genfile(tmp_path, "events.toml"), target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize(defs, instance, selection=["account"]).success

    result = materialize(defs, instance, selection=["event"], partition_key="2026-03-15")

    assert result.success, failure_messages(result)
    (event,) = result.get_asset_materialization_events()
    preview = metadata_value(event.materialization.metadata["datastorm/preview"])
    assert preview.count("\n") == 1 + 5  # header, rule and five rows
    day = date(2026, 3, 15)
    rows = query(pg_url, "SELECT count(*), min(happened_at), max(happened_at) FROM event")[0]
    assert rows[0] == 200
    assert rows[1].date() == day and rows[2].date() == day
    assert check_results(result)["event", "row_count"].passed

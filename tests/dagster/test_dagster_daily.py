"""Event tables partitioned by day: one Dagster partition a day, refreshed nightly."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest
from dagster_support import (
    check_results,
    copy_genfile,
    edit_table,
    failure_messages,
    materialize,
    query,
)

from datastorm_dagster import build_definitions

pytestmark = pytest.mark.postgres


def _assets(defs: dg.Definitions) -> dict[str, dg.AssetsDefinition]:
    return {a.key.path[-1]: a for a in defs.assets or []}


def test_an_event_table_has_one_partition_a_day_and_masters_none(tmp_path: Path) -> None:
    defs = build_definitions(copy_genfile(tmp_path, "events.toml"))
    assets = _assets(defs)
    daily = assets["event"].partitions_def
    assert isinstance(daily, dg.DailyPartitionsDefinition)
    assert daily.start.date().isoformat() == "2026-01-01"
    assert assets["account"].partitions_def is None


def test_materializing_a_day_writes_that_days_rows_and_a_rerun_rewrites_them(
        tmp_path: Path, pg_url: str) -> None:
    defs = build_definitions(copy_genfile(tmp_path, "events.toml"), target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    masters = materialize(defs, instance, selection=["account"])
    assert masters.success, failure_messages(masters)
    for _ in range(2):  # the second time rewrites the same rows
        day = materialize(defs, instance, selection=["event"], partition_key="2026-01-05")
        assert day.success, failure_messages(day)
    rows = query(pg_url, "SELECT count(*), min(id), max(id), min(happened_at), "
                         "max(happened_at) FROM event")[0]
    assert rows[:3] == (200, 4 * 200 + 1, 5 * 200)
    assert rows[3] >= datetime(2026, 1, 5) and rows[4] < datetime(2026, 1, 6)
    checks = check_results(day)
    assert checks["event", "row_count"].passed  # one day materialized: 200 rows expected
    assert checks["event", "no_orphan_account_id"].passed
    another = materialize(defs, instance, selection=["event"], partition_key="2026-01-06")
    assert check_results(another)["event", "row_count"].passed
    assert query(pg_url, "SELECT count(*) FROM event")[0][0] == 400


def test_the_nightly_schedule_refreshes_masters_and_the_day_that_ended(tmp_path: Path) -> None:
    defs = build_definitions(copy_genfile(tmp_path, "events.toml"))
    schedule = defs.get_schedule_def("datastorm_nightly_refresh")
    tick = datetime(2026, 2, 10, 2, 0, tzinfo=timezone.utc)
    context = dg.build_schedule_context(scheduled_execution_time=tick,
                                        repository_def=defs.get_repository_def())
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    by_partition = {r.partition_key: sorted(k.path[-1] for k in r.asset_selection or [])
                    for r in requests}
    assert by_partition == {None: ["account"], "2026-02-09": ["event"]}


def test_the_sensor_requests_yesterday_of_a_changed_event_table(tmp_path: Path) -> None:
    genfile = copy_genfile(tmp_path, "events.toml")
    defs = build_definitions(genfile)
    sensor = defs.get_sensor_def("datastorm_genfile_sensor")
    instance = dg.DagsterInstance.ephemeral()
    first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    edit_table(genfile, "event", "max = 500", "max = 900")
    data = sensor.evaluate_tick(dg.build_sensor_context(cursor=first.cursor, instance=instance,
                                                        definitions=defs))
    (request,) = data.run_requests
    assert [k.path[-1] for k in request.asset_selection] == ["event"]
    yesterday = datetime.now(timezone.utc).date().toordinal() - 1
    assert request.partition_key == datetime.fromordinal(yesterday).date().isoformat()

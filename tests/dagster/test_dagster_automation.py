"""The Genfile sensor and the refresh schedule, evaluated as the daemon would."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster_support import FIXTURES, copy_genfile, edit_genfile, edit_table

from datastorm_core.genfile import load_genfile
from datastorm_dagster import DatastormTranslator, DatastormTranslatorSettings, build_definitions
from datastorm_dagster.automation import DEFAULT_REFRESH_CRON

SENSOR = "datastorm_genfile_sensor"
SCHEDULE = "datastorm_nightly_refresh"
TICK = datetime(2026, 3, 1, 2, 0)


def _sensor(defs: dg.Definitions) -> dg.SensorDefinition:
    sensors = [s for s in defs.sensors or [] if "genfile" in s.name]
    assert len(sensors) == 1
    return defs.resolve_sensor_def(sensors[0].name)


def _tick(defs: dg.Definitions, cursor: str | None,
          instance: dg.DagsterInstance) -> dg.SensorExecutionData:
    context = dg.build_sensor_context(cursor=cursor, definitions=defs, instance=instance)
    return _sensor(defs).evaluate_tick(context)


def _tables(request: dg.RunRequest) -> list[str]:
    return [key.path[-1] for key in request.asset_selection or ()]


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


@pytest.fixture
def watched(tmp_path: Path, instance: dg.DagsterInstance
            ) -> tuple[Path, dg.Definitions, str]:
    """A Genfile copy, its definitions, and the cursor of the sensor's first look."""
    genfile = copy_genfile(tmp_path, "bank.toml")
    defs = build_definitions(genfile)
    first = _tick(defs, None, instance)
    assert first.cursor is not None
    return genfile, defs, first.cursor


def test_sensor_first_look_records_digests_and_requests_nothing(
        tmp_path: Path, instance: dg.DagsterInstance) -> None:
    genfile = copy_genfile(tmp_path, "bank.toml")
    defs = build_definitions(genfile)

    data = _tick(defs, None, instance)

    assert not data.run_requests
    assert data.skip_message
    assert json.loads(data.cursor or "{}")["digests"] == dict(load_genfile(genfile).table_digests)
    # Nothing changed since: still nothing to do, and no run.
    again = _tick(defs, data.cursor, instance)
    assert not again.run_requests and again.skip_message


def test_sensor_is_named_for_the_genfile_and_runs_by_default(tmp_path: Path) -> None:
    sensor = _sensor(build_definitions(copy_genfile(tmp_path, "bank.toml")))

    assert "genfile" in sensor.name
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_sensor_requests_a_changed_parent_with_its_dependents_only(
        watched: tuple[Path, dg.Definitions, str], instance: dg.DagsterInstance) -> None:
    genfile, defs, cursor = watched
    edit_table(genfile, "customer", 'type = "name"', 'type = "first_name"')

    data = _tick(defs, cursor, instance)

    assert len(data.run_requests or []) == 1
    assert sorted(_tables(data.run_requests[0])) == ["account", "customer", "payment"]
    assert data.run_requests[0].partition_key is None
    assert json.loads(data.cursor or "{}")["digests"] == dict(load_genfile(genfile).table_digests)


def test_sensor_requests_a_changed_middle_table_with_what_is_below_it(
        watched: tuple[Path, dg.Definitions, str], instance: dg.DagsterInstance) -> None:
    genfile, defs, cursor = watched
    edit_table(genfile, "account", "records = 300", "records = 310")

    data = _tick(defs, cursor, instance)

    assert [sorted(_tables(r)) for r in data.run_requests or []] == [["account", "payment"]]


def test_sensor_requests_only_a_changed_leaf(
        watched: tuple[Path, dg.Definitions, str], instance: dg.DagsterInstance) -> None:
    genfile, defs, cursor = watched
    edit_table(genfile, "payment", "max = 900", "max = 901")

    data = _tick(defs, cursor, instance)

    assert [_tables(r) for r in data.run_requests or []] == [["payment"]]


def test_sensor_ignores_a_change_of_target(
        watched: tuple[Path, dg.Definitions, str], instance: dg.DagsterInstance) -> None:
    genfile, defs, cursor = watched
    edit_genfile(genfile, "[dataset]\n", '[target]\nurl = "sqlite:///elsewhere.db"\n\n[dataset]\n')

    data = _tick(defs, cursor, instance)

    assert not data.run_requests


def test_sensor_requests_everything_when_the_seed_changes(
        watched: tuple[Path, dg.Definitions, str], instance: dg.DagsterInstance) -> None:
    genfile, defs, cursor = watched
    edit_genfile(genfile, "seed = 7", "seed = 8")

    data = _tick(defs, cursor, instance)

    assert [sorted(_tables(r)) for r in data.run_requests or []] == [
        ["account", "customer", "payment", "product"]]


@pytest.mark.parametrize("breakage", ["unknown type", "toml syntax", "missing file"])
def test_sensor_skips_an_invalid_genfile_and_keeps_its_cursor(
        watched: tuple[Path, dg.Definitions, str], instance: dg.DagsterInstance,
        breakage: str) -> None:
    genfile, defs, cursor = watched
    if breakage == "unknown type":
        edit_table(genfile, "customer", 'type = "name"', 'type = "nome"')
        expected = '"nome"'
    elif breakage == "toml syntax":
        genfile.write_text(genfile.read_text(encoding="utf-8") + "\n[broken\n", encoding="utf-8")
        expected = "line"
    else:
        genfile.unlink()
        expected = "no such file"

    data = _tick(defs, cursor, instance)

    assert not data.run_requests
    assert data.skip_message and "does not validate" in data.skip_message
    assert expected in data.skip_message
    assert data.cursor in (None, cursor)  # a skip leaves the cursor where it was


def test_sensor_requests_a_change_again_after_it_was_reverted(
        watched: tuple[Path, dg.Definitions, str], instance: dg.DagsterInstance) -> None:
    """A -> B, B -> A, A -> B: the third change must reach the daemon as a new run.

    The daemon drops any run request whose run_key an earlier run of the sensor
    already used, so a run key must not be a function of the Genfile alone.
    """
    genfile, defs, cursor_a = watched
    original = genfile.read_text(encoding="utf-8")
    edit_table(genfile, "payment", "max = 900", "max = 901")
    first = _tick(defs, cursor_a, instance)
    genfile.write_text(original, encoding="utf-8")
    back = _tick(defs, first.cursor, instance)
    assert [_tables(r) for r in back.run_requests or []] == [["payment"]]
    edit_table(genfile, "payment", "max = 900", "max = 901")

    again = _tick(defs, back.cursor, instance)

    assert [_tables(r) for r in again.run_requests or []] == [["payment"]]
    used = {r.run_key for r in [*(first.run_requests or []), *(back.run_requests or [])]}
    assert all(r.run_key is None or r.run_key not in used for r in again.run_requests or [])


def test_sensor_requests_one_run_per_partition(
        tmp_path: Path, instance: dg.DagsterInstance) -> None:
    genfile = copy_genfile(tmp_path, "bank.toml", partitions=3)
    defs = build_definitions(genfile)
    cursor = _tick(defs, None, instance).cursor
    edit_table(genfile, "account", "records = 300", "records = 303")

    data = _tick(defs, cursor, instance)

    requests = data.run_requests or []
    assert sorted(r.partition_key for r in requests) == ["0", "1", "2"]
    assert all(sorted(_tables(r)) == ["account", "payment"] for r in requests)


def test_sensor_follows_the_translators_keys(tmp_path: Path,
                                            instance: dg.DagsterInstance) -> None:
    genfile = copy_genfile(tmp_path, "bank.toml")
    translator = DatastormTranslator(DatastormTranslatorSettings(key_prefix=("raw",)))
    defs = build_definitions(genfile, translator=translator)
    cursor = _tick(defs, None, instance).cursor
    edit_table(genfile, "account", "records = 300", "records = 310")

    data = _tick(defs, cursor, instance)

    assert {key for r in data.run_requests or [] for key in r.asset_selection or ()} == {
        dg.AssetKey(["raw", "account"]), dg.AssetKey(["raw", "payment"])}


# -- the schedule ----------------------------------------------------------------------


def _schedule(defs: dg.Definitions) -> dg.ScheduleDefinition:
    return defs.resolve_schedule_def(SCHEDULE)


def _schedule_tick(defs: dg.Definitions, when: datetime = TICK) -> dg.ScheduleExecutionData:
    context = dg.build_schedule_context(scheduled_execution_time=when,
                                        repository_def=defs.get_repository_def())
    return _schedule(defs).evaluate_tick(context)


def test_schedule_refreshes_everything_nightly_by_default() -> None:
    defs = build_definitions(FIXTURES / "bank.toml")
    schedule = _schedule(defs)

    assert schedule.cron_schedule == DEFAULT_REFRESH_CRON == "0 2 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING

    data = _schedule_tick(defs)

    requests = data.run_requests or []
    assert len(requests) == 1
    assert sorted(_tables(requests[0])) == ["account", "customer", "payment", "product"]
    assert requests[0].partition_key is None


def test_schedule_honours_refresh_cron() -> None:
    schedule = _schedule(build_definitions(FIXTURES / "refresh_cron.toml"))

    assert schedule.cron_schedule == "15 3 * * 1"


def test_schedule_requests_every_partition(tmp_path: Path) -> None:
    defs = build_definitions(copy_genfile(tmp_path, "bank.toml", partitions=3))

    data = _schedule_tick(defs)

    requests = data.run_requests or []
    assert sorted(r.partition_key for r in requests) == ["0", "1", "2"]
    assert all(sorted(_tables(r)) == ["account", "customer", "payment", "product"]
               for r in requests)
    # Distinct ticks give distinct run keys, so no night is deduplicated away.
    other = _schedule_tick(defs, datetime(2026, 3, 2, 2, 0))
    assert not {r.run_key for r in requests} & {r.run_key for r in other.run_requests or []}


def test_sensor_waits_for_a_reload_when_the_genfile_gains_a_table(
        watched: tuple[Path, dg.Definitions, str], instance: dg.DagsterInstance) -> None:
    genfile, defs, cursor = watched
    genfile.write_text(genfile.read_text(encoding="utf-8")
                       + '\n[branch.id]\ntype = "sequence"\n', encoding="utf-8")

    stale = _tick(defs, cursor, instance)  # the code location has no `branch` asset yet
    assert not stale.run_requests
    assert stale.skip_message and "branch" in stale.skip_message
    assert "reload" in stale.skip_message
    assert stale.cursor in (None, cursor)

    reloaded = build_definitions(genfile)  # what a reload of the code location builds
    data = _tick(reloaded, cursor, instance)
    assert [_tables(r) for r in data.run_requests] == [["branch"]]


def test_sensor_sees_an_edited_word_dictionary(tmp_path: Path,
                                               instance: dg.DagsterInstance) -> None:
    words = tmp_path / "segments.txt"
    words.write_text("retail\nprivate\n", encoding="utf-8")
    genfile = tmp_path / "Genfile.toml"
    genfile.write_text("""
[customer]
records = 20
id = { type = "sequence" }
segment = { type = "word", dictionary = "segments.txt" }

[account]
records = 30
id = { type = "sequence" }
customer_id = { type = "reference", ref = "customer.id" }
""", encoding="utf-8")
    defs = build_definitions(genfile)
    first = _tick(defs, None, instance)
    assert not first.run_requests

    words.write_text("retail\nprivate\ncorporate\n", encoding="utf-8")  # the file, not the TOML
    data = _tick(defs, first.cursor, instance)

    assert [sorted(_tables(r)) for r in data.run_requests or []] == [["account", "customer"]]

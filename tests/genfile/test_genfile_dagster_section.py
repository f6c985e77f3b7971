"""``[dagster]``: typed settings, refused with their line when wrong."""

from __future__ import annotations

import pytest

from datastorm_core.errors import GenfileError
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.model import DagsterSettings

TABLE = '[t]\nrecords = 1\n[t.id]\ntype = "sequence"\n'


def test_the_settings_are_typed_with_their_defaults() -> None:
    assert loads_genfile(TABLE).dagster == DagsterSettings("0 2 * * *", None, 1000)
    given = loads_genfile('[dagster]\nrefresh_cron = " 0 3 * * 1-5 "\n'
                          'stream_cron = "@hourly"\nstream_events = 50\n' + TABLE)
    assert given.dagster == DagsterSettings("0 3 * * 1-5", "@hourly", 50)


@pytest.mark.parametrize(("setting", "message"), [
    ('refresh_corn = "0 2 * * *"', "unknown option 'refresh_corn'"),
    ('refresh_cron = "0 2 * *"', "refresh_cron must be a cron string of five fields"),
    ('refresh_cron = 2', "refresh_cron must be a cron string"),
    ('stream_cron = "every day"', "stream_cron must be a cron string"),
    ('stream_events = 0', "stream_events must be an integer of at least 1"),
    ('stream_events = "10"', "stream_events must be an integer"),
])
def test_a_wrong_setting_is_refused_with_its_line(setting: str, message: str) -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(f"[dagster]\n{setting}\n" + TABLE)
    (problem,) = caught.value.problems
    assert message in problem.message and problem.line == 1


def test_dagster_must_be_a_table() -> None:
    with pytest.raises(GenfileError, match=r"\[dagster\] must be a table"):
        loads_genfile('dagster = 3\n' + TABLE)

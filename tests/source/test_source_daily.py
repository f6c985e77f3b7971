"""Event tables partitioned by day: rows of a day, times inside it, and the rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from datastorm_core.errors import GenfileError, UsageError
from datastorm_core.genfile import loads_genfile
from datastorm_core.run import RunOptions, plan
from datastorm_core.source import Source

EVENTS = """
[dataset]
now = "2026-01-31"

[account.id]
type = "sequence"

[event]
partition_by = "day"
time_field = "at"
start_date = "2026-01-01"
rows_per_day = 500

[event.id]
type = "sequence"

[event.account_id]
type = "reference"
ref = "account.id"

[event.at]
type = "timestamp"

[event.booked_on]
type = "date"
"""


def test_a_day_is_a_row_range_whose_times_fall_inside_it_in_order() -> None:
    genfile = loads_genfile(EVENTS)
    table = genfile.table("event")
    assert table.records == 30 * 500  # the days from start_date up to [dataset] now
    source = Source(genfile)
    assert source.check() == []
    for day in (date(2026, 1, 1), date(2026, 1, 17), date(2026, 3, 2)):  # past `now` too
        start, stop = table.daily.rows_of(day)
        assert stop - start == 500
        times = source.chunk("event", start, stop).columns["at"].values.astype(datetime)
        midnight = datetime(day.year, day.month, day.day)
        assert all(midnight <= t < midnight + timedelta(days=1) for t in times)
        assert (np.diff(source.chunk("event", start, stop).columns["at"].values
                        .astype("int64")) >= 0).all()


def test_the_day_option_plans_that_days_rows() -> None:
    genfile = loads_genfile(EVENTS)
    (only,) = plan(genfile, RunOptions(tables=["event"], day=date(2026, 1, 3)))
    assert (only.start, only.stop) == (1000, 1500)
    with pytest.raises(UsageError, match="account"):
        plan(genfile, RunOptions(day=date(2026, 1, 3)))
    with pytest.raises(UsageError, match="starts on 2026-01-01"):
        plan(genfile, RunOptions(tables=["event"], day=date(2025, 12, 31)))


@pytest.mark.parametrize(("old", "new", "fragment"), [
    ("rows_per_day = 500", "", "needs rows_per_day"),
    ('time_field = "at"', "", "needs time_field"),
    ("rows_per_day = 500", "rows_per_day = 500\nrecords = 9", "remove records"),
    ("rows_per_day = 500", "rows_per_day = 0", "rows_per_day must be"),
    ('time_field = "at"', 'time_field = "account_id"', "must name a timestamp or date field"),
    ('[event.at]\ntype = "timestamp"', '[event.at]\ntype = "timestamp"\nstart = "-1y"',
     "remove start"),
])
def test_daily_mistakes_are_named(old: str, new: str, fragment: str) -> None:
    with pytest.raises(GenfileError) as caught:
        loads_genfile(EVENTS.replace(old, new))
    assert any(fragment in p.message and p.table == "event" for p in caught.value.problems), \
        caught.value.problems


def test_events_cannot_be_parents() -> None:
    text = EVENTS + '[audit.id]\ntype = "sequence"\n[audit.event_id]\ntype = "reference"\n' \
                    'ref = "event.id"\n'
    with pytest.raises(GenfileError, match="partitioned by day"):
        loads_genfile(text)

"""Date expressions: ISO 8601, TOML dates, "now", "today" and offsets from [dataset] now."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datastorm_core.errors import GenfileError
from datastorm_core.genfile import loads_genfile
from datastorm_core.genfile.timeexpr import TimeExprError, parse_anchor, resolve_time

ANCHOR = datetime(2026, 1, 1)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("now", datetime(2026, 1, 1)),
        ("today", datetime(2026, 1, 1)),
        ("-5y", datetime(2021, 1, 1)),
        ("+30d", datetime(2026, 1, 31)),
        ("-6m", datetime(2025, 7, 1)),
        ("-2w", datetime(2025, 12, 18)),
        ("-12h", datetime(2025, 12, 31, 12)),
        ("-90min", datetime(2025, 12, 31, 22, 30)),
        ("+10s", datetime(2026, 1, 1, 0, 0, 10)),
        ("+ 30 d", datetime(2026, 1, 31)),
        ("2024-01-31", datetime(2024, 1, 31)),
        ("2024-01-31T12:34:56", datetime(2024, 1, 31, 12, 34, 56)),
        ("2024-01-31T12:00:00+02:00", datetime(2024, 1, 31, 10)),  # to UTC, then naive
        (date(2024, 2, 29), datetime(2024, 2, 29)),
        (datetime(2024, 2, 29, 8, 30), datetime(2024, 2, 29, 8, 30)),
        (datetime(2024, 2, 29, 8, 30, tzinfo=timezone.utc), datetime(2024, 2, 29, 8, 30)),
    ],
)
def test_resolve_time(expression: object, expected: datetime) -> None:
    assert resolve_time(expression, ANCHOR) == expected


def test_today_is_the_anchor_at_midnight() -> None:
    assert resolve_time("today", datetime(2025, 6, 30, 17, 45)) == datetime(2025, 6, 30)
    assert resolve_time("now", datetime(2025, 6, 30, 17, 45)) == datetime(2025, 6, 30, 17, 45)


@pytest.mark.parametrize(
    ("anchor", "offset", "expected"),
    [
        (datetime(2024, 1, 31), "+1m", datetime(2024, 2, 29)),  # leap year: clamp to the 29th
        (datetime(2023, 1, 31), "+1m", datetime(2023, 2, 28)),
        (datetime(2024, 2, 29), "+1y", datetime(2025, 2, 28)),
        (datetime(2024, 3, 31), "-1m", datetime(2024, 2, 29)),
        (datetime(2024, 5, 31), "+1m", datetime(2024, 6, 30)),
        (datetime(2024, 12, 15), "+1m", datetime(2025, 1, 15)),
        (datetime(2024, 1, 15), "-13m", datetime(2022, 12, 15)),
    ],
)
def test_month_arithmetic_keeps_or_clamps_the_day(anchor: datetime, offset: str,
                                                   expected: datetime) -> None:
    assert resolve_time(offset, anchor) == expected


@given(days=st.integers(min_value=-100_000, max_value=100_000),
       hours=st.integers(min_value=-10_000, max_value=10_000))
@settings(max_examples=50, deadline=None)
def test_fixed_units_agree_with_timedelta(days: int, hours: int) -> None:
    def signed(n: int, unit: str) -> str:
        return f"{'+' if n >= 0 else '-'}{abs(n)}{unit}"

    assert resolve_time(signed(days, "d"), ANCHOR) == ANCHOR + timedelta(days=days)
    assert resolve_time(signed(hours, "h"), ANCHOR) == ANCHOR + timedelta(hours=hours)


@pytest.mark.parametrize("bad", ["5y", "-5x", "yesterday", "2024-13-01", "", "-y", 3, None])
def test_unreadable_expressions(bad: object) -> None:
    with pytest.raises(TimeExprError):
        resolve_time(bad, ANCHOR)


def test_anchor_forms() -> None:
    assert parse_anchor("2025-06-30") == datetime(2025, 6, 30)
    assert parse_anchor(date(2025, 6, 30)) == datetime(2025, 6, 30)
    assert parse_anchor("now") == datetime(2026, 1, 1)  # the fixed default, not the clock
    assert parse_anchor("-1y") == datetime(2025, 1, 1)
    before = date.today()
    today = parse_anchor("today")
    after = date.today()
    assert today.time() == datetime.min.time()
    assert before <= today.date() <= after


def test_default_anchor_is_fixed() -> None:
    genfile = loads_genfile('[t.id]\ntype = "sequence"\n', environ={})
    assert genfile.dataset.now == datetime(2026, 1, 1)


@pytest.mark.parametrize(
    ("now_line", "expected"),
    [
        ('now = "2025-06-30"', datetime(2025, 6, 30)),
        ("now = 2025-06-30", datetime(2025, 6, 30)),
        ("now = 2025-06-30T08:00:00", datetime(2025, 6, 30, 8)),
        ('now = "-1y"', datetime(2025, 1, 1)),
    ],
)
def test_dataset_now_accepts_strings_and_toml_dates(now_line: str, expected: datetime) -> None:
    genfile = loads_genfile(f'[dataset]\n{now_line}\n[t.id]\ntype = "sequence"\n', environ={})
    assert genfile.dataset.now == expected


def test_relative_field_bounds_are_anchored_on_dataset_now() -> None:
    # end "-1d" of an anchor 2025-06-30 is 2025-06-29: "start" 2025-06-29T12 is after it.
    text = ('[dataset]\nnow = "2025-06-30"\n[t.id]\ntype = "sequence"\n'
            '[t.d]\ntype = "timestamp"\nstart = "2025-06-29T12:00:00"\nend = "-1d"\n')
    with pytest.raises(GenfileError) as caught:
        loads_genfile(text, environ={})
    (problem,) = caught.value.problems
    assert (problem.table, problem.field) == ("t", "d")
    assert "2025-06-29 12:00:00" in problem.message and "2025-06-29 00:00:00" in problem.message
    # The same bounds hold with the default anchor (2026-01-01).
    loads_genfile(text.replace('now = "2025-06-30"', ""), environ={})


def test_toml_date_literals_are_accepted_for_fields() -> None:
    genfile = loads_genfile('[t.id]\ntype = "sequence"\n[t.d]\ntype = "date"\n'
                            "start = 2024-01-01\nend = 2024-12-31\n", environ={})
    assert genfile.table("t").field("d").param("start") == date(2024, 1, 1)

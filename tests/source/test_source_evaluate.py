"""The evaluator against hand-computed values: every operator and function, NULLs, decimals
kept exact, the calendar's month ends, and results that no column holds (NULL)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pytest
from expr_support import column, run, typed

from datastorm_core.core.schema import ValueSpace
from datastorm_core.genfile.expressions import FUNCTIONS as LANGUAGE
from datastorm_core.genfile.expressions import names_in
from datastorm_core.genfile.expressions.tree import FLOAT, INT, TEXT, decimal
from datastorm_core.source.services.evaluate import evaluate_column
from datastorm_core.source.services.expr_bounds import analyse
from datastorm_core.source.services.expr_calendar import add_interval
from datastorm_core.source.services.expr_functions import FUNCTIONS as IMPLEMENTED

BIG = 2**62
D = Decimal


def test_every_function_of_the_language_has_an_implementation() -> None:
    assert set(LANGUAGE) == set(IMPLEMENTED)


# -- ints: Python's semantics, NULL where no int64 holds the value -------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("a + b", [10, -4, 0, None]), ("a - b", [4, -10, 0, None]), ("a * b", [21, -21, 0, None]),
    ("a // b", [2, -3, None, None]), ("a % b", [1, 2, None, None]),
    ("a / b", [7 / 3, -7 / 3, None, None]), ("a ** 2", [49.0, 49.0, 0.0, 1.0]),
    ("-a", [-7, 7, 0, -1]), ("abs(a)", [7, 7, 0, 1]),
])
def test_int_operators(text: str, expected: list[object]) -> None:
    assert run(text, a=[7, -7, 0, 1], b=[3, 3, 0, None]) == expected


def test_int_overflow_is_null_not_a_wrapped_number() -> None:
    assert run("a + b", a=[2**63 - 1, BIG, -(2**63)], b=[1, BIG - 1, -1]) == \
        [None, 2**63 - 1, None]
    assert run("a - b", a=[-(2**63), 0, 5], b=[1, -(2**63), 3]) == [None, None, 2]
    assert run("a * b", a=[BIG, 3_000_000_000, -5], b=[2, 3_000_000_000, 4]) == \
        [None, 9_000_000_000_000_000_000, -20]
    assert run("-a", a=[-(2**63), 5]) == [None, -5]
    assert run("abs(a)", a=[-(2**63), -5]) == [None, 5]
    assert run("a // b", a=[-(2**63), 7], b=[-1, -2]) == [None, -4]


# -- decimals: exact on int64 counts -------------------------------------------------------

def test_decimal_sums_and_products_are_exact() -> None:
    assert run("p + q", p=[D("0.10"), D("-1.05")], q=[D("0.20"), D("1.05")]) == \
        [D("0.30"), D("0.00")]
    assert run("p * a", p=[D("19.99"), D("0.01")], a=[3, -7]) == [D("59.97"), D("-0.07")]
    assert run("p * r", p=[D("1.10")], r=[D("0.0125")]) == [D("0.013750")]
    assert run("p + r", p=[D("1.10")], r=[D("0.0125")]) == [D("1.1125")]
    assert run("p * 1.1", p=[D("67.82")]) == [D("74.602")]
    assert run("p % 0.25", p=[D("1.10"), D("-1.10")]) == [D("0.10"), D("0.15")]
    assert run("p // q", p=[D("1.10"), D("-1.10")], q=[D("0.25"), D("0.25")]) == [4, -5]
    assert run("p / a", p=[D("1.00")], a=[3]) == [1 / 3]  # through float64


def test_decimal_rounding_is_half_away_from_zero() -> None:
    assert run("round(p)", p=[D("2.50"), D("-2.50"), D("2.49"), D("-0.50")]) == [3, -3, 2, -1]
    assert run("round(r, 2)", r=[D("0.1250"), D("-0.1250"), D("0.1249")]) == \
        [D("0.13"), D("-0.13"), D("0.12")]
    assert run("floor(p)", p=[D("2.50"), D("-2.50")]) == [2, -3]
    assert run("ceil(p)", p=[D("2.50"), D("-2.50"), D("3.00")]) == [3, -2, 3]
    assert run("abs(p)", p=[D("-2.50")]) == [D("2.50")]


def test_an_expr_made_decimal_rounds_half_away_from_its_places() -> None:
    # Scaled in float64, then rounded: 1.005 * 100 is 100.49999999999999 and 2.675 * 100 is
    # 267.5; -0.125 * 100 is exactly -12.5, whose half goes away from zero.
    assert run("x", want=decimal(2), x=[1.005, 2.675, -0.125, 0.5, 1e30]) == \
        [D("1.00"), D("2.68"), D("-0.13"), D("0.50"), None]
    assert run("r", want=decimal(2), r=[D("1.0050"), D("-1.0050")]) == [D("1.01"), D("-1.01")]
    assert run("p", want=INT, p=[D("2.50"), D("-2.49")]) == [3, -2]
    assert run("a", want=decimal(3), a=[5, BIG]) == [D("5.000"), None]


# -- floats: IEEE, with inf and nan NULL ---------------------------------------------------

def test_float_results_that_are_not_numbers_are_null() -> None:
    assert run("x ** 0.5", x=[4.0, -4.0]) == [2.0, None]
    assert run("x * y", x=[1e200, 2.0], y=[1e200, 3.5]) == [None, 7.0]
    assert run("x / y", x=[1.0, 1.0], y=[0.0, 4.0]) == [None, 0.25]
    assert run("round(x)", x=[2.5, 3.5, -2.5, 1e30]) == [2, 4, -2, None]  # half to even
    assert run("round(x, 1)", x=[0.25, 1.26]) == [0.2, 1.3]
    assert run("floor(x)", x=[-0.5, 1e300]) == [-1, None]
    assert run("x // y", x=[7.5, -7.5], y=[2.0, 2.0]) == [3.0, -4.0]
    assert run("x % y", x=[7.5, -7.5], y=[2.0, 2.0]) == [1.5, 0.5]


# -- comparisons, logic, choices -----------------------------------------------------------

def test_comparisons_chained_and_mixed() -> None:
    assert run("a < b <= 3", a=[1, 2, 1], b=[3, 2, 4]) == [True, False, False]
    assert run("a == p", a=[2, 2], p=[D("2.00"), D("2.01")]) == [True, False]
    assert run("s < t", s=["abc", "b"], t=["abd", "a"]) == [True, False]
    assert run("d < ts", d=[date(2024, 1, 1)], ts=[datetime(2024, 1, 1, 0, 0, 1)]) == [True]
    assert run("ts - d >= hours(1)", d=[date(2024, 1, 1)], ts=[datetime(2024, 1, 1, 1)]) == \
        [True]
    assert run("a != b", a=[1, None], b=[2, 2]) == [True, None]


def test_and_or_not_follow_sql_with_null() -> None:
    ok = [True, True, True, False, False, False, None, None, None]
    no = [True, False, None, True, False, None, True, False, None]
    assert run("ok and no", ok=ok, no=no) == [True, False, None, False, False, False, None,
                                                False, None]
    assert run("ok or no", ok=ok, no=no) == [True, True, True, True, False, None, True, None,
                                               None]
    assert run("not ok", ok=[True, False, None]) == [False, True, None]


def test_if_else_takes_the_else_branch_for_a_null_condition() -> None:
    assert run("a if ok else b", ok=[True, False, None], a=[1, 2, 3], b=[10, None, 30]) == \
        [1, None, 30]


def test_in_and_not_in() -> None:
    assert run("s in ['a', 'b']", s=["a", "c", None]) == [True, False, None]
    assert run("a not in [1, b]", a=[1, 2, 3], b=[5, None, 3]) == [False, None, False]


# -- the calendar --------------------------------------------------------------------------

def test_months_clip_the_day_to_the_months_end() -> None:
    days = [date(2023, 1, 31), date(2024, 1, 31), date(2024, 3, 31), date(2024, 2, 29),
            date(2023, 12, 15)]
    assert run("d + months(1)", d=days) == [date(2023, 2, 28), date(2024, 2, 29),
                                            date(2024, 4, 30), date(2024, 3, 29),
                                            date(2024, 1, 15)]
    assert run("d - months(1)", d=[date(2024, 3, 31), date(2024, 1, 15)]) == \
        [date(2024, 2, 29), date(2023, 12, 15)]
    assert run("d + years(1)", d=[date(2024, 2, 29)]) == [date(2025, 2, 28)]
    assert run("d + months(a)", d=[date(2023, 1, 31)] * 3, a=[13, -11, 0]) == \
        [date(2024, 2, 29), date(2022, 2, 28), date(2023, 1, 31)]


def months_by_numpy(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The reference: months added by numpy's datetime64, the day clipped at the month's end."""
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    day = days - month.astype("datetime64[D]").astype(np.int64)
    target = month + months.astype("timedelta64[M]")
    start = target.astype("datetime64[D]").astype(np.int64)
    length = (target + np.timedelta64(1, "M")).astype("datetime64[D]").astype(np.int64) - start
    return start + np.minimum(day, length - 1)


@pytest.mark.parametrize(("first", "end"), [("0001-01-01", "10000-01-01"),
                                             ("1900-01-01", "2101-01-01")],
                         ids=["every-year", "the-lookup-window"])
def test_months_agree_with_numpys_calendar_on_every_day(first: str, end: str) -> None:
    # Months are added by table lookups within 1900 to 2100, in int32 arithmetic beyond.
    step = 1 if first == "1900-01-01" else 7  # every day of the window, a week apart beyond
    days = np.arange(np.datetime64(first), np.datetime64(end), step).astype(np.int64)
    zero = np.zeros(len(days), dtype=np.int64)
    drawn = np.random.default_rng(7).integers(-3000, 3000, len(days))  # some leave the window
    for months in (-13, -1, 0, 1, 12, 25, 2411, 119_988, drawn):
        months = np.broadcast_to(months, days.shape)
        assert np.array_equal(add_interval(days, months, zero, timestamp=False)[0],
                              months_by_numpy(days, months))


def test_timestamps_keep_their_time_of_day_even_before_1970() -> None:
    assert run("ts + months(1)", ts=[datetime(2024, 1, 31, 22, 15, 5),
                                     datetime(1969, 12, 31, 23, 0, 0)]) == \
        [datetime(2024, 2, 29, 22, 15, 5), datetime(1970, 1, 31, 23, 0, 0)]
    assert run("ts + days(1) + hours(2) - minutes(3) + seconds(4)",
               ts=[datetime(2024, 2, 28, 23, 0)]) == [datetime(2024, 3, 1, 0, 57, 4)]
    assert run("d + hours(36)", d=[date(2024, 1, 1)]) == [datetime(2024, 1, 2, 12)]
    assert run("d + days(2) * a", d=[date(2024, 1, 1)], a=[3]) == [date(2024, 1, 7)]


def test_differences_of_moments() -> None:
    assert run("d - e", d=[date(2024, 3, 1)], e=[date(2024, 2, 1)]) == [29]
    assert run("ts - tt > days(1)", ts=[datetime(2024, 1, 2, 0, 0, 1)],
               tt=[datetime(2024, 1, 1)]) == [True]


def test_parts_of_dates_and_ages() -> None:
    assert run("year(d) * 10000 + month(d) * 100 + day(d)",
               d=[date(1969, 12, 31), date(2024, 2, 29), date(1, 1, 1)]) == \
        [19691231, 20240229, 10101]
    assert run("date(ts)", ts=[datetime(1969, 12, 31, 23, 59, 59)]) == [date(1969, 12, 31)]
    assert run("month(ts)", ts=[datetime(2024, 12, 31, 23, 59)]) == [12]
    birth = [date(2000, 2, 29)] * 4 + [date(2000, 6, 15)]
    at = [date(2001, 2, 28), date(2001, 3, 1), date(2000, 2, 29), date(1990, 2, 28),
          date(2018, 6, 14)]
    assert run("age(d, e)", d=birth, e=at) == [0, 1, 0, -10, 17]
    assert run("age(d, ts)", d=[date(2000, 1, 1)], ts=[datetime(2018, 1, 1, 0, 0, 1)]) == [18]
    assert run("age(d, now)", d=[date(2008, 1, 1), date(2008, 1, 2)]) == [18, 17]


def test_moments_beyond_the_calendar_are_null() -> None:
    assert run("d + years(a)", d=[date(9999, 1, 1), date(2000, 1, 1)], a=[1, 1]) == \
        [None, date(2001, 1, 1)]
    assert run("d - days(a)", d=[date(1, 1, 1)], a=[1]) == [None]
    assert run("d + days(a)", d=[date(2000, 1, 1)], a=[2**62]) == [None]
    assert run("ts + months(a)", ts=[datetime(2000, 1, 1)], a=[-(2**63)]) == [None]


# -- text ----------------------------------------------------------------------------------

def test_text_functions() -> None:
    assert run("text(p)", p=[D("-0.50"), D("3.00")]) == ["-0.50", "3.00"]
    assert run("concat(s, '#', a, '/', d, '/', ok, '/', x)", s=["ab"], a=[-7],
               d=[date(2024, 1, 31)], ok=[True], x=[0.1]) == ["ab#-7/2024-01-31/true/0.1"]
    assert run("text(ts)", ts=[datetime(2024, 1, 31, 12, 0, 5)]) == ["2024-01-31T12:00:05"]
    assert run("upper(s) + lower(t)", s=["ação"], t=["ÉTÉ"]) == ["AÇÃOété"]
    assert run("concat(s, t)", s=["a", None], t=["b", "c"]) == ["ab", None]
    assert run("a", want=TEXT, a=[42]) == ["42"]


# -- several arguments, NULLs --------------------------------------------------------------

def test_min_max_coalesce() -> None:
    assert run("min(a, b, 5)", a=[1, 9, None], b=[3, 7, 2]) == [1, 5, None]
    assert run("max(s, t)", s=["b", "a"], t=["a", "c"]) == ["b", "c"]
    assert run("max(d, ts)", d=[date(2024, 1, 2)], ts=[datetime(2024, 1, 1, 23)]) == \
        [datetime(2024, 1, 2)]
    assert run("coalesce(a, b, 0)", a=[1, None, None], b=[2, 3, None]) == [1, 3, 0]
    assert run("coalesce(a, p)", a=[None, 2], p=[D("1.25"), D("9.99")]) == [D("1.25"), D("2.00")]


@pytest.mark.parametrize("text", ["a + b", "a - b", "a * b", "a / b", "a // b", "a % b",
                                  "a ** b", "a < b", "a == b", "min(a, b)", "max(a, b)",
                                  "concat(a, b)", "age(d, d)", "d + days(a)", "-a", "abs(a)",
                                  "text(a)", "round(a)", "year(d)", "d - d"])
def test_null_in_gives_null_out(text: str) -> None:
    columns = {"a": [None, 2, 5, None], "b": [3, None, 4, None],
               "d": [date(2000, 1, 1), date(2001, 1, 1), None, None]}
    used = names_in(text)
    made = run(text, **{name: columns[name] for name in used})
    assert [v is None for v in made] == [any(columns[n][i] is None for n in used)
                                         for i in range(4)]


def test_constants_fill_the_chunk() -> None:
    assert run("1 + 2", rows=3) == [3, 3, 3]
    assert run("now + days(1)", rows=2) == [datetime(2026, 1, 2, 12)] * 2
    assert run("'x'", rows=2, want=TEXT) == ["x", "x"]
    assert run("1.5", rows=1, want=FLOAT) == [1.5]


def test_arithmetic_proven_within_64_bits_skips_its_checks_and_agrees() -> None:
    tree = typed("a * p - q + 1")
    spaces = {"a": ValueSpace(low=1, high=10), "p": ValueSpace(low=D("0.00"), high=D("500.00")),
              "q": ValueSpace(low=D("-5.00"), high=D("5.00"))}
    analysis = analyse(tree, spaces.get)
    assert id(tree) in analysis.exact and not analysis.partial
    assert analysis.bounds == (-500 + 100, 500_000 + 500 + 100)
    unbounded = analyse(tree, lambda name: None)
    assert id(tree) not in unbounded.exact and unbounded.partial and unbounded.bounds is None
    row = {"a": column(INT, [3, 10, None]), "p": column(decimal(2), [D("1.99"), D("500"), D(1)]),
           "q": column(decimal(2), [D("-5"), D("5"), D(0)])}
    checked = evaluate_column(tree, row, 3)
    fast = evaluate_column(tree, row, 3, analysis.exact)
    assert fast.to_pylist() == checked.to_pylist() == [1197, 499600, None]

"""Random well-typed expressions over random columns (extremes and NULLs included): the
evaluator never raises, and a chunk's rows are the rows computed one by one."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from expr_support import TYPES, column, python, typed
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.genfile.expressions import ExprType
from datastorm_core.source.services.evaluate import evaluate_column
from datastorm_core.source.services.expr_bounds import analyse, value_space

ROWS = 12
INT64 = 2**63
NAMES: dict[str, list[str]] = {}
for _name, _kind in TYPES.items():
    NAMES.setdefault(_kind.kind if _kind.kind != "decimal" else "decimal", []).append(_name)

ints = st.one_of(st.integers(-INT64, INT64 - 1), st.integers(-30, 30),
                 st.sampled_from([0, 1, -1, INT64 - 1, -INT64]))
floats = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 0.5]))
decimals = st.one_of(st.integers(-INT64 + 1, INT64 - 1).map(lambda c: Decimal(c).scaleb(-2)),
                     st.integers(-10_000, 10_000).map(lambda c: Decimal(c).scaleb(-2)))
decimals4 = st.integers(-INT64 + 1, INT64 - 1).map(lambda c: Decimal(c).scaleb(-4))
dates = st.dates(date(1, 1, 1), date(9999, 12, 31))
stamps = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)).map(
    lambda t: t.replace(microsecond=0))
texts = st.text(max_size=6)
VALUES = {"int": ints, "float": floats, "decimal": decimals, "bool": st.booleans(),
          "date": dates, "timestamp": stamps, "text": texts}


def _literal(kind: str, draw: Any) -> str:
    if kind == "int":
        return str(draw(st.integers(-40, 40)))
    if kind == "float":
        return draw(st.sampled_from(["0.5e0", "2e0", "1e-3", "1e300", "-3.25e0"]))
    if kind == "decimal":
        return draw(st.sampled_from(["1.10", "0.015", "-2.5", "0.00", "99999.99"]))
    if kind == "bool":
        return draw(st.sampled_from(["true", "false"]))
    if kind == "text":
        return repr(draw(st.sampled_from(["", "a", "ação", "Z z"])))
    if kind == "timestamp":
        return "now"
    return "date(now)"


@st.composite
def expressions(draw: Any, kind: str, depth: int = 3) -> str:
    """Text of a random expression of ``kind`` (interval too, inside others)."""
    def sub(k: str) -> str:
        return draw(expressions(k, depth - 1))

    leaves = [lambda: draw(st.sampled_from(NAMES[kind])) if kind in NAMES else None,
              lambda: _literal(kind, draw)]
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        if kind == "interval":
            return f"days({sub('int')})" if depth > 0 else "hours(2)"
        leaf = draw(st.sampled_from(leaves))()
        return leaf if leaf is not None else _literal(kind, draw)
    number = draw(st.sampled_from(["int", "float", "decimal"]))
    moment = draw(st.sampled_from(["date", "timestamp"]))
    forms: dict[str, list[Any]] = {
        "int": [lambda: f"({sub('int')} {draw(st.sampled_from(['+', '-', '*', '//', '%']))} "
                        f"{sub('int')})",
                lambda: f"-{sub('int')}", lambda: f"abs({sub('int')})",
                lambda: f"round({sub(number)})", lambda: f"floor({sub(number)})",
                lambda: f"ceil({sub(number)})", lambda: f"year({sub(moment)})",
                lambda: f"month({sub(moment)})", lambda: f"day({sub(moment)})",
                lambda: f"age({sub(moment)}, {sub(moment)})", lambda: f"({sub('date')} - "
                                                                      f"{sub('date')})",
                lambda: f"({sub('decimal')} // {sub('decimal')})"],
        "float": [lambda: f"({sub(number)} / {sub(number)})",
                  lambda: f"({sub(number)} ** {sub('int')})",
                  lambda: f"({sub('float')} {draw(st.sampled_from(['+', '-', '*', '%']))} "
                          f"{sub(number)})",
                  lambda: f"round({sub('float')}, {draw(st.integers(0, 18))})"],
        "decimal": [lambda: f"({sub('decimal')} {draw(st.sampled_from(['+', '-', '*', '%']))} "
                            f"{sub(draw(st.sampled_from(['int', 'decimal'])))})",
                    lambda: f"round({sub('decimal')}, {draw(st.integers(0, 3))})",
                    lambda: f"abs({sub('decimal')})", lambda: "r"],
        "bool": [lambda: f"({sub(number)} {draw(st.sampled_from(['<', '<=', '==', '!=']))} "
                         f"{sub(number)})",
                 lambda: f"({sub(moment)} > {sub(moment)})",
                 lambda: f"({sub('bool')} {draw(st.sampled_from(['and', 'or']))} "
                         f"{sub('bool')})",
                 lambda: f"not {sub('bool')}", lambda: f"{sub('text')} in ['a', {sub('text')}]",
                 lambda: f"({sub('timestamp')} - {sub(moment)} < hours({sub('int')}))"],
        "date": [lambda: f"({sub('date')} + days({sub('int')}))",
                 lambda: f"({sub('date')} - months({sub('int')}))",
                 lambda: f"date({sub('timestamp')})"],
        "timestamp": [lambda: f"({sub(moment)} + hours({sub('int')}))",
                      lambda: f"({sub('timestamp')} - {sub('interval')})",
                      lambda: f"({sub('timestamp')} + years({sub('int')}))"],
        "text": [lambda: f"concat({sub(number)}, {sub(moment)}, {sub('bool')})",
                 lambda: f"upper({sub('text')})", lambda: f"({sub('text')} + {sub('text')})",
                 lambda: f"text({sub(number)})"],
        "interval": [lambda: f"({sub('timestamp')} - {sub('timestamp')})",
                     lambda: f"({sub('interval')} * {sub('int')})",
                     lambda: f"months({sub('int')})", lambda: f"minutes({sub('int')})",
                     lambda: f"-{sub('interval')}"],
    }
    shared = [lambda: f"({sub(kind)} if {sub('bool')} else {sub(kind)})"]
    if kind != "interval":
        shared.append(lambda: f"coalesce({sub(kind)}, {sub(kind)})")
    if kind not in ("interval", "bool"):
        shared.append(lambda: f"{draw(st.sampled_from(['min', 'max']))}({sub(kind)}, "
                              f"{sub(kind)})")
    return str(draw(st.sampled_from(forms[kind] + shared))())


# Everyday values, so that bounds often prove arithmetic safe (the unchecked path).
SMALL = {"int": st.integers(-30, 30), "float": st.floats(-1e3, 1e3),
         "decimal": st.integers(-10_000, 10_000).map(lambda c: Decimal(c).scaleb(-2)),
         "date": st.dates(date(1900, 1, 1), date(2100, 1, 1)),
         "timestamp": st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)).map(
             lambda t: t.replace(microsecond=0))}


@st.composite
def chunks(draw: Any) -> dict[str, Column]:
    made: dict[str, Column] = {}
    for name, kind in TYPES.items():
        strategy = decimals4 if name == "r" else VALUES[kind.kind]
        if kind.kind in SMALL and draw(st.booleans()):
            strategy = SMALL[kind.kind]
        made[name] = column(kind, draw(st.lists(st.one_of(st.none(), strategy),
                                                min_size=ROWS, max_size=ROWS)))
    return made


def _row(made: dict[str, Column], i: int) -> dict[str, Column]:
    return {name: Column(c.values[i:i + 1], None if c.nulls is None else c.nulls[i:i + 1])
            for name, c in made.items()}


@given(data=st.data(), kind=st.sampled_from(["int", "float", "decimal", "bool", "date",
                                             "timestamp", "text"]))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_evaluation_never_raises_and_rows_do_not_depend_on_their_chunk(
        data: st.DataObject, kind: str) -> None:
    text = data.draw(expressions(kind), label="expression")
    tree = typed(text)
    row = data.draw(chunks(), label="columns")
    with np.errstate(all="raise"):  # a warning is a numpy surprise the evaluator missed
        made = evaluate_column(tree, row, ROWS)
    assert len(made.values) == ROWS
    assert made.nulls is None or len(made.nulls) == ROWS
    whole = made.to_pylist()
    for i in range(ROWS):
        alone = evaluate_column(tree, _row(row, i), 1).to_pylist()
        assert alone == whole[i:i + 1], (text, i)
    if kind == "date":
        assert all(v is None or date(1, 1, 1) <= v <= date(9999, 12, 31) for v in whole)
    if kind == "timestamp":
        assert all(v is None or isinstance(v, datetime) for v in whole)
    # The columns' own bounds as their spaces: the expression's bounds must hold every value,
    # and the arithmetic they prove safe, computed unchecked, must give the same rows.
    analysis = analyse(tree, lambda name: _space(row[name], TYPES[name]))
    event("arithmetic proven within 64 bits" if analysis.exact else "checked arithmetic")
    with np.errstate(all="raise"):
        fast = evaluate_column(tree, row, ROWS, analysis.exact).to_pylist()
    assert fast == whole, text
    assert tree.type is not None
    space = value_space(analysis, tree.type)
    present = [v for v in python(tree.type, made) if v is not None]
    if space is not None and space.low is not None and present:
        assert space.low <= min(present) and max(present) <= space.high, text


def _space(made: Column, kind: ExprType) -> ValueSpace | None:
    """A column's true bounds, as a generator's space would give them."""
    if kind.kind not in ("int", "float", "decimal", "date", "timestamp"):
        return None
    values = [v for v in python(kind, made) if v is not None]
    return ValueSpace(low=min(values), high=max(values)) if values else None


def test_a_branch_of_intervals_keeps_the_seconds_of_each_branch() -> None:
    """Found by the property above: the bounds of an interval are (months, seconds), and
    a union that took them for (low, high) lost a branch's -30.5 days."""
    late = datetime(2026, 2, 1)  # 30.5 days after the expressions' now
    tt = Column(np.array([late], dtype="datetime64[s]"), None)
    for text in ("now - ((now - tt) if true else days(0))",
                 "now - coalesce(now - tt, days(0))"):
        tree = typed(text)
        assert tree.type is not None
        space = value_space(analyse(tree, lambda name: ValueSpace(low=late, high=late)),
                            tree.type)
        (value,) = evaluate_column(tree, {"tt": tt}, 1).to_pylist()
        assert value == late and space is not None
        assert space.low <= value <= space.high, (text, space)

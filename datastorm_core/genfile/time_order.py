"""``after`` and ``before``: a date or timestamp at a gap from another field.

```toml
[transaction.created_at]
type = "timestamp"
after = "account_id.opened_at"   # or before = "..."
gap = ["1m", "90d"]              # or within = "90d" (= gap ["0s", "90d"])
distribution = "exponential"     # of the gap: uniform (default), exponential, normal
mean = "7d"
end = "now"                      # after: end still bounds the value; before: start
```

Read here once, for the checks and for the generator
(``source.generators.time_order``), so both read a gap the same way.
Durations are ``fieldspecs.parse_duration``'s ("90s", "15m", "3d", "1w").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from datastorm_core.genfile.fieldspecs import parse_duration
from datastorm_core.genfile.literals import toml_text
from datastorm_core.genfile.timeexpr import TimeExprError, resolve_time

__all__ = ["GAP_DISTRIBUTIONS", "ORDER_PARAMS", "TimeOrder", "order_check", "order_reads",
           "read_order"]

ORDER_PARAMS = ("after", "before", "gap", "within", "cumulative")
GAP_DISTRIBUTIONS = ("uniform", "exponential", "normal")
# What only a gap's draw uses, refused without after or before.
_GAP_ONLY = ("gap", "within", "cumulative")


@dataclass(frozen=True)
class TimeOrder:
    """A field's order in time, in whole units of its column (days or seconds)."""

    base: str  # the field it follows or precedes: FIELD or REF.FIELD
    after: bool  # True: base + gap; False: base - gap
    gap_min: int
    gap_max: int
    distribution: str
    mean: float | None  # of the gap, in units
    stddev: float | None
    cumulative: bool
    # The absolute bound that still applies (after: end, before: start), if given.
    bound: datetime | None
    shown_min: str  # the gap's min as the Genfile wrote it, for messages
    shown_bound: str


def order_reads(params: Mapping[str, Any]) -> tuple[str, ...]:
    """The field an ordered date or timestamp reads (its base), as written."""
    base = params.get("after", params.get("before"))
    return (base,) if isinstance(base, str) else ()


def read_order(params: Mapping[str, Any], now: datetime, unit_seconds: int
               ) -> TimeOrder | None:
    """The order of a date (``unit_seconds`` 86400) or timestamp (1) field; None without
    ``after``/``before``.

    Raises:
        ValueError: a parameter that cannot be read, with how to write it.
    """
    if "after" not in params and "before" not in params:
        return None
    after = "after" in params
    if "gap" in params:
        gap = params["gap"]
        if not isinstance(gap, list) or len(gap) != 2:
            raise ValueError(f"gap must be [min, max] durations, e.g. gap = [\"1m\", \"90d\"], "
                             f"got {toml_text(gap)}")
        low, high = (parse_duration(g) for g in gap)
        shown = _shown(gap[0])
    else:
        low, high, shown = 0, parse_duration(params["within"]), "0s"
    if low > high:
        raise ValueError(f"gap min ({toml_text(params['gap'][0])}) is greater than its max "
                         f"({toml_text(params['gap'][1])})")
    unit_low, unit_high = -(-low // unit_seconds), high // unit_seconds
    if unit_low > unit_high:
        raise ValueError("the gap holds no whole day (a date moves by days): widen it to "
                         "at least a day")
    which = "end" if after else "start"
    bound = resolve_time(params[which], now) if which in params else None
    mean, stddev = (_duration_in(params.get(k), unit_seconds) for k in ("mean", "stddev"))
    return TimeOrder(params["after"] if after else params["before"], after, unit_low,
                     unit_high, params.get("distribution", "uniform"), mean, stddev,
                     bool(params.get("cumulative", False)), bound, shown,
                     _shown(params[which]) if which in params else "")


def order_check(unit_seconds: int) -> Any:
    """The part of a date's (86400) or timestamp's (1) check that reads its order."""
    def check(p: Mapping[str, Any], now: datetime) -> list[str]:
        ordered = "after" in p or "before" in p
        if not ordered:
            given = [k for k in _GAP_ONLY if k in p]
            given += [k for k in ("mean", "stddev") if isinstance(p.get(k), str)]
            return [f"{', '.join(given)} {'goes' if len(given) == 1 else 'go'} with after "
                    "or before (a gap from another field)"] if given else []
        found = []
        if "after" in p and "before" in p:
            found.append("give either after or before, not both")
        if ("gap" in p) == ("within" in p):
            found.append("after and before need the gap: gap = [min, max] or within = "
                         "\"DURATION\" (one of them)")
        for word, unused, kept in (("after", "start", "end"), ("before", "end", "start")):
            if word in p and unused in p:
                found.append(f"{unused} does not apply: the value is {word} its base "
                             f"({kept} still bounds it)")
        if p.get("distribution", "uniform") not in GAP_DISTRIBUTIONS:
            found.append(f"the gap's distribution is one of {', '.join(GAP_DISTRIBUTIONS)}")
        if "exponent" in p:
            found.append("exponent shapes a zipf distribution, which a gap does not take")
        if p.get("cumulative") and "after" not in p:
            found.append("cumulative = true goes with after (each child later than the last)")
        if found:
            return found
        try:
            order = read_order(p, now, unit_seconds)
        except (ValueError, TimeExprError) as exc:
            return [str(exc)]
        assert order is not None
        return _shape_problems(order)
    return check


def _shape_problems(order: TimeOrder) -> list[str]:
    found = []
    if order.stddev is not None and order.stddev <= 0:
        found.append("stddev of the gap must be more than 0")
    if order.mean is not None and not order.gap_min <= order.mean <= order.gap_max:
        found.append("mean of the gap must lie between the gap's min and max")
    if order.distribution == "exponential" and order.mean is not None \
            and order.mean <= order.gap_min:
        found.append("an exponential gap needs a mean above the gap's min")
    return found


def _shown(value: Any) -> str:
    """A value as a message quotes it: a duration or a date as written ("1m", now)."""
    return value if isinstance(value, str) else toml_text(value)


def _duration_in(value: Any, unit_seconds: int) -> float | None:
    """A gap's mean or stddev (a duration, or a number of seconds) in units."""
    if value is None:
        return None
    return parse_duration(value) / unit_seconds if isinstance(value, str) \
        else float(value) / unit_seconds

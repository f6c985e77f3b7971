"""A partition's bound read from its text, and the values a range-partitioned table covers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from pglast import ast

from datastorm_core.target.postgres.constraints.literals import DATETIME, INTEGER, NUMBER
from datastorm_core.target.postgres.constraints.nodes import (
    Unreadable,
    column_of,
    constant_of,
    parse_one,
)
from datastorm_core.target.postgres.constraints.readings import (
    MAXVALUE,
    MINVALUE,
    Constant,
    PartitionBound,
    Sentinel,
)


def _datum(node: ast.Node) -> Constant | Sentinel:
    name = column_of(node) if isinstance(node, ast.ColumnRef) else None
    if name in ("minvalue", "maxvalue"):
        return Sentinel(name)
    constant = constant_of(node)
    if constant is None:
        raise Unreadable  # PostgreSQL refuses NULL in a range bound
    return constant


def read_partition_bound(text: str) -> PartitionBound | None:
    """A partition's bound from ``pg_get_expr(relpartbound, oid)``; None if it cannot be read.

    The bound's constants are as PostgreSQL prints them: untyped (``'-5'``,
    ``'2022-01-01 00:00:00+00'``), so their ``type_name`` is None.
    """
    try:
        statement = parse_one(f"CREATE TABLE t PARTITION OF p {text.strip()}")
        spec = statement.partbound if isinstance(statement, ast.CreateStmt) else None
        if not isinstance(spec, ast.PartitionBoundSpec):
            return None
        if spec.is_default:
            return PartitionBound("default")
        if spec.strategy == "r":
            return PartitionBound("range",
                                  lower=tuple(_datum(d) for d in spec.lowerdatums or ()),
                                  upper=tuple(_datum(d) for d in spec.upperdatums or ()))
        if spec.strategy == "l":
            return PartitionBound("list",
                                  values=tuple(constant_of(d) for d in spec.listdatums or ()))
        if spec.strategy == "h":
            return PartitionBound("hash", modulus=spec.modulus, remainder=spec.remainder)
    except Exception:  # never raise, as read_check
        return None
    return None


_INFINITE = frozenset({"infinity", "-infinity"})
_TIME_TYPES = frozenset({"date", "timestamp", "timestamptz"})


def _guess_type(texts: Sequence[str]) -> str | None:
    """The one type that fits every untyped bound of a table (they are all of one column)."""
    if not texts:
        return None
    if all(INTEGER.fullmatch(t) for t in texts):
        return "int8"
    if all(NUMBER.fullmatch(t) for t in texts):
        return "numeric"
    kinds = set()
    for text in texts:
        if text.strip().lower() in _INFINITE:
            continue
        match = DATETIME.fullmatch(text)
        if match is None:
            return "text"
        kinds.add("timestamptz" if match["offset"] else "timestamp" if match["time"] else "date")
    if len(kinds) > 1:
        return "text"
    return kinds.pop() if kinds else "timestamp"


def _endpoint(datum: Constant | Sentinel, type_name: str | None, upper: bool) -> tuple[bool, Any]:
    """(usable, value) of one end of [lower, upper): None is unbounded on that side."""
    if isinstance(datum, Sentinel):
        # FROM (MAXVALUE) or TO (MINVALUE) is an empty range.
        return datum == (MAXVALUE if upper else MINVALUE), None
    kind = datum.type_name or type_name
    value = Constant(datum.text, kind).as_python()
    if isinstance(value, str) and kind in _TIME_TYPES and value.strip().lower() in _INFINITE:
        # 'infinity' and '-infinity' are ends of time: unbounded, if on their own side.
        return value.strip().lower() == ("infinity" if upper else "-infinity"), None
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return True, value


def _coalesce(intervals: Iterable[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    ordered = sorted(intervals, key=lambda interval: (interval[0] is not None, interval[0]))
    merged: list[tuple[Any, Any]] = []
    for low, high in ordered:
        if low is not None and high is not None and not low < high:
            continue
        if merged:
            last_low, last_high = merged[-1]
            if last_high is None:
                continue  # the last one already runs to the end
            if low is None or low <= last_high:  # overlapping or adjacent: [a, b) + [b, c)
                merged[-1] = (last_low, None if high is None else max(last_high, high))
                continue
        merged.append((low, high))
    return merged


def covered_ranges(bounds: Sequence[PartitionBound],
                   type_name: str | None = None) -> tuple[list[tuple[Any, Any]], bool]:
    """The values a single-column range-partitioned table's partitions take, as [low, high).

    Returns the partitions' intervals sorted and coalesced (adjacent ones
    merged), with None for an unbounded end (MINVALUE, MAXVALUE), and whether
    one of ``bounds`` is a DEFAULT partition (which takes every other value).
    Values are ``Constant.as_python``'s; aware datetimes are given in UTC.
    Untyped bound constants (as PostgreSQL prints them) are read as
    ``type_name`` (the partition key's type, e.g. ``"timestamptz"``) or, if
    None, as the one type that fits them all (integer, numeric, date,
    timestamp, timestamptz, else text).

    Bounds that are not single-column ranges are left out, and so are all
    ranges if their values cannot be compared with each other: what is left
    out counts as not covered, the cautious side for checking rows fit.
    """
    has_default = any(bound.kind == "default" for bound in bounds)
    ranges = [bound for bound in bounds
              if bound.kind == "range" and len(bound.lower) == 1 and len(bound.upper) == 1]
    untyped = [datum.text for bound in ranges for datum in (*bound.lower, *bound.upper)
               if isinstance(datum, Constant) and datum.type_name is None]
    kind = type_name or _guess_type(untyped)
    intervals = []
    for bound in ranges:
        low_ok, low = _endpoint(bound.lower[0], kind, upper=False)
        high_ok, high = _endpoint(bound.upper[0], kind, upper=True)
        if low_ok and high_ok:
            intervals.append((low, high))
    try:
        return _coalesce(intervals), has_default
    except (TypeError, ArithmeticError):
        return [], has_default

"""The value an event gives a field, as text for its statement.

The planner's draws decide (``plan.py``); where a value must name a row
that exists (a reference), the database is searched for a live parent at or
after the drawn one (``search.py``). ``NONE`` means no value exists now: the
kind then tries another attempt, field or table.
"""

from __future__ import annotations

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.stream.plan import Planner
from datastorm_core.stream.search import KeySearch
from datastorm_core.stream.spec import (
    Reference,
    StreamTable,
    allowed_transitions,
    transition_weights,
)
from datastorm_core.stream.values import NONE, column_of, texts

__all__ = ["new_value", "reference_value"]


def reference_value(planner: Planner, search: KeySearch, n: int, t: StreamTable,
                    ref: Reference, index: int, attempt: int) -> object:
    """The parent key an inserted row ``index`` of ``t`` gives ``ref``: NULL as its
    generator decides it, a hierarchy's root, else a live parent (or ``NONE``)."""
    f = t.table.field(ref.field)
    if planner.row_null(t.name, ref.field, index, f.null_rate):
        return None
    if ref.self_reference:
        root_rate = float(f.param("root_rate", 0.0))
        if planner.unit(n, "root", t.name, ref.field) < root_rate:
            return None
    found = search.live_parent(n, t, ref, attempt, "insert")
    if found is NONE and ref.self_reference:
        return None  # the first row of a hierarchy is a root
    return found


def new_value(planner: Planner, search: KeySearch, n: int, t: StreamTable, name: str,
              current: object, attempt: int) -> object:
    """The new value of ``t.name`` as text for a cast (None: NULL), or ``NONE``.

    A transition field moves to one of the states its current one allows (by the
    weights its transitions give, else like the choice); a
    reference moves to another live parent; any other field takes its
    generator's value under the stream's values seed (``Planner.new_value``).
    """
    col = t.schema.column(name)
    if name in t.transitions:
        allowed = allowed_transitions(t, name, current)
        if not allowed:
            return NONE
        chosen = planner.transition(n, t, name, allowed,
                                    transition_weights(t, name, current))
        if isinstance(chosen, bool):  # PostgreSQL's words, not Python's True/False
            return "true" if chosen else "false"
        return texts(Column(np.array([chosen])), col)[0]
    ref = next((r for r in t.references if r.field == name), None)
    if ref is not None:
        f = t.table.field(name)
        if planner.is_null(n, t.name, name, f.null_rate, "update"):
            return None
        found = search.live_parent(n, t, ref, attempt, "update")
        if found is NONE:
            return NONE
        return texts(column_of(found, col), col)[0]
    return texts(planner.new_value(n, t.name, name), col)[0]

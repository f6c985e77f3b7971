"""The Genfile's words for ``datastorm stream``: what an update may change, what a delete does.

A field opts in to updates with ``mutable = true`` (a ``choice`` may add
``transitions``, read by ``genfile.transitions`` as a ``lifecycle``'s are),
a ``date`` or ``timestamp`` with ``on_update = "now"`` moves forward at
every update of its row, and a reference with ``on_delete = "cascade"``
lets a parent's delete remove its rows first.
Tables take ``stream`` (false: never touched), ``stream_weight`` and
``stream_mix``. This module checks those words; ``validate`` calls it, and
the stream engine (``datastorm_core.stream``) gives them their meaning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from datastorm_core.genfile.model import Field, Table
from datastorm_core.genfile.transitions import Targets, read_transitions
from datastorm_core.genfile.types import FIELD_TYPES

__all__ = [
    "DEFAULT_MIX",
    "FIELD_WORDS",
    "KINDS",
    "TABLE_OPTIONS",
    "parse_mix",
    "rows_definition",
    "table_problems",
    "transition_key",
    "value_transitions",
]

KINDS = ("insert", "update", "delete")
#: The mix of the contract's example: mostly inserts, some updates, few deletes.
DEFAULT_MIX: Mapping[str, float] = {"insert": 70.0, "update": 25.0, "delete": 5.0}
#: Table options of the stream.
TABLE_OPTIONS = ("stream", "stream_weight", "stream_mix")


def parse_mix(text: str) -> dict[str, float]:
    """``"insert=70,update=25,delete=5"`` as weights; a kind left out weighs 0.

    Raises:
        ValueError: with a message fit for the user.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a mix is written like insert=70,update=25,delete=5")
    weights = dict.fromkeys(KINDS, 0.0)
    seen: set[str] = set()
    for part in text.split(","):
        kind, equals, value = part.partition("=")
        kind = kind.strip()
        if not equals or kind not in KINDS:
            raise ValueError(f"{part.strip()!r} is not kind=weight with a kind among "
                             f"{', '.join(KINDS)} (e.g. insert=70,update=25,delete=5)")
        if kind in seen:
            raise ValueError(f"{kind} is given twice")
        seen.add(kind)
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"the weight of {kind} must be a number, got {value.strip()!r}"
                             ) from None
        if not math.isfinite(weight) or weight < 0:
            raise ValueError(f"the weight of {kind} must be a number >= 0, got {value.strip()}")
        weights[kind] = weight
    if sum(weights.values()) <= 0:
        raise ValueError("at least one kind needs a positive weight")
    return weights


#: Field parameters of the stream: they change what the stream does, not the rows.
FIELD_WORDS = ("mutable", "transitions", "on_update", "on_delete")


def rows_definition(section: Any) -> Any:
    """A table's section without the stream's words: what decides its generated rows.

    Marking a field ``mutable`` must not make the table look redefined (the
    Dagster sensor would regenerate it, and its children would refuse it).
    """
    if not isinstance(section, dict):
        return section
    kept: dict[str, Any] = {}
    for key, value in section.items():
        if key in TABLE_OPTIONS:
            continue
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in FIELD_WORDS}
        kept[key] = value
    return kept


def transition_key(value: Any) -> str:
    """How a choice value is written as a key of ``transitions`` (TOML keys are strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def table_problems(table: Table) -> list[tuple[str, str | None]]:
    """Problems of the stream's words in one table: (message, field or None)."""
    problems: list[tuple[str, str | None]] = []
    options = table.options
    if "stream" in options and not isinstance(options["stream"], bool):
        problems.append((f"stream must be true or false, got {options['stream']!r}", None))
    if "stream_weight" in options:
        weight = options["stream_weight"]
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                or not math.isfinite(weight) or weight < 0:
            problems.append((f"stream_weight must be a number >= 0, got {weight!r}", None))
    if "stream_mix" in options:
        try:
            parse_mix(options["stream_mix"])
        except ValueError as exc:
            problems.append((f"stream_mix: {exc}", None))
    readers: dict[str, list[str]] = {}
    for f in table.fields:
        for name in FIELD_TYPES[f.type].reads(f.params):
            readers.setdefault(name, []).append(f.name)
    time_field = table.daily.time_field if table.daily is not None else None
    for f in table.fields:
        for message in _field_problems(table, f, readers.get(f.name, []), time_field):
            problems.append((message, f.name))
    return problems


def _field_problems(table: Table, f: Field, readers: list[str],
                    time_field: str | None) -> list[str]:
    problems: list[str] = []
    changes = f.mutable or "on_update" in f.params
    if f.mutable:
        if f.name in table.primary_key:
            problems.append("a primary key cannot be mutable: an update keeps the row's identity")
        elif f.unique:
            problems.append("a unique field cannot be mutable: its values are unique by "
                            "construction, a new value could repeat one")
        if FIELD_TYPES[f.type].reads(f.params):
            problems.append("a field derived from other fields cannot be mutable; make the "
                            "fields it reads mutable instead")
        if f.ref is not None and f.ref[0] == table.name:
            problems.append("a self-reference cannot be mutable: the hierarchy must stay acyclic")
        if "on_update" in f.params:
            problems.append("an on_update field changes with every update of its row: "
                            "remove mutable")
    if changes and readers:
        problems.append(f"{', '.join(readers)} {'is' if len(readers) == 1 else 'are'} derived "
                        "from this field, so it cannot change on update")
    if changes and f.name == time_field:
        problems.append("the time field of a table partitioned by day cannot change on update")
    if "on_update" in f.params and (f.unique or f.name in table.primary_key):
        problems.append("a key or unique field cannot change on update: remove on_update")
    if "transitions" in f.params and f.type == "choice":  # a lifecycle's are its paths'
        problems.extend(_transition_problems(f))
    if f.params.get("on_delete") == "cascade" and f.ref is not None and f.ref[0] == table.name:
        problems.append("on_delete = \"cascade\" cannot follow a self-reference")
    return problems


def _transition_problems(f: Field) -> list[str]:
    if not f.mutable:
        return ["transitions apply to a mutable field: add mutable = true"]
    values = f.params.get("values") or []
    keys = {transition_key(v): v for v in values}
    found, problems = read_transitions(f.params["transitions"])
    for source, targets in found.items():
        if source not in keys:
            problems.append(f"transitions: {source!r} is not one of the values")
            continue
        for target in targets.states:
            # A list holds values as typed (1 is not "1"); a weight table's keys are text.
            known = target in keys if targets.weights is not None else any(
                type(target) is type(v) and target == v for v in values)
            if not known:
                problems.append(f"transitions: {source!r} -> {target!r}: {target!r} is not one "
                                "of the values")
    return problems


def value_transitions(f: Field) -> dict[str, Targets]:
    """The transitions of a valid mutable ``choice`` by ``transition_key`` of each value,
    their next states as the choice's own values (a weight table's keys, text in TOML,
    turned back into the values they name)."""
    keys = {transition_key(v): v for v in f.params.get("values") or []}
    found, _ = read_transitions(f.params["transitions"])
    return {source: targets if targets.weights is None else
            Targets(tuple(keys[t] for t in targets.states), targets.weights)
            for source, targets in found.items()}

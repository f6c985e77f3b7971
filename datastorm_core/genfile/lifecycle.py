"""``type = "lifecycle"``: each parent's rows walk one path through states.

```toml
[order_event.order_id]
type = "reference"
ref = "order.id"
per_parent = "status"            # one row per state of the order's path

[order_event.status]
type = "lifecycle"
of = "order_id"
initial = "created"              # default: the first state transitions names
transitions = { created = { paid = 85, cancelled = 15 }, paid = ["shipped"], shipped = ["done"] }
max_steps = 20                   # the most rows a parent has; a cycle of states needs it
```

A parent's path depends only on the seed, the table, the field and the
parent's index (``core.state_paths``), so this layer sizes the table itself:
no generator is asked. The states are read by ``genfile.transitions``, the
one reader the change stream's ``transitions`` use too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from datastorm_core.core.cardinality import Cardinality
from datastorm_core.core.hashing import field_key
from datastorm_core.core.state_paths import StateMachine, path_cardinality
from datastorm_core.genfile.graph import find_cycles
from datastorm_core.genfile.literals import is_int, toml_text
from datastorm_core.genfile.transitions import Targets, read_transitions

__all__ = ["DEFAULT_MAX_STEPS", "MOST_STEPS", "lifecycle_problems", "path_layout",
           "state_machine"]

DEFAULT_MAX_STEPS = 20
# A path's states are a parent's rows: as many as a child count may be.
MOST_STEPS = 1_000_000


def lifecycle_problems(params: Mapping[str, Any], now: datetime) -> list[str]:
    """What keeps the states from making paths (a type check: ``now`` is unused)."""
    if "transitions" not in params:
        return []  # required: the field's check says so
    found, problems = read_transitions(params["transitions"])
    if problems:
        return problems
    if not found:
        return ["transitions cannot be empty: give at least the initial state's next states, "
                "e.g. { created = [\"paid\", \"cancelled\"] }"]
    for source, targets in found.items():
        problems.extend(f"transitions: {source!r} -> {toml_text(t)}: a state is a name (a "
                        "string)" for t in targets.states if not isinstance(t, str))
    steps = params.get("max_steps")
    if steps is not None and (not is_int(steps) or not 1 <= steps <= MOST_STEPS):
        problems.append(f"max_steps must be a whole number from 1 to {MOST_STEPS:,} (the most "
                        f"rows a parent has), got {toml_text(steps)}")
    if problems:
        return problems
    graph = _graph(found)
    initial = params.get("initial", next(iter(found)))
    if initial not in graph:
        return [f"initial {toml_text(initial)} is not a state of transitions (states: "
                f"{', '.join(graph)})"]
    reached = _reached(graph, initial)
    never = [s for s in graph if s not in reached]
    if never:
        it = "it" if len(never) == 1 else "them"
        problems.append(f"{'state' if len(never) == 1 else 'states'} {', '.join(never)} "
                        f"cannot be reached from the initial state {initial!r}: add a "
                        f"transition to {it}, or remove {it}")
    cycles = find_cycles({s: nexts for s, nexts in graph.items() if s in reached})
    if cycles and steps is None:
        problems.append(f"transitions go round in a cycle ({' -> '.join(cycles[0])}), so a "
                        "path could go on for ever: set max_steps to end it (each parent then "
                        "has at most max_steps rows)")
    return problems


def state_machine(params: Mapping[str, Any]) -> StateMachine:
    """The states of a valid lifecycle field's parameters, as ``core`` walks them."""
    found, _ = read_transitions(params["transitions"])
    graph = _graph(found)
    states = tuple(graph)
    position = {s: i for i, s in enumerate(states)}
    empty = Targets((), None)
    return StateMachine(
        states=states,
        nexts=tuple(tuple(position[t] for t in found.get(s, empty).states) for s in states),
        weights=tuple(found.get(s, empty).shares() for s in states),
        initial=position[params.get("initial", states[0])],
        max_steps=int(params.get("max_steps", DEFAULT_MAX_STEPS)),
    )


def path_layout(seed: int, table: str, field: str, params: Mapping[str, Any],
                parents: int) -> Cardinality:
    """Children per parent of a table whose tie counts the lifecycle field ``field``:
    each parent's path length, drawn from the field's own key, as its values are."""
    return path_cardinality(field_key(seed, table, field), parents, state_machine(params))


def _graph(found: Mapping[str, Targets]) -> dict[str, list[str]]:
    """Every state, in the order transitions first names it, with its next states."""
    graph: dict[str, list[str]] = {}
    for source, targets in found.items():
        graph.setdefault(source, []).extend(targets.states)
        for target in targets.states:
            graph.setdefault(target, [])
    return graph


def _reached(graph: Mapping[str, list[str]], initial: str) -> set[str]:
    reached = {initial}
    pending = [initial]
    while pending:
        for following in graph[pending.pop()]:
            if following not in reached:
                reached.add(following)
                pending.append(following)
    return reached

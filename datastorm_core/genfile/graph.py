"""The graph of a Genfile's tables: references between them, in one place.

The write order (parents first), the reference cycles, and the order of the
targets (those holding parents first) are all walks of the same graph; the
planner, the sizing of tied tables and validation share them from here.
``find_cycles`` is the one cycle finder, also of the graph of fields that
read each other across tables (``genfile.field_reads``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datastorm_core.genfile.model import Table

__all__ = ["find_cycles", "table_cycles", "target_order", "write_order"]


def write_order(tables: Sequence[Table]) -> list[Table]:
    """Tables with every parent before its children, else in file order.

    A depth-first walk with a stack of its own: a chain of references as long
    as a schema has tables must not run into Python's recursion limit.
    """
    by_name = {t.name: t for t in tables}
    done: set[str] = set()
    order: list[Table] = []
    for first in tables:
        if first.name in done:
            continue
        on_path = {first.name}
        stack: list[tuple[Table, Iterator[str]]] = [(first, iter(first.parents))]
        while stack:
            table, parents = stack[-1]
            parent = next((p for p in parents if p in by_name and p not in done
                           and p not in on_path), None)
            if parent is not None:  # a parent first (a cycle is not followed round)
                on_path.add(parent)
                stack.append((by_name[parent], iter(by_name[parent].parents)))
                continue
            stack.pop()
            on_path.discard(table.name)
            done.add(table.name)
            order.append(table)
    return order


def table_cycles(tables: Iterable[Table]) -> list[list[str]]:
    """Every reference cycle between distinct tables, each as a closed path."""
    return find_cycles({t.name: list(t.parents) for t in tables})


def find_cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Every cycle of a graph (node -> the nodes it needs), each once as a closed path
    (found by a depth-first walk with a stack of its own, whatever the length of a
    chain); edges to nodes outside the graph are ignored."""
    cycles: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in graph:
        if start in state:
            continue
        state[start] = 1
        path = [start]
        stack: list[Iterator[str]] = [iter(graph[start])]
        while stack:
            parent = next(stack[-1], None)
            if parent is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            if parent not in graph:
                continue
            if state.get(parent) == 1:
                cycle = [*path[path.index(parent):], parent]
                key = frozenset(cycle)
                if key not in seen_sets:
                    seen_sets.add(key)
                    cycles.append(cycle)
            elif parent not in state:
                state[parent] = 1
                path.append(parent)
                stack.append(iter(graph[parent]))
    return cycles


def target_order(tables: Sequence[Table]) -> list[str | None]:
    """The targets of ``tables`` (None: the default), each after those its tables reference.

    A run writes one target after the other, committing each before the
    next starts, so that an event sent to Kafka never points at a master row
    that is not yet committed in the database.

    Raises:
        ValueError: tables on two targets reference each other (no order works).
    """
    ordered = write_order(tables)
    by_name = {t.name: t for t in tables}
    names = list(dict.fromkeys(t.target for t in ordered))
    needs: dict[str | None, set[str | None]] = {n: set() for n in names}
    for t in ordered:
        for parent in t.parents:
            if parent in by_name and by_name[parent].target != t.target:
                needs[t.target].add(by_name[parent].target)
    result: list[str | None] = []
    while len(result) < len(names):
        ready = [n for n in names if n not in result and needs[n] <= set(result)]
        if not ready:
            stuck = [n for n in names if n not in result]
            shown = ", ".join("the default target" if n is None else repr(n) for n in stuck)
            raise ValueError(f"tables on the targets {shown} reference each other; a run "
                             "commits one target before the next, so references between "
                             "targets must all point the same way")
        result.append(ready[0])
    return result

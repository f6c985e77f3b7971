"""Which tables to write, in which order, and which rows of each.

Parents come before the tables that reference them; among independent
tables the Genfile's order is kept. A partition ``K/N`` of a table is the
contiguous range of row indices ``[K*R//N, (K+1)*R//N)``: since rows are a
function of their index, partitions add up to the whole run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datastorm_core.genfile.model import Genfile, Table

__all__ = ["Partition", "TablePlan", "partition_range", "plan_tables", "table_cycles",
           "table_partition_range", "target_order", "write_order"]


@dataclass(frozen=True)
class Partition:
    """Partition ``index`` of ``count`` (0-based), as in ``--partition K/N``."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Partition:
        head, slash, tail = text.partition("/")
        try:
            index, count = int(head), int(tail)
        except ValueError:
            raise ValueError(f"partition must be K/N (e.g. 0/4), got {text!r}") from None
        if not slash or count < 1 or not 0 <= index < count:
            raise ValueError(f"partition must be K/N with 0 <= K < N, got {text!r}")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class TablePlan:
    """One table of a run: the rows [start, stop) it writes out of ``total``."""

    table: Table
    start: int
    stop: int
    total: int

    @property
    def rows(self) -> int:
        return self.stop - self.start


def partition_range(total: int, partition: Partition) -> tuple[int, int]:
    """Row indices ``[start, stop)`` of a partition of a table of ``total`` rows."""
    start = partition.index * total // partition.count
    stop = (partition.index + 1) * total // partition.count
    return start, stop


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
    """Every reference cycle between distinct tables, each as a closed path (found by a
    depth-first walk with a stack of its own, whatever the length of a chain)."""
    tables = list(tables)
    graph = {t.name: [p for p in t.parents] for t in tables}
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


def table_partition_range(genfile: Genfile, name: str, partition: Partition) -> tuple[int, int]:
    """Rows of partition K/N of one table.

    A table tied to its parent by ``per_parent`` follows the parent's
    partition: partition K holds the children of the parent's partition K,
    so a parent and its children are written (and rewritten) together.
    """
    from datastorm_core.genfile.sizing import tie_of, tied_cardinality

    table = genfile.table(name)
    tie = tie_of(table)
    if tie is None or tie.ref is None or partition.count == 1:
        return partition_range(table.records, partition)
    parent = genfile.table(tie.ref[0])
    first, last = table_partition_range(genfile, parent.name, partition)
    tied = tied_cardinality(genfile.dataset.seed, table, parent.records)
    assert tied is not None
    return tied.first_child(first), tied.first_child(last)


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


def plan_tables(
    genfile: Genfile,
    selected: Sequence[str] | None = None,
    partition: Partition = Partition(),
) -> list[TablePlan]:
    """The tables of a run in write order, each with its partition's row range."""
    names = set(selected) if selected else set(genfile.table_names)
    plans = []
    # Write order, grouped by target: a target's tables are written (and
    # committed) before those of the targets that reference them.
    rank = {name: i for i, name in enumerate(target_order(genfile.tables))}
    for table in sorted(write_order(genfile.tables), key=lambda t: rank[t.target]):
        if table.name in names and not table.existing:  # existing tables are never written
            start, stop = table_partition_range(genfile, table.name, partition)
            plans.append(TablePlan(table, start, stop, table.records))
    return plans

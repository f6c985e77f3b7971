"""Which tables to write, in which order, and which rows of each.

Parents come before the tables that reference them; among independent
tables the Genfile's order is kept. A partition ``K/N`` of a table is the
contiguous range of row indices ``[K*R//N, (K+1)*R//N)``: since rows are a
function of their index, partitions add up to the whole run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from datastorm_core.core.partition import Partition, partition_range
from datastorm_core.genfile.graph import target_order, write_order
from datastorm_core.genfile.sizing import layout_of, tie_of

if TYPE_CHECKING:
    from datastorm_core.genfile.model import Genfile, Table

__all__ = ["TablePlan", "plan_tables", "table_partition_range"]


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


def table_partition_range(genfile: Genfile, name: str, partition: Partition) -> tuple[int, int]:
    """Rows of partition K/N of one table.

    A table tied to its parent by ``per_parent`` follows the parent's
    partition: partition K holds the children of the parent's partition K,
    so a parent and its children are written (and rewritten) together.
    """
    table = genfile.table(name)
    tie = tie_of(table)
    if tie is None or tie.ref is None or partition.count == 1:
        return partition_range(table.records, partition)
    first, last = table_partition_range(genfile, tie.ref[0], partition)
    tied = layout_of(genfile, table)
    assert tied is not None
    return tied.first_child(first), tied.first_child(last)


def plan_tables(
    genfile: Genfile,
    selected: Sequence[str] | None = None,
    partition: Partition | None = None,
) -> list[TablePlan]:
    """The tables of a run in write order, each with its partition's row range."""
    partition = partition or Partition()
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

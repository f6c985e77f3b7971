"""Partitions: static ("K" is ``--partition K/N``) or daily (``--day``) for event tables.

Rows are pure functions of their index and a partition is a range of
indices, so every partition is seeded deterministically by construction:
materializing "K" again rewrites exactly the same rows, and the N
partitions add up to one whole run.
"""

from __future__ import annotations

import dagster as dg

from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.tables import Partition

__all__ = ["partition_for_key", "partitions_def_for", "table_partitions_def"]


def partitions_def_for(genfile: Genfile) -> dg.StaticPartitionsDefinition | None:
    """``[dataset] partitions = N`` as partition keys "0" .. "N-1", else None."""
    count = genfile.dataset.partitions
    if not count or count < 2:
        return None
    return dg.StaticPartitionsDefinition([str(i) for i in range(count)])


def partition_for_key(genfile: Genfile, key: str | None) -> Partition:
    """The datastorm partition of a Dagster partition key (None: the whole table)."""
    count = genfile.dataset.partitions or 1
    if key is None or count < 2:
        return Partition()
    return Partition(int(key), count)


def table_partitions_def(genfile: Genfile, table: Table) -> dg.PartitionsDefinition | None:
    """A table's partitions: one a day for an event table partitioned by day,
    else the Genfile's static partitions (or none)."""
    if table.daily is not None:
        return dg.DailyPartitionsDefinition(start_date=table.daily.start.isoformat())
    return partitions_def_for(genfile)

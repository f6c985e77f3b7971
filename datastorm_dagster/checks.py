"""Asset checks that ask the target itself whether a table is whole.

Per table: the row count the Genfile promises (for a partition, the rows
of its own row range, found by primary key), no duplicate primary key or
unique value, and no orphan reference; for a topic, a delivery report per
row. They are the asset's own checks, evaluated in its step right after
the write (a separate step would cost a process and a connection each),
and can be run alone from the UI. A table that others reference has
blocking checks: a broken parent stops its children from being written
on top of it.
"""


import re
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import dagster as dg

from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.tables import Partition, key_texts, row_range
from datastorm_core.target.inspect import Inspector
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.translator import METADATA_PREFIX, DatastormTranslator, table_target

__all__ = ["check_specs", "evaluate_checks"]


def _identifier(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _name(kind: str, field: str | None = None) -> str:
    return kind if field is None else f"{kind}_{_identifier(field)}"


def check_specs(genfile: Genfile, table: Table, translator: DatastormTranslator
                ) -> list[dg.AssetCheckSpec]:
    """The checks of one table, run inside its asset's step (no extra step, no extra
    process): row count, keys, unique fields, references; for a topic, delivery.

    ``genfile`` is the routed one (``run.routed``): a table's checks follow where its
    rows actually go, not where the Genfile first sent them.
    """
    key = translator.get_asset_key(table)
    referenced = any(table.name in t.parents for t in genfile.tables)
    blocking = translator.settings.blocking_checks and referenced
    if _on_kafka(genfile, table):
        return [dg.AssetCheckSpec("all_delivered", asset=key, blocking=blocking,
                                  description="the broker acknowledged a message for "
                                  "every row")]
    specs = [dg.AssetCheckSpec("row_count", asset=key, blocking=blocking,
                               description="as many rows as the Genfile says")]
    if table.primary_key:
        specs.append(dg.AssetCheckSpec("primary_key_unique", asset=key, blocking=blocking,
                                       description="no duplicate primary key"))
    for f in table.fields:
        if f.unique and f.name not in table.primary_key:
            specs.append(dg.AssetCheckSpec(_name("unique", f.name), asset=key,
                                           blocking=blocking,
                                           description=f"no duplicate {f.name}"))
    for f in table.references:
        parent = genfile.table(f.ref[0]) if f.ref is not None else None
        if parent is None or table_target(parent, genfile).url != table_target(
                table, genfile).url:
            continue  # a parent in another database: no query spans both
        specs.append(dg.AssetCheckSpec(_name("no_orphan", f.name), asset=key,
                                       blocking=blocking,
                                       description=f"every {f.name} exists in "
                                       f"{f.params.get('ref')}"))
    return specs


def evaluate_checks(context: dg.AssetExecutionContext, datastorm: DatastormResource,
                    genfile: Genfile, table: Table, key: dg.AssetKey,
                    parents: Mapping[str, dg.AssetKey],
                    written: Mapping[str, Any] | None = None,
                    partition_key: str | None = None) -> Iterator[dg.AssetCheckResult]:
    """The selected checks of ``table``, asked of the target itself.

    ``written`` is the metadata of the materialization this step just made (None:
    the checks run alone, against the latest one); ``partition_key`` the partition
    it wrote, counted as materialized.
    """
    selected = {k.name for k in context.selected_asset_check_keys if k.asset_key == key}
    if not selected:
        return
    if _on_kafka(genfile, table):
        yield _delivery(context, key, written)
        return
    stored = table.stored_name  # the table's name in the target
    with datastorm.inspector(genfile, table.name) as inspect:
        if not inspect.exists(stored):
            for name in sorted(selected):
                yield dg.AssetCheckResult(asset_key=key, check_name=name, passed=False,
                                          metadata={"reason": "table does not exist"})
            return
        if "row_count" in selected:
            yield _row_count(context, inspect, genfile, table, key, partition_key)
        if "primary_key_unique" in selected:
            duplicates = inspect.duplicate_count(stored, table.primary_key)
            yield dg.AssetCheckResult(asset_key=key, check_name="primary_key_unique",
                                      passed=duplicates == 0,
                                      metadata={"duplicates": duplicates})
        for f in table.fields:
            name = _name("unique", f.name)
            if name in selected:
                duplicates = inspect.duplicate_count(stored, [f.name])
                yield dg.AssetCheckResult(asset_key=key, check_name=name,
                                          passed=duplicates == 0,
                                          metadata={"duplicates": duplicates})
        for f in table.references:
            name = _name("no_orphan", f.name)
            if name in selected and f.ref is not None:
                parent, column = f.ref
                orphans = inspect.orphan_count(stored, f.name,
                                               genfile.table(parent).stored_name, column)
                missing = _missing_partitions(context, genfile, parents.get(parent, key))
                # A child draws parents from every partition: until all of the
                # parent's partitions are in, orphans are expected, not an error.
                severity = (dg.AssetCheckSeverity.WARN if missing
                            else dg.AssetCheckSeverity.ERROR)
                yield dg.AssetCheckResult(
                    asset_key=key, check_name=name, passed=orphans == 0,
                    severity=severity,
                    metadata={"orphans": orphans,
                              "parent_partitions_missing": len(missing)})


def _on_kafka(genfile: Genfile, table: Table) -> bool:
    """Whether the table's rows go to a Kafka topic (no SQL to ask)."""
    return table_target(table, genfile).type == "kafka"


def _delivery(context: dg.AssetExecutionContext, key: dg.AssetKey,
              written: Mapping[str, Any] | None) -> dg.AssetCheckResult:
    """A topic has no SQL to query: check what the broker acknowledged instead.

    Every message's delivery report (acks=all) was counted by the run; the
    materialization says how many, against the rows it wrote.
    """
    if written is None:
        event = context.instance.get_latest_materialization_event(key)
        written = (event.asset_materialization.metadata
                   if event and event.asset_materialization else {})

    def value(name: str) -> Any:
        entry = written.get(name)
        return getattr(entry, "value", entry)

    messages, rows = value(f"{METADATA_PREFIX}/messages"), value("dagster/row_count")
    if rows is None:
        rows = value("dagster/partition_row_count")
    return dg.AssetCheckResult(asset_key=key, check_name="all_delivered",
                               passed=messages is not None and messages == rows,
                               metadata={"messages": messages, "rows": rows,
                                         "topic": value(f"{METADATA_PREFIX}/topic")})


def _missing_partitions(context: dg.AssetExecutionContext, genfile: Genfile,
                        parent_key: dg.AssetKey) -> list[str]:
    """Partition keys of a partitioned parent that were never materialized."""
    count = genfile.dataset.partitions or 1
    if count < 2:
        return []
    done = context.instance.get_materialized_partitions(parent_key)
    return [str(k) for k in range(count) if str(k) not in done]


def _row_count(context: dg.AssetExecutionContext, inspect: Inspector, genfile: Genfile,
               table: Table, key: dg.AssetKey, partition_key: str | None
               ) -> dg.AssetCheckResult:
    """The rows the Genfile promises against the rows the target holds.

    A partition counts its own rows only: those whose primary key is one of its row
    range's keys. Counting the whole table raced with the other partitions running
    at the same time (on other workers): their rows are committed before their
    materializations are recorded, so a good partition saw more rows than the
    partitions recorded as done (expected 3,000, counted 4,500).
    """
    stored = table.stored_name
    column = table.primary_key[0] if len(table.primary_key) == 1 else None
    partitioned = table.daily is not None or (genfile.dataset.partitions or 1) > 1
    if partition_key is None or column is None or not partitioned:
        # No partition to count, or no single column naming a row: the whole table
        # against the partitions recorded as materialized.
        expected = _expected_rows(context, genfile, table, key, partition_key)
        actual = inspect.row_count(stored)
        return dg.AssetCheckResult(asset_key=key, check_name="row_count",
                                   passed=actual == expected,
                                   metadata={"expected": expected, "actual": actual})
    start, stop = _partition_range(genfile, table, partition_key)
    actual = inspect.count_present(stored, column,
                                   key_texts(genfile, table.name, column, start, stop))
    return dg.AssetCheckResult(
        asset_key=key, check_name="row_count", passed=actual == stop - start,
        metadata={"expected": stop - start, "actual": actual,
                  "counted": f"rows [{start}, {stop}) of partition {partition_key}, "
                             f"by {column}"})


def _partition_range(genfile: Genfile, table: Table, partition_key: str) -> tuple[int, int]:
    """Row indices of a partition key: a day of an event table, else K of N."""
    if table.daily is not None:
        return row_range(genfile, table.name, day=date.fromisoformat(partition_key))
    return row_range(genfile, table.name,
                     Partition(int(partition_key), genfile.dataset.partitions or 1))


def _expected_rows(context: dg.AssetExecutionContext, genfile: Genfile, table: Table,
                   key: dg.AssetKey, partition_key: str | None) -> int:
    """The Genfile's row count; for partitions, the rows of those materialized so far
    (``partition_key``, just written, among them)."""
    count = genfile.dataset.partitions or 1
    if table.daily is None and count < 2:
        return table.records
    done = set(context.instance.get_materialized_partitions(key))
    if partition_key is not None:
        done.add(partition_key)
    if table.daily is not None:
        return len(done) * table.daily.rows_per_day
    total = 0
    for done_key in done:
        start, stop = row_range(genfile, table.name, Partition(int(done_key), count))
        total += stop - start
    return total

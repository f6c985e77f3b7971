"""Asset checks that ask the target itself whether a table is whole.

Per table: the row count the Genfile promises (for a partitioned table,
the rows of its materialized partitions), no duplicate primary key or
unique value, and no orphan reference. A table that others reference has
blocking checks: a broken parent stops its children from being written
on top of it.
"""


import re
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster import AssetCheckExecutionContext

from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.genfile.plan import Partition, table_partition_range
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.translator import METADATA_PREFIX, DatastormTranslator

__all__ = ["build_table_checks"]


def _identifier(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _name(kind: str, field: str | None = None) -> str:
    return kind if field is None else f"{kind}_{_identifier(field)}"


def build_table_checks(genfile: Genfile, translator: DatastormTranslator
                       ) -> list[dg.AssetChecksDefinition]:
    """One multi-check per table: row count, keys, unique fields, references."""
    referenced = {parent for t in genfile.tables for parent in t.parents}
    checks = []
    for table in genfile.tables:
        if table.existing:
            continue  # the application's rows: nothing datastorm promised about them
        key = translator.get_asset_key(table)
        blocking = translator.settings.blocking_checks and table.name in referenced
        if _on_kafka(genfile, table):
            checks.append(_delivery_check(table.name, key, blocking, translator))
            continue
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
            # A hierarchy references its own table, which the check already targets.
            parent = f.ref[0] if f.ref and f.ref[0] != table.name else None
            deps = [translator.get_asset_key(genfile.table(parent))] if parent else []
            # An existing parent is an external asset: no materialization to wait for.
            deps = [d for d in deps if parent is not None and not genfile.table(parent).existing]
            specs.append(dg.AssetCheckSpec(_name("no_orphan", f.name), asset=key,
                                           blocking=blocking, additional_deps=deps,
                                           description=f"every {f.name} exists in "
                                           f"{f.params.get('ref')}"))
        parents = {p: translator.get_asset_key(genfile.table(p)) for p in table.parents
                   if not genfile.table(p).existing}
        checks.append(_table_checks(table.name, key, specs, parents, translator))
    return checks


def _table_checks(table_name: str, key: dg.AssetKey, specs: list[dg.AssetCheckSpec],
                  parents: dict[str, dg.AssetKey], translator: DatastormTranslator
                  ) -> dg.AssetChecksDefinition:
    resource_key = translator.resource_key

    @dg.multi_asset_check(
        specs=specs, can_subset=True, required_resource_keys={resource_key},
        name=translator.definition_name(f"datastorm_{_identifier(table_name)}_checks"))
    def run_checks(context: AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        datastorm: DatastormResource = getattr(context.resources, resource_key)
        genfile = datastorm.load()
        table = genfile.table(table_name)
        selected = {k.name for k in context.selected_asset_check_keys}
        stored = table.stored_name  # the table's name in the target
        with datastorm.inspector(genfile, table_name) as inspect:
            if not inspect.exists(stored):
                for name in sorted(selected):
                    yield dg.AssetCheckResult(asset_key=key, check_name=name, passed=False,
                                              metadata={"reason": "table does not exist"})
                return
            if "row_count" in selected:
                expected = _expected_rows(context, genfile, table, key)
                actual = inspect.row_count(stored)
                yield dg.AssetCheckResult(asset_key=key, check_name="row_count",
                                          passed=actual == expected,
                                          metadata={"expected": expected, "actual": actual})
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

    return run_checks


def _on_kafka(genfile: Genfile, table: Table) -> bool:
    """Whether the Genfile sends the table to a Kafka topic (no SQL to ask)."""
    return table.target is not None and genfile.targets[table.target].type == "kafka"


def _delivery_check(table_name: str, key: dg.AssetKey, blocking: bool,
                    translator: DatastormTranslator) -> dg.AssetChecksDefinition:
    """A topic has no SQL to query: check what the broker acknowledged instead.

    Every message's delivery report (acks=all) was counted by the run; the
    latest materialization says how many, against the rows it wrote.
    """
    spec = dg.AssetCheckSpec("all_delivered", asset=key, blocking=blocking,
                             description="the broker acknowledged a message for every row")

    @dg.multi_asset_check(specs=[spec], name=translator.definition_name(
        f"datastorm_{_identifier(table_name)}_checks"))
    def delivered(context: AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        event = context.instance.get_latest_materialization_event(key)
        metadata = event.asset_materialization.metadata if event and \
            event.asset_materialization else {}

        def value(name: str) -> Any:
            entry = metadata.get(name)
            return getattr(entry, "value", entry)

        messages, rows = value(f"{METADATA_PREFIX}/messages"), value("dagster/row_count")
        if rows is None:
            rows = value("dagster/partition_row_count")
        yield dg.AssetCheckResult(asset_key=key, check_name="all_delivered",
                                  passed=messages is not None and messages == rows,
                                  metadata={"messages": messages, "rows": rows,
                                            "topic": value(f"{METADATA_PREFIX}/topic")})

    return delivered


def _missing_partitions(context: AssetCheckExecutionContext, genfile: Genfile,
                        parent_key: dg.AssetKey) -> list[str]:
    """Partition keys of a partitioned parent that were never materialized."""
    count = genfile.dataset.partitions or 1
    if count < 2:
        return []
    done = context.instance.get_materialized_partitions(parent_key)
    return [str(k) for k in range(count) if str(k) not in done]


def _expected_rows(context: dg.AssetCheckExecutionContext, genfile: Genfile, table: Table,
                   key: dg.AssetKey) -> int:
    """The Genfile's row count; for partitions, the rows of those materialized so far."""
    if table.daily is not None:
        days = context.instance.get_materialized_partitions(key)
        return len(days) * table.daily.rows_per_day
    count = genfile.dataset.partitions or 1
    if count < 2:
        return table.records
    done = context.instance.get_materialized_partitions(key)
    total = 0
    for partition_key in done:
        start, stop = table_partition_range(genfile, table.name, Partition(int(partition_key),
                                                                            count))
        total += stop - start
    return total

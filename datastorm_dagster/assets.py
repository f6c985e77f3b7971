"""One software-defined asset per Genfile table, parents before children.

A materialization runs datastorm for that table (or one partition of it)
in one transaction. Its metadata carries the table's *reference pool*: the
small description (seed, row count, key fields, definition digest) from
which a child computes its parent's keys. Before writing, a child reads
its parents' pools from their latest materializations and refuses to run
against a parent generated from another definition, whose keys would not
match its foreign keys.
"""


import hashlib
import os
import re
import socket
import time
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster._core.definitions.metadata import TableMetadataSet

from datastorm_core.core.stats import TableStats
from datastorm_core.errors import DatastormError
from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.run import RunReport, check
from datastorm_core.secrets import scrub
from datastorm_core.tables import Partition, preview_text, row_range, write_order
from datastorm_dagster.checks import check_specs, evaluate_checks
from datastorm_dagster.partitions import partition_for_key, table_partitions_def
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.translator import METADATA_PREFIX, DatastormTranslator

__all__ = ["POOL_KEY", "build_table_assets", "reference_pool"]

POOL_KEY = f"{METADATA_PREFIX}/reference_pool"
PREVIEW_ROWS = 5
# Log progress at most this often: a log line per batch would flood the event log.
PROGRESS_LOG_SECONDS = 10.0


def reference_pool(genfile: Genfile, table: Table) -> dict[str, Any]:
    """What a child needs to know of a parent to compute its keys."""
    return {
        "table": table.name,
        "keys": [f.name for f in table.fields if f.unique],
        "rows": table.records,
        "seed": genfile.dataset.seed,
        "table_digest": genfile.table_digests.get(table.name, ""),
    }


def build_table_assets(genfile: Genfile, translator: DatastormTranslator,
                       io_manager_key: str | None = None
                       ) -> list[dg.AssetsDefinition | dg.AssetSpec]:
    """One asset per table, in write order (a pure function of the Genfile).

    An existing table (``existing = true``) is an external asset: a spec with
    no function, upstream of the tables that reference it, so the graph shows
    what the generated tables depend on. ``genfile`` is routed (``run.routed``):
    its targets have the types their URLs have after overrides. ``io_manager_key``
    names the I/O manager that loads a table for downstream assets (``frames.py``).
    """
    source = check(genfile)
    assets: list[dg.AssetsDefinition | dg.AssetSpec] = []
    for table in write_order(genfile.tables):
        if table.existing:
            assets.append(translator.get_external_asset_spec(table, genfile))
            continue
        spec = translator.get_asset_spec(table, genfile, source.schema(table.name),
                                         table_partitions_def(genfile, table))
        checks = check_specs(genfile, table, translator)
        parents = {p: translator.get_asset_key(genfile.table(p)) for p in table.parents
                   if not genfile.table(p).existing}
        if _fans_out(genfile, table):
            from datastorm_dagster.fan_out import fan_out_table_asset  # imports this module

            assets.extend(fan_out_table_asset(spec, checks, table.name, parents, translator,
                                              genfile.dagster.fan_out))
        else:
            framed = spec.with_io_manager_key(io_manager_key) if io_manager_key else spec
            assets.append(_table_asset(framed, checks, table.name, parents, translator))
    return assets


def _fans_out(genfile: Genfile, table: Table) -> bool:
    """Whether a table's materialization is split in slices (``[dagster] fan_out``): not
    a table partitioned by day (a day is its step), nor one smaller than its slices."""
    slices = genfile.dagster.fan_out
    return slices > 1 and table.daily is None and table.records >= slices


def op_name(table: str) -> str:
    """A valid op name for a table name (tables may be named anything)."""
    return "datastorm_" + re.sub(r"\W", "_", table)


def _table_asset(spec: dg.AssetSpec, checks: list[dg.AssetCheckSpec], table_name: str,
                 parents: Mapping[str, dg.AssetKey], translator: DatastormTranslator
                 ) -> dg.AssetsDefinition:
    resource_key = translator.resource_key

    # can_subset: the checks can be run alone (the UI's "Execute checks"), without
    # writing the table again.
    @dg.multi_asset(specs=[spec], check_specs=checks, can_subset=True,
                    name=translator.definition_name(op_name(table_name)),
                    required_resource_keys={resource_key})
    def materialize(context: AssetExecutionContext
                    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        datastorm: DatastormResource = getattr(context.resources, resource_key)
        genfile = datastorm.load()
        if table_name not in genfile.table_names:
            raise dg.Failure(f"table {table_name!r} is no longer in {datastorm.genfile}; "
                             "reload the code location")
        table = genfile.table(table_name)
        partition_key = context.partition_key if context.has_partition_key else None
        if spec.key not in context.selected_asset_keys:
            yield from evaluate_checks(context, datastorm, datastorm.routed(genfile), table,
                                       spec.key, parents, partition_key=partition_key)
            return
        result = _write(context, datastorm, genfile, table, spec, parents)
        yield result
        yield from evaluate_checks(context, datastorm, datastorm.routed(genfile), table,
                                   spec.key, parents, result.metadata, partition_key)

    return materialize


def _write(context: AssetExecutionContext, datastorm: DatastormResource, genfile: Genfile,
           table: Table, spec: dg.AssetSpec, parents: Mapping[str, dg.AssetKey]
           ) -> dg.MaterializeResult:
    """Write the table (or the partition or day the run is for), all or nothing."""
    _check_parent_pools(context, genfile, table, parents)
    key = context.partition_key if context.has_partition_key else None
    day = date.fromisoformat(key) if table.daily is not None and key is not None else None
    partition = partition_for_key(genfile, key) if day is None else None
    try:
        report = (datastorm.write_day(genfile, table.name, day, _logger(context))
                  if day is not None else
                  datastorm.write_table(genfile, table.name, partition or Partition(),
                                        _logger(context)))
    except DatastormError as exc:
        # Dagster stores a failure with its chain of causes: a driver's error may
        # echo a connection string. The message (scrubbed) says what failed.
        raise dg.Failure(description=str(exc)) from None
    for warning in report.warnings:  # e.g. tables emptied with an application's table
        context.log.warning(scrub(warning))
    start, stop = row_range(genfile, table.name, partition, day)
    return dg.MaterializeResult(
        asset_key=spec.key, data_version=_data_version(genfile, table, report.seed, key),
        metadata=_metadata(genfile, table, report, spec, key, start, stop))


def _metadata(genfile: Genfile, table: Table, report: RunReport, spec: dg.AssetSpec,
              key: str | None, start: int, stop: int) -> dict[str, Any]:
    """What a materialization records: rows, timing, the target and the worker, the
    reference pool, a preview."""
    stats = report.stats.tables[0]
    counts = {"partition_row_count" if key is not None else "row_count": stats.written}
    warned = ({f"{METADATA_PREFIX}/warnings": dg.MetadataValue.json(
        [scrub(w) for w in report.warnings])} if report.warnings else {})
    return {
        **warned,
        **dict(TableMetadataSet(table_name=table.name,
                                column_schema=spec.metadata.get("dagster/column_schema"),
                                **counts)),
        f"{METADATA_PREFIX}/seed": report.seed,
        f"{METADATA_PREFIX}/genfile_digest": genfile.digest,
        f"{METADATA_PREFIX}/table_digest": genfile.table_digests[table.name],
        f"{METADATA_PREFIX}/target": scrub(report.target),
        f"{METADATA_PREFIX}/partition": key if table.daily is not None else str(
            report.partition),
        f"{METADATA_PREFIX}/row_range": f"[{start}, {stop})",
        f"{METADATA_PREFIX}/seconds": round(stats.seconds, 3),
        # Which process wrote the rows: with a distributed executor (a Celery worker,
        # a pod per step) the UI shows where each partition ran.
        f"{METADATA_PREFIX}/worker_host": socket.gethostname(),
        f"{METADATA_PREFIX}/worker_pid": os.getpid(),
        f"{METADATA_PREFIX}/rows_per_second": round(stats.rows_per_second),
        **_target_details(report.details.get(table.name, {})),
        POOL_KEY: dg.MetadataValue.json(reference_pool(genfile, table)),
        f"{METADATA_PREFIX}/preview": dg.MetadataValue.md(_preview(genfile, table.name,
                                                                    start, stop)),
    }


def _data_version(genfile: Genfile, table: Table, seed: int, partition_key: str | None
                  ) -> dg.DataVersion:
    """Rows are a pure function of the table's definition, the seed and the partition:
    so is the data version. Regenerating a table from an unchanged definition leaves
    its children in sync; a changed definition marks them for regeneration."""
    text = f"{genfile.table_digests.get(table.name, '')}:{seed}:{partition_key or ''}"
    return dg.DataVersion(hashlib.sha256(text.encode()).hexdigest()[:24])


def _target_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """What the target says it did (Kafka: topic, messages, offset range per partition)."""
    out: dict[str, Any] = {}
    for name, value in details.items():
        shown = dg.MetadataValue.json(value) if isinstance(value, (dict, list)) else value
        out[f"{METADATA_PREFIX}/{name}"] = shown
    return out


def _check_parent_pools(context: dg.AssetExecutionContext, genfile: Genfile, table: Table,
                        parents: Mapping[str, dg.AssetKey]) -> None:
    """Refuse to write children against parents generated from another definition."""
    for parent, key in parents.items():
        event = context.instance.get_latest_materialization_event(key)
        if event is None or event.asset_materialization is None:
            context.log.info(f"{parent!r} has no materialization in this instance; its table "
                             "must already exist in the target")
            continue
        written = event.asset_materialization.metadata.get(POOL_KEY)
        expected = reference_pool(genfile, genfile.table(parent))
        pool = getattr(written, "data", None) or {}
        for field in ("seed", "rows", "table_digest"):
            if pool.get(field) != expected[field]:
                raise dg.Failure(
                    f"{table.name!r} references {parent!r}, whose last materialization was "
                    f"generated with {field} {pool.get(field)!r}, but the Genfile now says "
                    f"{expected[field]!r}: materialize {parent!r} first",
                    metadata={"written": pool, "expected": expected})


def _logger(context: dg.AssetExecutionContext) -> Any:
    last = [0.0]

    def progress(stats: TableStats) -> None:
        now = time.monotonic()
        if stats.ended is not None or now - last[0] >= PROGRESS_LOG_SECONDS:
            last[0] = now
            context.log.info(f"{stats.name}: {stats.written:,}/{stats.total:,} rows, "
                             f"{stats.rows_per_second:,.0f} rows/s")

    return progress


def _preview(genfile: Genfile, table: str, start: int, stop: int) -> str:
    """The first rows written, as a Markdown table."""
    names, rows = preview_text(genfile, table, start, stop, PREVIEW_ROWS)
    if not rows:
        return "(no rows)"
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join("NULL" if v is None else v.replace("|", "\\|") for v in row)
              + " |" for row in rows]
    return "\n".join(lines)

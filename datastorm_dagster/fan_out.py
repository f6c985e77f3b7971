"""One table's materialization fanned out as steps: ``[dagster] fan_out = N``.

A partitioned asset spreads a table over the workers only through a
backfill, one run per partition. For a single big run, the table's row
range is cut in N slices and the asset becomes a graph: a step that
checks the parents and fans the slices out (a dynamic output each), one
step per slice, which a distributed executor (Celery, Kubernetes) sends
to any worker, and a step that collects what the slices wrote and
records the materialization.

A slice is ``--partition K/N`` of the table: a pure function of its row
range, upserted by primary key in its own transaction, so slices on
different workers load the same table at once, and a slice that fails
leaves its rows as they were. A failed slice fails the run; re-executing
it from failure runs only the slices that did not finish. The checks are
the table's usual ones, in a step after the collect step (a graph's ops
cannot yield them), against the target itself.
"""

import os
import socket
import time
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.metadata import TableMetadataSet

from datastorm_core.errors import DatastormError
from datastorm_core.genfile.model import Genfile, Table
from datastorm_core.secrets import scrub
from datastorm_core.tables import Partition, row_range
from datastorm_dagster.assets import (
    POOL_KEY,
    _check_parent_pools,
    _data_version,
    _logger,
    _preview,
    op_name,
    reference_pool,
)
from datastorm_dagster.checks import evaluate_checks
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.translator import METADATA_PREFIX, DatastormTranslator

__all__ = ["fan_out_table_asset"]


def fan_out_table_asset(spec: dg.AssetSpec, checks: list[dg.AssetCheckSpec], table_name: str,
                        parents: Mapping[str, dg.AssetKey], translator: DatastormTranslator,
                        slices: int) -> list[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    """The graph-backed asset of a table written in ``slices`` steps, and its checks."""
    resource_key = translator.resource_key
    base = translator.definition_name(op_name(table_name))
    # A graph's upstream assets are its inputs; they carry no value (the rows are in
    # the target), only the order.
    ins = {f"upstream_{i}": dg.AssetIn(key=dep.asset_key, dagster_type=dg.Nothing)
           for i, dep in enumerate(spec.deps)}

    @dg.op(name=f"{base}__slices", out=dg.DynamicOut(int),
           ins={name: dg.In(dg.Nothing) for name in ins},
           required_resource_keys={resource_key})
    def plan_slices(context: dg.OpExecutionContext) -> Iterator[dg.DynamicOutput[int]]:
        datastorm: DatastormResource = getattr(context.resources, resource_key)
        genfile = _genfile(datastorm, table_name)
        # Before any slice writes: children never land on parents of another definition.
        _check_parent_pools(context, genfile, genfile.table(table_name), parents)
        for index in range(slices):
            yield dg.DynamicOutput(index, mapping_key=str(index))

    @dg.op(name=f"{base}__slice", required_resource_keys={resource_key})
    def write_slice(context: dg.OpExecutionContext, index: int) -> dict[str, Any]:
        datastorm: DatastormResource = getattr(context.resources, resource_key)
        genfile = _genfile(datastorm, table_name)
        partition = Partition(index, slices)
        started = time.time()
        try:
            report = datastorm.write_table(genfile, table_name, partition, _logger(context))
        except DatastormError as exc:
            raise dg.Failure(description=f"slice {index}/{slices}: {exc}") from None
        start, stop = row_range(genfile, table_name, partition)
        stats = report.stats.tables[0]
        context.log.info(f"slice {index}/{slices}: rows [{start}, {stop}), "
                         f"{stats.written:,} written in {stats.seconds:.1f} s")
        return {"slice": index, "rows": stats.written, "seconds": round(stats.seconds, 3),
                "started": started, "ended": time.time(), "row_range": [start, stop],
                "worker_host": socket.gethostname(), "worker_pid": os.getpid(),
                "seed": report.seed, "target": scrub(report.target),
                "warnings": [scrub(w) for w in report.warnings]}

    @dg.op(name=f"{base}__collect", out=dg.Out(dg.Nothing),
           required_resource_keys={resource_key})
    def collect(context: dg.OpExecutionContext, written: list[dict[str, Any]]) -> dg.Output:
        datastorm: DatastormResource = getattr(context.resources, resource_key)
        genfile = _genfile(datastorm, table_name)
        table = genfile.table(table_name)
        seed = written[0]["seed"] if written else genfile.dataset.seed
        for warning in sorted({w for slice_ in written for w in slice_["warnings"]}):
            context.log.warning(warning)
        with warnings.catch_warnings():  # an op's data version is "beta"; an asset's is not
            warnings.simplefilter("ignore", dg.BetaWarning)
            return dg.Output(None, data_version=_data_version(genfile, table, seed, None),
                             metadata=_metadata(genfile, table, spec, written))

    @dg.graph_multi_asset(name=base, ins=ins, can_subset=False,
                          outs={"table": dg.AssetOut.from_spec(
                              spec.replace_attributes(deps=[]), dagster_type=dg.Nothing)})
    def materialize(**upstream: Any) -> Any:
        return collect(plan_slices(**upstream).map(write_slice).collect())

    definitions: list[dg.AssetsDefinition | dg.AssetChecksDefinition] = [materialize]
    if checks:
        definitions.append(_checks(checks, table_name, spec.key, parents, resource_key, base))
    return definitions


def _checks(checks: list[dg.AssetCheckSpec], table_name: str, key: dg.AssetKey,
            parents: Mapping[str, dg.AssetKey], resource_key: str, base: str
            ) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(specs=checks, can_subset=True, name=f"{base}__checks",
                          required_resource_keys={resource_key})
    def table_checks(context: dg.AssetCheckExecutionContext
                     ) -> Iterator[dg.AssetCheckResult]:
        datastorm: DatastormResource = getattr(context.resources, resource_key)
        genfile = _genfile(datastorm, table_name)
        yield from evaluate_checks(context, datastorm, datastorm.routed(genfile),  # type: ignore[arg-type]
                                   genfile.table(table_name), key, parents)

    return table_checks


def _genfile(datastorm: DatastormResource, table_name: str) -> Genfile:
    genfile = datastorm.load()
    if table_name not in genfile.table_names:
        raise dg.Failure(f"table {table_name!r} is no longer in {datastorm.genfile}; "
                         "reload the code location")
    return genfile


def _metadata(genfile: Genfile, table: Table, spec: dg.AssetSpec,
              written: list[dict[str, Any]]) -> dict[str, Any]:
    """The table's materialization: the rows of every slice, the wall time from the
    first slice's start to the last one's end, and where each slice ran."""
    rows = sum(s["rows"] for s in written)
    seconds = (max(s["ended"] for s in written) - min(s["started"] for s in written)
               if written else 0.0)
    ordered = sorted(written, key=lambda s: s["slice"])
    return {
        **dict(TableMetadataSet(table_name=table.name,
                                column_schema=spec.metadata.get("dagster/column_schema"),
                                row_count=rows)),
        f"{METADATA_PREFIX}/seed": ordered[0]["seed"] if ordered else genfile.dataset.seed,
        f"{METADATA_PREFIX}/genfile_digest": genfile.digest,
        f"{METADATA_PREFIX}/table_digest": genfile.table_digests[table.name],
        f"{METADATA_PREFIX}/target": ordered[0]["target"] if ordered else "",
        f"{METADATA_PREFIX}/row_range": f"[0, {table.records})",
        f"{METADATA_PREFIX}/seconds": round(seconds, 3),
        f"{METADATA_PREFIX}/rows_per_second": round(rows / seconds) if seconds else 0,
        f"{METADATA_PREFIX}/slices": dg.MetadataValue.json([
            {k: s[k] for k in ("slice", "row_range", "rows", "seconds", "started", "ended",
                               "worker_host", "worker_pid")} for s in ordered]),
        f"{METADATA_PREFIX}/workers": len({(s["worker_host"], s["worker_pid"])
                                           for s in ordered}),
        POOL_KEY: dg.MetadataValue.json(reference_pool(genfile, table)),
        f"{METADATA_PREFIX}/preview": dg.MetadataValue.md(_preview(genfile, table.name, 0,
                                                                    table.records)),
    }

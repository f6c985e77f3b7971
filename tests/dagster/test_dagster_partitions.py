"""``[dataset] partitions = N``: static partitions "0".."N-1", each ``--partition K/N``."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dagster as dg
import pytest
from dagster_support import (
    FIXTURES,
    check_results,
    copy_genfile,
    failure_messages,
    fingerprint,
    materialize,
    metadata_value,
    query,
    row_count,
)

from datastorm_core.core.partition import Partition, partition_range
from datastorm_core.genfile import load_genfile
from datastorm_core.genfile.graph import write_order
from datastorm_core.run import RunOptions, preview, run
from datastorm_dagster import build_definitions

FLAT = FIXTURES / "flat_partitioned.toml"
FLAT_GENFILE = load_genfile(FLAT)
# The columns compared value by value with the generator (timestamps are left to md5).
COMPARED = {"customer": ("id", "name", "email"), "product": ("id", "sku"), "event": ("id", "kind")}


def _partition_rows(table: str, index: int) -> list[tuple[object, ...]]:
    """Rows of partition ``index`` of ``table``, generated without any target."""
    total = FLAT_GENFILE.table(table).records
    start, stop = partition_range(total, Partition(index, 3))
    chunk = preview(FLAT_GENFILE, table, stop - start, start=start)
    return chunk.rows_as_tuples(COMPARED[table])


def test_partitions_def_has_one_key_per_partition() -> None:
    defs = build_definitions(FLAT)
    graph = defs.resolve_asset_graph()

    for key in graph.get_all_asset_keys():
        partitions = graph.get(key).partitions_def
        assert isinstance(partitions, dg.StaticPartitionsDefinition)
        assert partitions.get_partition_keys() == ["0", "1", "2"]


def test_one_partition_means_no_partitions(tmp_path: Path) -> None:
    defs = build_definitions(copy_genfile(tmp_path, "bank.toml", partitions=1))
    graph = defs.resolve_asset_graph()

    assert all(graph.get(k).partitions_def is None for k in graph.get_all_asset_keys())


@pytest.mark.postgres
def test_a_partition_rematerialized_holds_exactly_its_rows_then_all_make_a_whole_run(
        pg_url: str, fresh_database) -> None:
    defs = build_definitions(FLAT, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()

    for _ in range(2):  # the second time rewrites the same rows, duplicating none
        result = materialize(defs, instance, partition_key="1")
        assert result.success, failure_messages(result)
        for table, columns in COMPARED.items():
            rows = query(pg_url, f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY id')
            assert rows == _partition_rows(table, 1)
            assert fingerprint(pg_url, table)[1] == len(rows)  # distinct ids
        checks = check_results(result)
        assert all(c.passed for c in checks.values())
        start, stop = partition_range(301, Partition(1, 3))
        assert metadata_value(checks["event", "row_count"].metadata["expected"]) == stop - start

    materialization = next(e.materialization for e in result.get_asset_materialization_events()
                           if e.asset_key.path[-1] == "event")
    assert metadata_value(materialization.metadata["dagster/partition_row_count"]) == 100
    assert "dagster/row_count" not in materialization.metadata
    assert metadata_value(materialization.metadata["datastorm/partition"]) == "1/3"
    assert metadata_value(materialization.metadata["datastorm/row_range"]) == "[100, 200)"
    # Run in process: the worker is this process.
    assert metadata_value(materialization.metadata["datastorm/worker_host"]
                          ) == socket.gethostname()
    assert metadata_value(materialization.metadata["datastorm/worker_pid"]) == os.getpid()
    assert metadata_value(materialization.metadata["datastorm/seconds"]) >= 0

    for key in ("0", "2"):
        result = materialize(defs, instance, partition_key=key)
        assert result.success, failure_messages(result)
    # Each partition's row-count check counts its own rows, whatever the others hold.
    start, stop = partition_range(301, Partition(2, 3))
    assert metadata_value(check_results(result)["event", "row_count"].metadata["expected"]
                          ) == stop - start

    whole = fresh_database()
    run(FLAT_GENFILE, RunOptions(target=whole))
    for table in COMPARED:
        assert fingerprint(pg_url, table) == fingerprint(whole, table)
        assert row_count(pg_url, table) == FLAT_GENFILE.table(table).records


@pytest.mark.postgres
def test_partitions_of_referencing_tables_add_up_to_a_whole_run(
        tmp_path: Path, pg_url: str, fresh_database) -> None:
    """Every partition of a parent before its children's: the order a backfill keeps."""
    genfile_path = copy_genfile(tmp_path, "bank.toml", partitions=3)
    genfile = load_genfile(genfile_path)
    defs = build_definitions(genfile_path, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()

    for table in (t.name for t in write_order(genfile.tables)):
        for key in ("2", "0", "1"):
            result = materialize(defs, instance, partition_key=key,
                                 selection=dg.AssetSelection.assets(table)
                                 | dg.AssetSelection.checks_for_assets(dg.AssetKey([table])))
            assert result.success, failure_messages(result)

    whole = fresh_database()
    run(load_genfile(FIXTURES / "bank.toml"), RunOptions(target=whole))
    for table in genfile.table_names:
        assert fingerprint(pg_url, table) == fingerprint(whole, table)


@pytest.mark.postgres
def test_one_partition_of_every_table_including_references(tmp_path: Path,
                                                           pg_url: str) -> None:
    genfile_path = copy_genfile(tmp_path, "bank.toml", partitions=3)
    defs = build_definitions(genfile_path, target=pg_url)

    instance = dg.DagsterInstance.ephemeral()
    result = materialize(defs, instance, partition_key="1")

    assert result.success, failure_messages(result)
    # Children draw parents from every partition: with partitions 0 and 2 of the
    # parent missing, orphans are expected and reported as a warning, not an error.
    orphans = check_results(result)["account", "no_orphan_customer_id"]
    assert not orphans.passed and orphans.severity == dg.AssetCheckSeverity.WARN
    assert metadata_value(orphans.metadata["parent_partitions_missing"]) == 2
    for key in ("0", "2"):
        assert materialize(defs, instance, partition_key=key).success
    last = check_results(materialize(defs, instance, partition_key="2"))
    assert all(evaluation.passed for evaluation in last.values()), last


@pytest.mark.postgres
def test_a_partitions_row_count_ignores_rows_other_partitions_committed(pg_url: str) -> None:
    """Another worker's partition committed, its materialization not yet recorded:
    the row count of this partition counts its own rows (by key), not the table's."""
    defs = build_definitions(FLAT, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    # Partition 1 written outside this instance: rows in, no materialization event.
    run(FLAT_GENFILE, RunOptions(target=pg_url, partition=Partition(1, 3), mode="append"))

    result = materialize(defs, instance, partition_key="0")
    assert result.success, failure_messages(result)
    checks = check_results(result)
    start, stop = partition_range(301, Partition(0, 3))
    for table in COMPARED:
        assert checks[table, "row_count"].passed, checks[table, "row_count"].metadata
    assert metadata_value(checks["event", "row_count"].metadata["actual"]) == stop - start
    other = partition_range(301, Partition(1, 3))
    assert row_count(pg_url, "event") == stop - start + other[1] - other[0]
    assert f"[{start}, {stop})" in metadata_value(checks["event", "row_count"].metadata["counted"])

"""The same Genfile through the in-process and the multiprocess executors: the same tables."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster_support import (
    REPO,
    copy_genfile,
    failure_messages,
    fingerprint,
    materialize,
    metadata_value,
    run_partitions,
)

from datastorm_dagster import build_definitions

PARTITIONS = ("0", "1", "2", "3")
TABLES = ("customer", "account")
RUN_SECONDS = 120


@pytest.mark.postgres
def test_in_process_and_multiprocess_executors_write_the_same_tables(
        tmp_path: Path, pg_url: str, fresh_database) -> None:
    genfile = copy_genfile(tmp_path, "tiny.toml", partitions=len(PARTITIONS))
    in_process = build_definitions(genfile, target=pg_url)
    instance = dg.DagsterInstance.ephemeral()
    for key in PARTITIONS:
        result = materialize(in_process, instance, partition_key=key)
        assert result.success, failure_messages(result)

    home = tmp_path / "home"
    home.mkdir()
    separate = fresh_database()
    env = {**os.environ, "DAGSTER_HOME": str(home), "DATASTORM_EXECUTOR": "multiprocess",
           "DATASTORM_GENFILE": genfile.name, "DATASTORM_TARGET": separate,
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    assert run_partitions(env, tmp_path, PARTITIONS, RUN_SECONDS) == [True] * len(PARTITIONS)

    stored = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    pids = set()
    for table in TABLES:
        assert fingerprint(pg_url, table) == fingerprint(separate, table)
        for record in stored.fetch_materializations(dg.AssetKey(table), limit=10).records:
            pids.add(metadata_value(record.asset_materialization.metadata[
                "datastorm/worker_pid"]))
    # A process per step: as many writers as steps, none of them this one.
    assert len(pids) == len(PARTITIONS) * len(TABLES) and os.getpid() not in pids


def test_the_kubernetes_executor_runs_every_step_of_every_job_in_a_pod(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``DATASTORM_EXECUTOR=k8s``: the code location loads with dagster-k8s's pod-per-step
    executor on every job, slices of a fanned-out table included."""
    pytest.importorskip("dagster_k8s", reason="pip install 'datastorm[k8s]'")
    from datastorm_dagster.definitions import definitions_from_environment

    genfile = copy_genfile(tmp_path, "tiny.toml")
    genfile.write_text("[dagster]\nfan_out = 4\n\n" + genfile.read_text(encoding="utf-8"),
                       encoding="utf-8")
    monkeypatch.setenv("DATASTORM_GENFILE", str(genfile))
    monkeypatch.setenv("DATASTORM_EXECUTOR", "k8s")
    defs = definitions_from_environment()
    jobs = [defs.resolve_implicit_global_asset_job_def(),
            defs.resolve_job_def("datastorm_refresh")]
    assert {job.executor_def.name for job in jobs} == {"k8s"}
    refresh = defs.resolve_job_def("datastorm_refresh")
    assert any("__slice" in node.name for node in refresh.graph.node_dict["datastorm_customer"]
               .definition.node_dict.values())


def test_an_unknown_executor_is_a_clear_error(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from datastorm_dagster.definitions import definitions_from_environment

    monkeypatch.setenv("DATASTORM_GENFILE", str(copy_genfile(tmp_path, "tiny.toml")))
    monkeypatch.setenv("DATASTORM_EXECUTOR", "kubernetes")
    with pytest.raises(dg.DagsterInvalidDefinitionError,
                       match="expected one of in_process, multiprocess, celery, k8s"):
        definitions_from_environment()

"""The factory: assets, checks, schedule and sensor of one Genfile."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from datastorm_core.errors import DatastormError
from datastorm_core.run import RunOptions, load_genfile, routed
from datastorm_dagster.assets import build_table_assets
from datastorm_dagster.automation import (
    build_genfile_sensor,
    build_refresh_jobs,
    build_refresh_schedules,
)
from datastorm_dagster.exports import build_export_assets
from datastorm_dagster.frames import DatastormFrameIOManager
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.stream import build_stream_job, build_stream_schedule
from datastorm_dagster.translator import DatastormTranslator

__all__ = ["build_definitions"]


def build_definitions(
    genfile: str | os.PathLike[str],
    *,
    target: str | dg.EnvVar | None = None,
    targets: dict[str, str] | None = None,
    translator: DatastormTranslator | None = None,
    executor: dg.ExecutorDefinition | None = None,
    export_dir: str | None = None,
    frames: bool | None = None,
) -> dg.Definitions:
    """Assets, checks, the nightly schedule, the Genfile sensor and the stream burst job
    (``datastorm_stream_burst``) of one Genfile.

    Args:
        genfile: path of the Genfile.toml.
        target: the target URL, or an ``EnvVar`` naming it; None: the Genfile's [target].
        targets: URLs of named targets ([targets.NAME]) replacing the Genfile's.
        translator: how tables become asset specs (subclass to change keys or groups).
        executor: where the steps run; None: all in the run's own process. A
            distributed one (``dagster_celery.celery_executor``, the Kubernetes
            executor) sends each table's (partition's) step to a worker.
        export_dir: where the assets of [exports.NAME] write their files; None:
            ``DATASTORM_EXPORT_DIR``, else ``exports/`` beside the Genfile.
        frames: hand each table to the downstream assets that take it as an argument
            as a pandas DataFrame (``DatastormFrameIOManager``); None: the Genfile's
            ``[dagster] frames`` (default false).

    Examples:
        defs = build_definitions("Genfile.toml", target=dg.EnvVar("DATASTORM_TARGET"))
    """
    path = str(Path(genfile).resolve())
    translator = translator or DatastormTranslator()
    parsed = load_genfile(path, target_overridden=target is not None,
                          named_overridden=list(targets or {}))
    # Kinds and checks follow where each table's rows go once the URLs are overridden.
    url = target.get_value() if isinstance(target, dg.EnvVar) else target
    try:
        routes = routed(parsed, RunOptions(target=url, target_for=dict(targets or {})))
    except DatastormError as exc:
        raise dg.DagsterInvalidDefinitionError(str(exc)) from None
    stream_job = build_stream_job(parsed, translator)
    stream_schedule = build_stream_schedule(parsed, stream_job)
    refresh = build_refresh_jobs(parsed, translator)
    resource = DatastormResource(genfile=path, target=target, targets=dict(targets or {}),
                                 export_dir=export_dir)
    resources: dict[str, object] = {translator.resource_key: resource}
    frames = parsed.dagster.frames if frames is None else frames
    if frames:
        resources[translator.frames_key] = DatastormFrameIOManager(
            genfile=path, target=target, targets=dict(targets or {}))
    return dg.Definitions(
        assets=[*build_table_assets(routes, translator,
                                    translator.frames_key if frames else None),
                *build_export_assets(parsed, translator)],
        jobs=[*(job.job for job in refresh), stream_job],
        schedules=[*build_refresh_schedules(parsed, translator, refresh),
                   *([stream_schedule] if stream_schedule else [])],
        sensors=[build_genfile_sensor(path, parsed, translator, refresh)],
        resources=resources,
        # By default every step of a run in the run's own process: a table is one COPY
        # in one transaction, so a process per step only added start-up time (a
        # 6-table "materialize all" took over 100 s that way against 4 s for the CLI).
        # Past one machine, a distributed executor is worth its overhead.
        executor=executor or dg.in_process_executor,
    )

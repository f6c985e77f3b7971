"""The factory: assets, checks, schedule and sensor of one Genfile."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from datastorm_core.genfile import load_genfile
from datastorm_dagster.assets import build_table_assets
from datastorm_dagster.automation import build_genfile_sensor, build_refresh_schedule
from datastorm_dagster.checks import build_table_checks
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
) -> dg.Definitions:
    """Assets, checks, the nightly schedule, the Genfile sensor and the stream burst job
    (``datastorm_stream_burst``) of one Genfile.

    Args:
        genfile: path of the Genfile.toml.
        target: the target URL, or an ``EnvVar`` naming it; None: the Genfile's [target].
        targets: URLs of named targets ([targets.NAME]) replacing the Genfile's.
        translator: how tables become asset specs (subclass to change keys or groups).

    Examples:
        defs = build_definitions("Genfile.toml", target=dg.EnvVar("DATASTORM_TARGET"))
    """
    path = str(Path(genfile).resolve())
    translator = translator or DatastormTranslator()
    parsed = load_genfile(path, target_overridden=target is not None,
                          named_overridden=list(targets or {}))
    stream_job = build_stream_job(parsed, translator)
    stream_schedule = build_stream_schedule(parsed, stream_job)
    return dg.Definitions(
        assets=build_table_assets(parsed, translator),
        asset_checks=build_table_checks(parsed, translator),
        jobs=[stream_job],
        schedules=[build_refresh_schedule(parsed, translator),
                   *([stream_schedule] if stream_schedule else [])],
        sensors=[build_genfile_sensor(path, parsed, translator)],
        resources={translator.resource_key: DatastormResource(
            genfile=path, target=target, targets=dict(targets or {}))},
    )

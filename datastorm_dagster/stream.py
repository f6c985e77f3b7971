"""A bounded burst of change-stream events against the materialized tables.

A CDC test (Debezium, a pgoutput consumer) needs a database that keeps
changing. The job ``datastorm_stream_burst`` runs ``datastorm stream`` for a
number of events (config ``events``, ``rate``, ``mix``, ``tables``,
``publication``) against the target the assets were materialized into, and
records an ``AssetObservation`` per table with the rows it inserted,
updated and deleted. It is a job, not an asset: it changes the tables'
rows, not their definition, so it can be scheduled beside the nightly
refresh. ``[dagster] stream_cron`` adds such a schedule
(``datastorm_stream_burst_schedule``, events from ``[dagster] stream_events``,
default ``DEFAULT_BURST_EVENTS``).

Events continue the database's ledger: a burst after a refresh starts at
event 0 again (the refresh reloaded the tables), a second burst goes on
where the first stopped, and the same seed gives the same events.
"""


from typing import Any

import dagster as dg

from datastorm_core.genfile.model import DagsterSettings, Genfile
from datastorm_core.genfile.streaming import parse_mix
from datastorm_core.stream import StreamOptions, stream
from datastorm_dagster.resources import DatastormResource
from datastorm_dagster.translator import METADATA_PREFIX, DatastormTranslator

__all__ = [
    "DEFAULT_BURST_EVENTS",
    "STREAM_JOB_NAME",
    "StreamBurstConfig",
    "build_stream_job",
    "build_stream_schedule",
]

STREAM_JOB_NAME = "datastorm_stream_burst"
DEFAULT_BURST_EVENTS = DagsterSettings().stream_events


class StreamBurstConfig(dg.Config):
    """How big a burst is, and how fast it goes."""

    events: int = DEFAULT_BURST_EVENTS
    rate: float = 0.0  # events per second; 0: as fast as possible
    mix: str | None = None  # e.g. "insert=70,update=25,delete=5"
    tables: list[str] | None = None  # default: every streamed table
    publication: str | None = None  # create this publication for the streamed tables


def build_stream_job(genfile: Genfile, translator: DatastormTranslator) -> dg.JobDefinition:
    """The job that applies a burst of stream events to the Genfile's tables."""
    keys = {t.name: translator.get_asset_key(t) for t in genfile.tables}

    resource_key = translator.resource_key

    # Named after the Genfile like every other definition: two Genfiles in one code
    # location each have their own burst op.
    @dg.op(name=translator.definition_name("datastorm_stream_burst_op"),
           required_resource_keys={resource_key},
           description="Applies a bounded burst of INSERT/UPDATE/DELETE events (datastorm "
           "stream) to the materialized tables.")
    def stream_burst(context: dg.OpExecutionContext,
                     config: StreamBurstConfig) -> dg.Output[dict[str, Any]]:
        datastorm: DatastormResource = getattr(context.resources, resource_key)
        current = datastorm.load()
        try:
            mix = parse_mix(config.mix) if config.mix else None
        except ValueError as exc:
            raise dg.Failure(f"mix: {exc}") from None
        options = StreamOptions(target=datastorm.target, tables=config.tables,
                                rate=config.rate, events=config.events, mix=mix,
                                publication=config.publication)
        report = stream(current, options, on_line=context.log.info)
        summary = report.summary()
        context.log.info(report.line())
        for name, counts in report.tables.items():
            if name not in keys or not any(counts.values()):
                continue
            context.log_event(dg.AssetObservation(
                asset_key=keys[name],
                description=f"stream events {report.first_event}..{report.next_event - 1}",
                metadata={f"{METADATA_PREFIX}/stream_{kind}": dg.MetadataValue.int(count)
                          for kind, count in counts.items()}))
        return dg.Output(summary, metadata={
            "events": dg.MetadataValue.int(report.events),
            "first_event": dg.MetadataValue.int(report.first_event),
            "next_event": dg.MetadataValue.int(report.next_event),
            "events_per_second": dg.MetadataValue.float(float(summary["events_per_second"])),
            "reconnects": dg.MetadataValue.int(report.reconnects),
            "summary": dg.MetadataValue.json(summary),
        })

    @dg.job(name=translator.definition_name(STREAM_JOB_NAME),
            description="A burst of change-stream events against the tables the assets "
            "materialized, for CDC tests.")
    def stream_job() -> None:
        stream_burst()

    return stream_job


def build_stream_schedule(genfile: Genfile, job: dg.JobDefinition
                          ) -> dg.ScheduleDefinition | None:
    """A schedule of bursts when ``[dagster] stream_cron`` is set, else None."""
    cron = genfile.dagster.stream_cron
    if not cron:
        return None
    events = genfile.dagster.stream_events
    return dg.ScheduleDefinition(
        name=f"{job.name}_schedule",
        cron_schedule=str(cron),
        job=job,
        # The job's one op, named after the Genfile (datastorm_<name>_stream_burst_op).
        run_config={"ops": {job.graph.nodes[0].name: {"config": {"events": events}}}},
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"A burst of {events} stream events ({cron}).",
    )

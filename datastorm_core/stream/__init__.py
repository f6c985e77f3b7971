"""The change stream: a realistic OLTP workload on the tables ``datastorm run`` loaded.

``stream(genfile, options)`` applies single-row INSERT, UPDATE and DELETE
transactions to PostgreSQL, in the proportions of the mix, at a rate, until
a count, a duration or a signal. Modules, from pure to I/O:

- ``spec``: what the Genfile lets each table do (``mutable``, ``transitions``,
  ``on_update``, ``on_delete``, ``stream_weight``, ``stream_mix``);
- ``plan``: event *n* as a pure function of (seed, n): kind, table, where a
  row search starts, the values of a new row or of an update;
- ``events``: what an event changed (``Event``, ``Change``);
- ``sql``, ``values``: statements and values as text, no I/O;
- ``state``: the ledger in the target (next event, next insert index per
  table), written in each event's own transaction;
- ``session``: the connection, its advisory lock, one round trip per event;
- ``catalog``: the streamed tables as the database has them (keys, foreign keys);
- ``search``: the first live rows at or after a drawn key;
- ``draw``: the value an event gives a field (a live parent, a next state);
- ``kinds``: one module per kind of event, behind ``kinds.HANDLERS``;
- ``executor``: one transaction per event against PostgreSQL, wiring the above;
- ``pacing``: the rate with its deterministic jitter;
- ``report``: the progress line and the JSON summary;
- ``publication``: the CDC setup (``--publication``);
- ``runner``: the loop, its stop conditions and reconnection with backoff;
- ``kafka_stream``: new rows sent to a Kafka target at a rate (``--tables`` on
  Kafka tables), apart from the above.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datastorm_core.stream.events import Change, Event
    from datastorm_core.stream.report import StreamReport, write_summary
    from datastorm_core.stream.runner import DEFAULT_RATE, StreamOptions, stream

# Imported when first named: the command line builds its `stream` parser from
# ``stream.command`` without loading the PostgreSQL side of the stream.
_LAZY = {"Change": "events", "Event": "events", "StreamReport": "report",
         "write_summary": "report", "DEFAULT_RATE": "runner", "StreamOptions": "runner",
         "stream": "runner"}

__all__ = ["DEFAULT_RATE", "Change", "Event", "StreamOptions", "StreamReport", "stream",
           "write_summary"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The change stream: a realistic OLTP workload on the tables ``datastorm run`` loaded.

``stream(genfile, options)`` applies single-row INSERT, UPDATE and DELETE
transactions to PostgreSQL, in the proportions of the mix, at a rate, until
a count, a duration or a signal. Modules, from pure to I/O:

- ``spec``: what the Genfile lets each table do (``mutable``, ``transitions``,
  ``on_update``, ``on_delete``, ``stream_weight``, ``stream_mix``);
- ``plan``: event *n* as a pure function of (seed, n): kind, table, where a
  row search starts, the values of a new row or of an update;
- ``state``: the ledger in the target (next event, next insert index per
  table), written in each event's own transaction;
- ``executor``: one transaction per event against PostgreSQL;
- ``pacing``: the rate with its deterministic jitter;
- ``report``: the progress line and the JSON summary;
- ``publication``: the CDC setup (``--publication``);
- ``runner``: the loop, its stop conditions and reconnection with backoff.
"""

from __future__ import annotations

from datastorm_core.stream.executor import Change, Event
from datastorm_core.stream.report import StreamReport, write_summary
from datastorm_core.stream.runner import DEFAULT_RATE, StreamOptions, stream

__all__ = ["DEFAULT_RATE", "Change", "Event", "StreamOptions", "StreamReport", "stream",
           "write_summary"]

"""``datastorm stream``: the command line of the change stream (registered by ``cli.py``).

SIGINT and SIGTERM stop the stream after the event in flight (exit 130); a
second signal abandons that event (the server rolls it back). The JSON
summary is written whatever the end: done, interrupted or failed.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import IO, Any

from rich.console import Console
from rich.table import Table

from datastorm_core.errors import DatastormError, UsageError
from datastorm_core.genfile.streaming import KINDS, parse_mix
from datastorm_core.loading import load_genfile
from datastorm_core.run import parse_target_for
from datastorm_core.stream.events import Event
from datastorm_core.stream.pacing import DEFAULT_RATE
from datastorm_core.stream.report import StreamReport, write_summary

__all__ = ["add_parser", "cmd_stream"]

EXIT_OK, EXIT_INTERRUPTED = 0, 130


def add_parser(commands: Any) -> None:
    """Add the ``stream`` subcommand to the ``datastorm`` parser's subcommands."""
    go = commands.add_parser(
        "stream", help="apply a change stream (INSERT/UPDATE/DELETE) to the loaded tables")
    go.add_argument("genfile")
    go.add_argument("--target", help="PostgreSQL URL of the tables `datastorm run` loaded "
                    "(default: the Genfile's [target])")
    go.add_argument("--rate", type=float, default=DEFAULT_RATE,
                    help=f"events per second, with jitter (default {DEFAULT_RATE:g}; "
                    "0: as fast as possible)")
    go.add_argument("--events", type=int, help="stop after this many events")
    go.add_argument("--duration", type=float, help="stop after this many seconds")
    go.add_argument("--events-per-transaction", type=int, default=1, metavar="N",
                    help="commit every N events together (default 1: one transaction per "
                    "event; a CDC consumer sees a group's changes committed at once)")
    go.add_argument("--mix", help="proportions of the kinds, e.g. insert=70,update=25,delete=5 "
                    "(the default)")
    go.add_argument("--seed", type=int, help="override [dataset] seed (the one `run` used)")
    go.add_argument("--tables", help="comma-separated tables to stream (default: every table "
                    "without stream = false)")
    go.add_argument("--publication", metavar="NAME",
                    help="create a logical-replication publication of the streamed tables")
    go.add_argument("--target-for", action="append", default=[], metavar="NAME=URL",
                    help="URL of the named target [targets.NAME] (repeatable)")
    go.add_argument("--from-event", type=int, default=0, metavar="N",
                    help="Kafka tables: resume after the first N events (default 0)")
    go.add_argument("--summary-json", metavar="PATH", help="write the summary as JSON")
    go.add_argument("--event-log", metavar="PATH",
                    help="write every committed event as a JSON line (n, kind, rows changed)")
    go.add_argument("--quiet", action="store_true", help="print only errors")
    go.add_argument("--debug", action="store_true", help="show tracebacks of failures")


def cmd_stream(args: argparse.Namespace, out: Console) -> int:
    """Run ``datastorm stream``; the exit code."""
    # Here, not at the top: the command line builds this command's parser for every
    # command, and only a stream needs psycopg and the stream's engine.
    from datastorm_core.stream.kafka_stream import kafka_tables
    from datastorm_core.stream.runner import StreamOptions, stream

    mix = None
    if args.mix is not None:
        try:
            mix = parse_mix(args.mix)
        except ValueError as exc:
            raise UsageError(f"--mix: {exc}") from None
    tables = [t.strip() for t in args.tables.split(",") if t.strip()] if args.tables else None
    target_for = parse_target_for(args.target_for)
    genfile = load_genfile(args.genfile, target_overridden=bool(args.target),
                           named_overridden=list(target_for))
    if tables and kafka_tables(genfile, tables) is not None:
        return _cmd_event_stream(args, genfile, tables, target_for, out)
    options = StreamOptions(target=args.target, seed=args.seed, tables=tables, rate=args.rate,
                            events=args.events, duration=args.duration, mix=mix,
                            publication=args.publication,
                            events_per_transaction=args.events_per_transaction)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    say: Callable[[str], None] | None = None if args.quiet else \
        (lambda line: err.print(line, markup=False))
    stop = threading.Event()
    started: list[StreamReport] = []
    logs: list[IO[str]] = []

    def on_event(event: Event) -> None:
        logs[0].write(json.dumps(event.as_json(), separators=(",", ":")) + "\n")

    def ready(report: StreamReport) -> None:
        started.append(report)
        if args.event_log:
            # Opened once the database is ready (a user error leaves no file behind);
            # line-buffered, so a CDC test can follow it while the stream runs.
            logs.append(open(args.event_log, "w", encoding="utf-8", buffering=1))  # noqa: SIM115
        if say is not None:
            for index in report.indexes:
                say(f"stream: created index {index} (a foreign key column without one)")
            for note in report.notes:
                say(f"stream: note: {note}")
            if report.publication:
                pub = report.publication
                say(f"stream: publication {pub['name']} "
                    f"{'created' if pub['created'] else 'updated'} for "
                    f"{', '.join(pub['tables'])} (wal_level {pub['wal_level']})")
            say(f"stream: from event {report.first_event:,} into {report.target}, "
                f"{'as fast as possible' if options.rate == 0 else f'{options.rate:g} events/s'}")

    try:
        with _stop_on_signals(stop, say):
            report = stream(genfile, options, stop=stop,
                            on_event=on_event if args.event_log else None,
                            on_line=say, on_ready=ready)
    except DatastormError as exc:
        if started:  # the stream had begun: say what it did before failing
            started[0].error = str(exc)
            _finish(started[0], args, out)
        raise
    finally:
        for log in logs:
            log.close()
    _finish(report, args, out)
    if report.interrupted:
        if say is not None:
            say(f"stream: interrupted after {report.events:,} events; every event is whole "
                f"(next event {report.next_event:,})")
        return EXIT_INTERRUPTED
    return EXIT_OK


def _cmd_event_stream(args: argparse.Namespace, genfile: Any, tables: list[str],
                      target_for: dict[str, str], out: Console) -> int:
    """``--tables`` on a Kafka target: new events at a rate (see stream/kafka_stream.py)."""
    from datastorm_core.stream.kafka_stream import EventStreamOptions, stream_events

    if args.mix is not None or args.publication:
        raise UsageError("--mix and --publication apply to a database stream; events to "
                         "Kafka are inserts only")
    options = EventStreamOptions(tables=tables, target_for=target_for, seed=args.seed,
                                 rate=args.rate, events=args.events, duration=args.duration,
                                 from_event=args.from_event)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    say: Callable[[str], None] | None = None if args.quiet else \
        (lambda line: err.print(line, markup=False))
    stop = threading.Event()
    with _stop_on_signals(stop, say):
        report = stream_events(genfile, options, stop=stop, on_line=say)
    if args.summary_json:
        write_summary(args.summary_json, report.summary())
    if not args.quiet:
        grid = Table(title=f"{report.events:,} events in {report.elapsed:,.1f} s "
                     f"({report.per_second:,.1f}/s) -> {report.target}", title_justify="left")
        grid.add_column("table")
        grid.add_column("events", justify="right")
        for name, count in report.tables.items():
            grid.add_row(name, f"{count:,}")
        out.print(grid)
        if say is not None:
            say(f"stream: next event {report.next_event:,} (resume with --from-event "
                f"{report.next_event})")
    return EXIT_INTERRUPTED if report.interrupted else EXIT_OK


def _finish(report: StreamReport, args: argparse.Namespace, out: Console) -> None:
    if args.summary_json:
        write_summary(args.summary_json, report.summary())
    if args.quiet:
        return
    grid = Table(title=f"{report.events:,} events in {report.elapsed:,.1f} s "
                 f"({report.per_second:,.1f}/s) -> {report.target}", title_justify="left")
    grid.add_column("table")
    for kind in KINDS:
        grid.add_column(kind, justify="right")
    for name, counts in report.tables.items():
        grid.add_row(name, *(f"{counts[k]:,}" for k in KINDS))
    out.print(grid)


@contextmanager
def _stop_on_signals(stop: threading.Event, say: Callable[[str], None] | None
                     ) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the event in flight finishes); a second one interrupts."""
    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        if say is not None:
            with suppress(Exception):
                say(f"stream: {signal.Signals(signum).name}: stopping after the event in "
                    "flight (again to abandon it)")

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; whoever runs us there stops us
        return
    names = [s for s in ("SIGINT", "SIGTERM") if hasattr(signal, s)]
    previous = {name: signal.signal(getattr(signal, name), handler) for name in names}
    try:
        yield
    finally:
        for name, old in previous.items():
            signal.signal(getattr(signal, name), old)

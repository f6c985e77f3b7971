"""``datastorm stream``: check, prepare the database, then apply events until told to stop.

The loop applies event ``n`` (one transaction, the ledger inside it), then
``n + 1``, paced by ``--rate``, until ``--events`` have run, ``--duration``
has passed or ``stop`` is set (SIGINT, SIGTERM: the transaction in flight
finishes first). ``--events-per-transaction N`` commits every N events
instead (and what is left of a group when the stream stops); an event is
reported once its transaction is committed.

A lost connection (the server restarts, a DBA terminates the backend) is
not a failure: the stream reconnects with exponential backoff (capped at
``MAX_BACKOFF_SECONDS``), reads the ledger back and goes on from the event
it names. If the connection was lost during COMMIT, the ledger says whether
that event happened, so no event is lost and none is applied twice. Only a
server that stays away longer than ``reconnect_timeout`` ends the stream
with a failure.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import NoReturn

import psycopg

from datastorm_core.errors import TargetError, UsageError
from datastorm_core.genfile.model import Genfile
from datastorm_core.run import RunOptions, check, sized, target_url
from datastorm_core.source import Source
from datastorm_core.stream.events import Event
from datastorm_core.stream.executor import PostgresStream
from datastorm_core.stream.pacing import DEFAULT_RATE, Pacer
from datastorm_core.stream.plan import Planner
from datastorm_core.stream.report import REPORT_SECONDS, StreamReport, Ticker
from datastorm_core.stream.spec import build_spec
from datastorm_core.target.postgres.connection import one_line, undone_on_error
from datastorm_core.target.urls import redact, scheme_of

__all__ = ["DEFAULT_RATE", "RECONNECT_TIMEOUT_SECONDS", "StreamOptions", "stream"]

#: How long the server may stay away before the stream gives up (exit 1).
RECONNECT_TIMEOUT_SECONDS = 60.0
FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 5.0
# Errors after which the connection is renewed and the event retried: the
# connection is gone (OperationalError: server shutdown, terminated backend,
# network; InterfaceError: the client closed it), or the transaction was
# rolled back by the server (TransactionRollbackError is an OperationalError).
_TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)
# What a row another session changed makes of a statement the live keys chose
# (live_keys.py): the stream reads them again and applies the event once more.
_STALE = (psycopg.errors.ForeignKeyViolation, psycopg.errors.UniqueViolation,
          psycopg.errors.DivisionByZero)


@dataclass(frozen=True)
class StreamOptions:
    """What the command line (or Dagster) may set for one stream."""

    target: str | None = None  # a postgresql:// URL; wins over the Genfile's [target]
    seed: int | None = None
    tables: Sequence[str] | None = None
    rate: float = DEFAULT_RATE  # events per second; 0: as fast as possible
    events: int | None = None  # stop after this many events
    duration: float | None = None  # stop after this many seconds
    mix: Mapping[str, float] | None = None  # kind -> weight (default insert=70,update=25,...)
    publication: str | None = None  # create this publication for the streamed tables
    events_per_transaction: int = 1  # events committed together (1: one transaction each)
    reconnect_timeout: float = RECONNECT_TIMEOUT_SECONDS
    report_every: float = REPORT_SECONDS


def _check_options(options: StreamOptions) -> None:
    if not math.isfinite(options.rate) or options.rate < 0:
        raise UsageError(f"--rate must be a number >= 0 (0: as fast as possible), "
                         f"got {options.rate}")
    UsageError.unless_at_least(0, ("--events", options.events))
    if options.duration is not None and not (math.isfinite(options.duration)
                                             and options.duration > 0):
        raise UsageError(f"--duration must be a number of seconds > 0, got {options.duration}")
    if options.publication is not None and not options.publication.strip():
        raise UsageError("--publication needs a name")
    if isinstance(options.events_per_transaction, bool) or \
            not isinstance(options.events_per_transaction, int) or \
            options.events_per_transaction < 1:
        raise UsageError(f"--events-per-transaction must be a whole number >= 1 (1: one "
                         f"transaction per event), got {options.events_per_transaction!r}")
    if options.reconnect_timeout < 0:
        raise UsageError("the reconnect timeout must be >= 0")


def stream(genfile: Genfile, options: StreamOptions | None = None, *,
           stop: threading.Event | None = None,
           on_event: Callable[[Event], None] | None = None,
           on_line: Callable[[str], None] | None = None,
           on_ready: Callable[[StreamReport], None] | None = None) -> StreamReport:
    """Apply the Genfile's change stream to the PostgreSQL tables ``run`` loaded.

    Args:
        stop: set it to stop after the event in flight (the CLI sets it on SIGINT).
        on_event: called with every committed event, in order.
        on_line: receives the progress line every ``report_every`` seconds, and
            the notices of lost and renewed connections.
        on_ready: called once the database is prepared, before the first event.

    Raises:
        GenfileError, UsageError: before anything is written.
        TargetError: the database refused an event, or stayed away too long.
    """
    options = options or StreamOptions()
    _check_options(options)
    stop = stop or threading.Event()
    genfile = sized(genfile, options.seed)
    url = target_url(genfile, RunOptions(target=options.target))
    if scheme_of(url) not in ("postgresql", "postgres"):
        raise UsageError(f"the stream writes to PostgreSQL only; the target is {redact(url)!r}: "
                         "give --target postgresql://user@host:port/db")
    source = check(genfile, Source(genfile))
    spec = build_spec(genfile, source, options.tables, options.mix)
    planner = Planner(spec, source)
    same_kind = scheme_of(resolve_genfile_url(genfile)) in ("postgresql", "postgres")
    executor = PostgresStream(url, spec, planner, genfile.target.options if same_kind else None)
    report = StreamReport.for_tables(executor.describe(), planner.seed, spec.names, options.rate)

    try:
        executor.connect()
    except psycopg.Error as exc:
        raise executor.settings.cannot_connect(exc) from exc
    try:
        with undone_on_error(executor.rollback, f"preparing {executor.describe()} for the stream"):
            setup = executor.setup()
            if options.publication:
                report.publication = executor.publish(options.publication.strip())
            executor.commit()
        report.indexes = setup.indexes
        report.notes = setup.notes
        if report.publication and report.publication["wal_level"] != "logical":
            report.notes.append(
                f"wal_level is {report.publication['wal_level']}: set wal_level = logical "
                "(and restart the server) before a CDC connector can read the publication")
        report.first_event = report.next_event = setup.ledger.next_event
        report.started = time.monotonic()  # rates count from the first event
        if on_ready is not None:
            on_ready(report)
        _loop(executor, planner, options, report, stop, on_event, on_line)
    except KeyboardInterrupt:  # a second Ctrl-C: the server rolls the event in flight back
        report.interrupted = True
    finally:
        executor.close()
        report.finished = time.monotonic()
    return report


def resolve_genfile_url(genfile: Genfile) -> str:
    return target_url(genfile, RunOptions())


def _loop(executor: PostgresStream, planner: Planner, options: StreamOptions,
          report: StreamReport, stop: threading.Event,
          on_event: Callable[[Event], None] | None,
          on_line: Callable[[str], None] | None) -> None:
    pacer = Pacer(options.rate, lambda k: planner.unit(k, "pace"))
    tick = Ticker(report, on_line, options.report_every)
    deadline = None if options.duration is None else report.started + options.duration
    per_transaction = options.events_per_transaction
    n = report.next_event

    def done(event: Event) -> None:
        report.add(event)
        if on_event is not None:
            on_event(event)

    def lost(exc: Exception) -> bool:
        """Reconnect and settle the open transaction by the ledger; False when stopped."""
        nonlocal n
        pending = executor.pending  # sent, perhaps committed
        executor.pending = []
        resumed = _reconnect(executor, report, stop, options, on_line, exc)
        if resumed is None:
            return False
        committed = [e for e in pending if e.n < resumed]  # the ledger says so
        for event in committed:
            done(event)
        n = resumed  # the others are applied again
        return True

    recovered: list[int] = []  # the event last applied again after a stale key

    def refused(exc: psycopg.Error, last: int) -> None:
        """A statement failed: once per event, the keys the client keeps may be stale
        (another session changed a row): read them again and go on from the ledger."""
        nonlocal n
        first = executor.pending[0].n if executor.pending else last
        if not isinstance(exc, _STALE) or recovered[-1:] == [first]:
            _fail(executor, last, exc)
        recovered.append(first)
        try:
            n = executor.recover()
        except _TRANSIENT as lost_exc:
            if not lost(lost_exc):
                raise _Stopped from None

    def commit() -> bool:
        """COMMIT the open transaction; False when the stream stopped meanwhile."""
        try:
            committed = executor.commit_events()
        except _TRANSIENT as exc:
            return lost(exc)
        except psycopg.Error as exc:
            try:
                refused(exc, n - 1)
            except _Stopped:
                return False
            return True
        for event in committed:
            done(event)
        tick()
        return True

    while True:
        applied = report.events + len(executor.pending)  # committed, or in the open transaction
        ending = stop.is_set() or (options.events is not None and applied >= options.events) \
            or (deadline is not None and time.monotonic() >= deadline)
        if not ending and pacer.wait(n, stop, deadline, tick):
            try:
                executor.execute(n)
            except _TRANSIENT as exc:
                if not lost(exc):
                    return
                continue
            except psycopg.Error as exc:
                try:
                    refused(exc, n)
                except _Stopped:
                    return
                continue
            n += 1
            if len(executor.pending) >= per_transaction and not commit():
                return
            continue
        if executor.pending:  # stopping: the open group first, whole
            if not commit():
                return
            continue  # a reconnect may have rolled it back: look again
        report.interrupted = stop.is_set()
        return


class _Stopped(Exception):
    """The stream was stopped while it reconnected."""


def _fail(executor: PostgresStream, last: int, exc: psycopg.Error) -> NoReturn:
    """Roll the open transaction back and say which events it held (up to ``last``)."""
    first = executor.pending[0].n if executor.pending else last
    with suppress(psycopg.Error):
        executor.rollback()
    which = f"event {last}" if first == last else f"events {first}-{last}"
    raise TargetError(f"{which} failed on {executor.describe()}: "
                      f"{_describe(exc)}") from exc


def _reconnect(executor: PostgresStream, report: StreamReport, stop: threading.Event,
               options: StreamOptions, on_line: Callable[[str], None] | None,
               cause: Exception) -> int | None:
    """Connect again with exponential backoff; the ledger's next event, or None if stopped.

    Raises:
        TargetError: the server stayed away longer than ``options.reconnect_timeout``.
    """
    report.reconnects += 1
    if on_line is not None:
        on_line(f"stream: connection lost ({_describe(cause)}); reconnecting")
    executor.close()
    started = time.monotonic()
    delay = FIRST_BACKOFF_SECONDS
    last: Exception = cause
    while True:
        if stop.is_set():
            report.interrupted = True
            return None
        try:
            executor.connect()
            resumed = executor.resync()
        except _TRANSIENT as exc:
            executor.close()
            last = exc
        else:
            if on_line is not None:
                on_line(f"stream: reconnected after {time.monotonic() - started:.1f} s; "
                        f"going on from event {resumed:,}")
            return resumed
        if time.monotonic() - started >= options.reconnect_timeout:
            raise TargetError(f"lost the connection to {executor.describe()} and could not "
                              f"reconnect within {options.reconnect_timeout:g} s: "
                              f"{_describe(last)}") from last
        end = time.monotonic() + delay
        while not stop.is_set() and time.monotonic() < end:
            stop.wait(min(0.2, max(0.0, end - time.monotonic())))
        delay = min(delay * 2, MAX_BACKOFF_SECONDS)


def _describe(exc: BaseException) -> str:
    return one_line(exc) or type(exc).__name__

"""The run's lifecycle: threads, buffer, batches, and what happens on failure.

For each table, in write order, ``workers`` source threads produce chunks
into a bounded ``ChunkBuffer`` and one consumer thread groups them into
batches for the target. The main thread only waits, so that Ctrl-C (which
Python delivers to the main thread) is seen at once.

On failure the first error wins: a failing worker closes the buffer, which
wakes and stops the consumer; a failing target closes it, which wakes and
stops the workers; Ctrl-C closes it with ``Interrupted``. A consumer stuck
in I/O gets ``GRACE_SECONDS`` to notice, then ``target.abort()``, then is
abandoned (threads are daemons), so no shutdown waits forever. Finally
``target.finish(error)`` rolls back, and the error is raised: opening and
finishing the target is ``core.lifecycle``'s, shared with the Kafka stream.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from datastorm_core.core.buffer import BufferClosed, BufferState, ChunkBuffer
from datastorm_core.core.chunk import Chunk
from datastorm_core.core.lifecycle import target_lifecycle
from datastorm_core.core.protocols import TableProducer, Target
from datastorm_core.core.schema import TableSchema
from datastorm_core.core.stats import ProgressCallback, RunStats, TableStats
from datastorm_core.errors import DatastormError, Interrupted, SourceError, TargetError

__all__ = ["GRACE_SECONDS", "RunSettings", "Runner", "TableJob"]

# How long a consumer blocked in I/O gets to notice a stop before abort().
GRACE_SECONDS = 5.0
# The main thread wakes this often while waiting, so Ctrl-C is handled promptly.
JOIN_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class RunSettings:
    buffer_rows: int
    workers: int = 1
    batch_rows: int | None = None  # None: the target's default


@dataclass(frozen=True)
class TableJob:
    """One table of a run: its schema, the producer of its rows, their range."""

    schema: TableSchema
    producer: TableProducer
    start: int
    stop: int
    # What progress and the summary call it (default: the table's name).
    label: str | None = None


class Runner:
    """Runs jobs through one target; owns the threads and the buffer."""

    def __init__(
        self,
        target: Target,
        settings: RunSettings,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.target = target
        self.settings = settings
        self.progress = progress or (lambda stats: None)

    def run(self, jobs: Sequence[TableJob]) -> RunStats:
        """Write every job, all or nothing; raise the first error."""
        stats = RunStats()
        with target_lifecycle(self.target, [job.schema for job in jobs]) as ending:
            for job in jobs:
                stats.tables.append(self._run_table(job))
        stats.interrupted_after_commit = ending.interrupted_after_commit
        stats.ended = time.perf_counter()
        return stats

    def _run_table(self, job: TableJob) -> TableStats:
        schema, producer = job.schema, job.producer
        table = TableStats(job.label or schema.name, producer.rows)
        self.target.begin_table(schema, job.start, job.stop)
        self.progress(table)
        buffer = ChunkBuffer(self.settings.buffer_rows)
        batch_rows = self.settings.batch_rows or self.target.default_batch_size
        claim = _Counter()

        def work() -> None:
            try:
                while buffer.state is BufferState.RUNNING:
                    seq = claim.next()
                    if seq >= producer.chunk_count:
                        return
                    buffer.put(producer.produce(seq))
            except BufferClosed:
                return
            except BaseException as exc:
                buffer.close(_as_error(exc, SourceError, f"generating table {schema.name!r}"))

        def consume() -> None:
            batch: list[Chunk] = []
            batched = 0
            try:
                while True:
                    chunk = buffer.get()
                    if chunk is not None:
                        batch.append(chunk)
                        batched += chunk.rows
                    if batch and (chunk is None or batched >= batch_rows):
                        self.target.write_batch(schema, batch)
                        table.written += batched
                        batch, batched = [], 0
                        self.progress(table)
                    if chunk is None:
                        return
            except BufferClosed:
                return
            except BaseException as exc:
                buffer.close(_as_error(exc, TargetError, f"writing table {schema.name!r}"))

        workers = [
            threading.Thread(target=work, name=f"datastorm-source-{schema.name}-{i}", daemon=True)
            for i in range(max(1, min(self.settings.workers, producer.chunk_count or 1)))
        ]
        consumer = threading.Thread(target=consume, name=f"datastorm-target-{schema.name}",
                                    daemon=True)
        for thread in [*workers, consumer]:
            thread.start()
        try:
            for worker in workers:
                _join(worker)
            buffer.finish()
            self._wait_consumer(consumer, buffer)
        except KeyboardInterrupt:
            buffer.close(Interrupted())
            for worker in workers:
                worker.join(GRACE_SECONDS)
            self._wait_consumer(consumer, buffer)
        if buffer.error is not None:
            raise buffer.error
        buffer.close()
        table.ended = time.perf_counter()
        table.buffer_peak_rows = buffer.peak_rows
        self.target.end_table(schema)
        self.progress(table)
        return table

    def _wait_consumer(self, consumer: threading.Thread, buffer: ChunkBuffer) -> None:
        """Join the consumer; once the run is failing, give it a grace, then abort it."""
        stopping_since: float | None = None
        aborted = False
        while consumer.is_alive():
            consumer.join(JOIN_POLL_SECONDS)
            if buffer.error is None:
                continue
            now = time.monotonic()
            stopping_since = stopping_since or now
            if not aborted and now - stopping_since > GRACE_SECONDS:
                aborted = True
                with contextlib.suppress(Exception):
                    self.target.abort()
            elif aborted and now - stopping_since > 2 * GRACE_SECONDS:
                return  # abandoned: a daemon thread cannot keep the process alive


class _Counter:
    """Hands out chunk numbers to workers, each exactly once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def next(self) -> int:
        with self._lock:
            value = self._next
            self._next += 1
            return value


def _join(thread: threading.Thread) -> None:
    while thread.is_alive():
        thread.join(JOIN_POLL_SECONDS)


def _as_error(exc: BaseException, kind: type[DatastormError], doing: str) -> BaseException:
    if isinstance(exc, DatastormError):
        return exc
    error = kind(f"{doing} failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error

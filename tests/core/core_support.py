"""Hand-written producers and targets for the core tests.

They implement the protocols of ``datastorm_core/core/protocols.py`` for
real (no mocks): a producer makes genuine chunks of consecutive ids and
can fail or wait at a given chunk; a target records every call, in order,
and can fail or block in ``write_batch``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from datastorm_core.core.chunk import Chunk, Column
from datastorm_core.core.schema import ColumnSchema, ColumnType, TableSchema

# How long a test waits for something that must happen, before calling it a hang.
WAIT_SECONDS = 20.0

SCHEMA = TableSchema("t", (ColumnSchema("id", ColumnType.BIGINT, nullable=False),),
                     primary_key=("id",))


def make_chunk(seq: int, rows: int = 1, table: str = "t", start: int | None = None) -> Chunk:
    """A chunk of ``rows`` consecutive ids, starting at ``start`` (default seq * rows)."""
    first = seq * rows if start is None else start
    values = np.arange(first, first + rows, dtype=np.int64)
    return Chunk(table, seq, first, rows, {"id": Column(values)})


def datastorm_threads() -> list[threading.Thread]:
    """The runner's threads still alive (they are named ``datastorm-...``)."""
    return [t for t in threading.enumerate() if t.name.startswith("datastorm-") and t.is_alive()]


class Boom(Exception):
    """The error a test producer or target raises on purpose."""


class CountingProducer:
    """A TableProducer of ``chunk_count`` chunks of ``chunk_rows`` ids each.

    ``fail_at``: produce(seq) raises Boom for that seq. ``before_fail``: an
    Event waited for (bounded) before failing. ``jitter``: sleep a
    deterministic, seq-dependent fraction of this many seconds, so several
    workers finish their chunks out of order.
    """

    def __init__(self, chunk_count: int, chunk_rows: int = 1, *, table: str = "t",
                 fail_at: int | None = None, before_fail: threading.Event | None = None,
                 jitter: float = 0.0) -> None:
        self._chunk_count = chunk_count
        self.chunk_rows = chunk_rows
        self.table = table
        self.fail_at = fail_at
        self.before_fail = before_fail
        self.jitter = jitter
        self._lock = threading.Lock()
        self.produced: list[int] = []

    @property
    def rows(self) -> int:
        return self._chunk_count * self.chunk_rows

    @property
    def chunk_count(self) -> int:
        return self._chunk_count

    def produce(self, seq: int) -> Chunk:
        if not 0 <= seq < self._chunk_count:
            raise AssertionError(f"produce({seq}) out of range")
        if self.jitter:
            time.sleep(self.jitter * ((seq * 7919) % 11) / 10)
        if seq == self.fail_at:
            if self.before_fail is not None:
                self.before_fail.wait(WAIT_SECONDS)
            raise Boom(f"boom at chunk {seq}")
        with self._lock:
            self.produced.append(seq)
        return make_chunk(seq, self.chunk_rows, self.table)


class RecordingTarget:
    """A Target that keeps what it is given, in call order.

    ``fail_on_write``: the n-th write_batch (1-based) raises Boom.
    ``block_writes``: write_batch blocks until ``release`` is set; ``abort``
    sets ``release`` when ``abort_releases`` (like a cancelled statement).
    """

    def __init__(self, *, default_batch_size: int = 1, fail_on_write: int | None = None,
                 block_writes: bool = False, abort_releases: bool = True) -> None:
        self.default_batch_size = default_batch_size
        self.fail_on_write = fail_on_write
        self.block_writes = block_writes
        self.abort_releases = abort_releases
        self.calls: list[str] = []
        self.chunks: list[tuple[str, int, int, int]] = []  # (table, seq, start, rows)
        self.values: list[int] = []
        self.writes = 0
        self.finish_errors: list[BaseException | None] = []
        self.aborted = threading.Event()
        self.release = threading.Event()
        self.entered_write = threading.Event()
        self.wrote_after_finish = False
        self._lock = threading.Lock()

    def open(self) -> None:
        self.calls.append("open")

    def prepare(self, schemas: Sequence[TableSchema]) -> None:
        self.calls.append("prepare:" + ",".join(s.name for s in schemas))

    def begin_table(self, schema: TableSchema, start: int, stop: int) -> None:
        self.calls.append(f"begin:{schema.name}:{start}:{stop}")

    def write_batch(self, schema: TableSchema, chunks: Sequence[Chunk]) -> None:
        with self._lock:
            if self.finish_errors:
                self.wrote_after_finish = True
            self.writes += 1
            number = self.writes
        self.entered_write.set()
        if self.block_writes:
            self.release.wait()  # forever, unless abort() or the test releases it
            raise Boom("write cancelled")
        if number == self.fail_on_write:
            raise Boom(f"write {number} refused")
        with self._lock:
            for chunk in chunks:
                self.chunks.append((chunk.table, chunk.seq, chunk.start, chunk.rows))
                self.values.extend(chunk.columns["id"].values.tolist())
            self.calls.append(f"write:{schema.name}:{sum(c.rows for c in chunks)}")

    def end_table(self, schema: TableSchema) -> None:
        self.calls.append(f"end:{schema.name}")

    def finish(self, error: BaseException | None) -> None:
        self.calls.append("finish")
        self.finish_errors.append(error)

    def abort(self) -> None:
        self.calls.append("abort")
        self.aborted.set()
        if self.abort_releases:
            self.release.set()

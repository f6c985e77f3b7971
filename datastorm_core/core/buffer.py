"""The bounded, blocking buffer between the source and the target.

It is bounded in rows (backpressure: producers block when it is full)
and hands chunks out in sequence order, so that several source workers
cannot change what a target writes. It ends in one of three states:

``RUNNING``          producers put, the consumer gets.
``SOURCE_FINISHED``  no more puts; the consumer drains what is left, then
                     ``get`` returns None (its cue to flush the partial batch).
``CLOSED``           stopped: with an error (the first one wins, every
                     waiter wakes and raises it) or after a normal end.

Deadlock freedom: the chunk the consumer waits for is always accepted,
even past capacity, so the buffer holds at most capacity plus one chunk
and a producer that holds the next chunk can never be blocked by later ones.
"""

from __future__ import annotations

import enum
import threading

from datastorm_core.core.chunk import Chunk
from datastorm_core.errors import RunError

__all__ = ["BufferClosed", "BufferState", "ChunkBuffer"]


class BufferState(enum.Enum):
    RUNNING = "running"
    SOURCE_FINISHED = "source finished"
    CLOSED = "closed"


class BufferClosed(RunError):
    """Raised in a waiter when the buffer was closed; ``cause`` is the first error."""

    def __init__(self, cause: BaseException | None) -> None:
        self.cause = cause
        super().__init__(f"buffer closed: {cause}" if cause else "buffer closed")


class ChunkBuffer:
    """A bounded buffer of chunks, delivered in ``seq`` order."""

    def __init__(self, capacity_rows: int) -> None:
        if capacity_rows < 1:
            raise ValueError("buffer capacity must be at least one row")
        self.capacity_rows = capacity_rows
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: dict[int, Chunk] = {}
        self._held_rows = 0
        self._next_seq = 0
        self._state = BufferState.RUNNING
        self._error: BaseException | None = None
        self.peak_rows = 0

    @property
    def state(self) -> BufferState:
        return self._state

    @property
    def error(self) -> BaseException | None:
        return self._error

    def put(self, chunk: Chunk) -> None:
        """Add a chunk, blocking while the buffer is full; raise if closed."""
        with self._changed:
            while True:
                if self._state is BufferState.CLOSED:
                    raise BufferClosed(self._error)
                if self._state is BufferState.SOURCE_FINISHED:
                    raise RuntimeError("put() after finish()")
                fits = self._held_rows + chunk.rows <= self.capacity_rows
                if fits or chunk.seq == self._next_seq:
                    break
                self._changed.wait()
            self._pending[chunk.seq] = chunk
            self._held_rows += chunk.rows
            self.peak_rows = max(self.peak_rows, self._held_rows)
            self._changed.notify_all()

    def get(self) -> Chunk | None:
        """The next chunk in sequence; None once the source finished and all is drained."""
        with self._changed:
            while True:
                if self._state is BufferState.CLOSED:
                    raise BufferClosed(self._error)
                chunk = self._pending.pop(self._next_seq, None)
                if chunk is not None:
                    self._next_seq += 1
                    self._held_rows -= chunk.rows
                    self._changed.notify_all()
                    return chunk
                if self._state is BufferState.SOURCE_FINISHED:
                    if self._pending:
                        missing = self._next_seq
                        raise RuntimeError(f"chunk {missing} never arrived")  # a source bug
                    return None
                self._changed.wait()

    def finish(self) -> None:
        """The source is done: let the consumer drain, then see the end."""
        with self._changed:
            if self._state is BufferState.RUNNING:
                self._state = BufferState.SOURCE_FINISHED
            self._changed.notify_all()

    def close(self, error: BaseException | None = None) -> None:
        """Stop everything; the first error given is the one every waiter sees."""
        with self._changed:
            if self._error is None and error is not None:
                self._error = error
            self._state = BufferState.CLOSED
            self._pending.clear()
            self._held_rows = 0
            self._changed.notify_all()

"""ChunkBuffer: backpressure, order, the no-deadlock rule, finish and close."""

from __future__ import annotations

import random
import threading

import pytest
from core_support import WAIT_SECONDS, make_chunk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datastorm_core.core.buffer import BufferClosed, BufferState, ChunkBuffer
from datastorm_core.core.chunk import Chunk

pytestmark = pytest.mark.timeout(60)

# A thread that is blocked stays blocked; this is only how long we look before moving on.
SETTLE_SECONDS = 0.2


class Call(threading.Thread):
    """Runs ``fn`` in a thread and keeps its result or exception."""

    def __init__(self, fn, *args) -> None:  # type: ignore[no-untyped-def]
        super().__init__(daemon=True)
        self.fn, self.args = fn, args
        self.result: object = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.start()

    def run(self) -> None:
        try:
            self.result = self.fn(*self.args)
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()

    def wait(self) -> None:
        assert self.done.wait(WAIT_SECONDS), "the call never returned: a deadlock"


def drain(buffer: ChunkBuffer) -> list[Chunk]:
    chunks = []
    while (chunk := buffer.get()) is not None:
        chunks.append(chunk)
    return chunks


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ChunkBuffer(0)


def test_put_blocks_while_full_until_a_get_makes_room() -> None:
    buffer = ChunkBuffer(capacity_rows=4)
    buffer.put(make_chunk(0, rows=4))
    blocked = Call(buffer.put, make_chunk(1, rows=1))  # not the chunk the consumer waits for
    assert not blocked.done.wait(SETTLE_SECONDS), "put returned although the buffer was full"

    assert buffer.get().seq == 0
    blocked.wait()
    assert blocked.error is None
    assert buffer.get().seq == 1


def test_put_of_a_chunk_that_fits_does_not_block() -> None:
    buffer = ChunkBuffer(capacity_rows=10)
    for seq in (3, 1, 2):
        buffer.put(make_chunk(seq, rows=3))  # 9 rows held, none of them the next
    assert buffer.peak_rows == 9


def test_out_of_order_puts_from_many_threads_come_out_in_order() -> None:
    count = 200
    seqs = list(range(count))
    random.Random(5).shuffle(seqs)
    buffer = ChunkBuffer(capacity_rows=3)  # tiny: most puts wait for their turn
    # One thread per chunk: whatever the order they run in, the next chunk's
    # owner is never stuck behind a later chunk.
    callers = [Call(buffer.put, make_chunk(seq, rows=2)) for seq in seqs]
    got = [buffer.get().seq for _ in range(count)]
    for caller in callers:
        caller.wait()
        assert caller.error is None
    assert got == list(range(count))
    assert buffer.peak_rows <= 3 + 2  # capacity plus at most the one chunk waited for


def test_the_awaited_chunk_is_accepted_past_capacity() -> None:
    buffer = ChunkBuffer(capacity_rows=1)
    buffer.put(make_chunk(1, rows=1))  # fills the buffer; the consumer needs 0 first
    later = Call(buffer.put, make_chunk(2, rows=1))
    assert not later.done.wait(SETTLE_SECONDS), "a later chunk went past capacity"

    needed = Call(buffer.put, make_chunk(0, rows=50))  # far bigger than the capacity
    needed.wait()
    assert needed.error is None
    assert buffer.peak_rows == 51

    assert [buffer.get().seq for _ in range(3)] == [0, 1, 2]
    later.wait()
    assert later.error is None


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    chunks=st.integers(min_value=0, max_value=120),
    capacity=st.integers(min_value=1, max_value=8),
    workers=st.integers(min_value=1, max_value=12),
    max_rows=st.integers(min_value=1, max_value=10),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_many_workers_and_a_tiny_capacity_never_deadlock(
        chunks: int, capacity: int, workers: int, max_rows: int, seed: int) -> None:
    """Workers claim chunk numbers in turn, as the runner's do; every chunk arrives in order."""
    rng = random.Random(seed)
    sizes = [rng.randint(1, max_rows) for _ in range(chunks)]  # often larger than capacity
    pauses = [rng.random() < 0.1 for _ in range(chunks)]
    buffer = ChunkBuffer(capacity)
    claim = iter(range(chunks))
    claim_lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            while True:
                with claim_lock:
                    seq = next(claim, None)
                if seq is None:
                    return
                if pauses[seq]:
                    threading.Event().wait(0.001)  # shuffle who finishes first
                buffer.put(make_chunk(seq, rows=sizes[seq], start=sum(sizes[:seq])))
        except BaseException as exc:
            failures.append(exc)
            buffer.close(exc)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for thread in threads:
        thread.start()
    consumer = Call(drain_after, buffer, threads)
    consumer.wait()
    assert not failures
    assert consumer.error is None
    got: list[Chunk] = consumer.result  # type: ignore[assignment]
    assert [c.seq for c in got] == list(range(chunks))
    assert [c.rows for c in got] == sizes
    assert buffer.peak_rows <= capacity + max_rows


def drain_after(buffer: ChunkBuffer, threads: list[threading.Thread]) -> list[Chunk]:
    """Consume everything; finish() once every producer is done (as the runner does)."""
    got: list[Chunk] = []

    def finisher() -> None:
        for thread in threads:
            thread.join(WAIT_SECONDS)
        buffer.finish()

    threading.Thread(target=finisher, daemon=True).start()
    got.extend(drain(buffer))
    return got


def test_finish_lets_the_consumer_drain_then_get_returns_none() -> None:
    buffer = ChunkBuffer(capacity_rows=100)
    for seq in (1, 0, 2):
        buffer.put(make_chunk(seq, rows=5))
    buffer.finish()
    assert buffer.state is BufferState.SOURCE_FINISHED
    assert [c.seq for c in drain(buffer)] == [0, 1, 2]
    assert buffer.get() is None  # and it stays at the end
    with pytest.raises(RuntimeError):
        buffer.put(make_chunk(3))


def test_finish_wakes_a_consumer_waiting_on_an_empty_buffer() -> None:
    buffer = ChunkBuffer(capacity_rows=10)
    waiting = Call(buffer.get)
    assert not waiting.done.wait(SETTLE_SECONDS)
    buffer.finish()
    waiting.wait()
    assert waiting.error is None and waiting.result is None


def test_a_missing_chunk_at_the_end_is_an_error_not_a_hang() -> None:
    buffer = ChunkBuffer(capacity_rows=10)
    buffer.put(make_chunk(1))
    buffer.finish()
    with pytest.raises(RuntimeError, match="chunk 0 never arrived"):
        buffer.get()


def test_close_wakes_blocked_put_and_get_with_the_first_error() -> None:
    full = ChunkBuffer(capacity_rows=1)
    full.put(make_chunk(1))
    blocked_put = Call(full.put, make_chunk(2))
    empty = ChunkBuffer(capacity_rows=1)
    blocked_get = Call(empty.get)
    assert not blocked_put.done.wait(SETTLE_SECONDS)
    assert not blocked_get.done.wait(0)

    first, second = ValueError("first"), KeyError("second")
    for buffer in (full, empty):
        buffer.close(first)
        buffer.close(second)
        buffer.close()
    for call in (blocked_put, blocked_get):
        call.wait()
        assert isinstance(call.error, BufferClosed)
        assert call.error.cause is first
    for buffer in (full, empty):
        assert buffer.state is BufferState.CLOSED
        assert buffer.error is first
        with pytest.raises(BufferClosed) as put_error:
            buffer.put(make_chunk(0))
        with pytest.raises(BufferClosed) as get_error:
            buffer.get()
        assert put_error.value.cause is first and get_error.value.cause is first


def test_close_after_finish_stops_the_drain() -> None:
    buffer = ChunkBuffer(capacity_rows=10)
    buffer.put(make_chunk(0))
    buffer.finish()
    error = RuntimeError("target lost")
    buffer.close(error)
    with pytest.raises(BufferClosed) as raised:
        buffer.get()
    assert raised.value.cause is error


def test_close_without_error_is_a_plain_stop() -> None:
    buffer = ChunkBuffer(capacity_rows=10)
    buffer.close()
    assert buffer.error is None
    with pytest.raises(BufferClosed) as raised:
        buffer.get()
    assert raised.value.cause is None

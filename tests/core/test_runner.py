"""Runner: failure propagation both ways, shutdown without deadlock, progress, order.

The producers and targets are hand-written implementations of the core
protocols (tests/core/core_support.py), so each failure happens exactly
where the test says.
"""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from core_support import (
    SCHEMA,
    WAIT_SECONDS,
    Boom,
    CountingProducer,
    RecordingTarget,
    datastorm_threads,
)

from datastorm_core.core import runner as runner_module
from datastorm_core.core.runner import Runner, RunSettings, TableJob
from datastorm_core.core.schema import TableSchema
from datastorm_core.core.stats import TableStats
from datastorm_core.errors import Interrupted, SourceError, TargetError

pytestmark = pytest.mark.timeout(60)


def job(producer: CountingProducer, schema: TableSchema = SCHEMA) -> TableJob:
    return TableJob(schema, producer, 0, producer.rows)


def run_in_thread(runner: Runner, jobs: list[TableJob]) -> dict[str, object]:
    """Run in a helper thread so that a hang fails the test instead of blocking it."""
    outcome: dict[str, object] = {}

    def go() -> None:
        try:
            outcome["stats"] = runner.run(jobs)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive(), "Runner.run did not return: a deadlock on shutdown"
    return outcome


def wait_for_threads_to_end() -> None:
    for thread in datastorm_threads():
        thread.join(WAIT_SECONDS)
    assert not datastorm_threads(), "a runner thread outlived the run"


def test_a_successful_run_writes_every_chunk_and_commits() -> None:
    other = TableSchema("u", SCHEMA.columns, primary_key=("id",))
    target = RecordingTarget(default_batch_size=5)
    runner = Runner(target, RunSettings(buffer_rows=8, workers=2))
    stats = runner.run([job(CountingProducer(7, 2)), job(CountingProducer(3, 4, table="u"), other)])

    assert target.calls[:3] == ["open", "prepare:t,u", "begin:t:0:14"]
    assert target.calls[-2:] == ["end:u", "finish"]
    assert target.calls.index("end:t") < target.calls.index("begin:u:0:12")
    assert target.finish_errors == [None]
    assert [t.written for t in stats.tables] == [14, 12]
    assert stats.rows == 26
    assert target.values == list(range(14)) + list(range(12))
    wait_for_threads_to_end()


def test_a_failing_producer_stops_the_target() -> None:
    producer = CountingProducer(1000, 1, fail_at=3)
    target = RecordingTarget(default_batch_size=1)
    outcome = run_in_thread(Runner(target, RunSettings(buffer_rows=4, workers=3)),
                            [job(producer)])

    error = outcome.get("error")
    assert isinstance(error, SourceError), outcome
    assert isinstance(error.__cause__, Boom)
    assert "boom at chunk 3" in str(error)
    assert "'t'" in str(error)  # names the table
    # The target was told, once, with that very error, and rolled back.
    assert target.finish_errors == [error]
    assert "end:t" not in target.calls
    # Chunks are delivered in order, so nothing from chunk 3 on reached the target.
    assert all(seq < 3 for _, seq, _, _ in target.chunks)
    # The source stopped soon: far from all 1000 chunks were made.
    assert len(producer.produced) < 100
    wait_for_threads_to_end()
    assert not target.wrote_after_finish


def test_a_failing_target_stops_the_producers() -> None:
    producer = CountingProducer(10_000, 1)
    target = RecordingTarget(default_batch_size=1, fail_on_write=2)
    workers, capacity = 4, 8
    outcome = run_in_thread(Runner(target, RunSettings(buffer_rows=capacity, workers=workers)),
                            [job(producer)])

    error = outcome.get("error")
    assert isinstance(error, TargetError), outcome
    assert isinstance(error.__cause__, Boom)
    assert "write 2 refused" in str(error)
    assert target.finish_errors == [error]
    wait_for_threads_to_end()
    # Workers block on the full buffer and stop when it closes: at most the buffer's
    # content, the chunks written, and one chunk in hand per worker were ever made.
    assert len(producer.produced) <= capacity + 2 + 2 * workers + 1
    assert not target.wrote_after_finish


class FullThenFail(CountingProducer):
    """Fails at ``fail_at`` only once every earlier chunk was made (the buffer is full)."""

    def produce(self, seq: int):  # type: ignore[no-untyped-def]
        if seq == self.fail_at:
            deadline = time.monotonic() + WAIT_SECONDS
            while len(self.produced) < seq and time.monotonic() < deadline:
                time.sleep(0.01)
        return super().produce(seq)


@pytest.mark.parametrize("abort_releases", [True, False],
                         ids=["abort-unblocks-the-write", "write-never-returns"])
def test_a_stalled_consumer_with_a_full_buffer_never_deadlocks_on_a_source_error(
        monkeypatch: pytest.MonkeyPatch, abort_releases: bool) -> None:
    monkeypatch.setattr(runner_module, "GRACE_SECONDS", 0.2)
    target = RecordingTarget(default_batch_size=1, block_writes=True,
                             abort_releases=abort_releases)
    # The consumer is stuck writing chunk 0; chunks 1-4 fill the buffer (4 rows);
    # two workers block putting 5 and 6; the third fails making chunk 7.
    producer = FullThenFail(100, 1, fail_at=7, before_fail=target.entered_write)
    try:
        outcome = run_in_thread(Runner(target, RunSettings(buffer_rows=4, workers=3)),
                                [job(producer)])
        error = outcome.get("error")
        assert isinstance(error, SourceError), outcome
        assert isinstance(error.__cause__, Boom)
        assert target.aborted.is_set(), "the stuck write was never aborted"
        assert target.calls.count("abort") == 1
        assert target.finish_errors == [error]
        assert target.chunks == []  # the one write started never completed
    finally:
        target.release.set()  # let an abandoned consumer end with the test
    wait_for_threads_to_end()


def test_a_slow_write_is_waited_for_and_its_failure_wakes_the_blocked_workers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an error, a write that takes long is not aborted; when it fails,
    the workers blocked on the full buffer wake and the run ends with TargetError."""
    monkeypatch.setattr(runner_module, "GRACE_SECONDS", 0.2)
    target = RecordingTarget(default_batch_size=1, block_writes=True, abort_releases=False)
    producer = CountingProducer(100, 1, fail_at=50)  # never reached: the buffer is full
    runner = Runner(target, RunSettings(buffer_rows=4, workers=2))
    outcome: dict[str, object] = {}

    def go() -> None:
        try:
            outcome["stats"] = runner.run([job(producer)])
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    try:
        assert target.entered_write.wait(WAIT_SECONDS)
        # Nothing fails on its own: a slow target is waited for, not aborted.
        thread.join(0.5)
        assert thread.is_alive() and not target.aborted.is_set()
    finally:
        target.release.set()  # the blocked write now raises Boom
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()
    error = outcome.get("error")
    assert isinstance(error, TargetError), outcome
    assert "write cancelled" in str(error)
    wait_for_threads_to_end()


def test_progress_sees_monotonic_written_counts() -> None:
    seen: list[tuple[str, int, bool]] = []

    def progress(table: TableStats) -> None:
        seen.append((table.name, table.written, table.ended is not None))

    target = RecordingTarget(default_batch_size=3)
    stats = Runner(target, RunSettings(buffer_rows=6, workers=3), progress).run(
        [job(CountingProducer(20, 2))])

    counts = [written for _, written, _ in seen]
    assert counts == sorted(counts)
    assert counts[0] == 0 and counts[-1] == 40 == stats.rows
    assert seen[-1][2], "the last event is the table's end"
    # One event per batch (each of 3+ rows, so at most 14 of them) besides start and end.
    batches = counts[1:-1]
    assert len(batches) >= 2 and all(b > a for a, b in itertools.pairwise(batches))


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_any_number_of_workers_gives_the_target_the_same_chunks_in_the_same_order(
        workers: int) -> None:
    producer = CountingProducer(60, 3, jitter=0.002)  # workers finish out of order
    target = RecordingTarget(default_batch_size=7)
    Runner(target, RunSettings(buffer_rows=9, workers=workers)).run([job(producer)])

    assert target.chunks == [("t", seq, seq * 3, 3) for seq in range(60)]
    assert target.values == list(range(180))
    assert sorted(producer.produced) == list(range(60))  # each chunk made exactly once
    wait_for_threads_to_end()


def test_an_empty_table_is_begun_and_ended_without_writes() -> None:
    target = RecordingTarget()
    stats = Runner(target, RunSettings(buffer_rows=4, workers=4)).run(
        [job(CountingProducer(0, 1))])
    assert stats.rows == 0
    assert [c for c in target.calls if c.startswith("write")] == []
    assert target.calls[-2:] == ["end:t", "finish"]


def test_a_failure_in_prepare_reaches_finish_and_the_caller() -> None:
    class FailingPrepare(RecordingTarget):
        def prepare(self, schemas):  # type: ignore[no-untyped-def]
            raise TargetError("cannot create table t")

    target = FailingPrepare()
    with pytest.raises(TargetError, match="cannot create table t"):
        Runner(target, RunSettings(buffer_rows=4)).run([job(CountingProducer(3))])
    assert len(target.finish_errors) == 1
    assert isinstance(target.finish_errors[0], TargetError)


def test_an_error_in_finish_after_success_is_raised() -> None:
    class FailingCommit(RecordingTarget):
        def finish(self, error):  # type: ignore[no-untyped-def]
            super().finish(error)
            if error is None:
                raise TargetError("commit failed")

    with pytest.raises(TargetError, match="commit failed"):
        Runner(FailingCommit(), RunSettings(buffer_rows=4)).run([job(CountingProducer(3))])


def test_the_first_error_wins_over_the_rollback_error() -> None:
    class FailingRollback(RecordingTarget):
        def finish(self, error):  # type: ignore[no-untyped-def]
            super().finish(error)
            raise TargetError("rollback failed too")

    target = FailingRollback()
    with pytest.raises(SourceError):
        Runner(target, RunSettings(buffer_rows=4)).run(
            [job(CountingProducer(10, fail_at=2))])


def test_ctrl_c_in_the_main_thread_becomes_interrupted_and_rolls_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """KeyboardInterrupt arrives in the main thread while it waits for the workers."""
    monkeypatch.setattr(runner_module, "GRACE_SECONDS", 0.2)
    target = RecordingTarget(default_batch_size=1)
    under_way = threading.Event()

    class Signalling(CountingProducer):
        def produce(self, seq: int):  # type: ignore[no-untyped-def]
            if seq == 5:
                under_way.set()
            return super().produce(seq)

    def join(thread: threading.Thread) -> None:  # what Ctrl-C does to the waiting main thread
        assert under_way.wait(WAIT_SECONDS)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner_module, "_join", join)
    with pytest.raises(Interrupted):
        Runner(target, RunSettings(buffer_rows=4, workers=1)).run(
            [job(Signalling(100_000, 1))])
    assert len(target.finish_errors) == 1
    assert isinstance(target.finish_errors[0], Interrupted)
    assert "end:t" not in target.calls
    wait_for_threads_to_end()

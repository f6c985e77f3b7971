"""Ctrl-C and SIGTERM held back while a commit is under way.

A signal that lands in the middle of COMMIT leaves nobody sure whether the
run is in: the process dies with "interrupted" although the rows may be
committed. Around the one statement that publishes a run, the signals are
held (``deferred``): Python's handlers for SIGINT and SIGTERM only note
that one came, and when the block ends the noted signal is raised as it
would have been. The run then reports what is true: committed
(``BaseTarget.committed``), or rolled back.

Handlers, not signal masks: a process-directed signal goes to any thread
that does not block it, and Python runs its handler in the main thread
whichever thread the kernel picked.

Once the last target of a run has published, the run is in, and the rest
(cleaning up, the summary, the exit) must not turn a signal into "nothing
was written". ``run`` marks its last target's writes (``final_phase``); a
caller that wants to know the instant that publish went through (the CLI,
whose Ctrl-C stops nothing from then on) listens with ``on_final_publish``.
The listener is called inside the held block, before a held signal is
delivered, so there is no moment when the run is in and a signal still
counts as an interruption.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

__all__ = ["deferred", "final_phase", "on_final_publish"]

_HELD = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


class _Publish:
    """Whether the publish under way is a run's last, and who wants to know it went through."""

    final = False
    listener: Callable[[], None] | None = None


_PUBLISH = _Publish()


@contextmanager
def final_phase() -> Iterator[None]:
    """Around the writes to a run's last target: its publish completes the run."""
    _PUBLISH.final = True
    try:
        yield
    finally:
        _PUBLISH.final = False


@contextmanager
def on_final_publish(listener: Callable[[], None]) -> Iterator[None]:
    """Within: ``listener()`` is called as soon as a run's last target has published
    (in the main thread, signals still held)."""
    previous, _PUBLISH.listener = _PUBLISH.listener, listener
    try:
        yield
    finally:
        _PUBLISH.listener = previous


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver the first that came.

    The block is a publish: when it ends without error inside ``final_phase``,
    the ``on_final_publish`` listener is called before anything is delivered.
    Only the main thread may change handlers; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[tuple[int, FrameType | None]] = []

    def note(signum: int, frame: FrameType | None) -> None:
        came.append((signum, frame))

    previous: dict[int, Any] = {}
    for signum in _HELD:
        previous[signum] = signal.signal(signum, note)
    try:
        yield
        if _PUBLISH.final and _PUBLISH.listener is not None:
            _PUBLISH.listener()  # it went through: the run is in
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if came:
            signum, frame = came[0]
            handler = previous[signum]
            if callable(handler):
                deliver: Callable[[int, FrameType | None], Any] = handler
                deliver(signum, frame)  # e.g. KeyboardInterrupt, now the rows are in
            elif handler == signal.SIG_DFL:
                signal.raise_signal(signum)
